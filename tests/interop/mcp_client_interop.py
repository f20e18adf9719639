#!/usr/bin/env python3
"""Interop check: the official MCP Python SDK client (PyPI `mcp`) against our binary.

    python3 tests/interop/mcp_client_interop.py target/release/tfo-mcp

The SDK spawns the server over stdio (`mcp.client.stdio`) twice, once per era:

- `mode="auto"`: the SDK probes `server/discover` and, since we serve 2026-07-28,
  stays on the stateless revision (no `initialize`, no `ping`);
- `mode="legacy"`: the `initialize` handshake at the SDK's newest handshake revision.

In each it lists tools, calls `echo` and `system_info`, sends bad arguments, calls the
diagnostic `panic` tool, cancels a slow `sleep` through the SDK's own cancellation
(leaving its scope makes the SDK send `notifications/cancelled`) and checks the
server still answers and exits 0 when its stdin closes. Then it lists and reads
resources (a fixed one, a template, an unknown URI), lists and gets prompts (and one
with a missing argument) and completes a prompt argument and a template variable.

The server is started through this same script in `--tap` mode, a byte-exact relay
that logs every line each way with a timestamp, so that checks can look at the wire
(was `notifications/cancelled` sent, did a response follow it) and a failure prints
the exact JSON lines exchanged. Exits non-zero on any failure; the last line is
`N passed, N failed`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from checks import RESULTS, check

# Checks of one era, run in order; each is (name, ok, detail).


# --- the tap: a relay between the SDK and the server that logs the wire ------------


def tap(log_path: str, argv: list[str]) -> int:
    """Relays stdin to the child and the child's stdout back, logging each line.

    Log lines: `<t> > <line>` client to server, `<t> < <line>` server to client,
    `<t> # pid N` and `<t> # exit N`; `<t>` is `time.monotonic()` (shared by the
    parent, same machine).
    """
    log = open(log_path, "ab", buffering=0)
    lock = threading.Lock()

    def note(kind: bytes, payload: bytes) -> None:
        with lock:
            log.write(b"%.6f %s %s\n" % (time.monotonic(), kind, payload.rstrip(b"\n")))

    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    note(b"#", b"pid %d" % child.pid)
    assert child.stdin is not None and child.stdout is not None

    def pump(src, dst, kind: bytes) -> None:
        try:
            for line in iter(src.readline, b""):
                note(kind, line)
                dst.write(line)
                dst.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass
        finally:
            try:
                dst.close()
            except OSError:
                pass

    threading.Thread(target=pump, args=(sys.stdin.buffer, child.stdin, b">"), daemon=True).start()
    pump(child.stdout, sys.stdout.buffer, b"<")
    code = child.wait()
    note(b"#", b"exit %d" % code)
    return code


class Wire:
    """The tap's log of one server run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[tuple[float, str, str]]:
        out = []
        if not self.path.exists():  # the tap never started
            return out
        for raw in self.path.read_bytes().splitlines():
            t, kind, payload = raw.decode("utf-8", "replace").split(" ", 2)
            out.append((float(t), kind, payload))
        return out

    def messages(self, kind: str) -> list[tuple[float, dict]]:
        """Parsed JSON-RPC objects sent one way (`>` to the server, `<` from it)."""
        out = []
        for t, k, payload in self.entries():
            if k != kind:
                continue
            message = json.loads(payload)
            for m in message if isinstance(message, list) else [message]:
                out.append((t, m))
        return out

    def note(self, what: str) -> str | None:
        for _, kind, payload in self.entries():
            if kind == "#" and payload.startswith(what + " "):
                return payload.split(" ", 1)[1]
        return None

    def dump(self, last: int = 60) -> str:
        lines = self.path.read_text("utf-8", "replace").splitlines() if self.path.exists() else []
        shown = lines[-last:]
        head = f"  ... {len(lines) - len(shown)} earlier lines\n" if len(lines) > len(shown) else ""
        return head + "\n".join("  " + line for line in shown)


# --- the checks, run by the SDK client --------------------------------------------


async def exercise(binary: str, mode: str, workdir: Path) -> None:
    import anyio
    import mcp_types as types
    from mcp.client.client import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client
    from mcp.shared.exceptions import MCPError

    wire = Wire(workdir / f"wire-{mode}.log")
    stderr_path = workdir / f"stderr-{mode}.log"
    params = StdioServerParameters(
        command=sys.executable,
        args=[os.path.abspath(__file__), "--tap", str(wire.path), "--", os.path.abspath(binary)],
        env={"TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS": "true"},
    )
    failed_before = sum(not ok for _, ok, _ in RESULTS)
    tag = f"[{mode}]"
    with open(stderr_path, "w") as errlog:
        try:
            with anyio.fail_after(60):
                async with Client(stdio_client(params, errlog=errlog), mode=mode, read_timeout_seconds=15) as client:
                    await session_checks(client, mode, tag, wire, anyio, types, MCPError)
        except Exception as e:  # noqa: BLE001 - any escape is a failed check, shown with its trace
            check(f"{tag} session ran to the end", False, "".join(traceback.format_exception(e)).strip())

    # The SDK closed the server's stdin and waits 2 s before SIGTERM: a server that
    # honours EOF (spec: exit promptly when stdin closes) exits 0 on its own.
    exit_code = None
    for _ in range(50):
        if (exit_code := wire.note("exit")) is not None:
            break
        time.sleep(0.1)
    check(f"{tag} server exits 0 when stdin closes", exit_code == "0", f"tap saw exit {exit_code!r} (None: killed)")

    if sum(not ok for _, ok, _ in RESULTS) > failed_before:
        print(f"--- {tag} wire ({wire.path}; > client to server, < server to client):\n{wire.dump()}")
        print(f"--- {tag} server stderr (last lines):")
        print("\n".join("  " + line for line in stderr_path.read_text().splitlines()[-20:]))


async def session_checks(client, mode, tag, wire, anyio, types, MCPError) -> None:
    version = client.protocol_version
    print(f"{tag} negotiated protocol version: {version}", flush=True)
    expected = "2026-07-28" if mode == "auto" else "2025-11-25"
    check(f"{tag} negotiates {expected}", version == expected, f"got {version!r}")
    sent = [m.get("method") for _, m in wire.messages(">")]
    opener = "server/discover" if mode == "auto" else "initialize"
    check(f"{tag} SDK opened with {opener}", sent[:1] == [opener], f"client sent {sent[:3]}")
    info = client.server_info
    check(f"{tag} serverInfo names tfo-mcp", info is not None and info.name == "tfo-mcp", f"serverInfo {info!r}")

    # tools/list
    listed = await client.list_tools()
    tools = {t.name: t for t in listed.tools}
    for name in ("echo", "system_info", "sleep", "panic"):
        schema = tools[name].input_schema if name in tools else None
        check(
            f"{tag} tools/list has {name} with an object inputSchema",
            isinstance(schema, dict) and schema.get("type") == "object",
            f"tools {sorted(tools)}, schema {schema!r}",
        )
    if "echo" in tools:
        required = tools["echo"].input_schema.get("required")
        check(f"{tag} echo requires message", required == ["message"], f"required {required!r}")

    # echo: non-ASCII text survives the round trip unchanged.
    text = "héllo interop ✓ \"quoted\"\nsecond line"
    result = await client.call_tool("echo", {"message": text})
    got = [c.text for c in result.content if isinstance(c, types.TextContent)]
    check(f"{tag} echo returns the message", not result.is_error and got == [text], f"isError {result.is_error}, text {got!r}")

    # system_info: structured content for revisions that have it, pid of the real server.
    result = await client.call_tool("system_info", {})
    data = result.structured_content or {}
    pid = wire.note("pid")
    check(
        f"{tag} system_info structuredContent.pid is the server's pid",
        not result.is_error and isinstance(data.get("pid"), int) and str(data.get("pid")) == pid,
        f"isError {result.is_error}, structuredContent {data!r}, server pid {pid}",
    )

    # Bad arguments: 2025-11-25 and 2026-07-28 report input validation as a tool
    # execution error (isError: true, SEP-1303); both SDK modes land there.
    try:
        result = await client.call_tool("echo", {"message": 42})
        got = " ".join(c.text for c in result.content if isinstance(c, types.TextContent))
        check(
            f"{tag} bad arguments come back as isError naming the argument",
            result.is_error is True and "message" in got,
            f"isError {result.is_error}, text {got!r}",
        )
    except MCPError as e:
        check(f"{tag} bad arguments come back as isError naming the argument", False, f"protocol error {e.error!r}")

    # Unknown tool: a protocol error in every revision.
    try:
        await client.call_tool("no_such_tool", {})
        check(f"{tag} unknown tool is -32602", False, "call succeeded")
    except MCPError as e:
        check(f"{tag} unknown tool is -32602", e.code == -32602, f"error {e.error!r}")

    # A handler that panics is answered with -32603 and the server goes on.
    try:
        await client.call_tool("panic", {})
        check(f"{tag} panic tool is answered -32603", False, "call succeeded")
    except MCPError as e:
        check(f"{tag} panic tool is answered -32603", e.code == -32603, f"error {e.error!r}")

    # Cancellation: start a 10 s sleep reporting progress every 100 ms, wait for
    # the first progress, then leave the scope: the SDK sends notifications/cancelled.
    first_progress = anyio.Event()
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))
        first_progress.set()

    outcome: list[str] = []

    async def slow_call() -> None:
        try:
            await client.call_tool("sleep", {"ms": 10000, "steps": 100}, progress_callback=on_progress)
            outcome.append("completed")
        except MCPError as e:
            outcome.append(f"error {e.error!r}")

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        tg.start_soon(slow_call)
        with anyio.move_on_after(5):
            await first_progress.wait()
        cancel_at = time.monotonic()
        tg.cancel_scope.cancel()
    ended = time.monotonic()
    check(f"{tag} sleep reports progress", bool(progress), "no notifications/progress within 5 s")
    check(
        f"{tag} cancelled sleep ends quickly",
        not outcome and ended - started < 6 and ended - cancel_at < 1,
        f"outcome {outcome}, {ended - started:.2f} s in all, {ended - cancel_at:.2f} s after cancel",
    )

    calls = [m for _, m in wire.messages(">") if m.get("method") == "tools/call" and m["params"].get("name") == "sleep"]
    sleep_id = calls[-1]["id"] if calls else None
    # The tap is another process: the SDK's cancel reaches its log a moment after the
    # SDK sent it, so look for it for up to 2 s instead of once.
    cancels = []
    deadline = time.monotonic() + 2
    while not cancels and time.monotonic() < deadline:
        cancels = [
            (t, m) for t, m in wire.messages(">")
            if m.get("method") == "notifications/cancelled" and m.get("params", {}).get("requestId") == sleep_id
        ]
        if not cancels:
            await anyio.sleep(0.05)
    check(f"{tag} SDK sent notifications/cancelled for the sleep", sleep_id is not None and bool(cancels), f"sleep id {sleep_id!r}")

    # The server still answers: ping where the revision has it, echo always.
    if mode == "legacy":
        try:
            await client.session.send_ping()
            check(f"{tag} ping answered after the cancel", True)
        except MCPError as e:
            check(f"{tag} ping answered after the cancel", False, f"error {e.error!r}")
    result = await client.call_tool("echo", {"message": "still here"})
    got = [c.text for c in result.content if isinstance(c, types.TextContent)]
    check(f"{tag} echo answered after the cancel", got == ["still here"], f"text {got!r}")

    # MUST NOT send any further message for a cancelled request: no response at all,
    # and progress stops (one already on its way when the cancel landed is allowed).
    await anyio.sleep(0.5)
    if cancels:
        cancelled_at = cancels[0][0]
        after = [
            m for t, m in wire.messages("<")
            if (m.get("id") == sleep_id and "method" not in m)
            or (
                m.get("method") == "notifications/progress"
                and m.get("params", {}).get("progressToken") == sleep_id
                and t > cancelled_at + 0.25
            )
        ]
        check(f"{tag} nothing more for the cancelled request", not after, f"server sent after the cancel: {after}")

    await resource_prompt_checks(client, mode, tag, types, MCPError)


async def resource_prompt_checks(client, mode, tag, types, MCPError) -> None:
    """Resources, prompts and completion through the SDK's typed client calls."""
    caps = client.server_capabilities
    check(
        f"{tag} capabilities declare resources (no subscribe), prompts, completions",
        caps is not None
        and caps.resources is not None
        and not caps.resources.subscribe
        and caps.prompts is not None
        and caps.completions is not None,
        f"capabilities {caps!r}",
    )

    listed = await client.list_resources()
    uris = [str(r.uri) for r in listed.resources]
    check(f"{tag} resources/list has config://server", "config://server" in uris, f"uris {uris}")
    templates = await client.list_resource_templates()
    found = [t.uri_template for t in templates.resource_templates]
    check(f"{tag} resources/templates/list has config://server/{{key}}", "config://server/{key}" in found, f"templates {found}")

    read = await client.read_resource("config://server")
    item = read.contents[0] if read.contents else None
    config = {}
    if isinstance(item, types.TextResourceContents):
        config = json.loads(item.text)
    check(
        f"{tag} config://server reads as JSON with every section",
        item is not None
        and item.mime_type == "application/json"
        and set(config.get("settings", {})) >= {"telemetry", "tracing", "metrics", "logging", "server"},
        f"contents {read.contents!r}",
    )
    key = await client.read_resource("config://server/TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS")
    value = json.loads(key.contents[0].text).get("value") if key.contents else None
    check(f"{tag} a template read gives one setting", value == "true", f"value {value!r}")

    # Unknown URI: -32002 in the handshake revisions, -32602 in 2026-07-28 (SEP-2164).
    expected = -32602 if mode == "auto" else -32002
    try:
        await client.read_resource("config://nope")
        check(f"{tag} unknown resource is {expected}", False, "read succeeded")
    except MCPError as e:
        check(f"{tag} unknown resource is {expected}", e.code == expected, f"error {e.error!r}")

    prompts = await client.list_prompts()
    names = [p.name for p in prompts.prompts]
    check(f"{tag} prompts/list", names == ["code_review", "explain_code", "debug_help"], f"names {names}")
    got = await client.get_prompt("explain_code", {"code": "print(1)", "language": "python", "detail_level": "brief"})
    text = got.messages[0].content.text if got.messages and isinstance(got.messages[0].content, types.TextContent) else ""
    check(
        f"{tag} prompts/get renders a user message with the code",
        got.messages[0].role == "user" and "```python\nprint(1)\n```" in text,
        f"messages {got.messages!r}",
    )
    try:
        await client.get_prompt("debug_help", {"code": "x"})
        check(f"{tag} prompts/get without a required argument is -32602", False, "succeeded")
    except MCPError as e:
        check(
            f"{tag} prompts/get without a required argument is -32602",
            e.code == -32602 and "error" in e.error.message,
            f"error {e.error!r}",
        )

    done = await client.complete(types.PromptReference(type="ref/prompt", name="code_review"), {"name": "language", "value": "ja"})
    check(
        f"{tag} completion/complete suggests languages",
        done.completion.values == ["java", "javascript"] and done.completion.total == 2,
        f"completion {done.completion!r}",
    )
    done = await client.complete(
        types.ResourceTemplateReference(type="ref/resource", uri="config://server/{key}"),
        {"name": "key", "value": "TELEMETRYFLOW_MCP_LOG_L"},
    )
    check(
        f"{tag} completion/complete suggests configuration keys",
        done.completion.values == ["TELEMETRYFLOW_MCP_LOG_LEVEL"],
        f"completion {done.completion!r}",
    )


def main() -> int:
    if len(sys.argv) >= 4 and sys.argv[1] == "--tap" and sys.argv[3] == "--":
        return tap(sys.argv[2], sys.argv[4:])
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    binary = sys.argv[1]
    if not os.access(binary, os.X_OK):
        print(f"not an executable: {binary}", file=sys.stderr)
        return 2

    import anyio
    from importlib.metadata import version

    print(f"MCP Python SDK (mcp) {version('mcp')}, server {binary}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mcp-interop-") as tmp:
        for mode in ("auto", "legacy"):
            anyio.run(exercise, binary, mode, Path(tmp))
    failed = sum(not ok for _, ok, _ in RESULTS)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed or not RESULTS else 0


if __name__ == "__main__":
    sys.exit(main())
