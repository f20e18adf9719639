//! `claude_conversation`: asks Claude through the Messages API. Without a
//! `conversation_id` it is one turn that starts a new conversation; with one,
//! the conversation's earlier turns are sent too. Served only when an API key
//! is configured. API failures are `isError` results saying what to do.

use super::{Annotations, Tool, ToolResult, schema};
use crate::claude::{self, ApiErrorType, Error, Failure, GaveUp, Message, Refusal, Request, Role};
use crate::mcp::RequestContext;
use serde_json::{Map, Value, json};
use std::rc::Rc;
use std::time::Instant;

pub(super) fn tool() -> Tool {
    Tool {
        name: "claude_conversation",
        title: "Ask Claude",
        description: "Send a message to Claude (Anthropic Messages API) and return its answer. \
            Omit `conversation_id` to start a new conversation; pass the `conversation_id` of an \
            earlier answer to continue it (earlier turns are kept in this server's memory for a \
            limited time and size). With a progress token the answer is streamed as progress \
            notifications while it is written.",
        input_schema: schema(
            r#"{
            "type": "object",
            "properties": {
                "message": {"type": "string", "minLength": 1, "description": "What to say to Claude."},
                "system_prompt": {"type": "string", "description": "System prompt for this turn."},
                "model": {"type": "string", "minLength": 1, "maxLength": 100, "description": "Model id, e.g. claude-sonnet-5-5; defaults to the server's configured model."},
                "max_tokens": {"type": "integer", "minimum": 1, "maximum": 128000, "description": "Most tokens in the answer; defaults to the server's setting."},
                "temperature": {"type": "number", "minimum": 0, "maximum": 1, "description": "Sampling temperature (some newer models accept only the default)."},
                "conversation_id": {"type": "string", "minLength": 1, "maxLength": 100, "description": "Continue this conversation (from an earlier result)."}
            },
            "required": ["message"],
            "additionalProperties": false
        }"#,
        ),
        output_schema: Some(schema(
            r#"{
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "conversation_id": {"type": "string"},
                "model": {"type": "string"},
                "stop_reason": {"type": "string"},
                "usage": {
                    "type": "object",
                    "properties": {
                        "input_tokens": {"type": "integer"},
                        "output_tokens": {"type": "integer"},
                        "cache_creation_input_tokens": {"type": "integer"},
                        "cache_read_input_tokens": {"type": "integer"}
                    },
                    "required": ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
                },
                "messages_kept": {"type": "integer"},
                "request_id": {"type": "string"}
            },
            "required": ["text", "conversation_id", "model", "stop_reason", "usage", "messages_kept"]
        }"#,
        )),
        annotations: Annotations {
            // It adds to the server's conversation memory and spends API quota, deletes
            // nothing, answers differently each time, and reaches a third-party service.
            read_only: false,
            destructive: false,
            idempotent: false,
            open_world: true,
        },
        handler: |ctx, args| Box::pin(run(ctx, args)),
    }
}

async fn run(ctx: Rc<RequestContext>, args: Map<String, Value>) -> ToolResult {
    let Some(claude) = ctx.services.claude.as_ref() else {
        return ToolResult::error(
            "the Claude API is not configured: set TELEMETRYFLOW_MCP_CLAUDE_API_KEY (or ANTHROPIC_API_KEY)",
        );
    };
    let text = |name: &str| args.get(name).and_then(Value::as_str);
    let message = text("message").unwrap_or_default().to_string();
    let model = text("model").unwrap_or(&claude.default_model).to_string();
    if !claude::is_model_id(&model) {
        return ToolResult::error(format!(
            "invalid arguments: `model` {:?} is not a model id (letters, digits, . - _ : @)",
            crate::jsonrpc::clip(&model)
        ));
    }
    let max_tokens = super::arg::count(&args, "max_tokens")
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(claude.default_max_tokens);
    let given_id = text("conversation_id").map(str::to_string);
    let (conversation_id, history) = match &given_id {
        Some(id) => match claude.conversations.borrow_mut().begin(id, Instant::now()) {
            Ok(history) => (id.clone(), history),
            Err(Refusal::Unknown) => {
                return ToolResult::error(format!(
                    "unknown conversation_id {:?}: it never existed here, or it expired or was evicted \
                     (see TELEMETRYFLOW_MCP_CLAUDE_CONVERSATION_TTL_SECONDS and _MAX_CONVERSATIONS); \
                     omit conversation_id to start a new conversation",
                    crate::jsonrpc::clip(id)
                ));
            }
            Err(Refusal::Busy) => {
                return ToolResult::error(format!(
                    "conversation {id} has a call in flight; wait for its answer, then continue"
                ));
            }
        },
        None => (
            format!("conv_{}", crate::telemetry::new_session_id()),
            Vec::new(),
        ),
    };
    // Frees the conversation for the next call however this one ends (cancellation included).
    let mut busy = Busy {
        claude,
        id: given_id.as_deref(),
    };
    let user = Message::text(Role::User, message);
    let mut messages = history;
    messages.push(user.clone());
    let request = Request {
        model,
        max_tokens,
        messages,
        system: text("system_prompt").map(str::to_string),
        temperature: args.get("temperature").and_then(Value::as_f64),
        tools: Vec::new(),
        stream: false,
    };
    // From here on, every record of this request carries `conversation_id` (spec: with_mcp_context).
    crate::logging::set_conversation_id(&conversation_id);
    let outcome = match claude::send_message(&ctx, claude, request, &conversation_id).await {
        Ok(outcome) => outcome,
        Err(failure) => {
            return ToolResult::error(failure_message(&failure, claude.client().base_url()));
        }
    };
    let response = outcome.response;
    let answer = response.text();
    let kept = if !answer.is_empty() {
        Message::text(Role::Assistant, answer.clone())
    } else if !response.content.is_empty() {
        Message {
            role: Role::Assistant,
            content: Value::Array(response.content.clone()),
        }
    } else {
        Message::text(Role::Assistant, "(no answer)")
    };
    busy.id = None;
    let mut store = claude.conversations.borrow_mut();
    store.finish(&conversation_id, user, kept, Instant::now());
    let messages_kept = store.history_len(&conversation_id);
    drop(store);
    let usage = response.usage;
    let mut structured = json!({
        "text": answer,
        "conversation_id": conversation_id,
        "model": response.model,
        "stop_reason": response.stop_reason,
        "usage": {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_creation_input_tokens": usage.cache_creation_input_tokens,
            "cache_read_input_tokens": usage.cache_read_input_tokens,
        },
        "messages_kept": messages_kept,
    });
    if let Some(id) = &response.request_id {
        structured["request_id"] = json!(id);
    }
    let shown = if answer.is_empty() {
        format!(
            "(Claude returned no text; stop reason: {})",
            response.stop_reason
        )
    } else {
        answer
    };
    let summary = format!(
        "conversation_id: {conversation_id} · model: {} · stop_reason: {} · tokens: {} in, {} out",
        response.model, response.stop_reason, usage.input_tokens, usage.output_tokens
    );
    ToolResult {
        content: vec![
            json!({"type": "text", "text": shown}),
            json!({"type": "text", "text": summary}),
        ],
        structured: Some(structured),
        is_error: false,
    }
}

/// Marks a continued conversation free again when the call ends without an answer.
struct Busy<'a> {
    claude: &'a claude::Claude,
    id: Option<&'a str>,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.claude.conversations.borrow_mut().release(id);
        }
    }
}

/// What went wrong and what to do about it, for the model or the person reading.
fn failure_message(failure: &Failure, base_url: &str) -> String {
    // The configured URL may carry a password (`http://user:password@host`).
    let base_url = crate::redact::redact_text(base_url);
    let error = &failure.error;
    let retried = match failure.retries {
        0 => "not retried".to_string(),
        1 => format!("retried once over {:.1} s", failure.elapsed.as_secs_f64()),
        n => format!(
            "retried {n} times over {:.1} s",
            failure.elapsed.as_secs_f64()
        ),
    };
    let why_stopped = match failure.gave_up {
        GaveUp::WaitTooLong(wait) => format!(
            "; the API asked to wait {:.0} s, longer than this server waits (60 s)",
            wait.as_secs_f64()
        ),
        GaveUp::NoTimeLeft => {
            "; the next wait would pass the call's deadline (TELEMETRYFLOW_MCP_CLAUDE_TIMEOUT_MS)"
                .to_string()
        }
        GaveUp::Final | GaveUp::Exhausted => String::new(),
    };
    let mut text = match error {
        Error::Api {
            kind,
            message,
            status,
            ..
        } => {
            let quoted = format!("{}: {message}", kind.as_str());
            match kind {
                ApiErrorType::RateLimit => {
                    format!(
                        "rate limited by the Claude API ({quoted}); {retried}{why_stopped}; try again later"
                    )
                }
                ApiErrorType::Overloaded => {
                    format!(
                        "the Claude API is overloaded ({quoted}); {retried}{why_stopped}; try again later"
                    )
                }
                ApiErrorType::Authentication => format!(
                    "the Claude API refused the API key ({quoted}); check TELEMETRYFLOW_MCP_CLAUDE_API_KEY \
                     (or ANTHROPIC_API_KEY)"
                ),
                ApiErrorType::Permission => format!(
                    "the API key may not use this model or resource ({quoted}); check the key's workspace \
                     and model access in the Claude Console"
                ),
                ApiErrorType::NotFound => format!(
                    "not found by the Claude API ({quoted}); check the model name (`model` or \
                     TELEMETRYFLOW_MCP_CLAUDE_MODEL) and TELEMETRYFLOW_MCP_CLAUDE_BASE_URL"
                ),
                ApiErrorType::InvalidRequest => format!(
                    "the Claude API refused the request ({quoted}); change the arguments and try again"
                ),
                ApiErrorType::RequestTooLarge => format!(
                    "the request is too large for the Claude API ({quoted}); send a shorter message or \
                     start a new conversation"
                ),
                ApiErrorType::Billing => {
                    format!(
                        "the Claude account has a billing problem ({quoted}); check the Claude Console"
                    )
                }
                _ => format!(
                    "the Claude API failed (HTTP {status} {quoted}); {retried}{why_stopped}; try again later"
                ),
            }
        }
        Error::Timeout { after } => format!(
            "no answer from the Claude API within {:.1} s (TELEMETRYFLOW_MCP_CLAUDE_TIMEOUT_MS); {retried}; \
             try again, ask for a shorter answer (max_tokens) or raise the timeout",
            after.as_secs_f64()
        ),
        Error::Connection { detail } => format!(
            "cannot reach the Claude API at {base_url} ({detail}); {retried}{why_stopped}; check the \
             network and TELEMETRYFLOW_MCP_CLAUDE_BASE_URL"
        ),
        Error::Malformed { detail, .. } => format!(
            "the Claude API answered with something that is not a Messages response ({detail}); try \
             again, and if it persists check that TELEMETRYFLOW_MCP_CLAUDE_BASE_URL is the Claude API"
        ),
        Error::Abandoned => "the call was cancelled".to_string(),
    };
    if let Some(id) = error.request_id() {
        text.push_str(&format!(" (request id {id})"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn failure(error: Error, retries: u32, gave_up: GaveUp) -> Failure {
        Failure {
            error,
            retries,
            elapsed: Duration::from_millis(7500),
            gave_up,
        }
    }

    fn api(status: u16, kind: &str) -> Error {
        Error::Api {
            status,
            kind: ApiErrorType::parse(kind),
            message: "the API's words".into(),
            request_id: Some("req_7".into()),
            retry_after: None,
        }
    }

    #[test]
    fn failures_say_what_happened_and_what_to_do() {
        let cases = [
            (
                failure(api(429, "rate_limit_error"), 3, GaveUp::Exhausted),
                "rate limited by the Claude API (rate_limit_error: the API's words); retried 3 times over 7.5 s; \
                 try again later (request id req_7)",
            ),
            (
                failure(api(529, "overloaded_error"), 1, GaveUp::NoTimeLeft),
                "the Claude API is overloaded (overloaded_error: the API's words); retried once over 7.5 s; the \
                 next wait would pass the call's deadline (TELEMETRYFLOW_MCP_CLAUDE_TIMEOUT_MS); try again later \
                 (request id req_7)",
            ),
            (
                failure(api(401, "authentication_error"), 0, GaveUp::Final),
                "the Claude API refused the API key (authentication_error: the API's words); check \
                 TELEMETRYFLOW_MCP_CLAUDE_API_KEY (or ANTHROPIC_API_KEY) (request id req_7)",
            ),
            (
                failure(
                    Error::Connection {
                        detail: "connection refused".into(),
                    },
                    2,
                    GaveUp::Exhausted,
                ),
                "cannot reach the Claude API at http://x (connection refused); retried 2 times over 7.5 s; check \
                 the network and TELEMETRYFLOW_MCP_CLAUDE_BASE_URL",
            ),
            (
                failure(
                    api(429, "rate_limit_error"),
                    0,
                    GaveUp::WaitTooLong(Duration::from_secs(90)),
                ),
                "rate limited by the Claude API (rate_limit_error: the API's words); not retried; the API asked \
                 to wait 90 s, longer than this server waits (60 s); try again later (request id req_7)",
            ),
        ];
        for (failure, want) in cases {
            assert_eq!(failure_message(&failure, "http://x"), want);
        }
    }
}
