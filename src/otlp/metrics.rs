//! `ExportMetricsServiceRequest` (metrics.proto, metrics_service.proto) from a
//! snapshot of [`Metric`]s, and the reading of `ExportMetricsServiceResponse`.

use std::borrow::Cow;

use super::common::{Envelope, Request, attributes};
use super::response::{self, DecodeError, PartialSuccess, PartialSuccessFields};
use super::wire::{Message, Sink, fields};
use crate::telemetry::model::{KeyValue, Resource, Scope};

/// One metric stream, as exported: a name, its unit and its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Metric name, e.g. `mcp.server.operation.duration`.
    pub name: Cow<'static, str>,
    /// Human-readable description (may be empty).
    pub description: Cow<'static, str>,
    /// UCUM unit, e.g. `s`, `By`, `{request}` (may be empty).
    pub unit: Cow<'static, str>,
    /// The points and how to read them.
    pub data: MetricData,
}

/// The kind of a metric and its points (`Metric.data`).
#[derive(Debug, Clone, PartialEq)]
pub enum MetricData {
    /// Last-value readings (`Gauge`).
    Gauge(Vec<NumberPoint>),
    /// Sums, counters among them (`Sum`).
    Sum {
        /// The points.
        points: Vec<NumberPoint>,
        /// Only ever increases (a counter).
        monotonic: bool,
        /// Since the series start, or since the previous export.
        temporality: Temporality,
    },
    /// Explicit-bucket histograms (`Histogram`).
    Histogram {
        /// The points.
        points: Vec<HistogramPoint>,
        /// Since the series start, or since the previous export.
        temporality: Temporality,
    },
}

impl MetricData {
    /// Whether there is no point to send.
    pub fn is_empty(&self) -> bool {
        match self {
            MetricData::Gauge(points) | MetricData::Sum { points, .. } => points.is_empty(),
            MetricData::Histogram { points, .. } => points.is_empty(),
        }
    }
}

/// OTLP `AggregationTemporality` (0, unspecified, is never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Temporality {
    /// Each point covers the time since the previous export.
    Delta = 1,
    /// Each point covers the time since the series start; what Prometheus-style
    /// backends want, and the SDK default.
    #[default]
    Cumulative = 2,
}

/// `DataPointFlags.FLAG_NO_RECORDED_VALUE`: the point marks a gap (a stale series),
/// its value is meaningless.
pub const FLAG_NO_RECORDED_VALUE: u32 = 1;

/// A gauge or sum value (`NumberDataPoint.value`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberValue {
    /// `as_int`.
    Int(i64),
    /// `as_double`.
    Double(f64),
}

/// One gauge or sum point (`NumberDataPoint`).
#[derive(Debug, Clone, PartialEq)]
pub struct NumberPoint {
    /// The point's attributes (keys unique).
    pub attributes: Vec<KeyValue>,
    /// Series start (or last reset) for cumulative sums, nanoseconds since the Unix epoch.
    pub start_time_unix_nano: u64,
    /// When the value was read, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// The value.
    pub value: NumberValue,
    /// `DataPointFlags`, e.g. [`FLAG_NO_RECORDED_VALUE`].
    pub flags: u32,
}

/// One explicit-bucket histogram point (`HistogramDataPoint`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistogramPoint {
    /// The point's attributes (keys unique).
    pub attributes: Vec<KeyValue>,
    /// Series start (or last reset), nanoseconds since the Unix epoch.
    pub start_time_unix_nano: u64,
    /// When the point was taken, nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// Number of recorded values: the sum of `bucket_counts`.
    pub count: u64,
    /// Sum of the recorded values; `None` when unknown (e.g. negative values were
    /// recorded into a cumulative histogram).
    pub sum: Option<f64>,
    /// Per-bucket (not cumulative) counts, `explicit_bounds.len() + 1` of them, or none.
    pub bucket_counts: Vec<u64>,
    /// Strictly increasing upper bounds; bucket i is `(bounds[i-1], bounds[i]]`.
    pub explicit_bounds: Vec<f64>,
    /// Smallest recorded value, if known.
    pub min: Option<f64>,
    /// Largest recorded value, if known.
    pub max: Option<f64>,
    /// `DataPointFlags`, e.g. [`FLAG_NO_RECORDED_VALUE`].
    pub flags: u32,
}

fields! {
    /// `ExportMetricsServiceRequest` (metrics_service.proto): the POST body of `/v1/metrics`.
    mod export_metrics_service_request = "ExportMetricsServiceRequest" {
        RESOURCE_METRICS = 1,
    }
}

fields! {
    /// `ResourceMetrics`.
    mod resource_metrics = "ResourceMetrics" {
        RESOURCE = 1,
        SCOPE_METRICS = 2,
    }
}

fields! {
    /// `ScopeMetrics`.
    mod scope_metrics = "ScopeMetrics" {
        SCOPE = 1,
        METRICS = 2,
    }
}

fields! {
    /// `Metric`: `gauge`, `sum` and `histogram` are members of `oneof data`.
    mod metric = "Metric" {
        NAME = 1,
        DESCRIPTION = 2,
        UNIT = 3,
        GAUGE = 5,
        SUM = 7,
        HISTOGRAM = 9,
    }
}

fields! {
    /// `Gauge`.
    mod gauge = "Gauge" {
        DATA_POINTS = 1,
    }
}

fields! {
    /// `Sum`.
    mod sum = "Sum" {
        DATA_POINTS = 1,
        AGGREGATION_TEMPORALITY = 2,
        IS_MONOTONIC = 3,
    }
}

fields! {
    /// `Histogram`.
    mod histogram = "Histogram" {
        DATA_POINTS = 1,
        AGGREGATION_TEMPORALITY = 2,
    }
}

fields! {
    /// `NumberDataPoint`: `as_double` and `as_int` (sfixed64) are members of
    /// `oneof value`; `flags` is a varint here, unlike `Span.flags`.
    mod number_data_point = "NumberDataPoint" {
        START_TIME_UNIX_NANO = 2,
        TIME_UNIX_NANO = 3,
        AS_DOUBLE = 4,
        AS_INT = 6,
        ATTRIBUTES = 7,
        FLAGS = 8,
    }
}

fields! {
    /// `HistogramDataPoint`: `count` and `bucket_counts` are fixed64, the last packed;
    /// `sum`, `min` and `max` are `optional double`.
    mod histogram_data_point = "HistogramDataPoint" {
        START_TIME_UNIX_NANO = 2,
        TIME_UNIX_NANO = 3,
        COUNT = 4,
        SUM = 5,
        BUCKET_COUNTS = 6,
        EXPLICIT_BOUNDS = 7,
        ATTRIBUTES = 9,
        FLAGS = 10,
        MIN = 11,
        MAX = 12,
    }
}

fields! {
    /// `ExportMetricsServiceResponse`.
    mod export_metrics_service_response = "ExportMetricsServiceResponse" {
        PARTIAL_SUCCESS = 1,
    }
}

fields! {
    /// `ExportMetricsPartialSuccess`.
    mod export_metrics_partial_success = "ExportMetricsPartialSuccess" {
        REJECTED_DATA_POINTS = 1,
        ERROR_MESSAGE = 2,
    }
}

const ENVELOPE: Envelope = Envelope {
    request_resource_items: export_metrics_service_request::RESOURCE_METRICS,
    resource: resource_metrics::RESOURCE,
    resource_scope_items: resource_metrics::SCOPE_METRICS,
    scope: scope_metrics::SCOPE,
    scope_items: scope_metrics::METRICS,
};

const PARTIAL_SUCCESS: PartialSuccessFields = PartialSuccessFields {
    partial_success: export_metrics_service_response::PARTIAL_SUCCESS,
    rejected: export_metrics_partial_success::REJECTED_DATA_POINTS,
    error_message: export_metrics_partial_success::ERROR_MESSAGE,
};

/// Encodes `metrics` as one `ExportMetricsServiceRequest` body (protobuf, for
/// `POST /v1/metrics`): one `ResourceMetrics`, one `ScopeMetrics`, the metrics in order.
///
/// Metrics without points are left out; when none is left the result is an empty
/// `Vec` rather than an envelope with no points: send nothing then.
pub fn encode_metrics_request(resource: &Resource, scope: &Scope, metrics: &[Metric]) -> Vec<u8> {
    Request {
        envelope: &ENVELOPE,
        resource,
        scope,
        items: metrics,
        keep: |metric| !metric.data.is_empty(),
    }
    .encode()
}

/// Reads an `ExportMetricsServiceResponse` body; `rejected` counts data points.
/// Same rules as [`decode_partial_success`](super::decode_partial_success) for traces.
pub fn decode_metrics_partial_success(body: &[u8]) -> Result<Option<PartialSuccess>, DecodeError> {
    response::decode_partial_success(body, &PARTIAL_SUCCESS)
}

impl super::common::Item for Metric {}

impl Message for Metric {
    fn fields<S: Sink>(&self, out: &mut S) {
        if !self.name.is_empty() {
            out.string(metric::NAME, &self.name);
        }
        if !self.description.is_empty() {
            out.string(metric::DESCRIPTION, &self.description);
        }
        if !self.unit.is_empty() {
            out.string(metric::UNIT, &self.unit);
        }
        let field = match self.data {
            MetricData::Gauge(_) => metric::GAUGE,
            MetricData::Sum { .. } => metric::SUM,
            MetricData::Histogram { .. } => metric::HISTOGRAM,
        };
        out.message(field, &self.data);
    }
}

/// `Gauge`, `Sum` or `Histogram`, by variant.
impl Message for MetricData {
    fn fields<S: Sink>(&self, out: &mut S) {
        match self {
            MetricData::Gauge(points) => {
                for point in points {
                    out.message(gauge::DATA_POINTS, point);
                }
            }
            MetricData::Sum {
                points,
                monotonic,
                temporality,
            } => {
                for point in points {
                    out.message(sum::DATA_POINTS, point);
                }
                out.varint(sum::AGGREGATION_TEMPORALITY, *temporality as u64);
                if *monotonic {
                    out.varint(sum::IS_MONOTONIC, 1);
                }
            }
            MetricData::Histogram {
                points,
                temporality,
            } => {
                for point in points {
                    out.message(histogram::DATA_POINTS, point);
                }
                out.varint(histogram::AGGREGATION_TEMPORALITY, *temporality as u64);
            }
        }
    }
}

impl Message for NumberPoint {
    fn fields<S: Sink>(&self, out: &mut S) {
        use number_data_point as f;
        if self.start_time_unix_nano != 0 {
            out.fixed64(f::START_TIME_UNIX_NANO, self.start_time_unix_nano);
        }
        if self.time_unix_nano != 0 {
            out.fixed64(f::TIME_UNIX_NANO, self.time_unix_nano);
        }
        // A oneof member: written even when 0, or the point would have no value.
        match self.value {
            NumberValue::Double(d) => out.double(f::AS_DOUBLE, d),
            NumberValue::Int(i) => out.fixed64(f::AS_INT, i as u64),
        }
        attributes(f::ATTRIBUTES, &self.attributes, out);
        if self.flags != 0 {
            out.varint(f::FLAGS, u64::from(self.flags));
        }
    }
}

impl Message for HistogramPoint {
    fn fields<S: Sink>(&self, out: &mut S) {
        use histogram_data_point as f;
        if self.start_time_unix_nano != 0 {
            out.fixed64(f::START_TIME_UNIX_NANO, self.start_time_unix_nano);
        }
        if self.time_unix_nano != 0 {
            out.fixed64(f::TIME_UNIX_NANO, self.time_unix_nano);
        }
        if self.count != 0 {
            out.fixed64(f::COUNT, self.count);
        }
        // `optional double`: explicit presence, so a known 0.0 is written.
        if let Some(sum) = self.sum {
            out.double(f::SUM, sum);
        }
        out.packed_fixed64(f::BUCKET_COUNTS, &self.bucket_counts);
        out.packed_double(f::EXPLICIT_BOUNDS, &self.explicit_bounds);
        attributes(f::ATTRIBUTES, &self.attributes, out);
        if self.flags != 0 {
            out.varint(f::FLAGS, u64::from(self.flags));
        }
        if let Some(min) = self.min {
            out.double(f::MIN, min);
        }
        if let Some(max) = self.max {
            out.double(f::MAX, max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::testing::{Rng, random_metric, random_resource, random_scope};
    use crate::otlp::wire::encode_to_vec;

    fn scope() -> Scope {
        Scope {
            name: "m".into(),
            version: "".into(),
        }
    }

    /// The golden request: a sum, a gauge and a histogram, every byte written out.
    #[test]
    fn complete_request_byte_for_byte() {
        let metrics = [
            Metric {
                name: "req".into(),
                description: "".into(),
                unit: "{r}".into(),
                data: MetricData::Sum {
                    points: vec![NumberPoint {
                        attributes: vec![KeyValue::new("k", "v")],
                        start_time_unix_nano: 1,
                        time_unix_nano: 2,
                        value: NumberValue::Int(3),
                        flags: 0,
                    }],
                    monotonic: true,
                    temporality: Temporality::Cumulative,
                },
            },
            Metric {
                name: "g".into(),
                description: "".into(),
                unit: "".into(),
                data: MetricData::Gauge(vec![
                    NumberPoint {
                        attributes: vec![],
                        start_time_unix_nano: 0,
                        time_unix_nano: 2,
                        value: NumberValue::Double(0.5),
                        flags: 0,
                    },
                    NumberPoint {
                        attributes: vec![],
                        start_time_unix_nano: 0,
                        time_unix_nano: 2,
                        value: NumberValue::Int(0),
                        flags: FLAG_NO_RECORDED_VALUE,
                    },
                ]),
            },
            Metric {
                name: "h".into(),
                description: "d".into(),
                unit: "s".into(),
                data: MetricData::Histogram {
                    points: vec![HistogramPoint {
                        attributes: vec![],
                        start_time_unix_nano: 1,
                        time_unix_nano: 2,
                        count: 3,
                        sum: Some(2.0),
                        bucket_counts: vec![2, 1],
                        explicit_bounds: vec![1.0],
                        min: Some(0.0),
                        max: Some(2.0),
                        flags: 0,
                    }],
                    temporality: Temporality::Cumulative,
                },
            },
        ];
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x0A, 0xD7, 0x01, // ExportMetricsServiceRequest.resource_metrics, 215 bytes
              0x0A, 0x00, // ResourceMetrics.resource: present and empty
              0x12, 0xD2, 0x01, // ResourceMetrics.scope_metrics, 210 bytes
                0x0A, 0x03, 0x0A, 0x01, b'm', // ScopeMetrics.scope {name: "m"}
                0x12, 0x37, // metrics[0], 55 bytes
                  0x0A, 0x03, b'r', b'e', b'q', // name
                  0x1A, 0x03, b'{', b'r', b'}', // unit
                  0x3A, 0x2B, // sum, 43 bytes
                    0x0A, 0x25, // data_points[0], 37 bytes
                      0x11, 0x01, 0, 0, 0, 0, 0, 0, 0, // start_time_unix_nano 1, fixed64
                      0x19, 0x02, 0, 0, 0, 0, 0, 0, 0, // time_unix_nano 2
                      0x31, 0x03, 0, 0, 0, 0, 0, 0, 0, // as_int 3, sfixed64
                      0x3A, 0x08, 0x0A, 0x01, b'k', 0x12, 0x03, 0x0A, 0x01, b'v', // k = "v"
                    0x10, 0x02, // aggregation_temporality = CUMULATIVE
                    0x18, 0x01, // is_monotonic
                0x12, 0x2F, // metrics[1], 47 bytes
                  0x0A, 0x01, b'g', // name
                  0x2A, 0x2A, // gauge, 42 bytes
                    0x0A, 0x12, // data_points[0], 18 bytes
                      0x19, 0x02, 0, 0, 0, 0, 0, 0, 0, // time_unix_nano
                      0x21, 0, 0, 0, 0, 0, 0, 0xE0, 0x3F, // as_double 0.5
                    0x0A, 0x14, // data_points[1], 20 bytes
                      0x19, 0x02, 0, 0, 0, 0, 0, 0, 0, // time_unix_nano
                      0x31, 0, 0, 0, 0, 0, 0, 0, 0, // as_int 0: written, it is the value
                      0x40, 0x01, // flags = NO_RECORDED_VALUE, a varint
                0x12, 0x61, // metrics[2], 97 bytes
                  0x0A, 0x01, b'h', // name
                  0x12, 0x01, b'd', // description
                  0x1A, 0x01, b's', // unit
                  0x4A, 0x56, // histogram, 86 bytes
                    0x0A, 0x52, // data_points[0], 82 bytes
                      0x11, 0x01, 0, 0, 0, 0, 0, 0, 0, // start_time_unix_nano
                      0x19, 0x02, 0, 0, 0, 0, 0, 0, 0, // time_unix_nano
                      0x21, 0x03, 0, 0, 0, 0, 0, 0, 0, // count 3, fixed64
                      0x29, 0, 0, 0, 0, 0, 0, 0, 0x40, // sum 2.0
                      0x32, 0x10, // bucket_counts, packed fixed64, 16 bytes
                        0x02, 0, 0, 0, 0, 0, 0, 0,
                        0x01, 0, 0, 0, 0, 0, 0, 0,
                      0x3A, 0x08, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, // explicit_bounds [1.0], packed
                      0x59, 0, 0, 0, 0, 0, 0, 0, 0, // min 0.0: optional, so written
                      0x61, 0, 0, 0, 0, 0, 0, 0, 0x40, // max 2.0
                    0x10, 0x02, // aggregation_temporality = CUMULATIVE
        ];
        assert_eq!(
            encode_metrics_request(&Resource::default(), &scope(), &metrics),
            expected,
            "whole ExportMetricsServiceRequest"
        );
    }

    #[test]
    fn metrics_without_points_are_not_sent() {
        let empty = Metric {
            name: "e".into(),
            description: "".into(),
            unit: "".into(),
            data: MetricData::Histogram {
                points: vec![],
                temporality: Temporality::Delta,
            },
        };
        let one = Metric {
            name: "g".into(),
            description: "".into(),
            unit: "".into(),
            data: MetricData::Gauge(vec![NumberPoint {
                attributes: vec![],
                start_time_unix_nano: 0,
                time_unix_nano: 0,
                value: NumberValue::Int(-1),
                flags: 0,
            }]),
        };
        let resource = Resource::default();
        let table: &[(&str, Vec<Metric>, &[u8])] = &[
            ("no metrics: no envelope", vec![], &[]),
            ("only empty metrics: no envelope", vec![empty.clone()], &[]),
            (
                "empty metrics are dropped, the rest is sent",
                vec![empty.clone(), one, empty],
                &[
                    0x0A, 0x1B, 0x0A, 0x00, 0x12, 0x17, 0x0A, 0x03, 0x0A, 0x01,
                    b'm', // envelope
                    0x12, 0x10, 0x0A, 0x01, b'g', 0x2A, 0x0B, 0x0A,
                    0x09, // metric, gauge, point
                    0x31, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                    0xFF, // as_int -1, sfixed64
                ],
            ),
        ];
        for (what, metrics, expected) in table {
            assert_eq!(
                encode_metrics_request(&resource, &scope(), metrics),
                *expected,
                "{what}"
            );
        }
    }

    #[test]
    fn sum_and_histogram_defaults() {
        let table: &[(&str, MetricData, &[u8])] = &[
            (
                "delta non-monotonic sum: temporality 1, no is_monotonic",
                MetricData::Sum {
                    points: vec![],
                    monotonic: false,
                    temporality: Temporality::Delta,
                },
                &[0x10, 0x01],
            ),
            (
                "histogram point with nothing known is an empty message",
                MetricData::Histogram {
                    points: vec![HistogramPoint::default()],
                    temporality: Temporality::Cumulative,
                },
                &[0x0A, 0x00, 0x10, 0x02],
            ),
        ];
        for (what, data, expected) in table {
            assert_eq!(encode_to_vec(data), *expected, "{what}");
        }
    }

    #[test]
    fn encoded_len_matches_bytes_for_random_requests() {
        let mut rng = Rng::new(5);
        for _ in 0..500 {
            let metrics: Vec<Metric> = (0..rng.below(4) + 1)
                .map(|_| random_metric(&mut rng))
                .collect();
            let (resource, scope) = (random_resource(&mut rng), random_scope(&mut rng));
            let request = Request {
                envelope: &ENVELOPE,
                resource: &resource,
                scope: &scope,
                items: &metrics,
                keep: |metric| !metric.data.is_empty(),
            };
            let bytes = encode_metrics_request(&resource, &scope, &metrics);
            let expected_len = if metrics.iter().all(|m| m.data.is_empty()) {
                0
            } else {
                request.encoded_len()
            };
            assert_eq!(expected_len, bytes.len(), "request length pass");
            for metric in &metrics {
                assert_eq!(
                    metric.encoded_len(),
                    encode_to_vec(metric).len(),
                    "{metric:?}"
                );
            }
        }
    }

    #[test]
    fn partial_success_reads_rejected_data_points() {
        let body = [0x0A, 0x02, 0x08, 0x09];
        assert_eq!(
            decode_metrics_partial_success(&body),
            Ok(Some(PartialSuccess {
                rejected: 9,
                error_message: String::new()
            })),
            "rejected_data_points is field 1"
        );
    }
}
