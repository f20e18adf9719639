//! The encoder against its documented contract: every field-number constant (declared
//! with `fields!`) must match the number `proto/` declares for that message and field,
//! and `proto/` must declare no field we do not write or read, so the two cannot drift.

use std::collections::BTreeMap;

use super::{common, logs, metrics, response, trace};
use crate::telemetry::model::{SpanKind, StatusCode};

/// One `.proto` file of `proto/` and the `fields!` modules describing its messages.
struct ProtoFile {
    path: &'static str,
    package: &'static str,
    text: &'static str,
    messages: &'static [(&'static str, &'static [(&'static str, u32)])],
}

/// `(PROTO_MESSAGE, PROTO_FIELDS)` of a `fields!` module.
macro_rules! message {
    ($module:path) => {{
        use $module as m;
        (m::PROTO_MESSAGE, m::PROTO_FIELDS)
    }};
}

/// A `proto/` file's text, by its path under `proto/`.
macro_rules! proto {
    ($path:literal) => {
        ($path, include_str!(concat!("../../proto/", $path)))
    };
}

const fn file(
    (path, text): (&'static str, &'static str),
    package: &'static str,
    messages: &'static [(&'static str, &'static [(&'static str, u32)])],
) -> ProtoFile {
    ProtoFile {
        path,
        package,
        text,
        messages,
    }
}

const FILES: &[ProtoFile] = &[
    file(
        proto!("opentelemetry/proto/common/v1/common.proto"),
        "opentelemetry.proto.common.v1",
        &[
            message!(common::any_value),
            message!(common::array_value),
            message!(common::key_value),
            message!(common::instrumentation_scope),
        ],
    ),
    file(
        proto!("opentelemetry/proto/resource/v1/resource.proto"),
        "opentelemetry.proto.resource.v1",
        &[message!(common::resource)],
    ),
    file(
        proto!("opentelemetry/proto/trace/v1/trace.proto"),
        "opentelemetry.proto.trace.v1",
        &[
            message!(trace::resource_spans),
            message!(trace::scope_spans),
            message!(trace::span),
            message!(trace::span_event),
            message!(trace::status),
        ],
    ),
    file(
        proto!("opentelemetry/proto/collector/trace/v1/trace_service.proto"),
        "opentelemetry.proto.collector.trace.v1",
        &[
            message!(trace::export_trace_service_request),
            message!(trace::export_trace_service_response),
            message!(trace::export_trace_partial_success),
        ],
    ),
    file(
        proto!("opentelemetry/proto/metrics/v1/metrics.proto"),
        "opentelemetry.proto.metrics.v1",
        &[
            message!(metrics::resource_metrics),
            message!(metrics::scope_metrics),
            message!(metrics::metric),
            message!(metrics::gauge),
            message!(metrics::sum),
            message!(metrics::histogram),
            message!(metrics::number_data_point),
            message!(metrics::histogram_data_point),
        ],
    ),
    file(
        proto!("opentelemetry/proto/collector/metrics/v1/metrics_service.proto"),
        "opentelemetry.proto.collector.metrics.v1",
        &[
            message!(metrics::export_metrics_service_request),
            message!(metrics::export_metrics_service_response),
            message!(metrics::export_metrics_partial_success),
        ],
    ),
    file(
        proto!("opentelemetry/proto/logs/v1/logs.proto"),
        "opentelemetry.proto.logs.v1",
        &[
            message!(logs::resource_logs),
            message!(logs::scope_logs),
            message!(logs::log_record),
        ],
    ),
    file(
        proto!("opentelemetry/proto/collector/logs/v1/logs_service.proto"),
        "opentelemetry.proto.collector.logs.v1",
        &[
            message!(logs::export_logs_service_request),
            message!(logs::export_logs_service_response),
            message!(logs::export_logs_partial_success),
        ],
    ),
    file(
        proto!("google/rpc/status.proto"),
        "google.rpc",
        &[message!(response::rpc_status)],
    ),
];

/// The sources that declare `fields!` modules, to find one missing from `FILES`.
const SOURCES: &[(&str, &str)] = &[
    ("common.rs", include_str!("common.rs")),
    ("trace.rs", include_str!("trace.rs")),
    ("metrics.rs", include_str!("metrics.rs")),
    ("logs.rs", include_str!("logs.rs")),
    ("response.rs", include_str!("response.rs")),
];

/// What a `.proto` file declares: `package`, and per message (or enum), qualified by
/// its enclosing messages (`Span.Event`, `Span.SpanKind`), its fields (or values) and
/// their numbers.
#[derive(Debug, Default)]
struct Declared {
    package: String,
    messages: BTreeMap<String, BTreeMap<String, i64>>,
    enums: BTreeMap<String, BTreeMap<String, i64>>,
}

/// Parses the plain style `proto/` is written in: one statement per line, blocks
/// opened at the end of a line and closed by a line of their own.
fn parse(path: &str, text: &str) -> Declared {
    let mut declared = Declared::default();
    // (block kind, name) of the open blocks.
    let mut open: Vec<(String, String)> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("").trim();
        let at = || format!("{path}:{}: {line:?}", n + 1);
        if line.is_empty() {
            continue;
        }
        if line == "}" || line == "};" {
            assert!(open.pop().is_some(), "{}: unbalanced brace", at());
            continue;
        }
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if let Some(head) = line.strip_suffix('{') {
            let words: Vec<&str> = head.split_whitespace().collect();
            assert_eq!(words.len(), 2, "{}: block header is `kind Name {{`", at());
            open.push((words[0].to_owned(), words[1].to_owned()));
            continue;
        }
        match tokens[0] {
            "syntax" | "import" | "option" | "reserved" | "rpc" => continue,
            "package" => {
                declared.package = line["package".len()..]
                    .trim_end_matches(';')
                    .trim()
                    .to_owned();
                continue;
            }
            _ => {}
        }
        let (kind, _) = open
            .last()
            .unwrap_or_else(|| panic!("{}: outside any block", at()));
        let scope: Vec<&str> = open
            .iter()
            .filter(|(kind, _)| kind == "message")
            .map(|(_, name)| name.as_str())
            .collect();
        let (left, number) = line
            .strip_suffix(';')
            .and_then(|l| l.split_once('='))
            .unwrap_or_else(|| panic!("{}: expected `... name = N;`", at()));
        let number = number.trim();
        let number = match number.strip_prefix("0x") {
            Some(hex) => i64::from_str_radix(hex, 16),
            None => number.parse(),
        }
        .unwrap_or_else(|e| panic!("{}: number: {e}", at()));
        let words: Vec<&str> = left.split_whitespace().collect();
        let name = words
            .last()
            .unwrap_or_else(|| panic!("{}: no name", at()))
            .to_string();
        let (table, qualified) = match kind.as_str() {
            "message" | "oneof" => {
                assert!(words.len() >= 2, "{}: a field is `type name = N;`", at());
                (&mut declared.messages, scope.join("."))
            }
            "enum" => {
                assert_eq!(words.len(), 1, "{}: an enum value is `NAME = N;`", at());
                let mut path = scope.clone();
                path.push(&open[open.len() - 1].1);
                (&mut declared.enums, path.join("."))
            }
            other => panic!("{}: unexpected statement in a {other} block", at()),
        };
        let previous = table.entry(qualified).or_default().insert(name, number);
        assert!(previous.is_none(), "{}: declared twice", at());
    }
    assert!(open.is_empty(), "{path}: unclosed block");
    declared
}

#[test]
fn every_field_constant_matches_the_proto_files() {
    for file in FILES {
        let declared = parse(file.path, file.text);
        assert_eq!(declared.package, file.package, "{}: package", file.path);
        for &(message, constants) in file.messages {
            let fields = declared
                .messages
                .get(message)
                .unwrap_or_else(|| panic!("{}: no message {message}", file.path));
            let ours: BTreeMap<String, i64> = constants
                .iter()
                .map(|&(name, number)| (name.to_ascii_lowercase(), i64::from(number)))
                .collect();
            // Equal maps: same names, same numbers, and no field documented but unused.
            assert_eq!(&ours, fields, "{}: fields of {message}", file.path);
        }
        let ours: Vec<&str> = file.messages.iter().map(|&(m, _)| m).collect();
        let theirs: Vec<&str> = declared.messages.keys().map(String::as_str).collect();
        let mut ours_sorted = ours.clone();
        ours_sorted.sort_unstable();
        assert_eq!(
            ours_sorted, theirs,
            "{}: messages without constants",
            file.path
        );
    }
}

#[test]
fn every_fields_module_is_checked() {
    let declared: usize = SOURCES
        .iter()
        .map(|(_, text)| text.lines().filter(|l| l.trim() == "fields! {").count())
        .sum();
    let checked: usize = FILES.iter().map(|f| f.messages.len()).sum();
    assert_eq!(
        declared, checked,
        "a `fields!` module is missing from FILES"
    );
}

#[test]
fn enum_values_match_the_proto_files() {
    let parsed = |path: &str| {
        let file = FILES
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("{path} is in FILES"));
        parse(file.path, file.text)
    };
    let trace = parsed("opentelemetry/proto/trace/v1/trace.proto");
    let metrics = parsed("opentelemetry/proto/metrics/v1/metrics.proto");
    let value = |declared: &Declared, en: &str, name: &str| {
        declared
            .enums
            .get(en)
            .and_then(|values| values.get(name))
            .copied()
    };
    let table: &[(&Declared, &str, &str, i64)] = &[
        (
            &trace,
            "Span.SpanKind",
            "SPAN_KIND_INTERNAL",
            SpanKind::Internal as i64,
        ),
        (
            &trace,
            "Span.SpanKind",
            "SPAN_KIND_SERVER",
            SpanKind::Server as i64,
        ),
        (
            &trace,
            "Span.SpanKind",
            "SPAN_KIND_CLIENT",
            SpanKind::Client as i64,
        ),
        (
            &trace,
            "Span.SpanKind",
            "SPAN_KIND_PRODUCER",
            SpanKind::Producer as i64,
        ),
        (
            &trace,
            "Span.SpanKind",
            "SPAN_KIND_CONSUMER",
            SpanKind::Consumer as i64,
        ),
        (
            &trace,
            "Status.StatusCode",
            "STATUS_CODE_UNSET",
            StatusCode::Unset as i64,
        ),
        (
            &trace,
            "Status.StatusCode",
            "STATUS_CODE_OK",
            StatusCode::Ok as i64,
        ),
        (
            &trace,
            "Status.StatusCode",
            "STATUS_CODE_ERROR",
            StatusCode::Error as i64,
        ),
        (
            &metrics,
            "AggregationTemporality",
            "AGGREGATION_TEMPORALITY_DELTA",
            metrics::Temporality::Delta as i64,
        ),
        (
            &metrics,
            "AggregationTemporality",
            "AGGREGATION_TEMPORALITY_CUMULATIVE",
            metrics::Temporality::Cumulative as i64,
        ),
        (
            &metrics,
            "DataPointFlags",
            "DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK",
            i64::from(metrics::FLAG_NO_RECORDED_VALUE),
        ),
    ];
    for &(declared, en, name, ours) in table {
        assert_eq!(value(declared, en, name), Some(ours), "{en}.{name}");
    }
}

#[test]
fn the_parser_reads_what_it_must() {
    let declared = parse(
        "inline",
        "package a.b;\nmessage M {\n  reserved 1;\n  oneof v {\n    string s = 2; // c\n  }\n  \
         enum E {\n    X = 0x10;\n  }\n  message N {\n    repeated fixed64 f = 16;\n  }\n}\n",
    );
    assert_eq!(declared.package, "a.b", "package");
    assert_eq!(
        declared.messages["M"]["s"], 2,
        "oneof members belong to the message"
    );
    assert_eq!(
        declared.messages["M.N"]["f"], 16,
        "nested messages are qualified"
    );
    assert_eq!(declared.enums["M.E"]["X"], 16, "enum values, hex");
}
