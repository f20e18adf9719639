//! Spans of the real binary reaching a loopback OTLP/HTTP receiver: the span
//! tree, `traceparent` continuation, flush on EOF and SIGTERM, retries after 503
//! with `Retry-After`, and a dead or slow collector never disturbing MCP.

mod common;

use common::Server;
use common::otlp::{Plan, Receiver, hex, spans};
use serde_json::json;
use std::time::{Duration, Instant};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn traced(endpoint: &str, extra: &[(&str, &str)]) -> Server {
    let mut env = vec![
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", endpoint),
        ("TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS", "true"),
    ];
    env.extend_from_slice(extra);
    Server::start(&env)
}

fn session(s: &mut Server) {
    s.initialize("2025-06-18");
    s.call(
        json!(1),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi"}, "_meta": {"traceparent": TRACEPARENT}}),
    );
}

#[test]
fn a_session_spans_reach_the_collector_as_a_tree() {
    let receiver = Receiver::start(vec![]);
    let mut s = traced(&receiver.url, &[("OTEL_BSP_SCHEDULE_DELAY", "100")]);
    session(&mut s);
    s.close_stdin();
    let (status, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    let received = receiver.received();
    assert!(!received.is_empty(), "spans were exported");
    for r in &received {
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.content_type, "application/x-protobuf");
    }
    let all: Vec<_> = received.iter().flat_map(|r| spans(&r.body)).collect();
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    for name in ["request.process", "mcp.session.initialize", "mcp.tool.call"] {
        assert!(names.contains(&name), "{name} exported: {names:?}");
    }
    let root = all
        .iter()
        .find(|s| s.name == "request.process" && s.attr("mcp.method.name") == Some("tools/call"))
        .expect("tools/call root");
    assert_eq!(root.kind, 2, "request.process is SERVER");
    assert_eq!(
        hex(&root.trace_id),
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "the caller's trace is continued"
    );
    assert_eq!(
        hex(&root.parent_span_id),
        "00f067aa0ba902b7",
        "child of the caller's span"
    );
    let tool = all
        .iter()
        .find(|s| s.name == "mcp.tool.call")
        .expect("tool span");
    assert_eq!(
        tool.parent_span_id, root.span_id,
        "tool span under request.process"
    );
    assert_eq!(tool.attr("mcp.tool.name"), Some("echo"));
    assert_eq!(tool.status_code, 1, "status OK");
    let unique: std::collections::HashSet<_> = all.iter().map(|s| s.span_id.clone()).collect();
    assert_eq!(unique.len(), all.len(), "no span exported twice");
}

#[test]
fn queued_spans_are_flushed_on_eof_and_on_sigterm() {
    for how in ["eof", "sigterm"] {
        let receiver = Receiver::start(vec![]);
        // The schedule would wait a minute: only the shutdown flush can deliver in time.
        let mut s = traced(&receiver.url, &[("OTEL_BSP_SCHEDULE_DELAY", "60000")]);
        session(&mut s);
        assert!(
            receiver.received().is_empty(),
            "{how}: nothing exported before shutdown"
        );
        if how == "eof" {
            s.close_stdin();
        } else {
            s.signal("TERM");
        }
        let (status, took) = s.wait_exit(Duration::from_secs(10));
        assert_eq!(status.code(), Some(0), "{how}");
        assert!(
            took < Duration::from_secs(2),
            "{how}: flushed promptly ({took:?})"
        );
        let count: usize = receiver
            .received()
            .iter()
            .map(|r| spans(&r.body).len())
            .sum();
        assert_eq!(count, 4, "{how}: both requests' spans flushed");
    }
}

#[test]
fn retry_after_503_delivers_the_same_spans_once() {
    let busy = Plan {
        status: 503,
        retry_after: Some(1),
        delay: Duration::ZERO,
    };
    let receiver = Receiver::start(vec![busy, busy]);
    let mut s = traced(&receiver.url, &[("OTEL_BSP_SCHEDULE_DELAY", "100")]);
    session(&mut s);
    let deadline = Instant::now() + Duration::from_secs(8);
    while receiver.received().iter().all(|r| r.answered != 200) {
        assert!(
            Instant::now() < deadline,
            "the batch must be retried until accepted: {:?}",
            receiver.received().len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let received = receiver.received();
    assert_eq!(received[0].answered, 503);
    assert_eq!(received[1].answered, 503);
    assert_eq!(received[2].answered, 200);
    assert_eq!(
        received[0].body, received[2].body,
        "the same payload is retried"
    );
    assert_eq!(received[1].body, received[2].body);
    s.close_stdin();
    s.wait_exit(Duration::from_secs(10));
    let accepted: Vec<_> = receiver
        .received()
        .into_iter()
        .filter(|r| r.answered == 200)
        .flat_map(|r| spans(&r.body))
        .collect();
    let unique: std::collections::HashSet<_> = accepted.iter().map(|s| s.span_id.clone()).collect();
    assert_eq!(
        unique.len(),
        accepted.len(),
        "accepted spans are not duplicated"
    );
    assert_eq!(accepted.len(), 4);
}

#[test]
fn a_dead_collector_never_disturbs_the_protocol_and_is_reported_once() {
    // A port with nothing listening: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut s = traced(
        &format!("http://127.0.0.1:{port}"),
        &[("OTEL_BSP_SCHEDULE_DELAY", "50")],
    );
    s.initialize("2025-06-18");
    for i in 0..30 {
        let start = Instant::now();
        let reply = s.call(
            json!(i),
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "x"}}),
        );
        assert_eq!(reply["result"]["isError"], false);
        assert!(
            start.elapsed() < Duration::from_millis(500),
            "answer {i} took {:?}",
            start.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    s.close_stdin();
    let (status, took) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    assert!(
        took < Duration::from_secs(2),
        "shutdown does not wait on a dead collector: {took:?}"
    );
    let stderr = s.stderr();
    assert_eq!(
        stderr.matches("OTLP trace export failed").count(),
        1,
        "the first failure is a warning, repeats are rate-limited:\n{stderr}"
    );
    assert!(
        stderr.contains("\"dropped_spans\""),
        "the drop is counted in the report"
    );
}

#[test]
fn a_slow_collector_does_not_slow_responses() {
    let slow = Plan {
        status: 200,
        retry_after: None,
        delay: Duration::from_secs(3),
    };
    let receiver = Receiver::start(vec![slow; 4]);
    let mut s = traced(
        &receiver.url,
        &[
            ("OTEL_BSP_SCHEDULE_DELAY", "20"),
            ("TELEMETRYFLOW_MCP_OTLP_TIMEOUT_MS", "300"),
        ],
    );
    s.initialize("2025-06-18");
    let mut worst = Duration::ZERO;
    for i in 0..50 {
        let start = Instant::now();
        s.call(
            json!(i),
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "x"}}),
        );
        worst = worst.max(start.elapsed());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        worst < Duration::from_millis(200),
        "slowest MCP answer {worst:?} while the collector stalls"
    );
    s.close_stdin();
    let (status, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn spans_go_through_the_http_proxy_the_environment_names() {
    // The receiver plays an http proxy: the binary sends it the collector's absolute URL.
    // The collector's name is never looked up: only the proxy is connected to.
    let proxy = Receiver::start(vec![]);
    let mut s = traced(
        "http://collector.invalid:4318",
        &[("http_proxy", &proxy.url), ("no_proxy", "")],
    );
    session(&mut s);
    s.close_stdin();
    let (status, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    let received = proxy.received();
    assert!(
        !received.is_empty(),
        "the proxy was used; stderr: {}",
        s.stderr()
    );
    for r in &received {
        assert_eq!(
            r.path, "http://collector.invalid:4318/v1/traces",
            "absolute-form target"
        );
    }
    let count: usize = received.iter().map(|r| spans(&r.body).len()).sum();
    assert_eq!(count, 4, "both requests' spans arrived through the proxy");
}
