//! The registry's building blocks: counters, gauges and histograms on atomics, and
//! labelled families of them with a cardinality cap.
//!
//! Recording into a series that exists takes a shared read lock, hashes the label
//! values (FxHash, no allocation) and does one or two relaxed atomic adds. Only the
//! first recording of a new label set takes the write lock and allocates. Once a
//! family holds `cap` series, new label sets fold into one overflow series and the
//! family counts each recording folded there, so that label values coming from
//! clients (tool names) cannot grow memory without bound.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{PoisonError, RwLock};

/// Longest label value kept, in bytes; longer values are cut at a char boundary.
pub(crate) const MAX_LABEL_VALUE: usize = 128;
/// Label value of every label of a family's overflow series.
pub(crate) const OVERFLOW: &str = "__overflow__";

/// What kind of metric a family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Explicit-bucket histogram.
    Histogram,
}

/// A family's fixed description.
#[derive(Debug)]
pub(crate) struct Desc {
    /// Prometheus name, also the OTLP metric name.
    pub(crate) name: &'static str,
    /// HELP text, also the OTLP description.
    pub(crate) help: &'static str,
    /// UCUM unit for OTLP (`s`, `By`, `1`).
    pub(crate) unit: &'static str,
    pub(crate) kind: Kind,
    /// Label names, in output order.
    pub(crate) labels: &'static [&'static str],
    /// Upper bounds of a histogram's buckets, strictly increasing, without `+Inf`.
    pub(crate) buckets: &'static [f64],
}

/// A monotonic integer counter: the one the trace exporter counts with.
pub(crate) use crate::telemetry::Counter;

/// An integer gauge.
#[derive(Debug, Default)]
pub(crate) struct Gauge(AtomicI64);

impl Gauge {
    pub(crate) fn add(&self, n: i64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}

/// An explicit-bucket histogram: per-bucket (not cumulative) counts, the last one
/// for values above every bound, and the sum of the values.
#[derive(Debug)]
pub(crate) struct Histogram {
    bounds: &'static [f64],
    counts: Box<[AtomicU64]>,
    sum_bits: AtomicU64,
}

impl Histogram {
    pub(crate) fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    /// Records `value`; NaN is ignored (it belongs to no bucket).
    pub(crate) fn observe(&self, value: f64) {
        if value.is_nan() {
            return;
        }
        let i = self
            .bounds
            .iter()
            .position(|&b| value <= b)
            .unwrap_or(self.bounds.len());
        self.counts[i].fetch_add(1, Relaxed);
        let mut current = self.sum_bits.load(Relaxed);
        loop {
            let next = (f64::from_bits(current) + value).to_bits();
            match self
                .sum_bits
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
    }

    pub(crate) fn bounds(&self) -> &'static [f64] {
        self.bounds
    }

    /// Per-bucket counts; `count()` is their sum, so `+Inf` always equals `_count`.
    pub(crate) fn counts(&self) -> impl Iterator<Item = u64> + '_ {
        self.counts.iter().map(|c| c.load(Relaxed))
    }

    pub(crate) fn sum(&self) -> f64 {
        f64::from_bits(self.sum_bits.load(Relaxed))
    }
}

/// How a family makes a new series.
pub(crate) trait Series: Send + Sync {
    fn new(desc: &'static Desc) -> Self;
}

impl Series for Counter {
    fn new(_: &'static Desc) -> Counter {
        Counter::default()
    }
}

impl Series for Histogram {
    fn new(desc: &'static Desc) -> Histogram {
        Histogram::new(desc.buckets)
    }
}

/// Label values as a lookup key: owned (stored) and borrowed (looked up) label sets
/// hash and compare alike, so a lookup needs no allocation.
pub(crate) trait Key {
    fn len(&self) -> usize;
    fn get(&self, i: usize) -> &str;
}

/// Label values as stored in a family.
#[derive(Debug)]
pub(crate) struct Labels(Box<[Box<str>]>);

/// Label values as passed by a caller.
struct Borrowed<'a>(&'a [&'a str]);

impl Key for Labels {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> &str {
        &self.0[i]
    }
}

impl Key for Borrowed<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> &str {
        clip(self.0[i])
    }
}

/// `value` cut to at most `MAX_LABEL_VALUE` bytes, at a char boundary.
pub(crate) fn clip(value: &str) -> &str {
    if value.len() <= MAX_LABEL_VALUE {
        return value;
    }
    let mut end = MAX_LABEL_VALUE;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

impl Hash for dyn Key + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for i in 0..self.len() {
            state.write(self.get(i).as_bytes());
            state.write_u8(0xff);
        }
    }
}

impl PartialEq for dyn Key + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i))
    }
}

impl Eq for dyn Key + '_ {}

impl<'a> Borrow<dyn Key + 'a> for Labels {
    fn borrow(&self) -> &(dyn Key + 'a) {
        self
    }
}

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self as &dyn Key).hash(state);
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Self) -> bool {
        (self as &dyn Key) == (other as &dyn Key)
    }
}

impl Eq for Labels {}

/// FxHash (rustc's hasher): a multiply and a rotate per word. Label values are
/// not secret and the cap bounds what an adversary gains from collisions.
#[derive(Debug, Default)]
pub(crate) struct FxHasher(u64);

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn word(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= 8 {
            let (head, rest) = bytes.split_at(8);
            self.word(u64::from_le_bytes(head.try_into().expect("8 bytes")));
            bytes = rest;
        }
        if !bytes.is_empty() {
            let mut last = [0u8; 8];
            last[..bytes.len()].copy_from_slice(bytes);
            self.word(u64::from_le_bytes(last) ^ (bytes.len() as u64) << 59);
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.word(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Map<T> = HashMap<Labels, T, BuildHasherDefault<FxHasher>>;

/// A labelled family: one series per label set, at most `cap` of them, then the
/// overflow series.
#[derive(Debug)]
pub(crate) struct Family<T> {
    pub(crate) desc: &'static Desc,
    cap: usize,
    series: RwLock<Map<T>>,
    overflow: T,
    /// Recordings folded into the overflow series.
    folded: Counter,
}

impl<T: Series> Family<T> {
    pub(crate) fn new(desc: &'static Desc, cap: usize) -> Family<T> {
        Family {
            desc,
            cap,
            series: RwLock::new(Map::default()),
            overflow: T::new(desc),
            folded: Counter::default(),
        }
    }

    /// Runs `record` on the series of `values` (one per label name, in order),
    /// creating it unless the family is full.
    pub(crate) fn with(&self, values: &[&str], record: impl FnOnce(&T)) {
        debug_assert_eq!(values.len(), self.desc.labels.len(), "{}", self.desc.name);
        let key = Borrowed(values);
        let key: &dyn Key = &key;
        {
            let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = series.get(key) {
                return record(s);
            }
            if series.len() >= self.cap {
                drop(series);
                self.folded.inc();
                return record(&self.overflow);
            }
        }
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        if !series.contains_key(key) {
            if series.len() >= self.cap {
                drop(series);
                self.folded.inc();
                return record(&self.overflow);
            }
            let owned = Labels((0..key.len()).map(|i| key.get(i).into()).collect());
            series.insert(owned, T::new(self.desc));
        }
        record(series.get(key).expect("present: found or just inserted"));
    }

    /// Calls `visit` for each series in label order, then for the overflow series if
    /// anything was folded into it.
    pub(crate) fn each(&self, mut visit: impl FnMut(LabelValues<'_>, &T)) {
        let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
        let mut sorted: Vec<(&Labels, &T)> = series.iter().collect();
        sorted.sort_unstable_by(|a, b| a.0.0.cmp(&b.0.0));
        for (labels, s) in sorted {
            visit(LabelValues::Owned(labels), s);
        }
        drop(series);
        if self.folded.get() > 0 {
            visit(
                LabelValues::Overflow(self.desc.labels.len()),
                &self.overflow,
            );
        }
    }

    /// Recordings folded into the overflow series so far.
    pub(crate) fn folded(&self) -> u64 {
        self.folded.get()
    }

    /// Series held (not counting the overflow series).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The label values of one series, in the family's label order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LabelValues<'a> {
    /// A series of a family.
    Owned(&'a Labels),
    /// Fixed values.
    Static(&'a [&'a str]),
    /// The overflow series of a family with this many labels.
    Overflow(usize),
}

impl<'a> LabelValues<'a> {
    pub(crate) fn len(&self) -> usize {
        match self {
            LabelValues::Owned(l) => l.0.len(),
            LabelValues::Static(v) => v.len(),
            LabelValues::Overflow(n) => *n,
        }
    }

    pub(crate) fn get(&self, i: usize) -> &'a str {
        match self {
            LabelValues::Owned(l) => &l.0[i],
            LabelValues::Static(v) => v[i],
            LabelValues::Overflow(_) => OVERFLOW,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static DESC: Desc = Desc {
        name: "t_total",
        help: "t",
        unit: "1",
        kind: Kind::Counter,
        labels: &["a", "b"],
        buckets: &[],
    };

    #[test]
    fn series_are_found_again_and_capped() {
        let family: Family<Counter> = Family::new(&DESC, 3);
        family.with(&["x", "1"], |c| c.inc());
        family.with(&["x", "1"], |c| c.add(2));
        family.with(&["x", "2"], |c| c.inc());
        family.with(&["y", "1"], |c| c.inc());
        assert_eq!(family.len(), 3, "three label sets, three series");
        for i in 0..100 {
            family.with(&[&format!("new{i}"), "1"], |c| c.inc());
        }
        family.with(&["x", "1"], |c| c.inc());
        assert_eq!(family.len(), 3, "the cap holds");
        assert_eq!(family.folded(), 100, "each folded recording is counted");
        let mut seen = Vec::new();
        family.each(|labels, c| {
            let values: Vec<&str> = (0..labels.len()).map(|i| labels.get(i)).collect();
            seen.push((values.join(","), c.get()));
        });
        assert_eq!(
            seen,
            [
                ("x,1".to_string(), 4),
                ("x,2".to_string(), 1),
                ("y,1".to_string(), 1),
                (format!("{OVERFLOW},{OVERFLOW}"), 100)
            ],
            "sorted series, overflow last"
        );
    }

    #[test]
    fn long_label_values_are_clipped_and_still_found() {
        let family: Family<Counter> = Family::new(&DESC, 10);
        let long = "é".repeat(200);
        family.with(&[&long, "1"], |c| c.inc());
        family.with(&[&long, "1"], |c| c.inc());
        assert_eq!(family.len(), 1, "the clipped value matches itself");
        family.each(|labels, c| {
            assert!(labels.get(0).len() <= MAX_LABEL_VALUE);
            assert_eq!(c.get(), 2);
        });
    }

    #[test]
    fn histogram_buckets_sum_and_nan() {
        static BOUNDS: [f64; 3] = [1.0, 5.0, 10.0];
        let h = Histogram::new(&BOUNDS);
        for v in [0.5, 1.0, 1.5, 10.0, 11.0, f64::INFINITY, f64::NAN] {
            h.observe(v);
        }
        assert_eq!(
            h.counts().collect::<Vec<_>>(),
            [2, 1, 1, 2],
            "le is inclusive; +Inf and above-range land last; NaN nowhere"
        );
        assert_eq!(h.sum(), f64::INFINITY);
        let h = Histogram::new(&BOUNDS);
        h.observe(0.25);
        h.observe(2.0);
        assert_eq!(h.sum(), 2.25);
    }
}
