//! The tracer handle the server passes to each request, and the spans it makes.
//! A sampled span collects attributes and events and, when it ends, is offered
//! to a bounded queue without waiting: a full queue drops the span and counts
//! it. An unsampled span carries its ids (for logs and children) and nothing else:
//! no attribute is built, nothing is queued.
//!
//! A sampled span allocates nothing of its own in steady state: its data lives in a
//! box kept per thread, with the attribute list of the span that used the box last.
//! With OTLP the span is encoded into the export queue when it ends, so its data
//! never leaves the thread; the console exporter takes the data itself and hands the
//! attribute lists back through the [`Recycler`] (musl's allocator, freeing on one
//! thread what another allocated, made the box and the list most of a span's cost;
//! see `benches/spans.rs`).

use super::context::{SpanContext, new_span_id, new_trace_id};
use super::model::{
    Event, FLAG_HAS_IS_REMOTE, FLAG_IS_REMOTE, FLAG_RANDOM, FLAG_SAMPLED, KeyValue, SpanData,
    SpanKind, Status, StatusCode, Text, Value,
};
use super::queue::{EncodedQueue, Pushed, SharedQueue};
use super::sampler::Sampler;
use super::stats::ExportStats;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Attributes and events kept per span (OpenTelemetry's default limit); more are counted as dropped.
const MAX_PER_SPAN: usize = 128;
/// Longest string attribute value (of the span or an event) and status message a
/// span keeps, in bytes; longer text is cut with a note of its size. OpenTelemetry's
/// attribute value length limit, which its SDKs leave unset by default: here client
/// text that a caller forgot to clip cannot make a span of a whole request.
const MAX_TEXT: usize = 1024;

/// Room for the note a cut adds (`… (N bytes)`): text cut once is not cut again.
const NOTE: usize = 32;

/// `text` cut to [`MAX_TEXT`] when it is longer than that and a note.
fn cut(text: &str) -> Cow<'_, str> {
    if text.len() > MAX_TEXT + NOTE {
        crate::redact::truncate(text, MAX_TEXT)
    } else {
        Cow::Borrowed(text)
    }
}

/// Most items kept of a string array attribute (ours hold the API's stop reasons:
/// one each).
const MAX_ITEMS: usize = 16;

/// `value` with its text cut ([`cut`]), and a string array to its first
/// [`MAX_ITEMS`] items, each cut; looked at in place (it is set for every
/// attribute of every span).
#[inline]
fn bound(value: &mut Value) {
    match value {
        Value::Str(Text::Owned(text)) if text.len() > MAX_TEXT + NOTE => {
            *text = cut(text).into_owned();
        }
        Value::StrArray(items) => {
            items.truncate(MAX_ITEMS);
            for item in items.iter_mut().filter(|item| item.len() > MAX_TEXT + NOTE) {
                *item = cut(item).into_owned();
            }
        }
        _ => {}
    }
}
/// Room for the attributes our spans carry (request.process sets seven, mcp.tool.call
/// nine), so that a list rarely grows. With OTLP a list stays in its span's box on the
/// MCP thread and is reused there. Twelve rather than nine for the console path, whose
/// lists go to the export thread and back: with lists of nine or ten attributes (648 or
/// 720 bytes) musl's allocator mapped and unmapped a 16 kB group every ten spans or so,
/// with twelve (864 bytes) it does not.
const ATTRIBUTES_CAPACITY: usize = 12;
/// Attribute lists kept for reuse: one export batch's worth (the default
/// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`); more are freed.
const RECYCLED_MAX: usize = 512;

/// Creates spans; cheap to clone. A disabled tracer makes only unsampled spans.
#[derive(Debug, Clone, Default)]
pub struct Tracer {
    inner: Option<Arc<Inner>>,
}

#[derive(Debug)]
struct Inner {
    sampler: Sampler,
    queue: Queue,
    stats: Arc<ExportStats>,
    service_name: &'static str,
    recycled: Arc<Recycler>,
}

/// Where ended spans go.
#[derive(Debug)]
pub(crate) enum Queue {
    /// A channel whose owner drains it (tests, benches).
    Channel(SyncSender<SpanData>),
    /// The export thread's queue. The thread sleeps on `signal`, which is sent once a
    /// batch's worth is waiting, instead of once per span: a sleeping consumer woken
    /// by every span cost a futex round trip per span, more than the span itself.
    Export {
        spans: Arc<SharedQueue<SpanData>>,
        /// Spans that make a batch (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`).
        batch: usize,
        /// Holds at most one pending wake-up; its receiver sees all tracers gone.
        signal: SyncSender<()>,
    },
    /// The OTLP export thread's queue: a span is encoded into it when it ends, so
    /// that nothing of it crosses threads but its bytes. Signalled as `Export` is.
    Encoded {
        spans: Arc<EncodedQueue>,
        batch: usize,
        signal: SyncSender<()>,
    },
}

/// Empty attribute lists going back from the export thread to new spans.
#[derive(Debug, Default)]
pub struct Recycler {
    lists: Mutex<Vec<Vec<KeyValue>>>,
}

impl Recycler {
    /// Empties `batch`, keeping its spans' attribute lists (cleared, capacity kept)
    /// for the spans to come.
    pub fn recycle(&self, batch: &mut Vec<SpanData>) {
        // Cleared (their strings freed) before taking the lock, so that a span
        // starting meanwhile on the executor never waits for a whole batch.
        let cleared: Vec<Vec<KeyValue>> = batch
            .drain(..)
            .map(|span| span.attributes)
            // A list grown by a larger span (an error, a Claude call) is freed rather
            // than kept: a pool of grown lists would hold far more memory than needed.
            .filter(|list| {
                (ATTRIBUTES_CAPACITY..2 * ATTRIBUTES_CAPACITY).contains(&list.capacity())
            })
            .map(|mut list| {
                list.clear();
                list
            })
            .collect();
        let mut lists = self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        let room = RECYCLED_MAX.saturating_sub(lists.len());
        lists.extend(cleared.into_iter().take(room));
    }

    fn take(&self) -> Vec<KeyValue> {
        let list = self
            .lists
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        list.unwrap_or_else(|| Vec::with_capacity(ATTRIBUTES_CAPACITY))
    }
}

impl Tracer {
    /// A tracer that records nothing.
    pub fn disabled() -> Tracer {
        Tracer { inner: None }
    }

    /// A tracer sampling with `sampler` and queueing finished spans on `queue`.
    pub fn new(
        sampler: Sampler,
        queue: SyncSender<SpanData>,
        stats: Arc<ExportStats>,
        service_name: String,
    ) -> Tracer {
        Tracer::build(sampler, Queue::Channel(queue), stats, service_name)
    }

    /// A tracer sampling with `sampler` and handing ended spans to `queue`.
    pub(crate) fn build(
        sampler: Sampler,
        queue: Queue,
        stats: Arc<ExportStats>,
        service_name: String,
    ) -> Tracer {
        Tracer {
            inner: Some(Arc::new(Inner {
                sampler,
                queue,
                stats,
                // Leaked once per tracer (one per process): every span then borrows
                // it instead of allocating a copy for its `service.name`.
                service_name: Box::leak(service_name.into_boxed_str()),
                recycled: Arc::default(),
            })),
        }
    }

    /// Where the export thread returns exported spans' memory (`None` when disabled).
    pub fn recycler(&self) -> Option<Arc<Recycler>> {
        self.inner.as_ref().map(|i| Arc::clone(&i.recycled))
    }

    /// Export counters (all zero for a disabled tracer).
    pub fn stats(&self) -> Option<&ExportStats> {
        self.inner.as_deref().map(|i| &*i.stats)
    }

    /// Starts a root span for `operation` (an MCP method), continuing `remote`
    /// (a caller's `traceparent`) when given. The sampling decision is taken here.
    pub fn start_root(
        &self,
        name: &'static str,
        kind: SpanKind,
        operation: &str,
        remote: Option<SpanContext>,
    ) -> Span {
        let (trace_id, trace_state, random) = match &remote {
            Some(parent) => (
                parent.trace_id,
                parent.trace_state.clone(),
                parent.flags & FLAG_RANDOM,
            ),
            None => (new_trace_id(), String::new(), FLAG_RANDOM),
        };
        let sampled = self.inner.as_ref().is_some_and(|inner| {
            inner
                .sampler
                .should_sample(operation, &trace_id, remote.as_ref())
        });
        let context = SpanContext {
            trace_id,
            span_id: new_span_id(),
            flags: random | if sampled { FLAG_SAMPLED } else { 0 },
            trace_state,
            is_remote: false,
        };
        let parent_span = remote.as_ref().map(|p| (p.span_id, true));
        self.start(name, kind, context, parent_span)
    }

    /// Starts a child of `parent` (same trace, same sampling decision).
    pub fn start_child(&self, name: &'static str, kind: SpanKind, parent: &SpanContext) -> Span {
        let context = SpanContext {
            span_id: new_span_id(),
            is_remote: false,
            ..parent.clone()
        };
        self.start(
            name,
            kind,
            context,
            Some((parent.span_id, parent.is_remote)),
        )
    }

    fn start(
        &self,
        name: &'static str,
        kind: SpanKind,
        context: SpanContext,
        parent: Option<(super::model::SpanId, bool)>,
    ) -> Span {
        let recording = match &self.inner {
            Some(inner) if context.is_sampled() => {
                let mut data = spare_box();
                // The list of the span that used this box last (spans encoded when
                // they end leave theirs), else one the export thread gave back.
                let mut attributes = std::mem::take(&mut data.attributes);
                if attributes.capacity() == 0 {
                    attributes = inner.recycled.take();
                }
                attributes.push(KeyValue::new(
                    "service.name",
                    Value::Str(Text::Static(inner.service_name)),
                ));
                // Both clocks are read together, after anything that may allocate: a
                // span ends at its wall-clock start plus monotonic time, so a gap
                // between the two readings would shift its end past its parent's.
                let started = Instant::now();
                *data = SpanData {
                    trace_id: context.trace_id,
                    span_id: context.span_id,
                    parent_span_id: parent.map(|(id, _)| id),
                    trace_state: context.trace_state.clone(),
                    flags: u32::from(context.flags)
                        | FLAG_HAS_IS_REMOTE
                        | if parent.is_some_and(|(_, remote)| remote) {
                            FLAG_IS_REMOTE
                        } else {
                            0
                        },
                    name: Cow::Borrowed(name),
                    kind,
                    start_time_unix_nano: now_unix_nano(),
                    end_time_unix_nano: 0,
                    attributes,
                    dropped_attributes_count: 0,
                    events: Vec::new(),
                    dropped_events_count: 0,
                    status: Status::default(),
                };
                Some(Recording {
                    data,
                    started,
                    inner: Arc::clone(inner),
                })
            }
            _ => None,
        };
        Span { context, recording }
    }
}

/// A span in progress. Ends when [`Span::end`] is called or when dropped.
#[derive(Debug)]
pub struct Span {
    context: SpanContext,
    recording: Option<Recording>,
}

#[derive(Debug)]
struct Recording {
    /// Boxed so that a span is small: at opt-level "z" every move of a span is a
    /// `rep movsb` of all of it, and an unsampled span is moved like a sampled one.
    data: Box<SpanData>,
    started: Instant,
    inner: Arc<Inner>,
}

// Boxes of ended spans kept per thread for the next spans (so a sampled span does
// not allocate its box), at most `BOXES_MAX`.
thread_local! {
    // The boxes themselves are what is kept: a `Vec<SpanData>` would not be a box to hand out.
    #[allow(clippy::vec_box)]
    static BOXES: RefCell<Vec<Box<SpanData>>> = const { RefCell::new(Vec::new()) };
}
/// More than the spans a thread has open at once (a request, its child, a Claude call).
const BOXES_MAX: usize = 8;

/// A kept box, or a new one (holding a blank span) when none is left.
fn spare_box() -> Box<SpanData> {
    BOXES
        .with(|boxes| boxes.borrow_mut().pop())
        .unwrap_or_else(|| Box::new(blank()))
}

/// Takes the data out of `data`'s box and keeps the box for the next span.
fn unbox(mut data: Box<SpanData>) -> SpanData {
    let taken = std::mem::replace(&mut *data, blank());
    BOXES.with(|boxes| {
        let mut boxes = boxes.borrow_mut();
        if boxes.len() < BOXES_MAX {
            boxes.push(data);
        }
    });
    taken
}

/// Keeps the box of an encoded span, and its attribute list, for the next span.
fn keep_box(mut data: Box<SpanData>) {
    data.attributes.clear();
    // Grown by a larger span (an error, a Claude call): not kept at that size.
    if data.attributes.capacity() > 2 * ATTRIBUTES_CAPACITY {
        data.attributes = Vec::new();
    }
    BOXES.with(|boxes| {
        let mut boxes = boxes.borrow_mut();
        if boxes.len() < BOXES_MAX {
            boxes.push(data);
        }
    });
}

/// What a kept box holds: nothing allocated.
fn blank() -> SpanData {
    SpanData {
        trace_id: Default::default(),
        span_id: Default::default(),
        parent_span_id: None,
        trace_state: String::new(),
        flags: 0,
        name: Cow::Borrowed(""),
        kind: SpanKind::Internal,
        start_time_unix_nano: 0,
        end_time_unix_nano: 0,
        attributes: Vec::new(),
        dropped_attributes_count: 0,
        events: Vec::new(),
        dropped_events_count: 0,
        status: Status::default(),
    }
}

impl Span {
    /// A span that records nothing (for code paths without a tracer).
    pub fn none() -> Span {
        Span {
            context: SpanContext::default(),
            recording: None,
        }
    }

    /// Ids and flags, for children and for log records.
    pub fn context(&self) -> &SpanContext {
        &self.context
    }

    /// Whether attributes and events are kept.
    pub fn is_recording(&self) -> bool {
        self.recording.is_some()
    }

    /// Sets an attribute (replacing one of the same key).
    pub fn set(&mut self, key: &'static str, value: impl Into<Value>) {
        if let Some(rec) = &mut self.recording {
            rec.set(Cow::Borrowed(key), value.into());
        }
    }

    /// Sets an attribute whose value is only built when the span is recording.
    pub fn set_with(&mut self, key: &'static str, value: impl FnOnce() -> Value) {
        if let Some(rec) = &mut self.recording {
            rec.set(Cow::Borrowed(key), value());
        }
    }

    /// Adds an event; its attributes are only built when the span is recording.
    pub fn add_event(&mut self, name: &'static str, attributes: impl FnOnce() -> Vec<KeyValue>) {
        if let Some(rec) = &mut self.recording {
            if rec.data.events.len() >= MAX_PER_SPAN {
                rec.data.dropped_events_count += 1;
                return;
            }
            let mut attributes = attributes();
            attributes.iter_mut().for_each(|kv| bound(&mut kv.value));
            rec.data.events.push(Event {
                time_unix_nano: rec.now(),
                name: Cow::Borrowed(name),
                attributes,
            });
        }
    }

    /// Status OK.
    pub fn set_ok(&mut self) {
        if let Some(rec) = &mut self.recording {
            rec.data.status = Status {
                code: StatusCode::Ok,
                message: String::new(),
            };
        }
    }

    /// Status ERROR with `message`, and an `exception` event, as `record_exception` does.
    pub fn record_error(&mut self, error_type: &str, message: &str) {
        if self.recording.is_none() {
            return;
        }
        // Error messages may quote client input: no secrets in exported spans, and
        // no more than `MAX_TEXT` of it.
        let message = crate::redact::redact_text(message);
        let message = cut(&message).into_owned();
        let error_type = error_type.to_string();
        self.add_event("exception", || {
            vec![
                KeyValue::new("exception.type", error_type),
                KeyValue::new("exception.message", message.clone()),
            ]
        });
        if let Some(rec) = &mut self.recording {
            rec.data.status = Status {
                code: StatusCode::Error,
                message,
            };
        }
    }

    /// Fixes the span's end time now; [`Span::end`] later keeps it. The encoding (the
    /// end's cost) can so wait until the request's answer is written.
    pub fn stop(&mut self) {
        if let Some(rec) = &mut self.recording
            && rec.data.end_time_unix_nano == 0
        {
            rec.data.end_time_unix_nano = rec.now();
        }
    }

    /// Ends the span and offers it to the export queue.
    // Inlined: passing the span by value to a call copies all of it (about 300
    // bytes, a `rep movsb` at opt-level "z"), a third of an unsampled span's cost.
    #[inline(always)]
    pub fn end(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        let Some(mut rec) = self.recording.take() else {
            return;
        };
        if rec.data.end_time_unix_nano == 0 {
            rec.data.end_time_unix_nano = rec.now();
        }
        let stats = &rec.inner.stats;
        match &rec.inner.queue {
            Queue::Channel(queue) => match queue.try_send(unbox(rec.data)) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => stats.dropped_queue_full.inc(),
                Err(TrySendError::Disconnected(_)) => stats.dropped_shutdown.inc(),
            },
            Queue::Export {
                spans,
                batch,
                signal,
            } => {
                let pushed = spans.push(unbox(rec.data));
                signal_export(pushed, *batch, signal, stats);
            }
            Queue::Encoded {
                spans,
                batch,
                signal,
            } => {
                let data = &*rec.data;
                let pushed = spans.push(|lens, out| crate::otlp::encode_span_item(data, lens, out));
                keep_box(rec.data);
                signal_export(pushed, *batch, signal, stats);
            }
        }
    }
}

/// Wakes the export thread once `batch` spans wait, or counts a span the full queue dropped.
fn signal_export(pushed: Pushed, batch: usize, signal: &SyncSender<()>, stats: &ExportStats) {
    match pushed {
        Pushed::Queued { waiting } if waiting >= batch => {
            // Full: a wake-up is already pending. Disconnected: the export thread is
            // gone, and its last flush has taken what it could.
            let _ = signal.try_send(());
        }
        Pushed::Queued { .. } => {}
        Pushed::Full => stats.dropped_queue_full.inc(),
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        // A cancelled request drops its span unfinished: it still ends, marked.
        if self.recording.is_some() {
            self.add_event("cancelled", Vec::new);
            self.finish();
        }
    }
}

impl Recording {
    fn set(&mut self, key: Cow<'static, str>, mut value: Value) {
        bound(&mut value);
        // Keys are mostly the same static strings: equal lengths and addresses settle
        // it without comparing bytes, and most keys differ in length.
        let same = |kv: &&mut KeyValue| {
            kv.key.len() == key.len()
                && (kv.key.as_ptr() == key.as_ptr() || kv.key.as_bytes() == key.as_bytes())
        };
        if let Some(kv) = self.data.attributes.iter_mut().find(same) {
            kv.value = value;
        } else if self.data.attributes.len() < MAX_PER_SPAN {
            self.data.attributes.push(KeyValue { key, value });
        } else {
            self.data.dropped_attributes_count += 1;
        }
    }

    /// Start time plus monotonic elapsed time, so that end >= start always.
    fn now(&self) -> u64 {
        self.data.start_time_unix_nano + self.started.elapsed().as_nanos() as u64
    }
}

/// Nanoseconds since the Unix epoch.
pub fn now_unix_nano() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, SamplerKind};
    use std::sync::mpsc::sync_channel;

    #[test]
    fn long_text_is_cut_in_attributes_events_and_status() {
        let mut config = Config::default().telemetry.tracing;
        config.sampler = SamplerKind::AlwaysOn;
        let (queue, rx) = sync_channel(4);
        let tracer = Tracer::new(Sampler::new(&config), queue, Arc::default(), "svc".into());
        let long = "é".repeat(3000);
        let mut span = tracer.start_root("request.process", SpanKind::Server, "ping", None);
        span.set("long", long.clone());
        span.set("short", "kept".to_string());
        span.set("many", Value::StrArray(vec![long.clone(); MAX_ITEMS + 4]));
        span.add_event("note", || vec![KeyValue::new("text", long.clone())]);
        span.record_error("Oops", &long);
        span.end();
        let data = rx.try_recv().expect("an exported span");
        let cut = |value: &Value| match value {
            Value::Str(text) => {
                assert!(text.len() <= MAX_TEXT + NOTE, "{} bytes", text.len());
                assert!(
                    text.ends_with("(6000 bytes)"),
                    "{}",
                    &text[text.len() - 20..]
                );
            }
            other => panic!("{other:?}"),
        };
        let attribute = |key: &str| {
            &data
                .attributes
                .iter()
                .find(|kv| kv.key == key)
                .expect(key)
                .value
        };
        cut(attribute("long"));
        match attribute("many") {
            Value::StrArray(items) => {
                assert_eq!(items.len(), MAX_ITEMS, "the first items of an array");
                items
                    .iter()
                    .for_each(|item| cut(&Value::from(item.clone())));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(attribute("short"), &Value::from("kept".to_string()));
        for event in &data.events {
            event
                .attributes
                .iter()
                .for_each(|kv| match kv.key.as_ref() {
                    "exception.type" => {}
                    _ => cut(&kv.value),
                });
        }
        assert_eq!(data.events.len(), 2, "the note and the exception");
        cut(&Value::Str(Text::Owned(data.status.message.clone())));
    }

    #[test]
    fn exported_spans_attribute_lists_are_reused_and_bounded() {
        let mut config = Config::default().telemetry.tracing;
        config.sampler = SamplerKind::AlwaysOn;
        let (queue, rx) = sync_channel(RECYCLED_MAX + 8);
        let tracer = Tracer::new(Sampler::new(&config), queue, Arc::default(), "svc".into());
        let recycler = tracer.recycler().expect("enabled tracer");
        let span = |i: i64| {
            let mut span = tracer.start_root("request.process", SpanKind::Server, "ping", None);
            span.set("n", i);
            span.end();
        };
        span(0);
        let mut batch: Vec<SpanData> = rx.try_iter().collect();
        let first = batch[0].attributes.as_ptr();
        recycler.recycle(&mut batch);
        assert!(batch.is_empty(), "recycle empties the batch");
        span(1);
        let mut batch: Vec<SpanData> = rx.try_iter().collect();
        assert_eq!(
            batch[0].attributes.as_ptr(),
            first,
            "the next span reuses the list"
        );
        assert_eq!(
            batch[0].attributes,
            vec![
                KeyValue::new("service.name", "svc"),
                KeyValue::new("n", 1i64)
            ],
            "a reused list holds only the new span's attributes"
        );
        recycler.recycle(&mut batch);
        (0..RECYCLED_MAX as i64 + 8).for_each(span);
        let mut batch: Vec<SpanData> = rx.try_iter().collect();
        recycler.recycle(&mut batch);
        assert_eq!(
            recycler.lists.lock().expect("lock").len(),
            RECYCLED_MAX,
            "the pool keeps at most one batch of lists"
        );
    }
}
