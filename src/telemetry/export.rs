//! The export side of tracing: one thread per process takes finished spans from
//! the bounded queue, batches them (up to `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, at
//! least every `OTEL_BSP_SCHEDULE_DELAY`) and sends each batch as OTLP/HTTP
//! protobuf with retries, or writes it as JSON lines to the log output. It never
//! touches the MCP executor; at shutdown it flushes what is queued within a
//! deadline.

use super::context::hex;
use super::model::{KeyValue, Resource, Scope, SpanData, StatusCode, Value};
use super::sampler::Sampler;
use super::stats::ExportStats;
use super::tracer::{Recycler, Tracer, Wake};
use crate::config::{Config, TraceExporter};
use serde_json::{Map, json};
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Longest wait for queued spans at shutdown (issue: default 5 s).
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(5);
/// Retry backoff without `Retry-After`: first wait and cap.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A dead collector is reported once, then at most this often.
const FAILURE_LOG_EVERY: Duration = Duration::from_secs(60);
/// Response bodies read at most (the OTLP spec's limit).
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

/// The process's tracing: the tracer handed to the server, and the export thread behind it.
#[derive(Debug)]
pub struct Telemetry {
    /// The tracer; clone it into whatever creates spans.
    pub tracer: Tracer,
    stats: Option<Arc<ExportStats>>,
    /// The export thread, its "done" signal, and the "stop retrying" signal.
    worker: Option<(JoinHandle<()>, Receiver<()>, SyncSender<()>)>,
}

impl Telemetry {
    /// No tracing at all.
    pub fn disabled() -> Telemetry {
        Telemetry {
            tracer: Tracer::disabled(),
            stats: None,
            worker: None,
        }
    }

    /// Tracing as configured: disabled, or sampled spans exported through OTLP or the console.
    pub fn from_config(config: &Config) -> Telemetry {
        let t = &config.telemetry;
        if !t.enabled || !t.tracing.enabled || t.tracing.exporter == TraceExporter::None {
            return Telemetry::disabled();
        }
        let (queue, spans) = sync_channel(t.tracing.max_queue_size);
        let (signal, wake) = sync_channel(1);
        let queued = Arc::new(AtomicUsize::new(0));
        let stats = Arc::new(ExportStats::default());
        let tracer = Tracer::batched(
            Sampler::new(&t.tracing),
            queue,
            Arc::clone(&stats),
            t.service_name.clone(),
            Wake {
                queued: Arc::clone(&queued),
                batch: t.tracing.max_export_batch_size,
                signal,
            },
        );
        let (stop, stop_rx) = sync_channel(1);
        let (done_tx, done) = sync_channel(1);
        let recycler = tracer.recycler().unwrap_or_default();
        let batcher_stats = Arc::clone(&stats);
        let config = config.clone();
        // The exporter (its HTTP agent and TLS roots) and the resource (a file read)
        // are built on the export thread: the first MCP answer never waits for them.
        let worker = std::thread::Builder::new()
            .name("otlp-traces".into())
            .spawn(move || {
                let t = &config.telemetry;
                let batcher = Batcher {
                    recycler,
                    spans,
                    wake,
                    queued,
                    sink: match t.tracing.exporter {
                        TraceExporter::Console => Sink::Console,
                        _ => Sink::Otlp(Box::new(Otlp::new(&config))),
                    },
                    stats: batcher_stats,
                    resource: resource(&config),
                    scope: Scope {
                        name: Cow::Borrowed("telemetryflow-mcp"),
                        version: Cow::Borrowed(env!("CARGO_PKG_VERSION")),
                    },
                    batch_size: t.tracing.max_export_batch_size,
                    delay: t.tracing.schedule_delay,
                    export_timeout: t.tracing.export_timeout,
                    failures: FailureLog::default(),
                    final_flush: false,
                    buffers: crate::otlp::Buffers::default(),
                    stop: stop_rx,
                };
                batcher.run();
                let _ = done_tx.send(());
            });
        match worker {
            Ok(handle) => Telemetry {
                tracer,
                stats: Some(stats),
                worker: Some((handle, done, stop)),
            },
            Err(e) => {
                log::error!(error:% = e; "cannot start the trace export thread; tracing is off");
                Telemetry::disabled()
            }
        }
    }

    /// Export counters, when tracing is on.
    pub fn stats(&self) -> Option<&ExportStats> {
        self.stats.as_deref()
    }

    /// Drops this handle's tracer and waits until `deadline` for the export
    /// thread to flush what is queued. Every other tracer clone must be gone.
    pub fn shutdown(self, deadline: Instant) {
        let Telemetry { tracer, worker, .. } = self;
        if let Some((_, _, stop)) = &worker {
            // Wakes a retry backoff in progress: no more waiting on a failing collector.
            let _ = stop.try_send(());
        }
        drop(tracer);
        if let Some((handle, done, _)) = worker {
            let wait = deadline.saturating_duration_since(Instant::now());
            if done.recv_timeout(wait).is_ok() {
                let _ = handle.join();
            } else {
                log::warn!(
                    "trace export did not finish before the shutdown deadline; queued spans are lost"
                );
            }
        }
    }
}

/// The resource every signal is exported with.
pub fn resource(config: &Config) -> Resource {
    let t = &config.telemetry;
    let mut attributes: Vec<KeyValue> = Vec::new();
    let mut put = |key: Cow<'static, str>, value: Value| {
        attributes.retain(|kv| kv.key != key);
        attributes.push(KeyValue { key, value });
    };
    // OTEL_RESOURCE_ATTRIBUTES first: attributes set here win on a clash.
    for (key, value) in &t.resource_attributes {
        put(Cow::Owned(key.clone()), Value::from(value.clone()));
    }
    put("service.name".into(), Value::from(t.service_name.clone()));
    put(
        "service.version".into(),
        Value::from(t.service_version.clone()),
    );
    put(
        "deployment.environment.name".into(),
        Value::from(t.environment.clone()),
    );
    put("telemetry.sdk.name".into(), Value::from("tfo-mcp"));
    put("telemetry.sdk.language".into(), Value::from("rust"));
    put(
        "telemetry.sdk.version".into(),
        Value::from(env!("CARGO_PKG_VERSION")),
    );
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        put("host.name".into(), Value::from(host.trim().to_string()));
    }
    put(
        "process.pid".into(),
        Value::Int(i64::from(std::process::id())),
    );
    Resource { attributes }
}

enum Sink {
    Otlp(Box<Otlp>),
    Console,
}

struct Batcher {
    spans: Receiver<SpanData>,
    /// Signalled by the tracer when a batch is queued; disconnected at shutdown.
    wake: Receiver<()>,
    /// Spans queued since the last drain (the tracer counts, this thread resets).
    queued: Arc<AtomicUsize>,
    sink: Sink,
    stats: Arc<ExportStats>,
    resource: Resource,
    scope: Scope,
    batch_size: usize,
    delay: Duration,
    export_timeout: Duration,
    failures: FailureLog,
    final_flush: bool,
    /// Encoding memory reused from batch to batch.
    buffers: crate::otlp::Buffers,
    /// Signalled at shutdown; retry backoffs wait on it instead of sleeping.
    stop: Receiver<()>,
    /// Takes the exported spans' attribute lists back to the tracer.
    recycler: Arc<Recycler>,
}

impl Batcher {
    fn run(mut self) {
        let mut batch = Vec::with_capacity(self.batch_size);
        let mut next = Instant::now() + self.delay;
        loop {
            let woke = self
                .wake
                .recv_timeout(next.saturating_duration_since(Instant::now()));
            if woke == Err(RecvTimeoutError::Disconnected) {
                // Shutting down: one attempt per batch, so that a dead collector
                // cannot hold the exit for the whole flush deadline.
                self.final_flush = true;
                let deadline = Instant::now() + SHUTDOWN_FLUSH.min(self.export_timeout);
                self.drain(&mut batch, Some(deadline));
                self.export(&mut batch, deadline);
                return;
            }
            self.queued.store(0, Ordering::Relaxed);
            if self.drain(&mut batch, None) {
                next = Instant::now() + self.delay;
            }
            if woke == Err(RecvTimeoutError::Timeout) {
                self.export(&mut batch, Instant::now() + self.export_timeout);
                next = Instant::now() + self.delay;
            }
        }
    }

    /// Moves the queued spans into `batch`, exporting it each time it is full
    /// (within `deadline`, or the export timeout from now). True if it exported.
    fn drain(&mut self, batch: &mut Vec<SpanData>, deadline: Option<Instant>) -> bool {
        let mut exported = false;
        while let Ok(span) = self.spans.try_recv() {
            batch.push(span);
            if batch.len() >= self.batch_size {
                let deadline = deadline.unwrap_or_else(|| Instant::now() + self.export_timeout);
                self.export(batch, deadline);
                exported = true;
            }
        }
        exported
    }

    fn export(&mut self, batch: &mut Vec<SpanData>, deadline: Instant) {
        if batch.is_empty() {
            return;
        }
        let started = Instant::now();
        let count = batch.len() as u64;
        match &self.sink {
            Sink::Console => {
                for span in batch.iter() {
                    crate::logging::write_line(&console_json(span));
                }
                self.stats.exported.add(count);
            }
            Sink::Otlp(otlp) => {
                crate::otlp::encode_trace_request_into(
                    &self.resource,
                    &self.scope,
                    batch,
                    &mut self.buffers,
                );
                match otlp.send(
                    self.buffers.bytes(),
                    deadline,
                    (!self.final_flush).then_some(&self.stop),
                    &self.stats,
                ) {
                    Ok(rejected) => {
                        self.stats.exported.add(count.saturating_sub(rejected));
                        self.stats.rejected.add(rejected);
                        self.failures.success(&otlp.url);
                    }
                    Err(reason) => {
                        self.stats.failed.add(count);
                        self.failures.failure(&otlp.url, count, &reason);
                    }
                }
            }
        }
        self.recycler.recycle(batch);
        self.stats.batches.inc();
        self.stats
            .export_micros
            .add(started.elapsed().as_micros() as u64);
    }
}

/// OTLP/HTTP protobuf to `{endpoint}/v1/traces`.
struct Otlp {
    url: String,
    headers: Vec<(String, String)>,
    timeout: Duration,
    agent: ureq::Agent,
}

impl Otlp {
    fn new(config: &Config) -> Otlp {
        let tracing = &config.telemetry.tracing;
        let url = match &tracing.traces_endpoint {
            // Used as-is; only a URL without a path gets "/".
            Some(url) if url.splitn(4, '/').count() < 4 => format!("{url}/"),
            Some(url) => url.clone(),
            None => format!("{}/v1/traces", tracing.otlp_endpoint.trim_end_matches('/')),
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .user_agent(concat!("tfo-mcp-otlp-exporter/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Otlp {
            url,
            headers: tracing.otlp_headers.clone(),
            timeout: tracing.otlp_timeout,
            agent,
        }
    }

    /// Sends one batch, retrying what may be retried until `deadline`.
    /// Ok: spans the collector rejected in a partial success. Err: why it failed.
    /// `retry`: wait for retries on this signal (shutdown ends the wait); `None`: no retries.
    fn send(
        &self,
        body: &[u8],
        deadline: Instant,
        retry: Option<&Receiver<()>>,
        stats: &ExportStats,
    ) -> Result<u64, String> {
        let mut attempt = 0u32;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err("export deadline passed".into());
            }
            stats.requests.inc();
            let mut request = self
                .agent
                .post(&self.url)
                .header("content-type", "application/x-protobuf");
            for (name, value) in &self.headers {
                request = request.header(name.as_str(), value.as_str());
            }
            let attempt_timeout = if self.timeout.is_zero() {
                remaining
            } else {
                remaining.min(self.timeout)
            };
            let result = request
                .config()
                .timeout_global(Some(attempt_timeout))
                .build()
                .send(body);
            let (wait, reason) = match result {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let bytes = response
                        .body_mut()
                        .with_config()
                        .limit(MAX_RESPONSE)
                        .read_to_vec()
                        .unwrap_or_default();
                    match status {
                        200..=299 => return Ok(partial_success(&bytes)),
                        429 | 502 | 503 | 504 => (retry_after, format!("HTTP {status}")),
                        _ => {
                            let detail =
                                crate::otlp::decode_status_message(&bytes).unwrap_or_default();
                            return Err(format!("HTTP {status} (not retried) {detail}")
                                .trim_end()
                                .to_string());
                        }
                    }
                }
                Err(e) if retryable(&e) => (None, format!("{e}")),
                Err(e) => return Err(format!("{e} (not retried)")),
            };
            let backoff = wait.unwrap_or_else(|| backoff(attempt));
            let Some(stop) = retry else {
                return Err(format!("{reason}; not retried during shutdown"));
            };
            if Instant::now() + backoff >= deadline {
                return Err(format!("{reason}; no time left to retry"));
            }
            stats.retries.inc();
            if !matches!(stop.recv_timeout(backoff), Err(RecvTimeoutError::Timeout)) {
                return Err(format!("{reason}; retry abandoned at shutdown"));
            }
            attempt += 1;
        }
    }
}

fn partial_success(body: &[u8]) -> u64 {
    match crate::otlp::decode_partial_success(body) {
        Ok(Some(partial)) => {
            if partial.rejected > 0 || !partial.error_message.is_empty() {
                log::warn!(
                    rejected_spans = partial.rejected,
                    error_message = partial.error_message.as_str();
                    "OTLP collector accepted the batch partially"
                );
            }
            u64::try_from(partial.rejected).unwrap_or(0)
        }
        Ok(None) => 0,
        Err(_) => {
            log::debug!(
                "OTLP response body is not an ExportTraceServiceResponse; treated as success"
            );
            0
        }
    }
}

/// Connection problems are transient; configuration problems (bad URL, TLS setup) are not.
fn retryable(error: &ureq::Error) -> bool {
    matches!(
        error,
        ureq::Error::Io(_)
            | ureq::Error::Timeout(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Protocol(_)
            | ureq::Error::BodyStalled
    )
}

/// `min(max, first · 2^attempt)` scaled by a jitter factor in [0.5, 1.5).
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF_FIRST
        .saturating_mul(1u32 << attempt.min(10))
        .min(BACKOFF_MAX);
    let jitter = 0.5 + (super::context::new_span_id().0[0] as f64 / 256.0);
    base.mul_f64(jitter)
}

/// Reports a failing collector once, then at most every minute, and its recovery once.
#[derive(Default)]
struct FailureLog {
    failing_since: Option<Instant>,
    last_report: Option<Instant>,
    suppressed: u64,
}

impl FailureLog {
    fn failure(&mut self, url: &str, spans: u64, reason: &str) {
        let now = Instant::now();
        match self.last_report {
            Some(last) if now.duration_since(last) < FAILURE_LOG_EVERY => self.suppressed += 1,
            _ => {
                log::warn!(
                    endpoint = url,
                    dropped_spans = spans,
                    suppressed_reports = self.suppressed,
                    reason = reason;
                    "OTLP trace export failed; spans dropped"
                );
                self.last_report = Some(now);
                self.suppressed = 0;
            }
        }
        self.failing_since.get_or_insert(now);
    }

    fn success(&mut self, url: &str) {
        if let Some(since) = self.failing_since.take() {
            log::info!(
                endpoint = url,
                failing_seconds = since.elapsed().as_secs_f64();
                "OTLP trace export recovered"
            );
            self.last_report = None;
            self.suppressed = 0;
        }
    }
}

/// One span as a JSON object for the console exporter.
fn console_json(span: &SpanData) -> String {
    let attributes = |kvs: &[KeyValue]| {
        let mut map = Map::new();
        for kv in kvs {
            let value = match &kv.value {
                Value::Str(s) => json!(s),
                Value::Bool(b) => json!(b),
                Value::Int(i) => json!(i),
                Value::Double(d) => json!(d),
                Value::StrArray(items) => json!(items),
            };
            map.insert(kv.key.to_string(), value);
        }
        serde_json::Value::Object(map)
    };
    let events: Vec<serde_json::Value> = span
        .events
        .iter()
        .map(|e| json!({"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": attributes(&e.attributes)}))
        .collect();
    json!({
        "span": span.name,
        "trace_id": hex(&span.trace_id.0),
        "span_id": hex(&span.span_id.0),
        "parent_span_id": span.parent_span_id.map(|p| hex(&p.0)),
        "kind": format!("{:?}", span.kind).to_uppercase(),
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano,
        "duration_ms": (span.end_time_unix_nano.saturating_sub(span.start_time_unix_nano)) as f64 / 1e6,
        "attributes": attributes(&span.attributes),
        "events": events,
        "status": {
            "code": match span.status.code { StatusCode::Unset => "UNSET", StatusCode::Ok => "OK", StatusCode::Error => "ERROR" },
            "message": span.status.message,
        },
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 0..20 {
            let d = backoff(attempt);
            let base = BACKOFF_FIRST
                .saturating_mul(1 << attempt.min(10))
                .min(BACKOFF_MAX);
            assert!(
                d >= base.mul_f64(0.5) && d < base.mul_f64(1.5),
                "attempt {attempt}: {d:?}"
            );
        }
    }

    #[test]
    fn trace_url_follows_the_endpoint_rules() {
        let mut config = Config::default();
        let url = |c: &Config| Otlp::new(c).url;
        assert_eq!(url(&config), "http://localhost:4318/v1/traces");
        config.telemetry.tracing.otlp_endpoint = "http://c:4318/base".into();
        assert_eq!(
            url(&config),
            "http://c:4318/base/v1/traces",
            "base gets v1/traces appended"
        );
        config.telemetry.tracing.traces_endpoint = Some("http://c:4318".into());
        assert_eq!(
            url(&config),
            "http://c:4318/",
            "per-signal URL without path gets /"
        );
        config.telemetry.tracing.traces_endpoint = Some("https://c/custom/path".into());
        assert_eq!(
            url(&config),
            "https://c/custom/path",
            "per-signal URL used as-is"
        );
    }
}
