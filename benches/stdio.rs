//! Stdio latency of the real `tfo-mcp` binary against a floor: this same bench
//! executable re-run with `--floor`, a minimal program that reads a line,
//! parses it with serde_json and writes a canned response. Prints a table of
//! medians and the ratio to the floor. Run: `cargo bench --bench stdio`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

fn main() {
    if std::env::args().any(|a| a == "--floor") {
        floor();
        return;
    }
    let server = Target {
        name: "tfo-mcp",
        command: || {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfo-mcp"));
            cmd.env("TELEMETRYFLOW_MCP_LOG_LEVEL", "error")
                .env("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "none");
            cmd
        },
    };
    let floor = Target {
        name: "floor",
        command: || {
            let mut cmd = Command::new(std::env::current_exe().expect("bench executable"));
            cmd.arg("--floor");
            cmd
        },
    };
    let runs = 200;
    let pings = 5000;
    println!(
        "{:<34} {:>12} {:>12} {:>8}",
        "measure (median)", "tfo-mcp", "floor", "ratio"
    );
    let row = |what: &str, a: Duration, b: Duration| {
        println!(
            "{:<34} {:>10.1}µs {:>10.1}µs {:>7.2}x",
            what,
            a.as_secs_f64() * 1e6,
            b.as_secs_f64() * 1e6,
            a.as_secs_f64() / b.as_secs_f64()
        );
    };
    row(
        "cold start (spawn→initialize reply)",
        server.cold_start(runs),
        floor.cold_start(runs),
    );
    row(
        "ping round trip",
        server.round_trip(pings),
        floor.round_trip(pings),
    );
    row(
        "idle shutdown (EOF→exit)",
        server.shutdown(runs),
        floor.shutdown(runs),
    );
}

struct Target {
    name: &'static str,
    command: fn() -> Command,
}

struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Target {
    fn spawn(&self) -> Running {
        let mut child = (self.command)()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.name));
        Running {
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().expect("stdout")),
            child,
        }
    }

    fn cold_start(&self, runs: usize) -> Duration {
        median((0..runs).map(|_| {
            let start = Instant::now();
            let mut p = self.spawn();
            p.exchange(INITIALIZE);
            let took = start.elapsed();
            p.stdin.take();
            let _ = p.child.wait();
            took
        }))
    }

    fn round_trip(&self, n: usize) -> Duration {
        let mut p = self.spawn();
        p.exchange(INITIALIZE);
        let rtt = median((0..n).map(|_| {
            let start = Instant::now();
            p.exchange(PING);
            start.elapsed()
        }));
        p.stdin.take();
        let _ = p.child.wait();
        rtt
    }

    fn shutdown(&self, runs: usize) -> Duration {
        median((0..runs).map(|_| {
            let mut p = self.spawn();
            p.exchange(INITIALIZE);
            let start = Instant::now();
            p.stdin.take();
            let _ = p.child.wait();
            start.elapsed()
        }))
    }
}

impl Running {
    fn exchange(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
            .expect("write");
        let mut reply = String::new();
        self.stdout.read_line(&mut reply).expect("read");
        assert!(
            reply.starts_with("{\"jsonrpc\":\"2.0\""),
            "unexpected reply {reply:?}"
        );
    }
}

fn median(samples: impl Iterator<Item = Duration>) -> Duration {
    let mut all: Vec<Duration> = samples.collect();
    all.sort();
    all[all.len() / 2]
}

/// The floor: parse each line as JSON and answer with a canned result.
fn floor() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let id = value.get("id").cloned().unwrap_or(serde_json::Value::Null);
        let _ = writeln!(out, "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}");
        let _ = out.flush();
    }
}
