//! Test support: a tiny deterministic generator of random telemetry, for the checks
//! that every message's length pass agrees with its write pass.

use std::borrow::Cow;

use super::logs::LogRecord;
use super::metrics::{HistogramPoint, Metric, MetricData, NumberPoint, NumberValue, Temporality};
use crate::telemetry::model::{
    Event, KeyValue, Resource, Scope, SpanData, SpanId, SpanKind, Status, StatusCode, TraceId,
    Value,
};

/// xorshift64*: deterministic, so a failure reproduces from its seed.
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }

    /// A u64 of any byte length, zero often.
    fn scalar(&mut self) -> u64 {
        if self.chance(4) {
            0
        } else {
            self.next() >> self.below(64)
        }
    }

    fn string(&mut self) -> String {
        // Lengths around the one-byte length prefix limit (127) matter most.
        let len = match self.below(4) {
            0 => 0,
            1 => self.below(8),
            2 => 120 + self.below(16),
            _ => self.below(400),
        };
        (0..len)
            .map(|_| match self.below(8) {
                0 => 'é',
                1 => '🦀',
                _ => char::from(b'a' + self.below(26) as u8),
            })
            .collect()
    }

    fn double(&mut self) -> f64 {
        match self.below(4) {
            0 => 0.0,
            1 => -1.5,
            _ => f64::from_bits(self.next()),
        }
    }
}

pub(crate) fn random_value(rng: &mut Rng) -> Value {
    match rng.below(5) {
        0 => Value::from(rng.string()),
        1 => Value::Bool(rng.chance(2)),
        2 => Value::Int(rng.scalar() as i64),
        3 => Value::Double(rng.double()),
        _ => Value::StrArray((0..rng.below(4)).map(|_| rng.string()).collect()),
    }
}

pub(crate) fn random_key_values(rng: &mut Rng) -> Vec<KeyValue> {
    (0..rng.below(6))
        .map(|_| KeyValue {
            key: Cow::Owned(rng.string()),
            value: random_value(rng),
        })
        .collect()
}

pub(crate) fn random_resource(rng: &mut Rng) -> Resource {
    Resource {
        attributes: random_key_values(rng),
    }
}

pub(crate) fn random_scope(rng: &mut Rng) -> Scope {
    Scope {
        name: Cow::Owned(rng.string()),
        version: Cow::Owned(rng.string()),
    }
}

pub(crate) fn random_span(rng: &mut Rng) -> SpanData {
    let kinds = [
        SpanKind::Internal,
        SpanKind::Server,
        SpanKind::Client,
        SpanKind::Producer,
        SpanKind::Consumer,
    ];
    let codes = [StatusCode::Unset, StatusCode::Ok, StatusCode::Error];
    SpanData {
        trace_id: TraceId(
            rng.next()
                .to_le_bytes()
                .repeat(2)
                .try_into()
                .unwrap_or([1; 16]),
        ),
        span_id: SpanId(rng.next().to_le_bytes()),
        parent_span_id: rng.chance(2).then(|| SpanId(rng.next().to_le_bytes())),
        trace_state: rng.string(),
        flags: rng.scalar() as u32,
        name: Cow::Owned(rng.string()),
        kind: kinds[rng.below(5) as usize],
        start_time_unix_nano: rng.scalar(),
        end_time_unix_nano: rng.scalar(),
        attributes: random_key_values(rng),
        dropped_attributes_count: rng.scalar() as u32,
        events: (0..rng.below(3))
            .map(|_| Event {
                time_unix_nano: rng.scalar(),
                name: Cow::Owned(rng.string()),
                attributes: random_key_values(rng),
            })
            .collect(),
        dropped_events_count: rng.scalar() as u32,
        status: Status {
            code: codes[rng.below(3) as usize],
            message: rng.string(),
        },
    }
}

fn random_number_points(rng: &mut Rng) -> Vec<NumberPoint> {
    (0..rng.below(3))
        .map(|_| NumberPoint {
            attributes: random_key_values(rng),
            start_time_unix_nano: rng.scalar(),
            time_unix_nano: rng.scalar(),
            value: if rng.chance(2) {
                NumberValue::Int(rng.scalar() as i64)
            } else {
                NumberValue::Double(rng.double())
            },
            flags: rng.scalar() as u32,
        })
        .collect()
}

fn random_temporality(rng: &mut Rng) -> Temporality {
    if rng.chance(2) {
        Temporality::Delta
    } else {
        Temporality::Cumulative
    }
}

pub(crate) fn random_metric(rng: &mut Rng) -> Metric {
    let data = match rng.below(3) {
        0 => MetricData::Gauge(random_number_points(rng)),
        1 => MetricData::Sum {
            points: random_number_points(rng),
            monotonic: rng.chance(2),
            temporality: random_temporality(rng),
        },
        _ => MetricData::Histogram {
            points: (0..rng.below(3))
                .map(|_| {
                    let buckets = rng.below(20) as usize;
                    HistogramPoint {
                        attributes: random_key_values(rng),
                        start_time_unix_nano: rng.scalar(),
                        time_unix_nano: rng.scalar(),
                        count: rng.scalar(),
                        sum: rng.chance(2).then(|| rng.double()),
                        bucket_counts: (0..buckets).map(|_| rng.scalar()).collect(),
                        explicit_bounds: (0..buckets.saturating_sub(1))
                            .map(|_| rng.double())
                            .collect(),
                        min: rng.chance(2).then(|| rng.double()),
                        max: rng.chance(2).then(|| rng.double()),
                        flags: rng.scalar() as u32,
                    }
                })
                .collect(),
            temporality: random_temporality(rng),
        },
    };
    Metric {
        name: Cow::Owned(rng.string()),
        description: Cow::Owned(rng.string()),
        unit: Cow::Owned(rng.string()),
        data,
    }
}

pub(crate) fn random_log_record(rng: &mut Rng) -> LogRecord {
    LogRecord {
        time_unix_nano: rng.scalar(),
        observed_time_unix_nano: rng.scalar(),
        severity_number: rng.scalar() as i32,
        severity_text: Cow::Owned(rng.string()),
        body: random_value(rng),
        attributes: random_key_values(rng),
        trace_id: rng.chance(2).then(|| TraceId([rng.next() as u8; 16])),
        span_id: rng.chance(2).then(|| SpanId(rng.next().to_le_bytes())),
        flags: rng.scalar() as u32,
    }
}
