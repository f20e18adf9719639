//! When to try a failed call again, and how long to wait first: the official
//! SDKs' policy (notes/anthropic-messages-api.md §2) bounded by the call's deadline.
//!
//! Retried: 408, 409, 429, 500, 502, 503, 504, 529 and connection failures;
//! `x-should-retry` overrides the status; a 429 for the monthly spend cap is not
//! retried (it lasts until the cap resets). The wait is the server's
//! `retry-after-ms` / `retry-after` when given (refused above 60 s: fail fast),
//! otherwise `min(0.5 s · 2^n, 8 s)` less up to 25 % jitter. A wait that would end
//! past the deadline is not taken.

use std::time::{Duration, Instant};

/// First backoff (no `retry-after`).
const FIRST: Duration = Duration::from_millis(500);
/// Longest backoff (no `retry-after`).
const MAX: Duration = Duration::from_secs(8);
/// Longest `retry-after` honoured; beyond it the call fails at once.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Whether an HTTP status may succeed when tried again.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 409 | 429 | 500 | 502 | 503 | 504 | 529)
}

/// The retry decision for an error response: `x-should-retry` first, then the status;
/// the spend-cap 429 never.
pub fn should_retry(status: u16, should_retry_header: Option<&str>, spend_cap: bool) -> bool {
    match should_retry_header.map(str::trim) {
        Some("true") => true,
        Some("false") => false,
        _ => retryable_status(status) && !spend_cap,
    }
}

/// The backoff before retry number `retry` (0 for the first), with `jitter` in [0, 1).
pub fn backoff(retry: u32, jitter: f64) -> Duration {
    let base = FIRST.saturating_mul(1u32 << retry.min(10)).min(MAX);
    base.mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0))
}

/// A jitter value in [0, 1) from the process's id generator (no `rand` crate).
pub fn jitter() -> f64 {
    let id = crate::telemetry::new_session_id();
    let byte = id.get(..2).and_then(|h| u8::from_str_radix(h, 16).ok());
    f64::from(byte.unwrap_or(0)) / 256.0
}

/// Why a retry is not taken, or how long to wait before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then try again.
    Wait(Duration),
    /// The error is final.
    Final,
    /// Every retry is used up.
    Exhausted,
    /// The wait would end past the deadline.
    NoTimeLeft,
    /// The server asked for a wait longer than [`MAX_RETRY_AFTER`].
    WaitTooLong(Duration),
}

/// What to do after failed attempt number `retries + 1`.
pub fn decide(
    retryable: bool,
    retries: u32,
    max_retries: u32,
    hint: Option<Duration>,
    now: Instant,
    deadline: Instant,
) -> Decision {
    if !retryable {
        return Decision::Final;
    }
    if retries >= max_retries {
        return Decision::Exhausted;
    }
    let wait = match hint {
        Some(hint) if hint > MAX_RETRY_AFTER => return Decision::WaitTooLong(hint),
        Some(hint) => hint,
        None => backoff(retries, jitter()),
    };
    if now + wait >= deadline {
        Decision::NoTimeLeft
    } else {
        Decision::Wait(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_set_is_the_sdks() {
        let retried = [408, 409, 429, 500, 502, 503, 504, 529];
        for status in 100..=599 {
            assert_eq!(
                retryable_status(status),
                retried.contains(&status),
                "status {status}"
            );
        }
        assert!(!should_retry(429, None, true), "spend cap is final");
        assert!(
            should_retry(400, Some("true"), false),
            "x-should-retry: true wins"
        );
        assert!(
            !should_retry(529, Some(" false"), false),
            "x-should-retry: false wins"
        );
        assert!(
            should_retry(529, Some("maybe"), false),
            "garbage header: the status decides"
        );
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_at_most_a_quarter_off() {
        let expected = [500, 1000, 2000, 4000, 8000, 8000, 8000];
        for (retry, ms) in expected.iter().enumerate() {
            let retry = retry as u32;
            assert_eq!(
                backoff(retry, 0.0),
                Duration::from_millis(*ms),
                "retry {retry}"
            );
            assert_eq!(
                backoff(retry, 1.0),
                Duration::from_millis(*ms * 3 / 4),
                "retry {retry} full jitter"
            );
        }
        assert_eq!(backoff(40, 0.0), MAX, "no overflow far out");
        for _ in 0..100 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j), "jitter {j}");
        }
    }

    #[test]
    fn decisions_respect_the_budget_and_the_deadline() {
        let now = Instant::now();
        let later = now + Duration::from_secs(10);
        let s = Duration::from_secs;
        assert_eq!(decide(false, 0, 2, None, now, later), Decision::Final);
        assert_eq!(decide(true, 2, 2, None, now, later), Decision::Exhausted);
        assert_eq!(
            decide(true, 0, 2, Some(s(1)), now, later),
            Decision::Wait(s(1))
        );
        assert_eq!(
            decide(true, 0, 2, Some(s(10)), now, later),
            Decision::NoTimeLeft
        );
        assert_eq!(
            decide(true, 0, 2, Some(s(61)), now, now + s(600)),
            Decision::WaitTooLong(s(61))
        );
        match decide(true, 1, 2, None, now, later) {
            Decision::Wait(w) => assert!(w > Duration::from_millis(740) && w <= s(1), "{w:?}"),
            other => panic!("expected a backoff, got {other:?}"),
        }
    }
}
