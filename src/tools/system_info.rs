//! `system_info`: facts about the host and this process, read from `/proc` and
//! the environment on a blocking thread (never on the executor).

use super::{Annotations, Tool, ToolResult, schema};
use serde_json::{Value, json};
use std::fs;

pub(super) fn tool() -> Tool {
    Tool {
        name: "system_info",
        title: "System information",
        description: "Describe the host this MCP server runs on and the server process: OS, kernel release, CPU architecture, hostname, CPU count, total and available memory, uptime, server version, process id and resident memory, working directory and user.",
        input_schema: schema(
            r#"{"type": "object", "properties": {}, "additionalProperties": false}"#,
        ),
        output_schema: Some(schema(
            r#"{
            "type": "object",
            "properties": {
                "os": {"type": "string"},
                "kernel_release": {"type": ["string", "null"]},
                "architecture": {"type": "string"},
                "hostname": {"type": ["string", "null"]},
                "cpu_count": {"type": "integer"},
                "memory_total_bytes": {"type": ["integer", "null"]},
                "memory_available_bytes": {"type": ["integer", "null"]},
                "uptime_seconds": {"type": ["number", "null"]},
                "server_version": {"type": "string"},
                "pid": {"type": "integer"},
                "rss_bytes": {"type": ["integer", "null"]},
                "working_directory": {"type": ["string", "null"]},
                "user": {"type": ["string", "null"]}
            },
            "required": ["os", "architecture", "cpu_count", "server_version", "pid"]
        }"#,
        )),
        annotations: Annotations {
            read_only: true,
            destructive: false,
            idempotent: false,
            open_world: false,
        },
        handler: |_ctx, _args| {
            Box::pin(async move {
                // `blocking::unblock`: records from the blocking thread keep the request's ids.
                ToolResult::structured(crate::blocking::unblock(collect).await)
            })
        },
    }
}

fn collect() -> Value {
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    json!({
        "os": std::env::consts::OS,
        "kernel_release": read_trimmed("/proc/sys/kernel/osrelease"),
        "architecture": std::env::consts::ARCH,
        "hostname": read_trimmed("/proc/sys/kernel/hostname"),
        "cpu_count": std::thread::available_parallelism().map_or(1, usize::from),
        "memory_total_bytes": kib_field(&meminfo, "MemTotal:"),
        "memory_available_bytes": kib_field(&meminfo, "MemAvailable:"),
        "uptime_seconds": read_trimmed("/proc/uptime")
            .and_then(|s| s.split_whitespace().next().and_then(crate::decimal::parse)),
        "server_version": env!("CARGO_PKG_VERSION"),
        "pid": std::process::id(),
        "rss_bytes": kib_field(&status, "VmRSS:"),
        "working_directory": std::env::current_dir().ok().map(|p| p.display().to_string()),
        "user": user_name(&status),
    })
}

fn read_trimmed(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// A `Name:   1234 kB` line of `/proc/meminfo` or `/proc/self/status`, in bytes.
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}

/// `$USER`, else the name of the real uid in `/etc/passwd`, else `uid N`.
fn user_name(status: &str) -> Option<String> {
    if let Ok(user) = std::env::var("USER") {
        return Some(user);
    }
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .to_string();
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)? == uid).then(|| name.to_string())
    });
    Some(name.unwrap_or_else(|| format!("uid {uid}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_fields_parse() {
        let meminfo = "MemTotal:       16318652 kB\nMemFree:  1 kB\nMemAvailable:   9000 kB\n";
        assert_eq!(kib_field(meminfo, "MemTotal:"), Some(16318652 * 1024));
        assert_eq!(kib_field(meminfo, "MemAvailable:"), Some(9000 * 1024));
        assert_eq!(kib_field(meminfo, "Swap:"), None);
    }

    #[test]
    fn collect_reports_this_process() {
        let info = collect();
        assert_eq!(info["pid"], std::process::id());
        assert!(
            info["rss_bytes"].as_u64().is_some_and(|r| r > 0),
            "rss read from /proc"
        );
        assert!(info["cpu_count"].as_u64().is_some_and(|n| n >= 1));
    }
}
