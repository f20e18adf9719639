//! The spec's `ErrorTracker`: every failed operation becomes one "Operation
//! failed" error record; critical kinds (authentication failures against the
//! Claude API, memory or resource exhaustion, a configured backend such as the
//! OTLP collector failing) also become a `critical` "Critical error detected"
//! record and a `record_critical_error` count. Recent errors are kept as a small
//! summary by type for the health report.

use super::record::CRITICAL_FIELD;
use crate::metrics::Metrics;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// `error_type` of a rejected Claude API key (HTTP 401).
pub const AUTHENTICATION_ERROR: &str = "AuthenticationError";
/// `error_type` of an allocation failure.
pub const OUT_OF_MEMORY_ERROR: &str = "OutOfMemoryError";
/// `error_type` of an exhausted resource (threads, file descriptors, disk).
pub const RESOURCE_EXHAUSTED_ERROR: &str = "ResourceExhaustedError";
/// `error_type` of a configured backend that fails (the OTLP collector).
pub const BACKEND_ERROR: &str = "BackendError";

/// The critical kinds (the spec's `_is_critical`).
const CRITICAL: [&str; 4] = [
    AUTHENTICATION_ERROR,
    OUT_OF_MEMORY_ERROR,
    RESOURCE_EXHAUSTED_ERROR,
    BACKEND_ERROR,
];
/// Error types summarised at most; the least recently seen one makes room.
const MAX_TYPES: usize = 32;
/// Longest error message kept in the summary.
const MAX_MESSAGE: usize = 256;

/// Recent errors of one type, for the health report.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorSummary {
    /// The error type (`InvalidParams`, `BackendError`, ...).
    pub error_type: String,
    /// How many since the process started.
    pub count: u64,
    /// Whether the type is critical.
    pub critical: bool,
    /// The operation of the last one.
    pub last_operation: String,
    /// The message of the last one (redacted, clipped).
    pub last_message: String,
    /// When the last one happened, milliseconds since the Unix epoch.
    pub last_seen_unix_ms: u64,
}

/// Tracks failed operations; shared by the server, every request and the exporters.
#[derive(Debug)]
pub struct ErrorTracker {
    metrics: Arc<Metrics>,
    recent: Mutex<Vec<ErrorSummary>>,
}

impl ErrorTracker {
    /// A tracker counting critical errors in `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Arc<ErrorTracker> {
        Arc::new(ErrorTracker {
            metrics,
            recent: Mutex::new(Vec::new()),
        })
    }

    /// Whether `error_type` is one of the critical kinds.
    pub fn is_critical(error_type: &str) -> bool {
        CRITICAL.contains(&error_type)
    }

    /// Records one failed operation: an "Operation failed" error record with
    /// `operation`, `error_type`, `error_message` and `context`, a critical
    /// "Critical error detected" record and count for critical types, and the summary.
    /// Message and context are redacted on the way out, like every record.
    pub fn track_error(
        &self,
        operation: &str,
        error_type: &str,
        error_message: &str,
        context: &[(&str, &str)],
    ) {
        let mut fields: Vec<(&str, log::kv::Value<'_>)> = Vec::with_capacity(4 + context.len());
        fields.push(("operation", operation.into()));
        fields.push(("error_type", error_type.into()));
        fields.push(("error_message", error_message.into()));
        fields.extend(context.iter().map(|(k, v)| (*k, (*v).into())));
        super::emit(
            log::Level::Error,
            module_path!(),
            format_args!("Operation failed"),
            &fields,
        );
        let critical = Self::is_critical(error_type);
        if critical {
            fields.push((CRITICAL_FIELD, true.into()));
            super::emit(
                log::Level::Error,
                module_path!(),
                format_args!("Critical error detected"),
                &fields,
            );
            self.metrics.record_critical_error(error_type);
        }
        self.remember(operation, error_type, error_message, critical);
    }

    fn remember(&self, operation: &str, error_type: &str, message: &str, critical: bool) {
        let Ok(mut recent) = self.recent.lock() else {
            return;
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let message = crate::redact::redact_text(message);
        let message = crate::redact::truncate(&message, MAX_MESSAGE).into_owned();
        if let Some(entry) = recent.iter_mut().find(|e| e.error_type == error_type) {
            entry.count += 1;
            entry.last_operation = operation.to_string();
            entry.last_message = message;
            entry.last_seen_unix_ms = now;
            return;
        }
        if recent.len() >= MAX_TYPES
            && let Some(oldest) = (0..recent.len()).min_by_key(|&i| recent[i].last_seen_unix_ms)
        {
            recent.swap_remove(oldest);
        }
        recent.push(ErrorSummary {
            error_type: error_type.to_string(),
            count: 1,
            critical,
            last_operation: operation.to_string(),
            last_message: message,
            last_seen_unix_ms: now,
        });
    }

    /// Recent errors by type, most recent first (at most 32 types): for the health report.
    pub fn recent_errors(&self) -> Vec<ErrorSummary> {
        let mut recent = self.recent.lock().map(|r| r.clone()).unwrap_or_default();
        crate::sort::small_sort_by(&mut recent, |a, b| {
            b.last_seen_unix_ms.cmp(&a.last_seen_unix_ms)
        });
        recent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_by_type_redacts_and_stays_bounded() {
        let tracker = ErrorTracker::new(Metrics::disabled());
        tracker.track_error("tools/call", "InvalidParams", "bad", &[]);
        tracker.track_error("tools/call", "InvalidParams", "key sk-ant-secret123", &[]);
        tracker.track_error(
            "otlp.export.traces",
            BACKEND_ERROR,
            "connection refused",
            &[],
        );
        let recent = tracker.recent_errors();
        let invalid = recent
            .iter()
            .find(|e| e.error_type == "InvalidParams")
            .expect("InvalidParams summarised");
        assert_eq!(invalid.count, 2);
        assert!(!invalid.critical);
        assert_eq!(
            invalid.last_message, "key [REDACTED]",
            "summary is redacted"
        );
        assert!(
            recent
                .iter()
                .any(|e| e.error_type == BACKEND_ERROR && e.critical),
            "backend failures are critical"
        );
        for i in 0..100 {
            tracker.track_error("op", &format!("Type{i}"), "x", &[]);
        }
        assert_eq!(
            tracker.recent_errors().len(),
            MAX_TYPES,
            "bounded by type count"
        );
        assert!(ErrorTracker::is_critical(AUTHENTICATION_ERROR));
        assert!(!ErrorTracker::is_critical("ToolError"));
    }
}
