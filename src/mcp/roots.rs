//! The client's roots (handshake revisions): when the client declared
//! `capabilities.roots`, the server asks `roots/list` after
//! `notifications/initialized` and again on `notifications/roots/list_changed`,
//! and the sandbox works under those roots intersected with the configured ones.
//! File operations wait while an answer is pending (at most [`ROOTS_TIMEOUT`]).
//! An error or no answer keeps the configured roots; an empty list leaves none.
//! 2026-07-28 has no server-to-client requests on stdio (roots would come through
//! `input_required` results), so a modern-era process uses the configured roots.

use super::Server;
use super::dispatch::Era;
use crate::sandbox::{RootsUpdate, path_from_file_uri};
use serde_json::{Value, json};
use smol::future::BoxedLocal;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

/// How long the client has to answer `roots/list`.
pub(super) const ROOTS_TIMEOUT: Duration = Duration::from_secs(10);

impl Server {
    /// The task that asks for the client's roots, if it declared them. The sandbox
    /// update starts now, so that a tool call on the next line already waits for it.
    pub(super) fn ask_roots(self: &Rc<Self>) -> Option<BoxedLocal<()>> {
        let declared = matches!(&*self.state.borrow(), Era::Legacy(s) if s.client_roots);
        if !declared {
            return None;
        }
        let update = self.services.sandbox.begin_update();
        Some(Box::pin(Rc::clone(self).fetch_roots(update)))
    }

    async fn fetch_roots(self: Rc<Self>, update: RootsUpdate) {
        let answer = self
            .outgoing
            .request(&self.notifier, "roots/list", &json!({}), ROOTS_TIMEOUT)
            .await;
        let dirs = match answer {
            Ok(result) => match client_dirs(&result) {
                Ok(dirs) => Some(dirs),
                Err(problem) => {
                    log::warn!(problem = problem.as_str(); "the client's roots/list answer is malformed; keeping the configured roots");
                    None
                }
            },
            Err(e) => {
                log::warn!(error:% = e; "roots/list failed; keeping the configured roots");
                None
            }
        };
        // Resolving the client's directories touches the file system: not on the
        // executor's thread.
        let configured = self.services.sandbox.configured();
        let narrowed = match dirs {
            Some(dirs) => Some(crate::blocking::unblock(move || configured.intersect(&dirs)).await),
            None => None,
        };
        self.services
            .sandbox
            .apply_client_roots(update.generation(), narrowed);
    }
}

/// The directories of a `ListRootsResult`: `file://` URIs only (others are skipped).
/// Most roots of a client's `roots/list` that are used (each is resolved on the
/// file system); the rest are left out, with one warning.
const MAX_ROOTS: usize = 256;
/// Most skipped roots named one by one in the records; the rest are counted.
const NAMED_SKIPS: usize = 8;

fn client_dirs(result: &Value) -> Result<Vec<PathBuf>, String> {
    let roots = result
        .get("roots")
        .and_then(Value::as_array)
        .ok_or("`roots` is not an array")?;
    if roots.len() > MAX_ROOTS {
        log::warn!(count = roots.len(), used = MAX_ROOTS; "the client's roots/list names more roots than are used; the rest are left out");
    }
    let mut dirs = Vec::new();
    let mut skipped = 0usize;
    for root in roots.iter().take(MAX_ROOTS) {
        let uri = root
            .get("uri")
            .and_then(Value::as_str)
            .ok_or("a root has no `uri` string")?;
        match path_from_file_uri(uri) {
            Some(path) => dirs.push(path),
            None => {
                skipped += 1;
                if skipped <= NAMED_SKIPS {
                    log::warn!(uri = crate::jsonrpc::clip(uri).as_str(); "client root is not a local file:// URI; skipped");
                }
            }
        }
    }
    if skipped > NAMED_SKIPS {
        log::warn!(count = skipped - NAMED_SKIPS; "more client roots are not local file:// URIs; skipped");
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_results_are_read_strictly() {
        let ok = json!({"roots": [{"uri": "file:///a", "name": "A"}, {"uri": "https://x/y"}, {"uri": "file:///b%20c"}]});
        assert_eq!(
            client_dirs(&ok),
            Ok(vec![PathBuf::from("/a"), PathBuf::from("/b c")])
        );
        assert_eq!(client_dirs(&json!({"roots": []})), Ok(vec![]));
        assert!(client_dirs(&json!({})).is_err());
        assert!(client_dirs(&json!({"roots": [{"name": "no uri"}]})).is_err());
    }

    #[test]
    fn a_long_roots_list_is_cut() {
        let roots: Vec<Value> = (0..MAX_ROOTS + 50)
            .map(|i| json!({"uri": format!("file:///r{i}")}))
            .collect();
        let dirs = client_dirs(&json!({ "roots": roots })).expect("valid");
        assert_eq!(dirs.len(), MAX_ROOTS);
        assert_eq!(
            dirs[MAX_ROOTS - 1],
            PathBuf::from(format!("/r{}", MAX_ROOTS - 1))
        );
    }
}
