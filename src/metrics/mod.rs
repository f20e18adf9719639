//! Metrics: the spec's `MCPMetrics` catalog behind the `MetricsRecorder` API the
//! rest of the code records through, the process, build and exporter metrics, and
//! their two views: the Prometheus text format (`GET /metrics`) and OTLP metrics
//! (the periodic push).
//!
//! Every `record_*` method is cheap: a disabled registry is one branch, and
//! recording into a series that exists allocates nothing (see `registry`).

mod catalog;
mod process;
mod prometheus;
mod push;
mod registry;

pub use prometheus::{CONTENT_TYPE_OPENMETRICS, CONTENT_TYPE_TEXT, Format};
pub use push::MetricsPush;

use crate::config::Config;
use crate::telemetry::ExportStats;
use catalog::Catalog;
use std::sync::Arc;

/// Which way an MCP message went (`mcp_message_size_bytes{direction}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A message from the client (`request`).
    Request,
    /// A message to the client (`response`): responses and the server's notifications.
    Response,
}

/// Series a labelled family holds before new label sets fold into its overflow series.
pub const DEFAULT_MAX_SERIES: usize = 1000;

/// The process's metrics; shared (`Arc`) between the executor, the export thread
/// and the HTTP endpoint.
#[derive(Debug, Default)]
pub struct Metrics {
    /// `None`: metrics are off and every method returns at once.
    catalog: Option<Box<Catalog>>,
}

impl Metrics {
    /// Metrics that record nothing (`metrics.enabled=false`, `tfo-mcp info`, tests).
    pub fn disabled() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    /// A recording registry whose labelled families hold at most `max_series` series each.
    pub fn new(max_series: usize) -> Arc<Metrics> {
        Arc::new(Metrics {
            catalog: Some(Box::new(Catalog::new(max_series.max(1)))),
        })
    }

    /// As configured: off when telemetry or metrics are disabled.
    pub fn from_config(config: &Config) -> Arc<Metrics> {
        let t = &config.telemetry;
        if t.enabled && t.metrics.enabled {
            Metrics::new(t.metrics.max_series)
        } else {
            Metrics::disabled()
        }
    }

    /// Whether this registry records anything.
    pub fn is_enabled(&self) -> bool {
        self.catalog.is_some()
    }

    /// `mcp_sessions_total` +1, `mcp_sessions_active` +1.
    pub fn record_session_created(&self) {
        if let Some(c) = &self.catalog {
            c.sessions_total.inc();
            c.sessions_active.add(1);
        }
    }

    /// `mcp_sessions_active` -1, `mcp_session_duration_seconds` observes `duration_seconds`.
    pub fn record_session_closed(&self, duration_seconds: f64) {
        if let Some(c) = &self.catalog {
            c.sessions_active.add(-1);
            c.session_duration.observe(duration_seconds);
        }
    }

    /// `mcp_tool_calls_total{tool_name,status}` and `mcp_tool_call_duration_seconds{tool_name}`.
    pub fn record_tool_call(&self, tool_name: &str, duration_seconds: f64, error: bool) {
        if let Some(c) = &self.catalog {
            c.tool_calls.with(&[tool_name, status(error)], |s| s.inc());
            c.tool_duration
                .with(&[tool_name], |h| h.observe(duration_seconds));
        }
    }

    /// `claude_requests_total{model,status}`, `claude_request_duration_seconds{model}`,
    /// `claude_tokens_total{model,type=input|output}`.
    pub fn record_claude_request(
        &self,
        model: &str,
        duration_seconds: f64,
        input_tokens: u64,
        output_tokens: u64,
        error: bool,
    ) {
        if let Some(c) = &self.catalog {
            c.claude_requests.with(&[model, status(error)], |s| s.inc());
            c.claude_duration
                .with(&[model], |h| h.observe(duration_seconds));
            c.claude_tokens
                .with(&[model, "input"], |s| s.add(input_tokens));
            c.claude_tokens
                .with(&[model, "output"], |s| s.add(output_tokens));
        }
    }

    /// `mcp_messages_total{method,status}`; `status` is `success` or `error`.
    /// Methods outside the MCP method set count as `other`, so that clients cannot
    /// grow the label set.
    pub fn record_message(&self, method: &str, status: &str) {
        if let Some(c) = &self.catalog {
            c.messages[catalog::method_index(method)][usize::from(status == "success")].inc();
        }
    }

    /// `mcp_message_size_bytes{direction}` observes `bytes`.
    pub fn record_message_size(&self, direction: Direction, bytes: usize) {
        if let Some(c) = &self.catalog {
            c.message_size[direction as usize].observe(bytes as f64);
        }
    }

    /// A request slower than the slow-request threshold (issue 5's `PerformanceMonitor`):
    /// `mcp_slow_requests_total{operation}`. A method this server does not serve
    /// counts as `other`, as in `mcp_messages_total`: no client text becomes a label.
    pub fn record_slow_request(&self, operation: &str) {
        if let Some(c) = &self.catalog {
            let label = catalog::METHODS[catalog::method_index(operation)];
            c.slow_requests.with(&[label], |s| s.inc());
        }
    }

    /// A critical error (issue 5's `ErrorTracker`): `mcp_critical_errors_total{error_type}`.
    pub fn record_critical_error(&self, error_type: &str) {
        if let Some(c) = &self.catalog {
            c.critical_errors.with(&[error_type], |s| s.inc());
        }
    }

    /// A `notifications/message` the rate limit dropped:
    /// `tfo_mcp_log_notifications_dropped_total`.
    pub fn record_log_notification_dropped(&self) {
        if let Some(c) = &self.catalog {
            c.log_notifications_dropped.inc();
        }
    }

    /// Reports the trace exporter's counters as `tfo_mcp_otlp_*` metrics from now on.
    pub fn attach_trace_export(&self, stats: Arc<ExportStats>) {
        if let Some(c) = &self.catalog {
            let _ = c.trace_export.set(stats);
        }
    }

    /// The whole registry in the text format `format` (a `GET /metrics` body).
    pub fn render(&self, format: Format) -> String {
        let mut out = String::with_capacity(16 * 1024);
        if let Some(c) = &self.catalog {
            c.collect(&mut prometheus::Writer::new(&mut out, format));
        }
        prometheus::finish(&mut out, format);
        out
    }

    /// The whole registry as cumulative OTLP metrics (the push's payload).
    pub fn otlp_metrics(&self) -> Vec<crate::otlp::Metric> {
        match &self.catalog {
            Some(c) => push::snapshot(c),
            None => Vec::new(),
        }
    }

    /// One OTLP metrics push ended (`tfo_mcp_otlp_metric_pushes_total{result}`).
    pub(crate) fn record_push(&self, ok: bool) {
        if let Some(c) = &self.catalog {
            c.pushes[usize::from(!ok)].inc();
        }
    }
}

fn status(error: bool) -> &'static str {
    if error { "error" } else { "success" }
}

#[cfg(test)]
mod tests;
