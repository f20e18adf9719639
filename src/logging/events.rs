//! The spec's `MCPLogger` events, with its exact messages and field names:
//! "MCP request received" (debug only: parameters are redacted and clipped, and
//! tool arguments never reach info level), "MCP request completed" / "MCP
//! request failed", and the lifecycle of the process (start with a masked
//! configuration summary, stop).

use super::record::Field;
use crate::config::Config;
use crate::redact;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::time::Duration;

/// Longest `mcp_params` written, in bytes.
pub const MAX_PARAMS: usize = 1024;

/// "MCP request received" at debug level with `mcp_method` (clipped, as client
/// text is) and `mcp_params` (redacted, clipped to [`MAX_PARAMS`]). Nothing is
/// built when debug is off.
pub fn request_received(method: &str, params: Option<&Map<String, Value>>) {
    if log::Level::Debug > log::max_level() {
        return;
    }
    let params = params.map_or_else(String::new, |params| {
        let mut value = Value::Object(params.clone());
        redact::redact_value(&mut value);
        redact::truncate(&value.to_string(), MAX_PARAMS).into_owned()
    });
    log::debug!(
        mcp_method = crate::jsonrpc::clip(method).as_str(),
        mcp_params = params.as_str();
        "MCP request received"
    );
}

/// "MCP request completed" (info) or, with `error`, "MCP request failed" (error),
/// with `mcp_method` and `duration_ms`. Written for every request, so built
/// without the `log` macros' formatting ([`super::emit_entry`]).
pub fn request_finished(method: &str, duration: Duration, error: Option<&str>) {
    let (level, message) = match error {
        None => (log::Level::Info, "MCP request completed"),
        Some(_) => (log::Level::Error, "MCP request failed"),
    };
    super::emit_entry(level, module_path!(), message, || {
        let mut fields = Vec::with_capacity(3);
        fields.push((
            Cow::Borrowed("mcp_method"),
            Field::Str(Cow::Borrowed(method)),
        ));
        fields.push((Cow::Borrowed("duration_ms"), Field::F64(millis(duration))));
        if let Some(error) = error {
            fields.push((Cow::Borrowed("error"), Field::Str(Cow::Borrowed(error))));
        }
        fields
    });
}

/// The start record: version, the main settings and every non-default setting,
/// written as `validate` shows them (secrets masked). Built as a literal record
/// ([`super::emit_entry`]): it is on the way to the first answer.
pub fn starting(config: &Config) {
    super::emit_entry(
        log::Level::Info,
        module_path!(),
        "tfo-mcp starting on stdio",
        || {
            let mut changed = String::new();
            for (key, value) in config.changed() {
                if !changed.is_empty() {
                    changed.push(' ');
                }
                changed.push_str(key);
                changed.push('=');
                changed.push_str(&value);
            }
            let shown = |key| Field::Str(Cow::Owned(config.shown(key)));
            vec![
                (
                    Cow::Borrowed("version"),
                    Field::Str(Cow::Borrowed(env!("CARGO_PKG_VERSION"))),
                ),
                (
                    Cow::Borrowed("log_level"),
                    shown("TELEMETRYFLOW_MCP_LOG_LEVEL"),
                ),
                (
                    Cow::Borrowed("log_output"),
                    shown("TELEMETRYFLOW_MCP_LOG_OUTPUT"),
                ),
                (
                    Cow::Borrowed("tracing_exporter"),
                    shown("TELEMETRYFLOW_MCP_TRACING_EXPORTER"),
                ),
                (
                    Cow::Borrowed("otlp_logs"),
                    Field::Bool(config.telemetry.logging.otlp_logs),
                ),
                (
                    Cow::Borrowed("max_in_flight"),
                    Field::count(config.server.max_in_flight),
                ),
                (
                    Cow::Borrowed("max_line_bytes"),
                    Field::count(config.server.max_line_bytes),
                ),
                (Cow::Borrowed("config"), Field::Str(Cow::Owned(changed))),
            ]
        },
    );
}

/// The stop record.
pub fn stopped() {
    log::info!("tfo-mcp stopped");
}

/// `duration` in milliseconds: nanoseconds divided once, which `Display` writes as
/// the shortest decimal (`as_secs_f64() * 1000.0` rounds twice and wrote
/// 0.015930000000000003 for 15,930 ns).
fn millis(duration: Duration) -> f64 {
    duration.as_nanos() as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_as_short_decimals() {
        for (nanos, text) in [
            (15_930, "0.01593"),
            (1_000_000, "1"),
            (2_500_123_000, "2500.123"),
        ] {
            assert_eq!(
                millis(Duration::from_nanos(nanos)).to_string(),
                text,
                "{nanos} ns"
            );
        }
    }
}
