//! What goes wrong while loading: `ConfigError`, whose every message names the key (as
//! written), the value and its `Origin`. The tests here pin those messages for every way a
//! value, a file or a pair of settings can be refused.

use std::fmt;
use std::path::PathBuf;

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
                // A line without `=` is all key: it may be `NAME: secret`.
                let key = crate::redact::redact_text(&printable(key)).into_owned();
                write!(f, "config: unknown key {key} ({origin})")?;
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

/// The value with control characters escaped, so an error stays on one line.
pub(super) fn printable(value: &str) -> String {
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

#[cfg(test)]
mod tests {
    use crate::config::testing::{At, load, load_at, temp_path};
    use crate::config::{Config, Sources};

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
                "config: TELEMETRYFLOW_MCP_METRICS_EXPORTER=statsd (environment): expected one or more of \
                 prometheus, otlp, console, comma-separated",
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
}
