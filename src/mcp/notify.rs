//! Messages the server sends on its own initiative (progress, log notifications)
//! share the outbox with responses; log notifications are rate limited with a
//! token bucket so that a chatty server cannot flood its client.

use super::loglevel::LogLevel;
use crate::jsonrpc;
use crate::metrics::{Direction, Metrics};
use serde_json::{Value, json};
use smol::channel::Sender;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Instant;

/// The outbox for notifications, with the log-notification rate limit.
#[derive(Debug)]
pub struct Notifier {
    out: Sender<String>,
    bucket: RefCell<TokenBucket>,
    dropped: Cell<u64>,
    /// Sizes every outgoing line, counts dropped log notifications.
    metrics: Arc<Metrics>,
}

impl Notifier {
    /// `rate_per_second` log notifications at most (bursts of the same size); 0 sends none.
    pub fn new(out: Sender<String>, rate_per_second: u32, metrics: Arc<Metrics>) -> Notifier {
        Notifier {
            out,
            bucket: RefCell::new(TokenBucket::new(rate_per_second, Instant::now())),
            dropped: Cell::new(0),
            metrics,
        }
    }

    /// Queues one encoded line, waiting while the outbox is full.
    pub async fn send(&self, line: String) {
        self.metrics
            .record_message_size(Direction::Response, line.len());
        // A closed outbox means the writer is gone (stdout closed): nothing left to tell.
        let _ = self.out.send(line).await;
    }

    /// Sends `notifications/message` (redacted) if the rate limit allows, else counts it
    /// as dropped and says so in the log at 1, 2, 4, 8 ... drops. That record is never
    /// forwarded to the client (`logging` skips this module): no notification loop.
    pub async fn log(&self, level: LogLevel, logger: &str, mut data: Value) {
        if !self.bucket.borrow_mut().take(Instant::now()) {
            let dropped = self.dropped.get() + 1;
            self.dropped.set(dropped);
            self.metrics.record_log_notification_dropped();
            if dropped.is_power_of_two() {
                log::warn!(dropped = dropped; "log notifications dropped by the rate limit");
            }
            return;
        }
        crate::redact::redact_value(&mut data);
        let params = json!({"level": level.as_str(), "logger": logger, "data": data});
        self.send(jsonrpc::encode_notification(
            "notifications/message",
            &params,
        ))
        .await;
    }

    /// Log notifications dropped by the rate limit so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.get()
    }
}

#[derive(Debug)]
struct TokenBucket {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: u32, now: Instant) -> TokenBucket {
        TokenBucket {
            rate: f64::from(rate),
            tokens: f64::from(rate),
            last: now,
        }
    }

    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bucket_allows_a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(3, t0);
        let burst: Vec<bool> = (0..5).map(|_| bucket.take(t0)).collect();
        assert_eq!(
            burst,
            [true, true, true, false, false],
            "burst is capped at the rate"
        );
        assert!(
            bucket.take(t0 + Duration::from_millis(340)),
            "one token back after 1/3 s"
        );
        assert!(!bucket.take(t0 + Duration::from_millis(340)));
        let mut off = TokenBucket::new(0, t0);
        assert!(
            !off.take(t0 + Duration::from_secs(60)),
            "rate 0 never sends"
        );
    }
}
