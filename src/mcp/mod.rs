//! The MCP server core: reads decoded lines, decides what each message means in
//! the era and revision of this process, answers quick requests at once and runs
//! the others as tasks on the caller's `LocalExecutor`, bounded in number, each
//! cancellable and isolated from the others' panics. Sans-IO: lines come in
//! through a channel and encoded lines go out through another; only
//! `runtime.rs` touches stdin and stdout.
//!
//! ```text
//!   line ─► decode ─► accept ─┬─ Reply(line) ─────────────► outbox
//!                             ├─ Work(id, future) ─► task ─► outbox (unless cancelled)
//!                             └─ nothing (notifications, stray responses)
//! ```

mod cancel;
mod context;
mod dispatch;
mod loglevel;
mod notify;
mod observe;
mod outcome;
mod outgoing;
mod roots;
mod version;

pub use context::RequestContext;
pub use loglevel::LogLevel;
pub use notify::Notifier;
pub use version::Version;

use crate::config::Config;
use crate::jsonrpc::{self, Id, Incoming, Line, RpcError};
use crate::observability::Observability;
use crate::telemetry::{Span, Tracer};
use crate::tools::{Registry, Services};
use smol::channel::{Receiver, Sender};
use smol::future::{BoxedLocal, FutureExt};
use smol::lock::{Semaphore, SemaphoreGuardArc};
use smol::{LocalExecutor, Timer};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One item from the line reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A complete line, without its newline.
    Line(Vec<u8>),
    /// A line longer than the limit, already discarded; `bytes` is how much was seen.
    Oversized {
        /// Bytes read before the reader gave up on the line.
        bytes: usize,
    },
}

/// A request's result or error, before encoding.
type Answer = Result<serde_json::Value, RpcError>;

/// What routing a request leads to.
// A `Work` carries its span inline (no box: a span costs no allocation of its own);
// these values are moved once per request, never stored in bulk.
#[allow(clippy::large_enum_variant)]
enum Step {
    /// Answer now.
    Reply(Answer),
    /// Run this request as a task.
    Work(Work),
}

/// What accepting one message leads to.
// A `Work` carries its span inline (no box: a span costs no allocation of its own);
// these values are moved once per request, never stored in bulk.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    /// Send this encoded line now.
    Line(String),
    /// Run this request as a task.
    Work(Work),
    /// Nothing to send.
    Nothing,
    /// Work of the server's own (e.g. asking the client for its roots), run detached.
    Background(BoxedLocal<()>),
}

/// A request whose answer needs a task; registered for cancellation under its id.
struct Work {
    id: Id,
    future: BoxedLocal<Answer>,
    cancel: cancel::Cancelled,
    /// The request's `request.process` span, ended with the answer.
    span: Span,
    /// The method, for the completion record.
    method: String,
    /// When the request was accepted.
    started: Instant,
    /// The request's log context (issue 5), installed while the task reports.
    log_context: Option<Arc<crate::logging::LogContext>>,
}

fn encode_answer(id: &Id, answer: &Answer) -> String {
    match answer {
        Ok(result) => jsonrpc::encode_result(id, result),
        Err(error) => jsonrpc::encode_error(Some(id), error),
    }
}

/// Completions kept waiting for a write at most; beyond them they are done at once.
/// A sequential client leaves two or three (a request's and its tool's span); a
/// pipelining one many, each holding a span's data: with 1,024 the pipelined edge
/// bench peaked at 4.96 MB, with 256 at 4.30–4.37 MB (README, fourth round).
const MAX_DEFERRED: usize = 256;

/// The server for one stdio connection.
#[derive(Debug)]
pub struct Server {
    /// Configuration, observability and what tools use, shared with every request.
    services: Rc<Services>,
    /// Built on first use: the schemas are parsed from text, a third of a start's
    /// instructions, and `initialize` needs none of them.
    tools: std::cell::OnceCell<Registry>,
    /// Resources and resource templates.
    resources: crate::resources::Registry,
    state: RefCell<dispatch::Era>,
    /// Cancel handles of running requests; dropping one cancels its request.
    inflight: RefCell<HashMap<Id, cancel::Handle>>,
    notifier: Rc<Notifier>,
    /// Requests the server sent to the client, awaiting answers.
    outgoing: outgoing::Outgoing,
    slots: Arc<Semaphore>,
    /// Slots taken: requests running, or answered and waiting for room in the outbox.
    busy: Cell<usize>,
    /// Signalled whenever a slot is given back.
    finished: (Sender<()>, Receiver<()>),
    /// When the session began (`initialize`, or the first 2026-07-28 request).
    session_opened: Cell<Option<Instant>>,
    /// Completions of answered requests whose answers may not be written yet.
    deferred: RefCell<Vec<outcome::Completion>>,
    /// Whether completions wait for [`Server::complete_written`] (the stdio loop).
    defer: Cell<bool>,
}

impl Server {
    /// A server writing encoded lines to `out` and reporting to `obs`.
    pub fn new(config: Config, out: Sender<String>, obs: Observability) -> Rc<Server> {
        let notifier = Rc::new(Notifier::new(
            out,
            config.server.log_notify_rate,
            Arc::clone(&obs.metrics),
        ));
        Rc::new(Server {
            tools: std::cell::OnceCell::new(),
            resources: crate::resources::Registry::builtin(),
            slots: Arc::new(Semaphore::new(config.server.max_in_flight)),
            services: Rc::new(Services::new(config, obs)),
            state: RefCell::new(dispatch::Era::Unset),
            inflight: RefCell::new(HashMap::new()),
            notifier,
            outgoing: outgoing::Outgoing::default(),
            busy: Cell::new(0),
            finished: smol::channel::bounded(1),
            session_opened: Cell::new(None),
            deferred: RefCell::new(Vec::new()),
            defer: Cell::new(false),
        })
    }

    /// From now on a request answered by its own task leaves its log record and the
    /// end of its span until [`Server::complete_written`] is called: the stdio loop
    /// calls it once every queued answer is written whole, so that answers reach the
    /// client first (the
    /// record and the span's encoding are most of the telemetry on a request's path).
    /// Without it (in memory) they are done at once.
    pub fn defer_completions(&self) {
        self.defer.set(true);
    }

    /// Does the deferred completions of the answers written so far (all of them: the
    /// stdio loop calls this only when nothing is left to write).
    pub fn complete_written(&self) {
        let done = std::mem::take(&mut *self.deferred.borrow_mut());
        for completion in done {
            completion.complete();
        }
    }

    /// Ends `span` after the answer being prepared is written, with the end time it has
    /// now: a tool's span, whose encoding need not delay its request's answer.
    pub(crate) fn end_after_answer(&self, mut span: crate::telemetry::Span) {
        span.stop();
        self.finish(outcome::Completion::Span(span));
    }

    fn finish(&self, completion: outcome::Completion) {
        let mut deferred = self.deferred.borrow_mut();
        // Bounded: a client that stops reading but goes on writing gets no more
        // answers written, and would otherwise make the list grow without end.
        if self.defer.get() && deferred.len() < MAX_DEFERRED {
            deferred.push(completion);
        } else {
            drop(deferred);
            completion.complete();
        }
    }

    /// The tools this server serves.
    pub fn tools(&self) -> &Registry {
        self.tools
            .get_or_init(|| Registry::builtin(&self.services.config))
    }

    /// Serves lines from `input` until it closes or `stop` fires, then lets
    /// in-flight requests finish within the configured grace period and cancels the rest.
    pub async fn serve(
        self: &Rc<Self>,
        ex: &LocalExecutor<'_>,
        input: Receiver<Input>,
        stop: Receiver<()>,
    ) {
        let client_records = crate::logging::client_records();
        if let Some(records) = client_records.clone() {
            let server = Rc::clone(self);
            // Boxed, as every task but the per-request one: one instance of the task
            // machinery for all of them (size; README "Size after the feature merges").
            ex.spawn(
                async move {
                    while let Ok(record) = records.recv().await {
                        server.forward_log(record).await;
                    }
                }
                .boxed_local(),
            )
            .detach();
        }
        loop {
            let next = async { input.recv().await.ok() }.or(async {
                match stop.recv().await {
                    Ok(()) => None,
                    // No signal source: wait for input only.
                    Err(_) => smol::future::pending().await,
                }
            });
            match next.await {
                Some(Input::Line(line)) => self.handle_line(ex, &line).await,
                Some(Input::Oversized { bytes }) => {
                    let metrics = &self.services.obs.metrics;
                    metrics.record_message_size(crate::metrics::Direction::Request, bytes);
                    observe::invalid_message_answered(&self.services);
                    let error = RpcError::invalid_request(format!(
                        "invalid request: line of at least {bytes} bytes exceeds the limit of {} bytes; it was discarded",
                        self.services.config.server.max_line_bytes
                    ));
                    self.notifier
                        .send(jsonrpc::encode_error(None, &error))
                        .await;
                }
                None => break,
            }
        }
        self.drain(self.services.config.server.shutdown_grace).await;
        // Records still queued for the client go out before the outbox closes.
        if let Some(records) = client_records {
            while let Ok(record) = records.try_recv() {
                self.forward_log(record).await;
            }
        }
        self.close_session();
    }

    /// Handles one line: replies at once, or starts its task (waiting for a free slot).
    pub async fn handle_line(self: &Rc<Self>, ex: &LocalExecutor<'_>, line: &[u8]) {
        let metrics = &self.services.obs.metrics;
        metrics.record_message_size(crate::metrics::Direction::Request, line.len());
        match jsonrpc::decode_line(line) {
            Line::Single(Err(e)) => {
                observe::invalid_message_answered(&self.services);
                self.notifier
                    .send(jsonrpc::encode_error(e.id.as_ref(), &e.error))
                    .await;
            }
            Line::Single(Ok(message)) => match self.accept(message, false) {
                Outcome::Line(line) => self.notifier.send(line).await,
                Outcome::Work(work) => {
                    let slot = self.acquire_slot().await;
                    let server = Rc::clone(self);
                    ex.spawn(async move {
                        if let Some((line, completion)) = Rc::clone(&server).run(work).await {
                            server.notifier.send(line).await;
                            server.finish(completion);
                        }
                        server.release_slot(slot);
                    })
                    .detach();
                }
                Outcome::Background(task) => ex.spawn(task).detach(),
                Outcome::Nothing => {}
            },
            Line::Batch(items) => self.handle_batch(ex, items).await,
        }
    }

    /// A batch: answered as one array in a 2025-03-26 session, one `-32600` otherwise.
    async fn handle_batch(
        self: &Rc<Self>,
        ex: &LocalExecutor<'_>,
        items: Vec<Result<Incoming, jsonrpc::DecodeError>>,
    ) {
        if self.version() != Some(Version::V2025_03_26) {
            observe::invalid_message_answered(&self.services);
            let error = RpcError::invalid_request(
                "invalid request: JSON-RPC batches are only accepted in a 2025-03-26 session",
            );
            self.notifier
                .send(jsonrpc::encode_error(None, &error))
                .await;
            return;
        }
        let mut pending = Vec::with_capacity(items.len());
        for item in items {
            pending.push(match item {
                Err(e) => {
                    observe::invalid_message_answered(&self.services);
                    Some(
                        smol::future::ready(Some(jsonrpc::encode_error(e.id.as_ref(), &e.error)))
                            .boxed_local(),
                    )
                }
                Ok(message) => match self.accept(message, true) {
                    Outcome::Line(line) => Some(smol::future::ready(Some(line)).boxed_local()),
                    Outcome::Work(work) => {
                        let slot = self.acquire_slot().await;
                        let server = Rc::clone(self);
                        let task = ex.spawn(async move {
                            // A batch's reply is one message: its items complete at once.
                            let line =
                                Rc::clone(&server)
                                    .run(work)
                                    .await
                                    .map(|(line, completion)| {
                                        completion.complete();
                                        line
                                    });
                            server.release_slot(slot);
                            line
                        });
                        Some(task.boxed_local())
                    }
                    Outcome::Background(task) => {
                        ex.spawn(task).detach();
                        None
                    }
                    Outcome::Nothing => None,
                },
            });
        }
        // The batch's reply holds a slot of its own until it is in the outbox (taken
        // after its items', so that one slot is enough for any batch).
        let slot = self.acquire_slot().await;
        let server = Rc::clone(self);
        ex.spawn(
            async move {
                let mut replies = Vec::new();
                for reply in pending.into_iter().flatten() {
                    replies.extend(reply.await);
                }
                if !replies.is_empty() {
                    server
                        .notifier
                        .send(format!("[{}]", replies.join(",")))
                        .await;
                }
                server.release_slot(slot);
            }
            .boxed_local(),
        )
        .detach();
    }

    /// Waits for one of the `max_in_flight` slots. A request holds its slot from
    /// the moment it is accepted until its answer is in the outbox, so a client
    /// that reads slowly stops the server from taking more work: nothing piles up.
    async fn acquire_slot(&self) -> SemaphoreGuardArc {
        let slot = self.slots.acquire_arc().await;
        self.busy.set(self.busy.get() + 1);
        slot
    }

    /// Gives a slot back and tells `drain`.
    fn release_slot(&self, slot: SemaphoreGuardArc) {
        drop(slot);
        self.busy.set(self.busy.get() - 1);
        let _ = self.finished.0.try_send(());
    }

    /// Runs a request's work to its response, or to nothing when it is cancelled. The
    /// response comes with what is left of the request's end ([`Completion`]): its
    /// record and the end of its span, for after the answer is written.
    async fn run(self: Rc<Self>, work: Work) -> Option<(String, outcome::Completion)> {
        let Work {
            id,
            future,
            cancel,
            span,
            method,
            started,
            log_context,
        } = work;
        let guarded = async {
            let answer = match AssertUnwindSafe(future).catch_unwind().await {
                Ok(answer) => answer,
                Err(_) => {
                    crate::logging::scope(log_context.as_ref(), || {
                        // The context carries the request id, clipped.
                        log::error!("request handler panicked; answering -32603");
                    });
                    Err(RpcError::internal(
                        "internal error: the request handler failed",
                    ))
                }
            };
            Some(answer)
        };
        let cancelled = async {
            // The handle was dropped, which is how a request is cancelled.
            cancel.await;
            None
        };
        match guarded.or(cancelled).await {
            Some(answer) => {
                self.inflight.borrow_mut().remove(&id);
                let completion = crate::logging::scope(log_context.as_ref(), || {
                    self.request_outcome(&method, started, &answer, span, log_context.clone())
                });
                Some((encode_answer(&id, &answer), completion))
            }
            // Dropping the span unfinished marks it with a `cancelled` event.
            None => None,
        }
    }

    /// Registers `future` as the work of request `id`, or refuses a duplicate id.
    fn work(&self, id: Id, future: BoxedLocal<Answer>) -> Step {
        let mut inflight = self.inflight.borrow_mut();
        if inflight.contains_key(&id) {
            let error = RpcError::invalid_request(format!(
                "invalid request: id {} is already in use by a request in flight",
                jsonrpc::clip(id.as_str())
            ));
            return Step::Reply(Err(error));
        }
        let (handle, cancel) = cancel::pair();
        inflight.insert(id.clone(), handle);
        Step::Work(Work {
            id,
            future,
            cancel,
            span: Span::none(),
            method: String::new(),
            started: Instant::now(),
            log_context: None,
        })
    }

    /// `notifications/cancelled`: drops the request's task; unknown or finished ids are ignored.
    fn cancel(&self, id: &Id) -> bool {
        self.inflight.borrow_mut().remove(id).is_some()
    }

    /// Waits up to `grace` for running requests and for their answers to reach the
    /// outbox, then cancels the rest.
    async fn drain(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        while self.busy.get() > 0 {
            let finished = async { self.finished.1.recv().await.is_ok() };
            let expired = async {
                Timer::at(deadline).await;
                false
            };
            if !finished.or(expired).await {
                break;
            }
        }
        let abandoned: Vec<Id> = self
            .inflight
            .borrow_mut()
            .drain()
            .map(|(id, _)| id)
            .collect();
        if !abandoned.is_empty() {
            log::warn!(count = abandoned.len(); "shutdown grace period over; cancelled requests still in flight");
        }
        // Let the cancelled tasks observe their cancellation and drop their work.
        for _ in 0..abandoned.len().min(64) {
            smol::future::yield_now().await;
        }
    }

    /// Requests currently in flight.
    pub fn in_flight(&self) -> usize {
        self.inflight.borrow().len()
    }

    async fn forward_log(&self, record: crate::logging::ClientRecord) {
        let level = match &*self.state.borrow() {
            dispatch::Era::Legacy(session) => session.log_level,
            _ => None,
        };
        if level.is_some_and(|min| record.level >= min) {
            self.notifier
                .log(record.level, &record.logger, record.data)
                .await;
        }
    }
}

/// Runs `lines` through a fresh server in memory and returns every line it wrote,
/// in order: what the binary would print for that input. For tests and fuzzing.
pub fn run_in_memory(config: Config, lines: Vec<Vec<u8>>) -> Vec<String> {
    run_in_memory_traced(config, Tracer::disabled(), lines)
}

/// [`run_in_memory`] with a tracer, to see the spans a session produces.
pub fn run_in_memory_traced(config: Config, tracer: Tracer, lines: Vec<Vec<u8>>) -> Vec<String> {
    run_in_memory_with(config, tracer, lines, |_| {})
}

/// [`run_in_memory`] reporting to `obs` (tracer, metrics, error tracker): what a
/// session costs with telemetry on, without stdio (`benches/request.rs`).
pub fn run_in_memory_observed(
    config: Config,
    obs: Observability,
    lines: Vec<Vec<u8>>,
) -> Vec<String> {
    run_in_memory_obs(config, obs, lines, |_| {})
}

/// [`run_in_memory_traced`] with `setup` applied to the fresh server first (tests
/// swap in their own resource table this way).
pub(crate) fn run_in_memory_with(
    config: Config,
    tracer: Tracer,
    lines: Vec<Vec<u8>>,
    setup: impl FnOnce(&mut Server),
) -> Vec<String> {
    run_in_memory_obs(config, Observability::traced(tracer), lines, setup)
}

fn run_in_memory_obs(
    config: Config,
    obs: Observability,
    lines: Vec<Vec<u8>>,
    setup: impl FnOnce(&mut Server),
) -> Vec<String> {
    session_in_memory(config, obs, lines, setup).1
}

/// [`run_in_memory_obs`], keeping the server: the lines it answered, and the server
/// itself for what is left to look at (its deferred completions).
pub(crate) fn session_in_memory(
    config: Config,
    obs: Observability,
    lines: Vec<Vec<u8>>,
    setup: impl FnOnce(&mut Server),
) -> (Rc<Server>, Vec<String>) {
    let ex = LocalExecutor::new();
    let (out_tx, out_rx) = smol::channel::unbounded();
    let (in_tx, in_rx) = smol::channel::unbounded();
    let (_stop_tx, stop_rx) = smol::channel::bounded(1);
    for line in lines {
        let _ = in_tx.try_send(Input::Line(line));
    }
    in_tx.close();
    let mut server = Server::new(config, out_tx, obs);
    setup(Rc::get_mut(&mut server).expect("the server is not shared yet"));
    smol::block_on(ex.run(server.serve(&ex, in_rx, stop_rx)));
    // Let detached tasks that already have their answer hand it over.
    while ex.try_tick() {}
    let answers = std::iter::from_fn(|| out_rx.try_recv().ok()).collect();
    (server, answers)
}

#[cfg(test)]
mod tests;
