//! `status://health` (the health report `GET /health` serves) and
//! `metrics://prometheus` (the exposition text `GET /metrics` serves): what SREs see,
//! for the client too. Both are live snapshots, never cached.

use super::{Annotations, Contents, ReadResult, Reader, Resource, Target};
use crate::tools::Services;

pub(super) fn health() -> Resource {
    Resource {
        uri: "status://health",
        name: "health",
        title: "Health report",
        description: "The server's health report as JSON, as GET /health serves it: overall \
                      status (healthy, degraded or unhealthy), a timestamp, the version and each \
                      check (stdio loop, metrics endpoint, OTLP exporters, Claude API, recent \
                      errors by type) with its status, message and duration_ms.",
        mime_type: Some("application/json"),
        annotations: Annotations {
            user: true,
            assistant: true,
            priority: 0.5,
        },
        ttl_ms: 0,
        reader: Reader::Now(read_health),
        complete: None,
    }
}

pub(super) fn metrics() -> Resource {
    Resource {
        uri: "metrics://prometheus",
        name: "prometheus-metrics",
        title: "Prometheus metrics",
        description: "Every metric of this process in the Prometheus text exposition format \
                      0.0.4, as GET /metrics serves it: sessions, tool calls and their durations, \
                      Claude requests and tokens, MCP messages and sizes, exporter and process \
                      metrics. Empty when TELEMETRYFLOW_MCP_METRICS_ENABLED=false.",
        mime_type: Some(TEXT_FORMAT),
        annotations: Annotations {
            user: true,
            assistant: true,
            priority: 0.3,
        },
        ttl_ms: 0,
        reader: Reader::Now(read_metrics),
        complete: None,
    }
}

const TEXT_FORMAT: &str = "text/plain; version=0.0.4";

fn read_health(services: &Services, target: &Target) -> ReadResult {
    Ok(vec![Contents::text(
        &target.uri,
        "application/json",
        services.obs.health_report_json(),
    )])
}

fn read_metrics(services: &Services, target: &Target) -> ReadResult {
    Ok(vec![Contents::text(
        &target.uri,
        TEXT_FORMAT,
        services.obs.metrics_text(),
    )])
}
