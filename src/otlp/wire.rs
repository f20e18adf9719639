//! The protobuf wire format, encoding side: varints, keys, fixed-width scalars and
//! length-delimited fields, plus the two-pass [`Message`] scheme every OTLP message
//! uses (one description of the fields, run once to count bytes and once to write).

use crate::bytes::copy_small;

/// Protobuf wire types we write (protobuf encoding guide, "Message Structure").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireType {
    /// `VARINT`: int32, int64, uint32, uint64, bool, enum.
    Varint = 0,
    /// `I64`: fixed64, sfixed64, double.
    I64 = 1,
    /// `LEN`: string, bytes, embedded messages, packed repeated fields.
    Len = 2,
    /// `I32`: fixed32, sfixed32, float.
    I32 = 5,
}

/// Writes `value` as a base-128 varint: 7 bits per byte, least significant group first,
/// the high bit set on every byte but the last.
pub(crate) fn encode_varint(mut value: u64, buf: &mut Vec<u8>) {
    while value >= 0x80 {
        // Truncation is the point: the low 7 bits plus the continuation bit.
        buf.push((value as u8 & 0x7F) | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
}

/// The number of bytes [`encode_varint`] writes for `value` (1 to 10).
#[inline(always)]
pub(crate) fn encoded_len_varint(value: u64) -> usize {
    // Significant bits rounded up to groups of 7, as prost does it: `bits * 9 / 64`
    // approximates `bits / 7` closely enough for 1..=64 bits with a shift, where
    // `div_ceil(7)` compiled to a division at opt-level "z" (a fifth of the
    // encoder's time). `| 1` makes 0 take one byte.
    let high_bit = (value | 1).leading_zeros() ^ 63;
    ((high_bit * 9 + 73) / 64) as usize
}

/// Writes the key of a field: `(field << 3) | wire_type` as a varint.
pub(crate) fn encode_key(field: u32, wire_type: WireType, buf: &mut Vec<u8>) {
    encode_varint(u64::from(field) << 3 | wire_type as u64, buf);
}

/// The number of bytes [`encode_key`] writes for `field` (1 up to field 15, 2 up to 2047).
#[inline(always)]
pub(crate) fn key_len(field: u32) -> usize {
    encoded_len_varint(u64::from(field) << 3)
}

/// Writes a `fixed32` field: key, then 4 bytes little-endian.
pub(crate) fn encode_fixed32(field: u32, value: u32, buf: &mut Vec<u8>) {
    encode_key(field, WireType::I32, buf);
    buf.extend_from_slice(&value.to_le_bytes());
}

/// Writes a `fixed64` field (also `sfixed64` as `value as u64`): key, then 8 bytes
/// little-endian.
pub(crate) fn encode_fixed64(field: u32, value: u64, buf: &mut Vec<u8>) {
    encode_key(field, WireType::I64, buf);
    buf.extend_from_slice(&value.to_le_bytes());
}

/// Writes a `double` field: key, then the IEEE-754 bits as 8 bytes little-endian.
pub(crate) fn encode_double(field: u32, value: f64, buf: &mut Vec<u8>) {
    encode_fixed64(field, value.to_bits(), buf);
}

/// Writes the key and length prefix of a length-delimited field whose `len` bytes
/// of payload the caller writes next.
pub(crate) fn encode_len_prefix(field: u32, len: usize, buf: &mut Vec<u8>) {
    encode_key(field, WireType::Len, buf);
    encode_varint(len as u64, buf);
}

/// Writes a length-delimited field holding `bytes` (a string, raw bytes).
pub(crate) fn encode_bytes(field: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    encode_len_prefix(field, bytes.len(), buf);
    buf.extend_from_slice(bytes);
}

/// The size of a whole length-delimited field with `len` bytes of payload.
#[inline(always)]
pub(crate) fn len_delimited_len(field: u32, len: usize) -> usize {
    key_len(field) + encoded_len_varint(len as u64) + len
}

/// Writes a packed `repeated fixed64` field; nothing for an empty list, since an empty
/// packed field and an absent one mean the same (protobuf guide, "Packed Repeated Fields").
pub(crate) fn encode_packed_fixed64(field: u32, values: &[u64], buf: &mut Vec<u8>) {
    if values.is_empty() {
        return;
    }
    encode_len_prefix(field, 8 * values.len(), buf);
    for value in values {
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

/// Writes a packed `repeated double` field; nothing for an empty list.
pub(crate) fn encode_packed_double(field: u32, values: &[f64], buf: &mut Vec<u8>) {
    if values.is_empty() {
        return;
    }
    encode_len_prefix(field, 8 * values.len(), buf);
    for value in values {
        buf.extend_from_slice(&value.to_bits().to_le_bytes());
    }
}

/// The size of a packed field of `count` 8-byte values (0 when empty: the field is left out).
pub(crate) fn packed_fixed_len(field: u32, count: usize) -> usize {
    if count == 0 {
        0
    } else {
        len_delimited_len(field, 8 * count)
    }
}

/// Where a message's fields go: [`Counter`] adds up their size (the length pass), a
/// `Vec<u8>` writes them (the write pass). A message describes its fields once, in
/// [`Message::fields`], so its length and its bytes cannot disagree.
pub(crate) trait Sink {
    /// A `VARINT` field (int64 and enums pass `value as u64`: negatives take 10 bytes).
    fn varint(&mut self, field: u32, value: u64);
    /// A `fixed32` field.
    fn fixed32(&mut self, field: u32, value: u32);
    /// A `fixed64` or (as `value as u64`) `sfixed64` field.
    fn fixed64(&mut self, field: u32, value: u64);
    /// A `string` or `bytes` field.
    fn bytes(&mut self, field: u32, value: &[u8]);
    /// An embedded message, present even when empty (then tag + `00`).
    fn message<M: Message>(&mut self, field: u32, message: &M);
    /// A packed `repeated fixed64` field.
    fn packed_fixed64(&mut self, field: u32, values: &[u64]);
    /// A packed `repeated double` field.
    fn packed_double(&mut self, field: u32, values: &[f64]);
    /// Fields encoded earlier, written as they are (spans encoded when they ended).
    fn raw(&mut self, fields: &[u8]);

    /// A `double` field.
    fn double(&mut self, field: u32, value: f64) {
        self.fixed64(field, value.to_bits());
    }

    /// A `string` field.
    fn string(&mut self, field: u32, value: &str) {
        self.bytes(field, value.as_bytes());
    }
}

/// A protobuf message: its fields, in ascending field-number order.
pub(crate) trait Message {
    /// Sends every present field to `out`.
    fn fields<S: Sink>(&self, out: &mut S);

    /// The size of the message body, without its own key and length prefix.
    fn encoded_len(&self) -> usize {
        let mut counter = Counter(0);
        self.fields(&mut counter);
        counter.0
    }
}

/// The length pass: counts the bytes the write pass will produce.
#[derive(Debug, Default)]
pub(crate) struct Counter(pub(crate) usize);

impl Sink for Counter {
    fn varint(&mut self, field: u32, value: u64) {
        self.0 += key_len(field) + encoded_len_varint(value);
    }

    fn fixed32(&mut self, field: u32, _value: u32) {
        self.0 += key_len(field) + 4;
    }

    fn fixed64(&mut self, field: u32, _value: u64) {
        self.0 += key_len(field) + 8;
    }

    fn bytes(&mut self, field: u32, value: &[u8]) {
        self.0 += len_delimited_len(field, value.len());
    }

    fn message<M: Message>(&mut self, field: u32, message: &M) {
        self.0 += len_delimited_len(field, message.encoded_len());
    }

    fn packed_fixed64(&mut self, field: u32, values: &[u64]) {
        self.0 += packed_fixed_len(field, values.len());
    }

    fn packed_double(&mut self, field: u32, values: &[f64]) {
        self.0 += packed_fixed_len(field, values.len());
    }

    fn raw(&mut self, fields: &[u8]) {
        self.0 += fields.len();
    }
}

/// The write pass. An embedded message costs one extra length pass over it, as in
/// prost: cheap arithmetic, and no back-patching of length prefixes.
impl Sink for Vec<u8> {
    fn varint(&mut self, field: u32, value: u64) {
        encode_key(field, WireType::Varint, self);
        encode_varint(value, self);
    }

    fn fixed32(&mut self, field: u32, value: u32) {
        encode_fixed32(field, value, self);
    }

    fn fixed64(&mut self, field: u32, value: u64) {
        encode_fixed64(field, value, self);
    }

    fn bytes(&mut self, field: u32, value: &[u8]) {
        encode_bytes(field, value, self);
    }

    fn message<M: Message>(&mut self, field: u32, message: &M) {
        encode_len_prefix(field, message.encoded_len(), self);
        message.fields(self);
    }

    fn packed_fixed64(&mut self, field: u32, values: &[u64]) {
        encode_packed_fixed64(field, values, self);
    }

    fn packed_double(&mut self, field: u32, values: &[f64]) {
        encode_packed_double(field, values, self);
    }

    fn raw(&mut self, fields: &[u8]) {
        self.extend_from_slice(fields);
    }

    fn double(&mut self, field: u32, value: f64) {
        encode_double(field, value, self);
    }
}

/// Encodes a top-level message into a buffer of exactly its size, in two
/// linear passes: the first records every nested message's length in pre-order,
/// the second writes, taking each length from that record instead of counting
/// the subtree again at every level of nesting.
pub(crate) fn encode_to_vec<M: Message>(message: &M) -> Vec<u8> {
    let mut buffers = Buffers::default();
    encode_into(message, &mut buffers);
    buffers.out
}

/// Reusable memory for [`encode_into`]: an exporter keeps one, so that a batch
/// of a few hundred kilobytes does not cost a fresh allocation (and, with musl,
/// fresh pages from the kernel) every time.
#[derive(Debug, Default)]
pub struct Buffers {
    out: Vec<u8>,
    lens: Vec<u32>,
}

impl Buffers {
    /// The last encoded message.
    pub fn bytes(&self) -> &[u8] {
        &self.out
    }
}

/// [`encode_to_vec`] into reused buffers; the result is `buffers.bytes()`.
pub(crate) fn encode_into<M: Message>(message: &M, buffers: &mut Buffers) {
    encode_at(message, &mut buffers.lens, &mut buffers.out, 0);
}

/// Appends `message`'s fields to `out`, in the two passes of [`encode_to_vec`];
/// `lens` is scratch memory for the nested lengths.
pub(crate) fn encode_append<M: Message>(message: &M, lens: &mut Vec<u32>, out: &mut Vec<u8>) {
    let start = out.len();
    encode_at(message, lens, out, start);
}

/// Encodes `message` into `out` from `start` on, leaving `out` exactly that long.
fn encode_at<M: Message>(message: &M, lens: &mut Vec<u32>, out: &mut Vec<u8>, start: usize) {
    let mut recorder = Recorder {
        total: 0,
        lens: std::mem::take(lens),
    };
    recorder.lens.clear();
    message.fields(&mut recorder);
    // Only growth is zero-filled; the writer overwrites all of it.
    let end = start + recorder.total;
    out.truncate(end);
    grow_zeroed(out, end);
    let mut writer = Writer {
        buf: &mut out[start..],
        pos: 0,
        lens: &recorder.lens,
        next: 0,
    };
    message.fields(&mut writer);
    debug_assert_eq!(
        writer.pos, recorder.total,
        "length pass and write pass disagree"
    );
    *lens = recorder.lens;
}

/// Appends exactly `len` bytes to `out`, written by `write` (a hand-written encoder
/// that computed `len` itself): the buffer is sized once and written by index.
pub(crate) fn write_exact(out: &mut Vec<u8>, len: usize, write: impl FnOnce(&mut Writer<'_>)) {
    let start = out.len();
    grow_zeroed(out, start + len);
    let mut writer = Writer {
        buf: &mut out[start..],
        pos: 0,
        lens: &[],
        next: 0,
    };
    write(&mut writer);
    debug_assert_eq!(writer.pos, len, "a hand-written encoder's length");
}

/// Extends `out` to `end` bytes with zeros, by whole blocks (a byte-at-a-time fill at
/// opt-level "z" was a third of the encoder's time when done for a whole body).
fn grow_zeroed(out: &mut Vec<u8>, end: usize) {
    const ZEROS: [u8; 256] = [0; 256];
    while out.len() < end {
        let n = (end - out.len()).min(ZEROS.len());
        out.extend_from_slice(&ZEROS[..n]);
    }
}

/// The length pass of [`encode_to_vec`].
#[derive(Debug, Default)]
struct Recorder {
    total: usize,
    /// Nested message lengths in pre-order (`u32`: a request is far below 4 GiB).
    lens: Vec<u32>,
}

impl Sink for Recorder {
    fn varint(&mut self, field: u32, value: u64) {
        self.total += key_len(field) + encoded_len_varint(value);
    }

    fn fixed32(&mut self, field: u32, _value: u32) {
        self.total += key_len(field) + 4;
    }

    fn fixed64(&mut self, field: u32, _value: u64) {
        self.total += key_len(field) + 8;
    }

    fn bytes(&mut self, field: u32, value: &[u8]) {
        self.total += len_delimited_len(field, value.len());
    }

    fn message<M: Message>(&mut self, field: u32, message: &M) {
        let slot = self.lens.len();
        self.lens.push(0);
        let outer = std::mem::take(&mut self.total);
        message.fields(self);
        let len = self.total;
        self.lens[slot] = len as u32;
        self.total = outer + len_delimited_len(field, len);
    }

    fn packed_fixed64(&mut self, field: u32, values: &[u64]) {
        self.total += packed_fixed_len(field, values.len());
    }

    fn packed_double(&mut self, field: u32, values: &[f64]) {
        self.total += packed_fixed_len(field, values.len());
    }

    fn raw(&mut self, fields: &[u8]) {
        self.total += fields.len();
    }
}

/// The write pass of [`encode_to_vec`]: into a buffer already of the recorded size,
/// by index (at opt-level "z" a `Vec::push` per byte was a call with a capacity
/// check); nested lengths come from the record.
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    lens: &'a [u32],
    next: usize,
}

impl Writer<'_> {
    /// Writes `bytes` at the cursor. Past the end (the passes disagreed, a bug the
    /// length tests catch) nothing is written rather than panicking the export thread.
    #[inline(always)]
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        if let Some(to) = self.buf.get_mut(self.pos..end) {
            copy_small(to, bytes);
        }
        self.pos = end;
    }

    /// Writes one byte at the cursor (nothing past the end, as [`Writer::put`]).
    #[inline(always)]
    fn byte(&mut self, byte: u8) {
        if let Some(to) = self.buf.get_mut(self.pos) {
            *to = byte;
        }
        self.pos += 1;
    }

    /// Straight into the buffer, a byte at a time: most varints here (keys, lengths
    /// of short fields) are one byte, and staging them in an array first made a
    /// store-then-reload on every key and length.
    #[inline(always)]
    pub(crate) fn raw_varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            // Truncation is the point: the low 7 bits plus the continuation bit.
            self.byte((value as u8 & 0x7F) | 0x80);
            value >>= 7;
        }
        self.byte(value as u8);
    }

    #[inline(always)]
    pub(crate) fn key(&mut self, field: u32, wire_type: WireType) {
        self.raw_varint(u64::from(field) << 3 | wire_type as u64);
    }
}

// Inlined: the hand-written span encoder calls these with constant field numbers,
// which then fold into single key bytes (at opt-level "z" each was a call).
impl Sink for Writer<'_> {
    #[inline(always)]
    fn varint(&mut self, field: u32, value: u64) {
        self.key(field, WireType::Varint);
        self.raw_varint(value);
    }

    #[inline(always)]
    fn fixed32(&mut self, field: u32, value: u32) {
        self.key(field, WireType::I32);
        self.put(&value.to_le_bytes());
    }

    #[inline(always)]
    fn fixed64(&mut self, field: u32, value: u64) {
        self.key(field, WireType::I64);
        self.put(&value.to_le_bytes());
    }

    #[inline(always)]
    fn bytes(&mut self, field: u32, value: &[u8]) {
        self.key(field, WireType::Len);
        self.raw_varint(value.len() as u64);
        self.put(value);
    }

    fn message<M: Message>(&mut self, field: u32, message: &M) {
        // Both passes visit messages in the same order, so the index lines up.
        let len = match self.lens.get(self.next) {
            Some(&len) => len as usize,
            None => message.encoded_len(),
        };
        self.next += 1;
        self.key(field, WireType::Len);
        self.raw_varint(len as u64);
        message.fields(self);
    }

    fn packed_fixed64(&mut self, field: u32, values: &[u64]) {
        if values.is_empty() {
            return;
        }
        self.key(field, WireType::Len);
        self.raw_varint(8 * values.len() as u64);
        for value in values {
            self.put(&value.to_le_bytes());
        }
    }

    fn packed_double(&mut self, field: u32, values: &[f64]) {
        if values.is_empty() {
            return;
        }
        self.key(field, WireType::Len);
        self.raw_varint(8 * values.len() as u64);
        for value in values {
            self.put(&value.to_bits().to_le_bytes());
        }
    }

    fn raw(&mut self, fields: &[u8]) {
        self.put(fields);
    }
}

/// Declares the field numbers of one protobuf message as constants in a module named
/// after it, each constant the field's proto name in upper case. Under `cfg(test)` the
/// module also lists them, for the test that checks them against `proto/`.
macro_rules! fields {
    (
        $(#[$doc:meta])*
        mod $module:ident = $message:literal {
            $($name:ident = $number:literal,)+
        }
    ) => {
        $(#[$doc])*
        pub(crate) mod $module {
            $(
                #[doc = concat!("`", stringify!($name), "` = ", stringify!($number), ".")]
                pub(crate) const $name: u32 = $number;
            )+
            /// The message name in its `.proto` file (nested names joined by `.`).
            #[cfg(test)]
            pub(crate) const PROTO_MESSAGE: &str = $message;
            /// Every field constant with its name.
            #[cfg(test)]
            pub(crate) const PROTO_FIELDS: &[(&str, u32)] = &[$((stringify!($name), $number)),+];
        }
    };
}
pub(crate) use fields;

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes one value with `write` into a fresh buffer.
    fn bytes_of(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut buf = Vec::new();
        write(&mut buf);
        buf
    }

    #[test]
    fn varints_at_every_seven_bit_edge() {
        let table: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (300, &[0xAC, 0x02]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            ((1 << 21) - 1, &[0xFF, 0xFF, 0x7F]),
            (1 << 21, &[0x80, 0x80, 0x80, 0x01]),
            ((1 << 28) - 1, &[0xFF, 0xFF, 0xFF, 0x7F]),
            (1 << 28, &[0x80, 0x80, 0x80, 0x80, 0x01]),
            (u64::from(u32::MAX), &[0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
            ((1 << 35) - 1, &[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            (1 << 35, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            ((1 << 42) - 1, &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            (1 << 42, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            ((1 << 49) - 1, &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            (1 << 49, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
            (
                (1 << 56) - 1,
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            ),
            (
                1 << 56,
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
            ),
            (
                (1 << 63) - 1,
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            ),
            (
                1 << 63,
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
            ),
            (
                u64::MAX,
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            ),
            // int64 -1 and i64::MIN as protobuf sends them: sign-extended, no zigzag.
            (
                -1i64 as u64,
                &[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            ),
            (
                -300i64 as u64,
                &[0xD4, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
            ),
            (
                i64::MIN as u64,
                &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
            ),
        ];
        for &(value, expected) in table {
            assert_eq!(
                bytes_of(|b| encode_varint(value, b)),
                expected,
                "varint bytes of {value:#x}"
            );
            assert_eq!(
                encoded_len_varint(value),
                expected.len(),
                "varint length of {value:#x}"
            );
        }
    }

    #[test]
    fn keys_of_one_and_two_bytes() {
        let table: &[(u32, WireType, &[u8])] = &[
            (1, WireType::Varint, &[0x08]),
            (1, WireType::I64, &[0x09]),
            (1, WireType::Len, &[0x0A]),
            (1, WireType::I32, &[0x0D]),
            (15, WireType::Len, &[0x7A]),
            // Span.flags: fixed32 field 16, the first two-byte key.
            (16, WireType::I32, &[0x85, 0x01]),
            (16, WireType::Varint, &[0x80, 0x01]),
            (2047, WireType::Len, &[0xFA, 0x7F]),
            (2048, WireType::Varint, &[0x80, 0x80, 0x01]),
        ];
        for &(field, wire_type, expected) in table {
            assert_eq!(
                bytes_of(|b| encode_key(field, wire_type, b)),
                expected,
                "key of field {field} {wire_type:?}"
            );
            assert_eq!(
                key_len(field),
                expected.len(),
                "key length of field {field}"
            );
        }
    }

    #[test]
    fn scalar_fields() {
        let table: &[(&str, Vec<u8>, &[u8])] = &[
            (
                "fixed32 is 4 bytes little-endian, not a varint",
                bytes_of(|b| encode_fixed32(16, 0x0000_0301, b)),
                &[0x85, 0x01, 0x01, 0x03, 0x00, 0x00],
            ),
            (
                "fixed64 is 8 bytes little-endian",
                bytes_of(|b| encode_fixed64(7, 0x0102_0304_0506_0708, b)),
                &[0x39, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01],
            ),
            (
                "sfixed64 -1 is eight 0xFF",
                bytes_of(|b| encode_fixed64(6, -1i64 as u64, b)),
                &[0x31, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            ),
            (
                "double 1.5 is its IEEE-754 bits",
                bytes_of(|b| encode_double(4, 1.5, b)),
                &[0x21, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F],
            ),
            (
                "double -0.0 keeps its sign bit",
                bytes_of(|b| encode_double(4, -0.0, b)),
                &[0x21, 0, 0, 0, 0, 0, 0, 0, 0x80],
            ),
            (
                "empty bytes are tag + 00",
                bytes_of(|b| encode_bytes(1, b"", b)),
                &[0x0A, 0x00],
            ),
            (
                "string bytes follow their length",
                bytes_of(|b| encode_bytes(2, b"abc", b)),
                &[0x12, 0x03, b'a', b'b', b'c'],
            ),
            (
                "a 128-byte payload has a two-byte length",
                bytes_of(|b| encode_len_prefix(1, 128, b)),
                &[0x0A, 0x80, 0x01],
            ),
            (
                "packed fixed64: tag, 8·n, values",
                bytes_of(|b| encode_packed_fixed64(6, &[1, 256], b)),
                &[0x32, 0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
            ),
            (
                "packed double: tag, 8·n, values",
                bytes_of(|b| encode_packed_double(7, &[1.0], b)),
                &[0x3A, 0x08, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F],
            ),
            (
                "an empty packed field is left out",
                bytes_of(|b| {
                    encode_packed_fixed64(6, &[], b);
                    encode_packed_double(7, &[], b);
                }),
                &[],
            ),
        ];
        for (what, actual, expected) in table {
            assert_eq!(actual, expected, "{what}");
        }
    }

    /// A message of one nested message, for the nesting test.
    struct Outer(Inner);
    /// A message of one string.
    struct Inner(&'static str);

    impl Message for Outer {
        fn fields<S: Sink>(&self, out: &mut S) {
            out.message(1, &self.0);
        }
    }

    impl Message for Inner {
        fn fields<S: Sink>(&self, out: &mut S) {
            if !self.0.is_empty() {
                out.string(1, self.0);
            }
        }
    }

    #[test]
    fn nested_messages_carry_their_lengths() {
        let long: &'static str = "x".repeat(200).leak();
        let mut long_expected = vec![0x0A, 0xCB, 0x01, 0x0A, 0xC8, 0x01];
        long_expected.extend_from_slice(long.as_bytes());
        let table: &[(&str, Outer, Vec<u8>)] = &[
            (
                "an empty sub-message is tag + 00",
                Outer(Inner("")),
                vec![0x0A, 0x00],
            ),
            (
                "one level of nesting",
                Outer(Inner("hi")),
                vec![0x0A, 0x04, 0x0A, 0x02, b'h', b'i'],
            ),
            (
                "two-byte lengths at both levels",
                Outer(Inner(long)),
                long_expected,
            ),
        ];
        for (what, message, expected) in table {
            let actual = encode_to_vec(message);
            assert_eq!(&actual, expected, "{what}");
            assert_eq!(message.encoded_len(), expected.len(), "{what}: length pass");
        }
    }

    #[test]
    fn varint_length_matches_bytes_written() {
        let mut rng = crate::otlp::testing::Rng::new(7);
        for _ in 0..10_000 {
            // Spread over every length: a random value shifted by a random amount.
            let value = rng.next() >> (rng.next() % 64);
            let bytes = bytes_of(|b| encode_varint(value, b));
            assert_eq!(encoded_len_varint(value), bytes.len(), "value {value:#x}");
        }
        // Every bit width's edges, where a shortcut for the division by 7 would slip.
        for bits in 0..64 {
            for value in [1u64 << bits, (1u64 << bits) - 1, u64::MAX >> bits] {
                let bytes = bytes_of(|b| encode_varint(value, b));
                assert_eq!(encoded_len_varint(value), bytes.len(), "value {value:#x}");
            }
        }
    }
}
