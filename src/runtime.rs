//! The only code that touches stdin, stdout and signals: a bounded line reader
//! thread, a writer thread that prints exactly one message per line, SIGTERM and
//! SIGINT handling, and the single-threaded executor the server runs on.

use crate::config::{Config, TraceExporter};
use crate::health::{CheckResult, Health, Impact, StdioProbe, exporter_check};
use crate::logging::ErrorTracker;
use crate::mcp::{Input, Server};
use crate::metrics::{Metrics, MetricsPush};
use crate::observability::Observability;
use crate::telemetry::Telemetry;
use smol::LocalExecutor;
use smol::channel::{Receiver, Sender};
use smol::stream::StreamExt;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Lines read ahead of the server; beyond this the reader waits (back-pressure).
const INPUT_QUEUE: usize = 16;
/// Encoded messages waiting for stdout; beyond this producers wait.
const OUTPUT_QUEUE: usize = 1024;

/// Errors that end `serve` before it could run.
#[derive(Debug)]
pub enum Error {
    /// A thread or the signal handler could not be started.
    Start(io::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Start(e) => write!(f, "runtime: cannot start: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Start(e) => Some(e),
        }
    }
}

/// Longest wait of one Claude health probe.
const CLAUDE_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long exporters get to flush after the last response was written.
pub const FLUSH_DEADLINE: Duration = Duration::from_secs(5);

/// Serves MCP on stdin/stdout until EOF, SIGTERM or SIGINT, then shuts down
/// gracefully: stop reading, let in-flight requests finish within the grace
/// period, cancel the rest, write every queued message, then call `flush` with
/// the deadline by which exporters must be done (telemetry is flushed there).
pub fn serve_stdio(config: Config, flush: impl FnOnce(Instant)) -> Result<(), Error> {
    let (in_tx, in_rx) = smol::channel::bounded(INPUT_QUEUE);
    let max_line = config.server.max_line_bytes;
    let probe = StdioProbe::new();
    let eof_probe = Arc::clone(&probe);
    thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            read_lines(
                BufReader::with_capacity(64 * 1024, io::stdin().lock()),
                max_line,
                &in_tx,
            );
            eof_probe.set_draining();
        })
        .map_err(Error::Start)?;
    let (out_tx, out_rx) = smol::channel::bounded(OUTPUT_QUEUE);
    let writer = thread::Builder::new()
        .name("stdout".into())
        .spawn(move || write_lines(io::stdout().lock(), &out_rx))
        .map_err(Error::Start)?;
    let (stop_tx, stop_rx) = smol::channel::bounded(1);
    let mut signals =
        async_signal::Signals::new([async_signal::Signal::Term, async_signal::Signal::Int])
            .map_err(Error::Start)?;

    let ex = LocalExecutor::new();
    let signal_probe = Arc::clone(&probe);
    ex.spawn(async move {
        if let Some(Ok(signal)) = signals.next().await {
            log::info!(signal:? = signal; "signal received; shutting down");
            signal_probe.set_draining();
            let _ = stop_tx.try_send(());
        }
        // A second signal while the graceful path is still waiting: the operator insists.
        if let Some(Ok(signal)) = signals.next().await {
            log::warn!(signal:? = signal; "second signal received; exiting at once");
            log::logger().flush();
            std::process::exit(1);
        }
    })
    .detach();
    // The error tracker counts into the metrics and watches the exporters, so both
    // exist before the exporters start.
    let metrics = Metrics::from_config(&config);
    let errors = ErrorTracker::new(Arc::clone(&metrics));
    let telemetry = Telemetry::from_config(&config, Some(Arc::clone(&errors)));
    let (obs, push) = observability(&config, &telemetry, &probe, metrics, errors);
    // The executor stamps the stdio probe while it runs (the `stdio` health check).
    ex.spawn(async move {
        loop {
            probe.tick();
            smol::Timer::after(StdioProbe::TICK).await;
        }
    })
    .detach();
    let health = Arc::clone(&obs.health);
    let server = Server::new(config, out_tx, obs);
    smol::block_on(ex.run(server.serve(&ex, in_rx, stop_rx)));
    // Dropping the executor drops every remaining task, and with them the last
    // senders of the outbox: the writer then prints what is queued and stops.
    drop(server);
    drop(ex);
    let _ = writer.join();
    let deadline = Instant::now() + FLUSH_DEADLINE;
    // The last metrics push runs while the trace exporter flushes.
    push.begin_shutdown();
    telemetry.shutdown(deadline);
    push.finish(deadline);
    health.stop();
    flush(deadline);
    Ok(())
}

/// Metrics, health checks, the metrics endpoint and the metrics push, as configured.
fn observability(
    config: &Config,
    telemetry: &Telemetry,
    probe: &Arc<StdioProbe>,
    metrics: Arc<Metrics>,
    errors: Arc<ErrorTracker>,
) -> (Observability, MetricsPush) {
    let health = Health::new(env!("CARGO_PKG_VERSION"));
    let stdio = Arc::clone(probe);
    health.register("stdio", Impact::Critical, move || stdio.check());
    // Claude, when a key is configured: a free GET /v1/models on the check's own thread,
    // cached, so /health never waits on it nor spends tokens (design.md's deviation).
    if let Some(client) = crate::claude::Client::new(&config.claude) {
        health.register_background(
            "claude",
            config.claude.health_interval,
            Box::new(move || match client.probe(CLAUDE_PROBE_TIMEOUT) {
                Ok(took) => CheckResult::healthy(format!(
                    "GET /v1/models answered in {} ms",
                    took.as_millis()
                )),
                Err(reason) => CheckResult::unhealthy(reason),
            }),
        );
    }
    let tracked = Arc::clone(&errors);
    health.register("errors", Impact::Degrades, move || {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        crate::health::errors_check(&tracked.recent_errors(), now)
    });
    if let Some(stats) = telemetry.stats_handle() {
        metrics.attach_trace_export(Arc::clone(&stats));
        if config.telemetry.tracing.exporter == TraceExporter::Otlp {
            health.register("otlp_traces", Impact::Degrades, move || {
                exporter_check(&stats, "trace export")
            });
        }
    }
    let m = &config.telemetry.metrics;
    if metrics.is_enabled() && m.exporters.prometheus {
        let state = Arc::new(crate::http::EndpointState::default());
        let check = Arc::clone(&state);
        health.register("metrics_endpoint", Impact::Degrades, move || check.check());
        crate::http::start(
            &m.host,
            m.port,
            Arc::clone(&metrics),
            Arc::clone(&health),
            state,
        );
    }
    let push = MetricsPush::start(config, Arc::clone(&metrics));
    if let Some(stats) = push.stats() {
        health.register("otlp_metrics", Impact::Degrades, move || {
            exporter_check(&stats, "metrics push")
        });
    }
    let obs = Observability {
        tracer: telemetry.tracer.clone(),
        metrics,
        errors,
        health,
    };
    (obs, push)
}

/// Reads `\n`-terminated lines, never holding more than `max` bytes of one line:
/// a longer line is discarded as it streams by and reported as `Oversized`.
/// Empty lines are skipped. Stops at EOF, on a read error, or when nobody listens.
pub fn read_lines<R: BufRead>(mut reader: R, max: usize, tx: &Sender<Input>) {
    let mut line = Vec::new();
    let mut oversized: Option<usize> = None;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                log::error!(error:% = e; "reading stdin failed; treating it as EOF");
                break;
            }
        };
        if buf.is_empty() {
            break;
        }
        let (chunk, complete) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], true),
            None => (buf, false),
        };
        match oversized.as_mut() {
            Some(seen) => *seen += chunk.len(),
            None if line.len() + chunk.len() > max => {
                oversized = Some(line.len() + chunk.len());
                line = Vec::new();
            }
            None => line.extend_from_slice(chunk),
        }
        let used = chunk.len() + usize::from(complete);
        reader.consume(used);
        if complete && !emit(&mut line, &mut oversized, tx) {
            return;
        }
    }
    emit(&mut line, &mut oversized, tx);
}

fn emit(line: &mut Vec<u8>, oversized: &mut Option<usize>, tx: &Sender<Input>) -> bool {
    let item = match oversized.take() {
        Some(bytes) => Input::Oversized { bytes },
        None if line.is_empty() || line.as_slice() == b"\r" => {
            line.clear();
            return true;
        }
        None => Input::Line(std::mem::take(line)),
    };
    tx.send_blocking(item).is_ok()
}

/// Prints each message followed by `\n`, flushing whenever the queue runs dry.
pub fn write_lines<W: Write>(out: W, rx: &Receiver<String>) {
    let mut out = BufWriter::with_capacity(64 * 1024, out);
    while let Ok(line) = rx.recv_blocking() {
        debug_assert!(!line.contains('\n'), "encoded messages are single lines");
        let written = out
            .write_all(line.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| if rx.is_empty() { out.flush() } else { Ok(()) });
        if let Err(e) = written {
            log::error!(error:% = e; "writing stdout failed; the client is gone");
            rx.close();
            return;
        }
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], max: usize, capacity: usize) -> Vec<Input> {
        let (tx, rx) = smol::channel::unbounded();
        read_lines(BufReader::with_capacity(capacity, input), max, &tx);
        std::iter::from_fn(|| rx.try_recv().ok()).collect()
    }

    #[test]
    fn lines_are_split_bounded_and_oversized_ones_reported() {
        let line = |s: &str| Input::Line(s.as_bytes().to_vec());
        let cases: &[(&[u8], Vec<Input>)] = &[
            (b"a\nbb\n", vec![line("a"), line("bb")]),
            (b"a\n\n\r\nb", vec![line("a"), line("b")]),
            (b"12345678\nok\n", vec![line("12345678"), line("ok")]),
            (
                b"123456789\nok\n",
                vec![Input::Oversized { bytes: 9 }, line("ok")],
            ),
            (
                b"ok\n123456789012",
                vec![line("ok"), Input::Oversized { bytes: 12 }],
            ),
        ];
        for capacity in [1, 3, 64] {
            for (input, want) in cases {
                assert_eq!(
                    &read_all(input, 8, capacity),
                    want,
                    "input {:?} read {capacity} bytes at a time",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }

    #[test]
    fn writer_prints_one_message_per_line() {
        let (tx, rx) = smol::channel::unbounded();
        tx.try_send("{\"a\":1}".to_string()).expect("open");
        tx.try_send("{\"b\":2}".to_string()).expect("open");
        drop(tx);
        let mut out = Vec::new();
        write_lines(&mut out, &rx);
        assert_eq!(out, b"{\"a\":1}\n{\"b\":2}\n");
    }
}
