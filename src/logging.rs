//! The process's one `log::Log`: JSON (default) or console lines on stderr or a
//! file, never stdout while stdout carries the protocol, and a bounded side
//! channel of records for the client's `notifications/message` when the client
//! asked for them (`logging/setLevel`).

use crate::config::{LogFormat, LogLevel as ConfigLevel, LogOutput, LoggingConfig};
use crate::mcp::LogLevel;
use log::kv::{self, VisitSource};
use serde_json::{Map, Value, json};
use smol::channel::{Receiver, Sender};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// A log record on its way to the client as `notifications/message`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    /// Severity.
    pub level: LogLevel,
    /// The module that logged it.
    pub logger: String,
    /// `{message, ...fields}`.
    pub data: Value,
}

/// Records waiting to be forwarded; bounded, new ones are dropped when full.
const CLIENT_QUEUE: usize = 256;
/// `u8::MAX`: forward nothing.
static CLIENT_LEVEL: AtomicU8 = AtomicU8::new(u8::MAX);
/// The sending end, and the receiving end until the server takes it.
type ClientChannel = (Sender<ClientRecord>, Mutex<Option<Receiver<ClientRecord>>>);
static CLIENT_CHANNEL: OnceLock<ClientChannel> = OnceLock::new();

fn client_channel() -> &'static ClientChannel {
    CLIENT_CHANNEL.get_or_init(|| {
        let (tx, rx) = smol::channel::bounded(CLIENT_QUEUE);
        (tx, Mutex::new(Some(rx)))
    })
}

/// The receiving end of forwarded records; only the first caller gets it.
pub fn client_records() -> Option<Receiver<ClientRecord>> {
    client_channel().1.lock().ok()?.take()
}

/// Starts (or with `None` stops) forwarding records at or above `level` to the client.
pub fn forward_to_client(level: Option<LogLevel>) {
    let value = level.map_or(u8::MAX, |l| {
        LogLevel::ALL.iter().position(|x| *x == l).unwrap_or(0) as u8
    });
    CLIENT_LEVEL.store(value, Ordering::Relaxed);
}

/// Errors starting the logger.
#[derive(Debug)]
pub enum Error {
    /// The log file could not be opened.
    Open(std::path::PathBuf, io::Error),
    /// A logger was already installed.
    AlreadySet,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Open(path, e) => write!(f, "logging: cannot open {}: {e}", path.display()),
            Error::AlreadySet => f.write_str("logging: a logger is already installed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Open(_, e) => Some(e),
            Error::AlreadySet => None,
        }
    }
}

struct Logger {
    format: LogFormat,
}

/// Where log lines go; shared with the console span exporter.
static SINK: OnceLock<Mutex<Box<dyn Write + Send>>> = OnceLock::new();

/// Writes one line (a newline is added) to the log output: the configured sink,
/// or stderr before the logger is installed. Never stdout in stdio mode.
pub fn write_line(line: &str) {
    let mut text = String::with_capacity(line.len() + 1);
    text.push_str(line);
    text.push('\n');
    write_raw(&text);
}

fn write_raw(text: &str) {
    match SINK.get() {
        Some(sink) => {
            if let Ok(mut out) = sink.lock() {
                // A failing log sink must never take the server down.
                let _ = out.write_all(text.as_bytes());
            }
        }
        None => {
            let _ = io::stderr().write_all(text.as_bytes());
        }
    }
}

/// Installs the logger for `config`. `stdout` is the caller's to refuse in stdio mode.
pub fn init(config: &LoggingConfig) -> Result<(), Error> {
    let out: Box<dyn Write + Send> = match &config.output {
        LogOutput::Stderr => Box::new(io::stderr()),
        LogOutput::Stdout => Box::new(io::stdout()),
        LogOutput::File(path) => Box::new(
            OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| Error::Open(path.clone(), e))?,
        ),
    };
    if SINK.set(Mutex::new(out)).is_err() {
        return Err(Error::AlreadySet);
    }
    let logger = Logger {
        format: config.format,
    };
    log::set_boxed_logger(Box::new(logger)).map_err(|_| Error::AlreadySet)?;
    log::set_max_level(level_filter(config.level));
    Ok(())
}

fn level_filter(level: ConfigLevel) -> log::LevelFilter {
    match level {
        ConfigLevel::Trace => log::LevelFilter::Trace,
        ConfigLevel::Debug => log::LevelFilter::Debug,
        ConfigLevel::Info => log::LevelFilter::Info,
        ConfigLevel::Warning => log::LevelFilter::Warn,
        ConfigLevel::Error | ConfigLevel::Critical => log::LevelFilter::Error,
    }
}

fn level_name(level: log::Level) -> &'static str {
    match level {
        log::Level::Error => "error",
        log::Level::Warn => "warning",
        log::Level::Info => "info",
        log::Level::Debug => "debug",
        log::Level::Trace => "trace",
    }
}

impl log::Log for Logger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut fields = Fields(Map::new());
        let _ = record.key_values().visit(&mut fields);
        let message = record.args().to_string();
        let line = match self.format {
            LogFormat::Json => json_line(record, &message, &fields.0),
            LogFormat::Console => console_line(record, &message, &fields.0),
        };
        write_raw(&line);
        let level = LogLevel::from_log(record.level());
        let wanted = CLIENT_LEVEL.load(Ordering::Relaxed);
        if (LogLevel::ALL.iter().position(|l| *l == level).unwrap_or(0) as u8) >= wanted {
            let mut data = fields.0;
            data.insert("message".into(), Value::String(message));
            let _ = client_channel().0.try_send(ClientRecord {
                level,
                logger: record.target().to_string(),
                data: Value::Object(data),
            });
        }
    }

    fn flush(&self) {
        if let Some(Ok(mut out)) = SINK.get().map(Mutex::lock) {
            let _ = out.flush();
        }
    }
}

struct Fields(Map<String, Value>);

impl<'kvs> VisitSource<'kvs> for Fields {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let json = if let Some(b) = value.to_bool() {
            json!(b)
        } else if let Some(i) = value.to_i64() {
            json!(i)
        } else if let Some(u) = value.to_u64() {
            json!(u)
        } else if let Some(f) = value.to_f64() {
            json!(f)
        } else {
            Value::String(value.to_string())
        };
        self.0.insert(key.as_str().to_string(), json);
        Ok(())
    }
}

fn json_line(record: &log::Record<'_>, message: &str, fields: &Map<String, Value>) -> String {
    let mut line = format!(
        "{{\"timestamp\":\"{}\",\"level\":\"{}\",\"logger\":{},\"message\":{}",
        rfc3339_now(),
        level_name(record.level()),
        Value::String(record.target().to_string()),
        Value::String(message.to_string()),
    );
    for (key, value) in fields {
        line.push(',');
        line.push_str(&Value::String(key.clone()).to_string());
        line.push(':');
        line.push_str(&value.to_string());
    }
    line.push_str("}\n");
    line
}

fn console_line(record: &log::Record<'_>, message: &str, fields: &Map<String, Value>) -> String {
    let mut line = format!(
        "{} {:<8} {}: {}",
        rfc3339_now(),
        level_name(record.level()).to_uppercase(),
        record.target(),
        message.replace('\n', "\\n")
    );
    for (key, value) in fields {
        match value {
            Value::String(s) => line.push_str(&format!(" {key}={s:?}")),
            other => line.push_str(&format!(" {key}={other}")),
        }
    }
    line.push('\n');
    line
}

/// Now as RFC 3339 UTC with milliseconds, e.g. `2026-11-25T04:10:59.123Z`.
pub fn rfc3339_now() -> String {
    rfc3339_at(SystemTime::now())
}

/// `at` as RFC 3339 UTC with milliseconds (the health report's times).
pub fn rfc3339_at(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    rfc3339(since.as_secs(), since.subsec_millis())
}

fn rfc3339(secs: u64, millis: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_at_calendar_edges() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000Z"),
            (951_782_400, 5, "2000-02-29T00:00:00.005Z"),
            (1_709_251_199, 999, "2024-02-29T23:59:59.999Z"),
            (1_795_576_259, 123, "2026-11-25T03:10:59.123Z"),
        ];
        for (secs, millis, want) in cases {
            assert_eq!(rfc3339(secs, millis), want, "{secs}s");
        }
    }

    #[test]
    fn json_lines_are_one_object_with_fields() {
        let record = log::Record::builder()
            .args(format_args!("hello \"x\"\nnext"))
            .level(log::Level::Warn)
            .target("tfo_mcp::test")
            .build();
        let mut fields = Map::new();
        fields.insert("duration_ms".into(), json!(12));
        let line = json_line(&record, &record.args().to_string(), &fields);
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "one line: {line}"
        );
        let v: Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["level"], "warning");
        assert_eq!(v["logger"], "tfo_mcp::test");
        assert_eq!(v["message"], "hello \"x\"\nnext");
        assert_eq!(v["duration_ms"], 12);
    }
}
