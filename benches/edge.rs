//! The edge-footprint benchmark: the real `tfo-mcp` binary, with telemetry off and
//! fully on, side by side with a floor (this bench executable re-run with
//! `--floor`: a minimal program that reads a line, parses it with serde_json and
//! writes a canned response). Every figure is measured in the same run and printed
//! with its ratio to the floor, then checked against the budgets of issue 8.
//!
//! Telemetry on means: every span sampled and exported over OTLP/HTTP to a loopback
//! receiver inside this bench, the metrics endpoint on (port 0), info logs written.
//! CPU per call comes from `/proc/<pid>/stat` (utime + stime of all threads, read
//! once the process has exited and before it is reaped, so the export of the last
//! spans is counted too). Peak RSS is `VmHWM` from `/proc/<pid>/status`.
//!
//! Run (static musl build, the shipped configuration):
//! `cargo bench --bench edge --target x86_64-unknown-linux-musl`
//! (`TFO_MCP_BIN=path` measures another binary; `EDGE_QUICK=1` runs fewer rounds).
//! Both programs run from copies in a temporary directory, as installed binaries are.
//! Std only: the receiver and the floor are in this file.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"edge-bench","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
/// Linux reports utime/stime in USER_HZ ticks, 100 per second on every architecture.
const TICK: Duration = Duration::from_millis(10);

// Budgets of issue 8.
const SIZE_BUDGET: u64 = 2_500_000;
const COLD_START_RATIO: f64 = 1.5;
const RSS_BUDGET_KB: u64 = 4 * 1024;
const CPU_RATIO: f64 = 2.0;
const CPU_CEILING: Duration = Duration::from_micros(43);
const TELEMETRY_P50_RATIO: f64 = 1.15;

fn ping(id: u64) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#)
}

fn echo(id: u64) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hello from the edge bench"}}}}}}"#
    )
}

struct Rounds {
    cold_starts: usize,
    pings: usize,
    calls: usize,
    rss_calls: usize,
    pipelined: usize,
}

fn main() {
    if std::env::args().any(|a| a == "--floor") {
        floor();
        return;
    }
    if std::env::args().any(|a| a == "--floor-1-hop") {
        floor_with_hops(false);
        return;
    }
    if std::env::args().any(|a| a == "--floor-2-hops") {
        floor_with_hops(true);
        return;
    }
    // `cargo bench` passes `--bench`; nothing else is accepted.
    let quick = std::env::var_os("EDGE_QUICK").is_some();
    let rounds = if quick {
        Rounds {
            cold_starts: 20,
            pings: 1000,
            calls: 10_000,
            rss_calls: 10_000,
            pipelined: 10_000,
        }
    } else {
        Rounds {
            cold_starts: 200,
            pings: 5000,
            calls: 40_000,
            rss_calls: 10_000,
            pipelined: 40_000,
        }
    };
    let built =
        std::env::var("TFO_MCP_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_tfo-mcp").to_string());
    // Both programs run from copies, as installed programs are (`cp`, `install`, an
    // image layer): a file just written by the linker started about 150 µs slower
    // here (page cache as the linker left it, until its pages were re-read), and the
    // floor, this executable, would otherwise run from pages its own harness has
    // mapped. README "Fifth round".
    let installed = Installed::copy(&[
        std::env::current_exe().expect("bench executable"),
        built.clone().into(),
    ]);
    let floor_exe = installed.paths[0].clone();
    let binary = installed.paths[1].to_string_lossy().into_owned();
    let receiver = Receiver::start();

    let targets = [
        Target::floor(&floor_exe),
        Target::server(&binary, "tfo-mcp off", telemetry_off()),
        Target::server(&binary, "tfo-mcp on", telemetry_on(&receiver.endpoint)),
    ];
    println!("tfo-mcp edge bench, {}", today());
    println!("machine: {}", machine());
    println!("binary:  {built} ({})", elf_kind(&binary));
    println!(
        "         run as a copy in {}, the floor too",
        installed.dir.display()
    );
    println!(
        "rounds:  {} cold starts, {} pings, {} sequential and {} pipelined echo calls",
        rounds.cold_starts, rounds.pings, rounds.calls, rounds.pipelined
    );
    println!();

    let cold = cold_starts(&targets, rounds.cold_starts);
    let sessions: Vec<Session> = targets.iter().map(|t| t.session(&rounds)).collect();
    let spans_before = receiver.spans.load(Ordering::Relaxed);
    let pipelined: Vec<Pipelined> = targets
        .iter()
        .map(|t| t.pipelined(rounds.pipelined))
        .collect();
    let otlp_bytes = receiver.bytes.load(Ordering::Relaxed);
    let otlp_spans = receiver.spans.load(Ordering::Relaxed);

    let mut table = Table::new(&targets);
    let size = |p: &str| std::fs::metadata(p).map_or(0, |m| m.len()) as f64;
    table.row(
        "size (bytes, as built)",
        [
            size(&floor_exe.to_string_lossy()),
            size(&binary),
            size(&binary),
        ],
        Unit::Count,
    );
    table.row(
        "cold start p50 (spawn → initialize reply)",
        cold.each(|c| p(c, 50)),
        Unit::Micros,
    );
    table.row("cold start p99", cold.each(|c| p(c, 99)), Unit::Micros);
    table.row(
        "ping round trip p50",
        each(&sessions, |s| p(&s.pings, 50)),
        Unit::Micros,
    );
    table.row(
        "ping round trip p99",
        each(&sessions, |s| p(&s.pings, 99)),
        Unit::Micros,
    );
    table.row(
        "echo tools/call p50",
        each(&sessions, |s| p(&s.calls, 50)),
        Unit::Micros,
    );
    table.row(
        "echo tools/call p99",
        each(&sessions, |s| p(&s.calls, 99)),
        Unit::Micros,
    );
    table.row(
        "CPU per call, sequential",
        each(&sessions, |s| s.cpu_per_call),
        Unit::Micros,
    );
    table.row(
        "pipelined calls per second",
        each(&pipelined, |s| s.per_second),
        Unit::Count,
    );
    table.row(
        "CPU per call, pipelined",
        each(&pipelined, |s| s.cpu_per_call),
        Unit::Micros,
    );
    table.row(
        "peak RSS after 10k sequential calls (kB)",
        each(&sessions, |s| s.hwm_kb as f64),
        Unit::Count,
    );
    table.row(
        "peak RSS after pipelined calls (kB)",
        each(&pipelined, |s| s.hwm_kb as f64),
        Unit::Count,
    );
    table.row(
        "idle shutdown (EOF → exit)",
        each(&sessions, |s| s.shutdown.as_secs_f64() * 1e6),
        Unit::Micros,
    );
    table.print();

    // Span export: what the loopback receiver got during the pipelined runs (two
    // spans per tools/call: request.process and mcp.tool.call).
    let spans = otlp_spans - spans_before;
    let calls = rounds.pipelined as f64;
    let telemetry_cpu = pipelined[2].cpu_per_call - pipelined[1].cpu_per_call;
    println!();
    println!(
        "span export (pipelined run): {spans} spans received for {} calls, {:.0} OTLP bytes per span",
        rounds.pipelined,
        otlp_bytes as f64 / otlp_spans.max(1) as f64
    );
    println!(
        "telemetry CPU per call (on − off): {telemetry_cpu:.2} µs, i.e. at most {:.2} µs per exported span (spans, metrics and logs together)",
        telemetry_cpu * calls / spans.max(1) as f64
    );
    let render = metrics_render(&binary, &receiver.endpoint, rounds.calls.min(10_000));
    println!(
        "metrics render (GET /metrics after {} echo calls, {} samples, {} bytes): p50 {:.1} µs, p99 {:.1} µs per scrape, connect to last byte",
        render.calls,
        render.samples,
        render.bytes,
        p(&render.scrapes, 50),
        p(&render.scrapes, 99)
    );

    // What the thread structure alone costs: the floor as tfo-mcp is built now (one
    // thread polls stdin, answers and writes stdout), and with the hand-offs of the
    // earlier design (stdin reader thread → worker → stdout writer thread).
    println!();
    println!("thread hand-offs, floor variants in the same run:");
    println!(
        "  {:<50} {:>10} {:>10} {:>10}",
        "", "ping p50", "echo p50", "CPU/call"
    );
    let hops = [
        (
            "0: one thread reads, answers, writes (tfo-mcp)",
            &sessions[0],
        ),
        (
            "1: reader thread → main answers and writes",
            &Target::floor_variant(&floor_exe, "--floor-1-hop").session(&rounds),
        ),
        (
            "2: reader → main → writer thread (until 11/2026)",
            &Target::floor_variant(&floor_exe, "--floor-2-hops").session(&rounds),
        ),
    ];
    for (what, s) in hops {
        println!(
            "  {what:<50} {:>8.1}µs {:>8.1}µs {:>8.1}µs",
            p(&s.pings, 50),
            p(&s.calls, 50),
            s.cpu_per_call
        );
    }

    println!();
    println!("budgets (issue 8), telemetry on:");
    let on = &sessions[2];
    let floor = &sessions[0];
    let size_on = size(&binary) as u64;
    let stripped = elf_kind(&binary).contains("stripped") && !elf_kind(&binary).contains("not");
    budget(
        &format!(
            "binary size {size_on} bytes ≤ {SIZE_BUDGET} ({})",
            if stripped { "stripped" } else { "NOT stripped" }
        ),
        size_on <= SIZE_BUDGET,
    );
    let cold_ratio = p(&cold.0[2], 50) / p(&cold.0[0], 50);
    budget(
        &format!("cold start {cold_ratio:.2}× floor ≤ {COLD_START_RATIO}×"),
        cold_ratio <= COLD_START_RATIO,
    );
    budget(
        &format!(
            "peak RSS over 10,000 calls {} kB ≤ {RSS_BUDGET_KB} kB",
            on.hwm_kb
        ),
        on.hwm_kb <= RSS_BUDGET_KB,
    );
    let cpu_ratio = on.cpu_per_call / floor.cpu_per_call;
    budget(
        &format!(
            "CPU per echo call {:.1} µs = {cpu_ratio:.2}× floor ≤ {CPU_RATIO}×, and < {} µs",
            on.cpu_per_call,
            CPU_CEILING.as_micros()
        ),
        cpu_ratio <= CPU_RATIO && on.cpu_per_call < CPU_CEILING.as_secs_f64() * 1e6,
    );
    let p50_ratio = p(&sessions[2].calls, 50) / p(&sessions[1].calls, 50);
    budget(
        &format!("echo p50 telemetry on {p50_ratio:.2}× off ≤ {TELEMETRY_P50_RATIO}×"),
        p50_ratio <= TELEMETRY_P50_RATIO,
    );
}

fn budget(what: &str, ok: bool) {
    println!("  [{}] {what}", if ok { "ok" } else { "MISSED" });
}

fn telemetry_off() -> Vec<(&'static str, String)> {
    vec![
        ("TELEMETRYFLOW_MCP_TELEMETRY_ENABLED", "false".into()),
        ("TELEMETRYFLOW_MCP_METRICS_ENABLED", "false".into()),
        ("TELEMETRYFLOW_MCP_LOG_LEVEL", "error".into()),
    ]
}

fn telemetry_on(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TELEMETRYFLOW_MCP_TELEMETRY_ENABLED", "true".into()),
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp".into()),
        ("TELEMETRYFLOW_MCP_TRACING_SAMPLER", "always_on".into()),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", endpoint.to_string()),
        ("TELEMETRYFLOW_MCP_METRICS_ENABLED", "true".into()),
        ("TELEMETRYFLOW_MCP_METRICS_PORT", "0".into()),
        ("TELEMETRYFLOW_MCP_LOG_LEVEL", "info".into()),
    ]
}

/// What one `GET /metrics` after a busy session costs.
struct Render {
    calls: usize,
    samples: usize,
    bytes: usize,
    /// Microseconds per scrape, connect to last byte.
    scrapes: Vec<f64>,
}

/// Runs `calls` echo calls with telemetry on and the metrics endpoint on a port this
/// bench picked, then scrapes `/metrics` 200 times over fresh connections (the
/// endpoint answers one request per connection), as Prometheus would.
fn metrics_render(binary: &str, endpoint: &str, calls: usize) -> Render {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut env = telemetry_on(endpoint);
    env.retain(|(k, _)| *k != "TELEMETRYFLOW_MCP_METRICS_PORT");
    env.push(("TELEMETRYFLOW_MCP_METRICS_PORT", port.to_string()));
    let mut p = Target::server(binary, "tfo-mcp on", env).spawn();
    p.exchange(INITIALIZE);
    p.send(INITIALIZED);
    for i in 0..calls as u64 {
        p.exchange(&echo(i + 1));
    }
    let addr = format!("127.0.0.1:{port}");
    let scrape = || {
        let mut stream = TcpStream::connect(&addr).expect("connect to /metrics");
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("request");
        let mut body = String::new();
        stream.read_to_string(&mut body).expect("response");
        assert!(body.starts_with("HTTP/1.1 200"), "scrape: {body:.80}");
        body
    };
    let text = scrape();
    let samples = text
        .lines()
        // The head ends at the first empty line (`\r\n\r\n`).
        .skip_while(|l| !l.trim_end().is_empty())
        .filter(|l| !l.trim_end().is_empty() && !l.starts_with('#'))
        .count();
    let scrapes = (0..200).map(|_| timed(|| drop(scrape()))).collect();
    let _ = p.finish();
    Render {
        calls,
        samples,
        bytes: text.len(),
        scrapes,
    }
}

/// One program under test and how to start it.
struct Target {
    name: &'static str,
    program: String,
    args: Vec<&'static str>,
    env: Vec<(&'static str, String)>,
}

/// Copies of the measured programs in a directory of their own, removed on drop.
struct Installed {
    dir: std::path::PathBuf,
    paths: Vec<std::path::PathBuf>,
}

impl Installed {
    fn copy(programs: &[std::path::PathBuf]) -> Installed {
        let dir = std::env::temp_dir().join(format!("tfo-edge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the copies");
        let paths = programs
            .iter()
            .enumerate()
            .map(|(i, program)| {
                let name = program.file_name().expect("a file name").to_string_lossy();
                let copy = dir.join(format!("{i}-{name}"));
                std::fs::copy(program, &copy).expect("copy a measured program");
                copy
            })
            .collect();
        Installed { dir, paths }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Target {
    fn floor(exe: &std::path::Path) -> Target {
        Target {
            name: "floor",
            program: exe.to_string_lossy().into_owned(),
            args: vec!["--floor"],
            env: Vec::new(),
        }
    }

    fn floor_variant(exe: &std::path::Path, arg: &'static str) -> Target {
        Target {
            name: "floor variant",
            program: exe.to_string_lossy().into_owned(),
            args: vec![arg],
            env: Vec::new(),
        }
    }

    fn server(binary: &str, name: &'static str, env: Vec<(&'static str, String)>) -> Target {
        Target {
            name,
            program: binary.to_string(),
            args: Vec::new(),
            env,
        }
    }

    fn spawn(&self) -> Running {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        // A clean environment for our settings: only what this target sets.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy().into_owned();
            if key.starts_with("TELEMETRYFLOW_") || key.starts_with("OTEL_") {
                cmd.env_remove(key);
            }
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.program));
        Running {
            stdin: child.stdin.take(),
            stdout: BufReader::new(child.stdout.take().expect("stdout")),
            child,
        }
    }

    /// Latency of pings and echo calls, peak RSS after the first `rss_calls` calls,
    /// CPU per call over all calls, and the idle shutdown time.
    fn session(&self, rounds: &Rounds) -> Session {
        let mut p = self.spawn();
        p.exchange(INITIALIZE);
        p.send(INITIALIZED);
        for id in 1..=200 {
            p.exchange(&ping(id));
        }
        let pings = (0..rounds.pings as u64)
            .map(|i| timed(|| p.exchange(&ping(1000 + i))))
            .collect();
        let cpu_start = p.cpu();
        let mut hwm_kb = 0;
        let mut calls = Vec::with_capacity(rounds.calls);
        for i in 0..rounds.calls as u64 {
            calls.push(timed(|| p.exchange(&echo(100_000 + i))));
            if i + 1 == rounds.rss_calls as u64 {
                hwm_kb = p.hwm_kb();
            }
        }
        let eof = Instant::now();
        let cpu = p.finish();
        let shutdown = eof.elapsed();
        Session {
            pings,
            calls,
            cpu_per_call: (cpu - cpu_start).as_secs_f64() * 1e6 / rounds.calls as f64,
            hwm_kb,
            shutdown,
        }
    }

    /// `n` echo calls written as fast as the pipe takes them while a reader takes
    /// the answers: throughput, CPU per call and peak RSS.
    fn pipelined(&self, n: usize) -> Pipelined {
        let mut p = self.spawn();
        p.exchange(INITIALIZE);
        p.send(INITIALIZED);
        let cpu_start = p.cpu();
        let mut stdin = BufWriter::new(p.stdin.take().expect("stdin"));
        let start = Instant::now();
        let writer = thread::spawn(move || {
            for i in 0..n as u64 {
                stdin
                    .write_all(echo(i + 1).as_bytes())
                    .and_then(|()| stdin.write_all(b"\n"))
                    .expect("write");
            }
            stdin.flush().expect("flush");
            stdin
        });
        let mut line = String::new();
        for _ in 0..n {
            line.clear();
            p.stdout.read_line(&mut line).expect("read");
            assert!(line.contains("\"result\""), "answer {line:?}");
        }
        let took = start.elapsed();
        let hwm_kb = p.hwm_kb();
        drop(writer.join().expect("writer"));
        let cpu = p.finish();
        Pipelined {
            per_second: n as f64 / took.as_secs_f64(),
            cpu_per_call: (cpu - cpu_start).as_secs_f64() * 1e6 / n as f64,
            hwm_kb,
        }
    }
}

struct Session {
    pings: Vec<f64>,
    calls: Vec<f64>,
    cpu_per_call: f64,
    hwm_kb: u64,
    shutdown: Duration,
}

struct Pipelined {
    per_second: f64,
    cpu_per_call: f64,
    hwm_kb: u64,
}

/// Cold starts of every target, interleaved so that machine noise hits all alike.
struct ColdStarts(Vec<Vec<f64>>);

impl ColdStarts {
    fn each(&self, f: impl Fn(&[f64]) -> f64) -> [f64; 3] {
        [f(&self.0[0]), f(&self.0[1]), f(&self.0[2])]
    }
}

/// Spawns each target `runs` times, in a new order each round: what ran just before a
/// start changes it (here the same binary measured 255 or 300 µs depending on the
/// program spawned before it), so a fixed order would favour one column.
fn cold_starts(targets: &[Target; 3], runs: usize) -> ColdStarts {
    let mut all = vec![Vec::with_capacity(runs); targets.len()];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..runs {
        let mut order = [0, 1, 2];
        for k in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(k, (seed % (k as u64 + 1)) as usize);
        }
        for i in order {
            let target = &targets[i];
            let start = Instant::now();
            let mut p = target.spawn();
            p.exchange(INITIALIZE);
            all[i].push(start.elapsed().as_secs_f64() * 1e6);
            p.finish();
        }
    }
    ColdStarts(all)
}

struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Running {
    fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
            .expect("write");
    }

    fn exchange(&mut self, line: &str) {
        self.send(line);
        let mut reply = String::new();
        self.stdout.read_line(&mut reply).expect("read");
        assert!(
            reply.starts_with("{\"jsonrpc\":\"2.0\"") && !reply.contains("\"error\""),
            "unexpected reply {reply:?}"
        );
    }

    fn stat(&self) -> Option<(char, Duration)> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        // Fields after the parenthesised command name: state is 3, utime 14, stime 15.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split(' ').collect();
        let state = fields.first()?.chars().next()?;
        let ticks: u32 =
            fields.get(11)?.parse::<u32>().ok()? + fields.get(12)?.parse::<u32>().ok()?;
        Some((state, TICK * ticks))
    }

    fn cpu(&self) -> Duration {
        self.stat().expect("/proc/<pid>/stat").1
    }

    fn hwm_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmHWM")
    }

    /// Closes stdin, waits for the exit (all threads done, not yet reaped) and
    /// returns the process's total CPU time.
    fn finish(mut self) -> Duration {
        self.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(30);
        let cpu = loop {
            match self.stat() {
                Some(('Z', cpu)) => break cpu,
                Some(_) if Instant::now() < deadline => thread::sleep(Duration::from_micros(200)),
                _ => panic!("process did not exit"),
            }
        };
        let _ = self.child.wait();
        cpu
    }
}

fn timed(f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    start.elapsed().as_secs_f64() * 1e6
}

fn p(samples: &[f64], percentile: usize) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[(sorted.len() * percentile / 100).min(sorted.len() - 1)]
}

fn each<T>(items: &[T], f: impl Fn(&T) -> f64) -> [f64; 3] {
    [f(&items[0]), f(&items[1]), f(&items[2])]
}

enum Unit {
    Micros,
    Count,
}

struct Table {
    names: Vec<&'static str>,
    rows: Vec<(String, [f64; 3], Unit)>,
}

impl Table {
    fn new(targets: &[Target; 3]) -> Table {
        Table {
            names: targets.iter().map(|t| t.name).collect(),
            rows: Vec::new(),
        }
    }

    fn row(&mut self, what: &str, values: [f64; 3], unit: Unit) {
        self.rows.push((what.to_string(), values, unit));
    }

    fn print(&self) {
        println!(
            "{:<42} {:>12} {:>12} {:>12} {:>9} {:>9} {:>8}",
            "measure",
            self.names[0],
            self.names[1],
            self.names[2],
            "off/floor",
            "on/floor",
            "on/off"
        );
        for (what, v, unit) in &self.rows {
            let cell = |x: f64| match unit {
                Unit::Micros => format!("{x:.1}µs"),
                Unit::Count => format!("{x:.0}"),
            };
            println!(
                "{:<42} {:>12} {:>12} {:>12} {:>8.2}x {:>8.2}x {:>7.2}x",
                what,
                cell(v[0]),
                cell(v[1]),
                cell(v[2]),
                v[1] / v[0],
                v[2] / v[0],
                v[2] / v[1]
            );
        }
    }
}

/// An OTLP/HTTP receiver on loopback that answers 200 to every POST and counts the
/// bytes and spans it gets (spans: the `Span.trace_id` fields, tag 0x0a length 16,
/// found by walking the protobuf envelope).
struct Receiver {
    endpoint: String,
    bytes: Arc<AtomicU64>,
    spans: Arc<AtomicU64>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind receiver");
        let addr = listener.local_addr().expect("receiver address");
        let bytes = Arc::new(AtomicU64::new(0));
        let spans = Arc::new(AtomicU64::new(0));
        let (b, s) = (Arc::clone(&bytes), Arc::clone(&spans));
        // Serves until the bench exits.
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (b, s) = (Arc::clone(&b), Arc::clone(&s));
                thread::spawn(move || serve_connection(stream, &b, &s));
            }
        });
        Receiver {
            endpoint: format!("http://{addr}"),
            bytes,
            spans,
        }
    }
}

fn serve_connection(stream: TcpStream, bytes: &AtomicU64, spans: &AtomicU64) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        bytes.fetch_add(length as u64, Ordering::Relaxed);
        spans.fetch_add(count_spans(&body), Ordering::Relaxed);
        let answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Spans in an `ExportTraceServiceRequest`: resource_spans(1) → scope_spans(2) → spans(2).
fn count_spans(body: &[u8]) -> u64 {
    fn fields(mut b: &[u8]) -> Vec<(u64, &[u8])> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let Some((key, n)) = varint(b) else { break };
            b = &b[n..];
            match key & 7 {
                0 => match varint(b) {
                    Some((_, n)) => b = &b[n..],
                    None => break,
                },
                1 => b = &b[8.min(b.len())..],
                5 => b = &b[4.min(b.len())..],
                2 => {
                    let Some((len, n)) = varint(b) else { break };
                    let end = (n + len as usize).min(b.len());
                    out.push((key >> 3, &b[n..end]));
                    b = &b[end..];
                }
                _ => break,
            }
        }
        out
    }
    fn varint(b: &[u8]) -> Option<(u64, usize)> {
        let mut v = 0u64;
        for (i, byte) in b.iter().enumerate().take(10) {
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Some((v, i + 1));
            }
        }
        None
    }
    let mut n = 0;
    for (f, resource_spans) in fields(body) {
        if f != 1 {
            continue;
        }
        for (f, scope_spans) in fields(resource_spans) {
            if f == 2 {
                n += fields(scope_spans).iter().filter(|(f, _)| *f == 2).count() as u64;
            }
        }
    }
    n
}

/// `Y-M-D` (UTC) from the system clock.
fn today() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Howard Hinnant's civil_from_days.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {}", kernel.trim())
}

/// "static"/"dynamic" and "stripped"/"not stripped", read from the ELF headers:
/// a PT_INTERP program header means a dynamic loader; a .symtab section means symbols.
fn elf_kind(path: &str) -> String {
    let Ok(elf) = std::fs::read(path) else {
        return "unreadable".into();
    };
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(elf[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |o: usize| u64::from_le_bytes(elf[o..o + 8].try_into().expect("8 bytes")) as usize;
    if elf.len() < 64 || &elf[..4] != b"\x7fELF" || elf[4] != 2 {
        return "not a 64-bit ELF".into();
    }
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    let interp = (0..phnum).any(|i| u32_at(phoff + i * phentsize) == 3);
    let (shoff, shentsize, shnum) = (u64_at(0x28), u16_at(0x3a), u16_at(0x3c));
    let symtab = (0..shnum).any(|i| u32_at(shoff + i * shentsize + 4) == 2);
    format!(
        "{}, {}",
        if interp { "dynamic" } else { "static" },
        if symtab { "not stripped" } else { "stripped" }
    )
}

/// The floor's answer to one line, if it is a request.
fn canned(line: &str) -> Option<String> {
    let value = serde_json::from_str::<serde_json::Value>(line).ok()?;
    let id = value.get("id")?;
    Some(format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}"
    ))
}

/// The floor with tfo-mcp's thread structure: a reader thread hands lines to the
/// main thread, which answers on stdout itself (one hand-off) or hands the answer
/// to a writer thread that flushes when its queue runs dry (two, as tfo-mcp).
fn floor_with_hops(writer_thread: bool) {
    let (line_tx, lines) = std::sync::mpsc::sync_channel::<String>(16);
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if line_tx.send(line).is_err() {
                break;
            }
        }
    });
    let (answer_tx, answers) = std::sync::mpsc::sync_channel::<String>(1024);
    let writer = writer_thread.then(|| {
        thread::spawn(move || {
            let mut out = BufWriter::new(std::io::stdout().lock());
            // As tfo-mcp's writer: flush whenever the queue runs dry.
            let mut next = answers.recv().ok();
            while let Some(answer) = next {
                let _ = writeln!(out, "{answer}");
                next = answers.try_recv().ok();
                if next.is_none() {
                    let _ = out.flush();
                    next = answers.recv().ok();
                }
            }
        })
    });
    // Locked here only without a writer thread, which takes stdout for itself.
    let mut out = (!writer_thread).then(|| std::io::stdout().lock());
    for line in lines {
        let Some(answer) = canned(&line) else {
            continue;
        };
        match out.as_mut() {
            Some(out) => {
                let _ = writeln!(out, "{answer}");
                let _ = out.flush();
            }
            None => {
                let _ = answer_tx.send(answer);
            }
        }
    }
    drop(answer_tx);
    drop(out);
    if let Some(writer) = writer {
        let _ = writer.join();
    }
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
        let Some(id) = value.get("id") else { continue };
        let _ = writeln!(out, "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}");
        let _ = out.flush();
    }
}
