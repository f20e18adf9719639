//! Health: named checks, the spec's status rules and its `HealthReport`, served by
//! `GET /health`, the `health_check` tool and (at merge) the `status://health`
//! resource, so that clients see what SREs see.
//!
//! A check is either live (run on every report: it must only read shared state,
//! such as the exporter's last outcome) or background (run on its own thread every
//! interval, its last result cached), so that a report never waits on the network.
//! Status rules: a failing *critical* check (the stdio loop) makes the server
//! unhealthy; any other check that is not healthy makes it degraded, as the spec's
//! `HealthChecker` does for Claude.

use serde_json::{Map, Value, json};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// The spec's `HealthStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Working as intended.
    Healthy,
    /// Serving, with a dependency failing.
    Degraded,
    /// Not serving.
    Unhealthy,
}

impl Status {
    /// `healthy`, `degraded` or `unhealthy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Healthy => "healthy",
            Status::Degraded => "degraded",
            Status::Unhealthy => "unhealthy",
        }
    }
}

/// The spec's `CheckResult`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// The check's verdict.
    pub status: Status,
    /// What was found (never a secret).
    pub message: Option<String>,
    /// How long the check took.
    pub duration_ms: Option<f64>,
}

impl CheckResult {
    /// A healthy result saying `message`.
    pub fn healthy(message: impl Into<String>) -> CheckResult {
        CheckResult::new(Status::Healthy, message)
    }

    /// A degraded result saying `message`.
    pub fn degraded(message: impl Into<String>) -> CheckResult {
        CheckResult::new(Status::Degraded, message)
    }

    /// An unhealthy result saying `message`.
    pub fn unhealthy(message: impl Into<String>) -> CheckResult {
        CheckResult::new(Status::Unhealthy, message)
    }

    fn new(status: Status, message: impl Into<String>) -> CheckResult {
        CheckResult {
            status,
            message: Some(message.into()),
            duration_ms: None,
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "status": self.status.as_str(),
            "message": self.message,
            "duration_ms": self.duration_ms,
        })
    }
}

/// What a failing check does to the overall status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impact {
    /// Unhealthy check, unhealthy server (the stdio loop).
    Critical,
    /// Any non-healthy result makes the server degraded at worst (exporters, Claude).
    Degrades,
}

/// The spec's `HealthReport`.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthReport {
    /// Overall status.
    pub status: Status,
    /// When the report was made, RFC 3339 UTC.
    pub timestamp: String,
    /// Each check by name, in name order.
    pub checks: Vec<(String, CheckResult)>,
    /// The server version.
    pub version: String,
}

impl HealthReport {
    /// The report as JSON: `{status, timestamp, checks: {name: CheckResult}, version}`.
    pub fn to_json(&self) -> Value {
        let checks: Map<String, Value> = self
            .checks
            .iter()
            .map(|(name, result)| (name.clone(), result.to_json()))
            .collect();
        json!({
            "status": self.status.as_str(),
            "timestamp": self.timestamp,
            "checks": checks,
            "version": self.version,
        })
    }

    /// 200 when healthy or degraded (still serving), 503 when unhealthy.
    pub fn http_status(&self) -> u16 {
        match self.status {
            Status::Unhealthy => 503,
            _ => 200,
        }
    }
}

type LiveCheck = Box<dyn Fn() -> CheckResult + Send + Sync>;

enum Source {
    Live(LiveCheck),
    Cached(Arc<Mutex<CheckResult>>),
}

struct Check {
    name: String,
    impact: Impact,
    source: Source,
}

/// The server's checks. Shared (`Arc`) by the HTTP endpoint, tools and resources.
pub struct Health {
    version: String,
    checks: RwLock<Vec<Check>>,
    /// Set at shutdown; background checks wait on the condvar between runs.
    stopped: Arc<(Mutex<bool>, Condvar)>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let checks = self.checks.read().unwrap_or_else(PoisonError::into_inner);
        let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
        f.debug_struct("Health")
            .field("version", &self.version)
            .field("checks", &names)
            .finish()
    }
}

impl Health {
    /// No checks yet; reports say `version`.
    pub fn new(version: impl Into<String>) -> Arc<Health> {
        Arc::new(Health {
            version: version.into(),
            checks: RwLock::new(Vec::new()),
            stopped: Arc::new((Mutex::new(false), Condvar::new())),
        })
    }

    /// Adds a live check, run on every report: it must only read shared state.
    /// A check registered again under the same name replaces the old one.
    pub fn register(
        &self,
        name: &str,
        impact: Impact,
        check: impl Fn() -> CheckResult + Send + Sync + 'static,
    ) {
        self.add(name, impact, Source::Live(Box::new(check)));
    }

    /// Adds a check that runs on its own thread now and then every `interval`;
    /// reports show its last result, so a slow check never makes a report slow.
    /// Until the first run ends the check is `degraded` ("not checked yet"). Its
    /// failures degrade the server, never make it unhealthy (the spec's rule for
    /// Claude). The thread stops at [`Health::stop`].
    pub fn register_background(
        &self,
        name: &str,
        interval: Duration,
        check: Box<dyn Fn() -> CheckResult + Send>,
    ) {
        let cache = Arc::new(Mutex::new(CheckResult::degraded("not checked yet")));
        self.add(name, Impact::Degrades, Source::Cached(Arc::clone(&cache)));
        let stopped = Arc::clone(&self.stopped);
        let spawned = crate::threads::spawn(format!("health-{name}"), move || {
            loop {
                let result = timed(&*check);
                *cache.lock().unwrap_or_else(PoisonError::into_inner) = result;
                let (lock, wake) = &*stopped;
                let stop = lock.lock().unwrap_or_else(PoisonError::into_inner);
                let (stop, _) = wake
                    .wait_timeout_while(stop, interval, |stop| !*stop)
                    .unwrap_or_else(PoisonError::into_inner);
                if *stop {
                    return;
                }
            }
        });
        if let Err(e) = spawned {
            log::error!(check = name, error:% = e; "cannot start a background health check");
        }
    }

    fn add(&self, name: &str, impact: Impact, source: Source) {
        let mut checks = self.checks.write().unwrap_or_else(PoisonError::into_inner);
        checks.retain(|c| c.name != name);
        checks.push(Check {
            name: name.to_string(),
            impact,
            source,
        });
        crate::sort::small_sort_by(&mut checks, |a, b| a.name.cmp(&b.name));
    }

    /// Ends the background checks' threads.
    pub fn stop(&self) {
        let (lock, wake) = &*self.stopped;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
    }

    /// Runs the live checks, reads the cached ones, and applies the status rules.
    pub fn report(&self) -> HealthReport {
        let checks = self.checks.read().unwrap_or_else(PoisonError::into_inner);
        let mut status = Status::Healthy;
        let mut results = Vec::with_capacity(checks.len());
        for check in checks.iter() {
            let result = match &check.source {
                Source::Live(f) => timed(f),
                Source::Cached(cache) => {
                    cache.lock().unwrap_or_else(PoisonError::into_inner).clone()
                }
            };
            let effect = match (check.impact, result.status) {
                (_, Status::Healthy) => Status::Healthy,
                (Impact::Critical, Status::Unhealthy) => Status::Unhealthy,
                _ => Status::Degraded,
            };
            status = status.max(effect);
            results.push((check.name.clone(), result));
        }
        HealthReport {
            status,
            timestamp: crate::logging::rfc3339_now(),
            checks: results,
            version: self.version.clone(),
        }
    }
}

/// Runs `check`, filling in its duration when it did not say.
fn timed(check: &dyn Fn() -> CheckResult) -> CheckResult {
    let started = Instant::now();
    let mut result = check();
    result
        .duration_ms
        .get_or_insert(started.elapsed().as_secs_f64() * 1000.0);
    result
}

/// Liveness of the stdio loop: the executor stamps it every second while it runs;
/// a stamp older than [`StdioProbe::STALL`] means something blocks the executor.
#[derive(Debug)]
pub struct StdioProbe {
    started: Instant,
    /// Milliseconds since `started` at the last stamp.
    last_tick_ms: std::sync::atomic::AtomicU64,
    draining: std::sync::atomic::AtomicBool,
}

impl StdioProbe {
    /// How often the executor stamps the probe.
    pub const TICK: Duration = Duration::from_secs(1);
    /// A stamp this old makes the loop unhealthy.
    pub const STALL: Duration = Duration::from_secs(5);

    /// A probe stamped now.
    pub fn new() -> Arc<StdioProbe> {
        Arc::new(StdioProbe {
            started: Instant::now(),
            last_tick_ms: Default::default(),
            draining: Default::default(),
        })
    }

    /// The executor is alive.
    pub fn tick(&self) {
        let ms = self.started.elapsed().as_millis() as u64;
        self.last_tick_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Input ended or a signal came: the server is finishing its last requests.
    pub fn set_draining(&self) {
        self.draining
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// The check: healthy while the loop runs and stamps; unhealthy when stalled or shutting down.
    pub fn check(&self) -> CheckResult {
        use std::sync::atomic::Ordering::Relaxed;
        if self.draining.load(Relaxed) {
            return CheckResult::unhealthy("shutting down: input closed or signal received");
        }
        let now = self.started.elapsed().as_millis() as u64;
        let age = Duration::from_millis(now.saturating_sub(self.last_tick_ms.load(Relaxed)));
        if age > Self::STALL {
            CheckResult::unhealthy(format!(
                "the stdio loop has not run for {:.1} s",
                age.as_secs_f64()
            ))
        } else {
            CheckResult::healthy("serving MCP on stdio")
        }
    }
}

/// The trace (or metrics push) exporter check: degraded while exports fail, with the
/// last error and its time.
pub fn exporter_check(stats: &crate::telemetry::ExportStats, what: &str) -> CheckResult {
    let last = stats.last();
    match (&last.failing_since, &last.last_error) {
        (Some(since), Some((reason, at))) => CheckResult::degraded(format!(
            "{what} failing since {}; last error at {}: {reason}",
            crate::logging::rfc3339_at(*since),
            crate::logging::rfc3339_at(*at),
        )),
        _ => match last.last_success {
            Some(at) => CheckResult::healthy(format!(
                "{what}: last export succeeded at {}",
                crate::logging::rfc3339_at(at)
            )),
            None => CheckResult::healthy(format!("{what}: nothing exported yet")),
        },
    }
}

/// How long a critical error is named in the `errors` check.
pub const CRITICAL_WINDOW: std::time::Duration = std::time::Duration::from_secs(300);

/// The `errors` check: the error tracker's recent errors summarised by type (most
/// frequent first), naming a critical error younger than [`CRITICAL_WINDOW`]. It is
/// informational and always healthy: the failing dependency's own check (the OTLP
/// exporter, Claude) degrades the report, and recovers with it.
pub fn errors_check(recent: &[crate::logging::ErrorSummary], now_unix_ms: u64) -> CheckResult {
    if recent.is_empty() {
        return CheckResult::healthy("no failed operations");
    }
    let mut by_count: Vec<&crate::logging::ErrorSummary> = recent.iter().collect();
    crate::sort::small_sort_by(&mut by_count, |a, b| {
        b.count.cmp(&a.count).then(a.error_type.cmp(&b.error_type))
    });
    let mut summary = String::from("failed operations by type: ");
    for (n, e) in by_count.iter().enumerate() {
        if n > 0 {
            summary.push_str(", ");
        }
        summary.push_str(&format!("{} {}", e.error_type, e.count));
    }
    let window = CRITICAL_WINDOW.as_millis() as u64;
    let critical = recent
        .iter()
        .filter(|e| e.critical && now_unix_ms.saturating_sub(e.last_seen_unix_ms) < window)
        .max_by_key(|e| e.last_seen_unix_ms);
    match critical {
        Some(e) => CheckResult::healthy(format!(
            "{summary}; critical {} {} s ago in {}: {}",
            e.error_type,
            now_unix_ms.saturating_sub(e.last_seen_unix_ms) / 1000,
            e.last_operation,
            e.last_message
        )),
        None => CheckResult::healthy(summary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_check_summarises_by_type_and_names_a_recent_critical() {
        let e = |t: &str, count, critical, seen| crate::logging::ErrorSummary {
            error_type: t.into(),
            count,
            critical,
            last_operation: "tools/call".into(),
            last_message: "boom".into(),
            last_seen_unix_ms: seen,
        };
        let now = 1_000_000_000;
        let calm = errors_check(&[], now);
        assert_eq!(calm.status, Status::Healthy, "no errors: healthy");
        let mixed = errors_check(
            &[
                e("ToolError", 1, false, now),
                e("InvalidParams", 3, false, now),
            ],
            now,
        );
        assert_eq!(
            mixed.status,
            Status::Healthy,
            "ordinary errors do not degrade"
        );
        assert_eq!(
            mixed.message.as_deref(),
            Some("failed operations by type: InvalidParams 3, ToolError 1"),
            "most frequent first"
        );
        let fresh = errors_check(&[e("AuthenticationError", 1, true, now - 2_000)], now);
        assert_eq!(
            fresh.status,
            Status::Healthy,
            "informational: the dependency's own check degrades"
        );
        assert!(
            fresh
                .message
                .as_deref()
                .is_some_and(|m| m.contains("critical AuthenticationError 2 s ago")),
            "{:?}",
            fresh.message
        );
        let window = CRITICAL_WINDOW.as_millis() as u64;
        let old = errors_check(&[e("AuthenticationError", 1, true, now - window - 1)], now);
        assert_eq!(
            old.status,
            Status::Healthy,
            "an old critical error no longer degrades"
        );
    }

    #[test]
    fn status_rules() {
        let table: &[(&[(Impact, Status)], Status)] = &[
            (&[], Status::Healthy),
            (
                &[
                    (Impact::Critical, Status::Healthy),
                    (Impact::Degrades, Status::Healthy),
                ],
                Status::Healthy,
            ),
            (
                &[
                    (Impact::Critical, Status::Healthy),
                    (Impact::Degrades, Status::Unhealthy),
                ],
                Status::Degraded,
            ),
            (&[(Impact::Critical, Status::Degraded)], Status::Degraded),
            (
                &[
                    (Impact::Critical, Status::Unhealthy),
                    (Impact::Degrades, Status::Degraded),
                ],
                Status::Unhealthy,
            ),
        ];
        for (checks, want) in table {
            let health = Health::new("1.0");
            for (i, &(impact, status)) in checks.iter().enumerate() {
                health.register(&format!("c{i}"), impact, move || CheckResult {
                    status,
                    message: None,
                    duration_ms: None,
                });
            }
            let report = health.report();
            assert_eq!(report.status, *want, "{checks:?}");
            assert_eq!(
                report.http_status(),
                if *want == Status::Unhealthy { 503 } else { 200 }
            );
        }
    }

    #[test]
    fn report_json_has_the_spec_shape() {
        let health = Health::new("9.9.9");
        health.register("b", Impact::Degrades, || CheckResult::degraded("slow"));
        health.register("a", Impact::Critical, || CheckResult::healthy("ok"));
        let json = health.report().to_json();
        assert_eq!(json["status"], "degraded");
        assert_eq!(json["version"], "9.9.9");
        assert_eq!(json["checks"]["a"]["status"], "healthy");
        assert_eq!(json["checks"]["b"]["message"], "slow");
        assert!(json["checks"]["b"]["duration_ms"].is_number());
        let ts = json["timestamp"].as_str().expect("timestamp");
        assert!(ts.ends_with('Z') && ts.len() == 24, "RFC 3339 UTC: {ts}");
    }

    #[test]
    fn background_checks_are_cached_and_never_slow_a_report() {
        let health = Health::new("1");
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = Mutex::new(rx);
        health.register_background(
            "slow",
            Duration::from_millis(10),
            Box::new(move || {
                // Blocks until the test lets it finish.
                let _ = rx
                    .lock()
                    .expect("lock")
                    .recv_timeout(Duration::from_secs(5));
                CheckResult::unhealthy("dependency down")
            }),
        );
        let started = Instant::now();
        let report = health.report();
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "not waited for"
        );
        assert_eq!(
            report.checks[0].1.message.as_deref(),
            Some("not checked yet")
        );
        assert_eq!(report.status, Status::Degraded);
        tx.send(()).expect("check running");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let report = health.report();
            if report.checks[0].1.message.as_deref() == Some("dependency down") {
                assert_eq!(
                    report.status,
                    Status::Degraded,
                    "a background failure degrades"
                );
                break;
            }
            assert!(Instant::now() < deadline, "the cached result was refreshed");
            std::thread::sleep(Duration::from_millis(5));
        }
        health.stop();
        drop(tx);
    }

    #[test]
    fn stdio_probe_turns_unhealthy_when_draining() {
        let probe = StdioProbe::new();
        probe.tick();
        assert_eq!(probe.check().status, Status::Healthy);
        probe.set_draining();
        assert_eq!(probe.check().status, Status::Unhealthy);
    }

    #[test]
    fn exporter_check_follows_the_last_outcome() {
        let stats = crate::telemetry::ExportStats::default();
        assert_eq!(exporter_check(&stats, "x").status, Status::Healthy);
        stats.record_failure("HTTP 503");
        let failing = exporter_check(&stats, "x");
        assert_eq!(failing.status, Status::Degraded);
        assert!(
            failing
                .message
                .as_deref()
                .is_some_and(|m| m.contains("HTTP 503"))
        );
        stats.record_success();
        assert_eq!(exporter_check(&stats, "x").status, Status::Healthy);
    }
}
