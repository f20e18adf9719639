//! Blocking work of the tools and the Claude client, run off the executor through
//! [`crate::logging::unblock`] (smol's blocking pool, with the request's log context) with
//! one instance of the task machinery for every caller: each distinct closure and result
//! type given to `smol::unblock` costs about 3 kB of code (its task, its blocking closure,
//! the log scope), so closures and results pass through here boxed (README "Size after the
//! feature merges").

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

type Erased = Box<dyn Any + Send>;
type Work = Box<dyn FnOnce() -> Erased + Send>;

/// Runs `f` on the blocking pool; await the result. Dropping it before it is ready cancels
/// the task (`f` still runs to its end if it had started, as with `smol::unblock`).
pub fn unblock<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Unblocked<T> {
    let work: Work = Box::new(move || Box::new(f()) as Erased);
    Unblocked {
        task: crate::logging::unblock(work),
        result: PhantomData,
    }
}

/// A blocking call in flight, resolving to its closure's result.
#[derive(Debug)]
pub struct Unblocked<T> {
    task: smol::Task<Erased>,
    result: PhantomData<fn() -> T>,
}

impl<T: 'static> Future for Unblocked<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        Pin::new(&mut self.task).poll(cx).map(|result| {
            *result
                .downcast::<T>()
                .expect("the boxed closure returns the T it was created with")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_of_different_types_come_back_as_they_were_returned() {
        smol::block_on(async {
            assert_eq!(unblock(|| 7u32).await, 7, "a number");
            assert_eq!(unblock(|| "text".to_string()).await, "text", "a string");
            let io: std::io::Result<()> = unblock(|| Err(std::io::Error::other("boom"))).await;
            assert_eq!(
                io.expect_err("an error").to_string(),
                "boom",
                "an error result"
            );
            let mut pending = unblock(|| std::thread::current().id());
            let id = (&mut pending).await;
            assert_ne!(id, std::thread::current().id(), "it ran on another thread");
        });
    }
}
