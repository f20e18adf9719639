//! The observability handles a server reports to, passed explicitly into the
//! server and every request's context (design.md: no hidden globals but the logger).

use crate::metrics::Metrics;
use crate::telemetry::Tracer;
use std::sync::Arc;

/// Tracer and metrics of one process.
#[derive(Debug, Clone)]
pub struct Observability {
    /// Spans.
    pub tracer: Tracer,
    /// Counters, gauges and histograms.
    pub metrics: Arc<Metrics>,
}

impl Observability {
    /// Records nothing: for `tfo-mcp info`, tests and fuzzing.
    pub fn disabled() -> Observability {
        Observability {
            tracer: Tracer::disabled(),
            metrics: Metrics::disabled(),
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
