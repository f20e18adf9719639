//! `read_file`: a file inside the allowed roots, as text or as a base64 blob,
//! at most `TELEMETRYFLOW_MCP_FILE_MAX_BYTES` per call, paged with `offset`/`length`.

use super::{Tool, ToolResult, arg, schema};
use crate::bytes::base64;
use crate::resources::{Body, Contents};
use crate::sandbox::FileChunk;
use serde_json::json;

pub(super) fn tool() -> Tool {
    Tool {
        name: "read_file",
        title: "Read file",
        description: "Read a file inside the server's allowed roots (relative paths start at the first root). \
Text comes back as `text`; binary files (not UTF-8, or encoding \"base64\") come back as a base64 resource blob with a MIME type. \
At most TELEMETRYFLOW_MCP_FILE_MAX_BYTES (default 1 MiB) per call: when `truncated` is true, call again with `offset` set to `next_offset`. \
Paths outside the roots, or symlinks leading out of them, are refused.",
        input_schema: arg::with_path(
            "File",
            r#"{
            "type": "object",
            "properties": {
                "path": null,
                "encoding": {"enum": ["auto", "utf-8", "base64"], "description": "auto (default): text when the bytes are UTF-8, else base64; utf-8: text, invalid bytes replaced; base64: always a blob."},
                "offset": {"type": "integer", "minimum": 0, "description": "Byte offset to start at (default 0)."},
                "length": {"type": "integer", "minimum": 1, "description": "Bytes to read at most (default and ceiling: the server's cap)."}
            },
            "required": ["path"],
            "additionalProperties": false
        }"#,
        ),
        output_schema: Some(schema(
            r#"{
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Canonical path read."},
                "size": {"type": "integer", "description": "Size of the whole file in bytes."},
                "offset": {"type": "integer"},
                "length": {"type": "integer", "description": "Bytes returned."},
                "encoding": {"enum": ["utf-8", "base64"]},
                "mime_type": {"type": "string"},
                "text": {"type": "string", "description": "The content, when encoding is utf-8."},
                "truncated": {"type": "boolean", "description": "More bytes follow."},
                "next_offset": {"type": "integer", "description": "Offset of the next page, when truncated."}
            },
            "required": ["path", "size", "offset", "length", "encoding", "mime_type", "truncated"]
        }"#,
        )),
        annotations: arg::READS_LOCAL,
        handler: |ctx, args| {
            Box::pin(async move {
                let path = arg::text(&args, "path").unwrap_or_default();
                let encoding = arg::text(&args, "encoding").unwrap_or_else(|| "auto".to_string());
                let offset = arg::count(&args, "offset").unwrap_or(0);
                let length = arg::count(&args, "length");
                match ctx.services.sandbox.read_file(path, offset, length).await {
                    Ok(chunk) => render(chunk, &encoding),
                    Err(refusal) => ToolResult::refused(&refusal),
                }
            })
        },
    }
}

/// The result for a chunk: text when wanted and possible, else a resource blob.
fn render(mut chunk: FileChunk, encoding: &str) -> ToolResult {
    let mime = mime_type(&chunk.path);
    let more = chunk.offset + (chunk.bytes.len() as u64) < chunk.size;
    let as_text = match text_length(&chunk.bytes, more, encoding) {
        Some(cut) => {
            chunk.bytes.truncate(cut);
            Some(String::from_utf8_lossy(&chunk.bytes).into_owned())
        }
        None => None,
    };
    let length = chunk.bytes.len() as u64;
    let next = chunk.offset + length;
    let mut data = json!({
        "path": chunk.path.display().to_string(),
        "size": chunk.size,
        "offset": chunk.offset,
        "length": length,
        "encoding": if as_text.is_some() { "utf-8" } else { "base64" },
        "mime_type": if as_text.is_some() && mime == "application/octet-stream" { "text/plain" } else { mime },
        "truncated": next < chunk.size,
    });
    if next < chunk.size {
        data["next_offset"] = json!(next);
    }
    match as_text {
        Some(text) => {
            data["text"] = json!(text);
            ToolResult::structured(data)
        }
        None => {
            let mut result = ToolResult::structured(data);
            result.content.push(json!({
                "type": "resource",
                "resource": {
                    "uri": file_uri(&chunk.path),
                    "mimeType": mime,
                    "blob": base64(&chunk.bytes),
                }
            }));
            result
        }
    }
}

/// The `TextResourceContents` or `BlobResourceContents` of a chunk read through
/// the sandbox, for `resources/read` of `file:///{path}`: text when the bytes are
/// UTF-8 without NUL, else base64, with the MIME type from the extension.
pub fn resource_contents(uri: &str, chunk: &FileChunk) -> Contents {
    let mime = mime_type(&chunk.path);
    let (mime, body) = match text_length(&chunk.bytes, false, "auto") {
        Some(_) => (
            if mime == "application/octet-stream" {
                "text/plain"
            } else {
                mime
            },
            Body::Text(String::from_utf8_lossy(&chunk.bytes).into_owned()),
        ),
        None => (mime, Body::Blob(base64(&chunk.bytes))),
    };
    Contents {
        uri: uri.to_string(),
        mime_type: Some(mime.to_string()),
        body,
    }
}

/// How many leading bytes to return as text, or `None` for a blob. A page may
/// end inside a character: its first bytes wait for the next page.
fn text_length(bytes: &[u8], more: bool, encoding: &str) -> Option<usize> {
    let complete = match std::str::from_utf8(bytes) {
        Ok(_) => Some(bytes.len()),
        Err(e) if e.error_len().is_none() && more && e.valid_up_to() > 0 => Some(e.valid_up_to()),
        Err(_) => None,
    };
    match encoding {
        "base64" => None,
        // Invalid bytes become U+FFFD.
        "utf-8" => Some(complete.unwrap_or(bytes.len())),
        _ if bytes.contains(&0) => None,
        _ => complete,
    }
}

/// `file://` URI of a path, percent-encoding what is not unreserved or `/`.
pub(super) fn file_uri(path: &std::path::Path) -> String {
    let mut uri = String::from("file://");
    for &b in path.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(b as char);
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// A MIME type from the file extension.
fn mime_type(path: &std::path::Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "txt" | "log" | "rs" | "toml" | "py" | "sh" | "c" | "h" | "go" | "java" | "ts" | "yaml"
        | "yml" | "ini" | "cfg" | "env" | "lock" => "text/plain",
        "md" => "text/markdown",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "js" => "text/javascript",
        "json" => "application/json",
        "xml" => "application/xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_contents_are_text_or_blob() {
        let chunk = |path: &str, bytes: &[u8]| FileChunk {
            path: path.into(),
            size: bytes.len() as u64,
            offset: 0,
            bytes: bytes.to_vec(),
        };
        assert_eq!(
            resource_contents("file:///r/a.md", &chunk("/r/a.md", b"# hi")),
            Contents {
                uri: "file:///r/a.md".into(),
                mime_type: Some("text/markdown".into()),
                body: Body::Text("# hi".into())
            },
            "UTF-8 without NUL is text, typed by extension"
        );
        assert_eq!(
            resource_contents("file:///r/x", &chunk("/r/x", &[0, 159])),
            Contents {
                uri: "file:///r/x".into(),
                mime_type: Some("application/octet-stream".into()),
                body: Body::Blob("AJ8=".into())
            },
            "binary is a base64 blob"
        );
    }

    #[test]
    fn pages_end_on_character_boundaries() {
        let text = "aé".as_bytes().to_vec(); // 'é' is 2 bytes
        let chunk = FileChunk {
            path: "/r/a.txt".into(),
            size: 5,
            offset: 0,
            bytes: text[..2].to_vec(),
        };
        let result = render(chunk, "auto");
        let data = result.structured.expect("structured");
        assert_eq!(
            data["text"], "a",
            "the half character waits for the next page"
        );
        assert_eq!(data["next_offset"], 1);
        assert_eq!(
            file_uri(std::path::Path::new("/a b/ü")),
            "file:///a%20b/%C3%BC"
        );
    }
}
