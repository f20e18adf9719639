//! Writes sample OTLP/HTTP request bodies made by our encoders, for checking with an
//! official decoder (`tests/interop/otlp_decode.py`, run by `.ci/run`):
//!
//!     cargo run --example otlp_sample -- DIR
//!
//! Into DIR go `traces.pb` (an MCP `tools/call` span tree: the `request.process`
//! SERVER root, an `mcp.tool.call` child that failed with an `exception` event, and a
//! Claude CLIENT call under it), `metrics.pb` (a sum, a gauge, a histogram), `logs.pb`
//! (a record inside the failed span, one outside any span) and `expected.json`, what
//! each payload must contain, written from the inputs here and not from the bytes.

use std::borrow::Cow;
use std::error::Error;
use std::path::PathBuf;

use serde_json::{Value as Json, json};
use tfo_mcp::otlp::{
    HistogramPoint, LogRecord, Metric, MetricData, NumberPoint, NumberValue, Temporality,
    encode_logs_request, encode_metrics_request, encode_trace_request,
};
use tfo_mcp::telemetry::model::{
    Event, FLAG_HAS_IS_REMOTE, FLAG_SAMPLED, KeyValue, Resource, Scope, SpanData, SpanId, SpanKind,
    Status, StatusCode, TraceId, Value,
};

/// 2026-01-01T00:00:00Z in nanoseconds: fixed, so the payloads are reproducible.
const T0: u64 = 1_767_225_600_000_000_000;
const MS: u64 = 1_000_000;

fn main() -> Result<(), Box<dyn Error>> {
    let dir = PathBuf::from(std::env::args_os().nth(1).ok_or("usage: otlp_sample DIR")?);
    std::fs::create_dir_all(&dir)?;

    let resource = Resource {
        attributes: vec![
            KeyValue::new("service.name", "tfo-mcp"),
            KeyValue::new("service.version", "0.1.0"),
            KeyValue::new("telemetry.sdk.language", "rust"),
            KeyValue::new("process.pid", 4242i64),
        ],
    };
    let scope = Scope {
        name: "telemetryflow-mcp".into(),
        version: "0.1.0".into(),
    };
    let spans = spans();
    let metrics = metrics();
    let records = log_records(&spans[1]);

    let payloads = [
        ("traces.pb", encode_trace_request(&resource, &scope, &spans)),
        (
            "metrics.pb",
            encode_metrics_request(&resource, &scope, &metrics),
        ),
        ("logs.pb", encode_logs_request(&resource, &scope, &records)),
    ];
    for (name, bytes) in &payloads {
        std::fs::write(dir.join(name), bytes)?;
        println!("wrote {} ({} bytes)", dir.join(name).display(), bytes.len());
    }

    let expected = json!({
        "traces": {
            "file": "traces.pb",
            "resource": attributes_json(&resource.attributes),
            "scope": scope_json(&scope),
            "spans": spans.iter().map(span_json).collect::<Vec<_>>(),
        },
        "metrics": {
            "file": "metrics.pb",
            "resource": attributes_json(&resource.attributes),
            "scope": scope_json(&scope),
            "metrics": metrics.iter().map(metric_json).collect::<Vec<_>>(),
        },
        "logs": {
            "file": "logs.pb",
            "resource": attributes_json(&resource.attributes),
            "scope": scope_json(&scope),
            "records": records.iter().map(record_json).collect::<Vec<_>>(),
        },
    });
    let path = dir.join("expected.json");
    std::fs::write(&path, serde_json::to_string_pretty(&expected)?)?;
    println!("wrote {}", path.display());
    Ok(())
}

fn trace_id() -> TraceId {
    TraceId([
        0x4B, 0xF9, 0x2F, 0x35, 0x77, 0xB3, 0x4D, 0xA6, 0xA3, 0xCE, 0x92, 0x9D, 0x0E, 0x0E, 0x47,
        0x36,
    ])
}

/// `request.process` (SERVER, root) → `mcp.tool.call` (INTERNAL, ERROR) →
/// `chat claude-sonnet-4-5` (CLIENT, OK).
fn spans() -> Vec<SpanData> {
    let root = SpanId([0x00, 0xF0, 0x67, 0xAA, 0x0B, 0xA9, 0x02, 0xB7]);
    let tool = SpanId([0x53, 0x99, 0x5C, 0x3F, 0x42, 0xCD, 0x8F, 0x80]);
    let chat = SpanId([0xA1, 0x02, 0xC3, 0x04, 0xE5, 0x06, 0xF7, 0x08]);
    let flags = u32::from(FLAG_SAMPLED) | FLAG_HAS_IS_REMOTE;
    vec![
        SpanData {
            trace_id: trace_id(),
            span_id: root,
            parent_span_id: None,
            trace_state: "tfo=1".into(),
            flags,
            name: "request.process".into(),
            kind: SpanKind::Server,
            start_time_unix_nano: T0,
            end_time_unix_nano: T0 + 250 * MS,
            attributes: vec![
                KeyValue::new("mcp.method.name", "tools/call"),
                KeyValue::new("jsonrpc.request.id", "7"),
                KeyValue::new("mcp.protocol.version", "2025-06-18"),
                KeyValue::new("mcp.session.id", "a4f1c2d3-0b9e-4e57-9c1d-2f6b8e0d7a31"),
                KeyValue::new("service.name", "tfo-mcp"),
                KeyValue::new("network.transport", "pipe"),
                KeyValue::new("error.type", "tool_error"),
            ],
            dropped_attributes_count: 0,
            events: vec![],
            dropped_events_count: 0,
            status: Status {
                code: StatusCode::Error,
                message: "tool read_file failed".into(),
            },
        },
        SpanData {
            trace_id: trace_id(),
            span_id: tool,
            parent_span_id: Some(root),
            trace_state: "tfo=1".into(),
            flags,
            name: "mcp.tool.call".into(),
            kind: SpanKind::Internal,
            start_time_unix_nano: T0 + 2 * MS,
            end_time_unix_nano: T0 + 240 * MS,
            attributes: vec![
                KeyValue::new("mcp.tool.name", "read_file"),
                KeyValue::new("gen_ai.tool.name", "read_file"),
                KeyValue::new("gen_ai.operation.name", "execute_tool"),
                KeyValue::new("mcp.tool.input.size", 512i64),
                KeyValue::new("mcp.tool.result.success", false),
                KeyValue::new("rpc.response.status_code", -32603i64),
                KeyValue::new(
                    "mcp.tool.roots",
                    Value::StrArray(vec!["/home/user/project".into(), "/tmp".into()]),
                ),
            ],
            dropped_attributes_count: 2,
            events: vec![Event {
                time_unix_nano: T0 + 239 * MS,
                name: "exception".into(),
                attributes: vec![
                    KeyValue::new("exception.type", "std::io::Error"),
                    KeyValue::new("exception.message", "permission denied: /etc/shadow"),
                    KeyValue::new("exception.escaped", false),
                ],
            }],
            dropped_events_count: 0,
            status: Status {
                code: StatusCode::Error,
                message: "permission denied: /etc/shadow".into(),
            },
        },
        SpanData {
            trace_id: trace_id(),
            span_id: chat,
            parent_span_id: Some(tool),
            trace_state: "tfo=1".into(),
            flags,
            name: "chat claude-sonnet-4-5".into(),
            kind: SpanKind::Client,
            start_time_unix_nano: T0 + 5 * MS,
            end_time_unix_nano: T0 + 200 * MS,
            attributes: vec![
                KeyValue::new("gen_ai.provider.name", "anthropic"),
                KeyValue::new("gen_ai.operation.name", "chat"),
                KeyValue::new("gen_ai.request.model", "claude-sonnet-4-5"),
                KeyValue::new("gen_ai.request.temperature", 0.25),
                KeyValue::new(
                    "gen_ai.response.finish_reasons",
                    Value::StrArray(vec!["end_turn".into()]),
                ),
                KeyValue::new("gen_ai.request.stop_sequences", Value::StrArray(vec![])),
                KeyValue::new("gen_ai.usage.input_tokens", 1234i64),
                KeyValue::new("gen_ai.usage.output_tokens", 0i64),
                KeyValue::new("gen_ai.response.id", ""),
            ],
            dropped_attributes_count: 0,
            events: vec![],
            dropped_events_count: 3,
            status: Status {
                code: StatusCode::Ok,
                message: String::new(),
            },
        },
    ]
}

fn metrics() -> Vec<Metric> {
    let method = |m: &'static str| KeyValue::new("mcp.method.name", m);
    vec![
        Metric {
            name: "mcp.tool.calls".into(),
            description: "Tool calls handled.".into(),
            unit: "{call}".into(),
            data: MetricData::Sum {
                points: vec![
                    NumberPoint {
                        attributes: vec![
                            KeyValue::new("gen_ai.tool.name", "read_file"),
                            KeyValue::new("error.type", "tool_error"),
                        ],
                        start_time_unix_nano: T0,
                        time_unix_nano: T0 + 60_000 * MS,
                        value: NumberValue::Int(3),
                        flags: 0,
                    },
                    NumberPoint {
                        attributes: vec![KeyValue::new("gen_ai.tool.name", "echo")],
                        start_time_unix_nano: T0,
                        time_unix_nano: T0 + 60_000 * MS,
                        value: NumberValue::Int(0),
                        flags: 0,
                    },
                ],
                monotonic: true,
                temporality: Temporality::Cumulative,
            },
        },
        Metric {
            name: "process.memory.usage".into(),
            description: "".into(),
            unit: "By".into(),
            data: MetricData::Gauge(vec![
                NumberPoint {
                    attributes: vec![],
                    start_time_unix_nano: 0,
                    time_unix_nano: T0 + 60_000 * MS,
                    value: NumberValue::Double(7_340_032.5),
                    flags: 0,
                },
                NumberPoint {
                    attributes: vec![KeyValue::new("process.memory.kind", "stale")],
                    start_time_unix_nano: 0,
                    time_unix_nano: T0 + 60_000 * MS,
                    value: NumberValue::Int(-1),
                    flags: tfo_mcp::otlp::FLAG_NO_RECORDED_VALUE,
                },
            ]),
        },
        Metric {
            name: "mcp.server.operation.duration".into(),
            description: "Time from a request's receipt to its response.".into(),
            unit: "s".into(),
            data: MetricData::Histogram {
                points: vec![
                    HistogramPoint {
                        attributes: vec![method("tools/call")],
                        start_time_unix_nano: T0,
                        time_unix_nano: T0 + 60_000 * MS,
                        count: 4,
                        sum: Some(0.75),
                        // Values 0.0, 0.15, 0.25 and 0.35; bucket i is (bounds[i-1], bounds[i]].
                        bucket_counts: vec![1, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                        explicit_bounds: vec![
                            0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0,
                            120.0, 300.0,
                        ],
                        min: Some(0.0),
                        max: Some(0.35),
                        flags: 0,
                    },
                    HistogramPoint {
                        attributes: vec![method("initialize")],
                        start_time_unix_nano: T0,
                        time_unix_nano: T0 + 60_000 * MS,
                        count: 0,
                        sum: None,
                        bucket_counts: vec![],
                        explicit_bounds: vec![],
                        min: None,
                        max: None,
                        flags: 0,
                    },
                ],
                temporality: Temporality::Delta,
            },
        },
    ]
}

fn log_records(span: &SpanData) -> Vec<LogRecord> {
    vec![
        LogRecord {
            time_unix_nano: T0 + 239 * MS,
            observed_time_unix_nano: T0 + 239 * MS,
            severity_number: 17,
            severity_text: "ERROR".into(),
            body: Value::from("tool read_file failed: permission denied"),
            attributes: vec![
                KeyValue::new("mcp.method.name", "tools/call"),
                KeyValue::new("rpc.response.status_code", -32603i64),
                KeyValue::new("exception.escaped", true),
            ],
            trace_id: Some(span.trace_id),
            span_id: Some(span.span_id),
            flags: u32::from(FLAG_SAMPLED),
        },
        LogRecord {
            time_unix_nano: 0,
            observed_time_unix_nano: T0 + 1,
            severity_number: 9,
            severity_text: Cow::Borrowed("INFO"),
            body: Value::from("server started"),
            attributes: vec![],
            trace_id: None,
            span_id: None,
            flags: 0,
        },
    ]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `{"type": <AnyValue member>, "value": ...}`.
fn value_json(value: &Value) -> Json {
    let (kind, v) = match value {
        Value::Str(s) => ("string_value", json!(s)),
        Value::Bool(b) => ("bool_value", json!(b)),
        Value::Int(i) => ("int_value", json!(i)),
        Value::Double(d) => ("double_value", json!(d)),
        Value::StrArray(items) => ("array_value", json!(items)),
    };
    json!({"type": kind, "value": v})
}

fn attributes_json(attributes: &[KeyValue]) -> Json {
    attributes
        .iter()
        .map(|kv| {
            let mut entry = value_json(&kv.value);
            entry["key"] = json!(kv.key);
            entry
        })
        .collect()
}

fn scope_json(scope: &Scope) -> Json {
    json!({"name": scope.name, "version": scope.version})
}

fn span_json(span: &SpanData) -> Json {
    let kind = match span.kind {
        SpanKind::Internal => "SPAN_KIND_INTERNAL",
        SpanKind::Server => "SPAN_KIND_SERVER",
        SpanKind::Client => "SPAN_KIND_CLIENT",
        SpanKind::Producer => "SPAN_KIND_PRODUCER",
        SpanKind::Consumer => "SPAN_KIND_CONSUMER",
    };
    // No Status message at all for UNSET; a message only with ERROR.
    let status = match span.status.code {
        StatusCode::Unset => Json::Null,
        StatusCode::Ok => json!({"code": "STATUS_CODE_OK", "message": ""}),
        StatusCode::Error => {
            json!({"code": "STATUS_CODE_ERROR", "message": span.status.message})
        }
    };
    json!({
        "name": span.name,
        "trace_id": hex(&span.trace_id.0),
        "span_id": hex(&span.span_id.0),
        "parent_span_id": span.parent_span_id.map(|p| hex(&p.0)).unwrap_or_default(),
        "trace_state": span.trace_state,
        "flags": span.flags,
        "kind": kind,
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano,
        "attributes": attributes_json(&span.attributes),
        "dropped_attributes_count": span.dropped_attributes_count,
        "events": span.events.iter().map(|e| json!({
            "time_unix_nano": e.time_unix_nano,
            "name": e.name,
            "attributes": attributes_json(&e.attributes),
        })).collect::<Vec<_>>(),
        "dropped_events_count": span.dropped_events_count,
        "status": status,
    })
}

fn temporality_json(temporality: Temporality) -> &'static str {
    match temporality {
        Temporality::Delta => "AGGREGATION_TEMPORALITY_DELTA",
        Temporality::Cumulative => "AGGREGATION_TEMPORALITY_CUMULATIVE",
    }
}

fn number_point_json(point: &NumberPoint) -> Json {
    let mut json = json!({
        "attributes": attributes_json(&point.attributes),
        "start_time_unix_nano": point.start_time_unix_nano,
        "time_unix_nano": point.time_unix_nano,
        "flags": point.flags,
    });
    match point.value {
        NumberValue::Int(i) => json["as_int"] = json!(i),
        NumberValue::Double(d) => json["as_double"] = json!(d),
    }
    json
}

fn metric_json(metric: &Metric) -> Json {
    let mut json = json!({
        "name": metric.name,
        "description": metric.description,
        "unit": metric.unit,
    });
    match &metric.data {
        MetricData::Gauge(points) => {
            json["type"] = json!("gauge");
            json["points"] = points.iter().map(number_point_json).collect();
        }
        MetricData::Sum {
            points,
            monotonic,
            temporality,
        } => {
            json["type"] = json!("sum");
            json["is_monotonic"] = json!(monotonic);
            json["aggregation_temporality"] = json!(temporality_json(*temporality));
            json["points"] = points.iter().map(number_point_json).collect();
        }
        MetricData::Histogram {
            points,
            temporality,
        } => {
            json["type"] = json!("histogram");
            json["aggregation_temporality"] = json!(temporality_json(*temporality));
            json["points"] = points
                .iter()
                .map(|p| {
                    json!({
                        "attributes": attributes_json(&p.attributes),
                        "start_time_unix_nano": p.start_time_unix_nano,
                        "time_unix_nano": p.time_unix_nano,
                        "count": p.count,
                        "sum": p.sum,
                        "bucket_counts": p.bucket_counts,
                        "explicit_bounds": p.explicit_bounds,
                        "min": p.min,
                        "max": p.max,
                        "flags": p.flags,
                    })
                })
                .collect();
        }
    }
    json
}

fn record_json(record: &LogRecord) -> Json {
    json!({
        "time_unix_nano": record.time_unix_nano,
        "observed_time_unix_nano": record.observed_time_unix_nano,
        "severity_number": record.severity_number,
        "severity_text": record.severity_text,
        "body": value_json(&record.body),
        "attributes": attributes_json(&record.attributes),
        "trace_id": record.trace_id.map(|t| hex(&t.0)).unwrap_or_default(),
        "span_id": record.span_id.map(|s| hex(&s.0)).unwrap_or_default(),
        "flags": record.flags,
    })
}
