//! Cancellation of one request: the server keeps a [`Handle`] in its in-flight
//! table, the request's task awaits [`Cancelled`]. Dropping the handle (a
//! `notifications/cancelled`, or shutdown) wakes the task, which then drops its
//! work. Single-threaded and one allocation per request, where a channel costs
//! several.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct Shared {
    cancelled: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("cancelled", &self.cancelled.get())
            .finish_non_exhaustive()
    }
}

/// The server's side: dropping it cancels the request.
#[derive(Debug)]
pub(crate) struct Handle(Rc<Shared>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.cancelled.set(true);
        if let Some(waker) = self.0.waker.take() {
            waker.wake();
        }
    }
}

/// The request's side: ready once its handle is dropped.
#[derive(Debug)]
pub(crate) struct Cancelled(Rc<Shared>);

impl Future for Cancelled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0.cancelled.get() {
            return Poll::Ready(());
        }
        self.0.waker.set(Some(cx.waker().clone()));
        Poll::Pending
    }
}

/// A new handle and the future it completes.
pub(crate) fn pair() -> (Handle, Cancelled) {
    let shared = Rc::new(Shared::default());
    (Handle(Rc::clone(&shared)), Cancelled(shared))
}

#[cfg(test)]
mod tests {
    use super::*;
    use smol::future::FutureExt;

    #[test]
    fn dropping_the_handle_completes_the_future_and_only_then() {
        let (handle, cancelled) = pair();
        let mut cancelled = Box::pin(cancelled);
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(cancelled.poll(&mut cx).is_pending(), "not cancelled yet");
        drop(handle);
        assert!(cancelled.poll(&mut cx).is_ready(), "cancelled by the drop");
        smol::block_on(async {
            let (handle, cancelled) = pair();
            let waiting = async {
                cancelled.await;
                true
            };
            let dropping = async {
                smol::future::yield_now().await;
                drop(handle);
                smol::future::pending::<bool>().await
            };
            assert!(waiting.or(dropping).await, "the waiting task was woken");
        });
    }
}
