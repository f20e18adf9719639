//! A loopback fake of the Anthropic Messages API, written from the public docs
//! (platform.claude.com/docs/en/api/errors, .../build-with-claude/streaming):
//! `POST /v1/messages` (JSON or server-sent events), `GET /v1/models`, the error
//! envelope `{"type":"error","error":{"type","message"},"request_id"}`, the
//! `request-id` header on every response, 401 for a wrong key, 400 without
//! `anthropic-version` or with a body that is not a valid request. Each request is
//! answered on its own thread by the next scripted [`Reply`], so a slow reply does
//! not hold up the next request.

use serde_json::{Value, json};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How to answer one `POST /v1/messages`.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with a message holding `text` and this usage.
    Message {
        text: String,
        input_tokens: u64,
        output_tokens: u64,
    },
    /// 200 `text/event-stream`: the documented event order, `text` split into `deltas`,
    /// `gap` between events.
    Stream {
        deltas: Vec<String>,
        gap: Duration,
        input_tokens: u64,
        output_tokens: u64,
    },
    /// An error status with the envelope and extra headers (e.g. `retry-after`).
    Error {
        status: u16,
        kind: String,
        message: String,
        headers: Vec<(String, String)>,
    },
    /// Any status, content type and body (a proxy page, a broken body).
    Raw {
        status: u16,
        content_type: String,
        body: String,
    },
    /// Waits `delay`, then answers with `then`.
    Slow { delay: Duration, then: Box<Reply> },
}

impl Reply {
    pub fn message(text: &str, input_tokens: u64, output_tokens: u64) -> Reply {
        Reply::Message {
            text: text.to_string(),
            input_tokens,
            output_tokens,
        }
    }

    pub fn error(status: u16, kind: &str, message: &str, headers: &[(&str, &str)]) -> Reply {
        Reply::Error {
            status,
            kind: kind.to_string(),
            message: message.to_string(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// The running fake.
pub struct FakeApi {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    /// `GET /v1/models` requests (the server's health probe), kept apart so that the
    /// scripted `/v1/messages` exchanges and their request ids do not depend on its timing.
    probes: Arc<Mutex<Vec<Seen>>>,
}

impl FakeApi {
    /// Serves `script` in order to requests carrying `x-api-key: key`; after the
    /// script, every request gets a short message.
    pub fn start(key: &str, script: Vec<Reply>) -> FakeApi {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind fake API");
        let url = format!("http://{}", server.server_addr().to_ip().expect("ip"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let probes = Arc::new(Mutex::new(Vec::new()));
        let probe_log = Arc::clone(&probes);
        let key = key.to_string();
        let script = Arc::new(Mutex::new(script.into_iter()));
        let counter = Arc::new(AtomicUsize::new(0));
        thread::spawn(move || {
            for mut request in server.incoming_requests() {
                let mut body = String::new();
                let _ = request.as_reader().read_to_string(&mut body);
                let seen = Seen {
                    method: request.method().to_string(),
                    path: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                    body,
                    at: Instant::now(),
                };
                let n = if seen.path.starts_with("/v1/models") {
                    probe_log.lock().expect("lock").push(seen.clone());
                    usize::MAX
                } else {
                    log.lock().expect("lock").push(seen.clone());
                    counter.fetch_add(1, Ordering::SeqCst)
                };
                let reply = route(&seen, &key, &script);
                let writer = request.into_writer();
                thread::spawn(move || answer(writer, &seen, reply, n));
            }
        });
        FakeApi { url, seen, probes }
    }

    /// Every request but the health probes, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// The health probes (`GET /v1/models`) seen so far.
    pub fn probes(&self) -> Vec<Seen> {
        self.probes.lock().expect("lock").clone()
    }

    /// Waits until `n` requests arrived (or panics after 10 s).
    pub fn wait_for(&self, n: usize) -> Vec<Seen> {
        let start = Instant::now();
        loop {
            let seen = self.seen();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "fake API saw {} of {n} requests",
                seen.len()
            );
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// What the docs say the API answers before the scripted reply is used.
fn route(seen: &Seen, key: &str, script: &Mutex<std::vec::IntoIter<Reply>>) -> Reply {
    // `x-api-key`, or `Authorization: Bearer` as the newer official SDKs send it.
    let bearer = seen
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    if seen.header("x-api-key").or(bearer) != Some(key) {
        return Reply::error(401, "authentication_error", "invalid x-api-key", &[]);
    }
    if seen.header("anthropic-version").is_none() {
        return Reply::error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
            &[],
        );
    }
    match (seen.method.as_str(), seen.path.split('?').next().unwrap_or("")) {
        ("GET", "/v1/models") => Reply::Raw {
            status: 200,
            content_type: "application/json".into(),
            body: json!({"data": [{"type": "model", "id": "claude-test-1", "display_name": "Claude Test",
                "created_at": "2026-01-01T00:00:00Z"}], "has_more": false,
                "first_id": "claude-test-1", "last_id": "claude-test-1"})
            .to_string(),
        },
        ("POST", "/v1/messages") => {
            let body = seen.json();
            let valid = body["model"].is_string()
                && body["max_tokens"].as_u64().is_some_and(|n| n >= 1)
                && body["messages"].as_array().is_some_and(|m| {
                    !m.is_empty()
                        && m.iter()
                            .all(|t| t["role"] == "user" || t["role"] == "assistant")
                });
            if !valid {
                return Reply::error(400, "invalid_request_error", "messages: invalid request", &[]);
            }
            script
                .lock()
                .expect("lock")
                .next()
                .unwrap_or_else(|| Reply::message("ok", 5, 1))
        }
        _ => Reply::error(404, "not_found_error", "Not found", &[]),
    }
}

fn answer(mut out: Box<dyn Write + Send>, seen: &Seen, reply: Reply, n: usize) {
    let request_id = if n == usize::MAX {
        "req_fake_probe".to_string()
    } else {
        format!("req_fake_{n:04}")
    };
    let model = seen.json()["model"]
        .as_str()
        .unwrap_or("claude-test-1")
        .to_string();
    let head = |out: &mut Box<dyn Write + Send>,
                status: u16,
                content_type: &str,
                extra: &[(String, String)],
                length: Option<usize>| {
        let mut text = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: {content_type}\r\nrequest-id: {request_id}\r\nconnection: close\r\n",
            reason(status)
        );
        for (k, v) in extra {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(length) = length {
            text.push_str(&format!("content-length: {length}\r\n"));
        }
        text.push_str("\r\n");
        let _ = out.write_all(text.as_bytes());
    };
    match reply {
        Reply::Slow { delay, then } => {
            thread::sleep(delay);
            return answer(out, seen, *then, n);
        }
        Reply::Message {
            text,
            input_tokens,
            output_tokens,
        } => {
            let body = json!({
                "id": format!("msg_fake_{n:04}"), "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                          "service_tier": "standard"}
            })
            .to_string();
            head(&mut out, 200, "application/json", &[], Some(body.len()));
            let _ = out.write_all(body.as_bytes());
        }
        Reply::Error {
            status,
            kind,
            message,
            headers,
        } => {
            let body = json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id})
                .to_string();
            head(
                &mut out,
                status,
                "application/json",
                &headers,
                Some(body.len()),
            );
            let _ = out.write_all(body.as_bytes());
        }
        Reply::Raw {
            status,
            content_type,
            body,
        } => {
            head(&mut out, status, &content_type, &[], Some(body.len()));
            let _ = out.write_all(body.as_bytes());
        }
        Reply::Stream {
            deltas,
            gap,
            input_tokens,
            output_tokens,
        } => {
            // Chunked, as the API sends it: one chunk per event, a zero chunk at the end.
            let chunked = [("transfer-encoding".to_string(), "chunked".to_string())];
            head(&mut out, 200, "text/event-stream", &chunked, None);
            let mut events = vec![
                json!({"type": "message_start", "message": {"id": format!("msg_fake_{n:04}"), "type": "message",
                    "role": "assistant", "content": [], "model": model, "stop_reason": null, "stop_sequence": null,
                    "usage": {"input_tokens": input_tokens, "cache_creation_input_tokens": 0,
                              "cache_read_input_tokens": 0, "output_tokens": 1}}}),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                json!({"type": "ping"}),
            ];
            for delta in &deltas {
                events.push(json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": delta}}));
            }
            events.push(json!({"type": "content_block_stop", "index": 0}));
            events.push(json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                "usage": {"output_tokens": output_tokens}}));
            events.push(json!({"type": "message_stop"}));
            for event in events {
                let name = event["type"].as_str().unwrap_or_default().to_string();
                let frame = format!("event: {name}\ndata: {event}\n\n");
                let chunk = format!("{:x}\r\n{frame}\r\n", frame.len());
                if out
                    .write_all(chunk.as_bytes())
                    .and_then(|()| out.flush())
                    .is_err()
                {
                    return;
                }
                thread::sleep(gap);
            }
            let _ = out.write_all(b"0\r\n\r\n");
        }
    }
    let _ = out.flush();
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        529 => "Overloaded",
        _ => "Status",
    }
}
