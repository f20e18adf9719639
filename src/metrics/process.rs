//! The standard `process_*` metrics, read from `/proc` at collection time
//! (Prometheus "writing client libraries", process metrics). A value that cannot
//! be read is left out rather than reported as a guess.

use std::fs;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Readings are reused this long: a burst of scrapes reads `/proc` once.
const CACHE_FOR: Duration = Duration::from_secs(1);

/// Clock ticks per second of `/proc/*/stat` times. It is 100 on practically every
/// Linux (USER_HZ); procfs and client_golang hardcode it too, and reading
/// `sysconf(_SC_CLK_TCK)` would take `libc` and `unsafe`.
const USER_HZ: f64 = 100.0;

/// What `/proc` says about this process now.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ProcessStats {
    pub(crate) cpu_seconds: Option<f64>,
    pub(crate) resident_bytes: Option<u64>,
    pub(crate) start_time_seconds: Option<f64>,
    pub(crate) open_fds: Option<u64>,
    pub(crate) max_fds: Option<u64>,
}

impl ProcessStats {
    /// This process's figures, read at most once per [`CACHE_FOR`].
    pub(crate) fn cached() -> ProcessStats {
        static CACHE: Mutex<Option<(Instant, ProcessStats)>> = Mutex::new(None);
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        match &*cache {
            Some((at, stats)) if at.elapsed() < CACHE_FOR => stats.clone(),
            _ => {
                let stats = ProcessStats::read();
                *cache = Some((Instant::now(), stats.clone()));
                stats
            }
        }
    }

    /// Reads this process's figures.
    pub(crate) fn read() -> ProcessStats {
        let stat = fs::read_to_string("/proc/self/stat").ok();
        let stat = stat.as_deref().and_then(parse_stat);
        // It never changes: /proc/stat (large on many-core hosts) is read once.
        static START: OnceLock<Option<f64>> = OnceLock::new();
        let start = *START.get_or_init(|| {
            let btime = fs::read_to_string("/proc/stat")
                .ok()
                .and_then(|s| parse_btime(&s))?;
            Some(btime as f64 + stat?.starttime as f64 / USER_HZ)
        });
        let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
        ProcessStats {
            cpu_seconds: stat.map(|s| (s.utime + s.stime) as f64 / USER_HZ),
            resident_bytes: vm_rss_bytes(&status),
            start_time_seconds: start,
            // The directory handle used for listing is counted, as in client_golang.
            open_fds: fs::read_dir("/proc/self/fd")
                .ok()
                .map(|dir| dir.count() as u64),
            max_fds: fs::read_to_string("/proc/self/limits")
                .ok()
                .and_then(|s| parse_max_open_files(&s)),
        }
    }
}

/// Fields of `/proc/self/stat` we use (proc(5) numbering: 14, 15, 22).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat {
    utime: u64,
    stime: u64,
    starttime: u64,
}

/// `comm` (field 2) may hold spaces and `)`: split at the last `)`; field k >= 3
/// is then token k - 3 of the rest.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let tokens: Vec<&str> = rest.split_whitespace().collect();
    let field = |k: usize| tokens.get(k - 3)?.parse::<u64>().ok();
    Some(Stat {
        utime: field(14)?,
        stime: field(15)?,
        starttime: field(22)?,
    })
}

/// `btime <seconds>` of `/proc/stat`: boot time since the Unix epoch.
fn parse_btime(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// `VmRSS:  1234 kB` of `/proc/self/status`, in bytes (no page size needed).
fn vm_rss_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// The soft limit of the `Max open files` row of `/proc/self/limits`.
fn parse_max_open_files(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_texts_parse() {
        // comm with a space and a parenthesis, as a process may name itself.
        let stat = "4242 (tfo (mcp) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    250 50 0 0 20 0 3 0 123456 10000000 900 18446744073709551615";
        assert_eq!(
            parse_stat(stat),
            Some(Stat {
                utime: 250,
                stime: 50,
                starttime: 123456
            }),
            "fields 14, 15, 22 after the last ')'"
        );
        assert_eq!(parse_stat("1 (x) S 1"), None, "truncated stat");
        assert_eq!(
            parse_btime("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"),
            Some(1_700_000_000)
        );
        assert_eq!(
            vm_rss_bytes("Name:\tx\nVmRSS:\t    5120 kB\n"),
            Some(5120 * 1024)
        );
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_open_files(limits), Some(1024));
    }

    #[test]
    fn this_process_is_readable() {
        let stats = ProcessStats::read();
        assert!(stats.resident_bytes.is_some_and(|b| b > 0), "{stats:?}");
        assert!(stats.open_fds.is_some_and(|n| n >= 3), "{stats:?}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64();
        assert!(
            stats
                .start_time_seconds
                .is_some_and(|t| t > now - 86_400.0 * 365.0 && t <= now + 1.0),
            "start time is a recent Unix time: {stats:?}"
        );
    }
}
