//! CPU cost and heap allocations per log record on the calling thread (the
//! executor's cost; the writer thread is not counted): a debug record filtered
//! out at INFO, the spec's "MCP request received" filtered out, and emitted JSON
//! records (plain, inside a request context, with a secret to redact) handed to
//! the writer queue. Baselines in the same process: an empty loop iteration and
//! serde_json serializing the same record as a `json!` object.
//! Run: `cargo bench --bench logging`.

use serde_json::json;
use std::hint::black_box;
use std::sync::Arc;
use tfo_mcp::config::{Config, LogOutput};
use tfo_mcp::logging::{self, LogContext};
use tfo_mcp::telemetry::model::{SpanId, TraceId};

mod common;
use common::allocations;

/// Counts heap allocations, to show that a filtered-out record allocates nothing.
#[global_allocator]
static GLOBAL: common::Counting = common::Counting;

/// CPU nanoseconds and allocations per iteration of `f`, best of three rounds.
fn measure(n: u64, mut f: impl FnMut(u64)) -> (f64, f64) {
    let mut best = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let before = allocations();
        // CLOCK_THREAD_CPUTIME_ID: this thread only, not the writer thread.
        let start = cpu_time::ThreadTime::now();
        for i in 0..n {
            f(i);
        }
        let ns = start.elapsed().as_nanos() as f64 / n as f64;
        let allocs = (allocations() - before) as f64 / n as f64;
        if ns < best.0 {
            best = (ns, allocs);
        }
    }
    best
}

fn main() {
    let mut config = Config::default();
    // The writer thread writes to /dev/null: this measures the caller's side.
    config.telemetry.logging.output = LogOutput::File("/dev/null".into());
    let logging = logging::init(&config).expect("install the logger");
    let context = Arc::new(LogContext::new(
        "4e217f52a880b0a61b522be6a1ceb3ed".into(),
        "42".into(),
        Some((TraceId([0xab; 16]), SpanId([0xcd; 8]))),
    ));
    let params = json!({"name": "echo", "arguments": {"message": "hi"}});
    let params = params.as_object().expect("object").clone();

    let filtered = 5_000_000;
    let emitted = 200_000;
    let rows = [
        (
            "baseline: empty loop iteration",
            measure(filtered, |i| {
                black_box(i);
            }),
        ),
        (
            "debug! with 2 fields, level INFO (filtered)",
            measure(filtered, |i| {
                log::debug!(mcp_method = "tools/call", n = black_box(i); "MCP request received");
            }),
        ),
        (
            "request_received(params), level INFO (filtered)",
            measure(filtered, |_| {
                logging::request_received("tools/call", Some(&params))
            }),
        ),
        (
            "baseline: serde_json json!{..}.to_string()",
            measure(emitted, |i| {
                let record = json!({"timestamp": "2026-11-30T06:41:20.123Z", "level": "info",
                    "logger": "tfo_mcp::logging::events", "message": "MCP request completed",
                    "mcp_method": "tools/call", "duration_ms": i as f64 / 7.0});
                black_box(record.to_string());
            }),
        ),
        (
            "info! with 2 fields, JSON line queued",
            measure(emitted, |i| {
                log::info!(mcp_method = "tools/call", duration_ms = i as f64 / 7.0; "MCP request completed");
            }),
        ),
        (
            "info! inside a request context (+5 fields)",
            measure(emitted, |i| {
                logging::scope(Some(&context), || {
                    log::info!(mcp_method = "tools/call", duration_ms = i as f64 / 7.0; "MCP request completed");
                });
            }),
        ),
        (
            "info! with a secret field and a Bearer value",
            measure(emitted, |_| {
                log::info!(api_key = "sk-ant-secret123", note = "Authorization: Bearer abcdef123456"; "configured");
            }),
        ),
    ];
    logging.shutdown(std::time::Instant::now() + std::time::Duration::from_secs(5));

    let base = rows[0].1.0;
    let json_base = rows[3].1.0;
    println!(
        "{:<50} {:>10} {:>10} {:>12}",
        "per record (CPU of the calling thread)", "ns", "allocs", "vs baseline"
    );
    for (i, (name, (ns, allocs))) in rows.iter().enumerate() {
        let baseline = if i >= 3 { json_base } else { base };
        println!(
            "{name:<50} {ns:>10.1} {allocs:>10.2} {:>11.2}x",
            ns / baseline
        );
    }
    let stats = logging::stats();
    println!(
        "\nwriter queue: {} lines dropped (queue full), {} write errors",
        stats.dropped, stats.write_errors
    );
}
