#!/usr/bin/env python3
"""Interop check: the spans the real binary exports, read by the official decoder.

    python3 tests/interop/otlp_live.py BINARY            # our own loopback receiver
    python3 tests/interop/otlp_live.py --rotel BINARY    # through the rotel collector

Default mode: a loopback HTTP server plays the collector (answers 200, empty body) and
keeps every POST. BINARY runs one MCP session on stdio: `initialize` (2025-06-18),
`notifications/initialized`, an `echo` call carrying a W3C `traceparent`/`tracestate`
in `_meta`, a call of an unknown tool and an `echo` call without its required argument
(both -32602 in 2025-06-18), a read of `config://server` and of an unknown URI (-32002),
a `code_review` prompt get and a `debug_help` get without its `error` (-32602), then
stdin is closed and it must flush and exit 0. Every
body is parsed as `ExportTraceServiceRequest` (PyPI `opentelemetry-proto`) and checked
field by field: resource, scope, span names and kinds, ids, parent links, flags,
trace_state, typed attributes, events, status and times, and that no message anywhere
holds an unknown field.

`--rotel`: the same session against the OTLP/HTTP receiver of rotel (PyPI `rotel`, a
collector that ships its binary) with its debug log on and its OTLP/HTTP exporter
pointed at our loopback receiver. Checks that rotel printed our spans, forwarded every
one of them with the fields we sent, and that the binary logged no export failure.

Exits non-zero on any failure; the last line is `N passed, N failed`.
"""

from __future__ import annotations

import gzip
import http.server
import importlib.metadata
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import traceback
from collections import Counter
from pathlib import Path

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

# Helpers shared with the sample-payload check: the nested-message walk, unknown-field
# counting across protobuf runtimes, and typed attribute lists.
from otlp_decode import attributes, unknown_field_count, walk
from checks import RESULTS, check, eq

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = "2025-06-18"
CLIENT = {"name": "ci-client", "version": "1.2"}
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
TRACESTATE = "vendor=x"
ECHO_TEXT = "hello, collector"
# Span.flags (trace.proto): W3C trace flags in bits 0-7, then
# SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK (0x100) and SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK (0x200).
SAMPLED, RANDOM, HAS_IS_REMOTE, IS_REMOTE = 0x01, 0x02, 0x100, 0x200
IO_TIMEOUT = 10.0
# (id, answers key, method, params) of the resource reads and prompt gets in the session.
FEATURE_REQUESTS = [
    (5, "read", "resources/read", {"uri": "config://server"}),
    (6, "read_missing", "resources/read", {"uri": "config://nope"}),
    (7, "prompt", "prompts/get", {"name": "code_review", "arguments": {"code": "x = 1"}}),
    (8, "prompt_invalid", "prompts/get", {"name": "debug_help", "arguments": {"code": "x = 1"}}),
]
# Span names one session produces (request.process: one per request).
SESSION_SPANS = Counter(
    {"request.process": 8, "mcp.session.initialize": 1, "mcp.tool.call": 3, "mcp.resource.read": 2, "mcp.prompt.get": 2}
)
EXIT_TIMEOUT = 15.0


# --- the loopback collector -------------------------------------------------------------


class Receiver:
    """An OTLP/HTTP endpoint on 127.0.0.1:0 that answers 200 with an empty body and keeps
    (path, headers, body) of every POST."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.posts.append((self.path, headers, body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> list[tuple[str, dict[str, str], bytes]]:
        with self.lock:
            return list(self.posts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the MCP session --------------------------------------------------------------------


class Child:
    """BINARY on stdio: JSON lines in, JSON lines out (read by a thread, so that every
    read has a timeout), stderr kept for the log checks."""

    def __init__(self, binary: str, env: dict[str, str], cwd: str) -> None:
        self.proc = subprocess.Popen(
            [str(Path(binary).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._stdout, daemon=True).start()
        threading.Thread(target=self._stderr, daemon=True).start()

    def _stdout(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def response(self, request_id) -> dict | None:
        """The response to `request_id`; notifications on the way are skipped."""
        deadline = time.monotonic() + IO_TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                check(f"session: response to id {request_id!r} within {IO_TIMEOUT} s", False, "timed out")
                return None
            if line is None:
                check(f"session: response to id {request_id!r}", False, "stdout closed")
                return None
            message = json.loads(line)
            if "id" in message and message["id"] == request_id:
                return message

    def close(self) -> int | None:
        """Closes stdin (the end of the session) and waits for the exit code."""
        self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None


def child_env(endpoint: str) -> dict[str, str]:
    # Only what this check sets: no stray TELEMETRYFLOW_MCP_* or OTEL_* from the caller.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEMETRYFLOW_MCP_", "OTEL_"))}
    env.update(
        {
            "TELEMETRYFLOW_MCP_TRACING_EXPORTER": "otlp",
            "TELEMETRYFLOW_MCP_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_RESOURCE_ATTRIBUTES": "team=ci",
            "TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS": "true",
        }
    )
    return env


def run_session(binary: str, endpoint: str, workdir: str, receiver: Receiver | None = None) -> dict:
    """Runs the session; returns what the span checks compare against. With `receiver`
    (BINARY posts to it directly), waits after the traced call until a first export
    arrives, so that both the scheduled export and the flush at EOF are exercised."""
    started = time.time_ns()
    child = Child(binary, child_env(endpoint), workdir)
    try:
        answers: dict[str, dict | None] = {}
        child.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": CLIENT},
            }
        )
        answers["initialize"] = child.response(1)
        child.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        child.send(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {
                    "name": "echo",
                    "arguments": {"message": ECHO_TEXT},
                    "_meta": {"traceparent": TRACEPARENT, "tracestate": TRACESTATE},
                },
            }
        )
        answers["echo"] = child.response(2)
        if receiver is not None:
            deadline = time.monotonic() + IO_TIMEOUT
            while not receiver.snapshot() and time.monotonic() < deadline:
                time.sleep(0.02)
            check(
                f"session: spans exported on the schedule (OTEL_BSP_SCHEDULE_DELAY) before EOF, within {IO_TIMEOUT} s",
                bool(receiver.snapshot()),
                "nothing arrived",
            )
        # A string id: its span attributes must carry the id's text, without JSON quotes.
        child.send(
            {
                "jsonrpc": "2.0",
                "id": "call-3",
                "method": "tools/call",
                "params": {"name": "nope", "arguments": {}},
            }
        )
        answers["nope"] = child.response("call-3")
        child.send(
            {"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "echo", "arguments": {}}}
        )
        answers["invalid"] = child.response(4)
        # Resources and prompts: a read and a get that succeed, and one of each that fails.
        for request_id, key, method, params in FEATURE_REQUESTS:
            child.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
            answers[key] = child.response(request_id)
        code = child.close()
    finally:
        if child.proc.poll() is None:  # a failed write or read above: no process left behind
            child.proc.kill()
            child.proc.wait()
    ended = time.time_ns()
    eq("session: exit code after stdin EOF", code, 0)
    return {"answers": answers, "pid": child.proc.pid, "stderr": child.stderr, "window": (started, ended)}


def check_answers(answers: dict) -> dict[str, str]:
    """The JSON-RPC side of the session; returns each error's message for the span checks."""
    init = answers["initialize"] or {}
    eq("session: initialize negotiated", init.get("result", {}).get("protocolVersion"), PROTOCOL)
    echo = answers["echo"] or {}
    eq(
        "session: echo result",
        echo.get("result", {}).get("content"),
        [{"type": "text", "text": ECHO_TEXT}],
    )
    messages = {}
    for key, what in (("nope", "unknown tool"), ("invalid", "echo without its required argument")):
        error = (answers[key] or {}).get("error", {})
        eq(f"session: {what} is JSON-RPC error -32602", error.get("code"), -32602)
        check(f"session: {what} has an error message", bool(error.get("message")), repr(error))
        messages[key] = error.get("message", "")
    read = (answers["read"] or {}).get("result", {})
    contents = read.get("contents") or [{}]
    eq("session: config://server read", (contents[0].get("uri"), contents[0].get("mimeType")), ("config://server", "application/json"))
    prompt = (answers["prompt"] or {}).get("result", {})
    eq("session: code_review renders one user message", [m.get("role") for m in prompt.get("messages", [])], ["user"])
    for key, code, what in (
        ("read_missing", -32002, "unknown resource (2025-06-18)"),
        ("prompt_invalid", -32602, "debug_help without `error`"),
    ):
        error = (answers[key] or {}).get("error", {})
        eq(f"session: {what} is JSON-RPC error {code}", error.get("code"), code)
        messages[key] = error.get("message", "")
    return messages


# --- decoding ---------------------------------------------------------------------------


def decode(posts, where: str, ours: bool):
    """Parses every body; returns [(resource_spans, scope_spans, span)] over all of them.
    `ours`: the bodies come from BINARY (uncompressed, our exact field order); otherwise
    from a collector, which may gzip them."""
    out = []
    check(f"{where}: at least one export request", bool(posts), "no POST arrived")
    for n, (path, headers, body) in enumerate(posts):
        p = f"{where}: request[{n}]"
        eq(f"{p}: path", path, "/v1/traces")
        eq(f"{p}: content-type", headers.get("content-type"), "application/x-protobuf")
        encoding = headers.get("content-encoding", "identity")
        if ours:
            eq(f"{p}: content-encoding (none configured)", encoding, "identity")
        elif encoding == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as e:
            check(f"{p}: parses as ExportTraceServiceRequest", False, str(e))
            continue
        check(f"{p}: parses as ExportTraceServiceRequest", True)
        unknown = [(path_, unknown_field_count(m)) for path_, m in walk(request, "ExportTraceServiceRequest")]
        unknown = [(path_, count) for path_, count in unknown if count]
        check(f"{p}: no unknown fields in any message", not unknown, repr(unknown))
        if ours:
            again = request.SerializeToString(deterministic=True)
            check(
                f"{p}: official re-encoding gives the exact bytes",
                again == body,
                f"{len(again)} vs {len(body)} bytes",
            )
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    out.append((resource_spans, scope_spans, span))
    return out


def typed(key_values) -> dict:
    """{key: (type, value)}; keys seen twice are reported by the caller."""
    return {a["key"]: (a["type"], a["value"]) for a in attributes(key_values)}


def duplicates(key_values) -> list[str]:
    return [k for k, n in Counter(kv.key for kv in key_values).items() if n > 1]


def check_resource(where: str, spans, pid: int, version: str) -> None:
    """One resource and one scope for every span, with the attributes we configure."""
    resources = {(r.resource.SerializeToString(deterministic=True), r.schema_url) for r, _, _ in spans}
    scopes = {(s.scope.SerializeToString(deterministic=True), s.schema_url) for _, s, _ in spans}
    eq(f"{where}: one resource over all requests", len(resources), 1)
    eq(f"{where}: one scope over all requests", len(scopes), 1)
    if not spans:
        return
    resource_spans, scope_spans, _ = spans[0]
    resource = resource_spans.resource
    host = Path("/proc/sys/kernel/hostname").read_text().strip()
    want = {
        "service.name": ("string_value", "telemetryflow-mcp"),
        "service.version": ("string_value", version),
        "deployment.environment.name": ("string_value", "development"),
        "telemetry.sdk.name": ("string_value", "tfo-mcp"),
        "telemetry.sdk.language": ("string_value", "rust"),
        "telemetry.sdk.version": ("string_value", version),
        "host.name": ("string_value", host),
        "process.pid": ("int_value", pid),
        "team": ("string_value", "ci"),
    }
    eq(f"{where}: resource attributes with types", typed(resource.attributes), want)
    eq(f"{where}: resource attribute keys are unique", duplicates(resource.attributes), [])
    eq(f"{where}: resource dropped_attributes_count", resource.dropped_attributes_count, 0)
    eq(
        f"{where}: scope name and version",
        (scope_spans.scope.name, scope_spans.scope.version),
        ("telemetryflow-mcp", version),
    )


def find(spans, name: str, **attrs):
    """Spans called `name` whose attributes hold `attrs` (string values)."""
    found = []
    for _, _, span in spans:
        have = typed(span.attributes)
        if span.name == name and all(have.get(k) == ("string_value", v) for k, v in attrs.items()):
            found.append(span)
    return found


def one(where: str, spans, what: str, name: str, **attrs):
    found = find(spans, name, **attrs)
    return found[0] if eq(f"{where}: one {what}", len(found), 1) else None


def check_spans(where: str, spans, session: dict, errors: dict[str, str]) -> None:
    all_spans = [s for _, _, s in spans]
    eq(
        f"{where}: span names",
        Counter(s.name for s in all_spans),
        SESSION_SPANS,
    )
    eq(f"{where}: span ids are unique", len({s.span_id for s in all_spans}), len(all_spans))
    start, end = session["window"]
    for i, span in enumerate(all_spans):
        p = f"{where}: span[{i}] {span.name}"
        check(
            f"{p}: trace_id is 16 bytes, not zero",
            len(span.trace_id) == 16 and any(span.trace_id),
            span.trace_id.hex(),
        )
        check(
            f"{p}: span_id is 8 bytes, not zero",
            len(span.span_id) == 8 and any(span.span_id),
            span.span_id.hex(),
        )
        check(
            f"{p}: parent_span_id empty or 8 bytes, not zero",
            not span.parent_span_id or (len(span.parent_span_id) == 8 and any(span.parent_span_id)),
            span.parent_span_id.hex(),
        )
        check(
            f"{p}: start <= end, both within the session (ns since the epoch)",
            start <= span.start_time_unix_nano <= span.end_time_unix_nano <= end,
            f"start {span.start_time_unix_nano} end {span.end_time_unix_nano}, session {start}..{end}",
        )
        have = typed(span.attributes)
        eq(f"{p}: service.name attribute", have.get("service.name"), ("string_value", "telemetryflow-mcp"))
        eq(f"{p}: attribute keys are unique", duplicates(span.attributes), [])
        unset = [kv.key for kv in span.attributes if kv.value.WhichOneof("value") is None]
        eq(f"{p}: every attribute has a value", unset, [])
        for e in span.events:
            check(
                f"{p}: event {e.name} within the span",
                span.start_time_unix_nano <= e.time_unix_nano <= span.end_time_unix_nano,
                f"{e.time_unix_nano} not in {span.start_time_unix_nano}..{span.end_time_unix_nano}",
            )
        eq(
            f"{p}: dropped counts",
            (span.dropped_attributes_count, span.dropped_events_count, span.dropped_links_count),
            (0, 0, 0),
        )
        eq(f"{p}: links", len(span.links), 0)

    session_ids = {
        have["mcp.session.id"]
        for have in (typed(s.attributes) for s in all_spans)
        if "mcp.session.id" in have
    }
    eq(f"{where}: one mcp.session.id over all spans that carry it", len(session_ids), 1)
    session_id = next(iter(session_ids))[1] if len(session_ids) == 1 else None
    check(
        f"{where}: mcp.session.id is a string of 32 hex digits",
        len(session_ids) == 1
        and next(iter(session_ids))[0] == "string_value"
        and re.fullmatch("[0-9a-f]{32}", session_id or "") is not None,
        repr(session_ids),
    )

    def request_span(
        what: str, request_id: str, method: str, *, remote: bool, error: str | None, code: str = "-32602"
    ):
        span = one(
            where, spans, f"request.process of {what}", "request.process", **{"mcp.request.id": request_id}
        )
        if span is None:
            return None
        p = f"{where}: request.process of {what}"
        eq(f"{p}: kind SERVER", Span.SpanKind.Name(span.kind), "SPAN_KIND_SERVER")
        have = typed(span.attributes)
        want = {
            "mcp.request.id": ("string_value", request_id),
            "jsonrpc.request.id": ("string_value", request_id),
            "mcp.method.name": ("string_value", method),
            "mcp.session.id": ("string_value", session_id),
            "mcp.protocol.version": ("string_value", PROTOCOL),
            "network.transport": ("string_value", "pipe"),
        }
        if error is not None:
            want["error.type"] = ("string_value", code)
        eq(f"{p}: attributes with types", {k: have.get(k) for k in want}, want)
        if error is None:
            check(f"{p}: no error.type", "error.type" not in have, repr(have.get("error.type")))
        if remote:
            eq(f"{p}: trace_id continues the caller's", span.trace_id.hex(), CALLER_TRACE)
            eq(f"{p}: parent is the caller's span", span.parent_span_id.hex(), CALLER_SPAN)
            eq(f"{p}: trace_state passed on", span.trace_state, TRACESTATE)
            # The caller's flags are 01: sampled, not random; the parent is remote.
            eq(f"{p}: flags", hex(span.flags), hex(SAMPLED | HAS_IS_REMOTE | IS_REMOTE))
        else:
            eq(f"{p}: root span (no parent)", span.parent_span_id.hex(), "")
            eq(f"{p}: trace_state empty", span.trace_state, "")
            check(f"{p}: a new trace", span.trace_id.hex() != CALLER_TRACE)
            # A trace id we made: sampled and random (W3C level 2); no parent, still known local.
            eq(f"{p}: flags", hex(span.flags), hex(SAMPLED | RANDOM | HAS_IS_REMOTE))
        check_status(p, span, error, EXCEPTION_TYPES[code])
        return span

    def check_status(p: str, span, error: str | None, exception_type: str = "InvalidParams"):
        if error is None:
            eq(
                f"{p}: status OK, no message",
                (Status.StatusCode.Name(span.status.code), span.status.message),
                ("STATUS_CODE_OK", ""),
            )
            eq(f"{p}: no exception event", [e.name for e in span.events if e.name == "exception"], [])
            return
        eq(
            f"{p}: status ERROR with the error's message",
            (Status.StatusCode.Name(span.status.code), span.status.message),
            ("STATUS_CODE_ERROR", error),
        )
        exceptions = [e for e in span.events if e.name == "exception"]
        if eq(f"{p}: one exception event", len(exceptions), 1):
            eq(
                f"{p}: exception attributes with types",
                typed(exceptions[0].attributes),
                {
                    "exception.type": ("string_value", exception_type),
                    "exception.message": ("string_value", error),
                },
            )

    def child_of(p: str, child, parent, flags: int, trace_state: str):
        eq(f"{p}: same trace as its request.process", child.trace_id.hex(), parent.trace_id.hex())
        eq(f"{p}: parent is its request.process", child.parent_span_id.hex(), parent.span_id.hex())
        eq(f"{p}: trace_state as its parent's", child.trace_state, trace_state)
        # A local parent: the remote bit is known and clear; trace flags as the parent's.
        eq(f"{p}: flags", hex(child.flags), hex(flags))
        eq(f"{p}: kind INTERNAL", Span.SpanKind.Name(child.kind), "SPAN_KIND_INTERNAL")
        check(
            f"{p}: within its request.process",
            parent.start_time_unix_nano
            <= child.start_time_unix_nano
            <= child.end_time_unix_nano
            <= parent.end_time_unix_nano,
            f"child {child.start_time_unix_nano}..{child.end_time_unix_nano}, parent {parent.start_time_unix_nano}..{parent.end_time_unix_nano}",
        )

    def tool_span(what: str, parent, tool: str, inputs: int, error: str | None, flags: int, trace_state: str):
        if parent is None:
            return
        found = [s for s in all_spans if s.name == "mcp.tool.call" and s.parent_span_id == parent.span_id]
        if not eq(f"{where}: one mcp.tool.call under the request.process of {what}", len(found), 1):
            return
        span = found[0]
        p = f"{where}: mcp.tool.call {what}"
        child_of(p, span, parent, flags, trace_state)
        have = typed(span.attributes)
        want = {
            "mcp.tool.name": ("string_value", tool),
            "gen_ai.tool.name": ("string_value", tool),
            "gen_ai.operation.name": ("string_value", "execute_tool"),
            "mcp.session.id": ("string_value", session_id),
            "mcp.protocol.version": ("string_value", PROTOCOL),
            "mcp.tool.input.size": ("int_value", inputs),
        }
        if error is None:
            want["mcp.tool.result.size"] = ("int_value", 1)
            want["mcp.tool.result.success"] = ("bool_value", True)
        eq(f"{p}: attributes with types", {k: have.get(k) for k in want}, want)
        if error is not None:
            # A refused call has no CallToolResult to describe.
            eq(
                f"{p}: no result attributes on a refused call",
                [k for k in have if k.startswith("mcp.tool.result.")],
                [],
            )
        check_status(p, span, error)

    local = SAMPLED | RANDOM | HAS_IS_REMOTE
    init = request_span("initialize", "1", "initialize", remote=False, error=None)
    if init is not None:
        found = [s for s in all_spans if s.name == "mcp.session.initialize"]
        if eq(f"{where}: one mcp.session.initialize", len(found), 1):
            span = found[0]
            p = f"{where}: mcp.session.initialize"
            child_of(p, span, init, local, "")
            have = typed(span.attributes)
            want = {
                "mcp.client.name": ("string_value", CLIENT["name"]),
                "mcp.client.version": ("string_value", CLIENT["version"]),
                "mcp.protocol.version": ("string_value", PROTOCOL),
            }
            eq(f"{p}: attributes with types", {k: have.get(k) for k in want}, want)
            events = [(e.name, typed(e.attributes)) for e in span.events]
            eq(
                f"{p}: events",
                events,
                [
                    ("session.validation.start", {}),
                    ("session.created", {"mcp.session.id": ("string_value", session_id)}),
                ],
            )
            eq(
                f"{p}: events in time order",
                [e.time_unix_nano for e in span.events],
                sorted(e.time_unix_nano for e in span.events),
            )
            check_status(p, span, None)

    echo = request_span("the traced echo call", "2", "tools/call", remote=True, error=None)
    tool_span("echo (traced)", echo, "echo", 1, None, SAMPLED | HAS_IS_REMOTE, TRACESTATE)
    nope = request_span("the unknown tool", "call-3", "tools/call", remote=False, error=errors.get("nope"))
    tool_span("nope", nope, "nope", 0, errors.get("nope"), local, "")
    invalid = request_span(
        "echo without arguments", "4", "tools/call", remote=False, error=errors.get("invalid")
    )
    tool_span("echo (invalid)", invalid, "echo", 0, errors.get("invalid"), local, "")
    feature_spans(where, all_spans, errors, request_span, child_of, check_status, session_id, local)
    traces = {s.trace_id for s in all_spans}
    eq(f"{where}: one trace per request", len(traces), 8)


# The exception type recorded for each JSON-RPC error code (dispatch's error_type).
EXCEPTION_TYPES = {"-32602": "InvalidParams", "-32002": "ResourceNotFound"}


def feature_spans(where, all_spans, errors, request_span, child_of, check_status, session_id, local) -> None:
    """mcp.resource.read and mcp.prompt.get: one child of each request.process, with
    the URI or prompt name, session, revision, result attributes and status."""
    cases = [
        # (request id, method, child span, identifying attributes, result attributes, error, code)
        ("5", "resources/read", "mcp.resource.read",
         {"mcp.resource.uri": ("string_value", "config://server")},
         {"mcp.resource.name": ("string_value", "server-config"), "mcp.resource.contents": ("int_value", 1)},
         None, "-32602"),
        ("6", "resources/read", "mcp.resource.read",
         {"mcp.resource.uri": ("string_value", "config://nope")},
         {}, errors.get("read_missing"), "-32002"),
        ("7", "prompts/get", "mcp.prompt.get",
         {"mcp.prompt.name": ("string_value", "code_review"), "gen_ai.prompt.name": ("string_value", "code_review")},
         {"mcp.prompt.messages": ("int_value", 1)},
         None, "-32602"),
        ("8", "prompts/get", "mcp.prompt.get",
         {"mcp.prompt.name": ("string_value", "debug_help"), "gen_ai.prompt.name": ("string_value", "debug_help")},
         {}, errors.get("prompt_invalid"), "-32602"),
    ]  # fmt: skip
    for request_id, method, name, ident, results, error, code in cases:
        parent = request_span(f"{method} {request_id}", request_id, method, remote=False, error=error, code=code)
        if parent is None:
            continue
        p = f"{where}: {name} of request {request_id}"
        # The semantic-convention attribute on the server span itself.
        semconv = "mcp.resource.uri" if name == "mcp.resource.read" else "gen_ai.prompt.name"
        eq(f"{p}: request.process carries {semconv}", typed(parent.attributes).get(semconv), ident[semconv])
        found = [s for s in all_spans if s.name == name and s.parent_span_id == parent.span_id]
        if not eq(f"{p}: one child of its request.process", len(found), 1):
            continue
        span = found[0]
        child_of(p, span, parent, local, "")
        have = typed(span.attributes)
        want = {
            **ident,
            "mcp.session.id": ("string_value", session_id),
            "mcp.protocol.version": ("string_value", PROTOCOL),
            "service.name": ("string_value", "telemetryflow-mcp"),
            **results,
        }
        eq(f"{p}: attributes with types", have, want)
        check_status(p, span, error, EXCEPTION_TYPES[code])


def crate_version() -> str:
    """`package.version` of Cargo.toml: what service.version and the scope version say."""
    with open(ROOT / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]["version"]


def stderr_clean(session: dict) -> None:
    text = "".join(session["stderr"])
    for phrase in (
        "OTLP trace export failed",
        "accepted the batch partially",
        "did not finish before the shutdown deadline",
    ):
        check(f"binary stderr has no {phrase!r}", phrase not in text, text[-2000:])


# --- mode: our own receiver -------------------------------------------------------------


def live(binary: str) -> None:
    receiver = Receiver()
    try:
        with tempfile.TemporaryDirectory(prefix="otlp-live-") as workdir:
            session = run_session(binary, f"http://127.0.0.1:{receiver.port}", workdir, receiver)
    finally:
        receiver.close()
    errors = check_answers(session["answers"])
    stderr_clean(session)
    spans = decode(receiver.snapshot(), "export", ours=True)
    check_resource("export", spans, session["pid"], crate_version())
    check_spans("export", spans, session, errors)


# --- mode: through rotel ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_rotel(agent: Path, forward_to: int, workdir: str):
    """Starts rotel in the foreground on free loopback ports; returns (process, http port,
    output file), retrying when a port was taken between picking and binding it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROTEL_")}
    for attempt in range(3):
        http_port, grpc_port = free_port(), free_port()
        out = Path(workdir) / f"rotel-{attempt}.out"
        args = [
            str(agent), "start",
            "--otlp-http-endpoint", f"127.0.0.1:{http_port}",
            "--otlp-grpc-endpoint", f"127.0.0.1:{grpc_port}",
            "--exporter", "otlp",
            "--otlp-exporter-endpoint", f"http://127.0.0.1:{forward_to}",
            "--otlp-exporter-protocol", "http",
            "--batch-timeout", "100ms",
            "--debug-log", "traces",
            "--debug-log-verbosity", "detailed",
            "--log-format", "text",
            "--pid-file", str(Path(workdir) / "rotel.pid"),
            "--log-file", str(Path(workdir) / "rotel.log"),
        ]  # fmt: skip
        with open(out, "wb") as sink:
            proc = subprocess.Popen(args, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=workdir)
        if wait_port(http_port, proc, 15.0):
            return proc, http_port, out
        stop(proc)
        print(
            f"rotel did not listen on {http_port} (attempt {attempt + 1}):\n{out.read_text(errors='replace')}",
            flush=True,
        )
    return None, None, None


def rotel(binary: str) -> None:
    import rotel as rotel_pkg

    agent = Path(rotel_pkg.__file__).parent / "rotel-agent"
    version = subprocess.run(
        [str(agent), "--version"], capture_output=True, text=True, timeout=10
    ).stdout.strip()
    print(f"rotel package {importlib.metadata.version('rotel')}, agent {version!r}", flush=True)
    receiver = Receiver()
    with tempfile.TemporaryDirectory(prefix="otlp-rotel-") as workdir:
        proc, port, out = start_rotel(agent, receiver.port, workdir)
        if not check("rotel: listening on its OTLP/HTTP port", proc is not None):
            receiver.close()
            return
        try:
            session = run_session(binary, f"http://127.0.0.1:{port}", workdir)
            # rotel batches (100 ms here) before it prints and forwards: wait for all 8 spans.
            deadline = time.monotonic() + 15
            spans = []
            while time.monotonic() < deadline:
                spans = decode_quietly(receiver.snapshot())
                if len(spans) >= sum(SESSION_SPANS.values()):
                    break
                time.sleep(0.1)
            check("rotel: still running after the session", proc.poll() is None, f"exit {proc.returncode}")
        finally:
            stop(proc)
            receiver.close()
        log = out.read_text(errors="replace")
    errors = check_answers(session["answers"])
    stderr_clean(session)
    # The debug exporter's text: every span name, the caller's ids and our attributes.
    printed = Counter(re.findall(r"^\s*Name\s*:\s*(\S+)\s*$", log, re.M))
    eq(
        "rotel: debug log printed our spans",
        printed,
        SESSION_SPANS,
    )
    for needle in (
        f"Trace ID       : {CALLER_TRACE}",
        f"Parent ID      : {CALLER_SPAN}",
        "-> mcp.tool.result.success: Bool(true)",
        "-> process.pid: Int(" + str(session["pid"]) + ")",
        "-> team: Str(ci)",
    ):
        check(f"rotel: debug log shows {needle.strip()!r}", needle in log, log[-3000:])
    check(
        "rotel: logged no error",
        not re.search(r"\b(ERROR|WARN)\b", log),
        "\n".join(l for l in log.splitlines() if re.search(r"\b(ERROR|WARN)\b", l))[:3000],
    )
    # What rotel forwarded: our spans, decoded by rotel and encoded again by it.
    forwarded = decode(receiver.snapshot(), "rotel forwarded", ours=False)
    check_resource("rotel forwarded", forwarded, session["pid"], crate_version())
    check_spans("rotel forwarded", forwarded, session, errors)


def decode_quietly(posts) -> list:
    spans = []
    for _, headers, body in posts:
        if headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError:
            continue
        spans.extend(s for r in request.resource_spans for ss in r.scope_spans for s in ss.spans)
    return spans


def main() -> int:
    args = sys.argv[1:]
    mode = live
    if args[:1] == ["--rotel"]:
        mode, args = rotel, args[1:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        mode(args[0])
    except Exception:  # a crash must still end in the summary line
        check("checks ran to the end", False, traceback.format_exc())
    passed = sum(1 for _, ok, _ in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
