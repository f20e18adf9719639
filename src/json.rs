//! Compact JSON text of the messages written to stdout: the bytes
//! `serde_json::to_string` writes for the same [`Value`]s (tests compare them on
//! random values), made in two passes, the exact length first and then the bytes by
//! index into a buffer of that size. serde_json writes a token at a time through
//! `io::Write`; at opt-level "z" on musl every token was a call and a `memcpy` start,
//! about 55 instructions per byte of an `echo` answer (callgrind, README "Fifth round").

use crate::bytes::copy_small;
use serde_json::{Number, Value};
use std::fmt::Write as _;

/// One piece of a message's text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Piece<'a> {
    /// Text written as it is (the caller's valid JSON).
    Raw(&'a str),
    /// A string, quoted and escaped.
    Str(&'a str),
    /// A value.
    Value(&'a Value),
    /// An integer.
    Int(i64),
}

/// The pieces laid end to end.
pub(crate) fn concat(pieces: &[Piece<'_>]) -> String {
    let len = pieces.iter().map(piece_len).sum();
    let mut out = Writer {
        buf: vec![0; len],
        pos: 0,
    };
    for piece in pieces {
        out.piece(piece);
    }
    debug_assert_eq!(out.pos, len, "the length pass and the write pass agree");
    // Every piece is whole UTF-8 and escapes are ASCII: the check never fails.
    String::from_utf8(out.buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
}

fn piece_len(piece: &Piece<'_>) -> usize {
    match piece {
        Piece::Raw(text) => text.len(),
        Piece::Str(text) => string_len(text),
        Piece::Value(value) => value_len(value),
        Piece::Int(i) => NumberText::of(&Number::from(*i)).as_bytes().len(),
    }
}

fn value_len(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => NumberText::of(n).as_bytes().len(),
        Value::String(s) => string_len(s),
        // Brackets and the commas between items.
        Value::Array(items) => {
            2 + items.len().saturating_sub(1) + items.iter().map(value_len).sum::<usize>()
        }
        // Braces, the commas between members and each member's colon.
        Value::Object(members) => {
            2 + (2 * members.len()).saturating_sub(1)
                + members
                    .iter()
                    .map(|(k, v)| string_len(k) + value_len(v))
                    .sum::<usize>()
        }
    }
}

/// Quotes plus the text with its escapes.
fn string_len(text: &str) -> usize {
    let mut len = text.len() + 2;
    let mut rest = text.as_bytes();
    while let Some(at) = first_to_escape(rest) {
        len += escape(rest[at]).as_bytes().len() - 1;
        rest = &rest[at + 1..];
    }
    len
}

/// The escape serde_json writes for a byte [`first_to_escape`] found: the short
/// forms of RFC 8259 where they exist, else `\u00XX` in lower-case hex.
pub(crate) fn escape(byte: u8) -> Escape {
    let short = |c: u8| Escape {
        bytes: [b'\\', c, 0, 0, 0, 0],
        len: 2,
    };
    match byte {
        b'"' => short(b'"'),
        b'\\' => short(b'\\'),
        0x08 => short(b'b'),
        0x0C => short(b'f'),
        b'\n' => short(b'n'),
        b'\r' => short(b'r'),
        b'\t' => short(b't'),
        _ => {
            let [high, low]: [u8; 2] = crate::telemetry::hex_digits(&[byte]);
            Escape {
                bytes: [b'\\', b'u', b'0', b'0', high, low],
                len: 6,
            }
        }
    }
}

/// One escape sequence.
pub(crate) struct Escape {
    bytes: [u8; 6],
    len: usize,
}

impl Escape {
    /// The sequence's ASCII bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The sequence as text.
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// The index of the first byte JSON must escape (`"`, `\\`, a control character).
pub(crate) fn first_to_escape(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Whether any byte of `w` is zero (exact for "any"; which byte is left to the scan).
    let any_zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGH != 0;
    let mut at = 0;
    while let Some(Ok(word)) = bytes.get(at..at + 8).map(<[u8; 8]>::try_from) {
        let w = u64::from_le_bytes(word);
        // A byte below 0x20 (bytes of 0x80 and up have their high bit set in `w`).
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH != 0;
        if control
            || any_zero(w ^ (ONES * u64::from(b'"')))
            || any_zero(w ^ (ONES * u64::from(b'\\')))
        {
            break;
        }
        at += 8;
    }
    // The rest a byte at a time, in a plain loop: most strings are keys and short
    // values that never reach the word loop, and the iterator with a closure cost
    // about 100 instructions a string at opt-level "z" (callgrind).
    while let Some(&b) = bytes.get(at) {
        if b < 0x20 || b == b'"' || b == b'\\' {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// A number's text, as serde_json writes it: integers in decimal, floats in their
/// shortest round-trip form (`Number`'s `Display`, which serde_json's writer shares).
struct NumberText {
    bytes: [u8; 40],
    len: usize,
}

impl NumberText {
    fn of(n: &Number) -> NumberText {
        let mut text = NumberText {
            bytes: [0; 40],
            len: 0,
        };
        if let Some(u) = n.as_u64() {
            text.digits(u);
        } else if let Some(i) = n.as_i64() {
            text.bytes[0] = b'-';
            text.len = 1;
            text.digits(i.unsigned_abs());
        } else {
            let _ = write!(text, "{n}");
        }
        text
    }

    fn digits(&mut self, u: u64) {
        let _ = self.write_str(crate::bytes::decimal(u, &mut [0; 20]));
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Write for NumberText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let to = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        to.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The write pass: into a buffer of the measured length, by index.
struct Writer {
    buf: Vec<u8>,
    pos: usize,
}

impl Writer {
    /// Writes `bytes` at the cursor (nothing past the end: the passes disagreed, a bug
    /// the tests catch, rather than a panic).
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if let Some(to) = self.buf.get_mut(self.pos..end) {
            copy_small(to, bytes);
        }
        self.pos = end;
    }

    fn byte(&mut self, byte: u8) {
        if let Some(to) = self.buf.get_mut(self.pos) {
            *to = byte;
        }
        self.pos += 1;
    }

    fn piece(&mut self, piece: &Piece<'_>) {
        match piece {
            Piece::Raw(text) => self.put(text.as_bytes()),
            Piece::Str(text) => self.string(text),
            Piece::Value(value) => self.value(value),
            Piece::Int(i) => self.put(NumberText::of(&Number::from(*i)).as_bytes()),
        }
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.put(b"null"),
            Value::Bool(true) => self.put(b"true"),
            Value::Bool(false) => self.put(b"false"),
            Value::Number(n) => self.put(NumberText::of(n).as_bytes()),
            Value::String(s) => self.string(s),
            Value::Array(items) => {
                self.byte(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.byte(b',');
                    }
                    self.value(item);
                }
                self.byte(b']');
            }
            Value::Object(members) => {
                self.byte(b'{');
                for (i, (key, item)) in members.iter().enumerate() {
                    if i > 0 {
                        self.byte(b',');
                    }
                    self.string(key);
                    self.byte(b':');
                    self.value(item);
                }
                self.byte(b'}');
            }
        }
    }

    fn string(&mut self, text: &str) {
        self.byte(b'"');
        let mut rest = text.as_bytes();
        while let Some(at) = first_to_escape(rest) {
            self.put(&rest[..at]);
            self.put(escape(rest[at]).as_bytes());
            rest = &rest[at + 1..];
        }
        self.put(rest);
        self.byte(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// xorshift64*: deterministic, so a failure reproduces from its round.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn string(&mut self) -> String {
            const CHARS: &[char] = &[
                'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\r', '\t', '\u{8}', '\u{c}', '\0',
                '\u{1}', '\u{1f}', '\u{7f}', 'é', '€', '😀', '\u{2028}',
            ];
            (0..self.below(24))
                .map(|_| CHARS[self.below(CHARS.len() as u64) as usize])
                .collect()
        }

        fn value(&mut self, depth: u32) -> Value {
            match self.below(if depth > 4 { 6 } else { 8 }) {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 0),
                2 => json!(self.next()),
                3 => json!(-(self.below(1 << 40) as i64)),
                4 => json!(f64::from_bits(self.next()))
                    .as_f64()
                    .map_or(Value::Null, |f| json!(f)),
                5 => Value::String(self.string()),
                6 => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
                _ => Value::Object(
                    (0..self.below(4))
                        .map(|_| (self.string(), self.value(depth + 1)))
                        .collect(),
                ),
            }
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let mut rng = Rng(0x15_0a_5e_ed);
        for round in 0..3000 {
            let value = rng.value(0);
            let expected = serde_json::to_string(&value).expect("serializes");
            assert_eq!(
                concat(&[Piece::Value(&value)]),
                expected,
                "round {round}: {value:?}"
            );
        }
    }

    #[test]
    fn golden_texts() {
        let table: [(&str, Value, &str); 12] = [
            ("null", Value::Null, "null"),
            ("true", json!(true), "true"),
            ("false", json!(false), "false"),
            ("zero", json!(0), "0"),
            ("u64 max", json!(u64::MAX), "18446744073709551615"),
            ("i64 min", json!(i64::MIN), "-9223372036854775808"),
            ("a float", json!(0.1), "0.1"),
            ("a whole float", json!(2.0), "2.0"),
            ("empty array and object", json!([[], {}]), "[[],{}]"),
            (
                "short escapes",
                json!("\"\\\u{8}\u{c}\n\r\t/"),
                r#""\"\\\b\f\n\r\t/""#,
            ),
            (
                "other controls in lower-case hex; DEL and non-ASCII as they are",
                json!("\0\u{1f}\u{7f}é"),
                "\"\\u0000\\u001f\u{7f}é\"",
            ),
            (
                "members in key order, escaped keys",
                json!({"b": 1, "a\n": [true, null]}),
                r#"{"a\n":[true,null],"b":1}"#,
            ),
        ];
        for (what, value, expected) in table {
            assert_eq!(concat(&[Piece::Value(&value)]), expected, "{what}");
        }
    }

    #[test]
    fn pieces_are_laid_end_to_end() {
        let value = json!({"k": "v"});
        assert_eq!(
            concat(&[
                Piece::Raw("{\"a\":"),
                Piece::Str("x\"y"),
                Piece::Raw(",\"b\":"),
                Piece::Value(&value),
                Piece::Raw(",\"c\":"),
                Piece::Int(-12),
                Piece::Raw("}"),
            ]),
            r#"{"a":"x\"y","b":{"k":"v"},"c":-12}"#,
            "raw text as given, strings escaped, values written"
        );
        assert_eq!(concat(&[]), "", "nothing");
    }

    #[test]
    fn escapes_are_found_around_the_eight_byte_scan() {
        for len in 0..20 {
            for at in 0..len {
                let mut text = vec![b'a'; len];
                text[at] = b'\n';
                assert_eq!(first_to_escape(&text), Some(at), "length {len}, at {at}");
            }
            assert_eq!(first_to_escape(&vec![b'a'; len]), None, "length {len}");
        }
    }
}
