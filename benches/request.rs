//! CPU per request of the sans-IO core: decode, dispatch, the `echo` tool, encode,
//! with telemetry off and fully on (every span sampled and exported over OTLP/HTTP
//! to a loopback receiver, metrics recorded, info logs written to a file). No
//! stdio and no process: this splits the edge bench's CPU per call into the
//! server's own work and what stdio and the kernel add. Each variant gets fresh
//! lines through `mcp::run_in_memory_observed`; CPU is this thread's (the server)
//! and the whole process's (with the export and log threads). Baseline in the same
//! run: the variant with telemetry off.
//!
//! Run: `cargo bench --bench request --target x86_64-unknown-linux-musl`.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;
use tfo_mcp::config::{Config, LogLevel, LogOutput, SamplerKind, TraceExporter};
use tfo_mcp::logging::ErrorTracker;
use tfo_mcp::metrics::Metrics;
use tfo_mcp::observability::Observability;
use tfo_mcp::telemetry::Telemetry;

mod common;

#[global_allocator]
static GLOBAL: common::Counting = common::Counting;

const ROUNDS: usize = 3;

/// Calls per round (`REQUEST_CALLS` overrides, e.g. to run under a profiler).
fn calls() -> usize {
    std::env::var("REQUEST_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

fn lines(n: usize) -> Vec<Vec<u8>> {
    let mut lines = vec![
        br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#.to_vec(),
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec(),
    ];
    lines.extend((1..=n).map(|i| {
        format!(r#"{{"jsonrpc":"2.0","id":{i},"method":"tools/call","params":{{"name":"echo","arguments":{{"message":"hello from the request bench"}}}}}}"#).into_bytes()
    }));
    lines
}

/// An OTLP receiver that answers 200 to everything, on its own thread.
fn receiver() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    format!("http://{addr}")
}

fn serve(mut stream: std::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        // Read one request: head, then Content-Length bytes of body.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + length);
        let answer =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if stream.write_all(answer).is_err() {
            return;
        }
    }
}

struct Cost {
    server_us: f64,
    process_us: f64,
    /// Heap allocations per call on the server thread.
    allocations: f64,
}

fn measure(config: &Config, obs: impl Fn() -> Observability) -> Cost {
    let mut best: Option<Cost> = None;
    for _ in 0..ROUNDS {
        let input = lines(calls());
        let obs = obs();
        let allocated = common::allocations();
        let thread = cpu_time::ThreadTime::now();
        let process = cpu_time::ProcessTime::now();
        let out = tfo_mcp::mcp::run_in_memory_observed(config.clone(), obs, input);
        let server = thread.elapsed();
        let all = process.elapsed();
        assert_eq!(out.len(), calls() + 1, "every call answered");
        let cost = Cost {
            server_us: server.as_secs_f64() * 1e6 / calls() as f64,
            process_us: all.as_secs_f64() * 1e6 / calls() as f64,
            allocations: (common::allocations() - allocated) as f64 / calls() as f64,
        };
        if best.as_ref().is_none_or(|b| cost.server_us < b.server_us) {
            best = Some(cost);
        }
    }
    best.expect("rounds")
}

fn main() {
    let endpoint = receiver();
    let log_path =
        std::env::temp_dir().join(format!("tfo-mcp-request-bench-{}.log", std::process::id()));
    let mut on = Config::default();
    on.telemetry.enabled = true;
    on.telemetry.tracing.sampler = SamplerKind::AlwaysOn;
    on.telemetry.tracing.exporter = TraceExporter::Otlp;
    on.telemetry.tracing.otlp_endpoint = endpoint;
    on.telemetry.logging.level = LogLevel::Info;
    on.telemetry.logging.output = LogOutput::File(log_path.clone());
    let logging = tfo_mcp::logging::init(&on).expect("logger");
    let mut off = on.clone();
    off.telemetry.enabled = false;

    // Off: no spans, no metrics, and the logger filters everything below error.
    log::set_max_level(log::LevelFilter::Error);
    let base = measure(&off, Observability::disabled);
    log::set_max_level(log::LevelFilter::Info);
    let telemetry = Telemetry::from_config(&on, None);
    let full = measure(&on, || {
        let metrics = Metrics::from_config(&on);
        Observability {
            tracer: telemetry.tracer.clone(),
            errors: ErrorTracker::new(Arc::clone(&metrics)),
            metrics,
            health: tfo_mcp::health::Health::new("bench"),
        }
    });
    let spans_only = {
        log::set_max_level(log::LevelFilter::Error);
        let cost = measure(&on, || Observability::traced(telemetry.tracer.clone()));
        log::set_max_level(log::LevelFilter::Info);
        cost
    };
    let logs_only = measure(&on, Observability::disabled);
    let deadline = Instant::now() + std::time::Duration::from_secs(5);
    telemetry.shutdown(deadline);
    logging.shutdown(deadline);
    let _ = std::fs::remove_file(&log_path);

    println!(
        "tfo-mcp request bench: {} echo tools/call per round, best of {ROUNDS}, CPU µs per call",
        calls()
    );
    println!(
        "{:<44} {:>12} {:>14} {:>10} {:>12}",
        "variant", "server", "all threads", "vs off", "allocations"
    );
    for (name, c) in [
        ("telemetry off", &base),
        ("spans exported only", &spans_only),
        ("info logs only", &logs_only),
        ("telemetry on (spans, metrics, info logs)", &full),
    ] {
        println!(
            "{name:<44} {:>10.2}µs {:>12.2}µs {:>9.2}x {:>12.1}",
            c.server_us,
            c.process_us,
            c.process_us / base.process_us,
            c.allocations
        );
    }
}
