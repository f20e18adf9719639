//! `write_file`: stores text in a file inside the allowed roots, atomically
//! (temporary file, then rename), within `TELEMETRYFLOW_MCP_FILE_MAX_BYTES`.

use super::{Annotations, Tool, ToolResult, arg, schema};
use serde_json::{Value, json};

pub(super) fn tool() -> Tool {
    Tool {
        name: "write_file",
        title: "Write file",
        description: "Write text to a file inside the server's allowed roots (relative paths start at the first root), replacing it if it exists. \
The write is atomic: readers see the old content or the new, never a mix, and a failed write changes nothing. \
Missing parent directories are created only with create_dirs: true. Content is limited to TELEMETRYFLOW_MCP_FILE_MAX_BYTES (default 1 MiB). \
Paths outside the roots, or through symlinks leading out of them, are refused.",
        input_schema: arg::with_path(
            "File",
            r#"{
            "type": "object",
            "properties": {
                "path": null,
                "content": {"type": "string", "description": "The complete new content (UTF-8 text)."},
                "create_dirs": {"type": "boolean", "description": "Create missing parent directories (default false)."}
            },
            "required": ["path", "content"],
            "additionalProperties": false
        }"#,
        ),
        output_schema: Some(schema(
            r#"{
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Canonical path written."},
                "bytes_written": {"type": "integer"},
                "created": {"type": "boolean", "description": "The file did not exist before."},
                "dirs_created": {"type": "integer", "description": "Parent directories created."}
            },
            "required": ["path", "bytes_written", "created", "dirs_created"]
        }"#,
        )),
        annotations: Annotations {
            read_only: false,
            destructive: true,
            idempotent: true,
            open_world: false,
        },
        handler: |ctx, mut args| {
            Box::pin(async move {
                let path = arg::text(&args, "path").unwrap_or_default();
                let content = match args.remove("content") {
                    Some(Value::String(content)) => content,
                    _ => String::new(),
                };
                let create_dirs = arg::flag(&args, "create_dirs");
                let roots = ctx.services.sandbox.settled().await;
                let written = crate::blocking::unblock(move || {
                    roots.write_atomic(&path, content.as_bytes(), create_dirs)
                })
                .await;
                match written {
                    Ok(w) => ToolResult::structured(json!({
                        "path": w.path.display().to_string(),
                        "bytes_written": w.bytes,
                        "created": w.created,
                        "dirs_created": w.dirs_created,
                    })),
                    Err(refusal) => ToolResult::refused(&refusal),
                }
            })
        },
    }
}
