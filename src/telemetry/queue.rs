//! The bounded queue between the tracer and the span export thread: a `Vec` behind
//! a mutex that the export thread swaps with its emptied batch, so that two buffers of
//! one batch each go back and forth. Unlike `sync_channel`, which allocates and
//! touches every slot of its capacity up front (2048 spans: 400 kB of resident memory
//! for a queue that holds a few spans at a time), it grows only as far as spans wait,
//! and hands a whole batch over without moving each span through a channel slot.

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
