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

fn measure<T>(n: usize, f: impl FnOnce() -> T) -> (f64, T) {
    // CLOCK_THREAD_CPUTIME_ID: exact CPU time of this thread, not wall time.
    let start = cpu_time::ThreadTime::now();
    let out = f();
    (start.elapsed().as_nanos() as f64 / n as f64, out)
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

    // Sampled spans go round the way the server runs them: a batch is created,
    // drained from the queue, encoded and posted; the next batch reuses the memory.
    config.telemetry.tracing.sampler = SamplerKind::AlwaysOn;
    let (on, rx) = tracer(&config, BATCH);
    let res = resource(&config);
    let scope = Scope {
        name: "telemetryflow-mcp".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    };
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/v1/traces",
        server.server_addr().to_ip().expect("ip")
    );
    std::thread::spawn(move || {
        for mut request in server.incoming_requests() {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(request.as_reader(), &mut sink);
            let _ = request.respond(tiny_http::Response::empty(200));
        }
    });
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let (mut create, mut encode, mut json, mut export) = (0.0, 0.0, 0.0, 0.0);
    // The same spans from a second tracer whose attribute lists are freed after
    // export instead of reused: what the recycling saves, in the same run.
    let (fresh, fresh_rx) = tracer(&config, BATCH);
    let mut fresh_spans: Vec<SpanData> = Vec::with_capacity(BATCH);
    let (mut release, mut unpooled) = (0.0, 0.0);
    let (mut bytes, mut json_bytes) = (0usize, 0usize);
    let mut buffers = tfo_mcp::otlp::Buffers::default();
    let rounds = n / BATCH;
    let recycler = on.recycler().expect("an enabled tracer");
    let mut spans: Vec<SpanData> = Vec::with_capacity(BATCH);
    for round in 0..rounds {
        let (t, ()) = measure(1, || {
            (0..BATCH).for_each(|i| make_span(&on, round * BATCH + i))
        });
        create += t;
        spans.extend(rx.try_iter());
        assert_eq!(spans.len(), BATCH, "every sampled span queued");
        // As the export thread does it: the encoding memory is reused across batches.
        let (t, _) = measure(1, || {
            tfo_mcp::otlp::encode_trace_request_into(&res, &scope, &spans, &mut buffers)
        });
        let body = buffers.bytes();
        encode += t;
        bytes += body.len();
        let (t, len) = measure(1, || json_baseline(&spans));
        json += t;
        json_bytes += len;
        let (t, ()) = measure(1, || {
            let response = agent
                .post(&url)
                .header("content-type", "application/x-protobuf")
                .send(body);
            assert_eq!(response.expect("post").status().as_u16(), 200);
        });
        export += t;
        // As the export thread does it: the attribute lists go back to the tracer.
        let (t, ()) = measure(1, || recycler.recycle(&mut spans));
        export += t;
        release += t;
        let (t, ()) = measure(1, || {
            (0..BATCH).for_each(|i| make_span(&fresh, round * BATCH + i));
            fresh_spans.extend(fresh_rx.try_iter());
            fresh_spans.clear();
        });
        unpooled += t;
    }
    let spans = (rounds * BATCH) as f64;
    let (create, encode, json, export) =
        (create / spans, encode / spans, json / spans, export / spans);
    let (release, unpooled) = (release / spans, unpooled / spans);

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
        "create + end + release, lists reused",
        create + release
    );
    println!(
        "{:<44} {:>10.1}",
        "create + end + release, lists freed", unpooled
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
        "bytes per span (protobuf)",
        bytes as f64 / spans
    );
    println!(
        "{:<44} {:>10.1}",
        "bytes per span (JSON baseline)",
        json_bytes as f64 / spans
    );
}
