//! The request context of log records (the spec's `with_mcp_context`): session,
//! request, trace and span ids, and the conversation when there is one.
//!
//! No global "current request": the context is bound to the request's task. The
//! executor is single-threaded and interleaves tasks, so [`in_context`] wraps a
//! future and installs its context in a thread-local only while that future is
//! polled; [`scope`] does the same around synchronous code, and [`unblock`]
//! carries the caller's context into a `smol::unblock` thread explicitly.

use crate::telemetry::hex_digits;
use crate::telemetry::model::{SpanId, TraceId};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

/// What every record emitted while serving one request carries.
#[derive(Debug, Default)]
pub struct LogContext {
    /// The stdio connection (`mcp.session.id`).
    pub session_id: String,
    /// The JSON-RPC request id as text.
    pub request_id: String,
    /// The ids of the request's `request.process` span (none: no span).
    pub trace: Option<(TraceId, SpanId)>,
    /// `trace` in hex, written by the request's first record (if any) for all of them.
    trace_hex: OnceLock<([u8; 32], [u8; 16])>,
    conversation_id: OnceLock<String>,
}

impl LogContext {
    /// A context for one request; all-zero span ids count as no span.
    pub fn new(
        session_id: String,
        request_id: String,
        trace: Option<(TraceId, SpanId)>,
    ) -> LogContext {
        let trace = trace.filter(|(t, s)| t.0 != [0; 16] && s.0 != [0; 8]);
        LogContext {
            session_id,
            request_id,
            trace_hex: OnceLock::new(),
            trace,
            conversation_id: OnceLock::new(),
        }
    }

    /// The trace and span ids in lower-case hex, as W3C writes them.
    pub fn trace_hex(&self) -> Option<(&str, &str)> {
        let (trace, span) = self.trace?;
        let (trace, span) = self
            .trace_hex
            .get_or_init(|| (hex_digits(&trace.0), hex_digits(&span.0)));
        // Hex digits are ASCII.
        Some((
            std::str::from_utf8(trace).unwrap_or_default(),
            std::str::from_utf8(span).unwrap_or_default(),
        ))
    }

    /// Names the Claude conversation this request belongs to; records from then on
    /// carry `conversation_id`. Only the first call counts.
    pub fn set_conversation_id(&self, id: &str) {
        let _ = self.conversation_id.set(id.to_string());
    }

    /// The conversation, once set.
    pub fn conversation_id(&self) -> Option<&str> {
        self.conversation_id.get().map(String::as_str)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<LogContext>>> = const { RefCell::new(None) };
}

/// The context of the code running now on this thread, if any.
pub fn current() -> Option<Arc<LogContext>> {
    // `try_with`: a record logged while this thread's locals are torn down has no context.
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

/// Runs `f` with `context` installed, restoring the previous one afterwards
/// (also when `f` panics).
pub fn scope<R>(context: Option<&Arc<LogContext>>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<LogContext>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|c| c.replace(context.cloned()));
    let _restore = Restore(previous);
    f()
}

/// `future` (already pinned, as a task's boxed future is), with `context`
/// installed whenever it is polled.
pub fn in_context<F: Future + Unpin>(context: Arc<LogContext>, future: F) -> InContext<F> {
    InContext { context, future }
}

/// A future polled inside its request's log context (see [`in_context`]).
#[derive(Debug)]
pub struct InContext<F> {
    context: Arc<LogContext>,
    future: F,
}

impl<F: Future + Unpin> Future for InContext<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        scope(Some(&this.context), || Pin::new(&mut this.future).poll(cx))
    }
}

/// `smol::unblock(f)` with the caller's log context installed on the blocking thread.
pub fn unblock<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> smol::Task<T> {
    let context = current();
    smol::unblock(move || scope(context.as_ref(), f))
}

/// Sets the conversation of the request running now (see [`LogContext::set_conversation_id`]).
pub fn set_conversation_id(id: &str) {
    if let Some(context) = current() {
        context.set_conversation_id(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn ctx(id: &str) -> Arc<LogContext> {
        Arc::new(LogContext::new("s".into(), id.into(), None))
    }

    fn current_id() -> Option<String> {
        current().map(|c| c.request_id.clone())
    }

    #[test]
    fn interleaved_tasks_each_see_only_their_own_context() {
        let ex = smol::LocalExecutor::new();
        let seen = Rc::new(RefCell::new(Vec::new()));
        let mut tasks = Vec::new();
        for id in ["a", "b"] {
            let seen = Rc::clone(&seen);
            tasks.push(ex.spawn(in_context(
                ctx(id),
                Box::pin(async move {
                    for _ in 0..3 {
                        seen.borrow_mut().push((id, current_id()));
                        smol::future::yield_now().await;
                    }
                }),
            )));
        }
        smol::block_on(ex.run(async {
            for task in tasks {
                task.await;
            }
        }));
        let seen = seen.borrow();
        assert_eq!(seen.len(), 6, "both tasks ran three steps");
        for (id, current) in seen.iter() {
            assert_eq!(
                current.as_deref(),
                Some(*id),
                "task {id} saw another context"
            );
        }
        assert_eq!(current_id(), None, "nothing left installed between polls");
    }

    #[test]
    fn scope_restores_and_unblock_carries_the_context() {
        let outer = ctx("outer");
        scope(Some(&outer), || {
            scope(Some(&ctx("inner")), || {
                assert_eq!(current_id().as_deref(), Some("inner"))
            });
            assert_eq!(
                current_id().as_deref(),
                Some("outer"),
                "restored after the inner scope"
            );
            let on_thread = smol::block_on(unblock(current_id));
            assert_eq!(
                on_thread.as_deref(),
                Some("outer"),
                "blocking closure got it"
            );
            set_conversation_id("c1");
        });
        assert_eq!(outer.conversation_id(), Some("c1"));
        assert_eq!(current_id(), None);
        let zero = LogContext::new(
            "s".into(),
            "1".into(),
            Some((TraceId([0; 16]), SpanId([0; 8]))),
        );
        assert_eq!(zero.trace, None, "all-zero ids are no span");
    }
}
