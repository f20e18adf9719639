//! OTLP logs (opt-in, `TELEMETRYFLOW_MCP_LOG_OTLP_ENABLED`): every written record
//! also goes, as an OTLP `LogRecord` with severity, body, attributes and the
//! trace and span ids of its request, through a bounded queue to the shared
//! batch exporter (`telemetry::export`), which posts to `{endpoint}/v1/logs`.

use super::record::{Entry, Field};
use crate::config::{Config, LogLevel as Severity};
use crate::otlp::LogRecord;
use crate::telemetry::ExportStats;
use crate::telemetry::export::{Feed, Otlp, Sink, Worker, signal_url};
use crate::telemetry::model::{KeyValue, Value};
use std::borrow::Cow;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The log export queue and its thread.
#[derive(Debug)]
pub(crate) struct LogExport {
    queue: Mutex<Option<SyncSender<LogRecord>>>,
    worker: Mutex<Option<Worker>>,
    pub(crate) stats: Arc<ExportStats>,
}

impl LogExport {
    /// Starts exporting when `config` asks for OTLP logs (and telemetry is on).
    pub(crate) fn start(config: &Config) -> Option<LogExport> {
        if !config.telemetry.enabled || !config.telemetry.logging.otlp_logs {
            return None;
        }
        let (queue, records) = sync_channel(config.telemetry.tracing.max_queue_size);
        let stats = Arc::new(ExportStats::default());
        let sink =
            |config: &Config| Sink::Otlp(Box::new(Otlp::new(config, signal_url(config, "logs"))));
        match Worker::start(config, Feed::plain(records), sink, Arc::clone(&stats), None) {
            Ok(worker) => Some(LogExport {
                queue: Mutex::new(Some(queue)),
                worker: Mutex::new(Some(worker)),
                stats,
            }),
            Err(e) => {
                super::write_line(&format!(
                    "tfo-mcp: cannot start the OTLP log export thread ({e}); OTLP logs are off"
                ));
                None
            }
        }
    }

    /// Queues `entry` without waiting; a full queue drops it and counts it.
    pub(crate) fn offer(&self, entry: &Entry<'_>) {
        let Ok(queue) = self.queue.lock() else {
            return;
        };
        let Some(queue) = queue.as_ref() else {
            self.stats.dropped_shutdown.inc();
            return;
        };
        match queue.try_send(log_record(entry)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.stats.dropped_queue_full.inc(),
            Err(TrySendError::Disconnected(_)) => self.stats.dropped_shutdown.inc(),
        }
    }

    /// Closes the queue and waits until `deadline` for what is queued to be exported.
    pub(crate) fn shutdown(&self, deadline: Instant) {
        let worker = self.worker.lock().ok().and_then(|mut w| w.take());
        if let Some(worker) = &worker {
            worker.stop_retrying();
        }
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        if let Some(worker) = worker
            && !worker.join(deadline)
        {
            super::write_line(
                "tfo-mcp: OTLP log export did not finish before the shutdown deadline",
            );
        }
    }
}

/// OTLP `SeverityNumber` and text of a severity; `critical` is FATAL (21), as
/// OpenTelemetry maps Python's `CRITICAL`.
fn severity(level: Severity) -> (i32, &'static str) {
    match level {
        Severity::Trace => (1, "TRACE"),
        Severity::Debug => (5, "DEBUG"),
        Severity::Info => (9, "INFO"),
        Severity::Warning => (13, "WARNING"),
        Severity::Error => (17, "ERROR"),
        Severity::Critical => (21, "CRITICAL"),
    }
}

/// The OTLP form of a record: body = message; attributes = `logger`, the
/// record's fields and the context fields but the trace and span ids, which
/// are the record's own `trace_id` / `span_id`.
pub(crate) fn log_record(entry: &Entry<'_>) -> LogRecord {
    let (number, text) = severity(entry.level);
    let mut attributes = Vec::with_capacity(1 + entry.fields.len() + 3);
    attributes.push(KeyValue::new("logger", entry.target.to_string()));
    for (key, value) in &entry.fields {
        let value = match value {
            Field::Str(s) => Value::from(s.to_string()),
            Field::I64(i) => Value::Int(*i),
            Field::U64(u) => {
                i64::try_from(*u).map_or_else(|_| Value::Double(*u as f64), Value::Int)
            }
            Field::F64(f) => Value::Double(*f),
            Field::Bool(b) => Value::Bool(*b),
        };
        attributes.push(KeyValue::new(Cow::Owned(key.to_string()), value));
    }
    for (key, value) in entry.context_fields() {
        if key != "trace_id" && key != "span_id" {
            attributes.push(KeyValue::new(key, value.to_string()));
        }
    }
    let trace = entry.context.as_ref().and_then(|c| c.trace);
    LogRecord {
        time_unix_nano: entry.unix_nanos,
        observed_time_unix_nano: entry.unix_nanos,
        severity_number: number,
        severity_text: Cow::Borrowed(text),
        body: Value::from(entry.message.to_string()),
        attributes,
        trace_id: trace.map(|(t, _)| t),
        span_id: trace.map(|(_, s)| s),
        flags: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logging::context::LogContext;
    use crate::telemetry::model::{SpanId, TraceId};

    #[test]
    fn records_carry_severity_body_attributes_and_ids() {
        let kvs: [(&str, log::kv::Value<'_>); 2] = [("n", 3.into()), ("password", "p".into())];
        let record = log::Record::builder()
            .args(format_args!("hello"))
            .level(log::Level::Warn)
            .target("tfo_mcp::t")
            .key_values(&kvs)
            .build();
        let context = LogContext::new(
            "s".into(),
            "1".into(),
            Some((TraceId([1; 16]), SpanId([2; 8]))),
        );
        let entry = Entry::new(&record, Some(Arc::new(context)));
        let otlp = log_record(&entry);
        assert_eq!(
            (otlp.severity_number, &*otlp.severity_text),
            (13, "WARNING")
        );
        assert_eq!(otlp.body, Value::from("hello"));
        assert_eq!(
            otlp.attributes,
            vec![
                KeyValue::new("logger", "tfo_mcp::t"),
                KeyValue::new("n", 3i64),
                KeyValue::new("password", "[REDACTED]"),
                KeyValue::new("session_id", "s"),
                KeyValue::new("request_id", "1"),
            ]
        );
        assert_eq!(otlp.trace_id, Some(TraceId([1; 16])));
        assert_eq!(otlp.span_id, Some(SpanId([2; 8])));
        assert_eq!(severity(Severity::Critical), (21, "CRITICAL"));
    }
}
