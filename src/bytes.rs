//! Byte-level helpers of the hand-written encoders: short copies between slices
//! (protobuf in `otlp::wire`, JSON answers in `json`), decimal digits without the
//! formatting machinery (`json`, the Prometheus writer), `%XX` decoding (configuration
//! values, proxy credentials, `file://` URIs, resource template variables), and base64 (file blobs, proxy
//! credentials, PEM certificates).

/// `to.copy_from_slice(from)` for the short fields a message is made of (ids, names,
/// fixed-width numbers), with fixed-size moves. musl's `memcpy` is `rep movsq` plus a
/// byte loop, tens of cycles to start however short the copy: it was a quarter of the
/// encoder's time. Two overlapping windows of a power of two cover any length between
/// that power and twice it, without a loop (which the compiler would turn back into a
/// `memcpy` call).
pub(crate) fn copy_small(to: &mut [u8], from: &[u8]) {
    let n = from.len();
    if to.len() != n {
        return;
    }
    match n {
        0 => {}
        1..=3 => {
            to[0] = from[0];
            to[n / 2] = from[n / 2];
            to[n - 1] = from[n - 1];
        }
        4..=7 => {
            window::<4>(to, from, 0);
            window::<4>(to, from, n - 4);
        }
        8..=15 => {
            window::<8>(to, from, 0);
            window::<8>(to, from, n - 8);
        }
        16..=32 => {
            window::<16>(to, from, 0);
            window::<16>(to, from, n - 16);
        }
        _ => to.copy_from_slice(from),
    }
}

/// Copies `N` bytes at `at` as one fixed-size move.
#[inline(always)]
fn window<const N: usize>(to: &mut [u8], from: &[u8], at: usize) {
    let to: Option<&mut [u8; N]> = to.get_mut(at..at + N).and_then(|t| t.try_into().ok());
    let from: Option<&[u8; N]> = from.get(at..at + N).and_then(|f| f.try_into().ok());
    if let (Some(to), Some(from)) = (to, from) {
        *to = *from;
    }
}

/// `n` in decimal, written into the end of `buf` (20 digits hold any `u64`).
pub(crate) fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).unwrap_or("0")
}

/// `text` with its `%XX` escapes decoded (two hex digits, either case; no sign, no
/// other form); `None` for a broken escape.
pub(crate) fn percent_decode(text: &str) -> Option<Vec<u8>> {
    decode_escapes(text, false, None)
}

/// [`percent_decode`] that keeps a `%` not followed by two hex digits as it is
/// (`100%` stays): for looking behind escapes, never for parsing. With `at`, also
/// where each byte of `text`, and its end, lands in the result.
pub(crate) fn percent_decode_lenient(text: &str, at: Option<&mut Vec<usize>>) -> Vec<u8> {
    decode_escapes(text, true, at).unwrap_or_default()
}

fn decode_escapes(text: &str, lenient: bool, mut at: Option<&mut Vec<usize>>) -> Option<Vec<u8>> {
    let hex = |b: Option<&u8>| char::from(*b?).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(at) = at.as_deref_mut() {
            at.push(out.len());
        }
        let escape = (bytes[i] == b'%')
            .then(|| hex(bytes.get(i + 1)).zip(hex(bytes.get(i + 2))))
            .flatten();
        match escape {
            Some((high, low)) => {
                // The escape's three bytes land where its one byte does.
                if let Some(at) = at.as_deref_mut() {
                    at.extend([out.len(), out.len()]);
                }
                // Two hex digits are at most 255.
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            None if bytes[i] == b'%' && !lenient => return None,
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    if let Some(at) = at {
        at.push(out.len());
    }
    Some(out)
}

/// Standard base64 with padding (RFC 4648 §4).
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        let sextet = |i: u32| ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char;
        out.push(sextet(0));
        out.push(sextet(1));
        out.push(if chunk.len() > 1 { sextet(2) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(3) } else { '=' });
    }
    out
}

/// Standard base64 with padding; whitespace is ignored, anything else is an error.
pub(crate) fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits, mut pad) = (0u32, 0u32, 0u32);
    for &b in text {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        acc = (acc << 6 | u32::from(value)) & 0xff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Leftover bits are padding: at most 4 of them, and the '=' count must match.
    let whole = (bits == 0 && pad == 0) || (bits == 4 && pad == 2) || (bits == 2 && pad == 1);
    whole.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_take_exactly_two_hex_digits() {
        for (text, decoded) in [
            ("a%20b", Some(&b"a b"[..])),
            ("%2f%2F", Some(b"//")),
            ("%ff", Some(b"\xff")),
            ("plain", Some(b"plain")),
            ("", Some(b"")),
            ("%", None),
            ("%2", None),
            ("%zz", None),
            // `from_str_radix` would take these as +1 and -1.
            ("%+1", None),
            ("%-1", None),
        ] {
            assert_eq!(percent_decode(text).as_deref(), decoded, "{text:?}");
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, want) in cases {
            assert_eq!(base64(input.as_bytes()), want, "base64 of {input:?}");
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn base64_decodes_at_every_padding_and_refuses_the_rest() {
        let table: &[(&str, Option<&[u8]>)] = &[
            ("", Some(b"")),
            ("Zg==", Some(b"f")),
            ("Zm8=", Some(b"fo")),
            ("Zm9v", Some(b"foo")),
            ("Zm9vYg==", Some(b"foob")),
            ("Zm9v\r\nYmFy", Some(b"foobar")),
            ("+/+/", Some(&[0xfb, 0xff, 0xbf])),
            ("Zg=", None),
            ("Zg", None),
            ("Zm9vY", None),
            ("Zg==Zg==", None),
            ("Zm9v!", None),
        ];
        for (text, want) in table {
            assert_eq!(base64_decode(text.as_bytes()).as_deref(), *want, "{text:?}");
        }
    }

    #[test]
    fn decimal_digits_at_the_edges() {
        for (n, text) in [
            (0, "0"),
            (9, "9"),
            (10, "10"),
            (u64::MAX, "18446744073709551615"),
        ] {
            assert_eq!(decimal(n, &mut [0; 20]), text);
        }
    }

    #[test]
    fn small_copies_copy_every_byte_at_every_length() {
        let from: Vec<u8> = (1..=80).collect();
        for n in 0..=80 {
            let mut to = vec![0u8; n];
            copy_small(&mut to, &from[..n]);
            assert_eq!(to, &from[..n], "length {n}");
        }
    }
}
