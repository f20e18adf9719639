#!/usr/bin/env python3
"""How the real binary writes its answers, seen from outside with strace.

    python3 tests/interop/stdout_fallback.py target/x86_64-unknown-linux-musl/release/tfo-mcp

The stdio loop writes answers with `pwritev2(RWF_NOWAIT)` and polls for room only
after EAGAIN (src/runtime/stdio.rs). Under `strace`:

- on a pipe, every answer goes out through pwritev2 and none through write(2)
  (on kernels before 6.4, whose pipes refuse the flag, one refusal, then write);
- when pwritev2 is refused the way a seccomp filter (EPERM), an old kernel (ENOSYS)
  or an unsupported file (EOPNOTSUPP) refuses it (strace's fault injection), the loop
  tries it once, then writes every answer with write(2): nothing is lost;
- when pwritev2 fails with EIO, a real write error, stdout counts as gone: nothing is
  written, and the server still exits when its stdin closes.

Exits non-zero on any failure; the last line is `N passed, N failed`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from checks import RESULTS, check, eq

CALLS = 50
ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED": "false",
    "TELEMETRYFLOW_MCP_METRICS_ENABLED": "false",
    "TELEMETRYFLOW_MCP_LOG_LEVEL": "error",
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "stdout-fallback", "version": "1"},
    },
}


def echo(i: int) -> dict:
    return {
        "jsonrpc": "2.0",
        "id": i,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": f"hello {i}"}},
    }


def run(binary: str, inject: str | None) -> tuple[list[dict], str, int | None]:
    """Sends initialize and CALLS echo calls, then closes stdin; returns the answers,
    the strace log and the exit code (None if the server did not exit in time)."""
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as log:
        command = ["strace", "-f", "-qq", "-o", log.name, "-e", "trace=pwritev2,write"]
        if inject:
            command += ["-e", f"inject=pwritev2:error={inject}"]
        requests = [INITIALIZE, *(echo(i) for i in range(1, CALLS + 1))]
        stdin = "".join(json.dumps(r) + "\n" for r in requests)
        try:
            done = subprocess.run(
                [*command, binary],
                input=stdin.encode(),
                capture_output=True,
                env=ENV,
                timeout=30,
            )
        except subprocess.TimeoutExpired as e:
            return [json.loads(line) for line in (e.stdout or b"").splitlines()], log.read(), None
        answers = [json.loads(line) for line in done.stdout.splitlines()]
        return answers, log.read(), done.returncode


def pipes_take_nowait() -> bool:
    """Whether this kernel's pipes take RWF_NOWAIT writes (Linux 6.4 and later)."""
    read_end, write_end = os.pipe()
    try:
        os.pwritev(write_end, [b"x"], -1, os.RWF_NOWAIT)
        return True
    except OSError:
        return False
    finally:
        os.close(read_end)
        os.close(write_end)


def stdout_writes(trace: str, call: str) -> int:
    """Calls of `call` on fd 1 in an strace log."""
    return sum(1 for line in trace.splitlines() if f" {call}(1," in line)


def answered_everything(name: str, answers: list[dict]) -> None:
    eq(f"{name}: every request answered, in order", [a.get("id") for a in answers], list(range(CALLS + 1)))
    texts = [a["result"]["content"][0]["text"] for a in answers[1:] if "result" in a]
    eq(f"{name}: each echo returns its own message", texts, [f"hello {i}" for i in range(1, CALLS + 1)])


def main() -> int:
    binary = sys.argv[1]

    answers, trace, code = run(binary, None)
    answered_everything("pipe", answers)
    eq("pipe: exit code", code, 0)
    counts = f"{stdout_writes(trace, 'pwritev2')} pwritev2, {stdout_writes(trace, 'write')} write on fd 1"
    if pipes_take_nowait():
        check(
            "pipe: answers go out through pwritev2",
            stdout_writes(trace, "pwritev2") >= 1 and stdout_writes(trace, "write") == 0,
            counts,
        )
    else:
        # Pipes take RWF_NOWAIT since Linux 6.4: before, one refusal, then write.
        check(
            "pipe (kernel before 6.4): pwritev2 refused once, then write",
            stdout_writes(trace, "pwritev2") == 1 and stdout_writes(trace, "write") >= 1,
            counts,
        )

    for errno in ["EPERM", "ENOSYS", "EOPNOTSUPP"]:
        answers, trace, code = run(binary, errno)
        answered_everything(f"pwritev2 refused with {errno}", answers)
        eq(f"pwritev2 refused with {errno}: exit code", code, 0)
        eq(f"pwritev2 refused with {errno}: tried once", stdout_writes(trace, "pwritev2"), 1)
        check(
            f"pwritev2 refused with {errno}: answers go out through write",
            stdout_writes(trace, "write") >= 1,
            trace[-2000:],
        )

    answers, trace, code = run(binary, "EIO")
    eq("EIO: nothing written", answers, [])
    check("EIO: the server exits when stdin closes", code is not None, "still running after 30 s")
    eq("EIO: no retry through write", stdout_writes(trace, "write"), 0)

    failed = sum(1 for _, ok, _ in RESULTS if not ok)
    print(f"{len(RESULTS) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
