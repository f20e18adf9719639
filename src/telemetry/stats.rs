//! The exporter's own counters (self-observability), shared between the span
//! producers, the export thread and whoever reports them (`/metrics`).

use std::sync::atomic::{AtomicU64, Ordering};

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
}
