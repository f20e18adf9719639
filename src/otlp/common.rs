//! `opentelemetry.proto.common.v1` and `resource.v1` (attribute values, key-values,
//! the instrumentation scope, the resource), and the resource/scope envelope that the
//! three export requests share.

use super::wire::{Buffers, Message, Sink, encode_into, encode_to_vec, fields};
use crate::telemetry::model::{KeyValue, Resource, Scope, Value};

fields! {
    /// `AnyValue` (common.proto): a `oneof value`, so every member is written even
    /// when it holds `""`, `false` or 0.
    mod any_value = "AnyValue" {
        STRING_VALUE = 1,
        BOOL_VALUE = 2,
        INT_VALUE = 3,
        DOUBLE_VALUE = 4,
        ARRAY_VALUE = 5,
    }
}

fields! {
    /// `ArrayValue` (common.proto).
    mod array_value = "ArrayValue" {
        VALUES = 1,
    }
}

fields! {
    /// `KeyValue` (common.proto).
    mod key_value = "KeyValue" {
        KEY = 1,
        VALUE = 2,
    }
}

fields! {
    /// `InstrumentationScope` (common.proto).
    mod instrumentation_scope = "InstrumentationScope" {
        NAME = 1,
        VERSION = 2,
    }
}

fields! {
    /// `Resource` (resource.proto).
    mod resource = "Resource" {
        ATTRIBUTES = 1,
    }
}

impl Message for Value {
    fn fields<S: Sink>(&self, out: &mut S) {
        match self {
            Value::Str(s) => out.bytes(any_value::STRING_VALUE, s.as_bytes()),
            Value::Bool(b) => out.varint(any_value::BOOL_VALUE, u64::from(*b)),
            // int64 is a plain varint: a negative value is sign-extended to 10 bytes.
            Value::Int(i) => out.varint(any_value::INT_VALUE, *i as u64),
            Value::Double(d) => out.double(any_value::DOUBLE_VALUE, *d),
            Value::StrArray(items) => out.message(any_value::ARRAY_VALUE, &StrArray(items)),
        }
    }
}

/// An `ArrayValue` of `string_value`s.
struct StrArray<'a>(&'a [String]);

impl Message for StrArray<'_> {
    fn fields<S: Sink>(&self, out: &mut S) {
        for item in self.0 {
            out.message(array_value::VALUES, &StrValue(item));
        }
    }
}

/// An `AnyValue` holding a borrowed `string_value`.
struct StrValue<'a>(&'a str);

impl Message for StrValue<'_> {
    fn fields<S: Sink>(&self, out: &mut S) {
        out.string(any_value::STRING_VALUE, self.0);
    }
}

impl Message for KeyValue {
    fn fields<S: Sink>(&self, out: &mut S) {
        if !self.key.is_empty() {
            out.string(key_value::KEY, &self.key);
        }
        out.message(key_value::VALUE, &self.value);
    }
}

/// Writes `attributes` as a `repeated KeyValue` field.
pub(crate) fn attributes<S: Sink>(field: u32, attributes: &[KeyValue], out: &mut S) {
    for attribute in attributes {
        out.message(field, attribute);
    }
}

impl Message for Scope {
    fn fields<S: Sink>(&self, out: &mut S) {
        if !self.name.is_empty() {
            out.string(instrumentation_scope::NAME, &self.name);
        }
        if !self.version.is_empty() {
            out.string(instrumentation_scope::VERSION, &self.version);
        }
    }
}

impl Message for Resource {
    fn fields<S: Sink>(&self, out: &mut S) {
        attributes(resource::ATTRIBUTES, &self.attributes, out);
    }
}

/// The field numbers of one signal's envelope:
/// `Export*ServiceRequest { Resource* { resource, Scope* { scope, items } } }`.
/// They happen to agree across traces, metrics and logs, but each signal's own
/// constants say so.
#[derive(Debug)]
pub(crate) struct Envelope {
    /// `Export*ServiceRequest.resource_*`.
    pub(crate) request_resource_items: u32,
    /// `Resource*.resource`.
    pub(crate) resource: u32,
    /// `Resource*.scope_*`.
    pub(crate) resource_scope_items: u32,
    /// `Scope*.scope`.
    pub(crate) scope: u32,
    /// `Scope*.spans` / `metrics` / `log_records`.
    pub(crate) scope_items: u32,
}

/// One export request: a single `Resource*` holding a single `Scope*` holding `items`.
/// `keep` filters out items that must not be sent (a metric without points).
#[derive(Debug)]
pub(crate) struct Request<'a, T> {
    pub(crate) envelope: &'a Envelope,
    pub(crate) resource: &'a Resource,
    pub(crate) scope: &'a Scope,
    pub(crate) items: &'a [T],
    pub(crate) keep: fn(&T) -> bool,
}

/// An item of an export request (a span, a metric, a log record): by default an
/// embedded message under the envelope's item field.
pub(crate) trait Item: Message + Sized {
    /// Writes this item into its `Scope*` message as field `field`.
    fn item<S: Sink>(&self, field: u32, out: &mut S) {
        out.message(field, self);
    }
}

impl<T: Item> Request<'_, T> {
    /// The request body, or an empty `Vec` when no item is kept: OTLP receivers
    /// expect no empty envelopes (a `Scope*` without items), and an empty batch needs
    /// no request at all.
    pub(crate) fn encode(&self) -> Vec<u8> {
        if !self.items.iter().any(self.keep) {
            return Vec::new();
        }
        encode_to_vec(self)
    }

    /// [`Request::encode`] into reused buffers; `false` (and nothing written) when no item is kept.
    pub(crate) fn encode_into(&self, buffers: &mut Buffers) -> bool {
        if !self.items.iter().any(self.keep) {
            return false;
        }
        encode_into(self, buffers);
        true
    }
}

/// `Export*ServiceRequest`.
impl<T: Item> Message for Request<'_, T> {
    fn fields<S: Sink>(&self, out: &mut S) {
        out.message(self.envelope.request_resource_items, &ResourceLevel(self));
    }
}

/// `ResourceSpans` / `ResourceMetrics` / `ResourceLogs`.
struct ResourceLevel<'r, 'a, T>(&'r Request<'a, T>);

impl<T: Item> Message for ResourceLevel<'_, '_, T> {
    fn fields<S: Sink>(&self, out: &mut S) {
        let request = self.0;
        out.message(request.envelope.resource, request.resource);
        out.message(request.envelope.resource_scope_items, &ScopeLevel(request));
    }
}

/// `ScopeSpans` / `ScopeMetrics` / `ScopeLogs`.
struct ScopeLevel<'r, 'a, T>(&'r Request<'a, T>);

impl<T: Item> Message for ScopeLevel<'_, '_, T> {
    fn fields<S: Sink>(&self, out: &mut S) {
        let request = self.0;
        out.message(request.envelope.scope, request.scope);
        for item in request.items.iter().filter(|item| (request.keep)(item)) {
            item.item(request.envelope.scope_items, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::testing::{Rng, random_key_values};

    #[test]
    fn any_values_write_their_one_member_even_when_zero() {
        let table: &[(&str, Value, &[u8])] = &[
            ("empty string still written", Value::from(""), &[0x0A, 0x00]),
            ("string", Value::from("ok"), &[0x0A, 0x02, b'o', b'k']),
            (
                "bool false still written",
                Value::Bool(false),
                &[0x10, 0x00],
            ),
            ("bool true", Value::Bool(true), &[0x10, 0x01]),
            ("int 0 still written", Value::Int(0), &[0x18, 0x00]),
            ("int 300", Value::Int(300), &[0x18, 0xAC, 0x02]),
            (
                "negative int sign-extended, not zigzag",
                Value::Int(-1),
                &[
                    0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
                ],
            ),
            (
                "double 0.0 still written",
                Value::Double(0.0),
                &[0x21, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
            (
                "double 2.5",
                Value::Double(2.5),
                &[0x21, 0, 0, 0, 0, 0, 0, 0x04, 0x40],
            ),
            (
                "empty string array is an empty ArrayValue",
                Value::StrArray(vec![]),
                &[0x2A, 0x00],
            ),
            (
                "string array: ArrayValue of AnyValue.string_value",
                Value::StrArray(vec!["a".into(), String::new()]),
                &[
                    0x2A, 0x09, // array_value, 9 bytes
                    0x0A, 0x03, 0x0A, 0x01, b'a', // values[0] = {string_value: "a"}
                    0x0A, 0x02, 0x0A, 0x00, // values[1] = {string_value: ""}
                ],
            ),
        ];
        for (what, value, expected) in table {
            assert_eq!(encode_to_vec(value), *expected, "{what}");
        }
    }

    #[test]
    fn key_values_scopes_and_resources() {
        let table: &[(&str, Vec<u8>, &[u8])] = &[
            (
                "key-value: key, then the AnyValue as a sub-message",
                encode_to_vec(&KeyValue::new("k", false)),
                &[0x0A, 0x01, b'k', 0x12, 0x02, 0x10, 0x00],
            ),
            (
                "empty scope is an empty message",
                encode_to_vec(&Scope::default()),
                &[],
            ),
            (
                "scope name and version",
                encode_to_vec(&Scope {
                    name: "s".into(),
                    version: "1".into(),
                }),
                &[0x0A, 0x01, b's', 0x12, 0x01, b'1'],
            ),
            (
                "resource attributes",
                encode_to_vec(&Resource {
                    attributes: vec![KeyValue::new("a", 1i64), KeyValue::new("b", "")],
                }),
                &[
                    0x0A, 0x07, 0x0A, 0x01, b'a', 0x12, 0x02, 0x18, 0x01, // a = 1
                    0x0A, 0x07, 0x0A, 0x01, b'b', 0x12, 0x02, 0x0A, 0x00, // b = ""
                ],
            ),
        ];
        for (what, actual, expected) in table {
            assert_eq!(actual, expected, "{what}");
        }
    }

    #[test]
    fn encoded_len_matches_bytes_for_random_attributes() {
        let mut rng = Rng::new(11);
        for _ in 0..2_000 {
            let resource = Resource {
                attributes: random_key_values(&mut rng),
            };
            assert_eq!(
                resource.encoded_len(),
                encode_to_vec(&resource).len(),
                "{resource:?}"
            );
        }
    }
}
