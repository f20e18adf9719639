//! The one `Config` of the server: every field of the spec's `TelemetryConfig`,
//! `TracingConfig`, `MetricsConfig` and `LoggingConfig`, plus the server's own
//! limits. Layers: defaults < config file < environment < command-line flags.
//! The config file uses exactly the environment variable names (`KEY=VALUE`).
//!
//! This module owns the types, their defaults, `Sources`, `Config::load` and
//! `Config::effective`. The rest lives next door: `keys` is the table of every key,
//! `values` parses and prints values, `load` reads the file and resolves the layers,
//! `error` says what went wrong and where, `warnings` makes non-fatal remarks and
//! `template` writes the commented config file.

mod error;
mod keys;
mod load;
mod template;
#[cfg(test)]
mod testing;
mod values;
mod warnings;

/// `%XX` escapes decoded, as configuration values are (`None`: a broken escape or
/// text that is not UTF-8). Also for credentials in proxy URLs.
pub(crate) fn percent_decode(v: &str) -> Option<String> {
    values::percent_decode(v).ok()
}

pub use error::{ConfigError, Origin, Setting};
pub use keys::{KEYS, Key};
pub use warnings::{unknown_env_keys, warnings};

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the server reads from its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The spec's `TelemetryConfig` (with its nested tracing, metrics, logging).
    pub telemetry: TelemetryConfig,
    /// Protocol and runtime limits of the stdio server.
    pub server: ServerConfig,
    /// File and command tools: allowed roots and caps.
    pub sandbox: SandboxConfig,
    /// The Claude Messages API client and the `claude_conversation` tool.
    pub claude: ClaudeConfig,
    /// Which keys a layer set, as loaded (what [`Config::changed`] looks at).
    pub(crate) set_keys: SetKeys,
}

/// The keys some layer set, one bit per place in [`KEYS`]; `None` for a
/// configuration built in code, where every key may differ from its default.
/// Bookkeeping, not configuration: two configurations with the same values are
/// equal whatever set them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SetKeys(Option<u64>);

const _: () = assert!(KEYS.len() <= u64::BITS as usize, "one bit per key");

impl SetKeys {
    /// Nothing set yet, as a load starts.
    pub(super) fn none() -> SetKeys {
        SetKeys(Some(0))
    }

    /// Notes that the key at `at` in [`KEYS`] was set.
    pub(super) fn insert(&mut self, at: usize) {
        if let Some(bits) = &mut self.0 {
            *bits |= 1 << at;
        }
    }

    /// Whether the key at `at` may hold other than its default.
    fn may_differ(self, at: usize) -> bool {
        self.0.is_none_or(|bits| bits & (1 << at) != 0)
    }
}

impl PartialEq for SetKeys {
    fn eq(&self, _: &SetKeys) -> bool {
        true
    }
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
    pub otlp_headers: Vec<(String, Secret)>,
    /// `TELEMETRYFLOW_MCP_OTLP_TIMEOUT_MS` / `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds).
    pub otlp_timeout: Duration,
    /// `TELEMETRYFLOW_MCP_OTLP_CERTIFICATE` / `OTEL_EXPORTER_OTLP_CERTIFICATE`: the PEM file
    /// of the CAs trusted for an https OTLP endpoint instead of the system's.
    pub otlp_certificate: Option<PathBuf>,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`.
    pub max_queue_size: usize,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
    pub max_export_batch_size: usize,
    /// `OTEL_BSP_SCHEDULE_DELAY` (milliseconds).
    pub schedule_delay: Duration,
    /// `OTEL_BSP_EXPORT_TIMEOUT` (milliseconds).
    pub export_timeout: Duration,
}

/// Where metrics go besides the in-process registry; any combination, at least one
/// (`TELEMETRYFLOW_MCP_METRICS_EXPORTER=prometheus,otlp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MetricsExporters {
    /// Pull: `GET /metrics` and `GET /health` on `host:port`.
    pub prometheus: bool,
    /// Push OTLP/HTTP every `interval_seconds`.
    pub otlp: bool,
    /// Write a snapshot to the log output every `interval_seconds`.
    pub console: bool,
}

/// The spec's `MetricsConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsConfig {
    /// `TELEMETRYFLOW_MCP_METRICS_ENABLED`.
    pub enabled: bool,
    /// `TELEMETRYFLOW_MCP_METRICS_EXPORTER`: a comma-separated list.
    pub exporters: MetricsExporters,
    /// `TELEMETRYFLOW_MCP_METRICS_HOST` (deviation: `127.0.0.1`, not all interfaces).
    pub host: String,
    /// `TELEMETRYFLOW_MCP_METRICS_PORT`; 0 picks a free port.
    pub port: u16,
    /// `TELEMETRYFLOW_MCP_METRICS_INTERVAL_SECONDS`.
    pub interval_seconds: u64,
    /// `TELEMETRYFLOW_MCP_METRICS_MAX_SERIES`: series per labelled family before overflow.
    pub max_series: usize,
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
    // Issue 5 (logging): rotation, slow requests, OTLP logs.
    /// `TELEMETRYFLOW_MCP_LOG_FILE_MAX_BYTES`: rotate a log file before it grows beyond this; 0 never.
    pub file_max_bytes: u64,
    /// `TELEMETRYFLOW_MCP_LOG_FILE_KEEP`: rotated log files kept (`.1` newest).
    pub file_keep: usize,
    /// `TELEMETRYFLOW_MCP_SLOW_REQUEST_THRESHOLD_MS`: requests slower than this are logged as slow.
    pub slow_request_threshold: Duration,
    /// `TELEMETRYFLOW_MCP_LOG_OTLP_ENABLED`: also export log records to `{endpoint}/v1/logs`.
    pub otlp_logs: bool,
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

/// What the file and command tools may touch (`sandbox.rs`, `tools/execute_command.rs`).
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxConfig {
    /// `TELEMETRYFLOW_MCP_ALLOWED_ROOTS`: directories the file tools may reach; empty means
    /// the working directory at startup.
    pub allowed_roots: Vec<PathBuf>,
    /// `TELEMETRYFLOW_MCP_FILE_MAX_BYTES`: most bytes one read returns or one write stores.
    pub file_max_bytes: u64,
    /// `TELEMETRYFLOW_MCP_EXEC_ALLOW`: programs `execute_command` may run; empty turns it off.
    pub exec_allow: Vec<String>,
    /// `TELEMETRYFLOW_MCP_EXEC_TIMEOUT_MAX_SECONDS`: the largest `timeout` a call may ask for.
    pub exec_timeout_max_seconds: u64,
    /// `TELEMETRYFLOW_MCP_EXEC_OUTPUT_MAX_BYTES`: output kept per stream of one command.
    pub exec_output_max_bytes: usize,
}

/// A secret value (an API key): `Debug` shows `[REDACTED]`, only [`Secret::expose`] gives it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself, for the one place that sends it (an HTTP header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every copy of the secret replaced by `[REDACTED]`, whatever it
    /// looks like (a peer may quote what it was sent). Secrets shorter than 8 bytes
    /// are left to the patterns of `redact`: they would cut ordinary words.
    pub fn scrub<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        if self.0.len() >= 8 && text.contains(self.0.as_str()) {
            std::borrow::Cow::Owned(text.replace(self.0.as_str(), REDACTED))
        } else {
            std::borrow::Cow::Borrowed(text)
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The Claude Messages API client and its conversations (`TELEMETRYFLOW_MCP_CLAUDE_*`).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaudeConfig {
    /// `TELEMETRYFLOW_MCP_CLAUDE_API_KEY` / `ANTHROPIC_API_KEY`; `None` leaves the tool out.
    pub api_key: Option<Secret>,
    /// `TELEMETRYFLOW_MCP_CLAUDE_BASE_URL` / `ANTHROPIC_BASE_URL`, without a trailing `/`.
    pub base_url: String,
    /// `TELEMETRYFLOW_MCP_CLAUDE_MODEL`: the model when the tool call names none.
    pub model: String,
    /// `TELEMETRYFLOW_MCP_CLAUDE_MAX_TOKENS`: `max_tokens` when the tool call gives none.
    pub max_tokens: u32,
    /// `TELEMETRYFLOW_MCP_CLAUDE_TIMEOUT_MS`: the deadline of one call, retries included.
    pub timeout: Duration,
    /// `TELEMETRYFLOW_MCP_CLAUDE_MAX_RETRIES`: retries after the first attempt.
    pub max_retries: u32,
    /// `TELEMETRYFLOW_MCP_CLAUDE_MAX_CONVERSATIONS`: conversations kept in memory.
    pub max_conversations: usize,
    /// `TELEMETRYFLOW_MCP_CLAUDE_MAX_TURNS`: messages (user and assistant) kept per conversation.
    pub max_turns: usize,
    /// `TELEMETRYFLOW_MCP_CLAUDE_MAX_CONVERSATION_BYTES`: text kept per conversation.
    pub max_conversation_bytes: usize,
    /// `TELEMETRYFLOW_MCP_CLAUDE_CONVERSATION_TTL_SECONDS`: idle time before a conversation is forgotten.
    pub conversation_ttl: Duration,
    /// `TELEMETRYFLOW_MCP_CLAUDE_HEALTH_INTERVAL_SECONDS`: time between two health probes.
    pub health_interval: Duration,
}

/// The environment variable naming the config file. `Config::load` does not read it: the
/// caller turns it into `Sources::file` when no `--config` flag is given.
pub const CONFIG_ENV: &str = "TELEMETRYFLOW_MCP_CONFIG";

/// What secrets look like in `effective()` and in error messages.
use crate::redact::REDACTED;

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
        // Only what can be a setting (or a misspelt one, warned about): a shell's
        // environment holds dozens of other variables, each copied and looked up
        // among the keys at every start otherwise.
        let env = std::env::vars_os()
            .filter(|(name, _)| name.to_str().is_some_and(load::relevant))
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        Sources {
            file,
            env,
            overrides,
        }
    }
}

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
                    otlp_certificate: None,
                    max_queue_size: 2048,
                    max_export_batch_size: 512,
                    schedule_delay: Duration::from_millis(5000),
                    export_timeout: Duration::from_millis(10_000),
                },
                metrics: MetricsConfig {
                    enabled: true,
                    exporters: MetricsExporters {
                        prometheus: true,
                        ..MetricsExporters::default()
                    },
                    host: "127.0.0.1".to_string(),
                    port: 9090,
                    interval_seconds: 60,
                    max_series: 1000,
                },
                logging: LoggingConfig {
                    level: LogLevel::Info,
                    format: LogFormat::Json,
                    output: LogOutput::Stderr,
                    file_max_bytes: 0,
                    file_keep: 5,
                    slow_request_threshold: Duration::from_millis(5000),
                    otlp_logs: false,
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
            sandbox: SandboxConfig {
                allowed_roots: Vec::new(),
                file_max_bytes: 1024 * 1024,
                exec_allow: Vec::new(),
                exec_timeout_max_seconds: 300,
                exec_output_max_bytes: 1024 * 1024,
            },
            claude: ClaudeConfig {
                api_key: None,
                base_url: "https://api.anthropic.com".to_string(),
                model: "claude-sonnet-5-5".to_string(),
                max_tokens: 4096,
                timeout: Duration::from_millis(120_000),
                max_retries: 2,
                max_conversations: 100,
                max_turns: 50,
                max_conversation_bytes: 1024 * 1024,
                conversation_ttl: Duration::from_secs(3600),
                health_interval: Duration::from_secs(60),
            },
            set_keys: SetKeys::default(),
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
            Some(path) => load::parse_file(path, &load::read_file(path)?)?,
            None => Vec::new(),
        };
        load::resolve(&file, &sources.env, &sources.overrides)
    }

    /// Effective values, one (KEY, value) per key of `KEYS`, in table order, written as they
    /// would be in the config file; OTLP header values are `[REDACTED]`, so is the value of
    /// any key whose name looks secret, and secret-looking text in other values is cut out.
    pub fn effective(&self) -> Vec<(&'static str, String)> {
        KEYS.iter()
            .map(|key| (key.name, shown(key, (key.show)(self))))
            .collect()
    }

    /// [`Config::effective`] for the keys whose value is not the default (compared
    /// before masking), in table order: what the start record lists.
    pub fn changed(&self) -> Vec<(&'static str, String)> {
        // `KEYS[].default` is what the default configuration shows (a test holds them
        // equal): no default configuration is built to compare with. Of a loaded
        // configuration only the keys some layer set are shown: a key's `set` changes
        // no other key's value (a test holds that too). Showing all 54 to compare
        // cost about 23,000 instructions on the way to the first answer (callgrind).
        KEYS.iter()
            .enumerate()
            .filter(|&(at, _)| self.set_keys.may_differ(at))
            .filter_map(|(_, key)| {
                let value = (key.show)(self);
                (value != key.default).then(|| (key.name, shown(key, value)))
            })
            .collect()
    }

    /// The value of the key `name` as [`Config::effective`] shows it ("" for no such key).
    pub fn shown(&self, name: &str) -> String {
        KEYS.iter()
            .find(|key| key.name == name)
            .map_or_else(String::new, |key| shown(key, (key.show)(self)))
    }
}

/// `value` of `key` as it may be shown: masked when the key names a secret, with
/// secret-looking text cut out otherwise.
fn shown(key: &Key, value: String) -> String {
    if crate::redact::is_secret_key(key.name) && !value.is_empty() {
        REDACTED.to_string()
    } else {
        crate::redact::redact_text(&value).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{At, load, load_at, value};

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

    /// `changed` looks only at the keys some layer set; that lists every change only
    /// while setting a key changes no other key's value. Each key is set alone, under
    /// its name and its fallback, to every sample value it takes other than its
    /// default, and the list compared with a look at all keys.
    #[test]
    fn setting_one_key_changes_that_key_alone() {
        const SAMPLES: [&str; 20] = [
            "false",
            "2",
            "1025",
            "0.5",
            "x-a=b",
            "tools/call=0.5",
            "ls",
            "/tmp",
            "sk-ant-test",
            "http://127.0.0.1:1",
            "::1",
            "DEBUG",
            "console",
            "always_off",
            "prometheus,otlp",
            "claude-haiku-5-5",
            "none",
            "x",
            "1",
            "0",
        ];
        for key in KEYS {
            let mut tried = 0;
            for name in std::iter::once(key.name).chain(key.fallback) {
                for sample in SAMPLES {
                    let Ok(config) = load_at(At::Env, name, sample) else {
                        continue;
                    };
                    if (key.show)(&config) == key.default {
                        continue;
                    }
                    tried += 1;
                    let every = Config {
                        set_keys: SetKeys::default(),
                        ..config.clone()
                    };
                    let changed = config.changed();
                    assert_eq!(changed, every.changed(), "{name}={sample} changed more");
                    assert_eq!(changed.len(), 1, "{name}={sample}: {changed:?}");
                    assert_eq!(changed[0].0, key.name);
                }
            }
            assert!(tried > 0, "no sample value is valid for {}", key.name);
        }
        assert!(
            load("", &[], &[]).expect("defaults").changed().is_empty(),
            "nothing set, nothing changed"
        );
        let same = load_at(At::Env, "TELEMETRYFLOW_MCP_LOG_LEVEL", "info").expect("default");
        assert!(
            same.changed().is_empty(),
            "set to its default: not a change"
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
        // Issue 5: secret-looking text in any value is masked too.
        let config = load(
            "TELEMETRYFLOW_MCP_OTLP_ENDPOINT=https://ci:hunter2@otlp.example:4318\n\
             OTEL_RESOURCE_ATTRIBUTES=team=a,api_key=sk-ant-abc\n",
            &[],
            &[],
        )
        .expect("valid file");
        assert_eq!(
            value(&config, "TELEMETRYFLOW_MCP_OTLP_ENDPOINT"),
            "https://ci:[REDACTED]@otlp.example:4318"
        );
        assert_eq!(
            value(&config, "OTEL_RESOURCE_ATTRIBUTES"),
            "team=a,api_key=[REDACTED]"
        );
        for (output, shown) in [("stdout", "stdout"), ("STDERR", "stderr")] {
            let config =
                load_at(At::Cli, "TELEMETRYFLOW_MCP_LOG_OUTPUT", output).expect("log output");
            assert_eq!(value(&config, "TELEMETRYFLOW_MCP_LOG_OUTPUT"), shown);
        }
    }
}
