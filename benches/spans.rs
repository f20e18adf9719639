//! CPU cost per span, the way the server runs them: spans created on this thread
//! (create + attributes + end into the bounded queue), then encoded as protobuf and
//! POSTed in 512-span batches over OTLP/HTTP by the real export thread
//! (`Telemetry::from_config`) to a loopback receiver in a child process. The headline
//! is the CPU of every thread of this process (`CLOCK_PROCESS_CPUTIME_ID`: the span
//! thread and the export thread, its start and its final flush included) per exported
//! span; the receiver's CPU is not ours and not counted. Also: the unsampled path, the
//! encoder alone, bytes per span, and a serde_json encoding of the same spans as the
//! baseline. Run: `cargo bench --bench spans --target x86_64-unknown-linux-musl`.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tfo_mcp::config::{Config, SamplerKind, TraceExporter};
use tfo_mcp::telemetry::model::{Scope, SpanData, Value};
use tfo_mcp::telemetry::{ExportStats, Sampler, Span, SpanKind, Telemetry, Tracer, resource};

const BATCH: usize = 512;
/// What `tools::Services` holds as `mcp.session.id`: 32 hex digits.
const SESSION: &str = "4e217f52a880b0a61b522be6a1ceb3ed";

/// The `request.process` span of a `tools/call`, as `mcp::dispatch` builds it: the
/// request id (its text, as parsed) twice, the method and the session id as copied
/// text, the transport and a protocol version replaced once the session's revision is
/// known.
fn request_span(tracer: &Tracer, id: &str, method: &str, session: &str) -> Span {
    let mut span = tracer.start_root("request.process", SpanKind::Server, method, None);
    if span.is_recording() {
        let id = Value::text(id);
        span.set_with("mcp.request.id", || id.clone());
        span.set_with("jsonrpc.request.id", || id);
        span.set_with("mcp.method.name", || Value::text(method));
        span.set_with("mcp.session.id", || Value::text(session));
        span.set("network.transport", "pipe");
        span.set("mcp.protocol.version", "unknown");
    }
    span.set("mcp.protocol.version", "2025-06-18");
    span.set_ok();
    span
}

fn make_span(tracer: &Tracer, id: usize) {
    // A server has each id's text from the request it parsed; here it is made up front.
    thread_local! {
        static IDS: Vec<String> = (0..BATCH).map(|i| i.to_string()).collect();
    }
    IDS.with(|ids| request_span(tracer, &ids[id % BATCH], "tools/call", SESSION).end());
}

/// The same spans as JSON, roughly what the console exporter writes.
fn json_baseline(spans: &[SpanData]) -> usize {
    let items: Vec<serde_json::Value> = spans
        .iter()
        .map(|s| {
            let attrs: serde_json::Map<String, serde_json::Value> = s
                .attributes
                .iter()
                .map(|kv| {
                    (
                        kv.key.to_string(),
                        serde_json::Value::String(format!("{:?}", kv.value)),
                    )
                })
                .collect();
            serde_json::json!({"name": s.name, "trace_id": s.trace_id.0, "span_id": s.span_id.0,
                "start": s.start_time_unix_nano, "end": s.end_time_unix_nano, "attributes": attrs})
        })
        .collect();
    serde_json::to_vec(&items).map(|v| v.len()).unwrap_or(0)
}

/// The loopback OTLP receiver, run as a child process (`--receiver`) so that its CPU
/// stays out of ours: prints its address, answers 200 to every POST, and when its
/// stdin closes prints the requests and body bytes it received.
fn receiver() {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let addr = server.server_addr().to_ip().expect("ip");
    println!("{addr}");
    let _ = std::io::stdout().flush();
    let totals = Arc::new(std::sync::Mutex::new((0u64, 0u64)));
    let seen = Arc::clone(&totals);
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let (requests, bytes) = *seen.lock().expect("totals");
        println!("{requests} {bytes}");
        let _ = std::io::stdout().flush();
        std::process::exit(0);
    });
    let mut sink = Vec::new();
    for mut request in server.incoming_requests() {
        sink.clear();
        let _ = request.as_reader().read_to_end(&mut sink);
        let _ = request.respond(tiny_http::Response::empty(200));
        let mut t = totals.lock().expect("totals");
        t.0 += 1;
        t.1 += sink.len() as u64;
    }
}

fn spawn_receiver() -> (Child, String) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .arg("--receiver")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the receiver");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("piped"))
        .read_line(&mut line)
        .expect("receiver address");
    (child, format!("http://{}", line.trim()))
}

/// (requests, body bytes) the receiver got, once it is told to stop.
fn stop_receiver(mut child: Child) -> (u64, u64) {
    drop(child.stdin.take());
    let mut out = String::new();
    let _ = child.stdout.take().expect("piped").read_to_string(&mut out);
    let _ = child.wait();
    let mut numbers = out.split_whitespace().map(|n| n.parse().unwrap_or(0));
    (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0))
}

struct Exported {
    /// CPU of every thread of this process, per exported span.
    process: f64,
    /// CPU of this (the span) thread, creating spans only, per span.
    create: f64,
    spans: u64,
    bytes: u64,
    requests: u64,
}

/// `rounds` batches of spans through the real export thread. After each batch this
/// thread sleeps until the export thread has sent it, as a server's MCP thread
/// waits for requests, so that the queue never overflows and attribute lists come
/// back for reuse as they do in the server. The sleeping loop's own CPU is not the
/// spans': the export side is the process's CPU minus all of this thread's.
fn exported(rounds: usize) -> Exported {
    let (child, endpoint) = spawn_receiver();
    let mut config = Config::default();
    config.telemetry.tracing.sampler = SamplerKind::AlwaysOn;
    config.telemetry.tracing.exporter = TraceExporter::Otlp;
    config.telemetry.tracing.otlp_endpoint = endpoint;
    config.telemetry.tracing.max_export_batch_size = BATCH;
    let process = cpu_time::ProcessTime::now();
    let thread = cpu_time::ThreadTime::now();
    let telemetry = Telemetry::from_config(&config, None);
    let stats = telemetry.stats_handle().expect("tracing on");
    let mut create = Duration::ZERO;
    for round in 0..rounds {
        let start = cpu_time::ThreadTime::now();
        (0..BATCH).for_each(|i| make_span(&telemetry.tracer, round * BATCH + i));
        create += start.elapsed();
        let target = ((round + 1) * BATCH) as u64;
        let give_up = Instant::now() + Duration::from_secs(10);
        while stats.exported.get() + stats.failed.get() < target && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let waiting = thread.elapsed() - create;
    telemetry.shutdown(Instant::now() + Duration::from_secs(10));
    let process = process.elapsed() - waiting;
    let spans = stats.exported.get();
    assert_eq!(spans, (rounds * BATCH) as u64, "every span exported");
    let (requests, bytes) = stop_receiver(child);
    Exported {
        process: process.as_nanos() as f64 / spans as f64,
        create: create.as_nanos() as f64 / spans as f64,
        spans,
        bytes,
        requests,
    }
}

/// A tracer whose queue this thread drains itself.
fn local_tracer(
    sampler: SamplerKind,
    capacity: usize,
) -> (Tracer, std::sync::mpsc::Receiver<SpanData>) {
    let mut config = Config::default();
    config.telemetry.tracing.sampler = sampler;
    let (queue, rx) = std::sync::mpsc::sync_channel(capacity);
    let tracer = Tracer::new(
        Sampler::new(&config.telemetry.tracing),
        queue,
        Arc::new(ExportStats::default()),
        "telemetryflow-mcp".into(),
    );
    (tracer, rx)
}

fn per_span<T>(n: usize, f: impl FnOnce() -> T) -> (f64, T) {
    // CLOCK_THREAD_CPUTIME_ID: exact CPU time of this thread, not wall time.
    let start = cpu_time::ThreadTime::now();
    let out = f();
    (start.elapsed().as_nanos() as f64 / n as f64, out)
}

fn main() {
    if std::env::args().any(|a| a == "--receiver") {
        return receiver();
    }
    let n = 1_000_000;
    let (off, _rx) = local_tracer(SamplerKind::AlwaysOff, 16);
    let (unsampled, ()) = per_span(n, || (0..n).for_each(|i| make_span(&off, i)));

    let runs: Vec<Exported> = (0..3).map(|_| exported(100)).collect();

    // The encoder alone on this thread, and the JSON baseline, on the same spans.
    let (on, rx) = local_tracer(SamplerKind::AlwaysOn, BATCH);
    let recycler = on.recycler().expect("an enabled tracer");
    let res = resource(&Config::default());
    let scope = Scope {
        name: "telemetryflow-mcp".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let mut buffers = tfo_mcp::otlp::Buffers::default();
    let mut spans: Vec<SpanData> = Vec::with_capacity(BATCH);
    let (mut encode, mut json) = (0.0, 0.0);
    let rounds = 40;
    for round in 0..rounds {
        (0..BATCH).for_each(|i| make_span(&on, round * BATCH + i));
        spans.extend(rx.try_iter());
        let (t, _) = per_span(BATCH, || {
            tfo_mcp::otlp::encode_trace_request_into(&res, &scope, &spans, &mut buffers)
        });
        encode += t / rounds as f64;
        let (t, _) = per_span(BATCH, || json_baseline(&spans));
        json += t / rounds as f64;
        recycler.recycle(&mut spans);
    }

    println!(
        "{:<52} {:>22}",
        "per span, ns of CPU", "3 runs of 51,200 spans"
    );
    let row = |what: &str, f: &dyn Fn(&Exported) -> f64| {
        let v: Vec<String> = runs.iter().map(|r| format!("{:.0}", f(r))).collect();
        println!("{what:<52} {:>22}", v.join(" / "));
    };
    row("sampled, exported: all threads of the process", &|r| {
        r.process
    });
    row("  of which the span thread (create + end)", &|r| r.create);
    row(
        "  of which the export thread (encode + POST + rest)",
        &|r| r.process - r.create,
    );
    row("bytes per span on the wire", &|r| {
        r.bytes as f64 / r.spans as f64
    });
    row("spans per POST", &|r| {
        r.spans as f64 / r.requests.max(1) as f64
    });
    println!(
        "{:<52} {:>22.1}",
        "unsampled: create + attributes + end", unsampled
    );
    println!(
        "{:<52} {:>22.1}",
        "protobuf encode alone (512-span batches)", encode
    );
    println!(
        "{:<52} {:>22.1}",
        "baseline: serde_json encode of the same spans", json
    );
    println!(
        "{:<52} {:>22.3}",
        "ratio protobuf encode / JSON baseline",
        encode / json
    );
}
