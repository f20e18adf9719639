//! `echo`: returns its message, the smallest end-to-end check of a client.

use super::{Annotations, Tool, ToolResult, schema};
use serde_json::{Value, json};

pub(super) fn tool() -> Tool {
    Tool {
        name: "echo",
        title: "Echo",
        description: "Return the given message unchanged. Use it to check that the MCP connection works end to end.",
        input_schema: schema(
            r#"{
            "type": "object",
            "properties": {
                "message": {"type": "string", "description": "The text to send back."}
            },
            "required": ["message"],
            "additionalProperties": false
        }"#,
        ),
        output_schema: Some(schema(
            r#"{
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "required": ["message"]
        }"#,
        )),
        annotations: Annotations {
            read_only: true,
            destructive: false,
            idempotent: true,
            open_world: false,
        },
        handler: |_ctx, args| {
            Box::pin(async move {
                let message = args
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                ToolResult {
                    content: vec![json!({"type": "text", "text": message})],
                    structured: Some(json!({"message": message})),
                    is_error: false,
                }
            })
        },
    }
}
