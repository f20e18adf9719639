//! The catalog through the public API: what a session's recordings look like in
//! both views.

use super::*;

fn lines_with(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

#[test]
fn slow_requests_of_unknown_methods_count_as_other() {
    let m = Metrics::new(DEFAULT_MAX_SERIES);
    m.record_slow_request("tools/call");
    m.record_slow_request("Bearer sk-ant-not-a-method");
    m.record_slow_request("no/such/method");
    let text = m.render(Format::Text);
    assert_eq!(
        lines_with(&text, "mcp_slow_requests_total{"),
        [
            "mcp_slow_requests_total{operation=\"other\"} 2",
            "mcp_slow_requests_total{operation=\"tools/call\"} 1"
        ],
        "no client text as a label: {text}"
    );
}

#[test]
fn a_session_renders_with_the_spec_names_labels_and_buckets() {
    let m = Metrics::new(DEFAULT_MAX_SERIES);
    m.record_session_created();
    m.record_message("initialize", "success");
    m.record_message("tools/call", "success");
    m.record_message("tools/call", "error");
    m.record_message("no/such/method", "error");
    m.record_message_size(Direction::Request, 100);
    m.record_message_size(Direction::Response, 5_000_000);
    m.record_tool_call("echo", 0.003, false);
    m.record_tool_call("echo", 0.2, true);
    m.record_claude_request("claude-x", 1.5, 10, 20, false);
    m.record_slow_request("tools/call");
    m.record_critical_error("AuthenticationError");
    m.record_session_closed(42.0);
    let text = m.render(Format::Text);
    let expect = [
        ("mcp_sessions_active ", vec!["mcp_sessions_active 0"]),
        ("mcp_sessions_total ", vec!["mcp_sessions_total 1"]),
        (
            "mcp_session_duration_seconds_bucket{le=\"60\"}",
            vec!["mcp_session_duration_seconds_bucket{le=\"60\"} 1"],
        ),
        (
            "mcp_tool_calls_total{",
            vec![
                "mcp_tool_calls_total{tool_name=\"echo\",status=\"error\"} 1",
                "mcp_tool_calls_total{tool_name=\"echo\",status=\"success\"} 1",
            ],
        ),
        (
            "mcp_tool_call_duration_seconds_count",
            vec!["mcp_tool_call_duration_seconds_count{tool_name=\"echo\"} 2"],
        ),
        (
            "mcp_tool_call_duration_seconds_bucket{tool_name=\"echo\",le=\"0.01\"}",
            vec!["mcp_tool_call_duration_seconds_bucket{tool_name=\"echo\",le=\"0.01\"} 1"],
        ),
        (
            "claude_tokens_total",
            vec![
                "claude_tokens_total{model=\"claude-x\",type=\"input\"} 10",
                "claude_tokens_total{model=\"claude-x\",type=\"output\"} 20",
            ],
        ),
        (
            "mcp_messages_total",
            vec![
                "mcp_messages_total{method=\"initialize\",status=\"success\"} 1",
                "mcp_messages_total{method=\"other\",status=\"error\"} 1",
                "mcp_messages_total{method=\"tools/call\",status=\"error\"} 1",
                "mcp_messages_total{method=\"tools/call\",status=\"success\"} 1",
            ],
        ),
        (
            "mcp_message_size_bytes_count",
            vec![
                "mcp_message_size_bytes_count{direction=\"request\"} 1",
                "mcp_message_size_bytes_count{direction=\"response\"} 1",
            ],
        ),
        (
            "mcp_message_size_bytes_bucket{direction=\"response\",le=\"+Inf\"}",
            vec!["mcp_message_size_bytes_bucket{direction=\"response\",le=\"+Inf\"} 1"],
        ),
        (
            "mcp_slow_requests_total",
            vec!["mcp_slow_requests_total{operation=\"tools/call\"} 1"],
        ),
        (
            "mcp_critical_errors_total",
            vec!["mcp_critical_errors_total{error_type=\"AuthenticationError\"} 1"],
        ),
    ];
    for (prefix, want) in expect {
        assert_eq!(lines_with(&text, prefix), want, "{prefix} in\n{text}");
    }
    for (name, help, kind) in [
        (
            "mcp_sessions_active",
            "Number of active MCP sessions",
            "gauge",
        ),
        (
            "mcp_sessions_total",
            "Total number of MCP sessions created",
            "counter",
        ),
        (
            "mcp_session_duration_seconds",
            "Duration of MCP sessions",
            "histogram",
        ),
        (
            "mcp_tool_calls_total",
            "Total number of tool calls",
            "counter",
        ),
        (
            "mcp_tool_call_duration_seconds",
            "Duration of tool calls",
            "histogram",
        ),
        (
            "claude_requests_total",
            "Total number of Claude API requests",
            "counter",
        ),
        (
            "claude_request_duration_seconds",
            "Duration of Claude API requests",
            "histogram",
        ),
        (
            "claude_tokens_total",
            "Total Claude API tokens used",
            "counter",
        ),
        (
            "mcp_messages_total",
            "Total MCP messages processed",
            "counter",
        ),
        (
            "mcp_message_size_bytes",
            "Size of MCP messages",
            "histogram",
        ),
    ] {
        let help_line = format!("# HELP {name} {help}");
        let type_line = format!("# TYPE {name} {kind}");
        assert_eq!(
            text.lines().filter(|l| *l == help_line).count(),
            1,
            "one HELP for {name}"
        );
        assert_eq!(
            text.lines().filter(|l| *l == type_line).count(),
            1,
            "one TYPE for {name}"
        );
    }
    let buckets: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("mcp_session_duration_seconds_bucket"))
        .map(|l| l.split('"').nth(1).expect("le value"))
        .collect();
    assert_eq!(
        buckets,
        [
            "1", "5", "10", "30", "60", "300", "600", "1800", "3600", "+Inf"
        ],
        "the spec's session buckets"
    );
    assert!(text.contains("tfo_mcp_build_info{version=\""), "build info");
    for name in [
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "process_start_time_seconds ",
        "process_open_fds ",
    ] {
        assert_eq!(lines_with(&text, name).len(), 1, "{name}");
    }
}

#[test]
fn every_family_is_one_contiguous_block() {
    let m = Metrics::new(DEFAULT_MAX_SERIES);
    m.record_tool_call("b", 1.0, false);
    m.record_tool_call("a", 1.0, true);
    m.attach_trace_export(Arc::new(ExportStats::default()));
    let text = m.render(Format::Text);
    let mut seen: Vec<&str> = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).expect("name");
        assert!(!seen.contains(&name), "TYPE {name} twice");
        seen.push(name);
    }
    let mut last_family = "";
    let mut closed: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().expect("name");
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| seen.contains(f)))
            .unwrap_or(name);
        if family != last_family {
            assert!(!closed.iter().any(|c| c == family), "{family} interleaved");
            closed.push(last_family.to_string());
            last_family = family;
        }
    }
    assert!(
        text.contains("tfo_mcp_otlp_spans_exported_total 0"),
        "exporter self-metrics"
    );
}

#[test]
fn unknown_label_values_fold_into_overflow_at_the_cap() {
    let m = Metrics::new(5);
    for i in 0..50 {
        m.record_tool_call(&format!("tool{i}"), 0.0, true);
    }
    let text = m.render(Format::Text);
    assert_eq!(
        lines_with(&text, "mcp_tool_calls_total{").len(),
        6,
        "five series and the overflow one:\n{text}"
    );
    assert!(
        text.contains(
            "mcp_tool_calls_total{tool_name=\"__overflow__\",status=\"__overflow__\"} 45"
        ),
        "{text}"
    );
    assert!(
        text.contains("tfo_mcp_metric_series_overflow_total{metric=\"mcp_tool_calls_total\"} 45"),
        "{text}"
    );
}

#[test]
fn disabled_metrics_render_nothing() {
    let m = Metrics::disabled();
    m.record_session_created();
    m.record_tool_call("echo", 1.0, false);
    assert_eq!(m.render(Format::Text), "");
    assert_eq!(m.render(Format::OpenMetrics), "# EOF\n");
    assert!(m.otlp_metrics().is_empty());
}

#[test]
fn otlp_view_has_the_same_names_labels_and_cumulative_kinds() {
    use crate::otlp::{MetricData, NumberValue, Temporality};
    let m = Metrics::new(DEFAULT_MAX_SERIES);
    m.record_session_created();
    m.record_tool_call("echo", 0.02, false);
    let metrics = m.otlp_metrics();
    let find = |name: &str| {
        metrics
            .iter()
            .find(|x| x.name == name)
            .unwrap_or_else(|| panic!("{name} pushed"))
    };
    match &find("mcp_sessions_total").data {
        MetricData::Sum {
            points,
            monotonic: true,
            temporality: Temporality::Cumulative,
        } => {
            assert_eq!(points[0].value, NumberValue::Int(1));
            assert!(points[0].start_time_unix_nano > 0, "cumulative start time");
        }
        other => panic!("sessions_total is a cumulative monotonic sum: {other:?}"),
    }
    assert!(matches!(
        find("mcp_sessions_active").data,
        MetricData::Gauge(_)
    ));
    match &find("mcp_tool_call_duration_seconds").data {
        MetricData::Histogram {
            points,
            temporality: Temporality::Cumulative,
        } => {
            let p = &points[0];
            assert_eq!(
                p.explicit_bounds,
                [0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0]
            );
            assert_eq!(
                p.bucket_counts,
                [0, 1, 0, 0, 0, 0, 0, 0, 0],
                "per bucket, not cumulative"
            );
            assert_eq!(p.count, 1);
            assert_eq!(p.attributes[0].key, "tool_name");
        }
        other => panic!("a cumulative histogram: {other:?}"),
    }
    assert_eq!(find("mcp_tool_call_duration_seconds").unit, "s");
}
