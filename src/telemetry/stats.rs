//! The exporter's own counters (self-observability), shared between the span
//! producers, the export thread and whoever reports them (`/metrics`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

/// A monotonic counter.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What happened to finished spans.
#[derive(Debug, Default)]
pub struct ExportStats {
    /// Spans the collector accepted.
    pub exported: Counter,
    /// Spans dropped because the queue was full.
    pub dropped_queue_full: Counter,
    /// Spans ended after the exporter stopped.
    pub dropped_shutdown: Counter,
    /// Spans whose export failed for good (retries exhausted, non-retryable status, deadline).
    pub failed: Counter,
    /// Spans the collector rejected in a partial success.
    pub rejected: Counter,
    /// Export requests sent (each attempt).
    pub requests: Counter,
    /// Retries after a retryable failure.
    pub retries: Counter,
    /// Batches exported (successfully or not).
    pub batches: Counter,
    /// Total time spent exporting batches, in microseconds.
    pub export_micros: Counter,
    /// How the last exports went, for the health check.
    last: Mutex<LastExport>,
}

/// How the last exports went: whether the exporter is failing, since when, and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LastExport {
    /// When the current run of failures began; `None` while exports succeed.
    pub failing_since: Option<SystemTime>,
    /// The most recent failure: its reason and time.
    pub last_error: Option<(String, SystemTime)>,
    /// The most recent success.
    pub last_success: Option<SystemTime>,
}

impl ExportStats {
    /// An export request succeeded.
    pub fn record_success(&self) {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.failing_since = None;
        last.last_success = Some(SystemTime::now());
    }

    /// An export failed for good (`reason` holds no URL or header values).
    pub fn record_failure(&self, reason: &str) {
        let now = SystemTime::now();
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        last.failing_since.get_or_insert(now);
        last.last_error = Some((reason.to_string(), now));
    }

    /// A copy of the last outcomes.
    pub fn last(&self) -> LastExport {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
