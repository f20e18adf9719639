//! The Messages API's request and response bodies, as much of them as this
//! client sends and reads. Parsing is lenient where the API may grow (unknown
//! fields, content-block types and `stop_reason` values are kept or ignored,
//! never refused), strict where the answer would otherwise be wrong.

use crate::jsonrpc::clip;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `"user"` or `"assistant"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person (or the MCP client) speaking.
    User,
    /// Claude.
    Assistant,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// A string (one text block) or an array of content blocks.
    pub content: Value,
}

impl Message {
    /// A turn with plain text.
    pub fn text(role: Role, text: impl Into<String>) -> Message {
        Message {
            role,
            content: Value::String(text.into()),
        }
    }

    /// Bytes of text this turn holds (for the conversation's size cap).
    pub fn size(&self) -> usize {
        match &self.content {
            Value::String(s) => s.len(),
            other => other.to_string().len(),
        }
    }
}

/// The body of `POST /v1/messages`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    /// Model id.
    pub model: String,
    /// Most tokens the answer may have.
    pub max_tokens: u32,
    /// The conversation so far, ending with the new user turn.
    pub messages: Vec<Message>,
    /// System prompt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Sampling temperature (sent only when given: newer models refuse non-defaults).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Tool definitions (`name`, `description`, `input_schema`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Value>,
    /// Server-sent events instead of one JSON body.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

/// Token counts of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub struct Usage {
    /// Input tokens not read from or written to the cache.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens (thinking included).
    #[serde(default)]
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the prompt cache.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_read_input_tokens: u64,
}

fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(d)?.unwrap_or(0))
}

impl Usage {
    /// Every input token: uncached, cache writes and cache reads.
    pub fn total_input(&self) -> u64 {
        self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens
    }

    /// Overwrites the fields a stream's `message_delta.usage` carries (they are cumulative).
    pub(super) fn update(&mut self, delta: &Value) {
        let field = |name: &str| delta.get(name).and_then(Value::as_u64);
        if let Some(n) = field("input_tokens") {
            self.input_tokens = n;
        }
        if let Some(n) = field("output_tokens") {
            self.output_tokens = n;
        }
        if let Some(n) = field("cache_creation_input_tokens") {
            self.cache_creation_input_tokens = n;
        }
        if let Some(n) = field("cache_read_input_tokens") {
            self.cache_read_input_tokens = n;
        }
    }
}

/// A `tool_use` block: Claude asks for a tool to be run.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUse {
    /// `toolu_…`, to answer with a `tool_result`.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// Its arguments (always an object).
    pub input: Value,
}

/// A complete answer of `POST /v1/messages`, streamed or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// `msg_…`.
    pub id: String,
    /// The model that answered.
    pub model: String,
    /// The content blocks as sent (text, tool_use, thinking, ...), to resend verbatim.
    pub content: Vec<Value>,
    /// Why generation stopped (`end_turn`, `max_tokens`, `tool_use`, ...).
    pub stop_reason: String,
    /// Token counts.
    pub usage: Usage,
    /// The `request-id` response header.
    pub request_id: Option<String>,
}

impl Response {
    /// Every `text` block, concatenated (thinking blocks may come first on newer models).
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect()
    }

    /// The `tool_use` blocks.
    pub fn tool_uses(&self) -> Vec<ToolUse> {
        self.content
            .iter()
            .filter(|b| b["type"] == "tool_use")
            .map(|b| ToolUse {
                id: b["id"].as_str().unwrap_or_default().to_string(),
                name: b["name"].as_str().unwrap_or_default().to_string(),
                input: b
                    .get("input")
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({})),
            })
            .collect()
    }

    /// Parses a non-streaming body. `Err` says what is missing.
    pub fn parse(body: &[u8], request_id: Option<String>) -> Result<Response, String> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            id: String,
            #[serde(default)]
            model: String,
            content: Vec<Value>,
            stop_reason: Option<String>,
            usage: Usage,
        }
        let wire: Wire = serde_json::from_slice(body).map_err(|e| format!("{e}"))?;
        if wire.kind != "message" {
            return Err(format!("type is {:?}, not \"message\"", wire.kind));
        }
        if let Some(bad) = wire.content.iter().find(|b| !b["type"].is_string()) {
            return Err(format!(
                "content block without a type: {}",
                clip(&bad.to_string())
            ));
        }
        Ok(Response {
            id: wire.id,
            model: wire.model,
            content: wire.content,
            stop_reason: wire.stop_reason.unwrap_or_default(),
            usage: wire.usage,
            request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_documented_response_parses_with_unknown_fields_and_blocks() {
        let body = json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-5-5",
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Hello"},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}},
                {"type": "text", "text": ", world"}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 12, "output_tokens": 6, "cache_creation_input_tokens": null,
                      "cache_read_input_tokens": 3, "service_tier": "standard", "brand_new": 1}
        });
        let r = Response::parse(body.to_string().as_bytes(), Some("req_1".into())).expect("parses");
        assert_eq!(
            r.text(),
            "Hello, world",
            "text blocks concatenated, thinking skipped"
        );
        assert_eq!(
            r.tool_uses(),
            vec![ToolUse {
                id: "toolu_1".into(),
                name: "get_weather".into(),
                input: json!({"city": "Oslo"})
            }]
        );
        assert_eq!(r.stop_reason, "tool_use");
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 12,
                output_tokens: 6,
                cache_creation_input_tokens: 0,
                cache_read_input_tokens: 3
            }
        );
        assert_eq!(r.usage.total_input(), 15);
        assert_eq!(r.request_id.as_deref(), Some("req_1"));
    }

    #[test]
    fn bodies_that_are_not_a_message_are_refused_with_a_reason() {
        let cases: &[(&str, &str)] = &[
            ("not json", "expected ident"),
            (
                r#"{"type":"error","content":[],"usage":{}}"#,
                "not \"message\"",
            ),
            (
                r#"{"type":"message","usage":{}}"#,
                "missing field `content`",
            ),
            (
                r#"{"type":"message","content":[{}],"usage":{}}"#,
                "without a type",
            ),
            (
                r#"{"type":"message","content":[]}"#,
                "missing field `usage`",
            ),
        ];
        for (body, want) in cases {
            let err = Response::parse(body.as_bytes(), None).expect_err(body);
            assert!(err.contains(want), "{body}: {err}");
        }
    }

    #[test]
    fn requests_leave_out_what_is_not_set() {
        let mut request = Request {
            model: "m".into(),
            max_tokens: 5,
            messages: vec![Message::text(Role::User, "hi")],
            system: None,
            temperature: None,
            tools: Vec::new(),
            stream: false,
        };
        assert_eq!(
            serde_json::to_value(&request).expect("serializes"),
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})
        );
        request.system = Some("be brief".into());
        request.temperature = Some(0.5);
        request.stream = true;
        let v = serde_json::to_value(&request).expect("serializes");
        assert_eq!(
            (
                v["system"].clone(),
                v["temperature"].clone(),
                v["stream"].clone()
            ),
            (json!("be brief"), json!(0.5), json!(true))
        );
    }
}
