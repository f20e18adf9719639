//! The template `file:///{path}`: a file inside the allowed roots, read through the
//! same sandbox as the `read_file` tool (the references' template always failed; a
//! template that reaches the whole disk would be worse).

use super::{Annotations, ReadError, ReadResult, Reader, Resource, Target};
use crate::sandbox::Refusal;
use crate::tools::{Services, resource_contents};
use smol::future::BoxedLocal;
use std::rc::Rc;

pub(super) fn template() -> Resource {
    Resource {
        uri: "file:///{path}",
        name: "file",
        title: "File inside the allowed roots",
        description: "A file inside the server's allowed roots (TELEMETRYFLOW_MCP_ALLOWED_ROOTS, \
                      narrowed by the client's roots), by absolute path: file:///home/me/notes.md. \
                      UTF-8 text comes back as text, anything else as a base64 blob. Files larger \
                      than TELEMETRYFLOW_MCP_FILE_MAX_BYTES are refused: page through them with \
                      the read_file tool.",
        mime_type: None,
        annotations: Annotations {
            user: true,
            assistant: true,
            priority: 0.5,
        },
        // Files change under us.
        ttl_ms: 0,
        reader: Reader::Task(read),
        complete: None,
    }
}

fn read(services: Rc<Services>, target: Target) -> BoxedLocal<ReadResult> {
    Box::pin(async move {
        // The variable keeps its slashes but not the leading one of the absolute path.
        let path = format!("/{}", target.var("path").unwrap_or_default());
        let chunk =
            services
                .sandbox
                .read_file(path, 0, None)
                .await
                .map_err(|refusal| match refusal {
                    Refusal::NotFound(_) => ReadError::NotFound,
                    Refusal::Io { .. } => ReadError::Internal(refusal.to_string()),
                    other => ReadError::Invalid(other.to_string()),
                })?;
        if (chunk.bytes.len() as u64) < chunk.size {
            return Err(ReadError::Invalid(format!(
                "refused by the size cap: the file has {} bytes, more than \
                 TELEMETRYFLOW_MCP_FILE_MAX_BYTES ({}); read it in pages with the read_file tool",
                chunk.size,
                chunk.bytes.len()
            )));
        }
        Ok(vec![resource_contents(&target.uri, &chunk)])
    })
}
