//! The process's one `log::Log` and what the spec's "Structured Logging", "Error
//! Tracking" and "Performance Monitoring" sections build on it.
//!
//! ```text
//!  log::info!(k = v; "...") ─► level filter (log::max_level, no formatting)
//!        │  + request context of the task (session, request, trace, span ids)
//!        ▼  + redaction (secret keys, secret-looking text)
//!      Entry ─┬─► JSON / console line ─► bounded queue ─► writer thread ─► stderr | file (rotated)
//!             ├─► OTLP LogRecord ─► bounded queue ─► export thread ─► {endpoint}/v1/logs (opt-in)
//!             └─► client record ─► bounded queue ─► server ─► notifications/message (after setLevel)
//! ```
//!
//! Nothing here blocks the caller: every queue is bounded and drops (counting)
//! when full, so a full disk or a closed stderr never stalls or stops the server.
//! stdout is never written: it carries the protocol (`main` refuses it).

mod client;
mod context;
mod errors;
mod events;
mod export;
mod record;
mod slow;
mod writer;

pub use client::{ClientRecord, client_records, forward_to_client};
pub use context::{
    InContext, LogContext, current as current_context, in_context, scope, set_conversation_id,
    unblock,
};
pub use errors::{
    AUTHENTICATION_ERROR, BACKEND_ERROR, ErrorSummary, ErrorTracker, OUT_OF_MEMORY_ERROR,
    RESOURCE_EXHAUSTED_ERROR,
};
pub use events::{MAX_PARAMS, request_finished, request_received, starting, stopped};
pub use record::{CRITICAL_FIELD, rfc3339_at, rfc3339_now};
pub use slow::PerformanceMonitor;

use crate::config::{Config, LogFormat, LogLevel as Severity, LogOutput};
use export::LogExport;
use record::{Entry, Field};
use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use writer::{Output, RotatingFile, Writer};

/// How long `log::logger().flush()` waits for the writer thread at most.
const FLUSH_WAIT: Duration = Duration::from_secs(2);

/// Errors starting the logger.
#[derive(Debug)]
pub enum Error {
    /// The log file could not be opened.
    Open(std::path::PathBuf, io::Error),
    /// `stdout` was asked for: it carries the protocol.
    Stdout,
    /// The writer thread could not be started.
    Thread(io::Error),
    /// A logger was already installed.
    AlreadySet,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Open(path, e) => write!(f, "logging: cannot open {}: {e}", path.display()),
            Error::Stdout => f.write_str(
                "logging: stdout carries the MCP protocol; log to stderr or a file instead",
            ),
            Error::Thread(e) => write!(f, "logging: cannot start the writer thread: {e}"),
            Error::AlreadySet => f.write_str("logging: a logger is already installed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Open(_, e) | Error::Thread(e) => Some(e),
            Error::Stdout | Error::AlreadySet => None,
        }
    }
}

struct Logger {
    format: LogFormat,
    /// The configured level: records below it are not written or exported.
    level: Severity,
    /// `level` as a `log` filter (CRITICAL lets errors through, to be told apart later).
    filter: log::LevelFilter,
    writer: Writer,
    otlp: Option<LogExport>,
}

static LOGGER: OnceLock<Logger> = OnceLock::new();

/// What the logger dropped or failed to write (self-observability, for `/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogStats {
    /// Lines dropped because the writer queue was full.
    pub dropped: u64,
    /// Writes to the log output that failed (disk full, closed stderr).
    pub write_errors: u64,
    /// Records for the client dropped because its queue was full.
    pub client_dropped: u64,
    /// Records for OTLP dropped (queue full or after shutdown).
    pub otlp_dropped: u64,
    /// Records the OTLP collector accepted.
    pub otlp_exported: u64,
}

/// The logger's counters; all zero before [`init`].
pub fn stats() -> LogStats {
    let mut stats = LogStats {
        client_dropped: client::DROPPED.load(Ordering::Relaxed),
        ..LogStats::default()
    };
    if let Some(logger) = LOGGER.get() {
        stats.dropped = logger.writer.counters.dropped.load(Ordering::Relaxed);
        stats.write_errors = logger.writer.counters.write_errors.load(Ordering::Relaxed);
        if let Some(otlp) = &logger.otlp {
            stats.otlp_dropped = otlp.stats.dropped_queue_full.get()
                + otlp.stats.dropped_shutdown.get()
                + otlp.stats.failed.get();
            stats.otlp_exported = otlp.stats.exported.get();
        }
    }
    stats
}

/// The installed logger; shut it down once serving is over.
#[derive(Debug)]
pub struct Logging(());

impl Logging {
    /// Exports the OTLP records still queued and writes every queued line, until `deadline`.
    pub fn shutdown(&self, deadline: Instant) {
        if let Some(logger) = LOGGER.get() {
            if let Some(otlp) = &logger.otlp {
                otlp.shutdown(deadline);
            }
            logger.writer.flush(deadline);
        }
    }
}

/// Installs the logger for `config`: format, level, output (stderr or a file,
/// created 0600 and rotated as configured) and the optional OTLP log export.
pub fn init(config: &Config) -> Result<Logging, Error> {
    let logging = &config.telemetry.logging;
    let output = match &logging.output {
        LogOutput::Stderr => Output::Stderr,
        LogOutput::Stdout => return Err(Error::Stdout),
        LogOutput::File(path) => Output::File(
            RotatingFile::open(path, logging.file_max_bytes, logging.file_keep)
                .map_err(|e| Error::Open(path.clone(), e))?,
        ),
    };
    if LOGGER.get().is_some() {
        return Err(Error::AlreadySet);
    }
    let logger = Logger {
        format: logging.format,
        level: logging.level,
        filter: level_filter(logging.level),
        writer: Writer::start(output).map_err(Error::Thread)?,
        otlp: LogExport::start(config),
    };
    if LOGGER.set(logger).is_err() {
        return Err(Error::AlreadySet);
    }
    let logger = LOGGER.get().ok_or(Error::AlreadySet)?;
    log::set_logger(logger).map_err(|_| Error::AlreadySet)?;
    update_max_level();
    Ok(Logging(()))
}

/// The `log` filter: the more verbose of the configured level and the client's.
fn update_max_level() {
    let configured = LOGGER.get().map_or(log::LevelFilter::Off, |l| l.filter);
    log::set_max_level(configured.max(client::level_filter()));
}

fn level_filter(level: Severity) -> log::LevelFilter {
    match level {
        Severity::Trace => log::LevelFilter::Trace,
        Severity::Debug => log::LevelFilter::Debug,
        Severity::Info => log::LevelFilter::Info,
        Severity::Warning => log::LevelFilter::Warn,
        Severity::Error | Severity::Critical => log::LevelFilter::Error,
    }
}

/// Writes one line (a newline is added) to the log output: the writer queue, or
/// stderr before the logger is installed. Never stdout.
pub fn write_line(line: &str) {
    match LOGGER.get() {
        Some(logger) => logger.writer.push_with(|text| {
            text.push_str(line);
            text.push('\n');
        }),
        None => {
            // A failing stderr must never take the server down.
            let mut err = io::stderr().lock();
            let _ = err
                .write_all(line.as_bytes())
                .and_then(|()| err.write_all(b"\n"));
        }
    }
}

/// Emits one record whose fields are known only at run time (`log`'s macros
/// want them spelled out). Filtered by level first, like the macros.
pub fn emit(
    level: log::Level,
    target: &str,
    message: std::fmt::Arguments<'_>,
    fields: &[(&str, log::kv::Value<'_>)],
) {
    if level > log::max_level() {
        return;
    }
    log::logger().log(
        &log::Record::builder()
            .level(level)
            .target(target)
            .args(message)
            .key_values(&fields)
            .build(),
    );
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.wants(record.level()) {
            self.deliver(&Entry::new(record, context::current()));
        }
    }

    fn flush(&self) {
        self.writer.flush(Instant::now() + FLUSH_WAIT);
    }
}

impl Logger {
    /// Whether a record at `level` goes anywhere: the output or the client.
    fn wants(&self, level: log::Level) -> bool {
        level <= self.filter || level <= client::level_filter()
    }

    /// Writes `entry` to the output (and OTLP) and offers it to the client, each
    /// when its level lets it through.
    fn deliver(&self, entry: &Entry<'_>) {
        let level = level_filter(entry.level);
        let to_output = level <= self.filter;
        let to_client = level <= client::level_filter();
        if to_output && entry.level >= self.level {
            self.writer.push_with(|text| match self.format {
                LogFormat::Json => entry.write_json(text),
                LogFormat::Console => entry.write_console(text),
            });
            if let Some(otlp) = &self.otlp {
                otlp.offer(entry);
            }
        }
        if to_client {
            client::offer(entry);
        }
    }
}

/// Emits one record of ours whose message is a literal and whose fields are
/// already typed, without the `log` crate's formatting and key-value visits (the
/// completion record of every request: about a sixth of its cost went there).
/// Filtered, redacted (string fields) and delivered as a `log` record would be.
pub(crate) fn emit_entry<'a>(
    level: log::Level,
    target: &'static str,
    message: &'static str,
    fields: impl FnOnce() -> Vec<(Cow<'a, str>, Field<'a>)>,
) {
    // `max_level` is the more verbose of the output's and the client's levels
    // (`update_max_level`): what passes it goes somewhere.
    if level > log::max_level() {
        return;
    }
    if let Some(logger) = LOGGER.get() {
        logger.deliver(&Entry::literal(
            level,
            target,
            message,
            fields(),
            context::current(),
        ));
    }
}
