//! The Claude Messages API: a small blocking client (ureq, rustls with bundled
//! roots, no SDK) with the SDKs' retry policy and typed errors, streaming via
//! server-sent events, the conversation store of the `claude_conversation` tool,
//! and [`send_message`], the traced, counted and logged call of the spec's
//! "Claude API Tracing".
//!
//! ```text
//!  executor task                           blocking thread (smol::unblock)
//!  send_message ── Call::start ──────────► Client::send_with_retry ─► attempt ─► HTTP
//!      ▲  span events, progress  ◄─ Progress (bounded channel) ─┘ retries, text deltas
//!      └─ dropped (cancelled): the channel and the cancel handle close; the thread
//!         stops at its next read, delta or backoff, its result is discarded
//! ```

mod client;
mod error;
mod observe;
mod retry;
mod sse;
mod store;
mod types;

pub use client::{API_VERSION, Client, Failure, GaveUp, Observer, Outcome, Retry};
pub use error::{ApiErrorType, Error};
pub use observe::send_message;
pub use store::{Limits, Refusal, Store};
pub use types::{Message, Request, Response, Role, ToolUse, Usage};

use crate::config::ClaudeConfig;
use smol::channel::{Receiver, Sender};
use std::cell::RefCell;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

/// Most progress items queued between the blocking thread and the executor; beyond
/// that the blocking thread waits (the executor forwards them as notifications).
const PROGRESS_QUEUE: usize = 64;

/// Whether `id` looks like a model id: 1 to 100 characters of `a-z A-Z 0-9 . - _ : @`.
/// Model ids are open-ended (new models appear), so this is a shape, never a list.
pub fn is_model_id(id: &str) -> bool {
    (1..=100).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:@".contains(&b))
}

/// What a server holds for Claude: the client and the conversations. Present in
/// `tools::Services` when an API key is configured.
#[derive(Debug)]
pub struct Claude {
    client: Arc<Client>,
    /// Conversations of `claude_conversation`.
    pub conversations: RefCell<Store>,
    /// Model when a call names none.
    pub default_model: String,
    /// `max_tokens` when a call gives none.
    pub default_max_tokens: u32,
}

impl Claude {
    /// The service for `config`; `None` without an API key.
    pub fn new(config: &ClaudeConfig) -> Option<Claude> {
        Some(Claude {
            client: Arc::new(Client::new(config)?),
            conversations: RefCell::new(Store::new(Limits {
                conversations: config.max_conversations,
                messages: config.max_turns,
                bytes: config.max_conversation_bytes,
                ttl: config.conversation_ttl,
            })),
            default_model: config.model.clone(),
            default_max_tokens: config.max_tokens,
        })
    }

    /// The client, shareable with other threads (the health checker calls
    /// [`Client::probe`] on it).
    pub fn client(&self) -> &Arc<Client> {
        &self.client
    }
}

/// What the blocking side of a call reports while it runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// A retry is about to be waited for.
    Retry(Retry),
    /// Streamed answer text.
    Text(String),
}

/// A call running on a blocking thread. Dropping it abandons the call: the thread
/// notices at its next step and its result is thrown away.
#[derive(Debug)]
pub struct Call {
    progress: Receiver<Progress>,
    task: crate::blocking::Unblocked<Result<Outcome, Box<Failure>>>,
    /// Dropped with the call: ends a backoff wait at once.
    _cancel: mpsc::Sender<()>,
}

impl Call {
    /// Starts `request` on a blocking thread with the client's deadline.
    pub fn start(client: &Arc<Client>, request: Request) -> Call {
        let (tx, progress) = smol::channel::bounded(PROGRESS_QUEUE);
        let (cancel, cancelled) = mpsc::channel();
        let client = Arc::clone(client);
        let deadline = client.deadline();
        let task = crate::blocking::unblock(move || {
            let mut observer = ChannelObserver { tx, cancelled };
            client.send_with_retry(&request, deadline, &mut observer)
        });
        Call {
            progress,
            task,
            _cancel: cancel,
        }
    }

    /// The next progress item; `None` once the call has finished.
    pub async fn next(&self) -> Option<Progress> {
        self.progress.recv().await.ok()
    }

    /// A progress item already waiting, if any.
    pub fn try_next(&self) -> Option<Progress> {
        self.progress.try_recv().ok()
    }

    /// The result (after [`Call::next`] returned `None`).
    pub async fn finish(self) -> Result<Outcome, Box<Failure>> {
        self.task.await
    }
}

/// The blocking side's end of a [`Call`].
struct ChannelObserver {
    tx: Sender<Progress>,
    cancelled: mpsc::Receiver<()>,
}

impl Observer for ChannelObserver {
    fn retrying(&mut self, retry: &Retry) {
        let _ = self.tx.send_blocking(Progress::Retry(retry.clone()));
    }

    fn text(&mut self, delta: &str) -> bool {
        self.tx
            .send_blocking(Progress::Text(delta.to_string()))
            .is_ok()
    }

    fn wait(&mut self, wait: Duration) -> bool {
        // The sender is never used: only its drop (the call abandoned) ends the wait early.
        match self.cancelled.recv_timeout(wait) {
            Err(mpsc::RecvTimeoutError::Timeout) => !self.abandoned(),
            _ => false,
        }
    }

    fn abandoned(&self) -> bool {
        self.tx.is_closed()
            || matches!(
                self.cancelled.try_recv(),
                Err(mpsc::TryRecvError::Disconnected)
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_a_shape_not_a_list() {
        for ok in [
            "claude-sonnet-5-5",
            "claude-haiku-4-5-20251001",
            "anthropic.claude-v2:1",
            "a",
        ] {
            assert!(is_model_id(ok), "{ok}");
        }
        for bad in ["", "claude sonnet", "claude\n", &"x".repeat(101), "clåude"] {
            assert!(!is_model_id(bad), "{bad:?}");
        }
    }

    /// A call dropped while it waits to retry stops there: the server sees no retry,
    /// so an abandoned call's thread is bounded by its next step, not its deadline.
    #[test]
    fn a_dropped_call_stops_at_its_next_step() {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", server.server_addr().to_ip().expect("ip"));
        let (seen_tx, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let _ = seen_tx.send(());
                let busy = tiny_http::Response::from_string(
                    r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
                )
                .with_status_code(429)
                .with_header(tiny_http::Header::from_bytes("retry-after", "1").expect("header"));
                let _ = request.respond(busy);
            }
        });
        let config = ClaudeConfig {
            api_key: Some(crate::config::Secret::new("k")),
            base_url: url,
            max_retries: 5,
            ..crate::config::Config::default().claude
        };
        let client = Arc::new(Client::new(&config).expect("key"));
        let request = Request {
            model: "m".into(),
            max_tokens: 1,
            messages: vec![Message::text(Role::User, "hi")],
            system: None,
            temperature: None,
            tools: Vec::new(),
            stream: false,
        };
        let call = Call::start(&client, request);
        smol::block_on(async {
            match call.next().await {
                Some(Progress::Retry(retry)) => assert_eq!(retry.wait, Duration::from_secs(1)),
                other => panic!("expected a retry, got {other:?}"),
            }
        });
        seen.recv_timeout(Duration::from_secs(5))
            .expect("the first attempt");
        drop(call);
        assert!(
            seen.recv_timeout(Duration::from_millis(2500)).is_err(),
            "no retry after the call was dropped"
        );
    }
}
