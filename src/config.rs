//! The one `Config` of the server: every field of the spec's `TelemetryConfig`,
//! `TracingConfig`, `MetricsConfig` and `LoggingConfig`, plus the server's own
//! limits. Layers: defaults < config file < environment < command-line flags.
//! The config file uses exactly the environment variable names (`KEY=VALUE`).

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything the server reads from its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The spec's `TelemetryConfig` (with its nested tracing, metrics, logging).
    pub telemetry: TelemetryConfig,
    /// Protocol and runtime limits of the stdio server.
    pub server: ServerConfig,
}

/// The spec's `TelemetryConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryConfig {
    /// `TELEMETRYFLOW_MCP_TELEMETRY_ENABLED` (false also from `OTEL_SDK_DISABLED=true`).
    pub enabled: bool,
    /// `TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME` / `OTEL_SERVICE_NAME`.
    pub service_name: String,
    /// `TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_VERSION`; defaults to the crate version.
    pub service_version: String,
    /// `TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT`.
    pub environment: String,
    /// `OTEL_RESOURCE_ATTRIBUTES`, `key=value` pairs in order.
    pub resource_attributes: Vec<(String, String)>,
    /// The spec's `TracingConfig`.
    pub tracing: TracingConfig,
    /// The spec's `MetricsConfig`.
    pub metrics: MetricsConfig,
    /// The spec's `LoggingConfig`.
    pub logging: LoggingConfig,
}

/// Where finished spans go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceExporter {
    /// OTLP/HTTP protobuf.
    Otlp,
    /// One JSON object per span on the log output.
    Console,
    /// Spans are not exported.
    None,
}

/// `OTEL_TRACES_SAMPLER`; the ratio comes from `sample_rate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplerKind {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `traceidratio`.
    TraceIdRatio,
    /// `parentbased_always_on`.
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio` (the default).
    ParentBasedTraceIdRatio,
}

/// The spec's `TracingConfig` plus the OpenTelemetry exporter settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TracingConfig {
    /// `TELEMETRYFLOW_MCP_TRACING_ENABLED`.
    pub enabled: bool,
    /// `TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE` / `OTEL_TRACES_SAMPLER_ARG`, 0.0..=1.0.
    pub sample_rate: f64,
    /// `TELEMETRYFLOW_MCP_TRACING_SAMPLER` / `OTEL_TRACES_SAMPLER`.
    pub sampler: SamplerKind,
    /// `TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES`: `op=rate,op=rate` (the spec's `operation_rates`).
    pub operation_rates: Vec<(String, f64)>,
    /// `TELEMETRYFLOW_MCP_TRACING_EXPORTER`.
    pub exporter: TraceExporter,
    /// `TELEMETRYFLOW_MCP_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` (base URL).
    pub otlp_endpoint: String,
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, used as-is when set.
    pub traces_endpoint: Option<String>,
    /// `TELEMETRYFLOW_MCP_OTLP_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS` (values are secrets).
    pub otlp_headers: Vec<(String, String)>,
    /// `TELEMETRYFLOW_MCP_OTLP_TIMEOUT_MS` / `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds).
    pub otlp_timeout: Duration,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`.
    pub max_queue_size: usize,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
    pub max_export_batch_size: usize,
    /// `OTEL_BSP_SCHEDULE_DELAY` (milliseconds).
    pub schedule_delay: Duration,
    /// `OTEL_BSP_EXPORT_TIMEOUT` (milliseconds).
    pub export_timeout: Duration,
}

/// Where metrics go besides the always-on in-process registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsExporter {
    /// Pull: `GET /metrics` on `host:port`.
    Prometheus,
    /// Push OTLP/HTTP every `interval_seconds`.
    Otlp,
    /// Write a snapshot to the log output every `interval_seconds`.
    Console,
}

/// The spec's `MetricsConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    /// `TELEMETRYFLOW_MCP_METRICS_ENABLED`.
    pub enabled: bool,
    /// `TELEMETRYFLOW_MCP_METRICS_EXPORTER`.
    pub exporter: MetricsExporter,
    /// `TELEMETRYFLOW_MCP_METRICS_HOST` (deviation: `127.0.0.1`, not all interfaces).
    pub host: String,
    /// `TELEMETRYFLOW_MCP_METRICS_PORT`; 0 picks a free port.
    pub port: u16,
    /// `TELEMETRYFLOW_MCP_METRICS_INTERVAL_SECONDS`.
    pub interval_seconds: u64,
}

/// Log level names accepted in configuration (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `TRACE`.
    Trace,
    /// `DEBUG`.
    Debug,
    /// `INFO`.
    Info,
    /// `WARNING` (also `WARN`).
    Warning,
    /// `ERROR`.
    Error,
    /// `CRITICAL`.
    Critical,
}

/// `TELEMETRYFLOW_MCP_LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// One readable line per record.
    Console,
}

/// `TELEMETRYFLOW_MCP_LOG_OUTPUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogOutput {
    /// Standard error (the default: stdout belongs to the protocol).
    Stderr,
    /// Standard output: refused when serving on stdio.
    Stdout,
    /// A file path.
    File(std::path::PathBuf),
}

/// The spec's `LoggingConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggingConfig {
    /// `TELEMETRYFLOW_MCP_LOG_LEVEL`.
    pub level: LogLevel,
    /// `TELEMETRYFLOW_MCP_LOG_FORMAT`.
    pub format: LogFormat,
    /// `TELEMETRYFLOW_MCP_LOG_OUTPUT`.
    pub output: LogOutput,
}

/// Limits of the stdio protocol loop.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// `TELEMETRYFLOW_MCP_MAX_LINE_BYTES`: longest accepted input line.
    pub max_line_bytes: usize,
    /// `TELEMETRYFLOW_MCP_MAX_IN_FLIGHT`: concurrent requests before the reader waits.
    pub max_in_flight: usize,
    /// `TELEMETRYFLOW_MCP_SHUTDOWN_GRACE_MS`: how long in-flight requests may finish after EOF.
    pub shutdown_grace: Duration,
    /// `TELEMETRYFLOW_MCP_PAGE_SIZE`: items per page of every list method.
    pub page_size: usize,
    /// `TELEMETRYFLOW_MCP_LOG_NOTIFY_RATE`: `notifications/message` per second at most.
    pub log_notify_rate: u32,
    /// `TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS`: also serve the `sleep` and `panic` diagnostic tools.
    pub diagnostic_tools: bool,
}

/// The environment variable naming the config file. `Config::load` does not read it: the
/// caller turns it into `Sources::file` when no `--config` flag is given.
pub const CONFIG_ENV: &str = "TELEMETRYFLOW_MCP_CONFIG";

/// Our own prefix: unknown environment variables under it are reported, others ignored.
const PREFIX: &str = "TELEMETRYFLOW_MCP_";

/// What secrets look like in `effective()` and in error messages.
const REDACTED: &str = "[REDACTED]";

/// What the loader reads, lowest precedence first: defaults < file < env < overrides.
#[derive(Default)]
pub struct Sources {
    /// The config file, if any (from `--config` or `TELEMETRYFLOW_MCP_CONFIG`).
    pub file: Option<PathBuf>,
    /// Environment variables; only known names are read, empty values count as unset.
    pub env: Vec<(String, String)>,
    /// Command-line settings (`--set KEY=VALUE` and shorthands) in order; the later wins.
    pub overrides: Vec<(String, String)>,
}

/// Shows names only: values may be secrets (`OTEL_EXPORTER_OTLP_HEADERS`, API keys).
impl fmt::Debug for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names =
            |pairs: &[(String, String)]| pairs.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        f.debug_struct("Sources")
            .field("file", &self.file)
            .field("env", &names(&self.env))
            .field("overrides", &names(&self.overrides))
            .finish()
    }
}

impl Sources {
    /// Sources reading the process environment. Variables whose name or value is not UTF-8
    /// are skipped: no key of ours could use them.
    pub fn from_process(file: Option<PathBuf>, overrides: Vec<(String, String)>) -> Sources {
        let env = std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        Sources {
            file,
            env,
            overrides,
        }
    }
}

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// A line of the config file.
    File {
        /// The config file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
    },
    /// The process environment.
    Environment,
    /// A command-line flag.
    CommandLine,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Environment => f.write_str("environment"),
            Origin::CommandLine => f.write_str("command line"),
        }
    }
}

/// Why the configuration could not be loaded; every message says which key and where.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigError {
    /// The config file could not be read.
    Read {
        /// The config file.
        path: PathBuf,
        /// The operating system's error message.
        error: String,
    },
    /// A line of the config file is not `KEY=VALUE`, or the file is not UTF-8.
    Syntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong with the line.
        message: &'static str,
    },
    /// A key that is not in `KEYS`, in the file or on the command line.
    UnknownKey {
        /// The key as written.
        key: String,
        /// Where it was written.
        origin: Origin,
        /// A known key within edit distance 3, if any.
        suggestion: Option<&'static str>,
    },
    /// A value its key does not allow.
    Invalid {
        /// The name as written (ours or its `OTEL_*` fallback).
        key: &'static str,
        /// The value, or `[REDACTED]` for secrets.
        value: String,
        /// Where the value came from.
        origin: Origin,
        /// What the key allows.
        expected: &'static str,
    },
    /// Two values that are fine alone but not together.
    Conflict {
        /// The first setting.
        setting: Box<Setting>,
        /// How it must relate to the second, e.g. "must not be greater than".
        rule: &'static str,
        /// The second setting.
        other: Box<Setting>,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, error } => {
                write!(f, "config: cannot read {}: {error}", path.display())
            }
            ConfigError::Syntax {
                path,
                line,
                message,
            } => write!(f, "config: {}:{line}: {message}", path.display()),
            ConfigError::UnknownKey {
                key,
                origin,
                suggestion,
            } => {
                write!(f, "config: unknown key {} ({origin})", printable(key))?;
                match suggestion {
                    Some(known) => write!(f, "; did you mean {known}?"),
                    None => Ok(()),
                }
            }
            ConfigError::Invalid {
                key,
                value,
                origin,
                expected,
            } => write!(f, "config: {key}={value} ({origin}): expected {expected}"),
            ConfigError::Conflict {
                setting,
                rule,
                other,
            } => write!(f, "config: {setting} {rule} {other}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A key as written (ours or its `OTEL_*` fallback), its value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// The name used.
    pub key: &'static str,
    /// The value, or `[REDACTED]` for secrets.
    pub value: String,
    /// Where the value came from.
    pub origin: Origin,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={} ({})", self.key, self.value, self.origin)
    }
}

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
    /// Heading the key is listed under: telemetry, tracing, metrics, logging or server.
    pub section: &'static str,
    /// Parses a value into the config; the flag says it came through `fallback`.
    set: fn(&mut Config, &str, bool) -> Result<(), Bad>,
    /// Formats the current value as it would be written in the config file.
    show: fn(&Config) -> String,
}

/// A value its key does not allow; `Key::allowed` says why.
#[derive(Debug)]
struct Bad;

const BOOL: &str = "true or false (also 1/0, yes/no, on/off; any case)";
const NON_EMPTY: &str = "a non-empty string";
const RATE: &str = "a number from 0.0 to 1.0";
const PAIRS: &str = "comma-separated key=value pairs, values percent-encoded";
const MS: &str = "an integer from 1 to 600000 (milliseconds)";
const BSP_SIZE: &str = "an integer from 1 to 1048576";
const URL: &str = "an http:// or https:// URL";

const SAMPLERS: &[(&str, SamplerKind)] = &[
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
const METRICS_EXPORTERS: &[(&str, MetricsExporter)] = &[
    ("prometheus", MetricsExporter::Prometheus),
    ("otlp", MetricsExporter::Otlp),
    ("console", MetricsExporter::Console),
];
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
        show: |c| show_pairs(&c.telemetry.resource_attributes, false),
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
            c.telemetry.tracing.otlp_headers = headers(v)?;
            Ok(())
        },
        show: |c| show_pairs(&c.telemetry.tracing.otlp_headers, true),
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
        allowed: "one of prometheus, otlp, console",
        description: "prometheus serves GET /metrics on the metrics host and port; otlp pushes to \
                      the OTLP endpoint and console writes a snapshot to the log output, once per \
                      interval.",
        secret: false,
        section: "metrics",
        set: |c, v, _| {
            c.telemetry.metrics.exporter = choice(v, METRICS_EXPORTERS)?;
            Ok(())
        },
        show: |c| name_of(c.telemetry.metrics.exporter, METRICS_EXPORTERS).to_string(),
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
];

impl Default for Config {
    fn default() -> Config {
        Config {
            telemetry: TelemetryConfig {
                enabled: true,
                service_name: "telemetryflow-mcp".to_string(),
                service_version: env!("CARGO_PKG_VERSION").to_string(),
                environment: "development".to_string(),
                resource_attributes: Vec::new(),
                tracing: TracingConfig {
                    enabled: true,
                    sample_rate: 1.0,
                    sampler: SamplerKind::ParentBasedTraceIdRatio,
                    operation_rates: Vec::new(),
                    exporter: TraceExporter::Otlp,
                    otlp_endpoint: "http://localhost:4318".to_string(),
                    traces_endpoint: None,
                    otlp_headers: Vec::new(),
                    otlp_timeout: Duration::from_millis(10_000),
                    max_queue_size: 2048,
                    max_export_batch_size: 512,
                    schedule_delay: Duration::from_millis(5000),
                    export_timeout: Duration::from_millis(10_000),
                },
                metrics: MetricsConfig {
                    enabled: true,
                    exporter: MetricsExporter::Prometheus,
                    host: "127.0.0.1".to_string(),
                    port: 9090,
                    interval_seconds: 60,
                },
                logging: LoggingConfig {
                    level: LogLevel::Info,
                    format: LogFormat::Json,
                    output: LogOutput::Stderr,
                },
            },
            server: ServerConfig {
                max_line_bytes: 4 * 1024 * 1024,
                max_in_flight: 64,
                shutdown_grace: Duration::from_millis(5000),
                page_size: 100,
                log_notify_rate: 20,
                diagnostic_tools: false,
            },
        }
    }
}

impl Config {
    /// Loads defaults, then the file, the environment and the overrides, each layer
    /// replacing the values the one below set. Only the winning value of each key is parsed,
    /// so a stray `OTEL_*` variable meant for another program does not matter once one of
    /// our names is set in a higher or the same layer.
    pub fn load(sources: &Sources) -> Result<Config, ConfigError> {
        let file = match &sources.file {
            Some(path) => parse_file(path, &read_file(path)?)?,
            None => Vec::new(),
        };
        resolve(&file, &sources.env, &sources.overrides)
    }

    /// Effective values, one (KEY, value) per key of `KEYS`, in table order, written as they
    /// would be in the config file; OTLP header values are `[REDACTED]`.
    pub fn effective(&self) -> Vec<(&'static str, String)> {
        KEYS.iter()
            .map(|key| (key.name, (key.show)(self)))
            .collect()
    }

    /// A commented config file listing every key with its description, allowed values and
    /// default as `# KEY=default`; written by `tfo-mcp init-config`.
    pub fn template() -> String {
        let mut out = String::from(TEMPLATE_HEADER);
        let mut section = "";
        for key in KEYS {
            if key.section != section {
                section = key.section;
                out.push_str(&format!("\n# ===== {section} =====\n"));
            }
            out.push('\n');
            let mut notes = vec![
                key.description.to_string(),
                format!("Allowed: {}.", key.allowed),
            ];
            if let Some(fallback) = key.fallback {
                notes.push(format!(
                    "Fallback: {fallback}, read when {} is not set in the same layer.",
                    key.name
                ));
            }
            for line in notes.iter().flat_map(|note| wrap(note, 88)) {
                out.push_str(&format!("# {line}\n"));
            }
            out.push_str(&format!("# {}={}\n", key.name, key.default));
        }
        out
    }
}

const TEMPLATE_HEADER: &str = "\
# tfo-mcp configuration file, written by `tfo-mcp init-config`.
#
# Format: one KEY=VALUE per line, with exactly the environment variable names. Blank lines
# and lines starting with # are ignored. Whitespace around KEY and VALUE is trimmed, one pair
# of surrounding double or single quotes is removed from VALUE, and an `export ` prefix is
# allowed. There are no escapes and no comments after a value. When a key appears twice, the
# later line wins. Unknown keys are an error.
#
# Precedence, lowest first: built-in defaults < this file < environment variables <
# command-line flags (--set KEY=VALUE and the shorthands). Within one layer a
# TELEMETRYFLOW_MCP_* name beats its OTEL_* fallback; across layers the higher layer wins
# whichever name it uses, so OTEL_SERVICE_NAME in the environment beats
# TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME in this file. An empty environment variable
# counts as unset.
#
# Every key below is commented out and shows its default: uncomment a line to change it,
# then check the result with `tfo-mcp validate --config FILE`.
";

/// Non-fatal remarks about a loaded configuration, one sentence each, for the log or
/// `tfo-mcp validate`.
pub fn warnings(config: &Config) -> Vec<String> {
    let telemetry = &config.telemetry;
    let tracing = &telemetry.tracing;
    let metrics = &telemetry.metrics;
    let traces_otlp =
        telemetry.enabled && tracing.enabled && tracing.exporter == TraceExporter::Otlp;
    let metrics_otlp =
        telemetry.enabled && metrics.enabled && metrics.exporter == MetricsExporter::Otlp;
    let base_used = (traces_otlp && tracing.traces_endpoint.is_none()) || metrics_otlp;
    let mut out = Vec::new();

    let mut endpoints = Vec::new();
    if base_used {
        endpoints.push((
            "TELEMETRYFLOW_MCP_OTLP_ENDPOINT",
            tracing.otlp_endpoint.as_str(),
        ));
    }
    if let (true, Some(url)) = (traces_otlp, &tracing.traces_endpoint) {
        endpoints.push(("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.as_str()));
    }
    for (key, url) in endpoints {
        if url_port(url) == Some(4317) {
            out.push(format!(
                "{key}={url} uses port 4317, the OTLP/gRPC port; this exporter speaks \
                 OTLP/HTTP, which collectors serve on port 4318"
            ));
        }
    }
    if base_used {
        let url = &tracing.otlp_endpoint;
        if let Some(path) = ["/v1/traces", "/v1/metrics", "/v1/logs"]
            .iter()
            .find(|p| url.ends_with(*p))
        {
            out.push(format!(
                "TELEMETRYFLOW_MCP_OTLP_ENDPOINT={url} ends in {path}, but it is a base URL: the \
                 exporter appends /v1/traces and /v1/metrics itself; set \
                 OTEL_EXPORTER_OTLP_TRACES_ENDPOINT for a full traces URL"
            ));
        }
    }
    let ratio = matches!(
        tracing.sampler,
        SamplerKind::TraceIdRatio | SamplerKind::ParentBasedTraceIdRatio
    );
    if telemetry.enabled && tracing.enabled && !ratio && tracing.sample_rate < 1.0 {
        out.push(format!(
            "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE={:?} has no effect with \
             TELEMETRYFLOW_MCP_TRACING_SAMPLER={}; use traceidratio or parentbased_traceidratio",
            tracing.sample_rate,
            name_of(tracing.sampler, SAMPLERS)
        ));
    }
    let prometheus =
        telemetry.enabled && metrics.enabled && metrics.exporter == MetricsExporter::Prometheus;
    if let (true, Ok(ip)) = (prometheus, metrics.host.parse::<IpAddr>())
        && !ip.is_loopback()
    {
        out.push(format!(
            "TELEMETRYFLOW_MCP_METRICS_HOST={} makes the unauthenticated /metrics endpoint \
             reachable from other hosts",
            metrics.host
        ));
    }
    out
}

/// One remark per environment variable named `TELEMETRYFLOW_MCP_*` that is no key of ours
/// (a typo, most likely), with the closest key if one is near; ready to print like
/// `warnings()`. Sorted by name.
pub fn unknown_env_keys(sources: &Sources) -> Vec<String> {
    let mut names: Vec<&str> = sources
        .env
        .iter()
        .map(|(name, _)| name.as_str())
        .filter(|name| name.starts_with(PREFIX) && *name != CONFIG_ENV && known(name).is_none())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| match suggest(name) {
            Some(known) => {
                format!("unknown environment variable {name} is ignored; did you mean {known}?")
            }
            None => format!("unknown environment variable {name} is ignored"),
        })
        .collect()
}

/// One `KEY=VALUE` setting of one layer.
#[derive(Debug)]
struct Entry {
    /// The name used: a key's `name` or its `fallback`.
    name: &'static str,
    value: String,
    origin: Origin,
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        error: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line: 1 + valid.iter().filter(|&&b| b == b'\n').count(),
            message: "not valid UTF-8",
        }
    })
}

fn parse_file(path: &Path, text: &str) -> Result<Vec<Entry>, ConfigError> {
    // Editors on Windows like to start UTF-8 files with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let syntax = |message| ConfigError::Syntax {
            path: path.to_path_buf(),
            line: index + 1,
            message,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => line,
        };
        let Some((key, value)) = line.split_once('=') else {
            return Err(syntax("expected KEY=VALUE"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(syntax("expected KEY=VALUE, found nothing before \"=\""));
        }
        let origin = Origin::File {
            path: path.to_path_buf(),
            line: index + 1,
        };
        let Some(name) = known(key) else {
            return Err(ConfigError::UnknownKey {
                key: key.to_string(),
                origin,
                suggestion: suggest(key),
            });
        };
        let value = unquote(value.trim()).to_string();
        entries.push(Entry {
            name,
            value,
            origin,
        });
    }
    Ok(entries)
}

/// The sans-IO part of `Config::load`: layers in, config out.
fn resolve(
    file: &[Entry],
    env: &[(String, String)],
    overrides: &[(String, String)],
) -> Result<Config, ConfigError> {
    let env: Vec<Entry> = env
        .iter()
        .filter_map(|(name, value)| {
            // Empty means unset here: compose files and CI templates often write `KEY=`.
            let value = value.trim();
            let name = known(name).filter(|_| !value.is_empty())?;
            Some(Entry {
                name,
                value: value.to_string(),
                origin: Origin::Environment,
            })
        })
        .collect();
    let overrides = overrides
        .iter()
        .map(|(name, value)| match known(name.trim()) {
            Some(known) => Ok(Entry {
                name: known,
                value: value.trim().to_string(),
                origin: Origin::CommandLine,
            }),
            None => Err(ConfigError::UnknownKey {
                key: name.clone(),
                origin: Origin::CommandLine,
                suggestion: suggest(name.trim()),
            }),
        })
        .collect::<Result<Vec<Entry>, ConfigError>>()?;
    let layers = [overrides.as_slice(), env.as_slice(), file];

    let mut config = Config::default();
    for key in KEYS {
        let Some(entry) = winner(&layers, key.name, key.fallback) else {
            continue;
        };
        (key.set)(&mut config, &entry.value, entry.name != key.name).map_err(|Bad| {
            ConfigError::Invalid {
                key: entry.name,
                value: if key.secret {
                    REDACTED.to_string()
                } else {
                    printable(&entry.value)
                },
                origin: entry.origin.clone(),
                expected: key.allowed,
            }
        })?;
    }

    let tracing = &config.telemetry.tracing;
    if tracing.max_export_batch_size > tracing.max_queue_size {
        let setting = |key, value: usize| {
            let origin = winner(&layers, key, None).map_or(Origin::Default, |e| e.origin.clone());
            Box::new(Setting {
                key,
                value: value.to_string(),
                origin,
            })
        };
        return Err(ConfigError::Conflict {
            setting: setting(
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                tracing.max_export_batch_size,
            ),
            rule: "must not be greater than",
            other: setting("OTEL_BSP_MAX_QUEUE_SIZE", tracing.max_queue_size),
        });
    }
    Ok(config)
}

/// The entry for a key in the highest layer that sets it under `name` or `fallback`; within
/// that layer `name` beats `fallback`, and of two lines with the same name the later wins.
/// Layer by layer, not name by name: a higher layer wins whichever name it uses.
fn winner<'a>(layers: &[&'a [Entry]], name: &str, fallback: Option<&str>) -> Option<&'a Entry> {
    layers.iter().find_map(|layer| {
        let last = |wanted: Option<&str>| layer.iter().rev().find(|e| Some(e.name) == wanted);
        last(Some(name)).or_else(|| last(fallback))
    })
}

/// The static spelling of a known name (a key or a fallback).
fn known(name: &str) -> Option<&'static str> {
    KEYS.iter()
        .flat_map(|key| std::iter::once(key.name).chain(key.fallback))
        .find(|known| *known == name)
}

/// The known name closest to `name` (ignoring case), if within edit distance 3.
fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_uppercase();
    KEYS.iter()
        .flat_map(|key| std::iter::once(key.name).chain(key.fallback))
        .map(|known| (edit_distance(&name, known), known))
        .filter(|&(distance, _)| distance <= 3)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, known)| known)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

fn unquote(value: &str) -> &str {
    ['"', '\'']
        .iter()
        .find_map(|&q| value.strip_prefix(q)?.strip_suffix(q))
        .unwrap_or(value)
}

/// The value with control characters escaped, so an error stays on one line.
fn printable(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn boolean(v: &str) -> Result<bool, Bad> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Bad),
    }
}

fn text(v: &str) -> Result<String, Bad> {
    if v.is_empty() {
        Err(Bad)
    } else {
        Ok(v.to_string())
    }
}

fn rate(v: &str) -> Result<f64, Bad> {
    // The range check also turns away NaN and infinities, which `parse` accepts.
    v.parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or(Bad)
}

fn integer(v: &str, min: u64, max: u64) -> Result<u64, Bad> {
    v.parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or(Bad)
}

fn size(v: &str, min: u64, max: u64) -> Result<usize, Bad> {
    usize::try_from(integer(v, min, max)?).map_err(|_| Bad)
}

fn millis(v: &str, min: u64) -> Result<Duration, Bad> {
    integer(v, min, 600_000).map(Duration::from_millis)
}

fn url(v: &str) -> Result<&str, Bad> {
    let lower = v.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
        .ok_or(Bad)?;
    let host_missing = rest.is_empty() || rest.starts_with(['/', '?', '#']);
    if host_missing || v.contains(char::is_whitespace) {
        Err(Bad)
    } else {
        Ok(v)
    }
}

fn choice<T: Copy>(v: &str, table: &[(&str, T)]) -> Result<T, Bad> {
    table
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(v))
        .map(|&(_, value)| value)
        .ok_or(Bad)
}

/// The first (canonical) name of `value` in `table`.
fn name_of<T: PartialEq>(value: T, table: &[(&'static str, T)]) -> &'static str {
    table
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("", |(name, _)| name)
}

/// `k=v,k=v` with whitespace around items, keys and values trimmed and empty items skipped
/// (the OpenTelemetry format of `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`).
fn split_pairs(v: &str) -> Result<Vec<(&str, &str)>, Bad> {
    v.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v.trim())),
            _ => Err(Bad),
        })
        .collect()
}

/// Pairs with percent-decoded values.
fn pairs(v: &str) -> Result<Vec<(String, String)>, Bad> {
    split_pairs(v)?
        .into_iter()
        .map(|(k, v)| Ok((k.to_string(), percent_decode(v)?)))
        .collect()
}

/// Pairs whose names are HTTP tokens and whose values hold no control characters but tab,
/// so a header cannot smuggle a line break into the request (RFC 9110, section 5).
fn headers(v: &str) -> Result<Vec<(String, String)>, Bad> {
    let pairs = pairs(v)?;
    let token = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    let clean = |s: &str| !s.chars().any(|c| c.is_control() && c != '\t');
    if pairs.iter().all(|(k, v)| token(k) && clean(v)) {
        Ok(pairs)
    } else {
        Err(Bad)
    }
}

fn operation_rates(v: &str) -> Result<Vec<(String, f64)>, Bad> {
    split_pairs(v)?
        .into_iter()
        .map(|(op, r)| Ok((op.to_string(), rate(r)?)))
        .collect()
}

/// Keeps the first position of each key and the last value, so a lookup finds what the
/// user wrote last.
fn later_wins<T>(pairs: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut out: Vec<(String, T)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    out
}

fn percent_decode(v: &str) -> Result<String, Bad> {
    let hex = |b: Option<&u8>| char::from(*b?).to_digit(16);
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let (Some(high), Some(low)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) else {
                return Err(Bad);
            };
            out.push(u8::try_from(high * 16 + low).map_err(|_| Bad)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Bad)
}

/// Encodes what `split_pairs` or trimming would change (W3C Baggage value octets).
fn percent_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_graphic() && !b"%,;=\"\\".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn show_pairs(pairs: &[(String, String)], secret: bool) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(k, v)| match secret {
            true => format!("{k}={REDACTED}"),
            false => format!("{k}={}", percent_encode(v)),
        })
        .collect();
    items.join(",")
}

fn show_ms(d: Duration) -> String {
    d.as_millis().to_string()
}

/// The port of an `http(s)://` URL, if written.
fn url_port(url: &str) -> Option<u16> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (_, port) = host_port.rsplit_once(':')?;
    port.parse().ok()
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "/etc/tfo.env";

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// `Config::load` with the file given as text, so no test touches the disk but those
    /// about reading.
    fn load(file: &str, env: &[(&str, &str)], cli: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let entries = parse_file(Path::new(FILE), file)?;
        resolve(&entries, &owned(env), &owned(cli))
    }

    #[derive(Debug, Clone, Copy)]
    enum At {
        /// Line 3 of `FILE`.
        File,
        Env,
        Cli,
    }

    fn load_at(at: At, key: &str, value: &str) -> Result<Config, ConfigError> {
        match at {
            At::File => load(&format!("# tfo-mcp\n\n{key}={value}\n"), &[], &[]),
            At::Env => load("", &[(key, value)], &[]),
            At::Cli => load("", &[], &[(key, value)]),
        }
    }

    fn value(config: &Config, key: &str) -> String {
        let found = config.effective().into_iter().find(|(k, _)| *k == key);
        found
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("{key} missing from effective()"))
    }

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("tfo-mcp-config-{}-{name}", std::process::id()))
    }

    #[test]
    fn defaults_match_the_key_table() {
        let expected: Vec<(&str, String)> = KEYS
            .iter()
            .map(|k| (k.name, k.default.to_string()))
            .collect();
        assert_eq!(
            Config::default().effective(),
            expected,
            "Default and KEYS[].default disagree"
        );
        assert_eq!(
            Config::load(&Sources::default()),
            Ok(Config::default()),
            "nothing set loads the defaults"
        );
        let c = Config::default();
        assert_eq!(
            c.telemetry.tracing.otlp_endpoint, "http://localhost:4318",
            "deviation: OTLP/HTTP port"
        );
        assert_eq!(
            c.telemetry.logging.output,
            LogOutput::Stderr,
            "deviation: stdout is the protocol"
        );
        assert_eq!(
            c.telemetry.metrics.host, "127.0.0.1",
            "deviation: loopback only"
        );
        assert_eq!(c.telemetry.service_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(c.server.max_line_bytes, 4 * 1024 * 1024);
        assert_eq!(
            c.telemetry.tracing.sampler,
            SamplerKind::ParentBasedTraceIdRatio
        );
    }

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
    fn each_layer_beats_the_one_below() {
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            &'static str,
        );
        // (key, file, env, command line, expected effective value)
        let cases: &[Case] = &[
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
                Some("staging"),
                None,
                None,
                "staging",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
                Some("staging"),
                Some("prod"),
                None,
                "prod",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
                Some("staging"),
                Some("prod"),
                Some("test"),
                "test",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
                Some("staging"),
                None,
                Some("test"),
                "test",
            ),
            (
                "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
                Some("0.5"),
                None,
                None,
                "0.5",
            ),
            (
                "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
                Some("0.5"),
                Some("0.25"),
                None,
                "0.25",
            ),
            (
                "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
                Some("0.5"),
                Some("0.25"),
                Some("0"),
                "0.0",
            ),
            (
                "TELEMETRYFLOW_MCP_METRICS_PORT",
                Some("9100"),
                None,
                None,
                "9100",
            ),
            (
                "TELEMETRYFLOW_MCP_METRICS_PORT",
                Some("9100"),
                Some("9200"),
                None,
                "9200",
            ),
            (
                "TELEMETRYFLOW_MCP_METRICS_PORT",
                Some("9100"),
                Some("9200"),
                Some("0"),
                "0",
            ),
            (
                "TELEMETRYFLOW_MCP_LOG_LEVEL",
                Some("debug"),
                None,
                None,
                "DEBUG",
            ),
            (
                "TELEMETRYFLOW_MCP_LOG_LEVEL",
                Some("debug"),
                Some("warn"),
                None,
                "WARNING",
            ),
            (
                "TELEMETRYFLOW_MCP_LOG_LEVEL",
                Some("debug"),
                Some("warn"),
                Some("Error"),
                "ERROR",
            ),
            ("TELEMETRYFLOW_MCP_PAGE_SIZE", Some("10"), None, None, "10"),
            (
                "TELEMETRYFLOW_MCP_PAGE_SIZE",
                Some("10"),
                Some("20"),
                None,
                "20",
            ),
            (
                "TELEMETRYFLOW_MCP_PAGE_SIZE",
                Some("10"),
                Some("20"),
                Some("30"),
                "30",
            ),
        ];
        for &(key, file, env, cli, expected) in cases {
            let file = file.map(|v| format!("{key}={v}\n")).unwrap_or_default();
            let env: Vec<(&str, &str)> = env.map(|v| (key, v)).into_iter().collect();
            let cli: Vec<(&str, &str)> = cli.map(|v| (key, v)).into_iter().collect();
            let config = load(&file, &env, &cli).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(
                value(&config, key),
                expected,
                "{key}: file={file:?} env={env:?} cli={cli:?}"
            );
        }
    }

    #[test]
    fn ours_beats_otel_in_a_layer_and_a_higher_layer_beats_both() {
        type Pairs = &'static [(&'static str, &'static str)];
        // (file, env, command line, key, expected effective value)
        let cases: &[(&str, Pairs, Pairs, &str, &str)] = &[
            (
                "",
                &[("OTEL_SERVICE_NAME", "otel")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "otel",
            ),
            (
                "",
                &[
                    ("TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME", "ours"),
                    ("OTEL_SERVICE_NAME", "otel"),
                ],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "ours",
            ),
            (
                "",
                &[
                    ("OTEL_SERVICE_NAME", "otel"),
                    ("TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME", "ours"),
                ],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "ours",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME=ours\nOTEL_SERVICE_NAME=otel\n",
                &[],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "ours",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME=ours\n",
                &[("OTEL_SERVICE_NAME", "otel")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "otel",
            ),
            (
                "",
                &[("TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE", "0.5")],
                &[("OTEL_TRACES_SAMPLER_ARG", "0.25")],
                "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
                "0.25",
            ),
            (
                "OTEL_TRACES_SAMPLER=always_off\n",
                &[],
                &[],
                "TELEMETRYFLOW_MCP_TRACING_SAMPLER",
                "always_off",
            ),
            (
                "",
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/")],
                &[],
                "TELEMETRYFLOW_MCP_OTLP_ENDPOINT",
                "https://collector:4318",
            ),
            (
                "",
                &[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")],
                &[],
                "TELEMETRYFLOW_MCP_OTLP_TIMEOUT_MS",
                "2500",
            ),
            (
                "",
                &[("OTEL_SDK_DISABLED", "true")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "false",
            ),
            (
                "",
                &[("OTEL_SDK_DISABLED", "false")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "true",
            ),
            (
                "",
                &[
                    ("OTEL_SDK_DISABLED", "true"),
                    ("TELEMETRYFLOW_MCP_TELEMETRY_ENABLED", "true"),
                ],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "true",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED=true\n",
                &[("OTEL_SDK_DISABLED", "TRUE")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "false",
            ),
            (
                "",
                &[("OTEL_SDK_DISABLED", "true")],
                &[("TELEMETRYFLOW_MCP_TELEMETRY_ENABLED", "on")],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "true",
            ),
        ];
        for (file, env, cli, key, expected) in cases {
            let config = load(file, env, cli).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(
                &value(&config, key),
                expected,
                "file={file:?} env={env:?} cli={cli:?}"
            );
        }
    }

    #[test]
    fn malformed_values_name_key_value_origin_and_what_is_allowed() {
        let cases: &[(At, &str, &str, &str)] = &[
            (
                At::Env,
                "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
                "1.5",
                "config: TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE=1.5 (environment): expected a number from 0.0 to 1.0",
            ),
            (
                At::Env,
                "OTEL_TRACES_SAMPLER_ARG",
                "NaN",
                "config: OTEL_TRACES_SAMPLER_ARG=NaN (environment): expected a number from 0.0 to 1.0",
            ),
            (
                At::File,
                "TELEMETRYFLOW_MCP_METRICS_PORT",
                "abc",
                "config: TELEMETRYFLOW_MCP_METRICS_PORT=abc (/etc/tfo.env:3): expected an integer from 0 to 65535",
            ),
            (
                At::Cli,
                "TELEMETRYFLOW_MCP_METRICS_PORT",
                "65536",
                "config: TELEMETRYFLOW_MCP_METRICS_PORT=65536 (command line): expected an integer from 0 to 65535",
            ),
            (
                At::Cli,
                "TELEMETRYFLOW_MCP_TRACING_ENABLED",
                "maybe",
                "config: TELEMETRYFLOW_MCP_TRACING_ENABLED=maybe (command line): expected true or false \
                 (also 1/0, yes/no, on/off; any case)",
            ),
            (
                At::Env,
                "OTEL_SDK_DISABLED",
                "2",
                "config: OTEL_SDK_DISABLED=2 (environment): expected true or false (also 1/0, yes/no, on/off; any case)",
            ),
            (
                At::File,
                "TELEMETRYFLOW_MCP_MAX_LINE_BYTES",
                "1023",
                "config: TELEMETRYFLOW_MCP_MAX_LINE_BYTES=1023 (/etc/tfo.env:3): expected an integer from 1024 to 1073741824",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_MAX_IN_FLIGHT",
                "0",
                "config: TELEMETRYFLOW_MCP_MAX_IN_FLIGHT=0 (environment): expected an integer from 1 to 4096",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_PAGE_SIZE",
                "10001",
                "config: TELEMETRYFLOW_MCP_PAGE_SIZE=10001 (environment): expected an integer from 1 to 10000",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_LOG_NOTIFY_RATE",
                "-1",
                "config: TELEMETRYFLOW_MCP_LOG_NOTIFY_RATE=-1 (environment): expected an integer from 0 to 10000",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_METRICS_INTERVAL_SECONDS",
                "0",
                "config: TELEMETRYFLOW_MCP_METRICS_INTERVAL_SECONDS=0 (environment): expected an integer from 1 to 86400",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_SHUTDOWN_GRACE_MS",
                "600001",
                "config: TELEMETRYFLOW_MCP_SHUTDOWN_GRACE_MS=600001 (environment): expected an integer from 0 to 600000 \
                 (milliseconds)",
            ),
            (
                At::Env,
                "OTEL_EXPORTER_OTLP_TIMEOUT",
                "0",
                "config: OTEL_EXPORTER_OTLP_TIMEOUT=0 (environment): expected an integer from 1 to 600000 (milliseconds)",
            ),
            (
                At::Env,
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                "0",
                "config: OTEL_BSP_MAX_EXPORT_BATCH_SIZE=0 (environment): expected an integer from 1 to 1048576",
            ),
            (
                At::Env,
                "OTEL_BSP_MAX_QUEUE_SIZE",
                "1048577",
                "config: OTEL_BSP_MAX_QUEUE_SIZE=1048577 (environment): expected an integer from 1 to 1048576",
            ),
            (
                At::Env,
                "OTEL_BSP_SCHEDULE_DELAY",
                "1.5",
                "config: OTEL_BSP_SCHEDULE_DELAY=1.5 (environment): expected an integer from 1 to 600000 (milliseconds)",
            ),
            (
                At::Env,
                "OTEL_TRACES_SAMPLER",
                "jaeger_remote",
                "config: OTEL_TRACES_SAMPLER=jaeger_remote (environment): expected one of always_on, always_off, \
                 traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_TRACING_EXPORTER",
                "jaeger",
                "config: TELEMETRYFLOW_MCP_TRACING_EXPORTER=jaeger (environment): expected one of otlp, console, none",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_METRICS_EXPORTER",
                "statsd",
                "config: TELEMETRYFLOW_MCP_METRICS_EXPORTER=statsd (environment): expected one of prometheus, otlp, \
                 console",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_LOG_LEVEL",
                "verbose",
                "config: TELEMETRYFLOW_MCP_LOG_LEVEL=verbose (environment): expected one of TRACE, DEBUG, INFO, \
                 WARNING (or WARN), ERROR, CRITICAL; any case",
            ),
            (
                At::Cli,
                "TELEMETRYFLOW_MCP_LOG_LEVEL",
                "in\nfo",
                "config: TELEMETRYFLOW_MCP_LOG_LEVEL=in\\nfo (command line): expected one of TRACE, DEBUG, INFO, \
                 WARNING (or WARN), ERROR, CRITICAL; any case",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_LOG_FORMAT",
                "xml",
                "config: TELEMETRYFLOW_MCP_LOG_FORMAT=xml (environment): expected one of json, console",
            ),
            (
                At::File,
                "TELEMETRYFLOW_MCP_LOG_OUTPUT",
                "",
                "config: TELEMETRYFLOW_MCP_LOG_OUTPUT= (/etc/tfo.env:3): expected stderr, stdout or a file path",
            ),
            (
                At::File,
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "\"\"",
                "config: TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME= (/etc/tfo.env:3): expected a non-empty string",
            ),
            (
                At::Cli,
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
                "",
                "config: TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT= (command line): expected a non-empty string",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_OTLP_ENDPOINT",
                "localhost:4318",
                "config: TELEMETRYFLOW_MCP_OTLP_ENDPOINT=localhost:4318 (environment): expected an http:// or https:// URL",
            ),
            (
                At::Env,
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://",
                "config: OTEL_EXPORTER_OTLP_ENDPOINT=http:// (environment): expected an http:// or https:// URL",
            ),
            (
                At::Env,
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "grpc://collector:4317",
                "config: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=grpc://collector:4317 (environment): expected empty or \
                 an http:// or https:// URL",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_METRICS_HOST",
                "localhost",
                "config: TELEMETRYFLOW_MCP_METRICS_HOST=localhost (environment): expected an IP address such as \
                 127.0.0.1 or ::1",
            ),
            (
                At::Env,
                "OTEL_RESOURCE_ATTRIBUTES",
                "team=a%zz",
                "config: OTEL_RESOURCE_ATTRIBUTES=team=a%zz (environment): expected comma-separated key=value pairs, \
                 values percent-encoded",
            ),
            (
                At::Env,
                "OTEL_RESOURCE_ATTRIBUTES",
                "team=a,=b",
                "config: OTEL_RESOURCE_ATTRIBUTES=team=a,=b (environment): expected comma-separated key=value pairs, \
                 values percent-encoded",
            ),
            (
                At::Env,
                "OTEL_RESOURCE_ATTRIBUTES",
                "team",
                "config: OTEL_RESOURCE_ATTRIBUTES=team (environment): expected comma-separated key=value pairs, \
                 values percent-encoded",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_OTLP_HEADERS",
                "Bearer secret",
                "config: TELEMETRYFLOW_MCP_OTLP_HEADERS=[REDACTED] (environment): expected comma-separated name=value \
                 pairs, names HTTP header names, values percent-encoded",
            ),
            (
                At::File,
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=secret%0D%0Ax-injected=1",
                "config: OTEL_EXPORTER_OTLP_HEADERS=[REDACTED] (/etc/tfo.env:3): expected comma-separated name=value \
                 pairs, names HTTP header names, values percent-encoded",
            ),
            (
                At::Cli,
                "TELEMETRYFLOW_MCP_OTLP_HEADERS",
                "x tenant=secret",
                "config: TELEMETRYFLOW_MCP_OTLP_HEADERS=[REDACTED] (command line): expected comma-separated name=value \
                 pairs, names HTTP header names, values percent-encoded",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES",
                "tools/call=2",
                "config: TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES=tools/call=2 (environment): expected comma-separated \
                 operation=rate pairs, each rate from 0.0 to 1.0",
            ),
            (
                At::Env,
                "TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES",
                "ping",
                "config: TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES=ping (environment): expected comma-separated \
                 operation=rate pairs, each rate from 0.0 to 1.0",
            ),
        ];
        for &(at, key, value, expected) in cases {
            match load_at(at, key, value) {
                Ok(_) => panic!("{key}={value:?} ({at:?}) was accepted"),
                Err(e) => assert_eq!(e.to_string(), expected, "{key}={value:?} ({at:?})"),
            }
        }
    }

    #[test]
    fn cross_field_errors_name_both_keys() {
        type Pairs = &'static [(&'static str, &'static str)];
        let cases: &[(&str, Pairs, Pairs, &str)] = &[
            (
                "",
                &[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "4096")],
                &[],
                "config: OTEL_BSP_MAX_EXPORT_BATCH_SIZE=4096 (environment) must not be greater than \
                 OTEL_BSP_MAX_QUEUE_SIZE=2048 (default)",
            ),
            (
                "OTEL_BSP_MAX_QUEUE_SIZE=100\n",
                &[],
                &[("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200")],
                "config: OTEL_BSP_MAX_EXPORT_BATCH_SIZE=200 (command line) must not be greater than \
                 OTEL_BSP_MAX_QUEUE_SIZE=100 (/etc/tfo.env:1)",
            ),
        ];
        for (file, env, cli, expected) in cases {
            let error = load(file, env, cli).expect_err(expected);
            assert_eq!(error.to_string(), *expected);
        }
        let equal = load(
            "",
            &[
                ("OTEL_BSP_MAX_QUEUE_SIZE", "64"),
                ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "64"),
            ],
            &[],
        );
        assert!(
            equal.is_ok(),
            "a batch as large as the queue is allowed: {equal:?}"
        );
    }

    #[test]
    fn file_syntax_errors_and_unknown_keys() {
        let cases: &[(&str, &str)] = &[
            (
                "# c\nTELEMETRYFLOW_MCP_LOG_LEVEL debug\n",
                "config: /etc/tfo.env:2: expected KEY=VALUE",
            ),
            (
                "=debug\n",
                "config: /etc/tfo.env:1: expected KEY=VALUE, found nothing before \"=\"",
            ),
            ("export\n", "config: /etc/tfo.env:1: expected KEY=VALUE"),
            (
                "# c\nTELEMETRYFLOW_MCP_LOG_LEVL=debug\n",
                "config: unknown key TELEMETRYFLOW_MCP_LOG_LEVL (/etc/tfo.env:2); did you mean \
                 TELEMETRYFLOW_MCP_LOG_LEVEL?",
            ),
            (
                "\n\n\ntelemetryflow_mcp_metrics_port=1\n",
                "config: unknown key telemetryflow_mcp_metrics_port (/etc/tfo.env:4); did you mean \
                 TELEMETRYFLOW_MCP_METRICS_PORT?",
            ),
            (
                "OTEL_SERVICE_NAM=x\n",
                "config: unknown key OTEL_SERVICE_NAM (/etc/tfo.env:1); did you mean OTEL_SERVICE_NAME?",
            ),
            ("PORT=9090\n", "config: unknown key PORT (/etc/tfo.env:1)"),
            (
                "TELEMETRYFLOW_MCP_CONFIG=other.env\n",
                "config: unknown key TELEMETRYFLOW_MCP_CONFIG (/etc/tfo.env:1)",
            ),
        ];
        for (file, expected) in cases {
            let error = load(file, &[], &[]).expect_err(expected);
            assert_eq!(error.to_string(), *expected, "file {file:?}");
        }
        let error =
            load("", &[], &[("TELEMETRYFLOW_MCP_METRIC_PORT", "1")]).expect_err("unknown override");
        assert_eq!(
            error.to_string(),
            "config: unknown key TELEMETRYFLOW_MCP_METRIC_PORT (command line); did you mean \
             TELEMETRYFLOW_MCP_METRICS_PORT?"
        );
    }

    #[test]
    fn file_lines_are_trimmed_unquoted_and_later_lines_win() {
        let env_key = "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT";
        let cases: &[(&str, &str)] = &[
            (
                "  TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT  =  prod  \n",
                "prod",
            ),
            (
                "export TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod\n",
                "prod",
            ),
            (
                "export\tTELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod\n",
                "prod",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=\"prod east\"\n",
                "prod east",
            ),
            ("TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT='prod'\n", "prod"),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=\"prod'\n",
                "\"prod'",
            ),
            ("TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=a=b\n", "a=b"),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod # not a comment\n",
                "prod # not a comment",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=one\nTELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=two\n",
                "two",
            ),
            ("TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod\r\n", "prod"),
            (
                "\u{feff}TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod\n",
                "prod",
            ),
            (
                "  # indented comment\n\t\nTELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod",
                "prod",
            ),
        ];
        for (file, expected) in cases {
            let config = load(file, &[], &[]).unwrap_or_else(|e| panic!("{file:?}: {e}"));
            assert_eq!(value(&config, env_key), *expected, "file {file:?}");
        }
    }

    #[test]
    fn empty_values_are_unset_in_the_environment_only() {
        let key = "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT";
        let config = load(
            &format!("{key}=staging\n"),
            &[(key, ""), ("OTEL_SERVICE_NAME", "  ")],
            &[],
        );
        let config = config.expect("empty environment values are ignored");
        assert_eq!(
            value(&config, key),
            "staging",
            "an empty env var must not hide the file"
        );
        assert_eq!(
            config.telemetry.service_name, "telemetryflow-mcp",
            "a blank OTEL_* var counts as unset"
        );

        let headers = "TELEMETRYFLOW_MCP_OTLP_HEADERS";
        let cleared = load(
            &format!("{headers}=authorization=x\n"),
            &[],
            &[(headers, "")],
        )
        .expect("empty list");
        assert!(
            cleared.telemetry.tracing.otlp_headers.is_empty(),
            "an empty override clears a list"
        );
        let none =
            load("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\n", &[], &[]).expect("empty optional URL");
        assert_eq!(none.telemetry.tracing.traces_endpoint, None);
    }

    #[test]
    fn lists_parse_percent_decode_and_print_back() {
        let config = load(
            "",
            &[
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    " service.namespace=tools, team=a%2Cb ,x=%E2%9C%93,y=1,x=last,,",
                ),
                (
                    "TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES",
                    "tools/call=0.5, ping=0,ping=0.25",
                ),
                (
                    "TELEMETRYFLOW_MCP_OTLP_HEADERS",
                    "authorization=Bearer%20abc,x-tenant=t1",
                ),
            ],
            &[],
        )
        .expect("valid lists");
        let t = &config.telemetry;
        assert_eq!(
            t.resource_attributes,
            owned(&[
                ("service.namespace", "tools"),
                ("team", "a,b"),
                ("x", "last"),
                ("y", "1")
            ]),
            "decoded, later duplicate wins in the first position"
        );
        assert_eq!(
            t.tracing.operation_rates,
            vec![("tools/call".to_string(), 0.5), ("ping".to_string(), 0.25)]
        );
        assert_eq!(
            t.tracing.otlp_headers,
            owned(&[("authorization", "Bearer abc"), ("x-tenant", "t1")])
        );
        let attributes = value(&config, "OTEL_RESOURCE_ATTRIBUTES");
        assert_eq!(attributes, "service.namespace=tools,team=a%2Cb,x=last,y=1");
        assert_eq!(
            value(&config, "TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES"),
            "tools/call=0.5,ping=0.25"
        );

        let tricky = owned(&[
            ("a", "x y"),
            ("b", "50%"),
            ("c", "k=v,w"),
            ("d", "\u{e9}"),
            ("e", " "),
        ]);
        let shown = show_pairs(&tricky, false);
        assert_eq!(shown, "a=x%20y,b=50%25,c=k%3Dv%2Cw,d=%C3%A9,e=%20");
        assert_eq!(
            pairs(&shown).ok(),
            Some(tricky),
            "what effective() prints loads back unchanged"
        );
    }

    #[test]
    fn effective_masks_secrets_and_writes_file_syntax() {
        let config = load(
            "TELEMETRYFLOW_MCP_OTLP_HEADERS=authorization=Bearer%20abc,x-tenant=t1\n\
             TELEMETRYFLOW_MCP_LOG_OUTPUT=/var/log/tfo-mcp.log\n\
             OTEL_BSP_SCHEDULE_DELAY=250\n",
            &[],
            &[],
        )
        .expect("valid file");
        let effective = config.effective();
        assert_eq!(effective.len(), KEYS.len(), "one line per key");
        let shown = format!("{effective:?}");
        assert!(
            !shown.contains("Bearer") && !shown.contains("t1"),
            "secret leaked: {shown}"
        );
        let cases = [
            (
                "TELEMETRYFLOW_MCP_OTLP_HEADERS",
                "authorization=[REDACTED],x-tenant=[REDACTED]",
            ),
            ("TELEMETRYFLOW_MCP_LOG_OUTPUT", "/var/log/tfo-mcp.log"),
            ("OTEL_BSP_SCHEDULE_DELAY", "250"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""),
        ];
        for (key, expected) in cases {
            assert_eq!(value(&config, key), expected, "{key}");
        }
        for (output, shown) in [("stdout", "stdout"), ("STDERR", "stderr")] {
            let config =
                load_at(At::Cli, "TELEMETRYFLOW_MCP_LOG_OUTPUT", output).expect("log output");
            assert_eq!(value(&config, "TELEMETRYFLOW_MCP_LOG_OUTPUT"), shown);
        }
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
                METRICS_EXPORTERS.iter().map(|(n, _)| *n).collect(),
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
    fn template_lists_every_key_once_and_parses_back_to_the_defaults() {
        let template = Config::template();
        assert!(
            template.contains("Precedence")
                && template.contains("OTEL_SERVICE_NAME in the environment beats")
        );
        let mut uncommented = String::new();
        for line in template.lines() {
            assert!(
                line.is_empty() || line.starts_with('#'),
                "template line is not a comment: {line:?}"
            );
            // Any known name counts here, fallbacks too, so that a wrapped description line
            // that a user might uncomment by mistake shows up as a duplicate below.
            let setting = line
                .strip_prefix("# ")
                .filter(|l| l.split_once('=').is_some_and(|(k, _)| known(k).is_some()));
            if let Some(setting) = setting {
                uncommented.push_str(setting);
                uncommented.push('\n');
            }
        }
        let written: Vec<&str> = uncommented
            .lines()
            .map(|l| l.split_once('=').map_or(l, |(k, _)| k))
            .collect();
        let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        assert_eq!(written, names, "every key exactly once, in table order");
        assert_eq!(load(&uncommented, &[], &[]), Ok(Config::default()));

        let path = temp_path("template.env");
        std::fs::write(&path, &uncommented).expect("write temp file");
        let loaded = Config::load(&Sources {
            file: Some(path.clone()),
            ..Sources::default()
        });
        std::fs::remove_file(&path).expect("remove temp file");
        assert_eq!(loaded, Ok(Config::default()), "the same through the disk");
    }

    #[test]
    fn unreadable_files_name_the_path_and_the_os_error() {
        let missing = temp_path("missing.env");
        let error = Config::load(&Sources {
            file: Some(missing.clone()),
            ..Sources::default()
        })
        .expect_err("missing file");
        let message = error.to_string();
        let prefix = format!("config: cannot read {}: ", missing.display());
        assert!(
            message.starts_with(&prefix) && message.ends_with("(os error 2)"),
            "{message}"
        );

        let path = temp_path("latin1.env");
        std::fs::write(
            &path,
            b"# ok\nTELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=caf\xe9\n",
        )
        .expect("write temp file");
        let error = Config::load(&Sources {
            file: Some(path.clone()),
            ..Sources::default()
        });
        std::fs::remove_file(&path).expect("remove temp file");
        let expected = format!("config: {}:2: not valid UTF-8", path.display());
        assert_eq!(error.map_err(|e| e.to_string()), Err(expected));
    }

    #[test]
    fn warnings_only_when_they_matter() {
        type Pairs = &'static [(&'static str, &'static str)];
        let port = "TELEMETRYFLOW_MCP_OTLP_ENDPOINT=http://localhost:4317 uses port 4317, the OTLP/gRPC port; this \
                    exporter speaks OTLP/HTTP, which collectors serve on port 4318";
        let cases: &[(Pairs, &[&str])] = &[
            (&[], &[]),
            (
                &[("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", "http://localhost:4317")],
                &[port],
            ),
            (
                &[
                    ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", "http://localhost:4317"),
                    ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "none"),
                ],
                &[],
            ),
            (
                &[
                    ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", "http://localhost:4317"),
                    ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "none"),
                    ("TELEMETRYFLOW_MCP_METRICS_EXPORTER", "otlp"),
                ],
                &[port],
            ),
            (
                &[
                    ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", "http://localhost:4317"),
                    ("OTEL_SDK_DISABLED", "true"),
                ],
                &[],
            ),
            (
                &[
                    ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", "http://localhost:4317"),
                    (
                        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                        "https://user@[::1]:4317/v1/traces",
                    ),
                ],
                &[
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=https://user@[::1]:4317/v1/traces uses port 4317, the \
                   OTLP/gRPC port; this exporter speaks OTLP/HTTP, which collectors serve on port 4318",
                ],
            ),
            (
                &[(
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    "http://collector:4318/v1/traces",
                )],
                &[
                    "TELEMETRYFLOW_MCP_OTLP_ENDPOINT=http://collector:4318/v1/traces ends in /v1/traces, but it is a \
                   base URL: the exporter appends /v1/traces and /v1/metrics itself; set \
                   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT for a full traces URL",
                ],
            ),
            (
                &[
                    ("TELEMETRYFLOW_MCP_TRACING_SAMPLER", "always_on"),
                    ("TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE", "0.1"),
                ],
                &[
                    "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE=0.1 has no effect with \
                   TELEMETRYFLOW_MCP_TRACING_SAMPLER=always_on; use traceidratio or parentbased_traceidratio",
                ],
            ),
            (
                &[
                    ("TELEMETRYFLOW_MCP_TRACING_SAMPLER", "traceidratio"),
                    ("TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE", "0.1"),
                ],
                &[],
            ),
            (
                &[("TELEMETRYFLOW_MCP_METRICS_HOST", "0.0.0.0")],
                &[
                    "TELEMETRYFLOW_MCP_METRICS_HOST=0.0.0.0 makes the unauthenticated /metrics endpoint reachable from \
                   other hosts",
                ],
            ),
            (&[("TELEMETRYFLOW_MCP_METRICS_HOST", "::1")], &[]),
            (
                &[
                    ("TELEMETRYFLOW_MCP_METRICS_HOST", "0.0.0.0"),
                    ("TELEMETRYFLOW_MCP_METRICS_EXPORTER", "console"),
                ],
                &[],
            ),
        ];
        for (env, expected) in cases {
            let config = load("", env, &[]).unwrap_or_else(|e| panic!("{env:?}: {e}"));
            assert_eq!(warnings(&config), *expected, "{env:?}");
        }
    }

    #[test]
    fn unknown_prefixed_environment_variables_are_reported() {
        let sources = Sources {
            env: owned(&[
                ("TELEMETRYFLOW_MCP_ZZZ_UNRELATED_SETTING", "1"),
                ("TELEMETRYFLOW_MCP_LOG_LEVL", "debug"),
                ("TELEMETRYFLOW_MCP_CONFIG", "/etc/tfo.env"),
                ("TELEMETRYFLOW_MCP_LOG_LEVEL", "debug"),
                ("OTEL_SERVICE_NAME", "x"),
                ("OTEL_SOMETHING_ELSE", "x"),
                ("PATH", "/usr/bin"),
            ]),
            ..Sources::default()
        };
        assert_eq!(
            unknown_env_keys(&sources),
            [
                "unknown environment variable TELEMETRYFLOW_MCP_LOG_LEVL is ignored; did you mean \
                 TELEMETRYFLOW_MCP_LOG_LEVEL?",
                "unknown environment variable TELEMETRYFLOW_MCP_ZZZ_UNRELATED_SETTING is ignored",
            ]
        );
        assert!(
            Config::load(&sources).is_ok(),
            "unknown environment variables are not errors"
        );
    }

    #[test]
    fn helpers_at_their_edges() {
        for (a, b, distance) in [
            ("", "", 0),
            ("abc", "abc", 0),
            ("kitten", "sitting", 3),
            ("", "abc", 3),
            ("abc", "", 3),
            ("flaw", "lawn", 2),
        ] {
            assert_eq!(edit_distance(a, b), distance, "{a} -> {b}");
        }
        for (url, port) in [
            ("http://h:4317", Some(4317)),
            ("http://h:4317/", Some(4317)),
            ("https://u:p@h:4318/x?y=1", Some(4318)),
            ("http://[::1]:4317", Some(4317)),
            ("http://[::1]", None),
            ("http://h", None),
            ("http://h/a:4317", None),
        ] {
            assert_eq!(url_port(url), port, "{url}");
        }
        for (encoded, decoded) in [
            ("", Some("")),
            ("a%20b", Some("a b")),
            ("%e2%9C%93", Some("\u{2713}")),
            ("%", None),
            ("%2", None),
            ("%ff", None),
            ("a+b", Some("a+b")),
        ] {
            assert_eq!(
                percent_decode(encoded).ok().as_deref(),
                decoded,
                "{encoded}"
            );
        }
        assert_eq!(wrap("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
    }

    /// The key table of README.md, as KEYS says it should read.
    fn readme_table() -> String {
        let mut table = String::from(
            "| Key | Default | Allowed values | What it does |\n| --- | --- | --- | --- |\n",
        );
        for key in KEYS {
            let default = match key.default {
                _ if key.name == "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_VERSION" => {
                    "the crate version".to_string()
                }
                "" => "(empty)".to_string(),
                default => format!("`{default}`"),
            };
            let fallback = key
                .fallback
                .map(|f| format!(" Fallback: `{f}`."))
                .unwrap_or_default();
            table.push_str(&format!(
                "| `{}` | {default} | {} | {}{fallback} |\n",
                key.name, key.allowed, key.description
            ));
        }
        table
    }

    #[test]
    fn readme_documents_every_key() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        assert!(
            readme.contains("## Configuration"),
            "README.md lacks its Configuration section"
        );
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README.md's key table is out of date with KEYS; it should read:\n{table}"
        );
        for name in KEYS
            .iter()
            .flat_map(|k| std::iter::once(k.name).chain(k.fallback))
        {
            assert!(
                readme.contains(&format!("`{name}`")),
                "README.md does not mention `{name}`"
            );
        }
        let example = readme
            .split_once("```sh\n# /etc/tfo-mcp.env\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(example, _)| example)
            .expect("README.md has the example config file");
        let config = load(example, &[], &[]).expect("README.md's example config file loads");
        assert_eq!(
            config.telemetry.resource_attributes[1],
            ("team".to_string(), "platform tools".to_string())
        );
    }
}
