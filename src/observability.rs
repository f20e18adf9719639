//! The observability handles a server reports to, passed explicitly into the
//! server and every request's context (design.md: no hidden globals but the logger).

use crate::health::Health;
use crate::logging::ErrorTracker;
use crate::metrics::{Format, Metrics};
use crate::telemetry::Tracer;
use std::sync::Arc;

/// Tracer, metrics, error tracker and health checks of one process.
#[derive(Debug, Clone)]
pub struct Observability {
    /// Spans.
    pub tracer: Tracer,
    /// Counters, gauges and histograms.
    pub metrics: Arc<Metrics>,
    /// Failed operations: error records, critical alerts, the recent-errors summary.
    pub errors: Arc<ErrorTracker>,
    /// Health checks (`GET /health`, the `health_check` tool, `status://health`).
    pub health: Arc<Health>,
}

impl Observability {
    /// Records nothing: for `tfo-mcp info`, tests and fuzzing.
    pub fn disabled() -> Observability {
        let metrics = Metrics::disabled();
        Observability {
            tracer: Tracer::disabled(),
            errors: ErrorTracker::new(Arc::clone(&metrics)),
            metrics,
            health: Health::new(env!("CARGO_PKG_VERSION")),
        }
    }

    /// The health report as JSON text (`GET /health`'s body): for the
    /// `status://health` resource.
    pub fn health_report_json(&self) -> String {
        self.health.report().to_json().to_string()
    }

    /// The metrics in the Prometheus text format 0.0.4 (`GET /metrics`'s body):
    /// for a metrics resource.
    pub fn metrics_text(&self) -> String {
        self.metrics.render(Format::Text)
    }

    /// Traces with `tracer`, records no metrics.
    pub fn traced(tracer: Tracer) -> Observability {
        Observability {
            tracer,
            ..Observability::disabled()
        }
    }
}
