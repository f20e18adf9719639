//! Metrics: the spec's `MCPMetrics` catalog and `MetricsRecorder` API.
//!
//! CONTRACT (issue 4 fills in the registry behind it): the rest of the code records
//! through these methods only, from the real code paths. Every method is cheap and
//! never blocks or allocates once a series exists.

/// Which way an MCP message went (`mcp_message_size_bytes{direction}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A message from the client (`request`).
    Request,
    /// A message to the client (`response`).
    Response,
}

/// The process's metrics; shared (`Arc`) between the executor, the export thread
/// and the HTTP endpoint.
#[derive(Debug, Default)]
pub struct Metrics {}

impl Metrics {
    /// Metrics that record nothing (`metrics.enabled=false`, `tfo-mcp info`, tests).
    pub fn disabled() -> std::sync::Arc<Metrics> {
        std::sync::Arc::new(Metrics::default())
    }

    /// `mcp_sessions_total` +1, `mcp_sessions_active` +1.
    pub fn record_session_created(&self) {}

    /// `mcp_sessions_active` -1, `mcp_session_duration_seconds` observes `duration_seconds`.
    pub fn record_session_closed(&self, duration_seconds: f64) {
        let _ = duration_seconds;
    }

    /// `mcp_tool_calls_total{tool_name,status}` and `mcp_tool_call_duration_seconds{tool_name}`.
    pub fn record_tool_call(&self, tool_name: &str, duration_seconds: f64, error: bool) {
        let _ = (tool_name, duration_seconds, error);
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
        let _ = (model, duration_seconds, input_tokens, output_tokens, error);
    }

    /// `mcp_messages_total{method,status}`; `status` is `success` or `error`.
    pub fn record_message(&self, method: &str, status: &str) {
        let _ = (method, status);
    }

    /// `mcp_message_size_bytes{direction}` observes `bytes`.
    pub fn record_message_size(&self, direction: Direction, bytes: usize) {
        let _ = (direction, bytes);
    }

    /// A request slower than the slow-request threshold (issue 5's `PerformanceMonitor`).
    pub fn record_slow_request(&self, operation: &str) {
        let _ = operation;
    }

    /// A critical error (issue 5's `ErrorTracker`).
    pub fn record_critical_error(&self, error_type: &str) {
        let _ = error_type;
    }
}
