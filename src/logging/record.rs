//! One log record as this process writes it: the `log` record's level, target,
//! message and key-value fields, redacted, plus the request context it was
//! emitted in, and its two line formats (JSON, console).

use super::context::LogContext;
use crate::config::LogLevel as Severity;
use crate::redact::{self, REDACTED};
use log::kv::{self, VisitSource};
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The field that marks an error record as `critical` (the `log` crate has no such
/// level); it is taken off the record and shows as its level instead.
pub const CRITICAL_FIELD: &str = "log.critical";

/// Fields a record's list has room for before it grows (ours carry at most eight).
const FIELDS_CAPACITY: usize = 8;

/// A field value, borrowed from the record where possible.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field<'a> {
    /// Text (already redacted).
    Str(Cow<'a, str>),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer beyond `i64`.
    U64(u64),
    /// A float.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl Field<'_> {
    /// A count, typed as the `log` crate's visitor types an unsigned integer: `I64`
    /// while it fits.
    pub(crate) fn count(n: usize) -> Self {
        i64::try_from(n).map_or(Field::U64(n as u64), Field::I64)
    }
}

/// A record ready to be written, forwarded to the client or exported.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    /// Nanoseconds since the Unix epoch.
    pub(crate) unix_nanos: u64,
    /// Severity (`critical` when the record carried [`CRITICAL_FIELD`]).
    pub(crate) level: Severity,
    /// The module that logged it.
    pub(crate) target: &'a str,
    /// The message, redacted.
    pub(crate) message: Cow<'a, str>,
    /// The record's own fields, redacted, in order.
    pub(crate) fields: Vec<(Cow<'a, str>, Field<'a>)>,
    /// The request the record was emitted in.
    pub(crate) context: Option<Arc<LogContext>>,
    /// Whether any of `fields` has a context field's name (then the record's own
    /// value is written and the context's left out).
    shadows_context: bool,
}

/// `CONTEXT_KEYS` and `CONTEXT_JSON_KEYS` from one list of names.
macro_rules! context_keys {
    ($($name:literal),*) => {
        /// The fields a record takes from its request's context ([`Entry::context_fields`]).
        const CONTEXT_KEYS: [&str; 5] = [$($name),*];
        /// [`CONTEXT_KEYS`] as a JSON line writes them, up to the value's opening quote.
        const CONTEXT_JSON_KEYS: [&str; 5] = [$(concat!(",\"", $name, "\":\"")),*];
    };
}
context_keys!(
    "session_id",
    "request_id",
    "trace_id",
    "span_id",
    "conversation_id"
);

impl<'a> Entry<'a> {
    /// Reads `record`: fields under secret keys become `[REDACTED]`, secret-looking
    /// text is cut out of strings and of a formatted message (a message without
    /// arguments is a literal of the program's source, taken as it is).
    pub(crate) fn new(record: &'a log::Record<'a>, context: Option<Arc<LogContext>>) -> Entry<'a> {
        let mut visitor = Visitor {
            // Room for the fields our records carry; counting them first would visit
            // them twice.
            fields: Vec::with_capacity(FIELDS_CAPACITY),
            critical: false,
        };
        let _ = record.key_values().visit(&mut visitor);
        let message = match record.args().as_str() {
            // A message with no arguments is a literal of the program's own source:
            // nothing secret to cut out of it.
            Some(text) => Cow::Borrowed(text),
            None => {
                Cow::Owned(bounded(redact::redact_text(&record.args().to_string())).into_owned())
            }
        };
        let level = match record.level() {
            log::Level::Error if visitor.critical => Severity::Critical,
            level => severity(level),
        };
        let shadows_context = visitor
            .fields
            .iter()
            .any(|(key, _)| CONTEXT_KEYS.contains(&key.as_ref()));
        Entry {
            unix_nanos: now_unix_nanos(),
            level,
            target: record.target(),
            message,
            fields: visitor.fields,
            context,
            shadows_context,
        }
    }

    /// A record of our own with a literal message and typed fields under literal
    /// keys (nothing secret in either, and no context field's name); secret-looking
    /// text is cut out of its string fields, as [`Entry::new`] does.
    pub(crate) fn literal(
        level: log::Level,
        target: &'a str,
        message: &'static str,
        mut fields: Vec<(Cow<'a, str>, Field<'a>)>,
        context: Option<Arc<LogContext>>,
    ) -> Entry<'a> {
        for (_, field) in &mut fields {
            if let Field::Str(text) = field {
                if let Cow::Owned(clean) = redact::redact_text(text) {
                    *text = Cow::Owned(clean);
                }
                *text = bounded(std::mem::take(text));
            }
        }
        debug_assert!(
            !fields
                .iter()
                .any(|(key, _)| CONTEXT_KEYS.contains(&key.as_ref())),
            "a literal record's own field hides its context"
        );
        Entry {
            unix_nanos: now_unix_nanos(),
            level: severity(level),
            target,
            message: Cow::Borrowed(message),
            fields,
            context,
            shadows_context: false,
        }
    }

    /// The context fields not already set by the record itself: `session_id`,
    /// `request_id`, `trace_id`, `span_id`, `conversation_id`. Borrowed: no allocation.
    pub(crate) fn context_fields(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.context_values()
            .map(|(at, value)| (CONTEXT_KEYS[at], value))
    }

    /// [`Entry::context_fields`] by their place in [`CONTEXT_KEYS`].
    fn context_values(&self) -> impl Iterator<Item = (usize, &str)> + '_ {
        let values = match &self.context {
            None => [None, None, None, None, None],
            Some(ctx) => {
                let trace = ctx.trace_hex();
                [
                    Some(ctx.session_id.as_str()),
                    Some(ctx.request_id.as_str()),
                    trace.map(|(trace, _)| trace),
                    trace.map(|(_, span)| span),
                    ctx.conversation_id(),
                ]
            }
        };
        values
            .into_iter()
            .enumerate()
            .filter_map(|(at, value)| Some((at, value?)))
            .filter(move |&(at, value)| {
                let shadowed =
                    self.shadows_context && self.fields.iter().any(|(k, _)| k == CONTEXT_KEYS[at]);
                !value.is_empty() && !shadowed
            })
    }

    /// One JSON object and a newline: `timestamp`, `level`, `logger`, `message`, the
    /// record's fields, then the context fields.
    #[cfg(test)]
    pub(crate) fn json_line(&self) -> String {
        let mut line = String::with_capacity(160 + self.message.len() + 24 * self.fields.len());
        self.write_json(&mut line);
        line
    }

    /// [`Entry::json_line`] appended to `line`.
    pub(crate) fn write_json(&self, line: &mut String) {
        // Written in as few pieces as the escapes allow: at opt-level "z" each
        // piece is a call, and a record is about forty of them.
        line.push_str("{\"timestamp\":\"");
        write_rfc3339(line, self.unix_nanos);
        line.push_str("\",\"level\":\"");
        line.push_str(level_name(self.level));
        line.push_str("\",\"logger\":\"");
        json_text(line, self.target);
        line.push_str("\",\"message\":\"");
        json_text(line, &self.message);
        line.push('"');
        for (key, value) in &self.fields {
            line.push_str(",\"");
            json_text(line, key);
            line.push_str("\":");
            json_field(line, value);
        }
        // The context keys are our own names: nothing in them to escape.
        for (at, value) in self.context_values() {
            line.push_str(CONTEXT_JSON_KEYS[at]);
            json_text(line, value);
            line.push('"');
        }
        line.push_str("}\n");
    }

    /// One readable line: `time LEVEL logger: message key=value ...`.
    #[cfg(test)]
    pub(crate) fn console_line(&self) -> String {
        let mut line = String::with_capacity(120 + self.message.len());
        self.write_console(&mut line);
        line
    }

    /// [`Entry::console_line`] appended to `line`.
    pub(crate) fn write_console(&self, line: &mut String) {
        write_rfc3339(line, self.unix_nanos);
        let _ = write!(
            line,
            " {:<8} {}: {}",
            level_name(self.level).to_uppercase(),
            self.target,
            self.message.replace('\n', "\\n")
        );
        for (key, value) in &self.fields {
            let _ = match value {
                Field::Str(s) => write!(line, " {key}={s:?}"),
                Field::I64(i) => write!(line, " {key}={i}"),
                Field::U64(u) => write!(line, " {key}={u}"),
                Field::F64(f) => write!(line, " {key}={f}"),
                Field::Bool(b) => write!(line, " {key}={b}"),
            };
        }
        for (key, value) in self.context_fields() {
            let _ = write!(line, " {key}={value}");
        }
        line.push('\n');
    }
}

fn severity(level: log::Level) -> Severity {
    match level {
        log::Level::Error => Severity::Error,
        log::Level::Warn => Severity::Warning,
        log::Level::Info => Severity::Info,
        log::Level::Debug => Severity::Debug,
        log::Level::Trace => Severity::Trace,
    }
}

fn now_unix_nanos() -> u64 {
    unix_nanos(SystemTime::now())
}

fn unix_nanos(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The `level` written for a severity (lower case, as the MCP levels are).
pub(crate) fn level_name(level: Severity) -> &'static str {
    match level {
        Severity::Trace => "trace",
        Severity::Debug => "debug",
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Error => "error",
        Severity::Critical => "critical",
    }
}

struct Visitor<'a> {
    fields: Vec<(Cow<'a, str>, Field<'a>)>,
    critical: bool,
}

impl<'kvs> VisitSource<'kvs> for Visitor<'kvs> {
    fn visit_pair(&mut self, key: kv::Key<'kvs>, value: kv::Value<'kvs>) -> Result<(), kv::Error> {
        let key = match key.to_borrowed_str() {
            Some(key) => Cow::Borrowed(key),
            None => Cow::Owned(key.as_str().to_string()),
        };
        if key == CRITICAL_FIELD {
            self.critical = value.to_bool().unwrap_or(false);
            return Ok(());
        }
        let field = if redact::is_secret_key(&key) {
            Field::Str(Cow::Borrowed(REDACTED))
        } else if let Some(b) = value.to_bool() {
            Field::Bool(b)
        } else if let Some(i) = value.to_i64() {
            Field::I64(i)
        } else if let Some(u) = value.to_u64() {
            Field::U64(u)
        } else if let Some(f) = value.to_f64() {
            Field::F64(f)
        } else if let Some(s) = value.to_borrowed_str() {
            Field::Str(bounded(redact::redact_text(s)))
        } else {
            Field::Str(Cow::Owned(
                bounded(redact::redact_text(&value.to_string())).into_owned(),
            ))
        };
        self.fields.push((key, field));
        Ok(())
    }
}

/// Longest string field or formatted message a record keeps, in bytes; longer text
/// is cut with a note of its size. Client text is clipped where it is logged
/// (`jsonrpc::clip`); this holds for a place that forgot. Roomy enough for the
/// operator's own text (the start record lists every changed setting).
const MAX_TEXT: usize = 16 * 1024;

/// `text` cut to [`MAX_TEXT`].
fn bounded(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.len() > MAX_TEXT {
        Cow::Owned(redact::truncate(&text, MAX_TEXT).into_owned())
    } else {
        text
    }
}

fn json_field(out: &mut String, value: &Field<'_>) {
    let _ = match value {
        Field::Str(s) => {
            json_string(out, s);
            Ok(())
        }
        Field::I64(i) => write!(out, "{i}"),
        Field::U64(u) => write!(out, "{u}"),
        Field::F64(f) if f.is_finite() => {
            write_float(out, *f);
            Ok(())
        }
        Field::F64(_) => {
            out.push_str("null");
            Ok(())
        }
        Field::Bool(b) => write!(out, "{b}"),
    };
}

/// Writes finite `f` as `Display` does (the shortest decimal that reads back as
/// `f`), without the formatter for the values our records carry most: durations in
/// milliseconds with whole nanoseconds (`0.012399`), which are written from their
/// digits. For such a value below 10^9 those digits are the shortest decimal: another
/// decimal of at most six places is at least 10^-6 away, more than half the gap
/// between two doubles there.
fn write_float(out: &mut String, f: f64) {
    let micros = (f.abs() * 1e6).round();
    if f.abs() >= 1e9 || micros / 1e6 != f.abs() {
        let _ = write!(out, "{f}");
        return;
    }
    let micros = micros as u64;
    if f.is_sign_negative() {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let whole = crate::bytes::decimal(micros / 1_000_000, &mut digits);
    out.push_str(whole);
    let mut fraction = micros % 1_000_000;
    if fraction != 0 {
        let mut places = 6;
        while fraction.is_multiple_of(10) {
            fraction /= 10;
            places -= 1;
        }
        let mut text = *b".000000";
        set_digits(&mut text[1..=places], fraction);
        out.push_str(std::str::from_utf8(&text[..=places]).unwrap_or_default());
    }
}

/// Writes `s` as a JSON string, with the escapes of [`crate::json::escape`].
pub(crate) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    json_text(out, s);
    out.push('"');
}

/// The inside of [`json_string`]: `s` escaped, without quotes.
fn json_text(out: &mut String, mut s: &str) {
    // Most text needs no escape: found out eight bytes at a time, then copied whole.
    while let Some(at) = crate::json::first_to_escape(s.as_bytes()) {
        out.push_str(&s[..at]);
        out.push_str(crate::json::escape(s.as_bytes()[at]).as_str());
        s = &s[at + 1..];
    }
    out.push_str(s);
}

/// Now as RFC 3339 UTC with milliseconds, e.g. `2026-11-25T04:10:59.123Z`.
pub fn rfc3339_now() -> String {
    rfc3339_at(SystemTime::now())
}

/// `at` as RFC 3339 UTC with milliseconds (the health report's times).
pub fn rfc3339_at(at: SystemTime) -> String {
    let mut out = String::with_capacity(24);
    write_rfc3339(&mut out, unix_nanos(at));
    out
}

fn write_rfc3339(out: &mut String, unix_nanos: u64) {
    // The calendar part changes once a second: worked out once per second and thread.
    thread_local! {
        static SECOND: Cell<(u64, [u8; 24])> = const { Cell::new((u64::MAX, [0; 24])) };
    }
    let secs = unix_nanos / 1_000_000_000;
    let mut text = match SECOND.get() {
        (cached, text) if cached == secs => text,
        _ => {
            let text = calendar(secs);
            SECOND.set((secs, text));
            text
        }
    };
    set_digits(&mut text[20..23], unix_nanos % 1_000_000_000 / 1_000_000);
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// `secs` since the epoch as `YYYY-MM-DDTHH:MM:SS.000Z`.
fn calendar(secs: u64) -> [u8; 24] {
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
    // Digits set by hand in a fixed buffer: `write!` would cost more than the rest
    // of a record, and a push per character about as much.
    let year = year.clamp(0, 9999) as u64;
    let mut text = *b"0000-00-00T00:00:00.000Z";
    set_digits(&mut text[0..4], year);
    set_digits(&mut text[5..7], month as u64);
    set_digits(&mut text[8..10], day as u64);
    set_digits(&mut text[11..13], rem / 3600);
    set_digits(&mut text[14..16], rem % 3600 / 60);
    set_digits(&mut text[17..19], rem % 60);
    text
}

/// Fills `to` with the last `to.len()` decimal digits of `n`, zero-padded.
fn set_digits(to: &mut [u8], mut n: u64) {
    for digit in to.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::model::{SpanId, TraceId};
    use serde_json::Value;

    #[test]
    fn json_strings_escape_at_every_position_around_the_eight_byte_scan() {
        for special in [
            '"', '\\', '\n', '\r', '\t', '\u{1}', '\u{1f}', 'é', ' ', '\u{7f}',
        ] {
            for len in 0..20 {
                for at in 0..=len {
                    let mut text: String = "abcdefghijklmnopqrstu"[..len].into();
                    text.insert(at, special);
                    let mut out = String::new();
                    json_string(&mut out, &text);
                    let back: String = serde_json::from_str(&out)
                        .unwrap_or_else(|e| panic!("{out:?} is not a JSON string: {e}"));
                    assert_eq!(back, text, "{special:?} at {at} of {len}: round trip");
                    assert!(
                        !out.bytes().any(|b| b < 0x20),
                        "{special:?} at {at} of {len}: no raw control byte in {out:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn literal_records_cut_secrets_out_of_their_strings() {
        let entry = Entry::literal(
            log::Level::Error,
            "tfo_mcp::test",
            "MCP request failed",
            vec![
                (
                    Cow::Borrowed("mcp_method"),
                    Field::Str(Cow::Borrowed("tools/call")),
                ),
                (Cow::Borrowed("duration_ms"), Field::F64(0.0125)),
                (
                    Cow::Borrowed("error"),
                    Field::Str(Cow::Borrowed("bad key sk-ant-api03-abcdefghijklmnop")),
                ),
            ],
            None,
        );
        let line = entry.json_line();
        let v: Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(v["level"], "error");
        assert_eq!(v["message"], "MCP request failed");
        assert_eq!(v["mcp_method"], "tools/call");
        assert_eq!(line.matches("\"duration_ms\":0.0125,").count(), 1, "{line}");
        assert_eq!(v["error"], "bad key [REDACTED]", "the secret is cut out");
    }

    #[test]
    fn long_fields_and_messages_are_cut() {
        let long = "é".repeat(10_000);
        let literal = Entry::literal(
            log::Level::Info,
            "tfo_mcp::test",
            "literal",
            vec![(Cow::Borrowed("text"), Field::Str(Cow::Borrowed(&long)))],
            None,
        );
        let kvs: [(&str, log::kv::Value<'_>); 1] = [("text", long.as_str().into())];
        let args = format_args!("message {long}");
        let record = log::Record::builder()
            .args(args)
            .level(log::Level::Info)
            .target("tfo_mcp::test")
            .key_values(&kvs)
            .build();
        let visited = Entry::new(&record, None);
        for line in [literal.json_line(), visited.json_line()] {
            let v: Value = serde_json::from_str(&line).expect("valid JSON");
            let text = v["text"].as_str().expect("text");
            assert!(
                text.len() < MAX_TEXT + 32 && text.ends_with("(20000 bytes)"),
                "{text}"
            );
            let message = v["message"].as_str().expect("message");
            assert!(message.len() < MAX_TEXT + 32, "{} bytes", message.len());
        }
    }

    #[test]
    fn context_keys_are_written_as_their_names() {
        for (key, piece) in CONTEXT_KEYS.iter().zip(CONTEXT_JSON_KEYS) {
            assert_eq!(piece, format!(",\"{key}\":\""), "the JSON key of {key}");
        }
    }

    #[test]
    fn floats_are_written_as_display_writes_them() {
        let mut values = vec![
            0.0,
            -0.0,
            0.1,
            1.0 / 3.0,
            1e-7,
            2.5,
            -3.25,
            1e300,
            f64::MIN_POSITIVE,
            999_999_999.999_999,
            1e9,
            4_503_599_627.370_496,
        ];
        // Durations in milliseconds from whole nanoseconds, as `duration_ms` is made.
        let mut nanos: u64 = 1;
        while nanos < 1 << 62 {
            for n in [nanos - 1, nanos, nanos + 1, nanos * 7 / 3] {
                values.push(n as f64 / 1e6);
                values.push(-(n as f64) / 1e6);
            }
            nanos = nanos * 3 + 1;
        }
        for f in values {
            let mut out = String::new();
            write_float(&mut out, f);
            assert_eq!(out, f.to_string(), "{f:e}");
        }
    }

    #[test]
    fn rfc3339_at_calendar_edges() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000Z"),
            (951_782_400, 5, "2000-02-29T00:00:00.005Z"),
            (1_709_251_199, 999, "2024-02-29T23:59:59.999Z"),
            // The same second again (the cached calendar part), the next, and back.
            (1_709_251_199, 5, "2024-02-29T23:59:59.005Z"),
            (1_709_251_200, 0, "2024-03-01T00:00:00.000Z"),
            (1_709_251_199, 10, "2024-02-29T23:59:59.010Z"),
            (1_795_576_259, 123, "2026-11-25T03:10:59.123Z"),
        ];
        for (secs, millis, want) in cases {
            let mut out = String::new();
            write_rfc3339(&mut out, secs * 1_000_000_000 + millis * 1_000_000 + 999);
            assert_eq!(out, want, "{secs}s");
        }
    }

    #[test]
    fn json_lines_are_one_object_with_fields_context_and_redaction() {
        let kvs: [(&str, kv::Value<'_>); 6] = [
            ("duration_ms", 12.into()),
            ("ok", true.into()),
            ("api_key", "sk-ant-secret123".into()),
            ("note", "Bearer abcdefgh1 here".into()),
            ("request_id", "explicit".into()),
            (CRITICAL_FIELD, true.into()),
        ];
        let record = log::Record::builder()
            .args(format_args!("hello \"x\"\nnext\u{1}"))
            .level(log::Level::Error)
            .target("tfo_mcp::test")
            .key_values(&kvs)
            .build();
        let context = LogContext::new(
            "s-1".into(),
            "7".into(),
            Some((TraceId([0xab; 16]), SpanId([0xcd; 8]))),
        );
        context.set_conversation_id("conv-1");
        let entry = Entry::new(&record, Some(Arc::new(context)));
        let line = entry.json_line();
        assert!(
            line.ends_with('\n') && line.matches('\n').count() == 1,
            "one line: {line}"
        );
        assert!(
            line.starts_with("{\"timestamp\":\""),
            "timestamp first: {line}"
        );
        let v: Value = serde_json::from_str(&line).expect("valid JSON");
        let mut keys: Vec<(usize, &str)> = v
            .as_object()
            .expect("object")
            .keys()
            .map(|k| {
                (
                    line.find(&format!("\"{k}\":")).expect("key in line"),
                    k.as_str(),
                )
            })
            .collect();
        keys.sort_unstable();
        let keys: Vec<&str> = keys.into_iter().map(|(_, k)| k).collect();
        assert_eq!(
            keys,
            [
                "timestamp",
                "level",
                "logger",
                "message",
                "duration_ms",
                "ok",
                "api_key",
                "note",
                "request_id",
                "session_id",
                "trace_id",
                "span_id",
                "conversation_id"
            ],
            "field order, the record's own request_id wins over the context's"
        );
        assert_eq!(
            v["level"], "critical",
            "the critical marker becomes the level"
        );
        assert_eq!(v["logger"], "tfo_mcp::test");
        assert_eq!(v["message"], "hello \"x\"\nnext\u{1}");
        assert_eq!(v["duration_ms"], 12);
        assert_eq!(v["ok"], true);
        assert_eq!(v["api_key"], REDACTED);
        assert_eq!(v["note"], "Bearer [REDACTED] here");
        assert_eq!(v["request_id"], "explicit");
        assert_eq!(v["session_id"], "s-1");
        assert_eq!(v["trace_id"], "ab".repeat(16));
        assert_eq!(v["span_id"], "cd".repeat(8));
        assert_eq!(v["conversation_id"], "conv-1");
        let console = entry.console_line();
        assert!(
            console.contains(" CRITICAL ")
                && console.contains("tfo_mcp::test: hello")
                && console.contains("api_key=\"[REDACTED]\"")
                && !console.contains("secret123")
                && console.ends_with('\n')
                && console.matches('\n').count() == 1,
            "console line: {console}"
        );
    }
}
