//! JSON-RPC 2.0 messages as MCP uses them: decoding one input line into a
//! [`Incoming`] message (or the precise protocol error for it), request ids kept
//! exactly as sent, error codes, and encoding of outgoing messages as one line.
//! Sans-IO: bytes in, values out.

use crate::json::{self, Piece};
use serde::de::{self, Deserializer};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::Arc;

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid request object.
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist or is not available.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid method parameters.
pub const INVALID_PARAMS: i64 = -32602;
/// Internal JSON-RPC error.
pub const INTERNAL_ERROR: i64 = -32603;
/// MCP (2024-11-05 … 2025-11-25): resource not found.
pub const RESOURCE_NOT_FOUND: i64 = -32002;
/// MCP 2026-07-28: the request needs a client capability it did not declare.
pub const MISSING_CLIENT_CAPABILITY: i64 = -32021;
/// MCP 2026-07-28: the protocol version in `_meta` is not served.
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;

/// A request id: a string or an integer, echoed back with its type and value.
///
/// Integers keep their decimal text, so ids beyond `u64` survive unchanged. The
/// text is shared: an id is copied into the span, the log context, the in-flight
/// table and the answer, and a clone costs no allocation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Id {
    /// An integer id, as its canonical decimal text (`-?[0-9]+`).
    Int(Arc<str>),
    /// A string id.
    Str(Arc<str>),
}

impl Id {
    /// The id's text: an integer's canonical decimal digits, or the string.
    pub fn as_str(&self) -> &str {
        match self {
            Id::Int(text) | Id::Str(text) => text,
        }
    }

    /// Reads an id from already-parsed JSON (e.g. `requestId` of a cancellation).
    pub fn from_value(value: &Value) -> Option<Id> {
        match value {
            Value::String(s) => Some(Id::Str(s.as_str().into())),
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(Id::Int(n.to_string().into())),
            _ => None,
        }
    }

    fn from_raw(raw: &RawValue) -> Result<Id, &'static str> {
        let text = raw.get();
        let bytes = text.as_bytes();
        match bytes.first() {
            Some(b'"') => serde_json::from_str::<String>(text)
                .map(|s| Id::Str(s.into()))
                .map_err(|_| "`id` is not a valid string"),
            Some(b'-' | b'0'..=b'9') => {
                let digits = text.strip_prefix('-').unwrap_or(text);
                if digits.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(Id::Int(if digits == "0" {
                        "0".into()
                    } else {
                        text.into()
                    }))
                } else {
                    Err("`id` must be a string or an integer, not a fraction or exponent")
                }
            }
            Some(b'n') => Err("`id` must not be null"),
            _ => Err("`id` must be a string or an integer"),
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // Most ids fit a machine integer: written as one, with no copy of the text.
            // (`-0` keeps its text: as an i64 it would come back as `0`.)
            Id::Int(text) => match (text.parse::<i64>(), text.parse::<u64>()) {
                (Ok(n), _) if &**text != "-0" => serializer.serialize_i64(n),
                (_, Ok(n)) => serializer.serialize_u64(n),
                _ => match RawValue::from_string(text.to_string()) {
                    Ok(raw) => raw.serialize(serializer),
                    Err(_) => serializer.serialize_str(text),
                },
            },
            Id::Str(s) => serializer.serialize_str(s),
        }
    }
}

/// A JSON-RPC error object, sent to the client as data (not a Rust error).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RpcError {
    /// One of the codes above.
    pub code: i64,
    /// One short sentence.
    pub message: String,
    /// Optional structured detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// An error without `data`.
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data`.
    pub fn with_data(mut self, data: Value) -> RpcError {
        self.data = Some(data);
        self
    }

    /// `-32602` with a message.
    pub fn invalid_params(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_PARAMS, message)
    }

    /// `-32600` with a message.
    pub fn invalid_request(message: impl Into<String>) -> RpcError {
        RpcError::new(INVALID_REQUEST, message)
    }

    /// `-32601` for `method`.
    pub fn method_not_found(method: &str) -> RpcError {
        RpcError::new(
            METHOD_NOT_FOUND,
            format!("method not found: {}", clip(method)),
        )
    }

    /// `-32603` with a message.
    pub fn internal(message: impl Into<String>) -> RpcError {
        RpcError::new(INTERNAL_ERROR, message)
    }
}

/// Client-supplied text quoted in an error message, cut to a readable length.
pub fn clip(text: &str) -> String {
    const MAX: usize = 128;
    // Only the start is shown: redaction looks at a window of it (a secret that
    // begins in the part shown begins inside the window too), not at megabytes.
    const WINDOW: usize = 2048;
    let size = text.len();
    let window = text.floor_char_boundary(WINDOW);
    // Quoted client text leaves the process in errors, spans and logs: no secrets.
    let shown = &*crate::redact::redact_text(&text[..window]);
    match shown.char_indices().nth(MAX) {
        None if window == size => shown.to_string(),
        None => format!("{shown}… ({size} bytes)"),
        Some((cut, _)) => format!("{}… ({size} bytes)", &shown[..cut]),
    }
}

/// A request: it has an id and expects exactly one response.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The id to echo.
    pub id: Id,
    /// The method name.
    pub method: String,
    /// `params`, always an object when present.
    pub params: Option<Map<String, Value>>,
}

/// A notification: no id, never answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// `params`, always an object when present.
    pub params: Option<Map<String, Value>>,
}

/// One decoded message from the client.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A request.
    Request(Request),
    /// A notification.
    Notification(Notification),
    /// A response to a request the server sent (e.g. `roots/list`).
    Response(Response),
}

/// A response from the client to a request the server sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// The id the server allocated.
    pub id: Id,
    /// `result`, or `error` (a malformed error object becomes `-32603`).
    pub outcome: Result<Value, RpcError>,
}

/// A message that failed to decode, with the id to answer when one was readable.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    /// The request id if it could be read, `None` for `id: null` in the reply.
    pub id: Option<Id>,
    /// The error to send.
    pub error: RpcError,
}

/// What one line holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    /// A single message (or the error answering it).
    Single(Result<Incoming, DecodeError>),
    /// A JSON array: a batch (only valid in a 2025-03-26 session); items may be errors.
    Batch(Vec<Result<Incoming, DecodeError>>),
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    jsonrpc: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    method: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    params: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    error: Option<&'a RawValue>,
}

/// Distinguishes a present `null` (Some) from an absent field (None, by `default`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue as Deserialize>::deserialize(d).map(Some)
}

/// Decodes one line (without its trailing newline; a trailing `\r` is tolerated).
pub fn decode_line(line: &[u8]) -> Line {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = match std::str::from_utf8(line) {
        Ok(text) => text,
        Err(e) => {
            return Line::Single(Err(parse_error(format!(
                "parse error: invalid UTF-8 at byte {}",
                e.valid_up_to()
            ))));
        }
    };
    let first = text.trim_start().as_bytes().first().copied();
    if first == Some(b'[') {
        return match serde_json::from_str::<Vec<&RawValue>>(text) {
            Ok(items) if items.is_empty() => Line::Single(Err(DecodeError {
                id: None,
                error: RpcError::invalid_request("invalid request: empty batch"),
            })),
            Ok(items) => Line::Batch(
                items
                    .into_iter()
                    .map(|raw| decode_text(raw.get()))
                    .collect(),
            ),
            Err(e) => Line::Single(Err(parse_error(format!("parse error: {e}")))),
        };
    }
    Line::Single(decode_text(text))
}

fn parse_error(message: String) -> DecodeError {
    DecodeError {
        id: None,
        error: RpcError::new(PARSE_ERROR, message),
    }
}

fn decode_text(text: &str) -> Result<Incoming, DecodeError> {
    let envelope: Envelope<'_> = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => DecodeError {
            id: None,
            error: RpcError::invalid_request("invalid request: a message must be a JSON object"),
        },
        _ => parse_error(format!("parse error: {e}")),
    })?;
    // Read the id first so that every later error can be answered with it.
    let id = match envelope.id {
        None => None,
        Some(raw) => Some(Id::from_raw(raw).map_err(|m| DecodeError {
            id: None,
            error: RpcError::invalid_request(format!("invalid request: {m}")),
        })?),
    };
    let error_id = id.clone();
    let invalid = |message: &str| DecodeError {
        id: error_id.clone(),
        error: RpcError::invalid_request(format!("invalid request: {message}")),
    };
    if envelope.jsonrpc.map(RawValue::get) != Some("\"2.0\"") {
        return Err(invalid("`jsonrpc` must be \"2.0\""));
    }
    let Some(method) = envelope.method else {
        return match (id, envelope.result, envelope.error) {
            (Some(id), Some(result), None) => Ok(Incoming::Response(Response {
                id,
                outcome: Ok(serde_json::from_str(result.get()).unwrap_or(Value::Null)),
            })),
            (Some(id), None, Some(error)) => Ok(Incoming::Response(Response {
                id,
                outcome: Err(decode_error_object(error.get())),
            })),
            _ => Err(invalid("missing `method`")),
        };
    };
    let method: String =
        serde_json::from_str(method.get()).map_err(|_| invalid("`method` must be a string"))?;
    let params = match envelope.params {
        None => None,
        Some(raw) => match serde_json::from_str::<Value>(raw.get()) {
            Ok(Value::Object(map)) => Some(map),
            Ok(_) => return Err(invalid("`params` must be an object")),
            Err(e) => return Err(invalid(&format!("`params`: {e}"))),
        },
    };
    Ok(match id {
        Some(id) => Incoming::Request(Request { id, method, params }),
        None => Incoming::Notification(Notification { method, params }),
    })
}

/// The `error` member of a response: `code`, `message`, optional `data`.
fn decode_error_object(text: &str) -> RpcError {
    let value: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    match (
        value.get("code").and_then(Value::as_i64),
        value.get("message").and_then(Value::as_str),
    ) {
        (Some(code), Some(message)) => RpcError {
            code,
            message: message.to_string(),
            data: value.get("data").cloned(),
        },
        _ => RpcError::internal(format!(
            "internal error: malformed error object in a response: {}",
            clip(text)
        )),
    }
}

/// A request from the server to the client, serialized as one line.
pub fn encode_request(id: &Id, method: &str, params: &Value) -> String {
    json::concat(&[
        Piece::Raw("{\"jsonrpc\":\"2.0\",\"id\":"),
        id_piece(id),
        Piece::Raw(",\"method\":"),
        Piece::Str(method),
        Piece::Raw(",\"params\":"),
        Piece::Value(params),
        Piece::Raw("}"),
    ])
}

/// A successful response, serialized as one line.
pub fn encode_result(id: &Id, result: &Value) -> String {
    json::concat(&[
        Piece::Raw("{\"jsonrpc\":\"2.0\",\"id\":"),
        id_piece(id),
        Piece::Raw(",\"result\":"),
        Piece::Value(result),
        Piece::Raw("}"),
    ])
}

/// An id as it is written: an integer's canonical digits as they are (what
/// `Serialize for Id` writes too), a string quoted.
fn id_piece(id: &Id) -> Piece<'_> {
    match id {
        Id::Int(text) => Piece::Raw(text),
        Id::Str(text) => Piece::Str(text),
    }
}

/// An error response, serialized as one line; `id: None` is sent as `null`.
pub fn encode_error(id: Option<&Id>, error: &RpcError) -> String {
    // `data` only when present (empty raw pieces write nothing).
    let data = error.data.as_ref();
    json::concat(&[
        Piece::Raw("{\"jsonrpc\":\"2.0\",\"id\":"),
        id.map_or(Piece::Raw("null"), id_piece),
        Piece::Raw(",\"error\":{\"code\":"),
        Piece::Int(error.code),
        Piece::Raw(",\"message\":"),
        Piece::Str(&error.message),
        data.map_or(Piece::Raw(""), |_| Piece::Raw(",\"data\":")),
        data.map_or(Piece::Raw(""), Piece::Value),
        Piece::Raw("}}"),
    ])
}

/// A notification, serialized as one line.
pub fn encode_notification(method: &str, params: &Value) -> String {
    json::concat(&[
        Piece::Raw("{\"jsonrpc\":\"2.0\",\"method\":"),
        Piece::Str(method),
        Piece::Raw(",\"params\":"),
        Piece::Value(params),
        Piece::Raw("}"),
    ])
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        let raw = <&RawValue as Deserialize>::deserialize(d)?;
        Id::from_raw(raw).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(line: &str) -> Result<Incoming, DecodeError> {
        match decode_line(line.as_bytes()) {
            Line::Single(m) => m,
            Line::Batch(_) => panic!("unexpected batch for {line}"),
        }
    }

    #[test]
    fn ids_keep_type_and_value() {
        let cases = [
            (
                r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#,
                Id::Int("7".into()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":"7","method":"ping"}"#,
                Id::Str("7".into()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}"#,
                Id::Int("123456789012345678901234567890".into()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":-5,"method":"ping"}"#,
                Id::Int("-5".into()),
            ),
            (
                r#"{"jsonrpc":"2.0","id":"","method":"ping"}"#,
                Id::Str("".into()),
            ),
        ];
        for (line, want) in cases {
            let Ok(Incoming::Request(req)) = single(line) else {
                panic!("{line} must decode as a request");
            };
            assert_eq!(req.id, want, "id of {line}");
            let out = encode_result(&req.id, &Value::Object(Map::new()));
            let echoed: Value = serde_json::from_str(&out).expect("valid json");
            let sent: Value = serde_json::from_str(line).expect("valid json");
            assert_eq!(
                out.split("\"id\":")
                    .nth(1)
                    .map(|s| s.split(",\"result\"").next()),
                line.split("\"id\":")
                    .nth(1)
                    .map(|s| s.split(",\"method\"").next()),
                "id text echoed byte for byte"
            );
            assert_eq!(echoed["id"], sent["id"]);
        }
    }

    #[test]
    fn error_codes_for_bad_messages() {
        let cases: &[(&[u8], i64, Option<Id>, &str)] = &[
            (b"{", PARSE_ERROR, None, "parse error"),
            (
                b"\xff\xfe",
                PARSE_ERROR,
                None,
                "parse error: invalid UTF-8 at byte 0",
            ),
            (
                b"{\"jsonrpc\":\"2.0\",\"id\":1}",
                INVALID_REQUEST,
                Some(Id::Int("1".into())),
                "invalid request: missing `method`",
            ),
            (
                b"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}",
                INVALID_REQUEST,
                Some(Id::Int("1".into())),
                "invalid request: `jsonrpc` must be \"2.0\"",
            ),
            (
                b"{\"id\":1,\"method\":\"x\"}",
                INVALID_REQUEST,
                Some(Id::Int("1".into())),
                "invalid request: `jsonrpc` must be \"2.0\"",
            ),
            (
                b"{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"x\"}",
                INVALID_REQUEST,
                None,
                "invalid request: `id` must not be null",
            ),
            (
                b"{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"x\"}",
                INVALID_REQUEST,
                None,
                "invalid request: `id` must be a string or an integer, not a fraction or exponent",
            ),
            (
                b"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"x\"}",
                INVALID_REQUEST,
                None,
                "invalid request: `id` must be a string or an integer",
            ),
            (
                b"{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"x\",\"params\":[1]}",
                INVALID_REQUEST,
                Some(Id::Str("a".into())),
                "invalid request: `params` must be an object",
            ),
            (
                b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":5}",
                INVALID_REQUEST,
                Some(Id::Int("2".into())),
                "invalid request: `method` must be a string",
            ),
            (
                b"42",
                INVALID_REQUEST,
                None,
                "invalid request: a message must be a JSON object",
            ),
            (b"[]", INVALID_REQUEST, None, "invalid request: empty batch"),
        ];
        for (line, code, id, message) in cases {
            let Line::Single(Err(e)) = decode_line(line) else {
                panic!("{:?} must be an error", String::from_utf8_lossy(line));
            };
            assert_eq!(
                e.error.code,
                *code,
                "code for {:?}",
                String::from_utf8_lossy(line)
            );
            assert_eq!(&e.id, id, "id for {:?}", String::from_utf8_lossy(line));
            assert!(
                e.error.message.starts_with(message),
                "message for {:?}: {}",
                String::from_utf8_lossy(line),
                e.error.message
            );
        }
    }

    #[test]
    fn notifications_responses_and_batches() {
        assert_eq!(
            single(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#),
            Ok(Incoming::Notification(Notification {
                method: "notifications/initialized".into(),
                params: None
            }))
        );
        assert_eq!(
            single(r#"{"jsonrpc":"2.0","id":"s1","result":{"roots":[]}}"#),
            Ok(Incoming::Response(Response {
                id: Id::Str("s1".into()),
                outcome: Ok(serde_json::json!({"roots": []}))
            }))
        );
        assert_eq!(
            single(
                r#"{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"no roots","data":1}}"#
            ),
            Ok(Incoming::Response(Response {
                id: Id::Int("2".into()),
                outcome: Err(
                    RpcError::new(METHOD_NOT_FOUND, "no roots").with_data(serde_json::json!(1))
                )
            }))
        );
        let Ok(Incoming::Response(bad)) = single(r#"{"jsonrpc":"2.0","id":3,"error":"oops"}"#)
        else {
            panic!("an error response with a malformed error object is still a response");
        };
        assert!(matches!(bad.outcome, Err(e) if e.code == INTERNAL_ERROR));
        assert!(
            matches!(single(r#"{"jsonrpc":"2.0","id":4,"result":{},"error":{}}"#), Err(e) if e.error.code == INVALID_REQUEST),
            "result and error together are not a response"
        );
        // Ids come back with the client's exact text and type.
        for (id, text) in [
            (Id::Int("7".into()), "7"),
            (Id::Int("-5".into()), "-5"),
            (Id::Int("-0".into()), "-0"),
            (
                Id::Int("18446744073709551615".into()),
                "18446744073709551615",
            ),
            (
                Id::Int("123456789012345678901234567890".into()),
                "123456789012345678901234567890",
            ),
            (Id::Str("7".into()), "\"7\""),
        ] {
            assert_eq!(
                encode_result(&id, &serde_json::json!(null)),
                format!(r#"{{"jsonrpc":"2.0","id":{text},"result":null}}"#),
                "id {id:?}"
            );
        }
        let request = encode_request(
            &Id::Str("tfo-1".into()),
            "roots/list",
            &serde_json::json!({}),
        );
        assert_eq!(
            request,
            r#"{"jsonrpc":"2.0","id":"tfo-1","method":"roots/list","params":{}}"#
        );
        let Line::Batch(items) = decode_line(
            br#" [{"jsonrpc":"2.0","id":1,"method":"ping"}, 3, {"jsonrpc":"2.0","method":"n"}]"#,
        ) else {
            panic!("array must decode as a batch");
        };
        assert_eq!(items.len(), 3);
        assert!(matches!(items[0], Ok(Incoming::Request(_))));
        assert!(matches!(&items[1], Err(e) if e.error.code == INVALID_REQUEST));
        assert!(matches!(items[2], Ok(Incoming::Notification(_))));
    }

    #[test]
    fn quoted_client_text_is_clipped() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(200);
        assert_eq!(clip(&long), format!("{}… (400 bytes)", "é".repeat(128)));
        // Redaction looks at the start only; the size is the text's own.
        let key = format!("sk-ant-api03-{} and more", "k".repeat(3000));
        assert_eq!(clip(&key), "[REDACTED]… (3022 bytes)");
        let secret = format!("password={} {}", "p".repeat(100), "x".repeat(1_000_000));
        assert_eq!(
            clip(&secret),
            format!("password=[REDACTED] {}… (1000110 bytes)", "x".repeat(108))
        );
    }

    use serde::ser::SerializeMap;

    /// The lines as serde_json writes them: `jsonrpc` and two members, in order.
    fn encode<A: Serialize + ?Sized, B: Serialize + ?Sized>(
        first: (&str, &A),
        second: (&str, &B),
    ) -> String {
        struct Msg<'a, A: ?Sized, B: ?Sized>((&'a str, &'a A), (&'a str, &'a B));
        impl<A: Serialize + ?Sized, B: Serialize + ?Sized> Serialize for Msg<'_, A, B> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(3))?;
                map.serialize_entry("jsonrpc", "2.0")?;
                map.serialize_entry(self.0.0, self.0.1)?;
                map.serialize_entry(self.1.0, self.1.1)?;
                map.end()
            }
        }
        // Serializing `Value`s and plain structs into a Vec cannot fail.
        serde_json::to_string(&Msg(first, second)).unwrap_or_else(|e| {
            format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{{\"code\":-32603,\"message\":{}}}}}",
                Value::String(format!("internal error: encoding failed: {e}"))
            )
        })
    }

    #[test]
    fn lines_written_by_index_are_serde_json_lines() {
        let value = serde_json::json!({"content": [{"type": "text", "text": "é\u{1}\"\\"}],
            "n": -3, "f": 1.5e300, "ok": false, "none": null});
        for id in [
            Id::Int("42".into()),
            Id::Int("-0".into()),
            Id::Str("a\"\\\u{1f}é".into()),
        ] {
            assert_eq!(
                encode_result(&id, &value),
                encode(("id", &Some(&id)), ("result", &value)),
                "result for {id:?}"
            );
        }
        for error in [
            RpcError::new(PARSE_ERROR, "parse error: \"x\""),
            RpcError::new(-1, "m").with_data(value.clone()),
        ] {
            for id in [None, Some(Id::Int("3".into())), Some(Id::Str("s".into()))] {
                assert_eq!(
                    encode_error(id.as_ref(), &error),
                    encode(("id", &id.as_ref()), ("error", &error)),
                    "error {error:?} for {id:?}"
                );
            }
        }
        let method = "notifications/\"odd\"";
        assert_eq!(
            encode_notification(method, &value),
            encode(("method", &method), ("params", &value)),
            "notification"
        );
        let expected = format!(
            r#"{{"jsonrpc":"2.0","id":7,"method":{},"params":{}}}"#,
            serde_json::to_string(method).expect("string"),
            serde_json::to_string(&value).expect("value")
        );
        assert_eq!(
            encode_request(&Id::Int("7".into()), method, &value),
            expected,
            "request"
        );
    }

    #[test]
    fn encoding_is_one_line() {
        let line = encode_result(
            &Id::Str("a\nb".into()),
            &serde_json::json!({"text": "x\ny"}),
        );
        assert_eq!(
            line,
            r#"{"jsonrpc":"2.0","id":"a\nb","result":{"text":"x\ny"}}"#
        );
        let line = encode_error(None, &RpcError::new(PARSE_ERROR, "parse error: x"));
        assert_eq!(
            line,
            r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error: x"}}"#
        );
        let line = encode_notification(
            "notifications/progress",
            &serde_json::json!({"progress": 1}),
        );
        assert_eq!(
            line,
            r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{"progress":1}}"#
        );
    }
}
