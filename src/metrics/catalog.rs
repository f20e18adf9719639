//! The metric catalog: the spec's `MCPMetrics` with exactly its names, help texts,
//! label names and buckets, then our own families (slow requests, critical errors,
//! dropped log notifications, series overflow, the OTLP exporters, build info) and
//! the standard process metrics. `collect` walks them in this fixed order, which is
//! the order of `GET /metrics` and of the OTLP push.

use super::process::ProcessStats;
use super::registry::{Counter, Desc, Family, Gauge, Histogram, Kind, LabelValues};
use crate::telemetry::ExportStats;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// One reading of a series.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Point<'a> {
    /// A counter or gauge holding a whole number.
    Int(u64),
    /// A gauge that may be negative.
    Signed(i64),
    /// A counter or gauge holding a float.
    Float(f64),
    /// A histogram.
    Histogram(&'a Histogram),
}

/// Receives every series of the registry, family by family, in catalog order.
pub(crate) trait Visitor {
    fn sample(&mut self, desc: &'static Desc, labels: LabelValues<'_>, point: Point<'_>);
}

const fn desc(
    name: &'static str,
    help: &'static str,
    unit: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
    buckets: &'static [f64],
) -> Desc {
    Desc {
        name,
        help,
        unit,
        kind,
        labels,
        buckets,
    }
}

use Kind::{Counter as C, Gauge as G, Histogram as H};

// The spec's MCPMetrics, names, help texts, labels and buckets as written there.
static SESSIONS_ACTIVE: Desc = desc(
    "mcp_sessions_active",
    "Number of active MCP sessions",
    "{session}",
    G,
    &[],
    &[],
);
static SESSIONS_TOTAL: Desc = desc(
    "mcp_sessions_total",
    "Total number of MCP sessions created",
    "{session}",
    C,
    &[],
    &[],
);
static SESSION_DURATION: Desc = desc(
    "mcp_session_duration_seconds",
    "Duration of MCP sessions",
    "s",
    H,
    &[],
    &[1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0],
);
static TOOL_CALLS: Desc = desc(
    "mcp_tool_calls_total",
    "Total number of tool calls",
    "{call}",
    C,
    &["tool_name", "status"],
    &[],
);
static TOOL_DURATION: Desc = desc(
    "mcp_tool_call_duration_seconds",
    "Duration of tool calls",
    "s",
    H,
    &["tool_name"],
    &[0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0],
);
static CLAUDE_REQUESTS: Desc = desc(
    "claude_requests_total",
    "Total number of Claude API requests",
    "{request}",
    C,
    &["model", "status"],
    &[],
);
static CLAUDE_DURATION: Desc = desc(
    "claude_request_duration_seconds",
    "Duration of Claude API requests",
    "s",
    H,
    &["model"],
    &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0],
);
static CLAUDE_TOKENS: Desc = desc(
    "claude_tokens_total",
    "Total Claude API tokens used",
    "{token}",
    C,
    &["model", "type"],
    &[],
);
static MESSAGES: Desc = desc(
    "mcp_messages_total",
    "Total MCP messages processed",
    "{message}",
    C,
    &["method", "status"],
    &[],
);
/// The spec gives no buckets (prometheus_client's defaults are for seconds). Ours
/// go by powers of four from 64 bytes (a `ping`) to 4 MiB, the default longest
/// input line (`TELEMETRYFLOW_MCP_MAX_LINE_BYTES`); larger messages land in `+Inf`.
pub(crate) const MESSAGE_SIZE_BUCKETS: [f64; 9] = [
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
];
static MESSAGE_SIZE: Desc = desc(
    "mcp_message_size_bytes",
    "Size of MCP messages",
    "By",
    H,
    &["direction"],
    &MESSAGE_SIZE_BUCKETS,
);
/// `Direction as usize` indexes these.
const DIRECTIONS: [&[&str]; 2] = [&["request"], &["response"]];

// Our own families.
static SLOW_REQUESTS: Desc = desc(
    "mcp_slow_requests_total",
    "Requests slower than the slow-request threshold",
    "{request}",
    C,
    &["operation"],
    &[],
);
static CRITICAL_ERRORS: Desc = desc(
    "mcp_critical_errors_total",
    "Critical errors detected",
    "{error}",
    C,
    &["error_type"],
    &[],
);
static LOG_DROPPED: Desc = desc(
    "tfo_mcp_log_notifications_dropped_total",
    "Log notifications (notifications/message) dropped by the rate limit",
    "{notification}",
    C,
    &[],
    &[],
);
static LOG_RECORDS_DROPPED: Desc = desc(
    "tfo_mcp_log_records_dropped_total",
    "Log records dropped by the logger: writer queue full, client queue full, OTLP queue full or after shutdown",
    "{record}",
    C,
    &["reason"],
    &[],
);
static LOG_WRITE_ERRORS: Desc = desc(
    "tfo_mcp_log_write_errors_total",
    "Writes to the log output that failed (disk full, closed stderr)",
    "{error}",
    C,
    &[],
    &[],
);
static LOG_RECORDS_EXPORTED: Desc = desc(
    "tfo_mcp_otlp_log_records_exported_total",
    "Log records the OTLP collector accepted",
    "{record}",
    C,
    &[],
    &[],
);
static SERIES_OVERFLOW: Desc = desc(
    "tfo_mcp_metric_series_overflow_total",
    "Recordings folded into a family's overflow series because the family reached its series limit",
    "{recording}",
    C,
    &["metric"],
    &[],
);
static SPANS_EXPORTED: Desc = desc(
    "tfo_mcp_otlp_spans_exported_total",
    "Spans the OTLP receiver accepted",
    "{span}",
    C,
    &[],
    &[],
);
static SPANS_DROPPED: Desc = desc(
    "tfo_mcp_otlp_spans_dropped_total",
    "Spans dropped before export",
    "{span}",
    C,
    &["reason"],
    &[],
);
static SPANS_FAILED: Desc = desc(
    "tfo_mcp_otlp_spans_failed_total",
    "Spans whose export failed for good",
    "{span}",
    C,
    &[],
    &[],
);
static SPANS_REJECTED: Desc = desc(
    "tfo_mcp_otlp_spans_rejected_total",
    "Spans the OTLP receiver rejected in a partial success",
    "{span}",
    C,
    &[],
    &[],
);
static EXPORT_REQUESTS: Desc = desc(
    "tfo_mcp_otlp_export_requests_total",
    "OTLP trace export requests sent, retries included",
    "{request}",
    C,
    &[],
    &[],
);
static EXPORT_RETRIES: Desc = desc(
    "tfo_mcp_otlp_export_retries_total",
    "OTLP trace export retries after a retryable failure",
    "{retry}",
    C,
    &[],
    &[],
);
static EXPORT_SECONDS: Desc = desc(
    "tfo_mcp_otlp_export_duration_seconds_total",
    "Time spent exporting span batches",
    "s",
    C,
    &[],
    &[],
);
static METRIC_PUSHES: Desc = desc(
    "tfo_mcp_otlp_metric_pushes_total",
    "OTLP metric pushes by result",
    "{push}",
    C,
    &["result"],
    &[],
);
static BUILD_INFO: Desc = desc(
    "tfo_mcp_build_info",
    "Build of the running tfo-mcp binary; always 1",
    "1",
    G,
    &["version", "arch", "os", "profile"],
    &[],
);
const BUILD_LABELS: [&str; 4] = [
    env!("CARGO_PKG_VERSION"),
    std::env::consts::ARCH,
    std::env::consts::OS,
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    },
];

// The standard process metrics, canonical help texts.
static PROCESS_CPU: Desc = desc(
    "process_cpu_seconds_total",
    "Total user and system CPU time spent in seconds.",
    "s",
    C,
    &[],
    &[],
);
static PROCESS_RSS: Desc = desc(
    "process_resident_memory_bytes",
    "Resident memory size in bytes.",
    "By",
    G,
    &[],
    &[],
);
static PROCESS_START: Desc = desc(
    "process_start_time_seconds",
    "Start time of the process since unix epoch in seconds.",
    "s",
    G,
    &[],
    &[],
);
static PROCESS_FDS: Desc = desc(
    "process_open_fds",
    "Number of open file descriptors.",
    "{file_descriptor}",
    G,
    &[],
    &[],
);
static PROCESS_MAX_FDS: Desc = desc(
    "process_max_fds",
    "Maximum number of open file descriptors.",
    "{file_descriptor}",
    G,
    &[],
    &[],
);

/// The methods of the MCP revisions we speak that a client may send, and `other`,
/// sorted: the only values of `mcp_messages_total{method}`, whatever clients send.
pub(crate) const METHODS: [&str; 19] = [
    "completion/complete",
    "initialize",
    "logging/setLevel",
    "other",
    "ping",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/subscribe",
    "resources/templates/list",
    "resources/unsubscribe",
    "server/discover",
    "tasks/cancel",
    "tasks/get",
    "tasks/list",
    "tasks/result",
    "tools/call",
    "tools/list",
];
/// `mcp_messages_total{status}` values, sorted; `status == "success"` indexes them.
const STATUSES: [&str; 2] = ["error", "success"];

/// The index of `method` in [`METHODS`], `other` (3) for any other method. A
/// `match` compiles to a length switch and one comparison, cheaper than a search;
/// a test checks it against `METHODS`.
pub(crate) fn method_index(method: &str) -> usize {
    match method {
        "completion/complete" => 0,
        "initialize" => 1,
        "logging/setLevel" => 2,
        "ping" => 4,
        "prompts/get" => 5,
        "prompts/list" => 6,
        "resources/list" => 7,
        "resources/read" => 8,
        "resources/subscribe" => 9,
        "resources/templates/list" => 10,
        "resources/unsubscribe" => 11,
        "server/discover" => 12,
        "tasks/cancel" => 13,
        "tasks/get" => 14,
        "tasks/list" => 15,
        "tasks/result" => 16,
        "tools/call" => 17,
        "tools/list" => 18,
        _ => 3,
    }
}

const NO_LABELS: LabelValues<'static> = LabelValues::Static(&[]);

/// The registry's contents.
#[derive(Debug)]
pub(crate) struct Catalog {
    /// When the series started (process start): the OTLP start time of cumulative points.
    pub(crate) start_unix_nano: u64,
    pub(crate) sessions_active: Gauge,
    pub(crate) sessions_total: Counter,
    pub(crate) session_duration: Histogram,
    pub(crate) tool_calls: Family<Counter>,
    pub(crate) tool_duration: Family<Histogram>,
    pub(crate) claude_requests: Family<Counter>,
    pub(crate) claude_duration: Family<Histogram>,
    pub(crate) claude_tokens: Family<Counter>,
    /// `mcp_messages_total`, by [`METHODS`] and [`STATUSES`] index: a fixed
    /// table, so counting a message takes no lookup beyond the method's.
    pub(crate) messages: [[Counter; 2]; METHODS.len()],
    pub(crate) message_size: [Histogram; 2],
    pub(crate) slow_requests: Family<Counter>,
    pub(crate) critical_errors: Family<Counter>,
    pub(crate) log_notifications_dropped: Counter,
    pub(crate) trace_export: OnceLock<Arc<ExportStats>>,
    /// Successful and failed OTLP metric pushes.
    pub(crate) pushes: [Counter; 2],
}

impl Catalog {
    pub(crate) fn new(cap: usize) -> Catalog {
        Catalog {
            start_unix_nano: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            sessions_active: Gauge::default(),
            sessions_total: Counter::default(),
            session_duration: Histogram::new(SESSION_DURATION.buckets),
            tool_calls: Family::new(&TOOL_CALLS, cap),
            tool_duration: Family::new(&TOOL_DURATION, cap),
            claude_requests: Family::new(&CLAUDE_REQUESTS, cap),
            claude_duration: Family::new(&CLAUDE_DURATION, cap),
            claude_tokens: Family::new(&CLAUDE_TOKENS, cap),
            messages: Default::default(),
            message_size: [
                Histogram::new(&MESSAGE_SIZE_BUCKETS),
                Histogram::new(&MESSAGE_SIZE_BUCKETS),
            ],
            slow_requests: Family::new(&SLOW_REQUESTS, cap),
            critical_errors: Family::new(&CRITICAL_ERRORS, cap),
            log_notifications_dropped: Counter::default(),
            trace_export: OnceLock::new(),
            pushes: [Counter::default(), Counter::default()],
        }
    }

    /// Hands every series to `v`, family by family, in catalog order.
    pub(crate) fn collect(&self, v: &mut impl Visitor) {
        let int = |c: &Counter| Point::Int(c.get());
        v.sample(
            &SESSIONS_ACTIVE,
            NO_LABELS,
            Point::Signed(self.sessions_active.get()),
        );
        v.sample(&SESSIONS_TOTAL, NO_LABELS, int(&self.sessions_total));
        v.sample(
            &SESSION_DURATION,
            NO_LABELS,
            Point::Histogram(&self.session_duration),
        );
        let families: [&Family<Counter>; 3] =
            [&self.tool_calls, &self.claude_requests, &self.claude_tokens];
        let histograms: [&Family<Histogram>; 2] = [&self.tool_duration, &self.claude_duration];
        // Spec order: tool calls, tool duration, claude requests, claude duration, tokens.
        each_counter(v, families[0]);
        each_histogram(v, histograms[0]);
        each_counter(v, families[1]);
        each_histogram(v, histograms[1]);
        each_counter(v, families[2]);
        for (method, counters) in METHODS.iter().zip(&self.messages) {
            for (status, c) in STATUSES.iter().zip(counters) {
                // Like a family's series, a message series appears once recorded.
                if c.get() > 0 {
                    v.sample(&MESSAGES, LabelValues::Static(&[method, status]), int(c));
                }
            }
        }
        for (labels, h) in DIRECTIONS.iter().zip(&self.message_size) {
            v.sample(
                &MESSAGE_SIZE,
                LabelValues::Static(labels),
                Point::Histogram(h),
            );
        }
        each_counter(v, &self.slow_requests);
        each_counter(v, &self.critical_errors);
        v.sample(
            &LOG_DROPPED,
            NO_LABELS,
            int(&self.log_notifications_dropped),
        );
        // The logger is the one process-wide global (design.md); its counters are read here.
        let logs = crate::logging::stats();
        for (reason, n) in [
            ("writer_queue_full", logs.dropped),
            ("client_queue_full", logs.client_dropped),
            ("otlp", logs.otlp_dropped),
        ] {
            v.sample(
                &LOG_RECORDS_DROPPED,
                LabelValues::Static(&[reason]),
                Point::Int(n),
            );
        }
        v.sample(&LOG_WRITE_ERRORS, NO_LABELS, Point::Int(logs.write_errors));
        v.sample(
            &LOG_RECORDS_EXPORTED,
            NO_LABELS,
            Point::Int(logs.otlp_exported),
        );
        for family in [
            &self.tool_calls,
            &self.claude_requests,
            &self.claude_tokens,
            &self.slow_requests,
            &self.critical_errors,
        ] {
            overflow(v, family.desc.name, family.folded());
        }
        for family in [&self.tool_duration, &self.claude_duration] {
            overflow(v, family.desc.name, family.folded());
        }
        if let Some(s) = self.trace_export.get() {
            v.sample(&SPANS_EXPORTED, NO_LABELS, int(&s.exported));
            for (reason, c) in [
                ("queue_full", &s.dropped_queue_full),
                ("shutdown", &s.dropped_shutdown),
            ] {
                v.sample(&SPANS_DROPPED, LabelValues::Static(&[reason]), int(c));
            }
            v.sample(&SPANS_FAILED, NO_LABELS, int(&s.failed));
            v.sample(&SPANS_REJECTED, NO_LABELS, int(&s.rejected));
            v.sample(&EXPORT_REQUESTS, NO_LABELS, int(&s.requests));
            v.sample(&EXPORT_RETRIES, NO_LABELS, int(&s.retries));
            v.sample(
                &EXPORT_SECONDS,
                NO_LABELS,
                Point::Float(s.export_micros.get() as f64 / 1e6),
            );
        }
        if self.pushes.iter().any(|c| c.get() > 0) {
            for (result, c) in ["success", "failure"].iter().zip(&self.pushes) {
                v.sample(
                    &METRIC_PUSHES,
                    LabelValues::Static(std::slice::from_ref(result)),
                    int(c),
                );
            }
        }
        v.sample(
            &BUILD_INFO,
            LabelValues::Static(&BUILD_LABELS),
            Point::Int(1),
        );
        let p = ProcessStats::cached();
        let readings = [
            (&PROCESS_CPU, p.cpu_seconds.map(Point::Float)),
            (&PROCESS_RSS, p.resident_bytes.map(Point::Int)),
            (&PROCESS_START, p.start_time_seconds.map(Point::Float)),
            (&PROCESS_FDS, p.open_fds.map(Point::Int)),
            (&PROCESS_MAX_FDS, p.max_fds.map(Point::Int)),
        ];
        for (desc, point) in readings {
            if let Some(point) = point {
                v.sample(desc, NO_LABELS, point);
            }
        }
    }
}

fn each_counter(v: &mut impl Visitor, family: &Family<Counter>) {
    family.each(|labels, c| v.sample(family.desc, labels, Point::Int(c.get())));
}

fn each_histogram(v: &mut impl Visitor, family: &Family<Histogram>) {
    family.each(|labels, h| v.sample(family.desc, labels, Point::Histogram(h)));
}

fn overflow(v: &mut impl Visitor, metric: &'static str, folded: u64) {
    if folded > 0 {
        v.sample(
            &SERIES_OVERFLOW,
            LabelValues::Static(&[metric]),
            Point::Int(folded),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_index_agrees_with_the_sorted_method_list() {
        assert!(METHODS.is_sorted(), "rendering relies on the order");
        for (i, method) in METHODS.iter().enumerate() {
            assert_eq!(method_index(method), i, "{method}");
        }
        for unknown in [
            "",
            "tools",
            "tools/call2",
            "Tools/call",
            "notifications/initialized",
        ] {
            assert_eq!(METHODS[method_index(unknown)], "other", "{unknown}");
        }
    }
}
