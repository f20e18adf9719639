//! `KEYS`, the table of every configuration key: its names, default, allowed values and
//! description, and how its value is parsed into and printed from a `Config`. Loading,
//! `effective()`, `template()` and the README table all read it.

use std::net::IpAddr;
use std::path::PathBuf;

use super::values::{
    Bad, boolean, choice, headers, integer, later_wins, millis, name_of, operation_rates, pairs,
    rate, show_ms, show_pairs, show_secret_pairs, size, text, url,
};
use super::{
    Config, LogFormat, LogLevel, LogOutput, MetricsExporters, REDACTED, SamplerKind, Secret,
    TraceExporter,
};

/// One configuration key: the single source for loading, `effective()`, `template()` and
/// the README table.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// The name, in the environment, the config file and `--set`.
    pub name: &'static str,
    /// The standard OpenTelemetry variable read when `name` is absent from the same layer.
    pub fallback: Option<&'static str>,
    /// The default, written as it would be in the config file.
    pub default: &'static str,
    /// What values are allowed; also the "expected ..." part of error messages.
    pub allowed: &'static str,
    /// What the key does.
    pub description: &'static str,
    /// Whether the value is a secret, redacted in output.
    pub secret: bool,
    /// Heading the key is listed under: telemetry, tracing, metrics, logging, server or claude.
    pub section: &'static str,
    /// Parses a value into the config; the flag says it came through `fallback`.
    pub(super) set: fn(&mut Config, &str, bool) -> Result<(), Bad>,
    /// Formats the current value as it would be written in the config file.
    pub(super) show: fn(&Config) -> String,
}

const BOOL: &str = "true or false (also 1/0, yes/no, on/off; any case)";
const NON_EMPTY: &str = "a non-empty string";
const RATE: &str = "a number from 0.0 to 1.0";
const PAIRS: &str = "comma-separated key=value pairs, values percent-encoded";
const MS: &str = "an integer from 1 to 600000 (milliseconds)";
const BSP_SIZE: &str = "an integer from 1 to 1048576";
const URL: &str = "an http:// or https:// URL";

pub(super) const SAMPLERS: &[(&str, SamplerKind)] = &[
    ("always_on", SamplerKind::AlwaysOn),
    ("always_off", SamplerKind::AlwaysOff),
    ("traceidratio", SamplerKind::TraceIdRatio),
    ("parentbased_always_on", SamplerKind::ParentBasedAlwaysOn),
    ("parentbased_always_off", SamplerKind::ParentBasedAlwaysOff),
    (
        "parentbased_traceidratio",
        SamplerKind::ParentBasedTraceIdRatio,
    ),
];
const TRACE_EXPORTERS: &[(&str, TraceExporter)] = &[
    ("otlp", TraceExporter::Otlp),
    ("console", TraceExporter::Console),
    ("none", TraceExporter::None),
];
/// Names of the metrics exporters, in the order `show` lists them.
const METRICS_EXPORTERS: &[&str] = &["prometheus", "otlp", "console"];

/// `prometheus`, `otlp`, `console` or a comma-separated combination (any case, at least one).
fn metrics_exporters(v: &str) -> Result<MetricsExporters, Bad> {
    let mut set = MetricsExporters::default();
    for name in v.split(',').map(str::trim) {
        let flag = match name.to_ascii_lowercase().as_str() {
            "prometheus" => &mut set.prometheus,
            "otlp" => &mut set.otlp,
            "console" => &mut set.console,
            _ => return Err(Bad),
        };
        *flag = true;
    }
    Ok(set)
}

fn show_metrics_exporters(set: MetricsExporters) -> String {
    let on = [set.prometheus, set.otlp, set.console];
    let names: Vec<&str> = METRICS_EXPORTERS
        .iter()
        .zip(on)
        .filter_map(|(name, on)| on.then_some(*name))
        .collect();
    names.join(",")
}
const LOG_LEVELS: &[(&str, LogLevel)] = &[
    ("TRACE", LogLevel::Trace),
    ("DEBUG", LogLevel::Debug),
    ("INFO", LogLevel::Info),
    ("WARNING", LogLevel::Warning),
    ("WARN", LogLevel::Warning),
    ("ERROR", LogLevel::Error),
    ("CRITICAL", LogLevel::Critical),
];
const LOG_FORMATS: &[(&str, LogFormat)] =
    &[("json", LogFormat::Json), ("console", LogFormat::Console)];

/// A model id, as the Claude client accepts it (open-ended, never an enum).
fn model_id(v: &str) -> Result<String, Bad> {
    if crate::claude::is_model_id(v) {
        Ok(v.to_string())
    } else {
        Err(Bad)
    }
}

/// Every configuration key, in the order `effective()`, `template()` and the README list them.
pub const KEYS: &[Key] = &[
    Key {
        name: "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
        fallback: Some("OTEL_SDK_DISABLED"),
        default: "true",
        allowed: BOOL,
        description: "Collect and export telemetry (traces and metrics). \
                      OTEL_SDK_DISABLED=true also turns it off.",
        secret: false,
        section: "telemetry",
        // OTEL_SDK_DISABLED says the opposite of our name.
        set: |c, v, via_fallback| {
            c.telemetry.enabled = boolean(v)? != via_fallback;
            Ok(())
        },
        show: |c| c.telemetry.enabled.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
        fallback: Some("OTEL_SERVICE_NAME"),
        default: "telemetryflow-mcp",
        allowed: NON_EMPTY,
        description: "service.name of every span and metric.",
        secret: false,
        section: "telemetry",
        set: |c, v, _| {
            c.telemetry.service_name = text(v)?;
            Ok(())
        },
        show: |c| c.telemetry.service_name.clone(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_VERSION",
        fallback: None,
        default: env!("CARGO_PKG_VERSION"),
        allowed: NON_EMPTY,
        description: "service.version of every span and metric; defaults to this build's version.",
        secret: false,
        section: "telemetry",
        set: |c, v, _| {
            c.telemetry.service_version = text(v)?;
            Ok(())
        },
        show: |c| c.telemetry.service_version.clone(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
        fallback: None,
        default: "development",
        allowed: NON_EMPTY,
        description: "Deployment environment (development, staging, production, ...), \
                      sent as a resource attribute.",
        secret: false,
        section: "telemetry",
        set: |c, v, _| {
            c.telemetry.environment = text(v)?;
            Ok(())
        },
        show: |c| c.telemetry.environment.clone(),
    },
    Key {
        name: "OTEL_RESOURCE_ATTRIBUTES",
        fallback: None,
        default: "",
        allowed: PAIRS,
        description: "Extra resource attributes on every span and metric, \
                      e.g. service.namespace=tools,host.name=ci-7.",
        secret: false,
        section: "telemetry",
        set: |c, v, _| {
            c.telemetry.resource_attributes = later_wins(pairs(v)?);
            Ok(())
        },
        show: |c| show_pairs(&c.telemetry.resource_attributes),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_TRACING_ENABLED",
        fallback: None,
        default: "true",
        allowed: BOOL,
        description: "Record spans.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.enabled = boolean(v)?;
            Ok(())
        },
        show: |c| c.telemetry.tracing.enabled.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
        fallback: Some("OTEL_TRACES_SAMPLER_ARG"),
        default: "1.0",
        allowed: RATE,
        description: "Fraction of traces kept by the traceidratio samplers, decided on the trace id.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.sample_rate = rate(v)?;
            Ok(())
        },
        show: |c| format!("{:?}", c.telemetry.tracing.sample_rate),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_TRACING_SAMPLER",
        fallback: Some("OTEL_TRACES_SAMPLER"),
        default: "parentbased_traceidratio",
        allowed: "one of always_on, always_off, traceidratio, parentbased_always_on, \
                  parentbased_always_off, parentbased_traceidratio",
        description: "Sampling rule. The parentbased_* samplers follow the sampled flag of a \
                      traceparent sent by the client; the others ignore it.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.sampler = choice(v, SAMPLERS)?;
            Ok(())
        },
        show: |c| name_of(c.telemetry.tracing.sampler, SAMPLERS).to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES",
        fallback: None,
        default: "",
        allowed: "comma-separated operation=rate pairs, each rate from 0.0 to 1.0",
        description: "Sample rates per MCP method, replacing the sample rate for that method, \
                      e.g. tools/call=0.5,ping=0.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.operation_rates = later_wins(operation_rates(v)?);
            Ok(())
        },
        show: |c| {
            let rates = &c.telemetry.tracing.operation_rates;
            let items: Vec<String> = rates.iter().map(|(op, r)| format!("{op}={r:?}")).collect();
            items.join(",")
        },
    },
    Key {
        name: "TELEMETRYFLOW_MCP_TRACING_EXPORTER",
        fallback: None,
        default: "otlp",
        allowed: "one of otlp, console, none",
        description: "Where spans go: OTLP/HTTP, one JSON line per span on the log output, or nowhere.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.exporter = choice(v, TRACE_EXPORTERS)?;
            Ok(())
        },
        show: |c| name_of(c.telemetry.tracing.exporter, TRACE_EXPORTERS).to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_OTLP_ENDPOINT",
        fallback: Some("OTEL_EXPORTER_OTLP_ENDPOINT"),
        default: "http://localhost:4318",
        allowed: URL,
        description: "Base URL of the OTLP/HTTP receiver; /v1/traces and /v1/metrics are appended. \
                      Port 4318 is OTLP/HTTP (the spec's 4317 is OTLP/gRPC, which this exporter \
                      does not speak).",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.otlp_endpoint = url(v)?.trim_end_matches('/').to_string();
            Ok(())
        },
        show: |c| c.telemetry.tracing.otlp_endpoint.clone(),
    },
    Key {
        name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        fallback: None,
        default: "",
        allowed: "empty or an http:// or https:// URL",
        description: "Full URL for spans, used as-is instead of the base endpoint plus /v1/traces.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.traces_endpoint = match v {
                "" => None,
                v => Some(url(v)?.to_string()),
            };
            Ok(())
        },
        show: |c| {
            c.telemetry
                .tracing
                .traces_endpoint
                .clone()
                .unwrap_or_default()
        },
    },
    Key {
        name: "TELEMETRYFLOW_MCP_OTLP_HEADERS",
        fallback: Some("OTEL_EXPORTER_OTLP_HEADERS"),
        default: "",
        allowed: "comma-separated name=value pairs, names HTTP header names, \
                  values percent-encoded",
        description: "HTTP headers sent with every OTLP request, e.g. authorization=Bearer%20abc. \
                      The values are secrets: shown as [REDACTED].",
        secret: true,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.otlp_headers = headers(v)?
                .into_iter()
                .map(|(name, value)| (name, Secret::new(value)))
                .collect();
            Ok(())
        },
        show: |c| show_secret_pairs(&c.telemetry.tracing.otlp_headers),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_OTLP_TIMEOUT_MS",
        fallback: Some("OTEL_EXPORTER_OTLP_TIMEOUT"),
        default: "10000",
        allowed: MS,
        description: "Timeout of one OTLP HTTP request.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.otlp_timeout = millis(v, 1)?;
            Ok(())
        },
        show: |c| show_ms(c.telemetry.tracing.otlp_timeout),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_OTLP_CERTIFICATE",
        fallback: Some("OTEL_EXPORTER_OTLP_CERTIFICATE"),
        default: "",
        allowed: "empty or the path of a PEM file",
        description: "CA certificates (PEM) trusted for an https OTLP endpoint instead of the \
                      system's (SSL_CERT_FILE, SSL_CERT_DIR, /etc/ssl/certs/ca-certificates.crt): \
                      for a collector behind a private CA.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.otlp_certificate = (!v.is_empty()).then(|| PathBuf::from(v));
            Ok(())
        },
        show: |c| {
            let file = c.telemetry.tracing.otlp_certificate.as_ref();
            file.map(|p| p.display().to_string()).unwrap_or_default()
        },
    },
    Key {
        name: "OTEL_BSP_MAX_QUEUE_SIZE",
        fallback: None,
        default: "2048",
        allowed: BSP_SIZE,
        description: "Finished spans held for export; when the queue is full, new spans are dropped.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.max_queue_size = size(v, 1, 1 << 20)?;
            Ok(())
        },
        show: |c| c.telemetry.tracing.max_queue_size.to_string(),
    },
    Key {
        name: "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
        fallback: None,
        default: "512",
        allowed: BSP_SIZE,
        description: "Most spans in one export request; at most OTEL_BSP_MAX_QUEUE_SIZE.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.max_export_batch_size = size(v, 1, 1 << 20)?;
            Ok(())
        },
        show: |c| c.telemetry.tracing.max_export_batch_size.to_string(),
    },
    Key {
        name: "OTEL_BSP_SCHEDULE_DELAY",
        fallback: None,
        default: "5000",
        allowed: MS,
        description: "Longest wait between two exports.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.schedule_delay = millis(v, 1)?;
            Ok(())
        },
        show: |c| show_ms(c.telemetry.tracing.schedule_delay),
    },
    Key {
        name: "OTEL_BSP_EXPORT_TIMEOUT",
        fallback: None,
        default: "10000",
        allowed: MS,
        description: "Longest time one export may take.",
        secret: false,
        section: "tracing",
        set: |c, v, _| {
            c.telemetry.tracing.export_timeout = millis(v, 1)?;
            Ok(())
        },
        show: |c| show_ms(c.telemetry.tracing.export_timeout),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_METRICS_ENABLED",
        fallback: None,
        default: "true",
        allowed: BOOL,
        description: "Record metrics.",
        secret: false,
        section: "metrics",
        set: |c, v, _| {
            c.telemetry.metrics.enabled = boolean(v)?;
            Ok(())
        },
        show: |c| c.telemetry.metrics.enabled.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_METRICS_EXPORTER",
        fallback: None,
        default: "prometheus",
        allowed: "one or more of prometheus, otlp, console, comma-separated",
        description: "prometheus serves GET /metrics and GET /health on the metrics host and port; \
                      otlp pushes to the OTLP endpoint's /v1/metrics and console writes a snapshot \
                      to the log output, once per interval and at shutdown. Combine them with \
                      commas, e.g. prometheus,otlp.",
        secret: false,
        section: "metrics",
        set: |c, v, _| {
            c.telemetry.metrics.exporters = metrics_exporters(v)?;
            Ok(())
        },
        show: |c| show_metrics_exporters(c.telemetry.metrics.exporters),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_METRICS_HOST",
        fallback: None,
        default: "127.0.0.1",
        allowed: "an IP address such as 127.0.0.1 or ::1",
        description: "Address the metrics HTTP endpoint binds. Loopback by default, not all \
                      interfaces: /metrics has no authentication.",
        secret: false,
        section: "metrics",
        set: |c, v, _| {
            c.telemetry.metrics.host = v.parse::<IpAddr>().map_err(|_| Bad)?.to_string();
            Ok(())
        },
        show: |c| c.telemetry.metrics.host.clone(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_METRICS_PORT",
        fallback: None,
        default: "9090",
        allowed: "an integer from 0 to 65535",
        description: "Port of the metrics HTTP endpoint; 0 picks a free port. A busy port is a \
                      warning, not a fatal error: many stdio servers run side by side.",
        secret: false,
        section: "metrics",
        set: |c, v, _| {
            c.telemetry.metrics.port = v.parse().map_err(|_| Bad)?;
            Ok(())
        },
        show: |c| c.telemetry.metrics.port.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_METRICS_INTERVAL_SECONDS",
        fallback: None,
        default: "60",
        allowed: "an integer from 1 to 86400",
        description: "Seconds between two OTLP pushes or console snapshots.",
        secret: false,
        section: "metrics",
        set: |c, v, _| {
            c.telemetry.metrics.interval_seconds = integer(v, 1, 86_400)?;
            Ok(())
        },
        show: |c| c.telemetry.metrics.interval_seconds.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_METRICS_MAX_SERIES",
        fallback: None,
        default: "1000",
        allowed: "an integer from 1 to 10000",
        description: "Series a labelled metric family holds at most; further label sets (Claude \
                      model ids sent in a loop) fold into one overflow series whose labels \
                      are all __overflow__, counted by tfo_mcp_metric_series_overflow_total.",
        secret: false,
        section: "metrics",
        set: |c, v, _| {
            c.telemetry.metrics.max_series = size(v, 1, 10_000)?;
            Ok(())
        },
        show: |c| c.telemetry.metrics.max_series.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_LOG_LEVEL",
        fallback: None,
        default: "INFO",
        allowed: "one of TRACE, DEBUG, INFO, WARNING (or WARN), ERROR, CRITICAL; any case",
        description: "Least severe log record written.",
        secret: false,
        section: "logging",
        set: |c, v, _| {
            c.telemetry.logging.level = choice(v, LOG_LEVELS)?;
            Ok(())
        },
        show: |c| name_of(c.telemetry.logging.level, LOG_LEVELS).to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_LOG_FORMAT",
        fallback: None,
        default: "json",
        allowed: "one of json, console",
        description: "One JSON object per line, or one readable line per record.",
        secret: false,
        section: "logging",
        set: |c, v, _| {
            c.telemetry.logging.format = choice(v, LOG_FORMATS)?;
            Ok(())
        },
        show: |c| name_of(c.telemetry.logging.format, LOG_FORMATS).to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_LOG_OUTPUT",
        fallback: None,
        default: "stderr",
        allowed: "stderr, stdout or a file path",
        description: "Where log lines go. stdout carries the MCP protocol, so it is refused when \
                      serving on stdio.",
        secret: false,
        section: "logging",
        set: |c, v, _| {
            c.telemetry.logging.output = match v {
                "" => return Err(Bad),
                v if v.eq_ignore_ascii_case("stderr") => LogOutput::Stderr,
                v if v.eq_ignore_ascii_case("stdout") => LogOutput::Stdout,
                path => LogOutput::File(PathBuf::from(path)),
            };
            Ok(())
        },
        show: |c| match &c.telemetry.logging.output {
            LogOutput::Stderr => "stderr".to_string(),
            LogOutput::Stdout => "stdout".to_string(),
            LogOutput::File(path) => path.display().to_string(),
        },
    },
    // Issue 5 (logging): rotation, slow requests, OTLP logs.
    Key {
        name: "TELEMETRYFLOW_MCP_LOG_FILE_MAX_BYTES",
        fallback: None,
        default: "0",
        allowed: "an integer from 0 to 1099511627776 (bytes)",
        description: "Rotate a log file output before it grows beyond this many bytes: the file \
                      becomes FILE.1, FILE.1 becomes FILE.2, and so on. 0 never rotates.",
        secret: false,
        section: "logging",
        set: |c, v, _| {
            c.telemetry.logging.file_max_bytes = integer(v, 0, 1 << 40)?;
            Ok(())
        },
        show: |c| c.telemetry.logging.file_max_bytes.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_LOG_FILE_KEEP",
        fallback: None,
        default: "5",
        allowed: "an integer from 0 to 1000",
        description: "Rotated log files kept (FILE.1 is the newest); older ones are deleted.",
        secret: false,
        section: "logging",
        set: |c, v, _| {
            c.telemetry.logging.file_keep = size(v, 0, 1000)?;
            Ok(())
        },
        show: |c| c.telemetry.logging.file_keep.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_SLOW_REQUEST_THRESHOLD_MS",
        fallback: None,
        default: "5000",
        allowed: "an integer from 1 to 600000 (milliseconds)",
        description: "Requests slower than this are logged as \"Slow request detected\", marked \
                      with a slow_request span event and counted.",
        secret: false,
        section: "logging",
        set: |c, v, _| {
            c.telemetry.logging.slow_request_threshold = millis(v, 1)?;
            Ok(())
        },
        show: |c| show_ms(c.telemetry.logging.slow_request_threshold),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_LOG_OTLP_ENABLED",
        fallback: None,
        default: "false",
        allowed: BOOL,
        description: "Also export every written log record over OTLP/HTTP to the OTLP endpoint \
                      plus /v1/logs, with the trace and span ids of its request.",
        secret: false,
        section: "logging",
        set: |c, v, _| {
            c.telemetry.logging.otlp_logs = boolean(v)?;
            Ok(())
        },
        show: |c| c.telemetry.logging.otlp_logs.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_MAX_LINE_BYTES",
        fallback: None,
        default: "4194304",
        allowed: "an integer from 1024 to 1073741824",
        description: "Longest accepted JSON-RPC input line, in bytes.",
        secret: false,
        section: "server",
        set: |c, v, _| {
            c.server.max_line_bytes = size(v, 1024, 1 << 30)?;
            Ok(())
        },
        show: |c| c.server.max_line_bytes.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_MAX_IN_FLIGHT",
        fallback: None,
        default: "64",
        allowed: "an integer from 1 to 4096",
        description: "Requests handled concurrently before the server stops reading input.",
        secret: false,
        section: "server",
        set: |c, v, _| {
            c.server.max_in_flight = size(v, 1, 4096)?;
            Ok(())
        },
        show: |c| c.server.max_in_flight.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_SHUTDOWN_GRACE_MS",
        fallback: None,
        default: "5000",
        allowed: "an integer from 0 to 600000 (milliseconds)",
        description: "How long in-flight requests may finish after the end of input.",
        secret: false,
        section: "server",
        set: |c, v, _| {
            c.server.shutdown_grace = millis(v, 0)?;
            Ok(())
        },
        show: |c| show_ms(c.server.shutdown_grace),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_PAGE_SIZE",
        fallback: None,
        default: "100",
        allowed: "an integer from 1 to 10000",
        description: "Items per page of every list method (tools/list, resources/list, ...).",
        secret: false,
        section: "server",
        set: |c, v, _| {
            c.server.page_size = size(v, 1, 10_000)?;
            Ok(())
        },
        show: |c| c.server.page_size.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_LOG_NOTIFY_RATE",
        fallback: None,
        default: "20",
        allowed: "an integer from 0 to 10000",
        description: "Most notifications/message sent to the client per second; 0 sends none.",
        secret: false,
        section: "server",
        set: |c, v, _| {
            let rate = integer(v, 0, 10_000)?;
            c.server.log_notify_rate = u32::try_from(rate).map_err(|_| Bad)?;
            Ok(())
        },
        show: |c| c.server.log_notify_rate.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS",
        fallback: None,
        default: "false",
        allowed: BOOL,
        description: "Also serve the sleep and panic diagnostic tools, for testing cancellation \
                      and crash handling. Keep off in production.",
        secret: false,
        section: "server",
        set: |c, v, _| {
            c.server.diagnostic_tools = boolean(v)?;
            Ok(())
        },
        show: |c| c.server.diagnostic_tools.to_string(),
    },
    // ----- sandbox: file and command tools (issue 6) -----
    Key {
        name: "TELEMETRYFLOW_MCP_ALLOWED_ROOTS",
        fallback: None,
        default: "",
        allowed: "directories separated by ':' (empty: the working directory at startup)",
        description: "Directories the file tools (read_file, write_file, list_directory, \
                      search_files) and execute_command's working_dir may reach; symlinks are \
                      followed only when they stay inside. A client that declares roots can \
                      narrow this set, never widen it.",
        secret: false,
        section: "sandbox",
        set: |c, v, _| {
            c.sandbox.allowed_roots = std::env::split_paths(v)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
            Ok(())
        },
        show: |c| {
            std::env::join_paths(&c.sandbox.allowed_roots)
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        },
    },
    Key {
        name: "TELEMETRYFLOW_MCP_FILE_MAX_BYTES",
        fallback: None,
        default: "1048576",
        allowed: "an integer from 1 to 1073741824",
        description: "Most bytes read_file returns per call (larger files are paged with \
                      offset and length) and most bytes write_file stores.",
        secret: false,
        section: "sandbox",
        set: |c, v, _| {
            c.sandbox.file_max_bytes = integer(v, 1, 1 << 30)?;
            Ok(())
        },
        show: |c| c.sandbox.file_max_bytes.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_EXEC_ALLOW",
        fallback: None,
        default: "",
        allowed: "comma-separated program names or absolute paths (empty: execute_command is off)",
        description: "Programs execute_command may run, e.g. git,ls,cargo. Empty turns the tool \
                      off. Commands run without a shell, with a minimal environment.",
        secret: false,
        section: "sandbox",
        set: |c, v, _| {
            let names: Vec<String> = v
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(String::from)
                .collect();
            if names.iter().any(|n| n.contains(char::is_whitespace)) {
                return Err(Bad);
            }
            c.sandbox.exec_allow = names;
            Ok(())
        },
        show: |c| c.sandbox.exec_allow.join(","),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_EXEC_TIMEOUT_MAX_SECONDS",
        fallback: None,
        default: "300",
        allowed: "an integer from 1 to 86400",
        description: "Largest timeout (seconds) an execute_command call may ask for; the default \
                      timeout is 30 s or this, whichever is smaller.",
        secret: false,
        section: "sandbox",
        set: |c, v, _| {
            c.sandbox.exec_timeout_max_seconds = integer(v, 1, 86_400)?;
            Ok(())
        },
        show: |c| c.sandbox.exec_timeout_max_seconds.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_EXEC_OUTPUT_MAX_BYTES",
        fallback: None,
        default: "1048576",
        allowed: "an integer from 1024 to 67108864",
        description: "Output kept per stream (stdout, stderr) of one command; the rest is read \
                      and discarded, and the result says truncated.",
        secret: false,
        section: "sandbox",
        set: |c, v, _| {
            c.sandbox.exec_output_max_bytes = size(v, 1024, 64 << 20)?;
            Ok(())
        },
        show: |c| c.sandbox.exec_output_max_bytes.to_string(),
    },
    // ----- claude (issue 7): the Messages API client and the claude_conversation tool -----
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_API_KEY",
        fallback: Some("ANTHROPIC_API_KEY"),
        default: "",
        allowed: "empty or an Anthropic API key (no spaces or control characters)",
        description: "Key for the Claude Messages API, sent as x-api-key. When set, the \
                      claude_conversation tool is served; empty leaves it out. A secret: shown as \
                      [REDACTED].",
        secret: true,
        section: "claude",
        set: |c, v, _| {
            c.claude.api_key = match v {
                "" => None,
                v if v.chars().any(|ch| ch.is_whitespace() || ch.is_control()) => return Err(Bad),
                v => Some(Secret::new(v)),
            };
            Ok(())
        },
        show: |c| match c.claude.api_key {
            Some(_) => REDACTED.to_string(),
            None => String::new(),
        },
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_BASE_URL",
        fallback: Some("ANTHROPIC_BASE_URL"),
        default: "https://api.anthropic.com",
        allowed: URL,
        description: "Base URL of the Claude API; /v1/messages and /v1/models are appended.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.base_url = url(v)?.trim_end_matches('/').to_string();
            Ok(())
        },
        show: |c| c.claude.base_url.clone(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_MODEL",
        fallback: None,
        default: "claude-sonnet-5-5",
        allowed: "a model id such as claude-sonnet-5-5 or claude-haiku-5-5",
        description: "Model used when a claude_conversation call names none.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.model = model_id(v)?;
            Ok(())
        },
        show: |c| c.claude.model.clone(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_MAX_TOKENS",
        fallback: None,
        default: "4096",
        allowed: "an integer from 1 to 128000",
        description: "max_tokens sent when a claude_conversation call gives none: the most \
                      tokens one answer may have.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.max_tokens = u32::try_from(integer(v, 1, 128_000)?).map_err(|_| Bad)?;
            Ok(())
        },
        show: |c| c.claude.max_tokens.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_TIMEOUT_MS",
        fallback: None,
        default: "120000",
        allowed: MS,
        description: "Deadline of one Claude call, retries and their waits included; no retry \
                      sleeps past it.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.timeout = millis(v, 1)?;
            Ok(())
        },
        show: |c| show_ms(c.claude.timeout),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_MAX_RETRIES",
        fallback: None,
        default: "2",
        allowed: "an integer from 0 to 10",
        description: "Retries after a failed attempt (408, 409, 429, 500, 502, 503, 504, 529 or \
                      a connection error), with exponential backoff and jitter, honouring \
                      retry-after.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.max_retries = u32::try_from(integer(v, 0, 10)?).map_err(|_| Bad)?;
            Ok(())
        },
        show: |c| c.claude.max_retries.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_MAX_CONVERSATIONS",
        fallback: None,
        default: "100",
        allowed: "an integer from 1 to 100000",
        description: "Conversations kept in memory; beyond that the least recently used is \
                      forgotten.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.max_conversations = size(v, 1, 100_000)?;
            Ok(())
        },
        show: |c| c.claude.max_conversations.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_MAX_TURNS",
        fallback: None,
        default: "50",
        allowed: "an integer from 2 to 10000",
        description: "Messages (user and assistant) kept per conversation; the oldest turns are \
                      dropped first.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.max_turns = size(v, 2, 10_000)?;
            Ok(())
        },
        show: |c| c.claude.max_turns.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_MAX_CONVERSATION_BYTES",
        fallback: None,
        default: "1048576",
        allowed: "an integer from 1024 to 33554432",
        description: "Text bytes kept per conversation; the oldest turns are dropped first.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.max_conversation_bytes = size(v, 1024, 32 << 20)?;
            Ok(())
        },
        show: |c| c.claude.max_conversation_bytes.to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_CONVERSATION_TTL_SECONDS",
        fallback: None,
        default: "3600",
        allowed: "an integer from 1 to 604800",
        description: "Seconds a conversation may stay unused before it is forgotten.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.conversation_ttl = std::time::Duration::from_secs(integer(v, 1, 604_800)?);
            Ok(())
        },
        show: |c| c.claude.conversation_ttl.as_secs().to_string(),
    },
    Key {
        name: "TELEMETRYFLOW_MCP_CLAUDE_HEALTH_INTERVAL_SECONDS",
        fallback: None,
        default: "60",
        allowed: "an integer from 1 to 86400",
        description: "Seconds between two checks of the Claude API for /health (GET /v1/models \
                      with a 5 s timeout, on a background thread: it spends no tokens and never \
                      makes /health slow). Only with an API key.",
        secret: false,
        section: "claude",
        set: |c, v, _| {
            c.claude.health_interval = std::time::Duration::from_secs(integer(v, 1, 86_400)?);
            Ok(())
        },
        show: |c| c.claude.health_interval.as_secs().to_string(),
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{At, load, load_at, value};

    #[test]
    fn key_names_are_unique() {
        let mut names: Vec<&str> = KEYS
            .iter()
            .flat_map(|k| std::iter::once(k.name).chain(k.fallback))
            .collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            count,
            "a name (or fallback) appears twice in KEYS"
        );
    }

    #[test]
    fn every_choice_round_trips_through_effective() {
        let tables: [(&str, Vec<&str>); 5] = [
            (
                "TELEMETRYFLOW_MCP_TRACING_SAMPLER",
                SAMPLERS.iter().map(|(n, _)| *n).collect(),
            ),
            (
                "TELEMETRYFLOW_MCP_TRACING_EXPORTER",
                TRACE_EXPORTERS.iter().map(|(n, _)| *n).collect(),
            ),
            (
                "TELEMETRYFLOW_MCP_METRICS_EXPORTER",
                [METRICS_EXPORTERS, &["prometheus,otlp", "otlp, console"]].concat(),
            ),
            (
                "TELEMETRYFLOW_MCP_LOG_LEVEL",
                LOG_LEVELS.iter().map(|(n, _)| *n).collect(),
            ),
            (
                "TELEMETRYFLOW_MCP_LOG_FORMAT",
                LOG_FORMATS.iter().map(|(n, _)| *n).collect(),
            ),
        ];
        for (key, names) in tables {
            for name in names {
                let config =
                    load_at(At::Env, key, &name.to_ascii_uppercase()).expect("a listed name");
                let shown = value(&config, key);
                let again = load_at(At::Env, key, &shown).expect("shown value reloads");
                assert_eq!(again, config, "{key}={name} shows as {shown}");
            }
        }
        let warn = load_at(At::Env, "TELEMETRYFLOW_MCP_LOG_LEVEL", "warn").expect("warn");
        assert_eq!(warn.telemetry.logging.level, LogLevel::Warning);
        for (text, expected) in [
            ("1", true),
            ("YES", true),
            ("On", true),
            ("0", false),
            ("no", false),
            ("OFF", false),
        ] {
            let config =
                load_at(At::Env, "TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS", text).expect("a boolean");
            assert_eq!(config.server.diagnostic_tools, expected, "{text}");
        }
    }

    #[test]
    fn claude_keys_take_the_anthropic_names_as_fallbacks_and_hide_the_key() {
        let key = |c: &Config| c.claude.api_key.as_ref().map(|k| k.expose().to_string());
        let c = load("", &[("ANTHROPIC_API_KEY", "sk-theirs")], &[]).expect("fallback");
        assert_eq!(
            key(&c).as_deref(),
            Some("sk-theirs"),
            "ANTHROPIC_API_KEY alone"
        );
        let c = load(
            "",
            &[
                ("ANTHROPIC_API_KEY", "sk-theirs"),
                ("TELEMETRYFLOW_MCP_CLAUDE_API_KEY", "sk-ours"),
            ],
            &[],
        )
        .expect("both");
        assert_eq!(
            key(&c).as_deref(),
            Some("sk-ours"),
            "ours beats theirs in one layer"
        );
        let c = load(
            "TELEMETRYFLOW_MCP_CLAUDE_API_KEY=sk-file\n",
            &[("ANTHROPIC_API_KEY", "sk-env")],
            &[],
        )
        .expect("layers");
        assert_eq!(
            key(&c).as_deref(),
            Some("sk-env"),
            "a higher layer wins whichever name"
        );
        assert_eq!(value(&c, "TELEMETRYFLOW_MCP_CLAUDE_API_KEY"), "[REDACTED]");
        assert!(!format!("{c:?}").contains("sk-env"), "Debug hides the key");
        let c = load("", &[("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/")], &[]).expect("url");
        assert_eq!(
            c.claude.base_url, "http://127.0.0.1:9",
            "fallback, trailing / trimmed"
        );
        let e = load_at(At::Env, "TELEMETRYFLOW_MCP_CLAUDE_API_KEY", "sk bad")
            .expect_err("a key with a space")
            .to_string();
        assert!(!e.contains("sk bad") && e.contains("[REDACTED]"), "{e}");
        let e = load_at(At::File, "TELEMETRYFLOW_MCP_CLAUDE_MODEL", "claude sonnet")
            .expect_err("a model id with a space")
            .to_string();
        assert!(e.contains("TELEMETRYFLOW_MCP_CLAUDE_MODEL"), "{e}");
        let c = load_at(At::Cli, "TELEMETRYFLOW_MCP_CLAUDE_API_KEY", "").expect("empty");
        assert_eq!(c.claude.api_key, None, "empty means no key");
    }
}
