//! CPU cost per span on this thread: create + attributes + end (into the
//! bounded queue), protobuf encoding, and the OTLP/HTTP POST of 512-span
//! batches to a loopback receiver; sampled and unsampled; bytes per span.
//! Baseline in the same process: the same spans serialized as JSON with
//! serde_json. Run: `cargo bench --bench spans`.

use std::sync::Arc;
use std::sync::mpsc::sync_channel;
use tfo_mcp::config::{Config, SamplerKind};
use tfo_mcp::telemetry::model::{Scope, SpanData, Value};
use tfo_mcp::telemetry::{ExportStats, Sampler, SpanKind, Tracer, resource};

const BATCH: usize = 512;

/// Nanoseconds this thread has run on a CPU (`/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .expect("schedstat")
}

fn measure<T>(n: usize, f: impl FnOnce() -> T) -> (f64, T) {
    let start = thread_cpu_ns();
    let out = f();
    ((thread_cpu_ns() - start) as f64 / n as f64, out)
}

/// The attributes a `request.process` span of a tool call carries.
fn make_span(tracer: &Tracer, i: usize) {
    let mut span = tracer.start_root("request.process", SpanKind::Server, "tools/call", None);
    span.set_with("mcp.request.id", || Value::from(i.to_string()));
    span.set_with("jsonrpc.request.id", || Value::from(i.to_string()));
    span.set("mcp.method.name", "tools/call");
    span.set("mcp.session.id", "4e217f52a880b0a61b522be6a1ceb3ed");
    span.set("network.transport", "pipe");
    span.set("mcp.protocol.version", "2025-06-18");
    span.set_ok();
    span.end();
}

fn tracer(config: &Config, capacity: usize) -> (Tracer, std::sync::mpsc::Receiver<SpanData>) {
    let (queue, rx) = sync_channel(capacity);
    let tracer = Tracer::new(
        Sampler::new(&config.telemetry.tracing),
        queue,
        Arc::new(ExportStats::default()),
        "telemetryflow-mcp".into(),
    );
    (tracer, rx)
}

fn main() {
    let n = 200_000;
    let mut config = Config::default();

    config.telemetry.tracing.sampler = SamplerKind::AlwaysOff;
    let (off, _rx) = tracer(&config, 16);
    let (unsampled, ()) = measure(n * 5, || (0..n * 5).for_each(|i| make_span(&off, i)));

    config.telemetry.tracing.sampler = SamplerKind::AlwaysOn;
    let (on, rx) = tracer(&config, n);
    let (create, ()) = measure(n, || (0..n).for_each(|i| make_span(&on, i)));
    let spans: Vec<SpanData> = rx.try_iter().collect();
    assert_eq!(spans.len(), n, "every sampled span queued");

    let res = resource(&config);
    let scope = Scope {
        name: "telemetryflow-mcp".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let (encode, bodies) = measure(n, || {
        spans
            .chunks(BATCH)
            .map(|batch| tfo_mcp::otlp::encode_trace_request(&res, &scope, batch))
            .collect::<Vec<_>>()
    });
    let bytes_per_span = bodies.iter().map(Vec::len).sum::<usize>() as f64 / n as f64;

    let (json, json_bytes) = measure(n, || {
        spans
            .chunks(BATCH)
            .map(|batch| {
                let items: Vec<serde_json::Value> = batch
                    .iter()
                    .map(|s| {
                        let attrs: serde_json::Map<String, serde_json::Value> = s
                            .attributes
                            .iter()
                            .map(|kv| (kv.key.to_string(), serde_json::Value::String(format!("{:?}", kv.value))))
                            .collect();
                        serde_json::json!({"name": s.name, "trace_id": s.trace_id.0, "span_id": s.span_id.0,
                            "start": s.start_time_unix_nano, "end": s.end_time_unix_nano, "attributes": attrs})
                    })
                    .collect();
                serde_json::to_vec(&items).map(|v| v.len()).unwrap_or(0)
            })
            .sum::<usize>()
    });

    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/v1/traces",
        server.server_addr().to_ip().expect("ip")
    );
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut sink = Vec::new();
            let _ = request.as_reader().read_to_end(&mut sink);
            let _ = request.respond(tiny_http::Response::empty(200));
        }
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let (export, ()) = measure(n, || {
        for body in &bodies {
            let response = agent
                .post(&url)
                .header("content-type", "application/x-protobuf")
                .send(&body[..]);
            assert_eq!(response.expect("post").status().as_u16(), 200);
        }
    });

    println!("{:<44} {:>10}", "per span (CPU of this thread)", "ns");
    println!(
        "{:<44} {:>10.1}",
        "unsampled: create + attributes + end", unsampled
    );
    println!(
        "{:<44} {:>10.1}",
        "sampled: create + attributes + end (queue)", create
    );
    println!(
        "{:<44} {:>10.1}",
        "sampled: protobuf encode (512-span batches)", encode
    );
    println!(
        "{:<44} {:>10.1}",
        "sampled: OTLP/HTTP POST (client side)", export
    );
    println!(
        "{:<44} {:>10.1}",
        "sampled: total per exported span",
        create + encode + export
    );
    println!(
        "{:<44} {:>10.1}",
        "baseline: serde_json encode of the same spans", json
    );
    println!(
        "{:<44} {:>10.2}",
        "ratio protobuf encode / JSON baseline",
        encode / json
    );
    println!(
        "{:<44} {:>10.1}",
        "bytes per span (protobuf)", bytes_per_span
    );
    println!(
        "{:<44} {:>10.1}",
        "bytes per span (JSON baseline)",
        json_bytes as f64 / n as f64
    );
}
