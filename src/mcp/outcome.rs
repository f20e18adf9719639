//! What the end of every answered request reports: the
//! `mcp_messages_total{method,status}` count (issue 4), the tracked error of a
//! failure, the slow-request check (issue 5), the span's outcome, and then the
//! completion record and the span's end ([`Completion`]), which a single request's
//! task leaves until its answer is written. One function, deciding once whether the
//! answer failed, called exactly once per answered request for inline replies
//! (`dispatch::accept`) and task answers (`Server::run`) alike, inside the request's
//! log context.

use super::{Answer, Server, dispatch};
use crate::jsonrpc;
use crate::logging::LogContext;
use crate::telemetry::Span;
use serde_json::Value;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What an answer that is a tool's `isError: true` result is reported as; its
/// content is never logged (it may hold file contents or command output).
const TOOL_ERROR: &str = "the tool reported an error (isError: true)";

/// The part of a request's end that can wait until its answer is written: its
/// "MCP request completed" / "MCP request failed" record and the end of its span
/// (which encodes it), or the encoding of a child span whose end time is already
/// fixed (a tool's). The counts, the tracked error and the slow-request check come
/// before the answer, so that a client that reads `/metrics` right after an answer
/// sees it counted.
#[derive(Debug)]
pub(crate) enum Completion {
    /// A request's record and span.
    Request {
        method: String,
        elapsed: Duration,
        failure: Option<String>,
        span: Span,
        log_context: Option<Arc<LogContext>>,
    },
    /// A span stopped ([`Span::stop`]) and not yet ended.
    Span(Span),
}

impl Completion {
    /// Writes the record (in the request's log context) and ends the span.
    pub(crate) fn complete(self) {
        match self {
            Completion::Request {
                method,
                elapsed,
                failure,
                span,
                log_context,
            } => {
                crate::logging::scope(log_context.as_ref(), || {
                    crate::logging::request_finished(&method, elapsed, failure.as_deref());
                });
                span.end();
            }
            Completion::Span(span) => span.end(),
        }
    }
}

impl Server {
    /// Counts the answer in `mcp_messages_total` (a result with `isError: true` is an
    /// error, as its span is), tracks a failure (`ErrorTracker::track_error`), flags
    /// the request when it was slow (`PerformanceMonitor`) and sets the span's
    /// outcome; what is left ("MCP request completed" or "MCP request failed" for
    /// `method`, and the span's end) is returned to be done now or once the answer is
    /// written. Runs inside the request's log context.
    pub(super) fn request_outcome(
        &self,
        method: &str,
        started: Instant,
        answer: &Answer,
        mut span: Span,
        log_context: Option<Arc<LogContext>>,
    ) -> Completion {
        let elapsed = started.elapsed();
        let obs = &self.services.obs;
        // A client-chosen method name is clipped before it is written anywhere; the
        // metrics map it onto their fixed method table themselves.
        let raw_method = method;
        let method = jsonrpc::clip(method);
        let failure = match answer {
            Ok(result) if result.get("isError") == Some(&Value::Bool(true)) => {
                Some(("ToolError", Cow::Borrowed(TOOL_ERROR)))
            }
            Ok(_) => None,
            Err(e) => Some((
                dispatch::error_type(e.code),
                dispatch::error_text(&e.message),
            )),
        };
        let status = if failure.is_some() {
            "error"
        } else {
            "success"
        };
        obs.metrics.record_message(raw_method, status);
        if let Some((error_type, message)) = &failure {
            obs.errors.track_error(&method, error_type, message, &[]);
        }
        self.services
            .performance
            .observe(&method, elapsed, &mut span, &obs.metrics);
        dispatch::finish_request_span(&mut span, answer);
        // The span ends with its answer, though it is encoded once the answer is
        // written (after a pipelined burst, that can be much later).
        span.stop();
        Completion::Request {
            method,
            elapsed,
            failure: failure.map(|(_, message)| message.into_owned()),
            span,
            log_context,
        }
    }
}
