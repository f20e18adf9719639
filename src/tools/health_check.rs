//! `health_check`: the server's health report, the same one `GET /health` serves,
//! so that an MCP client sees what an SRE sees. Reading it only reads shared
//! state (cached background results, exporter outcomes): it never waits on the network.

use super::{Annotations, Tool, ToolResult, schema};

pub(super) fn tool() -> Tool {
    Tool {
        name: "health_check",
        title: "Health check",
        description: "Report this MCP server's health, as its /health endpoint does: the overall status \
(healthy, degraded or unhealthy), when it was taken, each check (the stdio loop, the OTLP exporters, \
the metrics endpoint, the Claude API when configured) with its status, message and duration, and the server version.",
        input_schema: schema(
            r#"{"type": "object", "properties": {}, "additionalProperties": false}"#,
        ),
        output_schema: Some(schema(
            r#"{
            "type": "object",
            "properties": {
                "status": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]},
                "timestamp": {"type": "string", "format": "date-time"},
                "checks": {"type": "object", "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["healthy", "degraded", "unhealthy"]},
                        "message": {"type": ["string", "null"]},
                        "duration_ms": {"type": ["number", "null"]}
                    },
                    "required": ["status", "message", "duration_ms"]
                }},
                "version": {"type": "string"}
            },
            "required": ["status", "timestamp", "checks", "version"]
        }"#,
        )),
        annotations: Annotations {
            read_only: true,
            destructive: false,
            // Calling it again changes nothing; the answer may differ as health changes.
            idempotent: true,
            open_world: false,
        },
        handler: |ctx, _args| {
            Box::pin(
                async move { ToolResult::structured(ctx.services.obs.health.report().to_json()) },
            )
        },
    }
}
