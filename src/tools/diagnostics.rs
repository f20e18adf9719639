//! Diagnostic tools, served only with `TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS=true`:
//! `sleep` (a slow, cancellable call that reports progress) and `panic` (a
//! handler fault). They let a client or an operator check cancellation,
//! progress and fault isolation against the real binary.

use super::{Annotations, Tool, ToolResult, schema};
use crate::mcp::LogLevel;
use serde_json::json;
use std::time::Duration;

const CLOSED_WORLD_NO_EFFECT: Annotations = Annotations {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: false,
};

pub(super) fn tools() -> Vec<Tool> {
    vec![
        Tool {
            name: "sleep",
            title: "Sleep (diagnostic)",
            description: "Wait for `ms` milliseconds in `steps` equal steps, reporting progress after each step when the request carries a progress token. Cancelling the request stops it at once.",
            input_schema: schema(
                r#"{
                "type": "object",
                "properties": {
                    "ms": {"type": "integer", "minimum": 0, "maximum": 600000, "description": "Total time to wait."},
                    "steps": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "Progress notifications to send (default 1)."}
                },
                "required": ["ms"],
                "additionalProperties": false
            }"#,
            ),
            output_schema: Some(schema(
                r#"{
                "type": "object",
                "properties": {"slept_ms": {"type": "integer"}, "steps": {"type": "integer"}},
                "required": ["slept_ms", "steps"]
            }"#,
            )),
            annotations: CLOSED_WORLD_NO_EFFECT,
            handler: |ctx, args| {
                Box::pin(async move {
                    let ms = super::arg::count(&args, "ms").unwrap_or(0);
                    let steps = super::arg::count(&args, "steps").unwrap_or(1).max(1);
                    let step = Duration::from_millis(ms) / u32::try_from(steps).unwrap_or(1);
                    for i in 1..=steps {
                        smol::Timer::after(step).await;
                        let message = format!("step {i} of {steps}");
                        ctx.progress(i as f64, Some(steps as f64), Some(&message))
                            .await;
                        ctx.log(LogLevel::Info, "sleep", json!({"message": message}))
                            .await;
                    }
                    ToolResult::structured(json!({"slept_ms": ms, "steps": steps}))
                })
            },
        },
        Tool {
            name: "panic",
            title: "Panic (diagnostic)",
            description: "Panic inside the handler, to check that the server answers -32603 and goes on.",
            input_schema: schema(r#"{"type": "object", "additionalProperties": false}"#),
            output_schema: None,
            annotations: CLOSED_WORLD_NO_EFFECT,
            handler: |_ctx, _args| Box::pin(async move { panic!("diagnostic panic requested") }),
        },
    ]
}
