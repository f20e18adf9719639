//! The spec's `PerformanceMonitor`: a request slower than the threshold logs
//! "Slow request detected" (a warning with `operation`, `duration_seconds`,
//! `threshold_seconds`), adds a `slow_request` event to the request's span and
//! counts it (`record_slow_request`).

use crate::metrics::Metrics;
use crate::telemetry::Span;
use crate::telemetry::model::KeyValue;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Flags requests slower than a threshold.
#[derive(Debug)]
pub struct PerformanceMonitor {
    threshold: Duration,
    slow: AtomicU64,
}

impl PerformanceMonitor {
    /// A monitor flagging requests slower than `threshold`.
    pub fn new(threshold: Duration) -> PerformanceMonitor {
        PerformanceMonitor {
            threshold,
            slow: AtomicU64::new(0),
        }
    }

    /// The threshold.
    pub fn threshold(&self) -> Duration {
        self.threshold
    }

    /// Checks one finished `operation` that took `elapsed`; when it is slow, warns,
    /// marks `span` and counts it. Returns whether it was slow.
    pub fn observe(
        &self,
        operation: &str,
        elapsed: Duration,
        span: &mut Span,
        metrics: &Metrics,
    ) -> bool {
        if elapsed <= self.threshold {
            return false;
        }
        let (duration, threshold) = (elapsed.as_secs_f64(), self.threshold.as_secs_f64());
        log::warn!(
            operation = operation,
            duration_seconds = duration,
            threshold_seconds = threshold;
            "Slow request detected"
        );
        span.add_event("slow_request", || {
            vec![
                KeyValue::new("duration_seconds", duration),
                KeyValue::new("threshold_seconds", threshold),
            ]
        });
        metrics.record_slow_request(operation);
        self.slow.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Slow requests seen so far.
    pub fn slow_requests(&self) -> u64 {
        self.slow.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::telemetry::{SpanKind, Tracer};
    use std::sync::Arc;

    #[test]
    fn only_requests_over_the_threshold_are_flagged_counted_and_marked() {
        let monitor = PerformanceMonitor::new(Duration::from_millis(100));
        let metrics = Metrics::disabled();
        let (queue, spans) = std::sync::mpsc::sync_channel(4);
        let mut config = Config::default();
        config.telemetry.tracing.sample_rate = 1.0;
        let tracer = Tracer::new(
            crate::telemetry::Sampler::new(&config.telemetry.tracing),
            queue,
            Arc::default(),
            "t".into(),
        );
        let mut fast = tracer.start_root("request.process", SpanKind::Server, "ping", None);
        assert!(!monitor.observe("ping", Duration::from_millis(100), &mut fast, &metrics));
        fast.end();
        let mut slow = tracer.start_root("request.process", SpanKind::Server, "tools/call", None);
        assert!(monitor.observe(
            "tools/call",
            Duration::from_millis(101),
            &mut slow,
            &metrics
        ));
        slow.end();
        assert_eq!(monitor.slow_requests(), 1, "one slow request counted");
        let fast = spans.try_recv().expect("fast span");
        let slow = spans.try_recv().expect("slow span");
        assert!(fast.events.is_empty(), "a fast request is not marked");
        let event = slow.events.first().expect("slow_request event");
        assert_eq!(event.name, "slow_request");
        assert_eq!(
            event.attributes,
            vec![
                KeyValue::new("duration_seconds", 0.101),
                KeyValue::new("threshold_seconds", 0.1)
            ]
        );
    }
}
