//! Startup cost of the Claude client: cold start (spawn → `initialize` reply)
//! and peak RSS of the real `tfo-mcp` with an API key configured (client built,
//! `claude_conversation` registered) against the same binary without one, the
//! baseline, runs interleaved in this process. The HTTP agent and rustls are set
//! up on the first call, so the ratio should stay near 1.00.
//! Run: `cargo bench --bench claude`.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#;
const LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;

/// Spawns the server, times spawn → initialize reply, lists tools, reads peak RSS (kB).
fn cold_start(key: Option<&str>) -> (Duration, u64, bool) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tfo-mcp"));
    cmd.env("TELEMETRYFLOW_MCP_LOG_LEVEL", "error")
        .env("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "none")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("TELEMETRYFLOW_MCP_CLAUDE_API_KEY");
    if let Some(key) = key {
        cmd.env("TELEMETRYFLOW_MCP_CLAUDE_API_KEY", key)
            // Never reached: no call is made; a closed port makes that certain.
            .env("TELEMETRYFLOW_MCP_CLAUDE_BASE_URL", "http://127.0.0.1:9");
    }
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tfo-mcp");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdin
        .write_all(format!("{INITIALIZE}\n").as_bytes())
        .expect("write");
    stdout.read_line(&mut line).expect("read");
    let took = start.elapsed();
    line.clear();
    stdin
        .write_all(format!("{LIST}\n").as_bytes())
        .expect("write");
    stdout.read_line(&mut line).expect("read");
    let listed = line.contains("claude_conversation");
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    drop(stdin);
    let _ = child.wait();
    (took, hwm, listed)
}

fn median<T: Ord + Copy>(mut all: Vec<T>) -> T {
    all.sort();
    all[all.len() / 2]
}

fn main() {
    let runs = 200;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let (mut rss_with, mut rss_without) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let (t, rss, listed) = cold_start(Some("sk-ant-bench-not-a-real-key"));
        assert!(listed, "the key registers claude_conversation");
        with.push(t);
        rss_with.push(rss);
        let (t, rss, listed) = cold_start(None);
        assert!(!listed, "no key, no tool");
        without.push(t);
        rss_without.push(rss);
    }
    let (a, b) = (median(with), median(without));
    let (ra, rb) = (median(rss_with), median(rss_without));
    println!(
        "{:<36} {:>12} {:>12} {:>8}",
        "measure (median of 200)", "with key", "no key", "ratio"
    );
    println!(
        "{:<36} {:>10.1}µs {:>10.1}µs {:>7.2}x",
        "cold start (spawn→initialize reply)",
        a.as_secs_f64() * 1e6,
        b.as_secs_f64() * 1e6,
        a.as_secs_f64() / b.as_secs_f64()
    );
    println!(
        "{:<36} {:>10}kB {:>10}kB {:>7.2}x",
        "peak RSS after tools/list",
        ra,
        rb,
        ra as f64 / rb as f64
    );
}
