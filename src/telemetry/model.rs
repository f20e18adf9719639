//! The data of finished telemetry, as the exporters see it: ids, attribute
//! values, spans with their events and status, the resource and the scope.
//! Plain data, no behaviour: the OTLP encoder and the console exporter read it.

use std::borrow::Cow;

/// A 16-byte W3C trace id (never all zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id (never all zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SpanId(pub [u8; 8]);

/// OTLP `SpanKind` (0, unspecified, is never sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// Internal operation.
    Internal = 1,
    /// Handling a request from a remote caller (our `request.process`).
    Server = 2,
    /// A call to a remote service (the Claude API).
    Client = 3,
    /// Producer.
    Producer = 4,
    /// Consumer.
    Consumer = 5,
}

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `string_value`.
    Str(Text),
    /// `bool_value`.
    Bool(bool),
    /// `int_value`.
    Int(i64),
    /// `double_value`.
    Double(f64),
    /// `array_value` of strings (e.g. `gen_ai.response.finish_reasons`).
    StrArray(Vec<String>),
}

impl Value {
    /// A string value copied from `text`: inline (no allocation) up to
    /// [`Text::INLINE`] bytes, which covers request ids, method, tool and session ids.
    pub fn text(text: &str) -> Value {
        Value::Str(Text::copy(text))
    }
}

/// The text of a string attribute: a static name, a short copy kept inline, or a
/// longer owned string. A span's dynamic values (request and session ids, method
/// and tool names) fit inline, so that recording them allocates nothing: musl's
/// allocator, freeing on the export thread what the MCP thread allocated, was most
/// of a span's cost (`benches/spans.rs`).
#[derive(Clone)]
pub enum Text {
    /// Borrowed for the whole program.
    Static(&'static str),
    /// Up to [`Text::INLINE`] bytes of UTF-8, in place.
    Inline(Inline),
    /// Longer text.
    Owned(String),
}

/// Inline text: `len` bytes of `bytes`, always a whole UTF-8 string.
#[derive(Clone, Copy)]
pub struct Inline {
    len: u8,
    bytes: [u8; Text::INLINE],
}

impl Text {
    /// The most bytes kept inline: 38 makes a `Text` 40 bytes, and holds a 32-digit
    /// session id or the longest MCP method name.
    pub const INLINE: usize = 38;

    /// `text` copied: inline when it fits, else owned.
    pub fn copy(text: &str) -> Text {
        if text.len() <= Text::INLINE {
            let mut bytes = [0; Text::INLINE];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            Text::Inline(Inline {
                len: text.len() as u8,
                bytes,
            })
        } else {
            Text::Owned(text.to_string())
        }
    }

    /// The UTF-8 bytes (what the encoder writes; no validation).
    #[inline(always)]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Text::Static(s) => s.as_bytes(),
            Text::Inline(inline) => &inline.bytes[..usize::from(inline.len)],
            Text::Owned(s) => s.as_bytes(),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            Text::Static(s) => s,
            Text::Inline(_) => std::str::from_utf8(self.as_bytes())
                .expect("inline text is copied from a whole str"),
            Text::Owned(s) => s,
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Debug for Inline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(Text::Inline(*self).as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    /// Attribute name (mostly static, so no allocation).
    pub key: Cow<'static, str>,
    /// Its value.
    pub value: Value,
}

impl KeyValue {
    /// A new attribute.
    pub fn new(key: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.into(),
        }
    }
}

impl From<&'static str> for Value {
    fn from(s: &'static str) -> Value {
        Value::Str(Text::Static(s))
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(Text::Owned(s))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Double(f)
    }
}

/// A timestamped event on a span (`exception`, `session.created`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Nanoseconds since the Unix epoch.
    pub time_unix_nano: u64,
    /// Event name.
    pub name: Cow<'static, str>,
    /// Event attributes.
    pub attributes: Vec<KeyValue>,
}

/// OTLP `Status.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusCode {
    /// Not set.
    #[default]
    Unset = 0,
    /// Success.
    Ok = 1,
    /// Failure; the status message says why.
    Error = 2,
}

/// A span's outcome.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Status {
    /// The code.
    pub code: StatusCode,
    /// Only with `Error`.
    pub message: String,
}

/// W3C trace flag: sampled.
pub const FLAG_SAMPLED: u8 = 0x01;
/// W3C trace flag (level 2): the trace id's rightmost 7 bytes are random.
pub const FLAG_RANDOM: u8 = 0x02;
/// OTLP `SpanFlags`: whether the parent is remote is known.
pub const FLAG_HAS_IS_REMOTE: u32 = 0x100;
/// OTLP `SpanFlags`: the parent is remote.
pub const FLAG_IS_REMOTE: u32 = 0x200;

/// A finished, sampled span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanData {
    /// Trace id.
    pub trace_id: TraceId,
    /// This span's id.
    pub span_id: SpanId,
    /// The parent's id; `None` for a root span.
    pub parent_span_id: Option<SpanId>,
    /// W3C `tracestate`, inherited from the parent.
    pub trace_state: String,
    /// OTLP `Span.flags`: W3C trace flags in bits 0-7, plus `FLAG_HAS_IS_REMOTE` / `FLAG_IS_REMOTE`.
    pub flags: u32,
    /// Span name.
    pub name: Cow<'static, str>,
    /// Span kind.
    pub kind: SpanKind,
    /// Start, nanoseconds since the Unix epoch.
    pub start_time_unix_nano: u64,
    /// End, nanoseconds since the Unix epoch.
    pub end_time_unix_nano: u64,
    /// Attributes, in the order they were set (keys unique).
    pub attributes: Vec<KeyValue>,
    /// Attributes dropped by the per-span limit.
    pub dropped_attributes_count: u32,
    /// Events, in order.
    pub events: Vec<Event>,
    /// Events dropped by the per-span limit.
    pub dropped_events_count: u32,
    /// Outcome.
    pub status: Status,
}

/// The entity producing telemetry (`service.name`, `host.name`, ...).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource {
    /// Resource attributes (keys unique).
    pub attributes: Vec<KeyValue>,
}

/// The instrumentation scope (`telemetryflow-mcp` and our version).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    /// Scope name.
    pub name: Cow<'static, str>,
    /// Scope version.
    pub version: Cow<'static, str>,
}
