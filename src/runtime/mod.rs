//! The only code that touches stdin, stdout and signals: the stdio loop that runs
//! the single-threaded executor the server lives on and moves lines in and out
//! (`stdio`, framing in `lines`), SIGTERM and SIGINT handling, start-up of the
//! observability pieces and the graceful shutdown.

mod lines;
mod stdio;

use crate::config::{Config, TraceExporter};
use crate::health::{CheckResult, Health, Impact, StdioProbe, exporter_check};
use crate::logging::ErrorTracker;
use crate::mcp::Server;
use crate::metrics::{Metrics, MetricsPush};
use crate::observability::Observability;
use crate::telemetry::Telemetry;
use smol::LocalExecutor;
use smol::future::BoxedLocal;
use smol::stream::StreamExt;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Lines handed to the server ahead of it; beyond this the loop stops reading stdin (back-pressure).
const INPUT_QUEUE: usize = 16;
/// Encoded messages waiting for stdout; beyond this producers wait. Four times the
/// most requests in flight by default, and small: a bounded channel writes all its
/// slots at start, and at 1,024 that was 32 KiB, 7 page faults before the first answer.
const OUTPUT_QUEUE: usize = 256;

/// Errors that end `serve` before it could run.
#[derive(Debug)]
pub enum Error {
    /// The stdio loop's wake-up eventfd could not be created.
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
    let (out_tx, out_rx) = smol::channel::bounded(OUTPUT_QUEUE);
    let probe = StdioProbe::new();
    let eof_probe = Arc::clone(&probe);
    let mut stdio = stdio::Stdio::new(
        rustix::stdio::stdin(),
        rustix::stdio::stdout(),
        config.server.max_line_bytes,
        in_tx,
        out_rx,
        Box::new(move || eof_probe.set_draining()),
    )
    .map_err(Error::Start)?;
    // Background threads (`crate::threads`), the signal handlers and the async-io
    // reactor thread they need start once the first answer is out or the loop is
    // idle: `started` closes then.
    let (started_tx, started) = smol::channel::bounded::<()>(1);
    stdio.when_started(Box::new(move || {
        crate::threads::release();
        drop(started_tx);
    }));
    let (stop_tx, stop_rx) = smol::channel::bounded(1);

    let ex = LocalExecutor::new();
    let signal_probe = Arc::clone(&probe);
    let signals_wait = started.clone();
    // Boxed: one instance of the task machinery for the server's own tasks (size).
    ex.spawn(Box::pin(async move {
        let _ = signals_wait.recv().await;
        let signals =
            async_signal::Signals::new([async_signal::Signal::Term, async_signal::Signal::Int]);
        let mut signals = match signals {
            Ok(signals) => signals,
            Err(e) => {
                log::error!(error:% = e; "cannot handle SIGTERM and SIGINT; they end the process without a graceful shutdown");
                return;
            }
        };
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
    }) as BoxedLocal<()>)
    .detach();
    // The error tracker counts into the metrics and watches the exporters, so both
    // exist before the exporters start.
    let metrics = Metrics::from_config(&config);
    let errors = ErrorTracker::new(Arc::clone(&metrics));
    let telemetry = Telemetry::from_config(&config, Some(Arc::clone(&errors)));
    let (obs, push) = observability(&config, &telemetry, &probe, metrics, errors);
    // The executor stamps the stdio probe while it runs (the `stdio` health check).
    ex.spawn(Box::pin(async move {
        probe.tick();
        let _ = started.recv().await;
        loop {
            probe.tick();
            smol::Timer::after(StdioProbe::TICK).await;
        }
    }) as BoxedLocal<_>)
        .detach();
    let health = Arc::clone(&obs.health);
    let server = Server::new(config, out_tx, obs);
    // A request's log record and the end of its span wait until its answer is written.
    server.defer_completions();
    let written = Rc::clone(&server);
    stdio.when_written(Some(Box::new(move || written.complete_written())));
    stdio.block_on(ex.run(server.serve(&ex, in_rx, stop_rx)));
    stdio.when_written(None);
    server.complete_written();
    crate::threads::release();
    // Dropping the executor drops every remaining task, and with them the last
    // senders of the outbox: what they queued is written now.
    drop(server);
    drop(ex);
    let deadline = Instant::now() + FLUSH_DEADLINE;
    stdio.flush(deadline);
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
