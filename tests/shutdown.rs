//! Shutdown through the real binary: EOF and signals, the grace period, exit codes.

mod common;

use common::Server;
use serde_json::json;
use std::time::Duration;

#[test]
fn idle_eof_exits_zero_quickly() {
    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    s.close_stdin();
    let (status, took) = s.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "exit code after EOF");
    assert!(
        took < Duration::from_millis(100),
        "idle shutdown took {took:?}"
    );
}

#[test]
fn eof_lets_in_flight_requests_finish_within_the_grace_period() {
    let mut s = Server::with_diagnostics(&[]);
    s.initialize("2025-06-18");
    s.request(
        json!(1),
        "tools/call",
        json!({"name": "sleep", "arguments": {"ms": 300}}),
    );
    std::thread::sleep(Duration::from_millis(50));
    s.close_stdin();
    let reply = s.recv_response();
    assert_eq!(
        reply["id"], 1,
        "in-flight request answered after EOF: {reply}"
    );
    let (status, _) = s.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
}

#[test]
fn requests_beyond_the_grace_period_are_cancelled() {
    let mut s = Server::with_diagnostics(&[("TELEMETRYFLOW_MCP_SHUTDOWN_GRACE_MS", "200")]);
    s.initialize("2025-06-18");
    s.request(
        json!(1),
        "tools/call",
        json!({"name": "sleep", "arguments": {"ms": 30000}}),
    );
    std::thread::sleep(Duration::from_millis(50));
    s.close_stdin();
    let (status, took) = s.wait_exit(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0));
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_millis(1500),
        "grace honoured: {took:?}"
    );
    assert!(
        s.drain_stdout().is_empty(),
        "a cancelled request gets no response"
    );
}

#[test]
fn sigterm_and_sigint_take_the_same_graceful_path() {
    for signal in ["TERM", "INT"] {
        let mut s = Server::with_diagnostics(&[]);
        s.initialize("2025-06-18");
        s.request(
            json!(1),
            "tools/call",
            json!({"name": "sleep", "arguments": {"ms": 300}}),
        );
        std::thread::sleep(Duration::from_millis(50));
        s.signal(signal);
        let reply = s.recv_response();
        assert_eq!(
            reply["id"], 1,
            "SIG{signal}: in-flight request finishes: {reply}"
        );
        let (status, took) = s.wait_exit(Duration::from_secs(5));
        assert_eq!(status.code(), Some(0), "SIG{signal} exit code");
        assert!(
            took < Duration::from_millis(1000),
            "SIG{signal} shutdown took {took:?}"
        );
        assert!(
            s.stderr().contains("signal received"),
            "SIG{signal} is logged"
        );
    }
}

#[test]
fn a_second_signal_during_the_grace_period_exits_at_once() {
    let mut s = Server::with_diagnostics(&[]);
    s.initialize("2025-06-18");
    s.request(
        json!(1),
        "tools/call",
        json!({"name": "sleep", "arguments": {"ms": 30000}}),
    );
    std::thread::sleep(Duration::from_millis(50));
    s.signal("TERM");
    std::thread::sleep(Duration::from_millis(100));
    s.signal("INT");
    let (status, took) = s.wait_exit(Duration::from_secs(3));
    assert_eq!(status.code(), Some(1), "forced exit is not a normal end");
    assert!(
        took < Duration::from_millis(1000),
        "second signal honoured at once: {took:?}"
    );
}

#[test]
fn stdout_carries_nothing_but_protocol_even_when_logs_are_chatty() {
    let mut s = Server::start(&[("TELEMETRYFLOW_MCP_LOG_LEVEL", "trace")]);
    s.initialize("2024-11-05");
    s.call(
        json!(1),
        "tools/call",
        json!({"name": "system_info", "arguments": {}}),
    );
    s.send_line("garbage");
    s.recv();
    s.close_stdin();
    s.wait_exit(Duration::from_secs(5));
    // Every line was checked by the harness as it arrived; the logs went to stderr.
    assert!(
        s.stderr().contains("\"level\":\"info\""),
        "logs are on stderr"
    );
    assert!(s.drain_stdout().is_empty());
}
