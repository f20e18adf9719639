//! Background threads kept off the first answer's path. A stdio server is spawned
//! for each session and its client waits for the `initialize` answer, so while
//! starts are held (from `hold` until the stdio loop first has nothing to do, or
//! shutdown), `spawn` only queues a thread; `release` starts every queued one.
//! Outside a held window (tests, tools, benches) `spawn` starts at once.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

type Start = Box<dyn FnOnce() + Send>;

/// Queued starts while held; `None` when threads start at once.
static HELD: Mutex<Option<Vec<Start>>> = Mutex::new(None);

/// A thread started now or queued; joinable either way.
#[derive(Debug)]
pub(crate) struct Handle {
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Handle {
    /// Waits for the thread to end; returns at once if it never started.
    pub(crate) fn join(self) {
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// Holds back thread starts until [`release`].
pub fn hold() {
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    held.get_or_insert_with(Vec::new);
}

/// Starts every held thread, and from now on threads start at once. Idempotent.
pub fn release() {
    let queued = HELD.lock().unwrap_or_else(PoisonError::into_inner).take();
    for start in queued.into_iter().flatten() {
        start();
    }
}

/// Starts `body` on a thread named `name`, or queues it while starts are held. An
/// error is returned only for a start attempted now; a held start that fails is
/// logged when it is released.
pub(crate) fn spawn(name: String, body: impl FnOnce() + Send + 'static) -> io::Result<Handle> {
    // Boxed at once: one instance of the thread machinery for every caller (each
    // distinct closure given to `Builder::spawn` costs its own copy of it).
    spawn_boxed(name, Box::new(body))
}

fn spawn_boxed(name: String, body: Start) -> io::Result<Handle> {
    let thread = Arc::new(Mutex::new(None));
    let handle = Handle {
        thread: Arc::clone(&thread),
    };
    let mut held = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    match held.as_mut() {
        Some(queue) => {
            queue.push(Box::new(move || {
                match std::thread::Builder::new().name(name.clone()).spawn(body) {
                    Ok(started) => {
                        *thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(started);
                    }
                    Err(e) => log::error!(thread = name.as_str(), error:% = e; "cannot start a background thread"),
                }
            }));
        }
        None => {
            drop(held);
            let started = std::thread::Builder::new().name(name).spawn(body)?;
            *thread.lock().unwrap_or_else(PoisonError::into_inner) = Some(started);
        }
    }
    Ok(handle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    // One test: the hold is process-wide, so its steps must not interleave with
    // another test's.
    #[test]
    fn held_starts_wait_for_release_and_later_ones_start_at_once() {
        let ran = Arc::new(AtomicUsize::new(0));
        hold();
        let count = Arc::clone(&ran);
        let held = spawn("held".into(), move || {
            count.fetch_add(1, Ordering::SeqCst);
        })
        .expect("queued");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(ran.load(Ordering::SeqCst), 0, "nothing runs while held");
        release();
        held.join();
        assert_eq!(ran.load(Ordering::SeqCst), 1, "release started it");
        release();
        let count = Arc::clone(&ran);
        spawn("direct".into(), move || {
            count.fetch_add(1, Ordering::SeqCst);
        })
        .expect("started")
        .join();
        assert_eq!(
            ran.load(Ordering::SeqCst),
            2,
            "after release, starts are immediate"
        );
    }
}
