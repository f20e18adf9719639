//! Requests run concurrently: pipelining, ping during a slow call, cancellation,
//! progress, panic isolation and log notifications, through the real binary.

mod common;

use common::Server;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn sleep_call(ms: u64, steps: u64) -> Value {
    json!({"name": "sleep", "arguments": {"ms": ms, "steps": steps}})
}

#[test]
fn pipelined_requests_are_answered_out_of_order_by_id() {
    let mut s = Server::with_diagnostics(&[]);
    s.initialize("2025-06-18");
    s.request(json!("slow"), "tools/call", sleep_call(400, 1));
    for i in 0..20 {
        s.request(
            json!(i),
            "tools/call",
            json!({"name": "echo", "arguments": {"message": format!("m{i}")}}),
        );
    }
    let mut seen = Vec::new();
    for _ in 0..21 {
        let reply = s.recv_response();
        if reply["id"] != "slow" {
            let i = reply["id"].as_u64().expect("integer id");
            assert_eq!(
                reply["result"]["content"][0]["text"],
                format!("m{i}"),
                "answer matches its id"
            );
        }
        seen.push(reply["id"].clone());
    }
    assert_eq!(
        seen.last(),
        Some(&json!("slow")),
        "the slow call finishes last, after the fast ones: {seen:?}"
    );
}

#[test]
fn ping_is_answered_while_a_slow_tool_runs() {
    let mut s = Server::with_diagnostics(&[]);
    s.initialize("2025-06-18");
    s.request(json!(1), "tools/call", sleep_call(3000, 1));
    let start = Instant::now();
    let pong = s.call(json!(2), "ping", json!({}));
    assert_eq!(pong["result"], json!({}));
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "ping waited {:?} behind the slow call",
        start.elapsed()
    );
}

#[test]
fn cancellation_stops_the_work_and_sends_no_response() {
    let mut s = Server::with_diagnostics(&[]);
    s.initialize("2025-06-18");
    s.request(json!(7), "tools/call", json!({"name": "sleep", "arguments": {"ms": 2000, "steps": 20}, "_meta": {"progressToken": "t"}}));
    let first = s.recv();
    assert_eq!(
        first["method"], "notifications/progress",
        "work is running: {first}"
    );
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7, "reason": "user"}}));
    // Progress already queued may still arrive; then nothing more, and no response.
    let deadline = Instant::now() + Duration::from_millis(2600);
    let mut after = Vec::new();
    let ping_sent = Instant::now();
    s.request(json!("after"), "ping", json!({}));
    loop {
        let message = s.recv();
        if message["id"] == "after" {
            break;
        }
        after.push(message);
    }
    assert!(
        ping_sent.elapsed() < Duration::from_millis(500),
        "server responsive after cancel"
    );
    assert!(
        after.len() <= 1,
        "progress stops at once after cancellation: {after:?}"
    );
    let remaining = deadline.saturating_duration_since(Instant::now());
    s.expect_silence(
        remaining,
        "a cancelled request never gets a response nor more progress",
    );
    // The id is free again and an unknown/finished id is ignored.
    s.send(
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}}),
    );
    assert_eq!(
        s.call(json!(7), "ping", json!({}))["result"],
        json!({}),
        "cancelled id may be reused"
    );
}

#[test]
fn progress_is_strictly_increasing_and_ends_before_the_response() {
    let mut s = Server::with_diagnostics(&[]);
    s.initialize("2025-06-18");
    s.request(json!(1), "tools/call", json!({"name": "sleep", "arguments": {"ms": 200, "steps": 10}, "_meta": {"progressToken": 99}}));
    let mut values = Vec::new();
    loop {
        let message = s.recv();
        if message.get("id").is_some() {
            assert_eq!(message["id"], 1);
            assert!(message["result"]["isError"] == false, "{message}");
            break;
        }
        assert_eq!(message["method"], "notifications/progress");
        assert_eq!(
            message["params"]["progressToken"], 99,
            "token echoed with its type"
        );
        assert_eq!(message["params"]["total"], 10);
        values.push(message["params"]["progress"].as_f64().expect("number"));
    }
    assert_eq!(values.len(), 10, "one notification per step: {values:?}");
    assert!(
        values.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing: {values:?}"
    );
    s.expect_silence(Duration::from_millis(200), "nothing after the response");
    // Without a token: no progress at all.
    s.request(json!(2), "tools/call", sleep_call(50, 5));
    let reply = s.recv();
    assert_eq!(
        reply["id"], 2,
        "no progress without a progressToken: {reply}"
    );
}

#[test]
fn a_panicking_handler_gets_internal_error_and_the_server_goes_on() {
    let mut s = Server::with_diagnostics(&[]);
    s.initialize("2025-06-18");
    s.request(json!("slow"), "tools/call", sleep_call(300, 1));
    for i in 0..3 {
        let reply = s.call(
            json!(i),
            "tools/call",
            json!({"name": "panic", "arguments": {}}),
        );
        assert_eq!(reply["error"]["code"], -32603, "{reply}");
        assert!(
            !reply["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("diagnostic panic"),
            "no internals leak to the client"
        );
    }
    let slow = s.recv_response();
    assert_eq!(slow["id"], "slow", "other requests survive a panic: {slow}");
    assert_eq!(s.call(json!(9), "ping", json!({}))["result"], json!({}));
}

#[test]
fn in_flight_requests_are_bounded_and_the_reader_waits() {
    let mut s = Server::with_diagnostics(&[("TELEMETRYFLOW_MCP_MAX_IN_FLIGHT", "2")]);
    s.initialize("2025-06-18");
    let start = Instant::now();
    for i in 0..4 {
        s.request(json!(i), "tools/call", sleep_call(300, 1));
    }
    // Quick methods need no slot, but the reader only reaches this line once
    // request 3 got one, i.e. after the first wave of two finished.
    s.request(json!("ping"), "ping", json!({}));
    let mut order = Vec::new();
    let mut ping_at = Duration::ZERO;
    for _ in 0..5 {
        let id = s.recv_response()["id"].clone();
        if id == "ping" {
            ping_at = start.elapsed();
        }
        order.push(id);
    }
    assert_eq!(
        order,
        [json!(0), json!(1), json!("ping"), json!(2), json!(3)],
        "two waves of two, ping read between them"
    );
    assert!(
        ping_at >= Duration::from_millis(280),
        "the reader waited for a free slot: ping answered at {ping_at:?}"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(580),
        "second wave after the first: {:?}",
        start.elapsed()
    );
}

#[test]
fn log_notifications_follow_set_level_and_are_rate_limited() {
    let mut s = Server::with_diagnostics(&[("TELEMETRYFLOW_MCP_LOG_NOTIFY_RATE", "3")]);
    s.initialize("2025-06-18");
    // Before setLevel: no log notifications, even for errors.
    s.call(
        json!(1),
        "tools/call",
        json!({"name": "panic", "arguments": {}}),
    );
    s.expect_silence(
        Duration::from_millis(200),
        "no notifications/message before logging/setLevel",
    );
    let bad = s.call(json!(2), "logging/setLevel", json!({"level": "loud"}));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
    assert_eq!(
        s.call(json!(3), "logging/setLevel", json!({"level": "error"}))["result"],
        json!({})
    );
    for i in 0..10 {
        s.request(
            json!(10 + i),
            "tools/call",
            json!({"name": "panic", "arguments": {}}),
        );
    }
    let burst_start = Instant::now();
    let mut logs = Vec::new();
    let mut responses = 0;
    while responses < 10 {
        let message = s.recv();
        if message.get("id").is_some() {
            responses += 1;
        } else {
            logs.push(message);
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    s.close_stdin();
    for line in s.drain_stdout() {
        logs.push(serde_json::from_str(&line).expect("json"));
    }
    let elapsed = burst_start.elapsed().as_secs_f64();
    let allowed = 3 + (elapsed * 3.0).ceil() as usize;
    assert!(
        !logs.is_empty(),
        "error records are forwarded after setLevel"
    );
    assert!(
        logs.len() <= allowed && logs.len() < 20,
        "rate 3/s: burst of 3 plus refill over {elapsed:.2}s allows {allowed}, got {} of 20 error records",
        logs.len()
    );
    for log in &logs {
        assert_eq!(log["method"], "notifications/message", "{log}");
        assert!(
            ["error", "critical", "alert", "emergency"]
                .contains(&log["params"]["level"].as_str().unwrap_or("")),
            "{log}"
        );
        assert!(log["params"]["data"]["message"].is_string(), "{log}");
    }
}

#[test]
fn modern_requests_opt_into_log_messages_and_progress_one_by_one() {
    let mut s = Server::with_diagnostics(&[]);
    let mut meta = common::modern_meta();
    meta["io.modelcontextprotocol/logLevel"] = json!("info");
    meta["progressToken"] = json!("tok");
    s.request(
        json!(1),
        "tools/call",
        json!({"name": "sleep", "arguments": {"ms": 60, "steps": 3}, "_meta": meta}),
    );
    let mut progress = 0;
    let mut logs = Vec::new();
    let response = loop {
        let message = s.recv();
        match message["method"].as_str() {
            Some("notifications/progress") => progress += 1,
            Some("notifications/message") => logs.push(message["params"].clone()),
            _ => break message,
        }
    };
    assert_eq!(response["result"]["resultType"], "complete", "{response}");
    assert_eq!(progress, 3, "progress for the request that carried a token");
    assert_eq!(logs.len(), 3, "one log message per step at info: {logs:?}");
    assert_eq!(
        logs[2],
        json!({"level": "info", "logger": "sleep", "data": {"message": "step 3 of 3"}})
    );

    let mut quiet = common::modern_meta();
    quiet["io.modelcontextprotocol/logLevel"] = json!("warning");
    s.request(
        json!(2),
        "tools/call",
        json!({"name": "sleep", "arguments": {"ms": 30, "steps": 3}, "_meta": quiet}),
    );
    let reply = s.recv();
    assert_eq!(
        reply["id"], 2,
        "below the request's level and without a token nothing but the response: {reply}"
    );
    s.request(json!(3), "tools/call", json!({"name": "sleep", "arguments": {"ms": 30, "steps": 3}, "_meta": common::modern_meta()}));
    let reply = s.recv();
    assert_eq!(reply["id"], 3, "no logLevel, no log messages: {reply}");
}

#[test]
fn every_pipelined_request_is_answered_before_exit_at_eof() {
    // A client that writes a burst and closes stdin: the server reads far faster
    // than it can write, and every answer must still reach stdout before it exits
    // (answers waiting for room in the outbox once held no slot and were lost at EOF).
    const CALLS: usize = 5000;
    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    let mut burst = String::new();
    for i in 0..CALLS {
        burst.push_str(
            &json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"message": "x".repeat(200)}}})
            .to_string(),
        );
        burst.push('\n');
    }
    s.write_raw(burst.as_bytes());
    s.close_stdin();
    let (status, _) = s.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "clean exit at EOF");
    let mut ids: Vec<u64> = s
        .drain_stdout()
        .iter()
        .map(|line| {
            let reply: Value = serde_json::from_str(line).expect("JSON line");
            assert!(reply["result"].is_object(), "an answer: {line}");
            reply["id"].as_u64().expect("integer id")
        })
        .collect();
    assert_eq!(ids.len(), CALLS, "answers written before the exit");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), CALLS, "no request answered twice");
    assert_eq!(
        (ids[0], ids[CALLS - 1]),
        (0, CALLS as u64 - 1),
        "each request answered exactly once"
    );
}
