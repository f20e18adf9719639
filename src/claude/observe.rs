//! The spec's "Claude API Tracing" around one call: the `claude.message.send`
//! span (kind CLIENT, child of the tool's span) with the spec's attributes and
//! events plus the OpenTelemetry GenAI ones, retries as span events, the
//! `record_claude_request` metrics, the "Claude API request" log record, and an
//! authentication failure reported as a critical error. Streamed text deltas
//! become `notifications/progress` while the answer grows.

use super::{Call, Claude, Failure, Outcome, Progress, Request};
use crate::logging::{AUTHENTICATION_ERROR, ErrorTracker};
use crate::mcp::RequestContext;
use crate::metrics::Metrics;
use crate::telemetry::model::{KeyValue, Value as AttrValue};
use crate::telemetry::{Span, SpanKind};
use std::time::Instant;

/// Sends `request` for `conversation_id`, streaming when the MCP request asked for
/// progress, and reports the call to every observability signal. Cancellation (the
/// future dropped) abandons the call; its span ends with a `cancelled` event.
pub async fn send_message(
    ctx: &RequestContext,
    claude: &Claude,
    mut request: Request,
    conversation_id: &str,
) -> Result<Outcome, Box<Failure>> {
    request.stream = ctx.wants_progress();
    let obs = &ctx.services.obs;
    let mut span = obs
        .tracer
        .start_child("claude.message.send", SpanKind::Client, &ctx.trace);
    start_attributes(&mut span, &request, conversation_id);
    span.set("mcp.protocol.version", ctx.version.as_str());
    span.set_with("mcp.session.id", || {
        AttrValue::from(ctx.services.session_id.clone())
    });
    let mut pending = Pending {
        span,
        metrics: &obs.metrics,
        errors: &obs.errors,
        // The client's text (a model id in form only), for records: redacted.
        model: crate::redact::redact_text(&request.model).into_owned(),
        // Its metric label: a client's text never becomes one (it could hold a
        // secret). The configured model keeps its name (successes and failures in
        // the same series); another model is `other` until the API names the model
        // it served.
        label: (request.model == claude.default_model).then(|| request.model.clone()),
        message_count: request.messages.len(),
        conversation_id,
        started: Instant::now(),
        done: false,
    };
    let call = Call::start(claude.client(), request);
    let mut streamed = 0usize;
    while let Some(item) = call.next().await {
        let mut text = String::new();
        let mut items = vec![item];
        // Deltas that queued up while the last notification went out: one notification.
        while let Some(more) = call.try_next() {
            items.push(more);
        }
        for item in items {
            match item {
                Progress::Retry(retry) => pending.retry(&retry),
                Progress::Text(delta) => text.push_str(&delta),
            }
        }
        if !text.is_empty() {
            streamed += text.chars().count();
            ctx.progress(streamed as f64, None, Some(&text)).await;
        }
    }
    let result = call.finish().await;
    pending.finish(&result);
    result
}

fn start_attributes(span: &mut Span, request: &Request, conversation_id: &str) {
    if !span.is_recording() {
        return;
    }
    span.set("claude.model", request.model.clone());
    span.set("claude.message.count", request.messages.len() as i64);
    span.set("claude.max_tokens", i64::from(request.max_tokens));
    span.set("gen_ai.system", "anthropic");
    span.set("gen_ai.operation.name", "chat");
    span.set("gen_ai.request.model", request.model.clone());
    span.set("gen_ai.request.max_tokens", i64::from(request.max_tokens));
    if let Some(t) = request.temperature {
        span.set("gen_ai.request.temperature", t);
    }
    span.set("mcp.conversation.id", conversation_id.to_string());
    span.set("claude.stream", request.stream);
    let tools = request.tools.len() as i64;
    span.add_event("claude.request.start", || {
        vec![KeyValue::new("claude.tools.count", tools)]
    });
}

/// A call in flight; reports a cancellation when dropped unfinished.
/// The `model` label of a call for a model other than the configured one that got
/// no answer naming it.
const OTHER_MODEL: &str = "other";

struct Pending<'a> {
    span: Span,
    metrics: &'a Metrics,
    errors: &'a ErrorTracker,
    model: String,
    /// The `model` label once known: the configured model, or the model the API
    /// said it served; `other` until then.
    label: Option<String>,
    message_count: usize,
    conversation_id: &'a str,
    started: Instant,
    done: bool,
}

impl Pending<'_> {
    fn label(&self) -> &str {
        self.label.as_deref().unwrap_or(OTHER_MODEL)
    }

    fn retry(&mut self, retry: &super::Retry) {
        let (retry_number, wait_ms) = (i64::from(retry.retry), retry.wait.as_millis() as i64);
        let error_type = retry.error.type_name().to_string();
        let status = match &retry.error {
            super::Error::Api { status, .. } => i64::from(*status),
            _ => 0,
        };
        self.span.add_event("claude.request.retry", || {
            vec![
                KeyValue::new("claude.retry.number", retry_number),
                KeyValue::new("claude.retry.wait_ms", wait_ms),
                KeyValue::new("error.type", error_type.clone()),
                KeyValue::new("http.response.status_code", status),
            ]
        });
        log::warn!(
            claude_model = self.model.as_str(),
            retry = retry.retry,
            wait_ms = wait_ms,
            error_type = retry.error.type_name(),
            error_message:% = retry.error,
            conversation_id = self.conversation_id;
            "Claude API request failed; retrying"
        );
    }

    fn finish(&mut self, result: &Result<Outcome, Box<Failure>>) {
        self.done = true;
        let seconds = self.started.elapsed().as_secs_f64();
        let span = &mut self.span;
        span.set("claude.request.duration_ms", (seconds * 1000.0) as i64);
        match result {
            Ok(outcome) => {
                let response = &outcome.response;
                let usage = response.usage;
                let total = usage.input_tokens + usage.output_tokens;
                if span.is_recording() {
                    span.set("claude.tokens.input", usage.input_tokens as i64);
                    span.set("claude.tokens.output", usage.output_tokens as i64);
                    span.set("claude.tokens.total", total as i64);
                    span.set("gen_ai.response.model", response.model.clone());
                    span.set("gen_ai.response.id", response.id.clone());
                    span.set(
                        "gen_ai.response.finish_reasons",
                        AttrValue::StrArray(vec![response.stop_reason.clone()]),
                    );
                    span.set("gen_ai.usage.input_tokens", usage.input_tokens as i64);
                    span.set("gen_ai.usage.output_tokens", usage.output_tokens as i64);
                    span.set(
                        "gen_ai.usage.cache_creation.input_tokens",
                        usage.cache_creation_input_tokens as i64,
                    );
                    span.set(
                        "gen_ai.usage.cache_read.input_tokens",
                        usage.cache_read_input_tokens as i64,
                    );
                    span.set("claude.retry.count", i64::from(outcome.retries));
                    if let Some(id) = &response.request_id {
                        span.set("claude.request.id", id.clone());
                    }
                    span.add_event("claude.response.received", Vec::new);
                    span.set_ok();
                }
                if self.label.is_none() && super::is_model_id(&response.model) {
                    self.label = Some(crate::redact::redact_text(&response.model).into_owned());
                }
                self.metrics.record_claude_request(
                    self.label(),
                    seconds,
                    usage.input_tokens,
                    usage.output_tokens,
                    false,
                );
                log::info!(
                    claude_model = self.model.as_str(),
                    message_count = self.message_count,
                    token_count = total,
                    conversation_id = self.conversation_id,
                    duration_ms = (seconds * 1000.0) as u64,
                    stop_reason = response.stop_reason.as_str(),
                    claude_request_id = response.request_id.as_deref().unwrap_or("");
                    "Claude API request"
                );
            }
            Err(failure) => {
                let error = &failure.error;
                if span.is_recording() {
                    span.set("error.type", error.type_name().to_string());
                    span.set("claude.retry.count", i64::from(failure.retries));
                    if let super::Error::Api { status, .. } = error {
                        span.set("http.response.status_code", i64::from(*status));
                    }
                    if let Some(id) = error.request_id() {
                        span.set("claude.request.id", id.to_string());
                    }
                    span.record_error(error.type_name(), &error.to_string());
                }
                self.metrics
                    .record_claude_request(self.label(), seconds, 0, 0, true);
                log::warn!(
                    claude_model = self.model.as_str(),
                    message_count = self.message_count,
                    conversation_id = self.conversation_id,
                    duration_ms = (seconds * 1000.0) as u64,
                    retries = failure.retries,
                    error_type = error.type_name(),
                    error_message:% = error,
                    claude_request_id = error.request_id().unwrap_or("");
                    "Claude API request failed"
                );
                // Every failed call is tracked; a refused key is critical (the spec's
                // `AuthenticationError`): "Critical error detected", counted, in /health.
                let error_type = if error.is_authentication() {
                    AUTHENTICATION_ERROR
                } else {
                    error.type_name()
                };
                self.errors.track_error(
                    "claude.message.send",
                    error_type,
                    &error.to_string(),
                    &[
                        ("claude_model", self.model.as_str()),
                        ("conversation_id", self.conversation_id),
                    ],
                );
            }
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.done {
            let span = std::mem::replace(&mut self.span, Span::none());
            span.end();
            return;
        }
        // Cancelled: the span ends with its `cancelled` event when dropped; the call counts as failed.
        let seconds = self.started.elapsed().as_secs_f64();
        self.span
            .set("claude.request.duration_ms", (seconds * 1000.0) as i64);
        self.span.set("error.type", "cancelled");
        self.metrics
            .record_claude_request(self.label(), seconds, 0, 0, true);
        log::info!(
            claude_model = self.model.as_str(),
            message_count = self.message_count,
            conversation_id = self.conversation_id,
            duration_ms = (seconds * 1000.0) as u64;
            "Claude API request abandoned: the MCP request was cancelled"
        );
    }
}
