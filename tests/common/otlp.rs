//! A loopback OTLP/HTTP receiver for tests, and a small protobuf reader that
//! pulls spans out of an `ExportTraceServiceRequest` (field numbers from
//! proto/opentelemetry/proto/trace/v1/trace.proto). The exhaustive field-by-field
//! check uses the official decoder in `.ci/run`; this one serves assertions here.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request the receiver saw.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub content_type: String,
    pub body: Vec<u8>,
    pub answered: u16,
}

/// A receiver answering each request with the next planned response (then 200).
pub struct Receiver {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Received>>>,
    /// While set, every request is answered 503 (a collector that is down behind its proxy).
    pub down: Arc<AtomicBool>,
}

/// How to answer one request: status, `Retry-After` seconds, delay before answering.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub delay: Duration,
}

impl Plan {
    pub const OK: Plan = Plan {
        status: 200,
        retry_after: None,
        delay: Duration::ZERO,
    };
}

impl Receiver {
    pub fn start(plan: Vec<Plan>) -> Receiver {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind receiver");
        let url = format!(
            "http://{}",
            server.server_addr().to_ip().expect("ip address")
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let down = Arc::new(AtomicBool::new(false));
        let is_down = Arc::clone(&down);
        thread::spawn(move || {
            let mut plan = plan.into_iter();
            for mut request in server.incoming_requests() {
                let mut body = Vec::new();
                let _ = request.as_reader().read_to_end(&mut body);
                let step = if is_down.load(Ordering::SeqCst) {
                    Plan {
                        status: 503,
                        ..Plan::OK
                    }
                } else {
                    plan.next().unwrap_or(Plan::OK)
                };
                thread::sleep(step.delay);
                let content_type = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("content-type"))
                    .map(|h| h.value.to_string())
                    .unwrap_or_default();
                log.lock().expect("lock").push(Received {
                    path: request.url().to_string(),
                    content_type,
                    body,
                    answered: step.status,
                });
                let mut response = tiny_http::Response::empty(step.status);
                if let Some(secs) = step.retry_after {
                    response.add_header(
                        tiny_http::Header::from_bytes("Retry-After", secs.to_string())
                            .expect("header"),
                    );
                }
                let _ = request.respond(response);
            }
        });
        Receiver { url, seen, down }
    }

    pub fn received(&self) -> Vec<Received> {
        self.seen.lock().expect("lock").clone()
    }
}

/// The fields of a span these tests look at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
    pub parent_span_id: Vec<u8>,
    pub name: String,
    pub kind: u64,
    pub string_attributes: Vec<(String, String)>,
    pub status_code: u64,
    /// Integer attributes (`int_value`).
    pub int_attributes: Vec<(String, i64)>,
    /// String-array attributes (`array_value` of strings).
    pub array_attributes: Vec<(String, Vec<String>)>,
    /// Events: name and the keys of their attributes.
    pub events: Vec<(String, Vec<String>)>,
}

impl Span {
    pub fn int(&self, key: &str) -> Option<i64> {
        self.int_attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }

    pub fn event(&self, name: &str) -> Option<&[String]> {
        self.events
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, keys)| keys.as_slice())
    }

    pub fn attr(&self, key: &str) -> Option<&str> {
        self.string_attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// (field number, wire type, payload) of each field of one message.
fn fields(mut buf: &[u8]) -> Vec<(u64, u8, Vec<u8>, u64)> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let key = varint(&mut buf);
        let (field, wire) = (key >> 3, (key & 7) as u8);
        match wire {
            0 => {
                let v = varint(&mut buf);
                out.push((field, wire, Vec::new(), v));
            }
            1 => {
                out.push((field, wire, buf[..8].to_vec(), 0));
                buf = &buf[8..];
            }
            2 => {
                let len = varint(&mut buf) as usize;
                out.push((field, wire, buf[..len].to_vec(), 0));
                buf = &buf[len..];
            }
            5 => {
                out.push((field, wire, buf[..4].to_vec(), 0));
                buf = &buf[4..];
            }
            other => panic!("unexpected wire type {other}"),
        }
    }
    out
}

fn varint(buf: &mut &[u8]) -> u64 {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = buf[0];
        *buf = &buf[1..];
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            break;
        }
    }
    value
}

fn sub(fields: &[(u64, u8, Vec<u8>, u64)], number: u64) -> Vec<Vec<u8>> {
    fields
        .iter()
        .filter(|f| f.0 == number && f.1 == 2)
        .map(|f| f.2.clone())
        .collect()
}

/// Every span of an `ExportTraceServiceRequest`.
pub fn spans(body: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    for resource_spans in sub(&fields(body), 1) {
        for scope_spans in sub(&fields(&resource_spans), 2) {
            for raw in sub(&fields(&scope_spans), 2) {
                let f = fields(&raw);
                let bytes = |n| sub(&f, n).into_iter().next().unwrap_or_default();
                let mut span = Span {
                    trace_id: bytes(1),
                    span_id: bytes(2),
                    parent_span_id: bytes(4),
                    name: String::from_utf8(bytes(5)).expect("utf-8 name"),
                    kind: f.iter().find(|x| x.0 == 6).map_or(0, |x| x.3),
                    ..Span::default()
                };
                for kv in sub(&f, 9) {
                    let kvf = fields(&kv);
                    let key = String::from_utf8(sub(&kvf, 1).remove(0)).expect("key");
                    let value = sub(&kvf, 2).remove(0);
                    let any = fields(&value);
                    if let Some(s) = sub(&any, 1).into_iter().next() {
                        span.string_attributes
                            .push((key, String::from_utf8(s).expect("utf-8 value")));
                    } else if let Some(int) = any.iter().find(|x| x.0 == 3 && x.1 == 0) {
                        span.int_attributes.push((key, int.3 as i64));
                    } else if let Some(array) = sub(&any, 5).into_iter().next() {
                        let items = sub(&fields(&array), 1)
                            .iter()
                            .filter_map(|v| sub(&fields(v), 1).into_iter().next())
                            .map(|s| String::from_utf8(s).expect("utf-8 item"))
                            .collect();
                        span.array_attributes.push((key, items));
                    }
                }
                for event in sub(&f, 11) {
                    let ef = fields(&event);
                    let name = sub(&ef, 2).into_iter().next().unwrap_or_default();
                    let keys = sub(&ef, 3)
                        .iter()
                        .map(|kv| String::from_utf8(sub(&fields(kv), 1).remove(0)).expect("key"))
                        .collect();
                    span.events
                        .push((String::from_utf8(name).expect("utf-8 event"), keys));
                }
                if let Some(status) = sub(&f, 15).into_iter().next() {
                    span.status_code = fields(&status).iter().find(|x| x.0 == 3).map_or(0, |x| x.3);
                }
                out.push(span);
            }
        }
    }
    out
}

/// The `string_value` attributes in field `number` of a message.
fn string_attributes(f: &[(u64, u8, Vec<u8>, u64)], number: u64) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for kv in sub(f, number) {
        let kvf = fields(&kv);
        let key = String::from_utf8(sub(&kvf, 1).remove(0)).expect("key");
        let value = sub(&kvf, 2).remove(0);
        if let Some(s) = sub(&fields(&value), 1).into_iter().next() {
            out.push((key, String::from_utf8(s).expect("utf-8 value")));
        }
    }
    out
}

/// The fields of a log record these tests look at (logs.proto `LogRecord`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRecord {
    pub severity_number: u64,
    pub severity_text: String,
    pub body: String,
    pub string_attributes: Vec<(String, String)>,
    pub trace_id: Vec<u8>,
    pub span_id: Vec<u8>,
}

impl LogRecord {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.string_attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Every record of an `ExportLogsServiceRequest`.
pub fn log_records(body: &[u8]) -> Vec<LogRecord> {
    let mut out = Vec::new();
    for resource_logs in sub(&fields(body), 1) {
        for scope_logs in sub(&fields(&resource_logs), 2) {
            for raw in sub(&fields(&scope_logs), 2) {
                let f = fields(&raw);
                let bytes = |n| sub(&f, n).into_iter().next().unwrap_or_default();
                let text = |n| String::from_utf8(bytes(n)).expect("utf-8");
                let body = sub(&fields(&bytes(5)), 1)
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                out.push(LogRecord {
                    severity_number: f.iter().find(|x| x.0 == 2).map_or(0, |x| x.3),
                    severity_text: text(3),
                    body: String::from_utf8(body).expect("utf-8 body"),
                    string_attributes: string_attributes(&f, 6),
                    trace_id: bytes(9),
                    span_id: bytes(10),
                });
            }
        }
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
