#!/usr/bin/env python3
"""Interop check: the real binary's metrics, read by third-party tools.

    python3 tests/interop/metrics_interop.py prometheus BINARY   # promtool + a real Prometheus
    python3 tests/interop/metrics_interop.py otlp BINARY         # official OTLP decoder

Both modes run one MCP session on stdio against BINARY: `initialize` (2025-06-18),
`notifications/initialized`, `tools/list`, an `echo` call, an `echo` call without its
required argument (-32602 in 2025-06-18) and a call of an unknown tool (-32602).

prometheus: the endpoint listens on a free port (TELEMETRYFLOW_MCP_METRICS_PORT=0, the
address read from the binary's log). One scrape goes through `promtool check metrics`
(Debian package `prometheus`). Then a real Prometheus server scrapes the binary every
second, and its HTTP API must show `up == 1` and the spec's series with the expected
label sets and values.

otlp: TELEMETRYFLOW_MCP_METRICS_EXPORTER=otlp pushes to a loopback receiver every
second; after the session stdin is closed and the last push must arrive. Every body is
parsed as `ExportMetricsServiceRequest` (PyPI `opentelemetry-proto`) and checked: no
unknown fields, metric names and types, cumulative temporality, monotonic counters,
the spec's bucket bounds, bucket counts adding up to the count, attributes.

Exits non-zero on any failure; the last line is `N passed, N failed`.
"""

from __future__ import annotations

import http.server
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import urllib.request
from pathlib import Path
from checks import RESULTS, check, eq

IO_TIMEOUT = 10.0

SESSION_BUCKETS = [1, 5, 10, 30, 60, 300, 600, 1800, 3600]
TOOL_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30]
SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Binary:
    """The server on stdio, its stderr collected line by line."""

    def __init__(self, binary: str, env: dict[str, str]):
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEMETRYFLOW_", "OTEL_"))}
        clean.update({"TELEMETRYFLOW_MCP_TRACING_EXPORTER": "none", "TELEMETRYFLOW_MCP_METRICS_PORT": "0"})
        clean.update(env)
        self.proc = subprocess.Popen(
            [binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=clean
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _read(stream, sink):
        for raw in stream:
            sink(raw.decode("utf-8", "replace").rstrip("\n"))

    def send(self, message: dict) -> None:
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def call(self, id_: int, method: str, params: dict) -> dict:
        self.send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        while True:
            message = json.loads(self.lines.get(timeout=IO_TIMEOUT))
            if "method" not in message:
                return message

    def metrics_address(self) -> str:
        deadline = time.monotonic() + IO_TIMEOUT
        while time.monotonic() < deadline:
            for line in list(self.stderr):
                if '"message":"metrics endpoint listening"' in line:
                    return json.loads(line)["address"]
            time.sleep(0.05)
        raise RuntimeError("no 'metrics endpoint listening' log line:\n" + "\n".join(self.stderr))

    def close(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(timeout=15)


def session(b: Binary) -> None:
    reply = b.call(0, "initialize", {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "ci-metrics", "version": "1"}})
    eq("initialize answered", reply.get("result", {}).get("protocolVersion"), "2025-06-18")
    b.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    b.call(1, "tools/list", {})
    ok = b.call(2, "tools/call", {"name": "echo", "arguments": {"message": "metrics"}})
    eq("echo succeeded", ok.get("result", {}).get("isError"), False)
    bad = b.call(3, "tools/call", {"name": "echo", "arguments": {}})
    eq("echo without message is -32602", bad.get("error", {}).get("code"), -32602)
    unknown = b.call(4, "tools/call", {"name": "no_such_tool", "arguments": {}})
    eq("unknown tool is -32602", unknown.get("error", {}).get("code"), -32602)


# --- prometheus ---------------------------------------------------------------------------


def http_get(url: str) -> tuple[int, dict, str]:
    with urllib.request.urlopen(url, timeout=IO_TIMEOUT) as r:
        return r.status, dict(r.headers), r.read().decode()


def prom_query(base: str, query: str) -> list:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    _, _, body = http_get(url)
    data = json.loads(body)
    return data["data"]["result"] if data.get("status") == "success" else []


def run_prometheus(binary: str) -> None:
    b = Binary(binary, {})
    work = Path(tempfile.mkdtemp(prefix="tfo-prom-"))
    prom = None
    try:
        addr = b.metrics_address()
        session(b)
        status, headers, text = http_get(f"http://{addr}/metrics")
        eq("GET /metrics is 200", status, 200)
        eq("Content-Type is text 0.0.4", headers.get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        scrape = work / "scrape.txt"
        scrape.write_text(text)
        lint = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True)
        check("promtool check metrics accepts the scrape", lint.returncode == 0,
              (lint.stdout + lint.stderr).decode()[-3000:])

        port = free_port()
        config = work / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: tfo-mcp\n"
            f"    static_configs:\n      - targets: ['{addr}']\n"
        )
        prom = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=open(work / "prometheus.log", "wb"))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        up = []
        while time.monotonic() < deadline:
            try:
                up = prom_query(base, 'up{job="tfo-mcp"}')
                if up and up[0]["value"][1] == "1":
                    series = prom_query(base, "mcp_tool_calls_total")
                    if series:
                        break
            except OSError:
                pass
            time.sleep(0.5)
        check("Prometheus scraped the binary: up == 1",
              bool(up) and up[0]["value"][1] == "1",
              f"{up}; log: {(work / 'prometheus.log').read_text()[-2000:]}")

        def values(query: str) -> dict:
            out = {}
            for r in prom_query(base, query):
                labels = {k: v for k, v in r["metric"].items() if k not in ("job", "instance")}
                out[json.dumps(labels, sort_keys=True)] = float(r["value"][1])
            return out

        def key(**labels) -> str:
            return json.dumps(labels, sort_keys=True)

        eq("mcp_tool_calls_total series and values", values("mcp_tool_calls_total"), {
            key(__name__="mcp_tool_calls_total", tool_name="echo", status="success"): 1.0,
            key(__name__="mcp_tool_calls_total", tool_name="echo", status="error"): 1.0,
            key(__name__="mcp_tool_calls_total", tool_name="__unknown__", status="error"): 1.0,
        })
        eq("mcp_messages_total series and values", values("mcp_messages_total"), {
            key(__name__="mcp_messages_total", method="initialize", status="success"): 1.0,
            key(__name__="mcp_messages_total", method="tools/list", status="success"): 1.0,
            key(__name__="mcp_messages_total", method="tools/call", status="success"): 1.0,
            key(__name__="mcp_messages_total", method="tools/call", status="error"): 2.0,
        })
        eq("mcp_sessions_active", values("mcp_sessions_active"), {key(__name__="mcp_sessions_active"): 1.0})
        eq("mcp_sessions_total", values("mcp_sessions_total"), {key(__name__="mcp_sessions_total"): 1.0})
        eq("mcp_message_size_bytes_count by direction", values("mcp_message_size_bytes_count"), {
            key(__name__="mcp_message_size_bytes_count", direction="request"): 6.0,
            key(__name__="mcp_message_size_bytes_count", direction="response"): 5.0,
        })
        les = sorted(float(r["metric"]["le"]) for r in prom_query(
            base, 'mcp_tool_call_duration_seconds_bucket{tool_name="echo"}'))
        eq("mcp_tool_call_duration_seconds buckets are the spec's", les, sorted(TOOL_BUCKETS + [float("inf")]))
        les = sorted(float(r["metric"]["le"]) for r in prom_query(base, "mcp_session_duration_seconds_bucket"))
        eq("mcp_session_duration_seconds buckets are the spec's", les, sorted(SESSION_BUCKETS + [float("inf")]))
        inf = values('mcp_tool_call_duration_seconds_bucket{le="+Inf"}')
        count = values("mcp_tool_call_duration_seconds_count")
        eq("+Inf bucket equals _count", sorted(inf.values()), sorted(count.values()))
        # A short session of the release binary may use less than one clock tick of CPU.
        for name, least in (("process_resident_memory_bytes", 1), ("process_cpu_seconds_total", 0),
                            ("process_start_time_seconds", 1), ("process_open_fds", 1)):
            v = values(name)
            check(f"{name} stored", len(v) == 1 and list(v.values())[0] >= least, repr(v))
        info = prom_query(base, "tfo_mcp_build_info")
        check("tfo_mcp_build_info{version} == 1",
              len(info) == 1 and info[0]["value"][1] == "1" and info[0]["metric"].get("version"), repr(info))
        health_status, _, health = http_get(f"http://{addr}/health")
        eq("GET /health is 200", health_status, 200)
        eq("health status", json.loads(health)["status"], "healthy")
    finally:
        if prom:
            prom.terminate()
            prom.wait(timeout=15)
        eq("binary exits 0", b.close(), 0)


# --- otlp ------------------------------------------------------------------------------------


class Receiver(http.server.BaseHTTPRequestHandler):
    bodies: list[tuple[str, bytes]] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", "0"))
        Receiver.bodies.append((self.path, self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def run_otlp(binary: str) -> None:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality

    sys.path.insert(0, str(Path(__file__).parent))
    from otlp_decode import unknown_field_count, walk

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    b = Binary(binary, {
        "TELEMETRYFLOW_MCP_METRICS_EXPORTER": "otlp",
        "TELEMETRYFLOW_MCP_METRICS_INTERVAL_SECONDS": "1",
        "TELEMETRYFLOW_MCP_OTLP_ENDPOINT": url,
    })
    session(b)
    deadline = time.monotonic() + 10
    while not Receiver.bodies and time.monotonic() < deadline:
        time.sleep(0.1)
    check("a periodic push arrived within the interval", bool(Receiver.bodies), "nothing received")
    periodic = len(Receiver.bodies)
    eq("binary exits 0", b.close(), 0)
    server.shutdown()
    check("a final push arrived at shutdown", len(Receiver.bodies) > periodic, f"{len(Receiver.bodies)} bodies")
    check("no push failure logged", not any("metrics push failed" in l for l in b.stderr), "\n".join(b.stderr)[-2000:])

    requests = []
    for i, (path, body) in enumerate(Receiver.bodies):
        eq(f"push {i}: path", path, "/v1/metrics")
        msg = ExportMetricsServiceRequest()
        msg.ParseFromString(body)
        unknown = [(p, n) for p, m in walk(msg, "request") if (n := unknown_field_count(m))]
        check(f"push {i}: no unknown fields", not unknown, repr(unknown))
        eq(f"push {i}: official re-encoding gives our bytes", msg.SerializeToString(deterministic=True), body)
        requests.append(msg)
    last = requests[-1]
    eq("one ResourceMetrics", len(last.resource_metrics), 1)
    resource = {kv.key: kv.value.string_value for kv in last.resource_metrics[0].resource.attributes}
    eq("resource service.name", resource.get("service.name"), "telemetryflow-mcp")
    metrics = {m.name: m for sm in last.resource_metrics[0].scope_metrics for m in sm.metrics}
    cumulative = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE

    def attrs(point) -> dict:
        return {kv.key: kv.value.string_value for kv in point.attributes}

    want = {
        "mcp_sessions_active": "gauge", "mcp_sessions_total": "sum", "mcp_session_duration_seconds": "histogram",
        "mcp_tool_calls_total": "sum", "mcp_tool_call_duration_seconds": "histogram",
        "mcp_messages_total": "sum", "mcp_message_size_bytes": "histogram",
        "process_resident_memory_bytes": "gauge", "process_cpu_seconds_total": "sum", "tfo_mcp_build_info": "gauge",
    }
    for name, kind in want.items():
        m = metrics.get(name)
        if not check(f"{name} pushed", m is not None, f"pushed: {sorted(metrics)}"):
            continue
        eq(f"{name} is a {kind}", m.WhichOneof("data"), kind)
        if kind in ("sum", "histogram"):
            eq(f"{name} is cumulative", getattr(m, kind).aggregation_temporality, cumulative)
        if kind == "sum":
            eq(f"{name} is monotonic", m.sum.is_monotonic, True)
        for p in getattr(m, kind).data_points:
            check(f"{name} point time set, start <= time",
                  p.time_unix_nano > 0 and p.start_time_unix_nano <= p.time_unix_nano,
                  f"{p.start_time_unix_nano} {p.time_unix_nano}")
    eq("mcp_session_duration_seconds unit", metrics["mcp_session_duration_seconds"].unit, "s")
    eq("mcp_tool_calls_total description", metrics["mcp_tool_calls_total"].description, "Total number of tool calls")
    calls = {(a["tool_name"], a["status"]): p.as_int
             for p in metrics["mcp_tool_calls_total"].sum.data_points for a in [attrs(p)]}
    eq("mcp_tool_calls_total points", calls,
       {("echo", "success"): 1, ("echo", "error"): 1, ("__unknown__", "error"): 1})
    for name, bounds in (("mcp_session_duration_seconds", SESSION_BUCKETS),
                         ("mcp_tool_call_duration_seconds", TOOL_BUCKETS),
                         ("mcp_message_size_bytes", SIZE_BUCKETS)):
        for p in metrics[name].histogram.data_points:
            eq(f"{name}{attrs(p)} bounds", list(p.explicit_bounds), [float(x) for x in bounds])
            eq(f"{name}{attrs(p)} bucket count length", len(p.bucket_counts), len(bounds) + 1)
            eq(f"{name}{attrs(p)} buckets add up to count", sum(p.bucket_counts), p.count)
            check(f"{name}{attrs(p)} has a sum", p.HasField("sum"))
    session_points = metrics["mcp_session_duration_seconds"].histogram.data_points
    eq("final push holds the closed session", [p.count for p in session_points], [1])
    eq("final push: no active session", [p.as_int for p in metrics["mcp_sessions_active"].gauge.data_points], [0])
    sizes = {attrs(p)["direction"]: p.count for p in metrics["mcp_message_size_bytes"].histogram.data_points}
    eq("message sizes by direction", sizes, {"request": 6, "response": 5})


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[1] not in ("prometheus", "otlp"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        (run_prometheus if sys.argv[1] == "prometheus" else run_otlp)(sys.argv[2])
    except Exception:
        check("no exception", False, traceback.format_exc())
    failed = sum(1 for _, ok, _ in RESULTS if not ok)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed or not RESULTS else 0


if __name__ == "__main__":
    sys.exit(main())
