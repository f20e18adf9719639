//! Non-fatal remarks about a configuration that loaded: settings that have no effect or
//! probably mean something else, and unknown `TELEMETRYFLOW_MCP_*` environment variables.

use std::net::IpAddr;

use super::keys::SAMPLERS;
use super::load::{known, suggest};
use super::values::{name_of, url_host_port, url_port};
use super::{CONFIG_ENV, Config, SamplerKind, Sources, TraceExporter};

/// Our own prefix: unknown environment variables under it are reported, others ignored.
const PREFIX: &str = "TELEMETRYFLOW_MCP_";

/// Non-fatal remarks about a loaded configuration, one sentence each, for the log or
/// `tfo-mcp validate`.
pub fn warnings(config: &Config) -> Vec<String> {
    let telemetry = &config.telemetry;
    let tracing = &telemetry.tracing;
    let metrics = &telemetry.metrics;
    let traces_otlp =
        telemetry.enabled && tracing.enabled && tracing.exporter == TraceExporter::Otlp;
    let metrics_otlp = telemetry.enabled && metrics.enabled && metrics.exporters.otlp;
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
    let prometheus = telemetry.enabled && metrics.enabled && metrics.exporters.prometheus;
    if let (true, Ok(ip)) = (prometheus, metrics.host.parse::<IpAddr>())
        && !ip.is_loopback()
    {
        out.push(format!(
            "TELEMETRYFLOW_MCP_METRICS_HOST={} makes the unauthenticated /metrics endpoint \
             reachable from other hosts",
            metrics.host
        ));
    }
    if let (Some(_), Some(host)) = (
        &config.claude.api_key,
        plain_http_host(&config.claude.base_url),
    ) && !is_loopback(host)
    {
        out.push(format!(
            "TELEMETRYFLOW_MCP_CLAUDE_BASE_URL={} sends the Claude API key unencrypted to {host}; \
             use an https:// URL",
            config.claude.base_url
        ));
    }
    out
}

/// The host of an `http://` (not https) URL.
fn plain_http_host(url: &str) -> Option<&str> {
    if !url.get(..7)?.eq_ignore_ascii_case("http://") {
        return None;
    }
    let host_port = url_host_port(url)?;
    Some(match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host_port.split(':').next().unwrap_or(host_port),
    })
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{load, owned};

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
    fn a_claude_key_sent_over_plain_http_to_another_host_is_a_warning() {
        let key = ("TELEMETRYFLOW_MCP_CLAUDE_API_KEY", "sk-ant-x");
        let cases: &[(&[(&str, &str)], usize)] = &[
            (&[key], 0),
            (&[key, ("ANTHROPIC_BASE_URL", "http://127.0.0.1:8080")], 0),
            (&[key, ("ANTHROPIC_BASE_URL", "http://[::1]:8080/")], 0),
            (&[key, ("ANTHROPIC_BASE_URL", "http://localhost")], 0),
            (&[("ANTHROPIC_BASE_URL", "http://proxy.internal")], 0),
            (
                &[
                    key,
                    ("ANTHROPIC_BASE_URL", "HTTP://user@proxy.internal:80/x"),
                ],
                1,
            ),
        ];
        for (env, count) in cases {
            let config = load("", env, &[]).unwrap_or_else(|e| panic!("{env:?}: {e}"));
            let found = warnings(&config);
            assert_eq!(found.len(), *count, "{env:?}: {found:?}");
            if let Some(warning) = found.first() {
                assert!(
                    warning.contains("unencrypted to proxy.internal"),
                    "{warning}"
                );
                assert!(!warning.contains("sk-ant-x"), "{warning}");
            }
        }
    }
}
