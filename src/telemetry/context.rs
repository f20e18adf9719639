//! Trace and span ids, their random generation, and the W3C Trace Context
//! (`traceparent`, `tracestate`) a client may send in a request's `params._meta`.

use super::model::{FLAG_RANDOM, FLAG_SAMPLED, SpanId, TraceId};
use std::cell::Cell;

/// What a child span needs to know about its parent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpanContext {
    /// The trace.
    pub trace_id: TraceId,
    /// The span (for a remote parent: the caller's span).
    pub span_id: SpanId,
    /// W3C trace flags (`FLAG_SAMPLED`, `FLAG_RANDOM`).
    pub flags: u8,
    /// W3C `tracestate`, passed on unchanged.
    pub trace_state: String,
    /// Extracted from a `traceparent` rather than created here.
    pub is_remote: bool,
}

impl SpanContext {
    /// The sampled flag.
    pub fn is_sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }

    /// Reads `traceparent` and `tracestate` from a request's `_meta`. An invalid
    /// `traceparent` is ignored (a new trace starts) and its `tracestate` discarded.
    pub fn from_meta(meta: &serde_json::Map<String, serde_json::Value>) -> Option<SpanContext> {
        let traceparent = meta.get("traceparent")?.as_str()?;
        let mut context = parse_traceparent(traceparent)?;
        if let Some(state) = meta.get("tracestate").and_then(|v| v.as_str())
            && valid_tracestate(state)
        {
            context.trace_state = state.trim().to_string();
        }
        Some(context)
    }

    /// The `traceparent` value naming this span as the parent.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            hex(&self.trace_id.0),
            hex(&self.span_id.0),
            self.flags
        )
    }
}

/// Parses a W3C `traceparent` (version 00, or a later version's first 55 characters).
pub fn parse_traceparent(value: &str) -> Option<SpanContext> {
    let value = value.trim();
    let b = value.as_bytes();
    if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
        return None;
    }
    let version = unhex::<1>(&value[0..2])?[0];
    if version == 0xff || (version == 0 && b.len() != 55) || (b.len() > 55 && b[55] != b'-') {
        return None;
    }
    let trace_id = TraceId(unhex::<16>(&value[3..35])?);
    let span_id = SpanId(unhex::<8>(&value[36..52])?);
    let flags = unhex::<1>(&value[53..55])?[0];
    if trace_id.0 == [0; 16] || span_id.0 == [0; 8] {
        return None;
    }
    Some(SpanContext {
        trace_id,
        span_id,
        flags: flags & (FLAG_SAMPLED | FLAG_RANDOM),
        trace_state: String::new(),
        is_remote: true,
    })
}

/// Lowercase hex only, as `HEXDIGLC` requires.
fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; N];
    for (i, pair) in text.as_bytes().chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// At most 32 `key=value` members of printable ASCII, no `,` or `=` in values.
fn valid_tracestate(state: &str) -> bool {
    state.len() <= 512
        && state.split(',').filter(|m| !m.trim().is_empty()).count() <= 32
        && state
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .all(|member| {
                member.split_once('=').is_some_and(|(key, value)| {
                    !key.is_empty()
                        && key.len() <= 256
                        && key.bytes().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-*/@".contains(&c)
                        })
                        && value.len() <= 256
                        && value
                            .bytes()
                            .all(|c| (0x20..=0x7e).contains(&c) && c != b',' && c != b'=')
                })
            })
}

/// Lower-case hex digits, by value.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let pair = hex_pair(*b);
        s.push(char::from(pair[0]));
        s.push(char::from(pair[1]));
    }
    s
}

/// `bytes` (`N` of them) in lower-case hex, `2N` ASCII digits, without allocating.
pub fn hex_digits<const N: usize, const D: usize>(bytes: &[u8; N]) -> [u8; D] {
    const { assert!(D == 2 * N, "two digits per byte") };
    let mut out = [0u8; D];
    // By index: chunks zipped with the bytes, each pair copied as a slice, cost about
    // 50 instructions a byte at opt-level "z" (a request's first log record writes 24).
    let mut i = 0;
    while i < N {
        let b = bytes[i];
        out[2 * i] = HEX_DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = HEX_DIGITS[usize::from(b & 15)];
        i += 1;
    }
    out
}

fn hex_pair(b: u8) -> [u8; 2] {
    [
        HEX_DIGITS[usize::from(b >> 4)],
        HEX_DIGITS[usize::from(b & 15)],
    ]
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

/// Seeds from the kernel's randomness through std's hash keys (one `getrandom(2)` per
/// thread, the first time it makes a `RandomState`), mixed with time and pid: no file
/// to open at start (`/dev/urandom` cost four system calls of a cold start).
fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(time);
    hasher.write_u32(std::process::id());
    hasher.finish() | 1
}

/// wyrand: fast, well distributed, not for cryptography (ids need uniqueness, not secrecy).
fn next_u64() -> u64 {
    RNG.with(|state| {
        let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let t = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        (t >> 64) as u64 ^ t as u64
    })
}

/// A new random, non-zero trace id.
pub fn new_trace_id() -> TraceId {
    loop {
        // Whole words, not two copies into halves (a call each at opt-level "z").
        let id = u128::from(next_u64()) << 64 | u128::from(next_u64());
        if id != 0 {
            return TraceId(id.to_be_bytes());
        }
    }
}

/// A new id for a stdio connection (`mcp.session.id`): 32 hex digits.
pub fn new_session_id() -> String {
    hex(&new_trace_id().0)
}

/// A new random, non-zero span id.
pub fn new_span_id() -> SpanId {
    loop {
        let id = next_u64();
        if id != 0 {
            return SpanId(id.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_parsing_follows_w3c() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let ctx = parse_traceparent(good).expect("valid");
        assert_eq!(hex(&ctx.trace_id.0), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex(&ctx.span_id.0), "00f067aa0ba902b7");
        let digits: [u8; 32] = hex_digits(&ctx.trace_id.0);
        assert_eq!(
            &digits, b"4bf92f3577b34da6a3ce929d0e0e4736",
            "digits without allocating"
        );
        assert!(ctx.is_sampled() && ctx.is_remote);
        assert_eq!(ctx.traceparent(), good, "round trip");
        let cases = [
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                false,
                "uppercase",
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                false,
                "zero trace id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                false,
                "zero span id",
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                false,
                "version ff",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
                false,
                "v00 trailing data",
            ),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
                true,
                "later version, more fields",
            ),
            (
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
                false,
                "later version needs a dash",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
                false,
                "missing dash",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
                false,
                "short trace id",
            ),
            ("", false, "empty"),
        ];
        for (value, valid, why) in cases {
            assert_eq!(parse_traceparent(value).is_some(), valid, "{why}: {value}");
        }
        let unsampled =
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
                .expect("valid");
        assert!(!unsampled.is_sampled());
    }

    #[test]
    fn tracestate_is_kept_only_when_valid() {
        let meta = |state: &str| {
            let mut m = serde_json::Map::new();
            m.insert(
                "traceparent".into(),
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
            );
            m.insert("tracestate".into(), state.into());
            SpanContext::from_meta(&m)
                .expect("valid parent")
                .trace_state
        };
        assert_eq!(
            meta("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"),
            "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
        );
        assert_eq!(meta("Bad=1"), "", "uppercase key");
        assert_eq!(meta("a=b=c"), "", "= in value");
        let many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(meta(&many.join(",")), "", "more than 32 members");
    }

    #[test]
    fn ids_are_random_and_never_zero() {
        let a = new_trace_id();
        let b = new_trace_id();
        assert_ne!(a, b);
        assert_ne!(a.0, [0; 16]);
        assert_ne!(new_span_id(), new_span_id());
        let seeds: std::collections::HashSet<u64> = (0..8)
            .map(|_| std::thread::spawn(seed).join().expect("seed thread"))
            .chain([seed(), seed()])
            .collect();
        assert_eq!(
            seeds.len(),
            10,
            "every thread, and every call, seeds differently"
        );
    }
}
