//! Lenient reading of what an OTLP/HTTP receiver answers: the `Export*ServiceResponse`
//! of a 200 (partial success) and the `google.rpc.Status` of a 4xx/5xx. Unknown fields
//! of every wire type are skipped, as protobuf requires of a reader.

use std::fmt;

use super::wire::fields;

fields! {
    /// `google.rpc.Status` (googleapis `google/rpc/status.proto`): only the message is
    /// read; clients must not act on its `code` (OTLP specification, "Failures").
    mod rpc_status = "Status" {
        MESSAGE = 2,
    }
}

/// A receiver's `partial_success`: part of an export was refused, do not retry it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PartialSuccess {
    /// Spans, data points or log records the receiver rejected (`rejected_*`).
    pub rejected: i64,
    /// Why, or a warning when `rejected` is 0 (`error_message`).
    pub error_message: String,
}

/// A response body that is not well-formed protobuf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The body ends inside a key, varint, fixed-width value or length-delimited field.
    Truncated,
    /// A varint runs longer than 10 bytes.
    VarintTooLong,
    /// A key with field number 0 or above 2^29 - 1.
    InvalidFieldNumber(u64),
    /// Wire type 6 or 7, or an end-group without its start.
    InvalidWireType(u8),
    /// Groups nested deeper than the limit.
    TooDeep,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => write!(f, "otlp response: truncated protobuf"),
            DecodeError::VarintTooLong => write!(f, "otlp response: varint longer than 10 bytes"),
            DecodeError::InvalidFieldNumber(n) => {
                write!(f, "otlp response: invalid field number {n}")
            }
            DecodeError::InvalidWireType(t) => write!(f, "otlp response: invalid wire type {t}"),
            DecodeError::TooDeep => write!(f, "otlp response: groups nested too deep"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Field numbers of one signal's response and its partial-success message.
#[derive(Debug)]
pub(crate) struct PartialSuccessFields {
    /// `Export*ServiceResponse.partial_success`.
    pub(crate) partial_success: u32,
    /// `Export*PartialSuccess.rejected_*`.
    pub(crate) rejected: u32,
    /// `Export*PartialSuccess.error_message`.
    pub(crate) error_message: u32,
}

/// Reads an `Export*ServiceResponse`; see `decode_partial_success` in the trace module.
/// A repeated `partial_success` is merged, the last scalar winning, as protobuf does;
/// a known field with an unexpected wire type is skipped like an unknown one.
pub(crate) fn decode_partial_success(
    body: &[u8],
    fields: &PartialSuccessFields,
) -> Result<Option<PartialSuccess>, DecodeError> {
    let mut result = PartialSuccess::default();
    let mut reader = Reader::new(body);
    while let Some((field, wire_type)) = reader.key()? {
        match (field, wire_type) {
            (f, LEN) if f == fields.partial_success => {
                let mut inner = Reader::new(reader.len_delimited()?);
                while let Some((field, wire_type)) = inner.key()? {
                    match (field, wire_type) {
                        // int64: the varint's 64 bits, two's complement.
                        (f, VARINT) if f == fields.rejected => {
                            result.rejected = inner.varint()? as i64
                        }
                        (f, LEN) if f == fields.error_message => {
                            result.error_message =
                                String::from_utf8_lossy(inner.len_delimited()?).into_owned();
                        }
                        _ => inner.skip(field, wire_type, 0)?,
                    }
                }
            }
            _ => reader.skip(field, wire_type, 0)?,
        }
    }
    Ok((result != PartialSuccess::default()).then_some(result))
}

/// The `message` of a `google.rpc.Status` error body, for the log line about a failed
/// export. `None` when the body is empty, holds no message, or is not protobuf at all
/// (an HTML page from a proxy).
pub fn decode_status_message(body: &[u8]) -> Option<String> {
    let mut message = None;
    let mut reader = Reader::new(body);
    while let Some((field, wire_type)) = reader.key().ok()? {
        if (field, wire_type) == (rpc_status::MESSAGE, LEN) {
            message = Some(String::from_utf8_lossy(reader.len_delimited().ok()?).into_owned());
        } else {
            reader.skip(field, wire_type, 0).ok()?;
        }
    }
    message.filter(|m| !m.is_empty())
}

const VARINT: u8 = 0;
const I64: u8 = 1;
const LEN: u8 = 2;
const START_GROUP: u8 = 3;
const END_GROUP: u8 = 4;
const I32: u8 = 5;

/// Deepest nesting of (deprecated) groups we skip before giving up.
const MAX_GROUP_DEPTH: usize = 32;

/// How far the first `max` length-delimited fields of `bytes` go: (bytes, fields).
/// For a run of items encoded one after another (spans encoded when they ended), to
/// cut it into requests of at most `max` items. Bytes that do not parse end the walk;
/// if the very first field does not parse, all of `bytes` counts as one field, so a
/// caller always moves on.
pub(crate) fn leading_fields(bytes: &[u8], max: usize) -> (usize, usize) {
    let mut reader = Reader::new(bytes);
    let mut count = 0;
    while count < max && !reader.rest.is_empty() {
        let before = reader.rest;
        let parsed = reader
            .key()
            .and_then(|_| reader.len_delimited().map(|_| ()));
        if parsed.is_err() {
            reader.rest = before;
            break;
        }
        count += 1;
    }
    match bytes.len() - reader.rest.len() {
        0 if !bytes.is_empty() && max > 0 => (bytes.len(), 1),
        used => (used, count),
    }
}

/// A cursor over protobuf bytes.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for (i, &byte) in self.rest.iter().enumerate().take(10) {
            // Bits past 64 in the 10th byte are dropped, as most decoders do.
            value |= u64::from(byte & 0x7F) << (7 * i);
            if byte < 0x80 {
                self.rest = &self.rest[i + 1..];
                return Ok(value);
            }
        }
        if self.rest.len() >= 10 {
            Err(DecodeError::VarintTooLong)
        } else {
            Err(DecodeError::Truncated)
        }
    }

    /// The next key as (field number, wire type), or `None` at the end.
    fn key(&mut self) -> Result<Option<(u32, u8)>, DecodeError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = key >> 3;
        match u32::try_from(field) {
            Ok(field) if (1..=(1 << 29) - 1).contains(&field) => Ok(Some((field, (key & 7) as u8))),
            _ => Err(DecodeError::InvalidFieldNumber(field)),
        }
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], DecodeError> {
        if len > self.rest.len() {
            return Err(DecodeError::Truncated);
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn len_delimited(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.varint()?;
        self.take(usize::try_from(len).map_err(|_| DecodeError::Truncated)?)
    }

    /// Skips the value of a field whose key was just read.
    fn skip(&mut self, field: u32, wire_type: u8, depth: usize) -> Result<(), DecodeError> {
        match wire_type {
            VARINT => self.varint().map(drop),
            I64 => self.take(8).map(drop),
            LEN => self.len_delimited().map(drop),
            I32 => self.take(4).map(drop),
            START_GROUP => {
                if depth >= MAX_GROUP_DEPTH {
                    return Err(DecodeError::TooDeep);
                }
                loop {
                    match self.key()? {
                        None => return Err(DecodeError::Truncated),
                        Some((f, END_GROUP)) if f == field => return Ok(()),
                        Some((f, t)) => self.skip(f, t, depth + 1)?,
                    }
                }
            }
            other => Err(DecodeError::InvalidWireType(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: PartialSuccessFields = PartialSuccessFields {
        partial_success: 1,
        rejected: 1,
        error_message: 2,
    };

    fn partial(rejected: i64, error_message: &str) -> Option<PartialSuccess> {
        Some(PartialSuccess {
            rejected,
            error_message: error_message.into(),
        })
    }

    /// What decoding a response body gives.
    type Decoded = Result<Option<PartialSuccess>, DecodeError>;

    #[test]
    fn partial_success_bodies() {
        #[rustfmt::skip]
        let table: &[(&str, &[u8], Decoded)] = &[
            ("empty body is full success", &[], Ok(None)),
            ("empty partial_success is full success", &[0x0A, 0x00], Ok(None)),
            ("rejected and message", &[0x0A, 0x06, 0x08, 0x05, 0x12, 0x02, b'n', b'o'], Ok(partial(5, "no"))),
            ("a warning: 0 rejected, a message", &[0x0A, 0x03, 0x12, 0x01, b'w'], Ok(partial(0, "w"))),
            (
                "a negative int64 from a 10-byte varint",
                &[0x0A, 0x0B, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
                Ok(partial(-1, "")),
            ),
            ("invalid UTF-8 is replaced, not an error", &[0x0A, 0x03, 0x12, 0x01, 0xFF], Ok(partial(0, "\u{FFFD}"))),
            (
                "unknown fields of every wire type are skipped, outside and inside",
                &[
                    0x10, 0x96, 0x01, // field 2 varint
                    0x19, 1, 2, 3, 4, 5, 6, 7, 8, // field 3 fixed64
                    0x22, 0x01, 0x00, // field 4 bytes
                    0x2D, 1, 2, 3, 4, // field 5 fixed32
                    0x33, 0x08, 0x01, 0x34, // field 6 group holding a varint
                    0x0A, 0x0A,
                        0xF8, 0x7F, 0x01, // field 2047 varint
                        0x08, 0x07, // rejected = 7
                        0x1D, 0, 0, 0, 0, // field 3 fixed32
                    0x80, 0x80, 0x01, 0x00, // field 2048 varint
                ],
                Ok(partial(7, "")),
            ),
            (
                "partial_success twice: merged, last value wins",
                &[0x0A, 0x02, 0x08, 0x01, 0x0A, 0x03, 0x12, 0x01, b'm', 0x0A, 0x02, 0x08, 0x02],
                Ok(partial(2, "m")),
            ),
            ("partial_success with a wrong wire type is skipped", &[0x08, 0x05], Ok(None)),
            ("truncated length", &[0x0A, 0x05, 0x08], Err(DecodeError::Truncated)),
            ("truncated varint", &[0x0A, 0x02, 0x08, 0x80], Err(DecodeError::Truncated)),
            ("truncated key", &[0x80], Err(DecodeError::Truncated)),
            ("varint of 11 bytes", &[0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], Err(DecodeError::VarintTooLong)),
            ("field number 0", &[0x00, 0x00], Err(DecodeError::InvalidFieldNumber(0))),
            ("wire type 7", &[0x0F], Err(DecodeError::InvalidWireType(7))),
            ("stray end-group", &[0x0C], Err(DecodeError::InvalidWireType(4))),
            ("unterminated group", &[0x0B, 0x08, 0x01], Err(DecodeError::Truncated)),
            ("an HTML page", b"<html>", Err(DecodeError::InvalidWireType(4))),
        ];
        for (what, body, expected) in table {
            assert_eq!(&decode_partial_success(body, &FIELDS), expected, "{what}");
        }
    }

    #[test]
    fn groups_nested_too_deep_are_refused() {
        let mut body = vec![0x0B; MAX_GROUP_DEPTH + 1];
        body.extend(vec![0x0C; MAX_GROUP_DEPTH + 1]);
        assert_eq!(
            decode_partial_success(&body, &FIELDS),
            Err(DecodeError::TooDeep),
            "recursion is bounded"
        );
        let ok_depth = [vec![0x0B; MAX_GROUP_DEPTH], vec![0x0C; MAX_GROUP_DEPTH]].concat();
        assert_eq!(
            decode_partial_success(&ok_depth, &FIELDS),
            Ok(None),
            "groups up to the limit are skipped"
        );
    }

    #[test]
    fn status_messages() {
        #[rustfmt::skip]
        let table: &[(&str, &[u8], Option<&str>)] = &[
            ("code and message", &[0x08, 0x03, 0x12, 0x03, b'b', b'a', b'd'], Some("bad")),
            (
                "details are skipped",
                &[0x12, 0x01, b'x', 0x1A, 0x04, 0x0A, 0x02, b'a', b'b'],
                Some("x"),
            ),
            ("empty body", &[], None),
            ("empty message", &[0x12, 0x00], None),
            ("code only", &[0x08, 0x03], None),
            ("an HTML page", b"<html><body>502 Bad Gateway</body></html>", None),
            ("plain text", b"Bad Gateway", None),
            ("truncated after a message", &[0x12, 0x01, b'x', 0x1A, 0x09], None),
        ];
        for (what, body, expected) in table {
            assert_eq!(decode_status_message(body).as_deref(), *expected, "{what}");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut rng = crate::otlp::testing::Rng::new(5);
        for _ in 0..20_000 {
            let body: Vec<u8> = (0..rng.below(24)).map(|_| rng.next() as u8).collect();
            let _ = decode_partial_success(&body, &FIELDS);
            let _ = decode_status_message(&body);
        }
    }
}
