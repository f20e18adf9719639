//! The blocking HTTP side: one `POST /v1/messages` attempt (JSON or
//! server-sent events), [`Client::send_with_retry`] around it, and the
//! token-free health probe `GET /v1/models`. Runs on a blocking thread
//! (`smol::unblock`), never on the executor. The TLS configuration (and
//! with it the CA store) is built at the first https call, so a server that
//! never calls Claude pays nothing for it at startup.

use super::error::{ApiErrorType, Error};
use super::retry::{self, Decision};
use super::sse::{Accumulator, Decoder};
use super::types::{Request, Response};
use crate::config::{ClaudeConfig, Secret};
use crate::jsonrpc::clip;
use crate::outbound::{self, Agent};
use serde_json::Value;
use std::io::Read;
use std::time::{Duration, Instant};

/// The one `anthropic-version` this client speaks (notes §0: switching is one line).
pub const API_VERSION: &str = "2023-06-01";
/// Longest error body read (an envelope is a few hundred bytes; a proxy page may be more).
const MAX_ERROR_BODY: u64 = 64 * 1024;
/// Longest non-streaming answer read.
const MAX_BODY: u64 = 16 << 20;
/// Connection setup limit of one attempt (the SDKs use 5 s too).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A Claude Messages API client; shared (`Arc`) between calls and the health probe.
pub struct Client {
    api_key: Secret,
    base_url: String,
    max_retries: u32,
    timeout: Duration,
    agent: Agent,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("max_retries", &self.max_retries)
            .field("timeout", &self.timeout)
            .field("tls_set_up", &self.tls_is_set_up())
            .finish_non_exhaustive()
    }
}

/// One retry about to happen, for span events and logs.
#[derive(Debug, Clone, PartialEq)]
pub struct Retry {
    /// 1 for the first retry.
    pub retry: u32,
    /// What the failed attempt ran into.
    pub error: Error,
    /// How long the client waits before it.
    pub wait: Duration,
}

/// Hears what happens during a call, and may end it.
pub trait Observer {
    /// A retry is about to be waited for.
    fn retrying(&mut self, retry: &Retry);
    /// A streamed text delta arrived; `false` abandons the call.
    fn text(&mut self, delta: &str) -> bool;
    /// Waits `wait` before a retry; `false` when the call was abandoned meanwhile.
    fn wait(&mut self, wait: Duration) -> bool;
    /// Whether nobody waits for the answer any more.
    fn abandoned(&self) -> bool;
}

/// A successful call.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The answer.
    pub response: Response,
    /// Retries it took.
    pub retries: u32,
}

/// A failed call: the last error, and what was tried before giving up.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The error of the last attempt.
    pub error: Error,
    /// Retries made.
    pub retries: u32,
    /// Time from the first attempt to giving up.
    pub elapsed: Duration,
    /// Why no further retry was made (for the tool's message).
    pub gave_up: GaveUp,
}

/// Why a failed call was not retried (further).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaveUp {
    /// The error is not one that a retry can fix.
    Final,
    /// `TELEMETRYFLOW_MCP_CLAUDE_MAX_RETRIES` were used.
    Exhausted,
    /// The next wait would have ended past the deadline.
    NoTimeLeft,
    /// The server asked for a wait over a minute.
    WaitTooLong(Duration),
}

/// The outcome of one attempt: the answer, or the error and whether a retry may help.
type Attempt = Result<Response, (Error, bool)>;

impl Client {
    /// A client for `config`; `None` when no API key is configured.
    pub fn new(config: &ClaudeConfig) -> Option<Client> {
        Some(Client {
            api_key: config.api_key.clone()?,
            base_url: config.base_url.clone(),
            max_retries: config.max_retries,
            timeout: config.timeout,
            agent: Agent::new(
                concat!("tfo-mcp/", env!("CARGO_PKG_VERSION")),
                Some(CONNECT_TIMEOUT),
            ),
        })
    }

    /// The API's base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The deadline of a call starting now.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// Whether the TLS configuration (and the CA store) has been built: not before
    /// the first https call.
    pub fn tls_is_set_up(&self) -> bool {
        self.agent.tls_is_set_up()
    }

    /// `POST /v1/messages`, retrying what may be retried until `deadline`
    /// (the SDKs' `_send_with_retry`). Blocking: call it from `smol::unblock`.
    pub fn send_with_retry(
        &self,
        request: &Request,
        deadline: Instant,
        observer: &mut dyn Observer,
    ) -> Result<Outcome, Box<Failure>> {
        let started = Instant::now();
        let body = serde_json::to_vec(request).expect("a Request always serializes");
        let mut retries = 0;
        loop {
            let fail = move |error, gave_up| {
                Box::new(Failure {
                    error,
                    retries,
                    elapsed: started.elapsed(),
                    gave_up,
                })
            };
            if observer.abandoned() {
                return Err(fail(Error::Abandoned, GaveUp::Final));
            }
            let (error, retryable) = match self.attempt(&body, request.stream, deadline, observer) {
                Ok(response) => return Ok(Outcome { response, retries }),
                Err(failed) => failed,
            };
            let hint = match &error {
                Error::Api { retry_after, .. } => *retry_after,
                _ => None,
            };
            let now = Instant::now();
            let wait =
                match retry::decide(retryable, retries, self.max_retries, hint, now, deadline) {
                    Decision::Wait(wait) => wait,
                    Decision::Final => return Err(fail(error, GaveUp::Final)),
                    Decision::Exhausted => return Err(fail(error, GaveUp::Exhausted)),
                    Decision::NoTimeLeft => return Err(fail(error, GaveUp::NoTimeLeft)),
                    Decision::WaitTooLong(asked) => {
                        return Err(fail(error, GaveUp::WaitTooLong(asked)));
                    }
                };
            retries += 1;
            observer.retrying(&Retry {
                retry: retries,
                error,
                wait,
            });
            if !observer.wait(wait) {
                return Err(fail(Error::Abandoned, GaveUp::Final));
            }
        }
    }

    /// One attempt.
    fn attempt(
        &self,
        body: &[u8],
        stream: bool,
        deadline: Instant,
        observer: &mut dyn Observer,
    ) -> Attempt {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err((self.timed_out(), false));
        }
        let url = format!("{}/v1/messages", self.base_url);
        let accept = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        let headers = [
            ("x-api-key", self.api_key.expose()),
            ("anthropic-version", API_VERSION),
            ("content-type", "application/json"),
            ("accept", accept),
        ];
        let result = self.agent.post(&url, &headers, body, remaining);
        let mut response = result.map_err(|e| self.transport(e))?;
        let status = response.status();
        let header = |name: &str| response.header(name).map(str::to_string);
        let request_id = header("request-id");
        if !(200..300).contains(&status) {
            let hint = outbound::retry_after(
                header("retry-after-ms").as_deref(),
                header("retry-after").as_deref(),
            );
            let should = header("x-should-retry");
            let bytes = read_error_body(&mut response);
            let (mut error, spend_cap) = api_error(status, &bytes, request_id, hint);
            if let Error::Api { message, .. } = &mut error {
                *message = self.api_key.scrub(message).into_owned();
            }
            return Err((
                error,
                retry::should_retry(status, should.as_deref(), spend_cap),
            ));
        }
        let is_stream = header("content-type").is_some_and(|t| t.starts_with("text/event-stream"));
        if stream && is_stream {
            return self.read_stream(response, request_id, observer);
        }
        let bytes = response
            .read_to_vec(MAX_BODY)
            .map_err(|e| self.transport(e))?;
        Response::parse(&bytes, request_id.clone()).map_err(|detail| {
            let error = Error::Malformed {
                detail: format!("{detail}; body: {}", clip(&String::from_utf8_lossy(&bytes))),
                request_id,
            };
            (error, false)
        })
    }

    /// Reads server-sent events to the end of the answer, handing text deltas to `observer`.
    fn read_stream(
        &self,
        mut reader: outbound::Response<'_>,
        request_id: Option<String>,
        observer: &mut dyn Observer,
    ) -> Attempt {
        let mut decoder = Decoder::default();
        let mut acc = Accumulator::default();
        let mut events = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        let malformed = |detail: String| Error::Malformed {
            detail,
            request_id: request_id.clone(),
        };
        loop {
            let n = match reader.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Err((self.timed_out(), false));
                }
                // The answer was half delivered: a retry would repeat what the client already saw.
                Err(e) => {
                    return Err((
                        Error::Connection {
                            detail: e.to_string(),
                        },
                        false,
                    ));
                }
            };
            if n == 0 {
                decoder.finish(&mut events);
            } else {
                decoder
                    .feed(&buf[..n], &mut events)
                    .map_err(|d| (malformed(d), false))?;
            }
            for event in events.drain(..) {
                if let Some(text) = acc.apply(&event, &request_id).map_err(|e| (e, false))?
                    && !observer.text(&text)
                {
                    return Err((Error::Abandoned, false));
                }
            }
            if n == 0 || acc.is_complete() {
                // The stream's end usually came with its last event: the connection
                // is then kept for the next call.
                reader.discard_buffered();
                return acc.finish(request_id).map_err(|e| (e, false));
            }
        }
    }

    fn timed_out(&self) -> Error {
        Error::Timeout {
            after: self.timeout,
        }
    }

    /// A transport error, and whether a retry may help (connection problems: yes).
    fn transport(&self, error: outbound::Error) -> (Error, bool) {
        match error {
            outbound::Error::Timeout(_) => (self.timed_out(), false),
            outbound::Error::TooLarge(limit) => (
                Error::Malformed {
                    detail: format!("the answer exceeds {limit} bytes"),
                    request_id: None,
                },
                false,
            ),
            e => {
                let retryable = e.is_transient();
                let detail = e.to_string();
                (Error::Connection { detail }, retryable)
            }
        }
    }

    /// The health check: `GET /v1/models?limit=1` within `timeout`. It validates the
    /// key and reachability and spends no tokens. `Ok`: how long it took; `Err`: why
    /// it failed (the API's message and request id, never the key).
    pub fn probe(&self, timeout: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        let url = format!("{}/v1/models?limit=1", self.base_url);
        let headers = [
            ("x-api-key", self.api_key.expose()),
            ("anthropic-version", API_VERSION),
        ];
        let result = self.agent.get(&url, &headers, timeout);
        let mut response = result.map_err(|e| self.transport(e).0.to_string())?;
        let status = response.status();
        let request_id = response.header("request-id").map(str::to_string);
        let bytes = read_error_body(&mut response);
        if (200..300).contains(&status) {
            Ok(started.elapsed())
        } else {
            let error = api_error(status, &bytes, request_id, None).0.to_string();
            Err(self.api_key.scrub(&error).into_owned())
        }
    }
}

/// The longest error message of the API's kept, in bytes.
const MAX_API_TEXT: usize = 1024;

/// An error message the API sent: it may quote what the API was sent, and it goes
/// to the MCP client, the health report and the records, so secret-looking text is
/// cut out and its length bounded (the configured key is also scrubbed by the
/// client that holds it).
pub(super) fn api_text(message: &str) -> String {
    let message = crate::redact::redact_text(message);
    crate::redact::truncate(&message, MAX_API_TEXT).into_owned()
}

/// A short body (an error envelope or the models list), read up to `MAX_ERROR_BODY`.
fn read_error_body(response: &mut outbound::Response<'_>) -> Vec<u8> {
    response.read_to_vec(MAX_ERROR_BODY).unwrap_or_default()
}

/// The error an error response stands for, and whether it is the monthly spend cap.
/// The envelope is `{"type":"error","error":{"type","message"},"request_id"}`; a body
/// that is not (a proxy's 502 or 413 page) is quoted and classed by its status.
fn api_error(
    status: u16,
    body: &[u8],
    request_id: Option<String>,
    retry_after: Option<Duration>,
) -> (Error, bool) {
    // from_str, not from_slice: one serde_json reader in the binary (invalid UTF-8 fails both).
    let envelope: Option<Value> = std::str::from_utf8(body)
        .ok()
        .and_then(|text| serde_json::from_str(text).ok());
    let error = envelope
        .as_ref()
        .and_then(|v| v.get("error"))
        .filter(|e| e["type"].is_string());
    let request_id = request_id.or_else(|| {
        envelope
            .as_ref()
            .and_then(|v| v["request_id"].as_str())
            .map(str::to_string)
    });
    let (kind, message, spend_cap) = match error {
        Some(e) => (
            ApiErrorType::parse(e["type"].as_str().unwrap_or_default()),
            api_text(e["message"].as_str().unwrap_or_default()),
            e["details"]["error_code"] == "enforced_spend_limit_reached",
        ),
        None => {
            let text = String::from_utf8_lossy(body);
            let message = if text.trim().is_empty() {
                "(no body)".to_string()
            } else {
                clip(text.trim())
            };
            (ApiErrorType::from_status(status), message, false)
        }
    };
    let error = Error::Api {
        status,
        kind,
        message,
        request_id,
        retry_after,
    };
    (error, spend_cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_become_typed_errors() {
        let envelope = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_body"}"#;
        let (e, cap) = api_error(529, envelope, None, Some(Duration::from_secs(2)));
        assert_eq!(
            e,
            Error::Api {
                status: 529,
                kind: ApiErrorType::Overloaded,
                message: "Overloaded".into(),
                request_id: Some("req_body".into()),
                retry_after: Some(Duration::from_secs(2)),
            },
            "the body's request_id is used when the header is missing"
        );
        assert!(!cap);
        let (e, _) = api_error(401, envelope, Some("req_header".into()), None);
        assert_eq!(e.request_id(), Some("req_header"), "the header wins");
        let spend = br#"{"type":"error","error":{"type":"rate_limit_error","message":"cap","details":{"error_code":"enforced_spend_limit_reached"}}}"#;
        assert!(api_error(429, spend, None, None).1, "spend cap recognised");
        let (e, _) = api_error(502, b"<html>Bad gateway</html>", None, None);
        assert_eq!(e.type_name(), "http_502");
        assert!(e.to_string().contains("<html>Bad gateway</html>"), "{e}");
        let (e, _) = api_error(413, b"", None, None);
        assert_eq!(e.type_name(), "request_too_large");
        assert!(e.to_string().contains("(no body)"), "{e}");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let config = ClaudeConfig {
            api_key: Some(Secret::new("sk-ant-secret-123")),
            ..crate::config::Config::default().claude
        };
        let client = Client::new(&config).expect("a key is configured");
        let shown = format!("{client:?} {config:?}");
        assert!(!shown.contains("sk-ant-secret-123"), "{shown}");
        assert!(
            !client.tls_is_set_up(),
            "no agent (no TLS setup) before the first call"
        );
        assert!(Client::new(&crate::config::Config::default().claude).is_none());
    }

    /// A one-shot loopback server answering `status` and `body`; returns its URL and
    /// what it received (method, path, api key, body length).
    fn one_reply(
        status: u16,
        body: &'static str,
    ) -> (
        String,
        std::sync::mpsc::Receiver<(String, String, String, usize)>,
    ) {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", server.server_addr().to_ip().expect("ip"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if let Ok(mut request) = server.recv() {
                let mut bytes = Vec::new();
                let _ = request.as_reader().read_to_end(&mut bytes);
                let key = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("x-api-key"))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default();
                let _ = tx.send((
                    request.method().to_string(),
                    request.url().to_string(),
                    key,
                    bytes.len(),
                ));
                let _ = request
                    .respond(tiny_http::Response::from_string(body).with_status_code(status));
            }
        });
        (url, rx)
    }

    fn client(base_url: &str) -> Client {
        let config = ClaudeConfig {
            api_key: Some(Secret::new("sk-ant-probe-key")),
            base_url: base_url.to_string(),
            ..crate::config::Config::default().claude
        };
        Client::new(&config).expect("a key is configured")
    }

    #[test]
    fn the_probe_lists_models_spending_nothing_and_reports_failures_without_the_key() {
        let (url, seen) = one_reply(
            200,
            r#"{"data":[],"has_more":false,"first_id":null,"last_id":null}"#,
        );
        let took = client(&url).probe(Duration::from_secs(5)).expect("healthy");
        assert!(took < Duration::from_secs(5));
        let (method, path, key, body) = seen.recv().expect("one request");
        assert_eq!(
            (method.as_str(), path.as_str(), body),
            ("GET", "/v1/models?limit=1", 0),
            "a GET, no tokens"
        );
        assert_eq!(key, "sk-ant-probe-key");

        let (url, _) = one_reply(
            401,
            r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
        );
        let error = client(&url)
            .probe(Duration::from_secs(5))
            .expect_err("refused");
        assert_eq!(
            error,
            "claude api: HTTP 401 authentication_error: invalid x-api-key"
        );

        let dead = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let error = client(&format!("http://127.0.0.1:{dead}"))
            .probe(Duration::from_secs(2))
            .expect_err("nobody listens");
        assert!(
            error.starts_with("claude api: connection failed"),
            "{error}"
        );
        assert!(!error.contains("sk-ant-probe-key"), "{error}");
    }
}
