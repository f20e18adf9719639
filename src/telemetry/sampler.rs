//! The spec's `SamplingStrategy` (a default rate and per-operation rates) made
//! deterministic on the trace id, inside the OpenTelemetry sampler kinds
//! (`always_on`, `always_off`, `traceidratio`, `parentbased_*`).

use super::context::SpanContext;
use super::model::TraceId;
use crate::config::{SamplerKind, TracingConfig};

/// Decides whether a new trace (or a child of a remote parent) is recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampler {
    kind: SamplerKind,
    default_rate: f64,
    operation_rates: Vec<(String, f64)>,
}

impl Sampler {
    /// From the tracing configuration.
    pub fn new(config: &TracingConfig) -> Sampler {
        Sampler {
            kind: config.sampler,
            default_rate: config.sample_rate,
            operation_rates: config.operation_rates.clone(),
        }
    }

    /// The rate for `operation` (an MCP method such as `tools/call`).
    pub fn rate(&self, operation: &str) -> f64 {
        self.operation_rates
            .iter()
            .find(|(op, _)| op == operation)
            .map_or(self.default_rate, |(_, rate)| *rate)
    }

    /// The decision for a span starting `operation` under `parent` (if any) in
    /// trace `trace_id`. The same inputs always give the same answer.
    pub fn should_sample(
        &self,
        operation: &str,
        trace_id: &TraceId,
        parent: Option<&SpanContext>,
    ) -> bool {
        let ratio = || ratio_sampled(trace_id, self.rate(operation));
        match (self.kind, parent) {
            (SamplerKind::AlwaysOn, _) => true,
            (SamplerKind::AlwaysOff, _) => false,
            (SamplerKind::TraceIdRatio, _) => ratio(),
            (_, Some(parent)) => parent.is_sampled(),
            (SamplerKind::ParentBasedAlwaysOn, None) => true,
            (SamplerKind::ParentBasedAlwaysOff, None) => false,
            (SamplerKind::ParentBasedTraceIdRatio, None) => ratio(),
        }
    }
}

/// TraceIdRatioBased as the Rust and Go SDKs do it: the last 8 bytes of the
/// trace id, big-endian, shifted to 63 bits, below `rate · 2^63`.
fn ratio_sampled(trace_id: &TraceId, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    let bound = (rate.max(0.0) * (1u64 << 63) as f64) as u64;
    let mut low = [0u8; 8];
    low.copy_from_slice(&trace_id.0[8..]);
    (u64::from_be_bytes(low) >> 1) < bound
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::context::new_trace_id;

    fn sampler(kind: SamplerKind, rate: f64, ops: &[(&str, f64)]) -> Sampler {
        Sampler {
            kind,
            default_rate: rate,
            operation_rates: ops.iter().map(|(o, r)| (o.to_string(), *r)).collect(),
        }
    }

    fn parent(sampled: bool) -> SpanContext {
        SpanContext {
            flags: u8::from(sampled),
            is_remote: true,
            ..SpanContext::default()
        }
    }

    #[test]
    fn kinds_and_parents() {
        let id = new_trace_id();
        let cases = [
            (SamplerKind::AlwaysOn, Some(false), true),
            (SamplerKind::AlwaysOff, Some(true), false),
            (SamplerKind::ParentBasedAlwaysOn, Some(false), false),
            (SamplerKind::ParentBasedAlwaysOn, None, true),
            (SamplerKind::ParentBasedAlwaysOff, Some(true), true),
            (SamplerKind::ParentBasedAlwaysOff, None, false),
            (SamplerKind::ParentBasedTraceIdRatio, Some(true), true),
            (SamplerKind::ParentBasedTraceIdRatio, Some(false), false),
        ];
        for (kind, parent_sampled, want) in cases {
            let p = parent_sampled.map(parent);
            assert_eq!(
                sampler(kind, 0.0, &[]).should_sample("ping", &id, p.as_ref()),
                want,
                "{kind:?} {parent_sampled:?}"
            );
        }
    }

    #[test]
    fn ratio_is_deterministic_monotonic_and_close_to_the_rate() {
        let ids: Vec<TraceId> = (0..20_000).map(|_| new_trace_id()).collect();
        let s = sampler(
            SamplerKind::TraceIdRatio,
            0.25,
            &[("ping", 0.0), ("tools/call", 1.0)],
        );
        let picked: Vec<bool> = ids
            .iter()
            .map(|id| s.should_sample("tools/list", id, None))
            .collect();
        let again: Vec<bool> = ids
            .iter()
            .map(|id| s.should_sample("tools/list", id, None))
            .collect();
        assert_eq!(picked, again, "same trace id, same answer");
        let share = picked.iter().filter(|&&p| p).count() as f64 / ids.len() as f64;
        assert!(
            (share - 0.25).abs() < 0.02,
            "sampled share {share} for rate 0.25"
        );
        let wider = sampler(SamplerKind::TraceIdRatio, 0.5, &[]);
        for (id, p) in ids.iter().zip(&picked) {
            assert!(
                !p || wider.should_sample("tools/list", id, None),
                "a higher rate samples a superset"
            );
        }
        assert!(
            ids.iter().all(|id| !s.should_sample("ping", id, None)),
            "per-operation rate 0"
        );
        assert!(
            ids.iter().all(|id| s.should_sample("tools/call", id, None)),
            "per-operation rate 1"
        );
    }
}
