#!/usr/bin/env python3
"""Interop check: the log records the real binary exports over OTLP, read by the official decoder.

    python3 tests/interop/otlp_logs_live.py BINARY

A loopback HTTP server plays the collector. BINARY runs with OTLP logs on
(`TELEMETRYFLOW_MCP_LOG_OTLP_ENABLED=true`) and OTLP traces, and serves one MCP session:
`initialize`, an `echo` call carrying a W3C `traceparent`, and a call of an unknown tool
whose arguments hold an API key and an Authorization header value; then stdin is closed
and it must flush and exit 0. Every `/v1/logs` body is parsed as
`ExportLogsServiceRequest` (PyPI `opentelemetry-proto`): no unknown field, the official
re-encoding equals our bytes, and the spec's records are there with severity number and
text, string body, typed attributes, and the trace and span ids of the request's
`request.process` span from `/v1/traces`. No secret appears in any body or on stderr.

Exits non-zero on any failure; the last line is `N passed, N failed`.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber

from checks import RESULTS, check, eq
from otlp_decode import any_value, attributes, parse
from otlp_live import Child, Receiver, child_env

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"
SECRETS = ("secret123", "abcdef123456")


def session(binary: str, receiver: Receiver, workdir: str) -> list[str]:
    env = child_env(f"http://127.0.0.1:{receiver.port}")
    env["TELEMETRYFLOW_MCP_LOG_OTLP_ENABLED"] = "true"
    child = Child(binary, env, workdir)
    child.send(
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "ci", "version": "1"}},
        }
    )
    child.response(0)
    child.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    child.send(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"message": "hi"}, "_meta": {"traceparent": TRACEPARENT}},
        }
    )
    child.response(1)
    child.send(
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {
                "name": "no_such_tool",
                "arguments": {"api_key": "sk-ant-secret123", "headers": {"Authorization": "Bearer abcdef123456"}},
            },
        }
    )
    child.response(2)
    eq("session: exit code after EOF", child.close(), 0)
    time.sleep(0.2)
    return child.stderr


def request_spans(posts) -> dict[str, tuple[str, str]]:
    """request id -> (trace id, span id) of its `request.process` span."""
    out = {}
    for path, _, body in posts:
        if path != "/v1/traces":
            continue
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    attrs = {a["key"]: a["value"] for a in attributes(span.attributes)}
                    if span.name == "request.process" and "mcp.request.id" in attrs:
                        out[attrs["mcp.request.id"]] = (span.trace_id.hex(), span.span_id.hex())
    return out


def check_logs(posts, stderr: list[str]) -> None:
    logs = [(headers, body) for path, headers, body in posts if path == "/v1/logs"]
    if not check("logs: the binary posted to /v1/logs", bool(logs), f"paths: {[p for p, _, _ in posts]}"):
        return
    records = []
    for i, (headers, body) in enumerate(logs):
        eq(f"logs[{i}]: content-type", headers.get("content-type"), "application/x-protobuf")
        request = parse(f"logs[{i}]", ExportLogsServiceRequest, body)
        if request is None:
            continue
        for rl in request.resource_logs:
            resource = {a["key"]: a["value"] for a in attributes(rl.resource.attributes)}
            eq(f"logs[{i}]: service.name", resource.get("service.name"), "telemetryflow-mcp")
            for sl in rl.scope_logs:
                eq(f"logs[{i}]: scope name", sl.scope.name, "telemetryflow-mcp")
                records.extend(sl.log_records)
    spans = request_spans(posts)

    def find(body: str, request_id: str | None):
        for record in records:
            attrs = {a["key"]: a for a in attributes(record.attributes)}
            rid = attrs.get("request_id", {}).get("value")
            if any_value(record.body) == {"type": "string_value", "value": body} and rid == request_id:
                return record, attrs
        check(f"logs: {body!r} of request {request_id} exported", False, f"{len(records)} records")
        return None, {}

    start, _ = find("tfo-mcp starting on stdio", None)
    if start is not None:
        eq("logs: start record has no trace", (start.trace_id, start.span_id), (b"", b""))
    completed, attrs = find("MCP request completed", "1")
    if completed is not None:
        eq("logs: completed severity_number", completed.severity_number, SeverityNumber.SEVERITY_NUMBER_INFO)
        eq("logs: completed severity_text", completed.severity_text, "INFO")
        eq("logs: mcp_method attribute", attrs.get("mcp_method"), {"type": "string_value", "value": "tools/call", "key": "mcp_method"})
        eq("logs: duration_ms is a double", attrs.get("duration_ms", {}).get("type"), "double_value")
        eq("logs: record continues the caller's trace", completed.trace_id.hex(), CALLER_TRACE)
        eq(
            "logs: record in the request.process span",
            (completed.trace_id.hex(), completed.span_id.hex()),
            spans.get("1"),
        )
        check("logs: time set", completed.time_unix_nano > 0)
    failed, attrs = find("MCP request failed", "2")
    if failed is not None:
        eq("logs: failed severity_number", failed.severity_number, SeverityNumber.SEVERITY_NUMBER_ERROR)
        eq("logs: failed severity_text", failed.severity_text, "ERROR")
        eq("logs: failed record in its span", (failed.trace_id.hex(), failed.span_id.hex()), spans.get("2"))
    tracked, attrs = find("Operation failed", "2")
    if tracked is not None:
        eq("logs: error_type attribute", attrs.get("error_type", {}).get("value"), "InvalidParams")
    everything = b"".join(body for _, _, body in posts).decode("latin-1") + "".join(stderr)
    for secret in SECRETS:
        check(f"no {secret!r} in exported telemetry or logs", secret not in everything)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    receiver = Receiver()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            stderr = session(sys.argv[1], receiver, workdir)
            check_logs(receiver.snapshot(), stderr)
    except Exception:
        check("checks ran to the end", False, traceback.format_exc())
    finally:
        receiver.close()
    # One list for every script's checks (`checks.RESULTS`).
    results = RESULTS
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
