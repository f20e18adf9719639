#!/usr/bin/env python3
"""Interop check of the sandbox and the file tools with the official MCP Python SDK (PyPI `mcp`).

    python3 tests/interop/mcp_roots_interop.py target/release/tfo-mcp

The SDK client opens a handshake session (`mode="legacy"`) and declares the `roots`
capability through `list_roots_callback`, answering with one subdirectory of the
server's allowed root. Checks: the server asks `roots/list` after initialization and
again after the SDK's `notifications/roots/list_changed`; file calls obey the
client's root (outside it: `isError` naming the client-roots policy); every file
tool's `structuredContent` passes the SDK's own validation against the tool's
`outputSchema`; `search_files` reports progress to the SDK's progress callback;
`execute_command` is off by default. Exits non-zero on any failure; the last line is
`N passed, N failed`.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
import warnings
from pathlib import Path
from checks import RESULTS, check

# Roots are deprecated from 2026-07-28 on; this check is about the handshake revisions.
warnings.filterwarnings("ignore", message="The roots capability is deprecated")


def text_of(result) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


async def exercise(binary: str, base: Path) -> None:
    import anyio
    import mcp_types as types
    from mcp.client.client import Client
    from mcp.client.stdio import StdioServerParameters, stdio_client

    root = base / "root"
    (root / "work" / "src").mkdir(parents=True)
    (root / "work" / "src" / "main.rs").write_text('fn main() {\n    println!("needle");\n}\n')
    (root / "top.txt").write_text("outside the client's root")
    asked: list[int] = []
    client_root = [root / "work"]

    async def list_roots(context) -> types.ListRootsResult:
        asked.append(1)
        return types.ListRootsResult(roots=[types.Root(uri=f"file://{p}", name=p.name) for p in client_root])

    params = StdioServerParameters(
        command=os.path.abspath(binary),
        args=[],
        env={"TELEMETRYFLOW_MCP_ALLOWED_ROOTS": str(root), "TELEMETRYFLOW_MCP_TRACING_EXPORTER": "none"},
        cwd=str(root),
    )
    with open(base / "stderr.log", "w") as errlog:
        with anyio.fail_after(60):
            async with Client(
                stdio_client(params, errlog=errlog),
                mode="legacy",
                read_timeout_seconds=15,
                list_roots_callback=list_roots,
            ) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                for name in ("read_file", "write_file", "list_directory", "search_files", "execute_command"):
                    tool = tools.get(name)
                    check(
                        f"tools/list has {name} with a closed inputSchema and an outputSchema",
                        tool is not None
                        and tool.input_schema.get("additionalProperties") is False
                        and isinstance(tool.output_schema, dict),
                        f"{tool!r}",
                    )
                # The first file call waits for the roots answer, so the callback has run by then.
                inside = await client.call_tool("read_file", {"path": str(root / "work" / "src" / "main.rs")})
                check("the server asked roots/list after initialization", len(asked) >= 1, f"asked {len(asked)} times")
                check(
                    "read_file inside the client's root, structuredContent valid per the SDK",
                    not inside.is_error and (inside.structured_content or {}).get("text", "").startswith("fn main"),
                    f"{inside!r}",
                )
                outside = await client.call_tool("read_file", {"path": str(root / "top.txt")})
                check(
                    "read_file outside the client's root is refused by the client-roots policy",
                    outside.is_error and "client-roots policy" in text_of(outside),
                    text_of(outside),
                )
                written = await client.call_tool(
                    "write_file", {"path": str(root / "work" / "out" / "new.txt"), "content": "hé", "create_dirs": True}
                )
                check(
                    "write_file creates the file and its directory",
                    not written.is_error and (root / "work" / "out" / "new.txt").read_text() == "hé",
                    f"{written!r}",
                )
                listed = await client.call_tool("list_directory", {"path": str(root / "work"), "recursive": True})
                names = [e["name"] for e in (listed.structured_content or {}).get("entries", [])]
                check("list_directory lists recursively", names == ["out", "out/new.txt", "src", "src/main.rs"], f"{names}")
                progress: list[float] = []

                async def on_progress(value: float, total: float | None, message: str | None) -> None:
                    progress.append(value)

                found = await client.call_tool(
                    "search_files",
                    {"path": str(root / "work"), "pattern": "*.rs", "content_pattern": "needle"},
                    progress_callback=on_progress,
                )
                matches = (found.structured_content or {}).get("matches", [])
                check(
                    "search_files finds the line",
                    [(m["path"], m.get("line")) for m in matches] == [("src/main.rs", 2)],
                    f"{matches}",
                )
                check("search_files reports progress to the SDK", len(progress) >= 1, f"{progress}")
                escape = await client.call_tool("read_file", {"path": str(root / "work" / ".." / "top.txt")})
                check("a ../ escape is refused", escape.is_error and "refused by the" in text_of(escape), text_of(escape))
                off = await client.call_tool("execute_command", {"command": "echo hi"})
                check("execute_command is off by default", off.is_error and "disabled" in text_of(off), text_of(off))

                # The SDK announces a change; the server asks again and follows it.
                client_root[:] = [root]
                before = len(asked)
                await client.send_roots_list_changed()
                with anyio.fail_after(5):
                    while len(asked) == before:
                        await anyio.sleep(0.02)
                again = await client.call_tool("read_file", {"path": str(root / "top.txt")})
                check(
                    "after roots/list_changed the wider client root (still within the configured one) applies",
                    not again.is_error and (again.structured_content or {}).get("text") == "outside the client's root",
                    f"{again!r}",
                )


def main() -> int:
    if len(sys.argv) != 2 or not os.access(sys.argv[1], os.X_OK):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    import anyio
    from importlib.metadata import version

    print(f"MCP Python SDK (mcp) {version('mcp')}, server {sys.argv[1]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mcp-roots-") as tmp:
        try:
            anyio.run(exercise, sys.argv[1], Path(tmp).resolve())
        except Exception as e:  # noqa: BLE001 - any escape is a failed check, shown with its trace
            check("session ran to the end", False, "".join(traceback.format_exception(e)).strip())
            stderr = Path(tmp) / "stderr.log"
            if stderr.exists():
                print("--- server stderr (last lines):\n" + "\n".join(stderr.read_text().splitlines()[-20:]))
    failed = sum(not ok for _, ok, _ in RESULTS)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed or not RESULTS else 0


if __name__ == "__main__":
    sys.exit(main())
