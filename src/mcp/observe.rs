//! What the server records when a request completes, in one place: both answer
//! paths (inline replies in `dispatch::accept`, task answers in `Server::run`)
//! call [`request_completed`] exactly once per answered request. Also the tool
//! call record, which counts a call however it ends (result, refusal, panic,
//! cancellation).

use super::Answer;
use crate::metrics::Metrics;
use crate::tools::Services;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// A request was answered: `mcp_messages_total{method,status}`. A result with
/// `isError: true` counts as an error, as its span does.
pub(super) fn request_completed(services: &Services, method: &str, answer: &Answer) {
    let error = match answer {
        Ok(result) => result.get("isError") == Some(&Value::Bool(true)),
        Err(_) => true,
    };
    services
        .obs
        .metrics
        .record_message(method, if error { "error" } else { "success" });
}

/// A line that was not a request was answered with an error (parse error, invalid
/// request, refused batch, oversized line): counted under method `other`.
pub(super) fn invalid_message_answered(services: &Services) {
    services.obs.metrics.record_message("", "error");
}

/// One `tools/call` of a registered tool, recorded when it finishes; dropped
/// unfinished (the handler panicked or the request was cancelled) it counts as an error.
pub(super) struct ToolCall {
    metrics: Arc<Metrics>,
    name: &'static str,
    started: Instant,
    done: bool,
}

impl ToolCall {
    pub(super) fn start(metrics: &Arc<Metrics>, name: &'static str) -> ToolCall {
        ToolCall {
            metrics: Arc::clone(metrics),
            name,
            started: Instant::now(),
            done: false,
        }
    }

    pub(super) fn finish(mut self, error: bool) {
        self.record(error);
    }

    fn record(&mut self, error: bool) {
        if !self.done {
            self.done = true;
            let secs = self.started.elapsed().as_secs_f64();
            self.metrics.record_tool_call(self.name, secs, error);
        }
    }
}

impl Drop for ToolCall {
    fn drop(&mut self) {
        self.record(true);
    }
}
