//! What a handler knows about the request it serves and may send while it runs:
//! progress (strictly increasing, only with a `progressToken`) and log messages
//! (only at or above the level the client asked for). Both go through the same
//! outbox as the response, in order, so none can follow the response.

use super::loglevel::LogLevel;
use super::notify::Notifier;
use super::version::Version;
use crate::jsonrpc::{self, Id};
use crate::telemetry::SpanContext;
use crate::tools::Services;
use serde_json::{Map, Value, json};
use std::cell::Cell;
use std::rc::Rc;

/// The context of one request, shared by its handler.
#[derive(Debug)]
pub struct RequestContext {
    /// The request id.
    pub id: Id,
    /// The method.
    pub method: String,
    /// The revision this request is served under.
    pub version: Version,
    /// `params._meta.progressToken`, when the client asked for progress.
    progress_token: Option<Value>,
    /// Last progress value sent, to keep the sequence strictly increasing.
    last_progress: Cell<Option<f64>>,
    /// Level the client wants log notifications at for this request (`None`: none).
    log_level: Option<LogLevel>,
    notifier: Rc<Notifier>,
    /// The span this request's work runs in: parent for further spans, ids for log records.
    pub trace: SpanContext,
    /// Configuration, observability and what tools use (sandbox, health, Claude client).
    pub services: Rc<Services>,
}

impl RequestContext {
    #[allow(
        clippy::too_many_arguments,
        reason = "one constructor, called from one place in dispatch with the request's parts"
    )]
    pub(crate) fn new(
        id: Id,
        method: String,
        version: Version,
        meta: Option<&Map<String, Value>>,
        log_level: Option<LogLevel>,
        notifier: Rc<Notifier>,
        trace: SpanContext,
        services: Rc<Services>,
    ) -> RequestContext {
        let progress_token = meta
            .and_then(|m| m.get("progressToken"))
            .filter(|t| t.is_string() || t.is_i64() || t.is_u64())
            .cloned();
        RequestContext {
            id,
            method,
            version,
            progress_token,
            last_progress: Cell::new(None),
            log_level,
            notifier,
            trace,
            services,
        }
    }

    /// Whether the client asked for progress on this request.
    pub fn wants_progress(&self) -> bool {
        self.progress_token.is_some()
    }

    /// Sends `notifications/progress` if the client asked for it and `progress`
    /// is greater than the last value sent; otherwise does nothing.
    pub async fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        if !progress.is_finite()
            || self
                .last_progress
                .get()
                .is_some_and(|last| progress <= last)
        {
            return;
        }
        self.last_progress.set(Some(progress));
        let mut params = json!({"progressToken": token, "progress": number(progress)});
        if let Some(total) = total {
            params["total"] = number(total);
        }
        if let (Some(message), true) = (message, self.version >= Version::V2025_03_26) {
            params["message"] = json!(message);
        }
        self.notifier
            .send(jsonrpc::encode_notification(
                "notifications/progress",
                &params,
            ))
            .await;
    }

    /// Sends `notifications/message` when `level` is at or above what the client
    /// asked for, within the server's notification rate.
    pub async fn log(&self, level: LogLevel, logger: &str, data: Value) {
        if self.log_level.is_some_and(|min| level >= min) {
            self.notifier.log(level, logger, data).await;
        }
    }
}

/// Whole numbers as JSON integers (`3`, not `3.0`), others as floats.
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}
