//! Metrics records outside the request-completion path (`outcome.rs` counts every
//! answered request): lines that were not requests, and the tool call record, which
//! counts a call however it ends (result, refusal, panic, cancellation).

use crate::metrics::Metrics;
use crate::tools::Services;
use std::sync::Arc;
use std::time::Instant;

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
