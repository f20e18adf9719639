//! What the end of every answered request reports besides its span: the
//! `mcp_messages_total{method,status}` count (issue 4), the completion record, the
//! tracked error of a failure and the slow-request check (issue 5). One function,
//! deciding once whether the answer failed, called exactly once per answered request
//! for inline replies (`dispatch::accept`) and task answers (`Server::run`) alike,
//! inside the request's log context.

use super::{Answer, Server, dispatch};
use crate::jsonrpc;
use crate::telemetry::Span;
use serde_json::Value;
use std::time::Instant;

/// What an answer that is a tool's `isError: true` result is reported as; its
/// content is never logged (it may hold file contents or command output).
const TOOL_ERROR: &str = "the tool reported an error (isError: true)";

impl Server {
    /// Counts the answer in `mcp_messages_total` (a result with `isError: true` is an
    /// error, as its span is), logs "MCP request completed" or "MCP request failed"
    /// for `method`, tracks a failure (`ErrorTracker::track_error`) and flags the
    /// request when it was slow (`PerformanceMonitor`), before its span ends.
    pub(super) fn request_outcome(
        &self,
        method: &str,
        started: Instant,
        answer: &Answer,
        span: &mut Span,
    ) {
        let elapsed = started.elapsed();
        let obs = &self.services.obs;
        // A client-chosen method name is clipped before it is written anywhere; the
        // metrics map it onto their fixed method table themselves.
        let raw_method = method;
        let method = jsonrpc::clip(method);
        let failure = match answer {
            Ok(result) if result.get("isError") == Some(&Value::Bool(true)) => {
                Some(("ToolError", TOOL_ERROR))
            }
            Ok(_) => None,
            Err(e) => Some((dispatch::error_type(e.code), e.message.as_str())),
        };
        let status = if failure.is_some() {
            "error"
        } else {
            "success"
        };
        obs.metrics.record_message(raw_method, status);
        crate::logging::request_finished(&method, elapsed, failure.map(|(_, message)| message));
        if let Some((error_type, message)) = failure {
            obs.errors.track_error(&method, error_type, message, &[]);
        }
        self.services
            .performance
            .observe(&method, elapsed, span, &obs.metrics);
    }
}
