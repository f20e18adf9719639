//! `list_directory`: the entries of a directory inside the allowed roots, with
//! name, type and size, optionally recursive, within depth and entry caps.

use super::{Tool, ToolResult, arg, schema};
use crate::sandbox::{Flow, Walk};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};

/// Deepest level a recursive listing descends to.
pub(super) const MAX_DEPTH: usize = 8;
/// Most entries in one listing.
pub(super) const MAX_ENTRIES: usize = 2000;

pub(super) fn tool() -> Tool {
    Tool {
        name: "list_directory",
        title: "List directory",
        description: "List a directory inside the server's allowed roots (relative paths start at the first root; \".\" is the first root). \
Each entry has its path relative to the listed directory, its type (file, directory, symlink, other) and size in bytes. \
Symlinks are shown, never followed. With recursive: true, subdirectories are listed too, at most 8 levels deep; \
at most 2000 entries are returned, and `truncated` with `truncated_reason` says when the listing was cut. Subdirectories that could not be read (permissions) are named in `unreadable`.",
        input_schema: arg::with_path(
            "Directory",
            r#"{
            "type": "object",
            "properties": {
                "path": null,
                "recursive": {"type": "boolean", "description": "Also list subdirectories (default false)."}
            },
            "required": ["path"],
            "additionalProperties": false
        }"#,
        ),
        output_schema: Some(schema(
            r#"{
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Canonical path listed."},
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string", "description": "Path relative to the listed directory."},
                            "type": {"enum": ["file", "directory", "symlink", "other"]},
                            "size": {"type": "integer"}
                        },
                        "required": ["name", "type", "size"]
                    }
                },
                "truncated": {"type": "boolean"},
                "truncated_reason": {"type": "string"},
                "unreadable": {"type": "array", "items": {"type": "string"}, "description": "Subdirectories that could not be read, so not listed (at most 100)."},
                "unreadable_count": {"type": "integer", "description": "How many subdirectories could not be read."}
            },
            "required": ["path", "entries", "truncated"]
        }"#,
        )),
        annotations: arg::READS_LOCAL,
        handler: |ctx, args| {
            Box::pin(async move {
                let path = arg::text(&args, "path").unwrap_or_default();
                let recursive = arg::flag(&args, "recursive");
                let roots = ctx.services.sandbox.settled().await;
                let cancel = Arc::new(AtomicBool::new(false));
                let _stop = super::search_files::SetOnDrop(Arc::clone(&cancel));
                let limits = Walk {
                    max_depth: if recursive { MAX_DEPTH } else { 0 },
                    max_entries: MAX_ENTRIES,
                    deadline: Some(std::time::Instant::now() + super::WALK_TIME),
                    cancel,
                    visited: Arc::new(AtomicU64::new(0)),
                };
                let listed = crate::blocking::unblock(move || {
                    let mut entries = Vec::new();
                    let walked = roots.walk(&path, &limits, &mut |entry, _| {
                        entries.push(json!({
                            "name": entry.path,
                            "type": entry.kind.as_str(),
                            "size": entry.size,
                        }));
                        Flow::Continue
                    });
                    walked.map(|walked| (walked, entries))
                })
                .await;
                match listed {
                    Ok((walked, entries)) => {
                        let mut data = json!({
                            "path": walked.real.display().to_string(),
                            "entries": entries,
                            "truncated": walked.end.reason().is_some(),
                        });
                        if let Some(reason) = walked.end.reason() {
                            data["truncated_reason"] = json!(reason);
                        }
                        super::report_unreadable(&walked.unreadable, &mut data);
                        ToolResult::structured(data)
                    }
                    Err(refusal) => ToolResult::refused(&refusal),
                }
            })
        },
    }
}
