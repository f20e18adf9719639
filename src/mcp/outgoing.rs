//! Requests the server sends to the client (handshake revisions only; 2026-07-28
//! forbids them on stdio): ids the server allocates (`tfo-mcp-N`, never reused),
//! a bounded table of pending requests, responses matched by id, a timeout, and
//! the client's errors passed back to the caller. `roots/list` is the one user.

use super::notify::Notifier;
use crate::jsonrpc::{self, Id, Response, RpcError};
use serde_json::Value;
use smol::channel::{Sender, bounded};
use smol::future::FutureExt;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::time::Duration;

/// Requests awaiting the client's answer at once, at most.
const MAX_PENDING: usize = 16;

/// Why a request to the client got no result.
#[derive(Debug, Clone, PartialEq)]
pub enum OutgoingError {
    /// [`MAX_PENDING`] requests are already waiting.
    Busy,
    /// No answer within the timeout.
    Timeout(Duration),
    /// The client answered with an error.
    Client(RpcError),
    /// The connection is closing.
    Closed,
}

impl fmt::Display for OutgoingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutgoingError::Busy => {
                write!(f, "client request: {MAX_PENDING} requests already pending")
            }
            OutgoingError::Timeout(d) => write!(f, "client request: no answer within {d:?}"),
            // The client's own message: clipped.
            OutgoingError::Client(e) => write!(
                f,
                "client request: the client answered {} {}",
                e.code,
                crate::jsonrpc::clip(&e.message)
            ),
            OutgoingError::Closed => write!(f, "client request: the connection is closing"),
        }
    }
}

impl std::error::Error for OutgoingError {}

/// The pending requests of one connection.
#[derive(Debug, Default)]
pub struct Outgoing {
    next: Cell<u64>,
    pending: RefCell<HashMap<Id, Sender<Result<Value, RpcError>>>>,
}

/// Removes a request from the table however its wait ends (answer, timeout, drop).
struct Forget<'a>(&'a Outgoing, Id);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.pending.borrow_mut().remove(&self.1);
    }
}

impl Outgoing {
    /// Sends `method` with `params` to the client and waits up to `timeout` for its answer.
    pub async fn request(
        &self,
        notifier: &Notifier,
        method: &str,
        params: &Value,
        timeout: Duration,
    ) -> Result<Value, OutgoingError> {
        let (tx, rx) = bounded(1);
        let id = {
            let mut pending = self.pending.borrow_mut();
            if pending.len() >= MAX_PENDING {
                return Err(OutgoingError::Busy);
            }
            let n = self.next.get() + 1;
            self.next.set(n);
            let id = Id::Str(format!("tfo-mcp-{n}").into());
            pending.insert(id.clone(), tx);
            id
        };
        let _forget = Forget(self, id.clone());
        notifier
            .send(jsonrpc::encode_request(&id, method, params))
            .await;
        let answer = async { rx.recv().await.map_err(|_| OutgoingError::Closed) };
        let expired = async {
            smol::Timer::after(timeout).await;
            Err(OutgoingError::Timeout(timeout))
        };
        answer.or(expired).await?.map_err(OutgoingError::Client)
    }

    /// Hands a response to its waiting request; `false` when no request has that id.
    pub fn resolve(&self, response: Response) -> bool {
        match self.pending.borrow_mut().remove(&response.id) {
            Some(tx) => tx.try_send(response.outcome).is_ok(),
            None => false,
        }
    }

    /// Requests waiting now.
    #[cfg(test)]
    pub fn pending(&self) -> usize {
        self.pending.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sent_id(line: &str) -> Id {
        let v: Value = serde_json::from_str(line).expect("json");
        Id::from_value(&v["id"]).expect("id")
    }

    #[test]
    fn answers_are_matched_by_id_and_errors_and_timeouts_come_back() {
        smol::block_on(async {
            let (out, lines) = smol::channel::unbounded();
            let notifier = Notifier::new(out, 0, crate::metrics::Metrics::disabled());
            let outgoing = Outgoing::default();
            let params = json!({});
            let ask = outgoing.request(&notifier, "roots/list", &params, Duration::from_secs(5));
            let answer = async {
                let line = lines.recv().await.expect("request sent");
                assert!(line.contains("\"method\":\"roots/list\""), "{line}");
                let id = sent_id(&line);
                assert!(
                    !outgoing.resolve(Response {
                        id: Id::Str("other".into()),
                        outcome: Ok(json!(1))
                    }),
                    "unknown id"
                );
                assert!(outgoing.resolve(Response {
                    id,
                    outcome: Ok(json!({"roots": []}))
                }));
            };
            let (result, ()) = smol::future::zip(ask, answer).await;
            assert_eq!(result, Ok(json!({"roots": []})));
            assert_eq!(outgoing.pending(), 0, "answered requests leave the table");

            let ask = outgoing.request(&notifier, "roots/list", &params, Duration::from_secs(5));
            let answer = async {
                let id = sent_id(&lines.recv().await.expect("sent"));
                assert_ne!(id, Id::Str("tfo-mcp-1".into()), "ids are not reused");
                outgoing.resolve(Response {
                    id,
                    outcome: Err(RpcError::method_not_found("roots/list")),
                });
            };
            let (result, ()) = smol::future::zip(ask, answer).await;
            assert!(
                matches!(result, Err(OutgoingError::Client(e)) if e.code == jsonrpc::METHOD_NOT_FOUND)
            );

            let late = outgoing
                .request(&notifier, "roots/list", &params, Duration::from_millis(20))
                .await;
            assert_eq!(late, Err(OutgoingError::Timeout(Duration::from_millis(20))));
            assert_eq!(
                outgoing.pending(),
                0,
                "a timed-out request leaves the table"
            );
        });
    }
}
