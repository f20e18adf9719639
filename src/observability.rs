//! The observability handles a server reports to, passed explicitly into the
//! server and every request's context (design.md: no hidden globals but the logger).

use crate::logging::ErrorTracker;
use crate::metrics::Metrics;
use crate::telemetry::Tracer;
use std::sync::Arc;

/// Tracer, metrics and error tracker of one process.
#[derive(Debug, Clone)]
pub struct Observability {
    /// Spans.
    pub tracer: Tracer,
    /// Counters, gauges and histograms.
    pub metrics: Arc<Metrics>,
    /// Failed operations: error records, critical alerts, the recent-errors summary.
    pub errors: Arc<ErrorTracker>,
}

impl Observability {
    /// Records nothing: for `tfo-mcp info`, tests and fuzzing.
    pub fn disabled() -> Observability {
        let metrics = Metrics::disabled();
        Observability {
            tracer: Tracer::disabled(),
            errors: ErrorTracker::new(Arc::clone(&metrics)),
            metrics,
        }
    }

    /// Traces with `tracer`, records no metrics.
    pub fn traced(tracer: Tracer) -> Observability {
        Observability {
            tracer,
            ..Observability::disabled()
        }
    }
}
