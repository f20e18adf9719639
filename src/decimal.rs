//! Decimal text read as an `f64` (a sampling rate, a `Retry-After` in seconds,
//! `/proc/uptime`) without `str::parse::<f64>`: that parser links core's float
//! tables and algorithms, 16,512 bytes of the static binary (measured), while
//! serde_json's number reader is linked anyway. The text accepted is what
//! `str::parse::<f64>` accepts as a decimal: an optional sign, digits with an
//! optional point (`.5` and `5.` included), an optional exponent. `inf` and `nan`
//! are not numbers here; every caller refused them already.

/// `text` as a number, or `None` when it is not a decimal or is beyond `f64`'s range.
///
/// It is rewritten in JSON's number syntax (no `+`, no leading zeros, digits on both
/// sides of the point) and read by serde_json, which gives the nearest `f64` for
/// every value of up to 15 significant digits and an exponent within 22 (what these
/// settings and headers carry), and one within a unit in the last place beyond.
pub(crate) fn parse(text: &str) -> Option<f64> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        return None;
    }
    let mut json = String::with_capacity(text.len() + 2);
    let whole = whole.trim_start_matches('0');
    json.push_str(if whole.is_empty() { "0" } else { whole });
    if !fraction.is_empty() {
        json.push('.');
        json.push_str(fraction);
    }
    if let Some(exponent) = exponent {
        let value = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if value.is_empty() || !digits(value) {
            return None;
        }
        json.push('e');
        json.push_str(exponent);
    }
    // The sign is put back afterwards: serde_json reads `-0` as the integer 0.
    let value = serde_json::from_str::<f64>(&json).ok()?;
    Some(if negative { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_str_parse_reads_as_a_decimal() {
        for text in [
            "0",
            "1",
            "0.5",
            ".5",
            "5.",
            "+0.25",
            "-0",
            "-1.5",
            "007.50",
            "1e3",
            "1E+3",
            "2.5e-3",
            "0.1",
            "0.3",
            "1.0",
            "123456789012345",
            "0.000001",
            "86400",
            "3600.25",
            "1e22",
            "9007199254740993",
            "1.7976931348623157e308",
            "4.9e-324",
            "00",
            "0.",
        ] {
            let expected: f64 = text.parse().expect("a decimal");
            let got = parse(text).unwrap_or_else(|| panic!("{text:?} refused"));
            assert_eq!(
                got.to_bits(),
                expected.to_bits(),
                "{text:?}: {got} != {expected}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_decimal_or_not_finite() {
        for text in [
            "",
            ".",
            "-",
            "+",
            "e5",
            ".e5",
            "1e",
            "1e+",
            "1.2.3",
            "0x10",
            " 1",
            "1 ",
            "1_000",
            "inf",
            "-infinity",
            "NaN",
            "1e400",
            "--1",
            "+-1",
            "1e5.5",
            "١",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn long_values_are_within_a_unit_in_the_last_place() {
        for text in [
            "0.1234567890123456789",
            "3.14159265358979323846264338327950288",
            "1e-300",
        ] {
            let expected: f64 = text.parse().expect("a decimal");
            let got = parse(text).expect("a decimal");
            assert!(
                got.to_bits().abs_diff(expected.to_bits()) <= 1,
                "{text}: {got} vs {expected}"
            );
        }
    }
}
