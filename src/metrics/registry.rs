//! The registry's building blocks: counters, gauges and histograms on atomics, and
//! labelled families of them with a cardinality cap.
//!
//! Recording into a series that exists takes no lock: it joins the label values
//! on the stack, hashes them (FxHash), probes a table of write-once slots and does
//! one or two relaxed atomic adds. Only the
//! first recording of a new label set takes a lock and allocates. Once a
//! family holds `cap` series, new label sets fold into one overflow series and the
//! family counts each recording folded there, so that label values coming from
//! clients (tool names) cannot grow memory without bound.

use std::hash::Hasher;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock, PoisonError};

/// Longest label value kept, in bytes; longer values are cut at a char boundary.
pub(crate) const MAX_LABEL_VALUE: usize = 128;
/// Label value of every label of a family's overflow series.
pub(crate) const OVERFLOW: &str = "__overflow__";
/// What a recorded label value equal to [`OVERFLOW`] is kept as: no series but the
/// overflow series carries that value, so none can pass for it.
const NOT_OVERFLOW: &str = "_overflow_";

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

/// Separates label values in a series key: the byte 0xFF never occurs in UTF-8.
const SEPARATOR: u8 = 0xff;

/// A series' label values, clipped, joined by [`SEPARATOR`]. A lookup hashes and
/// compares the caller's values against it in place, so it allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Labels(Box<[u8]>);

impl Labels {
    fn get(&self, i: usize) -> &str {
        let value = self.0.split(|&b| b == SEPARATOR).nth(i).unwrap_or(&[]);
        std::str::from_utf8(value).expect("built from &str cut at char boundaries")
    }
}

/// FxHash of the clipped `values` with separators: the hash of their stored key.
fn hash_values(values: &[&str]) -> u64 {
    let mut hasher = FxHasher::default();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            hasher.write_u8(SEPARATOR);
        }
        hasher.write(clip(value).as_bytes());
    }
    hasher.finish()
}

/// Whether the stored key `stored` holds exactly the clipped `values`.
fn matches(stored: &[u8], values: &[&str]) -> bool {
    let mut rest = stored;
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            match rest.split_first() {
                Some((&SEPARATOR, tail)) => rest = tail,
                _ => return false,
            }
        }
        let value = clip(value).as_bytes();
        match rest.strip_prefix(value) {
            Some(tail) => rest = tail,
            None => return false,
        }
    }
    rest.is_empty()
}

/// The stored key of `values`.
fn owned_key(values: &[&str]) -> Labels {
    let mut key = Vec::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            key.push(SEPARATOR);
        }
        key.extend_from_slice(clip(value).as_bytes());
    }
    Labels(key.into())
}

/// `value` as it is kept: cut to at most `MAX_LABEL_VALUE` bytes, at a char
/// boundary, and never the overflow series' own value.
pub(crate) fn clip(value: &str) -> &str {
    if value == OVERFLOW {
        return NOT_OVERFLOW;
    }
    if value.len() <= MAX_LABEL_VALUE {
        return value;
    }
    &value[..value.floor_char_boundary(MAX_LABEL_VALUE)]
}

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

type Slot<T> = OnceLock<Box<Entry<T>>>;

/// One series of a family, never removed once created.
#[derive(Debug)]
struct Entry<T> {
    hash: u64,
    labels: Labels,
    series: T,
}

/// A labelled family: one series per label set, at most `cap` of them, then the
/// overflow series.
///
/// Series live in an open-addressing table of write-once slots, twice the cap in
/// size, so that a probe is short and ends at an empty slot. Slots only go from
/// empty to filled, so readers need no lock: a reader that misses a series being
/// created takes the insert lock, where it finds it. The table is allocated with
/// the family's first series, so an unused family (Claude without a key) costs none.
pub(crate) struct Family<T> {
    pub(crate) desc: &'static Desc,
    cap: usize,
    slots: OnceLock<Box<[Slot<T>]>>,
    /// Serializes creation; holds the filled slots' indices, so that rendering
    /// visits the series without scanning the whole table.
    filled: Mutex<Vec<usize>>,
    overflow: T,
    /// Recordings folded into the overflow series.
    folded: Counter,
}

/// Name and sizes only: the slot table is thousands of entries long.
impl<T> std::fmt::Debug for Family<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.desc.name)
            .field("cap", &self.cap)
            .field("folded", &self.folded.get())
            .finish_non_exhaustive()
    }
}

impl<T: Series> Family<T> {
    pub(crate) fn new(desc: &'static Desc, cap: usize) -> Family<T> {
        Family {
            desc,
            cap,
            slots: OnceLock::new(),
            filled: Mutex::new(Vec::new()),
            overflow: T::new(desc),
            folded: Counter::default(),
        }
    }

    /// The series of `values` in `slots`, or the index of the empty slot that ends its probe.
    fn find<'a>(slots: &'a [Slot<T>], values: &[&str], hash: u64) -> Result<&'a T, usize> {
        let mask = slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match slots[i].get() {
                None => return Err(i),
                Some(e) if e.hash == hash && matches(&e.labels.0, values) => {
                    return Ok(&e.series);
                }
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    /// Runs `record` on the series of `values` (one per label name, in order),
    /// creating it unless the family is full.
    pub(crate) fn with(&self, values: &[&str], record: impl FnOnce(&T)) {
        debug_assert_eq!(values.len(), self.desc.labels.len(), "{}", self.desc.name);
        let hash = hash_values(values);
        if let Some(Ok(series)) = self.slots.get().map(|s| Self::find(s, values, hash)) {
            return record(series);
        }
        let mut filled = self.filled.lock().unwrap_or_else(PoisonError::into_inner);
        let slots = self.slots.get_or_init(|| {
            let size = (self.cap.max(1) * 2).next_power_of_two().max(16);
            (0..size).map(|_| OnceLock::new()).collect()
        });
        let slot = match Self::find(slots, values, hash) {
            Ok(series) => return record(series),
            Err(_) if filled.len() >= self.cap => None,
            Err(slot) => Some(slot),
        };
        let Some(slot) = slot else {
            drop(filled);
            self.folded.inc();
            return record(&self.overflow);
        };
        let entry = Box::new(Entry {
            hash,
            labels: owned_key(values),
            series: T::new(self.desc),
        });
        let entry = slots[slot].get_or_init(|| entry);
        filled.push(slot);
        drop(filled);
        record(&entry.series);
    }

    /// Calls `visit` for each series in label order, then for the overflow series if
    /// anything was folded into it.
    pub(crate) fn each(&self, mut visit: impl FnMut(LabelValues<'_>, &T)) {
        let mut sorted: Vec<&Entry<T>> = self
            .filled
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter_map(|&i| self.slots.get()?[i].get())
            .map(|e| &**e)
            .collect();
        sorted.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        for entry in sorted {
            visit(LabelValues::Owned(&entry.labels), &entry.series);
        }
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
        self.filled
            .lock()
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
            LabelValues::Owned(l) => l.0.split(|&b| b == SEPARATOR).count(),
            LabelValues::Static(v) => v.len(),
            LabelValues::Overflow(n) => *n,
        }
    }

    pub(crate) fn get(&self, i: usize) -> &'a str {
        match self {
            LabelValues::Owned(l) => l.get(i),
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

    /// Each series of `family` as (label values joined by commas, count), in order.
    fn series(family: &Family<Counter>) -> Vec<(String, u64)> {
        let mut seen = Vec::new();
        family.each(|labels, c| {
            let values: Vec<&str> = (0..labels.len()).map(|i| labels.get(i)).collect();
            seen.push((values.join(","), c.get()));
        });
        seen
    }

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
        let seen = series(&family);
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
    fn concurrent_recordings_are_all_counted_and_the_cap_holds() {
        let family: std::sync::Arc<Family<Counter>> = std::sync::Arc::new(Family::new(&DESC, 50));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let family = std::sync::Arc::clone(&family);
                std::thread::spawn(move || {
                    for i in 0..1000 {
                        let name = format!("n{}", (i * 7 + t) % 80);
                        family.with(&[&name, "x"], |c| c.inc());
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("recorder thread");
        }
        assert_eq!(family.len(), 50, "never more series than the cap");
        let mut total = 0;
        family.each(|_, c| total += c.get());
        assert_eq!(total, 8000, "no recording lost, overflow included");
        assert!(family.folded() > 0, "80 names for 50 series");
    }

    #[test]
    fn a_recorded_value_never_passes_for_the_overflow_series() {
        let family: Family<Counter> = Family::new(&DESC, 1);
        family.with(&[OVERFLOW, OVERFLOW], |c| c.inc());
        family.with(&["x", "1"], |c| c.inc());
        let seen = series(&family);
        assert_eq!(
            seen,
            [
                (format!("{NOT_OVERFLOW},{NOT_OVERFLOW}"), 1),
                (format!("{OVERFLOW},{OVERFLOW}"), 1)
            ]
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
