//! The side channel of records to the client's `notifications/message`: after
//! `logging/setLevel`, records at or above the client's level are put on a
//! bounded queue that the server drains into its (rate-limited) notifier.
//! Records about notifying itself are never forwarded, so a notification can
//! not cause another one.

use super::record::{Entry, Field};
use crate::config::LogLevel as Severity;
use crate::mcp::LogLevel;
use serde_json::{Map, Number, Value};
use smol::channel::{Receiver, Sender};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// A log record on its way to the client as `notifications/message`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    /// Severity.
    pub level: LogLevel,
    /// The module that logged it.
    pub logger: String,
    /// `{message, ...fields, ...context}`, redacted.
    pub data: Value,
}

/// Records waiting to be forwarded; new ones are dropped beyond this. The bound is
/// checked before sending on an unbounded channel, so two threads can both pass it
/// at once: the queue holds at most this plus one per logging thread. A bounded
/// channel would write all its slots at start (12 KiB, 3 page faults before the
/// first answer, for a queue that stays empty unless the client sets a level).
const QUEUE: usize = 256;
/// `u8::MAX`: forward nothing.
static LEVEL: AtomicU8 = AtomicU8::new(u8::MAX);
/// Records not forwarded because the queue was full.
pub(crate) static DROPPED: AtomicU64 = AtomicU64::new(0);
/// Modules whose records are never forwarded: the notifier itself (no recursion).
const NOT_FORWARDED: &[&str] = &["tfo_mcp::mcp::notify"];

/// The sending end, and the receiving end until the server takes it.
type Channel = (Sender<ClientRecord>, Mutex<Option<Receiver<ClientRecord>>>);
static CHANNEL: OnceLock<Channel> = OnceLock::new();

fn channel() -> &'static Channel {
    CHANNEL.get_or_init(|| {
        let (tx, rx) = smol::channel::unbounded();
        (tx, Mutex::new(Some(rx)))
    })
}

/// The receiving end of forwarded records; only the first caller gets it.
pub fn client_records() -> Option<Receiver<ClientRecord>> {
    channel().1.lock().ok()?.take()
}

/// Starts (or with `None` stops) forwarding records at or above `level` to the
/// client, and lets records that verbose through the `log` filter.
pub fn forward_to_client(level: Option<LogLevel>) {
    let rank = level.map_or(u8::MAX, |l| l as u8);
    LEVEL.store(rank, Ordering::Relaxed);
    super::update_max_level();
}

/// The `log` filter the client's level needs (`Off` when nothing is forwarded).
pub(crate) fn level_filter() -> log::LevelFilter {
    match LEVEL.load(Ordering::Relaxed) {
        u8::MAX => log::LevelFilter::Off,
        0 => log::LevelFilter::Debug,
        1 => log::LevelFilter::Info,
        // notice has no `log` level: info records are notices at most.
        2 | 3 => log::LevelFilter::Warn,
        _ => log::LevelFilter::Error,
    }
}

/// The MCP level of a record.
fn mcp_level(level: Severity) -> LogLevel {
    match level {
        Severity::Trace | Severity::Debug => LogLevel::Debug,
        Severity::Info => LogLevel::Info,
        Severity::Warning => LogLevel::Warning,
        Severity::Error => LogLevel::Error,
        Severity::Critical => LogLevel::Critical,
    }
}

/// Queues `entry` for the client when it asked for records this severe.
pub(crate) fn offer(entry: &Entry<'_>) {
    let Some(record) = wanted(entry, LEVEL.load(Ordering::Relaxed)) else {
        return;
    };
    if !enqueue(&channel().0, record) {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Puts `record` on the queue unless [`QUEUE`] records wait already; false when dropped.
fn enqueue(tx: &Sender<ClientRecord>, record: ClientRecord) -> bool {
    tx.len() < QUEUE && tx.try_send(record).is_ok()
}

/// The client's record for `entry`, when it is at least as severe as the level of
/// rank `min` and not about notifying itself.
fn wanted(entry: &Entry<'_>, min: u8) -> Option<ClientRecord> {
    let level = mcp_level(entry.level);
    if (level as u8) < min || NOT_FORWARDED.iter().any(|m| entry.target.starts_with(m)) {
        return None;
    }
    Some(ClientRecord {
        level,
        logger: entry.target.to_string(),
        data: data(entry),
    })
}

/// `{message, ...fields, ...context}` as a JSON object.
fn data(entry: &Entry<'_>) -> Value {
    let mut data = Map::new();
    data.insert("message".into(), Value::String(entry.message.to_string()));
    for (key, value) in &entry.fields {
        let value = match value {
            Field::Str(s) => Value::String(s.to_string()),
            Field::I64(i) => Value::from(*i),
            Field::U64(u) => Value::from(*u),
            Field::F64(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Field::Bool(b) => Value::Bool(*b),
        };
        data.insert(key.to_string(), value);
    }
    for (key, value) in entry.context_fields() {
        data.insert(key.to_string(), Value::String(value.to_string()));
    }
    Value::Object(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcp_levels_rank_in_order_and_map_to_log_filters() {
        for (i, level) in LogLevel::ALL.iter().enumerate() {
            assert_eq!(*level as u8, i as u8, "{level:?} rank");
        }
        assert_eq!(mcp_level(Severity::Critical), LogLevel::Critical);
        assert_eq!(mcp_level(Severity::Trace), LogLevel::Debug);
    }

    #[test]
    fn the_queue_keeps_its_bound_and_refuses_the_rest() {
        let (tx, rx) = smol::channel::unbounded();
        let record = ClientRecord {
            level: LogLevel::Info,
            logger: "tfo_mcp::x".into(),
            data: Value::Null,
        };
        let kept = (0..QUEUE + 5)
            .filter(|_| enqueue(&tx, record.clone()))
            .count();
        assert_eq!(
            (kept, rx.len()),
            (QUEUE, QUEUE),
            "beyond the bound: dropped"
        );
        rx.try_recv().expect("one taken");
        assert!(enqueue(&tx, record), "room again once one is taken");
    }

    #[test]
    fn notifier_records_are_never_forwarded_and_data_is_redacted() {
        let record = log::Record::builder()
            .args(format_args!("dropped"))
            .level(log::Level::Error)
            .target("tfo_mcp::mcp::notify")
            .build();
        assert_eq!(
            wanted(&Entry::new(&record, None), 0),
            None,
            "the notifier's own records are never forwarded, even at debug"
        );
        let cases = [
            (log::Level::Debug, LogLevel::Debug, true),
            (log::Level::Info, LogLevel::Debug, true),
            (log::Level::Info, LogLevel::Info, true),
            (log::Level::Info, LogLevel::Notice, false),
            (log::Level::Warn, LogLevel::Warning, true),
            (log::Level::Error, LogLevel::Critical, false),
        ];
        for (level, min, forwarded) in cases {
            let record = log::Record::builder()
                .args(format_args!("m"))
                .level(level)
                .target("tfo_mcp::x")
                .build();
            assert_eq!(
                wanted(&Entry::new(&record, None), min as u8).is_some(),
                forwarded,
                "{level} record for a client at {min:?}"
            );
        }
        let kvs: [(&str, log::kv::Value<'_>); 2] =
            [("authorization", "Bearer x".into()), ("n", 3.into())];
        let record = log::Record::builder()
            .args(format_args!("m"))
            .level(log::Level::Info)
            .target("tfo_mcp::x")
            .key_values(&kvs)
            .build();
        assert_eq!(
            data(&Entry::new(&record, None)),
            serde_json::json!({"message": "m", "authorization": "[REDACTED]", "n": 3})
        );
    }
}
