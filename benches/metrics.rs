//! Cost of recording and of rendering metrics, in CPU time of this thread:
//! a labelled counter (`record_message`), a histogram observation
//! (`record_message_size`), a tool call (labelled counter + labelled histogram),
//! and rendering the whole registry after a busy session as Prometheus text.
//! Baselines in the same process: a naive `Mutex<HashMap<String, _>>` registry
//! that formats its key on every recording and renders with `format!`.
//! Run: `cargo bench --bench metrics`.

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::sync::Mutex;
use tfo_mcp::metrics::{DEFAULT_MAX_SERIES, Direction, Format, Metrics};

const ROUNDS: usize = 7;

/// Nanoseconds per iteration: the best of `ROUNDS` rounds of `n` iterations.
fn per_op(n: usize, mut f: impl FnMut(usize)) -> f64 {
    (0..ROUNDS)
        .map(|_| {
            let start = cpu_time::ThreadTime::now();
            for i in 0..n {
                f(i);
            }
            start.elapsed().as_nanos() as f64 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

/// What a naive registry does: a global lock, a freshly formatted key per recording.
#[derive(Default)]
struct Naive {
    counters: Mutex<HashMap<String, u64>>,
    histograms: Mutex<HashMap<String, (Vec<u64>, f64)>>,
}

const BOUNDS: [f64; 9] = [
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0,
];

impl Naive {
    fn inc(&self, name: &str, labels: &[(&str, &str)]) {
        let key = format!("{name}{labels:?}");
        *self.counters.lock().expect("lock").entry(key).or_default() += 1;
    }

    fn observe(&self, name: &str, labels: &[(&str, &str)], v: f64) {
        let key = format!("{name}{labels:?}");
        let mut h = self.histograms.lock().expect("lock");
        let (counts, sum) = h
            .entry(key)
            .or_insert_with(|| (vec![0; BOUNDS.len() + 1], 0.0));
        let i = BOUNDS.iter().position(|&b| v <= b).unwrap_or(BOUNDS.len());
        counts[i] += 1;
        *sum += v;
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let counters: BTreeMap<_, _> = self
            .counters
            .lock()
            .expect("lock")
            .clone()
            .into_iter()
            .collect();
        for (key, v) in counters {
            out.push_str(&format!("# TYPE {key} counter\n{key} {v}\n"));
        }
        let histograms: BTreeMap<_, _> = self
            .histograms
            .lock()
            .expect("lock")
            .clone()
            .into_iter()
            .collect();
        for (key, (counts, sum)) in histograms {
            let mut cumulative = 0;
            for (i, c) in counts.iter().enumerate() {
                cumulative += c;
                let le = BOUNDS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
                out.push_str(&format!("{key}_bucket{{le=\"{le}\"}} {cumulative}\n"));
            }
            out.push_str(&format!("{key}_sum {sum}\n{key}_count {cumulative}\n"));
        }
        out
    }
}

/// A busy session: the methods, tools and sizes a client session produces.
fn busy_session(m: &Metrics) {
    m.record_session_created();
    let tools = ["echo", "system_info", "health_check"];
    for i in 0..10_000 {
        let tool = tools[i % tools.len()];
        m.record_message_size(Direction::Request, 100 + i % 5000);
        m.record_message("tools/call", if i % 10 == 0 { "error" } else { "success" });
        m.record_tool_call(tool, (i % 100) as f64 / 1000.0, i % 10 == 0);
        m.record_message_size(Direction::Response, 300 + i % 50_000);
    }
    m.record_message("initialize", "success");
    m.record_message("tools/list", "success");
}

fn main() {
    let n = 2_000_000;
    let metrics = Metrics::new(DEFAULT_MAX_SERIES);
    let naive = Naive::default();
    busy_session(&metrics);

    println!("metrics recording, CPU ns per operation (best of {ROUNDS} rounds of {n})");
    println!(
        "{:<58} {:>9} {:>9} {:>7}",
        "operation", "tfo-mcp", "naive", "ratio"
    );
    let methods = ["tools/call", "tools/list"];
    let operations = ["tools/call", "resources/read"];
    let rows: [(&str, f64, f64); 4] = [
        (
            "labelled counter: mcp_slow_requests_total{operation}",
            per_op(n, |i| metrics.record_slow_request(operations[i & 1])),
            per_op(n / 10, |i| {
                naive.inc(
                    "mcp_slow_requests_total",
                    &[("operation", operations[i & 1])],
                )
            }),
        ),
        (
            "counter, method checked: mcp_messages_total{method,status}",
            per_op(n, |i| metrics.record_message(methods[i & 1], "success")),
            per_op(n / 10, |i| {
                naive.inc(
                    "mcp_messages_total",
                    &[("method", methods[i & 1]), ("status", "success")],
                )
            }),
        ),
        (
            "histogram: mcp_message_size_bytes{direction}",
            per_op(n, |i| {
                metrics.record_message_size(Direction::Request, black_box(i & 0xffff))
            }),
            per_op(n / 10, |i| {
                naive.observe(
                    "mcp_message_size_bytes",
                    &[("direction", "request")],
                    (i & 0xffff) as f64,
                )
            }),
        ),
        (
            "tool call: counter{tool_name,status} + histogram{tool_name}",
            per_op(n, |i| {
                metrics.record_tool_call("echo", black_box(0.002), i & 7 == 0)
            }),
            per_op(n / 10, |i| {
                let status = if i & 7 == 0 { "error" } else { "success" };
                naive.inc(
                    "mcp_tool_calls_total",
                    &[("tool_name", "echo"), ("status", status)],
                );
                naive.observe(
                    "mcp_tool_call_duration_seconds",
                    &[("tool_name", "echo")],
                    0.002,
                );
            }),
        ),
    ];
    for (name, ours, base) in rows {
        println!("{name:<58} {ours:>9.1} {base:>9.1} {:>6.2}x", base / ours);
    }

    let text = metrics.render(Format::Text);
    let samples = text.lines().filter(|l| !l.starts_with('#')).count();
    let families = text.lines().filter(|l| l.starts_with("# TYPE")).count();
    let naive_text = naive.render();
    let naive_samples = naive_text.lines().filter(|l| !l.starts_with('#')).count();
    let renders = 2_000;
    let ours = per_op(renders, |_| {
        black_box(metrics.render(Format::Text));
    });
    let base = per_op(renders, |_| {
        black_box(naive.render());
    });
    let proc_read = per_op(renders, |_| {
        for path in ["/proc/self/stat", "/proc/self/status", "/proc/self/limits"] {
            black_box(std::fs::read_to_string(path).ok());
        }
        black_box(std::fs::read_dir("/proc/self/fd").map(|d| d.count()).ok());
    });
    println!();
    println!(
        "rendering GET /metrics after a busy session, CPU us per render (best of {ROUNDS} rounds of {renders})"
    );
    println!("{:<58} {:>9} {:>9} {:>7}", "", "samples", "us", "ns/sample");
    println!(
        "{:<58} {samples:>9} {:>9.2} {:>7.0}",
        format!("tfo-mcp, whole registry ({families} families)"),
        ours / 1000.0,
        ours / samples as f64
    );
    println!(
        "{:<58} {:>9} {:>9.2} {:>7}",
        "+ reading /proc for process metrics (at most once a second)",
        "",
        proc_read / 1000.0,
        ""
    );
    println!(
        "{:<58} {naive_samples:>9} {:>9.2} {:>7.0}",
        "naive (format! per line, no process metrics)",
        base / 1000.0,
        base / naive_samples as f64
    );
}
