//! Byte-level helpers of the hand-written encoders: short copies between slices
//! (protobuf in `otlp::wire`, JSON answers in `json`) and decimal digits without the
//! formatting machinery (`json`, the Prometheus writer).

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

#[cfg(test)]
mod tests {
    use super::*;

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
