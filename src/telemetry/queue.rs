//! The bounded queues between the tracer and the span export thread. For OTLP,
//! [`EncodedQueue`]: spans encoded as they end, their bytes end to end. For the
//! console, [`SharedQueue`]: a `Vec` behind a mutex that the export thread swaps with
//! its emptied batch, so that two buffers of one batch each go back and forth.
//! Unlike `sync_channel`, which allocates and touches every slot of its capacity up
//! front (2048 spans: 400 kB of resident memory for a queue that holds a few spans at
//! a time), both grow only as far as spans wait, and hand a whole batch over at once.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// At most `capacity` items waiting for the export thread.
#[derive(Debug)]
pub(crate) struct SharedQueue<T> {
    items: Mutex<Vec<T>>,
    capacity: usize,
}

/// What [`SharedQueue::push`] did with an item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued; `waiting` items are queued now.
    Queued { waiting: usize },
    /// The queue was full: the item was dropped.
    Full,
}

impl<T> SharedQueue<T> {
    /// An empty queue that holds at most `capacity` items (no memory taken yet).
    pub(crate) fn new(capacity: usize) -> SharedQueue<T> {
        SharedQueue {
            items: Mutex::new(Vec::new()),
            capacity,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<T>> {
        // A panic while holding the lock cannot leave a Vec half-pushed.
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `item` unless `capacity` items are waiting; never waits for the consumer
    /// longer than a push or a swap takes.
    pub(crate) fn push(&self, item: T) -> Pushed {
        let mut items = self.lock();
        if items.len() >= self.capacity {
            return Pushed::Full;
        }
        items.push(item);
        Pushed::Queued {
            waiting: items.len(),
        }
    }

    /// Moves waiting items into `batch` until it holds `max`; true if any were moved.
    /// An empty `batch` and at most `max` waiting: the two buffers are swapped, so the
    /// queue goes on with `batch`'s memory.
    pub(crate) fn take(&self, batch: &mut Vec<T>, max: usize) -> bool {
        let mut items = self.lock();
        if items.is_empty() {
            return false;
        }
        if batch.is_empty() && items.len() <= max {
            std::mem::swap(batch, &mut *items);
        } else {
            let n = max.saturating_sub(batch.len()).min(items.len());
            batch.extend(items.drain(..n));
        }
        true
    }
}

/// Spans encoded when they ended (OTLP `ScopeSpans.spans` fields laid end to end),
/// and how many.
#[derive(Debug, Default)]
pub(crate) struct EncodedSpans {
    /// The encoded spans.
    pub(crate) bytes: Vec<u8>,
    /// How many spans `bytes` holds.
    pub(crate) count: usize,
}

impl EncodedSpans {
    /// Forgets the spans, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.count = 0;
    }
}

/// The span queue of the OTLP export thread: spans are encoded into it as they end,
/// so that no span data crosses threads (no list allocated on the MCP thread and
/// freed on the export thread) and the export thread only frames and sends. Bounded
/// in spans (`OTEL_BSP_MAX_QUEUE_SIZE`) and in bytes.
#[derive(Debug)]
pub(crate) struct EncodedQueue {
    state: Mutex<Encoding>,
    capacity: usize,
    max_bytes: usize,
}

#[derive(Debug, Default)]
struct Encoding {
    waiting: EncodedSpans,
    /// The encoder's scratch memory, used under the lock.
    lens: Vec<u32>,
}

impl EncodedQueue {
    /// An empty queue for at most `capacity` spans and `max_bytes` of them.
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> EncodedQueue {
        EncodedQueue {
            state: Mutex::new(Encoding::default()),
            capacity,
            max_bytes,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Encoding> {
        // A panic in an encoder can leave at most a partial span at the end, which
        // the export thread's split stops at.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues one span that `encode` appends (with the scratch memory it is given),
    /// unless the queue is full.
    pub(crate) fn push(&self, encode: impl FnOnce(&mut Vec<u32>, &mut Vec<u8>)) -> Pushed {
        let mut state = self.lock();
        let Encoding { waiting, lens } = &mut *state;
        if waiting.count >= self.capacity || waiting.bytes.len() >= self.max_bytes {
            return Pushed::Full;
        }
        encode(lens, &mut waiting.bytes);
        waiting.count += 1;
        Pushed::Queued {
            waiting: waiting.count,
        }
    }

    /// Moves every waiting span to the end of `batch`; true if any were moved. An
    /// empty `batch` swaps buffers with the queue, as [`SharedQueue::take`] does.
    pub(crate) fn take(&self, batch: &mut EncodedSpans) -> bool {
        let mut state = self.lock();
        let waiting = &mut state.waiting;
        if waiting.count == 0 {
            return false;
        }
        if batch.count == 0 {
            batch.bytes.clear();
            std::mem::swap(batch, waiting);
        } else {
            batch.bytes.extend_from_slice(&waiting.bytes);
            batch.count += waiting.count;
            waiting.clear();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_handed_over_in_batches() {
        let queue = SharedQueue::new(3);
        assert_eq!(queue.push(1), Pushed::Queued { waiting: 1 }, "first");
        assert_eq!(queue.push(2), Pushed::Queued { waiting: 2 }, "second");
        assert_eq!(queue.push(3), Pushed::Queued { waiting: 3 }, "third");
        assert_eq!(
            queue.push(4),
            Pushed::Full,
            "a full queue drops the new item"
        );
        let mut batch = Vec::new();
        assert!(queue.take(&mut batch, 2), "items were waiting");
        assert_eq!(batch, [1, 2], "at most `max`, oldest first");
        assert!(queue.take(&mut batch, 2), "one was still waiting");
        assert_eq!(batch, [1, 2], "a full batch takes no more");
        batch.clear();
        assert!(queue.take(&mut batch, 2), "the rest");
        assert_eq!(batch, [3], "the rest, in order");
        assert!(!queue.take(&mut batch, 2), "nothing left");
        assert_eq!(queue.push(5), Pushed::Queued { waiting: 1 }, "room again");
    }

    #[test]
    fn encoded_spans_are_bounded_in_count_and_bytes() {
        let queue = EncodedQueue::new(3, 10);
        let push = |bytes: &[u8]| queue.push(|_, out| out.extend_from_slice(bytes));
        assert_eq!(push(b"ab"), Pushed::Queued { waiting: 1 }, "first");
        assert_eq!(push(b"cd"), Pushed::Queued { waiting: 2 }, "second");
        let mut batch = EncodedSpans::default();
        assert!(queue.take(&mut batch), "two waiting");
        assert_eq!(
            (&batch.bytes[..], batch.count),
            (&b"abcd"[..], 2),
            "taken whole"
        );
        assert!(!queue.take(&mut batch), "nothing left");
        assert_eq!(push(b"0123456789"), Pushed::Queued { waiting: 1 }, "big");
        assert_eq!(push(b"x"), Pushed::Full, "over the byte bound");
        assert!(queue.take(&mut batch), "the big one");
        assert_eq!(batch.count, 3, "appended to a batch not yet sent");
        assert_eq!(&batch.bytes[..], b"abcd0123456789", "in order");
        (0..3).for_each(|_| assert!(matches!(push(b"y"), Pushed::Queued { .. })));
        assert_eq!(push(b"z"), Pushed::Full, "over the span bound");
    }

    #[test]
    fn an_empty_batch_swaps_buffers() {
        let queue = SharedQueue::new(8);
        let mut batch: Vec<u32> = Vec::with_capacity(64);
        let spare = batch.as_ptr();
        queue.push(7);
        assert!(queue.take(&mut batch, 4), "one waiting");
        assert_eq!(batch, [7], "taken");
        batch.clear();
        queue.push(8);
        assert_eq!(
            queue.lock().as_ptr(),
            spare,
            "the queue reuses the memory the batch gave it"
        );
    }
}
