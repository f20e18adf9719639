#!/usr/bin/env python3
"""Interop check: our OTLP protobuf payloads against the official decoder.

    cargo run --example otlp_sample -- DIR
    python3 tests/interop/otlp_decode.py DIR

Parses `traces.pb`, `metrics.pb` and `logs.pb` (written by `examples/otlp_sample.rs`)
with the classes generated from the official .proto files (PyPI `opentelemetry-proto`,
on PyPI `protobuf`) and compares them field by field with `expected.json`, which the
example writes from its inputs, not from the bytes. Also checks that no message
anywhere holds an unknown field (a wrong field number or wire type would land
there silently) and that re-encoding by the official library gives back our exact
bytes (we write fields in ascending order, as it does). Finally checks our `proto/`
subset against the official descriptors: every message, field number, type, `repeated`
and oneof membership, and every enum value. Exits non-zero on any failure; the last
line is `N passed, N failed`.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from google.protobuf import __version__ as PROTOBUF_VERSION
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from checks import RESULTS, check, eq

PROTO_DIR = Path(__file__).resolve().parents[2] / "proto"


# --- generic protobuf checks ----------------------------------------------------------


def unknown_field_count(msg: Message) -> int:
    """Unknown fields of `msg` itself: `UnknownFieldSet` on protobuf >= 4.21 (upb, where
    `msg.UnknownFields()` raises NotImplementedError), the method on older versions."""
    try:
        from google.protobuf import unknown_fields
    except ImportError:
        return len(msg.UnknownFields())
    return len(unknown_fields.UnknownFieldSet(msg))


def is_repeated(field: FieldDescriptor) -> bool:
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == FieldDescriptor.LABEL_REPEATED


def walk(msg: Message, path: str):
    """Yields (path, message) for `msg` and every message nested in it."""
    yield path, msg
    for field, value in msg.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if is_repeated(field):
            for i, item in enumerate(value):
                yield from walk(item, f"{path}.{field.name}[{i}]")
        else:
            yield from walk(value, f"{path}.{field.name}")


def parse(signal: str, cls, data: bytes):
    msg = cls()
    try:
        msg.ParseFromString(data)
    except DecodeError as e:
        check(f"{signal}: parses as {cls.__name__}", False, str(e))
        return None
    check(f"{signal}: parses as {cls.__name__}", True)
    check(f"{signal}: payload is not empty", len(data) > 0, "0 bytes")
    unknown = [(p, unknown_field_count(m)) for p, m in walk(msg, cls.__name__)]
    unknown = [(p, n) for p, n in unknown if n]
    check(f"{signal}: no unknown fields in any message", not unknown, repr(unknown))
    again = msg.SerializeToString(deterministic=True)
    check(
        f"{signal}: official re-encoding gives our exact bytes",
        again == data,
        f"{len(again)} vs {len(data)} bytes; first difference at "
        f"{next((i for i, (a, b) in enumerate(zip(again, data)) if a != b), min(len(again), len(data)))}",
    )
    return msg


def any_value(value) -> dict:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        items = []
        for item in value.array_value.values:
            if item.WhichOneof("value") != "string_value":
                return {"type": kind, "value": f"non-string item {item}"}
            items.append(item.string_value)
        return {"type": kind, "value": items}
    return {"type": kind, "value": getattr(value, kind) if kind else None}


def attributes(key_values) -> list[dict]:
    out = []
    for kv in key_values:
        entry = any_value(kv.value) if kv.HasField("value") else {"type": None, "value": None}
        entry["key"] = kv.key
        out.append(entry)
    return out


def envelope(signal: str, request, resource_field: str, scope_field: str, items_field: str, want):
    """Checks the one Resource*/Scope* level pair and returns the items, or None."""
    resources = getattr(request, resource_field)
    if not eq(f"{signal}: one {resource_field}", len(resources), 1):
        return None
    resource_level = resources[0]
    check(f"{signal}: resource present", resource_level.HasField("resource"))
    eq(f"{signal}: resource attributes", attributes(resource_level.resource.attributes), want["resource"])
    eq(f"{signal}: resource dropped_attributes_count", resource_level.resource.dropped_attributes_count, 0)
    eq(f"{signal}: resource schema_url", resource_level.schema_url, "")
    scopes = getattr(resource_level, scope_field)
    if not eq(f"{signal}: one {scope_field}", len(scopes), 1):
        return None
    scope_level = scopes[0]
    check(f"{signal}: scope present", scope_level.HasField("scope"))
    eq(
        f"{signal}: scope name and version",
        {"name": scope_level.scope.name, "version": scope_level.scope.version},
        want["scope"],
    )
    eq(f"{signal}: scope attributes", len(scope_level.scope.attributes), 0)
    return getattr(scope_level, items_field)


# --- traces ---------------------------------------------------------------------------


def check_traces(data: bytes, want: dict) -> None:
    request = parse("traces", ExportTraceServiceRequest, data)
    if request is None:
        return
    spans = envelope("traces", request, "resource_spans", "scope_spans", "spans", want)
    if spans is None or not eq("traces: span count", len(spans), len(want["spans"])):
        return
    for i, (span, w) in enumerate(zip(spans, want["spans"])):
        p = f"traces: span[{i}] {w['name']}"
        eq(f"{p}: name", span.name, w["name"])
        eq(f"{p}: trace_id (16 bytes)", span.trace_id.hex(), w["trace_id"])
        eq(f"{p}: span_id (8 bytes)", span.span_id.hex(), w["span_id"])
        eq(f"{p}: parent_span_id", span.parent_span_id.hex(), w["parent_span_id"])
        eq(f"{p}: trace_state", span.trace_state, w["trace_state"])
        eq(f"{p}: flags (fixed32)", span.flags, w["flags"])
        eq(f"{p}: kind", Span.SpanKind.Name(span.kind), w["kind"])
        eq(f"{p}: start_time_unix_nano", span.start_time_unix_nano, w["start_time_unix_nano"])
        eq(f"{p}: end_time_unix_nano", span.end_time_unix_nano, w["end_time_unix_nano"])
        check(f"{p}: end >= start", span.end_time_unix_nano >= span.start_time_unix_nano)
        eq(f"{p}: attributes with types", attributes(span.attributes), w["attributes"])
        eq(f"{p}: dropped_attributes_count", span.dropped_attributes_count, w["dropped_attributes_count"])
        events = [
            {"time_unix_nano": e.time_unix_nano, "name": e.name, "attributes": attributes(e.attributes)}
            for e in span.events
        ]
        eq(f"{p}: events", events, w["events"])
        eq(f"{p}: dropped_events_count", span.dropped_events_count, w["dropped_events_count"])
        eq(f"{p}: links", len(span.links), 0)
        if w["status"] is None:
            check(f"{p}: no status (UNSET)", not span.HasField("status"))
        else:
            status = {"code": Status.StatusCode.Name(span.status.code), "message": span.status.message}
            eq(f"{p}: status", status, w["status"])
    # The tree: one root, every other span's parent in the payload, one trace.
    ids = {s.span_id for s in spans}
    roots = [s.name for s in spans if not s.parent_span_id]
    eq("traces: exactly one root span", roots, [want["spans"][0]["name"]])
    orphans = [s.name for s in spans if s.parent_span_id and s.parent_span_id not in ids]
    eq("traces: every parent is in the payload", orphans, [])
    eq("traces: one trace id", len({s.trace_id for s in spans}), 1)


# --- metrics --------------------------------------------------------------------------


def number_point(point) -> dict:
    out = {
        "attributes": attributes(point.attributes),
        "start_time_unix_nano": point.start_time_unix_nano,
        "time_unix_nano": point.time_unix_nano,
        "flags": point.flags,
    }
    kind = point.WhichOneof("value")
    if kind:
        out[kind] = getattr(point, kind)
    return out


def histogram_point(point) -> dict:
    def optional(name):
        return getattr(point, name) if point.HasField(name) else None

    return {
        "attributes": attributes(point.attributes),
        "start_time_unix_nano": point.start_time_unix_nano,
        "time_unix_nano": point.time_unix_nano,
        "count": point.count,
        "sum": optional("sum"),
        "bucket_counts": list(point.bucket_counts),
        "explicit_bounds": list(point.explicit_bounds),
        "min": optional("min"),
        "max": optional("max"),
        "flags": point.flags,
    }


def check_metrics(data: bytes, want: dict) -> None:
    request = parse("metrics", ExportMetricsServiceRequest, data)
    if request is None:
        return
    metrics = envelope("metrics", request, "resource_metrics", "scope_metrics", "metrics", want)
    if metrics is None or not eq("metrics: metric count", len(metrics), len(want["metrics"])):
        return
    for metric, w in zip(metrics, want["metrics"]):
        p = f"metrics: {w['name']}"
        eq(f"{p}: name", metric.name, w["name"])
        eq(f"{p}: description", metric.description, w["description"])
        eq(f"{p}: unit", metric.unit, w["unit"])
        kind = metric.WhichOneof("data")
        if not eq(f"{p}: data type", kind, w["type"]):
            continue
        data_msg = getattr(metric, kind)
        if kind in ("sum", "histogram"):
            eq(
                f"{p}: aggregation_temporality",
                AggregationTemporality.Name(data_msg.aggregation_temporality),
                w["aggregation_temporality"],
            )
        if kind == "sum":
            eq(f"{p}: is_monotonic", data_msg.is_monotonic, w["is_monotonic"])
        if kind == "histogram":
            points = [histogram_point(pt) for pt in data_msg.data_points]
            for j, pt in enumerate(data_msg.data_points):
                check(
                    f"{p}: point[{j}] count is the sum of its buckets",
                    not pt.bucket_counts or sum(pt.bucket_counts) == pt.count,
                )
                check(
                    f"{p}: point[{j}] has one bucket more than bounds (or none)",
                    len(pt.bucket_counts) == (len(pt.explicit_bounds) + 1 if pt.bucket_counts else 0),
                )
        else:
            points = [number_point(pt) for pt in data_msg.data_points]
        eq(f"{p}: data points", points, w["points"])


# --- logs -----------------------------------------------------------------------------


def check_logs(data: bytes, want: dict, span_ids: set[str]) -> None:
    request = parse("logs", ExportLogsServiceRequest, data)
    if request is None:
        return
    records = envelope("logs", request, "resource_logs", "scope_logs", "log_records", want)
    if records is None or not eq("logs: record count", len(records), len(want["records"])):
        return
    for i, (record, w) in enumerate(zip(records, want["records"])):
        p = f"logs: record[{i}]"
        eq(f"{p}: time_unix_nano", record.time_unix_nano, w["time_unix_nano"])
        eq(f"{p}: observed_time_unix_nano", record.observed_time_unix_nano, w["observed_time_unix_nano"])
        eq(f"{p}: severity_number", record.severity_number, w["severity_number"])
        check(
            f"{p}: severity_number is a known SeverityNumber",
            record.severity_number in SeverityNumber.values(),
            str(record.severity_number),
        )
        eq(f"{p}: severity_text", record.severity_text, w["severity_text"])
        check(f"{p}: body present", record.HasField("body"))
        eq(f"{p}: body", any_value(record.body), w["body"])
        eq(f"{p}: attributes with types", attributes(record.attributes), w["attributes"])
        eq(f"{p}: trace_id", record.trace_id.hex(), w["trace_id"])
        eq(f"{p}: span_id", record.span_id.hex(), w["span_id"])
        eq(f"{p}: flags (fixed32)", record.flags, w["flags"])
        eq(f"{p}: event_name", record.event_name, "")
        if w["span_id"]:
            check(f"{p}: span_id names a span of traces.pb", w["span_id"] in span_ids, w["span_id"])


# --- proto/ against the official descriptors -------------------------------------------

SCALARS = {
    "double": FieldDescriptor.TYPE_DOUBLE,
    "float": FieldDescriptor.TYPE_FLOAT,
    "int64": FieldDescriptor.TYPE_INT64,
    "uint64": FieldDescriptor.TYPE_UINT64,
    "int32": FieldDescriptor.TYPE_INT32,
    "uint32": FieldDescriptor.TYPE_UINT32,
    "fixed64": FieldDescriptor.TYPE_FIXED64,
    "fixed32": FieldDescriptor.TYPE_FIXED32,
    "sfixed64": FieldDescriptor.TYPE_SFIXED64,
    "sfixed32": FieldDescriptor.TYPE_SFIXED32,
    "bool": FieldDescriptor.TYPE_BOOL,
    "string": FieldDescriptor.TYPE_STRING,
    "bytes": FieldDescriptor.TYPE_BYTES,
}


def parse_proto(text: str):
    """Yields what a proto/ file declares, in the one-statement-per-line style it is
    written in: ("package", name), ("field", message, oneof, words, number) and
    ("enum", enum, name, number); nested names are joined by `.`."""
    blocks: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.split("//")[0].strip()
        if not line:
            continue
        if line in ("}", "};"):
            blocks.pop()
            continue
        if line.endswith("{"):
            kind, name = line[:-1].split()
            blocks.append((kind, name))
            continue
        words = line.rstrip(";").split()
        if words[0] == "package":
            yield ("package", words[1])
            continue
        if words[0] in ("syntax", "import", "option", "reserved", "rpc"):
            continue
        left, number = line.rstrip(";").split("=")
        scope = ".".join(name for kind, name in blocks if kind == "message")
        kind, name = blocks[-1]
        if kind == "enum":
            yield ("enum", ".".join(filter(None, [scope, name])), left.strip(), int(number, 0))
        else:
            oneof = name if kind == "oneof" else None
            yield ("field", scope, oneof, left.split(), int(number, 0))


def check_proto_subset() -> None:
    pool = descriptor_pool.Default()
    files = sorted(PROTO_DIR.rglob("*.proto"))
    check("proto/: .proto files found", bool(files), str(PROTO_DIR))
    for path in files:
        rel = path.relative_to(PROTO_DIR)
        package = None
        for item in parse_proto(path.read_text()):
            if item[0] == "package":
                package = item[1]
                continue
            if not package.startswith("opentelemetry."):
                continue  # google.rpc.Status: not part of opentelemetry-proto
            if item[0] == "enum":
                _, enum, name, number = item
                official = pool.FindEnumTypeByName(f"{package}.{enum}").values_by_name.get(name)
                eq(f"proto/{rel}: {enum}.{name}", official.number if official else None, number)
                continue
            _, message, oneof, words, number = item
            label, type_name, name = (words if len(words) == 3 else [None, *words])
            desc = pool.FindMessageTypeByName(f"{package}.{message}")
            field = desc.fields_by_name.get(name)
            p = f"proto/{rel}: {message}.{name}"
            if not check(p + " exists upstream", field is not None, "no such field"):
                continue
            eq(p + " number", field.number, number)
            if type_name in SCALARS:
                eq(p + " type", field.type, SCALARS[type_name])
            else:
                target = field.message_type or field.enum_type
                full = target.full_name if target else None
                check(
                    p + " type",
                    full is not None and (full == type_name or full.endswith("." + type_name)),
                    f"official {full}, ours {type_name}",
                )
            eq(p + " repeated", is_repeated(field), label == "repeated")
            real_oneof = field.containing_oneof
            if real_oneof is not None and real_oneof.name.startswith("_"):
                real_oneof = None  # the synthetic oneof of a proto3 `optional`
            eq(p + " oneof", real_oneof.name if real_oneof else None, oneof)
            if label == "optional":
                check(p + " has explicit presence", field.has_presence)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    directory = Path(sys.argv[1])
    print(f"protobuf {PROTOBUF_VERSION}, payloads in {directory}", flush=True)
    want = json.loads((directory / "expected.json").read_text())
    steps = [
        ("traces", lambda: check_traces((directory / want["traces"]["file"]).read_bytes(), want["traces"])),
        ("metrics", lambda: check_metrics((directory / want["metrics"]["file"]).read_bytes(), want["metrics"])),
        (
            "logs",
            lambda: check_logs(
                (directory / want["logs"]["file"]).read_bytes(),
                want["logs"],
                {s["span_id"] for s in want["traces"]["spans"]},
            ),
        ),
    ]
    steps.append(("proto/", check_proto_subset))
    for name, step in steps:
        try:
            step()
        except Exception:  # a crash in one signal must not hide the others
            check(f"{name}: checks ran to the end", False, traceback.format_exc())
    passed = sum(1 for _, ok, _ in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
