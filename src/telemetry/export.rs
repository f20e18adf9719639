//! The export side of tracing (and of OTLP logs): one thread per signal takes
//! finished items (spans already encoded as protobuf, spans for the console, log
//! records) from a bounded queue, batches them (up to
//! `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, at least every `OTEL_BSP_SCHEDULE_DELAY`) and
//! sends each batch as OTLP/HTTP protobuf with retries, or writes spans as JSON
//! lines to the log output. It never touches the MCP executor; at shutdown it
//! flushes what is queued within a deadline.

use super::context::hex;
use super::model::{KeyValue, Resource, Scope, SpanData, StatusCode, Value};
use super::queue::{EncodedQueue, EncodedSpans, SharedQueue};
use super::sampler::Sampler;
use super::stats::ExportStats;
use super::tracer::{Queue, Tracer};
use crate::config::{Config, Secret, TraceExporter};
use crate::logging::ErrorTracker;
use crate::otlp::{Buffers, DecodeError, LogRecord, PartialSuccess};
use crate::outbound::Agent;
use crate::roots::Trust;
use serde_json::{Map, json};
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

/// Longest wait for queued spans at shutdown (issue: default 5 s).
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(5);
/// Retry backoff without `Retry-After`: first wait and cap.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A dead collector is reported once, then at most this often.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(60);
/// Encoded bytes per queued span allowed on average before the queue counts as full
/// (our spans take about 330): `OTEL_BSP_MAX_QUEUE_SIZE` bounds the count, this the
/// memory, whatever the attributes hold.
const MAX_SPAN_BYTES: usize = 4096;
/// Response bodies read at most (the OTLP spec's limit).
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

/// The process's tracing: the tracer handed to the server, and the export thread behind it.
#[derive(Debug)]
pub struct Telemetry {
    /// The tracer; clone it into whatever creates spans.
    pub tracer: Tracer,
    stats: Option<Arc<ExportStats>>,
    worker: Option<Worker>,
}

impl Telemetry {
    /// No tracing at all.
    pub fn disabled() -> Telemetry {
        Telemetry {
            tracer: Tracer::disabled(),
            stats: None,
            worker: None,
        }
    }

    /// Tracing as configured: disabled, or sampled spans exported through OTLP or the console.
    /// A failing collector is reported to `errors` (a critical backend error).
    pub fn from_config(config: &Config, errors: Option<Arc<ErrorTracker>>) -> Telemetry {
        let t = &config.telemetry;
        if !t.enabled || !t.tracing.enabled || t.tracing.exporter == TraceExporter::None {
            return Telemetry::disabled();
        }
        let (signal, wake) = sync_channel(1);
        let stats = Arc::new(ExportStats::default());
        let sampler = Sampler::new(&t.tracing);
        let (queue, batch) = (t.tracing.max_queue_size, t.tracing.max_export_batch_size);
        let service = t.service_name.clone();
        let stats_ = Arc::clone(&stats);
        // The tracer wakes the export thread once per batch, not once per span: no
        // futex wake on the MCP thread for most spans.
        let (tracer, feed) = if t.tracing.exporter == TraceExporter::Console {
            let spans = Arc::new(SharedQueue::new(queue));
            let queue = Queue::Export {
                spans: Arc::clone(&spans),
                batch,
                signal,
            };
            let tracer = Tracer::build(sampler, queue, stats_, service);
            let recycler = tracer.recycler().unwrap_or_default();
            let feed = Feed {
                items: Source::Shared { items: spans, wake },
                // Exported spans hand their attribute lists back to new spans.
                reclaim: Box::new(move |batch: &mut Vec<SpanData>| recycler.recycle(batch)),
            };
            (tracer, feed)
        } else {
            let spans = Arc::new(EncodedQueue::new(queue, queue * MAX_SPAN_BYTES));
            let queue = Queue::Encoded {
                spans: Arc::clone(&spans),
                batch,
                signal,
            };
            let tracer = Tracer::build(sampler, queue, stats_, service);
            let feed = Feed {
                items: Source::Encoded { spans, wake },
                reclaim: Box::new(Vec::clear),
            };
            (tracer, feed)
        };
        let exporter = t.tracing.exporter;
        let sink = move |config: &Config| match exporter {
            TraceExporter::Console => Sink::Console(console_json),
            _ => Sink::Otlp(Box::new(Otlp::new(config, trace_url(config)))),
        };
        match Worker::start(config, feed, sink, Arc::clone(&stats), errors.clone()) {
            Ok(worker) => Telemetry {
                tracer,
                stats: Some(stats),
                worker: Some(worker),
            },
            Err(e) => {
                log::error!(error:% = e; "cannot start the trace export thread; tracing is off");
                if let Some(errors) = errors {
                    // A thread that cannot be created: the process is out of threads or memory.
                    errors.track_error(
                        "otlp.export.start",
                        crate::logging::RESOURCE_EXHAUSTED_ERROR,
                        &e.to_string(),
                        &[],
                    );
                }
                Telemetry::disabled()
            }
        }
    }

    /// Export counters, when tracing is on.
    pub fn stats(&self) -> Option<&ExportStats> {
        self.stats.as_deref()
    }

    /// A shared handle on the export counters, for `/metrics` and `/health`.
    pub fn stats_handle(&self) -> Option<Arc<ExportStats>> {
        self.stats.clone()
    }

    /// Drops this handle's tracer and waits until `deadline` for the export
    /// thread to flush what is queued. Every other tracer clone must be gone.
    pub fn shutdown(self, deadline: Instant) {
        let Telemetry { tracer, worker, .. } = self;
        if let Some(worker) = &worker {
            worker.stop_retrying();
        }
        drop(tracer);
        if let Some(worker) = worker
            && !worker.join(deadline)
        {
            log::warn!(
                "trace export did not finish before the shutdown deadline; queued spans are lost"
            );
        }
    }
}

/// What an export thread batches and sends: spans (`/v1/traces`) or log records (`/v1/logs`).
pub(crate) trait Signal: Wire + Send + Sized + 'static {
    /// The items in messages: `spans`, `log records`.
    const ITEMS: &'static str;
    /// The field counting items lost in a failed export: `dropped_spans`, ...
    const DROPPED: &'static str;
    /// The operation a failed export is tracked as: `otlp.export.traces`, ...
    const OPERATION: &'static str;
    /// Encodes one `Export*ServiceRequest` body of `items` into `buffers`.
    fn encode(resource: &Resource, scope: &Scope, items: &[Self], buffers: &mut Buffers);
}

/// What [`Otlp::send`] needs to know of a signal: its name in messages, and how to read
/// the partial success of its `Export*ServiceResponse`. The metrics push, which encodes
/// its own bodies, implements only this.
pub(crate) trait Wire {
    /// The signal in messages and thread names: `trace`, `log`, `metrics`.
    const NAME: &'static str;
    /// Reads the partial success of an `Export*ServiceResponse` body.
    fn partial_success(body: &[u8]) -> Result<Option<PartialSuccess>, DecodeError>;
}

impl Wire for SpanData {
    const NAME: &'static str = "trace";
    fn partial_success(body: &[u8]) -> Result<Option<PartialSuccess>, DecodeError> {
        crate::otlp::decode_partial_success(body)
    }
}

impl Signal for SpanData {
    const ITEMS: &'static str = "spans";
    const DROPPED: &'static str = "dropped_spans";
    const OPERATION: &'static str = "otlp.export.traces";
    fn encode(resource: &Resource, scope: &Scope, items: &[Self], buffers: &mut Buffers) {
        crate::otlp::encode_trace_request_into(resource, scope, items, buffers);
    }
}

impl Wire for LogRecord {
    const NAME: &'static str = "log";
    fn partial_success(body: &[u8]) -> Result<Option<PartialSuccess>, DecodeError> {
        crate::otlp::decode_logs_partial_success(body)
    }
}

impl Signal for LogRecord {
    const ITEMS: &'static str = "log records";
    const DROPPED: &'static str = "dropped_log_records";
    const OPERATION: &'static str = "otlp.export.logs";
    fn encode(resource: &Resource, scope: &Scope, items: &[Self], buffers: &mut Buffers) {
        crate::otlp::encode_logs_request_into(resource, scope, items, buffers);
    }
}

/// Empties an exported batch.
pub(crate) type Reclaim<T> = Box<dyn FnMut(&mut Vec<T>) + Send>;

/// What an export thread consumes: the queue and what it does with an exported batch.
pub(crate) struct Feed<T> {
    /// The queue the producers fill.
    pub(crate) items: Source<T>,
    /// Empties an exported batch (spans hand their attribute lists back for reuse).
    pub(crate) reclaim: Reclaim<T>,
}

/// How the export thread receives items.
pub(crate) enum Source<T> {
    /// A channel the thread waits on itself (log records).
    Channel(Receiver<T>),
    /// A queue whose producers (the tracer) signal `wake` once per batch: the thread
    /// sleeps on the signal, and sees all producers gone when it disconnects.
    Shared {
        items: Arc<SharedQueue<T>>,
        wake: Receiver<()>,
    },
    /// Spans encoded as they ended, signalled as `Shared` is (OTLP traces only).
    Encoded {
        spans: Arc<EncodedQueue>,
        wake: Receiver<()>,
    },
}

impl<T: 'static> Feed<T> {
    /// A queue the thread waits on itself; exported batches are cleared.
    pub(crate) fn plain(items: Receiver<T>) -> Feed<T> {
        Feed {
            items: Source::Channel(items),
            reclaim: Box::new(Vec::clear),
        }
    }
}

/// A running export thread: its handle, its "done" signal and the "stop retrying" signal.
#[derive(Debug)]
pub(crate) struct Worker {
    handle: crate::threads::Handle,
    done: Receiver<()>,
    stop: SyncSender<()>,
}

impl Worker {
    /// Starts the thread exporting `feed`'s items to the sink `sink` builds, with the
    /// batch settings of `config` (`OTEL_BSP_*`); it runs until every producer is gone.
    /// The sink (its HTTP agent and TLS roots) and the resource (a file read) are built
    /// on the thread: the first MCP answer never waits for them.
    pub(crate) fn start<T: Signal>(
        config: &Config,
        feed: Feed<T>,
        sink: impl FnOnce(&Config) -> Sink<T> + Send + 'static,
        stats: Arc<ExportStats>,
        errors: Option<Arc<ErrorTracker>>,
    ) -> std::io::Result<Worker> {
        let (stop, stop_rx) = sync_channel(1);
        let (done_tx, done) = sync_channel(1);
        let config = config.clone();
        let handle = crate::threads::spawn(format!("otlp-{}s", T::NAME), move || {
            let tracing = &config.telemetry.tracing;
            let batcher = Batcher {
                feed,
                sink: sink(&config),
                stats,
                resource: resource(&config),
                scope: Scope {
                    name: Cow::Borrowed("telemetryflow-mcp"),
                    version: Cow::Borrowed(env!("CARGO_PKG_VERSION")),
                },
                batch_size: tracing.max_export_batch_size,
                delay: tracing.schedule_delay,
                export_timeout: tracing.export_timeout,
                failures: FailureLog {
                    errors,
                    ..FailureLog::default()
                },
                final_flush: false,
                buffers: crate::otlp::Buffers::default(),
                encoded: EncodedSpans::default(),
                stop: stop_rx,
            };
            batcher.run();
            let _ = done_tx.send(());
        })?;
        Ok(Worker { handle, done, stop })
    }

    /// Wakes a retry backoff in progress: no more waiting on a failing collector.
    pub(crate) fn stop_retrying(&self) {
        let _ = self.stop.try_send(());
    }

    /// Waits until `deadline` for the thread to flush and stop (the senders must be
    /// gone); false when it did not finish in time.
    pub(crate) fn join(self, deadline: Instant) -> bool {
        let wait = deadline.saturating_duration_since(Instant::now());
        if self.done.recv_timeout(wait).is_ok() {
            self.handle.join();
            true
        } else {
            false
        }
    }
}

/// The resource every signal is exported with.
pub fn resource(config: &Config) -> Resource {
    let t = &config.telemetry;
    let mut attributes: Vec<KeyValue> = Vec::new();
    let mut put = |key: Cow<'static, str>, value: Value| {
        attributes.retain(|kv| kv.key != key);
        attributes.push(KeyValue { key, value });
    };
    // OTEL_RESOURCE_ATTRIBUTES first: attributes set here win on a clash.
    for (key, value) in &t.resource_attributes {
        put(Cow::Owned(key.clone()), Value::from(value.clone()));
    }
    put("service.name".into(), Value::from(t.service_name.clone()));
    put(
        "service.version".into(),
        Value::from(t.service_version.clone()),
    );
    put(
        "deployment.environment.name".into(),
        Value::from(t.environment.clone()),
    );
    put("telemetry.sdk.name".into(), Value::from("tfo-mcp"));
    put("telemetry.sdk.language".into(), Value::from("rust"));
    put(
        "telemetry.sdk.version".into(),
        Value::from(env!("CARGO_PKG_VERSION")),
    );
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        put("host.name".into(), Value::from(host.trim().to_string()));
    }
    put(
        "process.pid".into(),
        Value::Int(i64::from(std::process::id())),
    );
    Resource { attributes }
}

/// Where an export thread sends its batches.
pub(crate) enum Sink<T> {
    /// OTLP/HTTP protobuf.
    Otlp(Box<Otlp>),
    /// One JSON line per item on the log output.
    Console(fn(&T) -> String),
}

struct Batcher<T> {
    feed: Feed<T>,
    sink: Sink<T>,
    stats: Arc<ExportStats>,
    resource: Resource,
    scope: Scope,
    batch_size: usize,
    delay: Duration,
    export_timeout: Duration,
    failures: FailureLog,
    final_flush: bool,
    /// Encoding memory reused from batch to batch.
    buffers: crate::otlp::Buffers,
    /// Spans taken from an [`Source::Encoded`] queue, not yet sent.
    encoded: EncodedSpans,
    /// Signalled at shutdown; retry backoffs wait on it instead of sleeping.
    stop: Receiver<()>,
}

impl<T: Signal> Batcher<T> {
    fn run(mut self) {
        let mut batch = Vec::with_capacity(self.batch_size);
        let mut next = Instant::now() + self.delay;
        loop {
            let timeout = next.saturating_duration_since(Instant::now());
            // Ok(Some(item)): an item to keep; Ok(None): woken to drain the queue.
            let event = match &self.feed.items {
                Source::Shared { wake, .. } | Source::Encoded { wake, .. } => {
                    wake.recv_timeout(timeout).map(|()| None)
                }
                Source::Channel(items) => items.recv_timeout(timeout).map(Some),
            };
            match event {
                Ok(item) => {
                    batch.extend(item);
                    if self.drain(&mut batch, None) {
                        next = Instant::now() + self.delay;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.drain(&mut batch, None);
                    self.export(&mut batch, Instant::now() + self.export_timeout);
                    next = Instant::now() + self.delay;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // Shutting down: one attempt per batch, so that a dead collector
                    // cannot hold the exit for the whole flush deadline.
                    self.final_flush = true;
                    let deadline = Instant::now() + SHUTDOWN_FLUSH.min(self.export_timeout);
                    self.drain(&mut batch, Some(deadline));
                    self.export(&mut batch, deadline);
                    return;
                }
            }
        }
    }

    /// Moves the queued items into `batch`, exporting it each time it is full (within
    /// `deadline`, or the export timeout from now). True if it exported.
    fn drain(&mut self, batch: &mut Vec<T>, deadline: Option<Instant>) -> bool {
        let mut exported = false;
        loop {
            let took = match &self.feed.items {
                Source::Shared { items, .. } => items.take(batch, self.batch_size),
                Source::Channel(items) => items.try_recv().map(|item| batch.push(item)).is_ok(),
                Source::Encoded { spans, .. } => spans.take(&mut self.encoded),
            };
            if !took {
                return exported;
            }
            if batch.len() + self.encoded.count >= self.batch_size {
                let deadline = deadline.unwrap_or_else(|| Instant::now() + self.export_timeout);
                self.export(batch, deadline);
                exported = true;
            }
        }
    }

    fn export(&mut self, batch: &mut Vec<T>, deadline: Instant) {
        if !batch.is_empty() {
            let started = Instant::now();
            let count = batch.len() as u64;
            match &self.sink {
                Sink::Console(line) => {
                    for item in batch.iter() {
                        crate::logging::write_line(&line(item));
                    }
                    self.stats.exported.add(count);
                }
                Sink::Otlp(_) => {
                    T::encode(&self.resource, &self.scope, batch, &mut self.buffers);
                    self.send(count, deadline);
                }
            }
            (self.feed.reclaim)(batch);
            // One batch's buffer goes back to the queue (a backlog may have grown it).
            // Handing it back smaller saves up to 100 kB of peak RSS (512 spans), but the
            // queue's regrowth through musl's realloc cost 0.2-0.3 us per span in
            // benches/spans.rs, and from nothing still more: not taken.
            batch.shrink_to(self.batch_size);
            self.batch_done(started);
        }
        // Encoded spans, in requests of at most a batch each.
        let mut encoded = std::mem::take(&mut self.encoded);
        let (mut rest, mut left) = (&encoded.bytes[..], encoded.count);
        while !rest.is_empty() {
            let started = Instant::now();
            // Only a backlog of more than a batch is walked span by span to be cut. (The
            // configuration allows no batch below 1; a 0 here would never move on.)
            let batch = self.batch_size.max(1);
            let (len, count) = if left <= batch {
                (rest.len(), left)
            } else {
                crate::otlp::split_encoded_spans(rest, batch)
            };
            left = left.saturating_sub(count);
            crate::otlp::encode_encoded_trace_request_into(
                &self.resource,
                &self.scope,
                &rest[..len],
                &mut self.buffers,
            );
            self.send(count as u64, deadline);
            rest = &rest[len..];
            self.batch_done(started);
        }
        encoded.clear();
        self.encoded = encoded;
    }

    /// Sends the request body in `self.buffers`, holding `count` items, and counts
    /// the outcome.
    fn send(&mut self, count: u64, deadline: Instant) {
        let Sink::Otlp(otlp) = &self.sink else {
            return;
        };
        match otlp.send::<T>(
            self.buffers.bytes(),
            deadline,
            (!self.final_flush).then_some(&self.stop),
            &self.stats,
        ) {
            Ok(rejected) => {
                self.stats.exported.add(count.saturating_sub(rejected));
                self.stats.rejected.add(rejected);
                self.stats.record_success();
                self.failures.success::<T>(&otlp.url);
            }
            Err(reason) => {
                self.stats.failed.add(count);
                self.stats.record_failure(&reason);
                self.failures.failure::<T>(&otlp.url, count, &reason);
            }
        }
    }

    fn batch_done(&self, started: Instant) {
        self.stats.batches.inc();
        self.stats
            .export_micros
            .add(started.elapsed().as_micros() as u64);
    }
}

/// OTLP/HTTP protobuf to one signal's URL.
#[derive(Debug)]
pub(crate) struct Otlp {
    pub(crate) url: String,
    /// `OTEL_EXPORTER_OTLP_HEADERS`: the values are secrets, hidden by `Debug`.
    headers: Vec<(String, Secret)>,
    timeout: Duration,
    agent: Agent,
}

impl Otlp {
    /// A sender to `url` with the OTLP headers and timeout of `config`.
    pub(crate) fn new(config: &Config, url: String) -> Otlp {
        let tracing = &config.telemetry.tracing;
        Otlp {
            url,
            headers: tracing.otlp_headers.clone(),
            timeout: tracing.otlp_timeout,
            agent: Agent::new(
                concat!("tfo-mcp-otlp-exporter/", env!("CARGO_PKG_VERSION")),
                None,
            )
            .trusting(match &tracing.otlp_certificate {
                Some(file) => Trust::File(file.clone()),
                None => Trust::System,
            }),
        }
    }

    /// Sends one batch, retrying what may be retried until `deadline`.
    /// Ok: spans the collector rejected in a partial success. Err: why it failed.
    /// `retry`: wait for retries on this signal (shutdown ends the wait); `None`: no retries.
    pub(crate) fn send<T: Wire>(
        &self,
        body: &[u8],
        deadline: Instant,
        retry: Option<&Receiver<()>>,
        stats: &ExportStats,
    ) -> Result<u64, String> {
        self.send_as((T::NAME, T::partial_success), body, deadline, retry, stats)
    }

    /// [`Otlp::send`] for the signal named `wire.0` whose responses `wire.1` reads: one
    /// copy of the retry loop in the size-budgeted binary instead of one per signal.
    fn send_as(
        &self,
        wire: WireFns,
        body: &[u8],
        deadline: Instant,
        retry: Option<&Receiver<()>>,
        stats: &ExportStats,
    ) -> Result<u64, String> {
        let mut headers = Vec::with_capacity(self.headers.len() + 1);
        headers.push(("content-type", "application/x-protobuf"));
        headers.extend(self.headers.iter().map(|(n, v)| (n.as_str(), v.expose())));
        let mut attempt = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err("export deadline passed".into());
            }
            stats.requests.inc();
            let attempt_timeout = if self.timeout.is_zero() {
                remaining
            } else {
                remaining.min(self.timeout)
            };
            let result = self
                .agent
                .post(&self.url, &headers, body, attempt_timeout)
                .map(|mut response| {
                    let status = response.status();
                    // Read as the Claude client reads it: capped at a day, so that an
                    // absurd wait cannot overflow the clock below.
                    let retry_after =
                        crate::outbound::retry_after(None, response.header("retry-after"));
                    let bytes = response.read_to_vec(MAX_RESPONSE).unwrap_or_default();
                    (status, retry_after, bytes)
                });
            let (wait, reason) = match result {
                Ok((status, retry_after, bytes)) => match status {
                    200..=299 => return Ok(partial_success(wire, &bytes)),
                    429 | 502 | 503 | 504 => (retry_after, format!("HTTP {status}")),
                    _ => {
                        let detail = crate::otlp::decode_status_message(&bytes).unwrap_or_default();
                        return Err(format!("HTTP {status} (not retried) {detail}")
                            .trim_end()
                            .to_string());
                    }
                },
                Err(e) if e.is_transient() => (None, format!("{e}")),
                Err(e) => return Err(format!("{e} (not retried)")),
            };
            let backoff = wait.unwrap_or_else(|| backoff(attempt));
            let Some(stop) = retry else {
                return Err(format!("{reason}; not retried during shutdown"));
            };
            if Instant::now()
                .checked_add(backoff)
                .is_none_or(|at| at >= deadline)
            {
                return Err(format!("{reason}; no time left to retry"));
            }
            stats.retries.inc();
            if !matches!(stop.recv_timeout(backoff), Err(RecvTimeoutError::Timeout)) {
                return Err(format!("{reason}; retry abandoned at shutdown"));
            }
            attempt += 1;
        }
    }
}

/// The URL spans go to: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as-is, else `{endpoint}/v1/traces`.
fn trace_url(config: &Config) -> String {
    let tracing = &config.telemetry.tracing;
    match &tracing.traces_endpoint {
        // Used as-is; only a URL without a path gets "/".
        Some(url) if url.splitn(4, '/').count() < 4 => format!("{url}/"),
        Some(url) => url.clone(),
        None => signal_url(config, "traces"),
    }
}

/// `{endpoint}/v1/{signal}` for the base OTLP endpoint.
pub(crate) fn signal_url(config: &Config, signal: &str) -> String {
    let base = config.telemetry.tracing.otlp_endpoint.trim_end_matches('/');
    format!("{base}/v1/{signal}")
}

/// A signal's name and its `Export*ServiceResponse` reader ([`Wire`] as values).
type WireFns = (
    &'static str,
    fn(&[u8]) -> Result<Option<PartialSuccess>, DecodeError>,
);

fn partial_success((name, read): WireFns, body: &[u8]) -> u64 {
    match read(body) {
        Ok(Some(partial)) => {
            if partial.rejected > 0 || !partial.error_message.is_empty() {
                log::warn!(
                    signal = name,
                    rejected = partial.rejected,
                    error_message = partial.error_message.as_str();
                    "OTLP collector accepted the batch partially"
                );
            }
            u64::try_from(partial.rejected).unwrap_or(0)
        }
        Ok(None) => 0,
        Err(_) => {
            log::debug!(
                signal = name;
                "OTLP response body is not an Export*ServiceResponse; treated as success"
            );
            0
        }
    }
}

/// `min(max, first · 2^attempt)` scaled by a jitter factor in [0.5, 1.5).
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_FIRST
        .saturating_mul(1u32 << attempt.min(10))
        .min(BACKOFF_MAX);
    let jitter = 0.5 + (super::context::new_span_id().0[0] as f64 / 256.0);
    base.mul_f64(jitter)
}

/// Reports a failing collector once, then at most every minute, and its recovery once;
/// each report is also a tracked (critical: a configured backend) error when a tracker is given.
#[derive(Default)]
struct FailureLog {
    failing_since: Option<Instant>,
    last_report: Option<Instant>,
    suppressed: u64,
    errors: Option<Arc<ErrorTracker>>,
}

impl FailureLog {
    fn failure<T: Signal>(&mut self, url: &str, items: u64, reason: &str) {
        let now = Instant::now();
        match self.last_report {
            Some(last) if now.duration_since(last) < FAILURE_LOG_EVERY => self.suppressed += 1,
            _ => {
                crate::logging::emit(
                    log::Level::Warn,
                    module_path!(),
                    format_args!("OTLP {} export failed; {} dropped", T::NAME, T::ITEMS),
                    &[
                        ("endpoint", url.into()),
                        (T::DROPPED, items.into()),
                        ("suppressed_reports", self.suppressed.into()),
                        ("reason", reason.into()),
                    ],
                );
                if let Some(errors) = &self.errors {
                    errors.track_error(
                        T::OPERATION,
                        crate::logging::BACKEND_ERROR,
                        reason,
                        &[("endpoint", url)],
                    );
                }
                self.last_report = Some(now);
                self.suppressed = 0;
            }
        }
        self.failing_since.get_or_insert(now);
    }

    fn success<T: Signal>(&mut self, url: &str) {
        if let Some(since) = self.failing_since.take() {
            log::info!(
                endpoint = url,
                failing_seconds = since.elapsed().as_secs_f64();
                "OTLP {} export recovered", T::NAME
            );
            self.last_report = None;
            self.suppressed = 0;
        }
    }
}

/// One span as a JSON object for the console exporter.
fn console_json(span: &SpanData) -> String {
    let attributes = |kvs: &[KeyValue]| {
        let mut map = Map::new();
        for kv in kvs {
            let value = match &kv.value {
                Value::Str(s) => json!(s),
                Value::Bool(b) => json!(b),
                Value::Int(i) => json!(i),
                Value::Double(d) => json!(d),
                Value::StrArray(items) => json!(items),
            };
            map.insert(kv.key.to_string(), value);
        }
        serde_json::Value::Object(map)
    };
    let events: Vec<serde_json::Value> = span
        .events
        .iter()
        .map(|e| json!({"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": attributes(&e.attributes)}))
        .collect();
    json!({
        "span": span.name,
        "trace_id": hex(&span.trace_id.0),
        "span_id": hex(&span.span_id.0),
        "parent_span_id": span.parent_span_id.map(|p| hex(&p.0)),
        "kind": format!("{:?}", span.kind).to_uppercase(),
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano,
        "duration_ms": (span.end_time_unix_nano.saturating_sub(span.start_time_unix_nano)) as f64 / 1e6,
        "attributes": attributes(&span.attributes),
        "events": events,
        "status": {
            "code": match span.status.code { StatusCode::Unset => "UNSET", StatusCode::Ok => "OK", StatusCode::Error => "ERROR" },
            "message": span.status.message,
        },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_of_encoded_spans_goes_out_in_requests_of_at_most_a_batch() {
        const NAMES: [&str; 10] = [
            "span-zero",
            "span-one",
            "span-two",
            "span-three",
            "span-four",
            "span-five",
            "span-six",
            "span-seven",
            "span-eight",
            "span-nine",
        ];
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", server.server_addr().to_ip().expect("ip"));
        let receiver = std::thread::spawn(move || {
            let mut per_request = Vec::new();
            while let Ok(Some(mut request)) = server.recv_timeout(Duration::from_secs(5)) {
                let mut body = Vec::new();
                let _ = std::io::Read::read_to_end(request.as_reader(), &mut body);
                let names = NAMES
                    .iter()
                    .filter(|n| {
                        body.windows(n.len() + 1)
                            .any(|w| w[1..] == *n.as_bytes() && w[0] == n.len() as u8)
                    })
                    .count();
                per_request.push(names);
                let _ = request.respond(tiny_http::Response::empty(200));
                if per_request.iter().sum::<usize>() == NAMES.len() {
                    break;
                }
            }
            per_request
        });
        let mut config = Config::default();
        config.telemetry.tracing.sampler = crate::config::SamplerKind::AlwaysOn;
        config.telemetry.tracing.otlp_endpoint = url;
        config.telemetry.tracing.max_export_batch_size = 3;
        config.telemetry.tracing.schedule_delay = Duration::from_secs(60);
        let telemetry = Telemetry::from_config(&config, None);
        for name in NAMES {
            telemetry
                .tracer
                .start_root(name, crate::telemetry::SpanKind::Internal, "x", None)
                .end();
        }
        telemetry.shutdown(Instant::now() + Duration::from_secs(10));
        let per_request = receiver.join().expect("receiver");
        assert_eq!(
            per_request.iter().sum::<usize>(),
            10,
            "every span, once: {per_request:?}"
        );
        assert!(
            per_request.iter().all(|&n| (1..=3).contains(&n)),
            "no request holds more than a batch: {per_request:?}"
        );
    }

    #[test]
    fn an_absurd_retry_after_is_capped_not_a_panic() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(mut tcp) = tcp else { return };
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf);
                let _ = tcp.write_all(
                    b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 10000000000000000000\r\n\
                      content-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        let otlp = Otlp::new(&Config::default(), format!("http://{addr}/v1/traces"));
        let (_stop_tx, stop) = sync_channel(1);
        let result = otlp.send::<SpanData>(
            b"",
            Instant::now() + Duration::from_secs(5),
            Some(&stop),
            &ExportStats::default(),
        );
        assert_eq!(
            result,
            Err("HTTP 429; no time left to retry".to_string()),
            "a wait of 10^19 s is not waited for, and does not overflow the clock"
        );
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..20 {
            let d = backoff(attempt);
            let base = BACKOFF_FIRST
                .saturating_mul(1 << attempt.min(10))
                .min(BACKOFF_MAX);
            assert!(
                d >= base.mul_f64(0.5) && d < base.mul_f64(1.5),
                "attempt {attempt}: {d:?}"
            );
        }
    }

    #[test]
    fn trace_url_follows_the_endpoint_rules() {
        let mut config = Config::default();
        let url = |c: &Config| trace_url(c);
        assert_eq!(url(&config), "http://localhost:4318/v1/traces");
        config.telemetry.tracing.otlp_endpoint = "http://c:4318/base".into();
        assert_eq!(
            url(&config),
            "http://c:4318/base/v1/traces",
            "base gets v1/traces appended"
        );
        config.telemetry.tracing.traces_endpoint = Some("http://c:4318".into());
        assert_eq!(
            url(&config),
            "http://c:4318/",
            "per-signal URL without path gets /"
        );
        config.telemetry.tracing.traces_endpoint = Some("https://c/custom/path".into());
        assert_eq!(
            url(&config),
            "https://c/custom/path",
            "per-signal URL used as-is"
        );
        assert_eq!(
            signal_url(&config, "metrics"),
            "http://c:4318/base/v1/metrics",
            "metrics always go to the base URL's /v1/metrics"
        );
    }
}
