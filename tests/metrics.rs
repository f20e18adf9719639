//! Metrics and health of the real binary, scraped over HTTP: a session's messages,
//! tool calls and errors with their labels and counts, the series cap against a
//! loop of unknown tool names, a busy port, `/health` following an OTLP receiver
//! that goes down and comes back, and the OTLP metrics push at shutdown.

mod common;

use common::otlp::Receiver;
use common::{Server, sample};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// The address the server logged for its metrics endpoint (port 0 picks one).
fn endpoint(s: &Server) -> String {
    let deadline = Instant::now() + common::TIMEOUT;
    loop {
        let stderr = s.stderr();
        if let Some(line) = stderr
            .lines()
            .find(|l| l.contains("\"message\":\"metrics endpoint listening\""))
        {
            let log: Value = serde_json::from_str(line).expect("JSON log line");
            return log["address"].as_str().expect("address field").to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no 'metrics endpoint listening' log line:\n{stderr}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One HTTP/1.1 request; returns status, head and body.
fn http(addr: &str, method: &str, path: &str) -> (u16, String, String) {
    raw_http(
        addr,
        &format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
    )
}

/// Sends `request` as it is, keeps the connection open for writing and reads the
/// answer until the server closes; returns status, head and body.
fn raw_http(addr: &str, request: &str) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the metrics endpoint");
    stream
        .set_read_timeout(Some(common::TIMEOUT))
        .expect("read timeout");
    stream.write_all(request.as_bytes()).expect("send request");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    (status, head.to_string(), body.to_string())
}

/// Heads as RFC 9112 lets a server read them: empty lines before the request line
/// and bare LF line ends are accepted. An HTTP/0.9 request line (no version, and no
/// blank line will follow) is answered 400 at once, not dropped unanswered once the
/// connection's budget is spent.
#[test]
fn lenient_heads_are_read_and_an_http_0_9_line_is_answered() {
    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    let addr = endpoint(&s);
    let (status, head, body) = raw_http(&addr, "\r\nGET /metrics HTTP/1.1\nHost: x\n\n");
    assert_eq!(status, 200, "{head}");
    assert!(body.contains("mcp_messages_total"), "{body}");
    let (status, head, _) = raw_http(&addr, "GET /metrics\r\n");
    assert_eq!(status, 400, "{head}");
}

/// With every worker held by a silent client and the queue full, a connection is
/// answered 503 at once, with `Retry-After`.
#[test]
fn a_full_endpoint_answers_503_with_retry_after() {
    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    let addr = endpoint(&s);
    // Four workers and 32 queued connections (src/http.rs). The workers start as
    // connections wait, so the queue is filled again once they hold theirs.
    let connect = || TcpStream::connect(&addr).expect("connect");
    let mut silent: Vec<TcpStream> = (0..40).map(|_| connect()).collect();
    let deadline = Instant::now() + common::TIMEOUT;
    while threads(&s, "metrics-http-").len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    silent.extend((0..40).map(|_| connect()));
    let (status, head, _) = raw_http(&addr, "GET /metrics HTTP/1.1\r\n\r\n");
    assert_eq!(status, 503, "{head}");
    assert!(head.contains("\r\nRetry-After: 1"), "{head}");
    drop(silent);
}

fn scrape(addr: &str) -> String {
    let (status, head, body) = http(addr, "GET", "/metrics");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    body
}

fn health(addr: &str) -> (u16, Value) {
    let (status, _, body) = http(addr, "GET", "/health");
    (status, serde_json::from_str(&body).expect("health JSON"))
}

fn call(s: &mut Server, id: i64, name: &str, arguments: Value) -> Value {
    s.call(
        json!(id),
        "tools/call",
        json!({"name": name, "arguments": arguments}),
    )
}

#[test]
fn a_session_shows_up_with_the_right_labels_and_counts() {
    let mut s = Server::start(&[]);
    let addr = endpoint(&s);
    let mut sent = Vec::new();
    let mut line = |s: &mut Server, message: Value| {
        let text = message.to_string();
        sent.push(text.len());
        s.send_line(&text);
    };
    line(
        &mut s,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "metrics-test", "version": "1"}}}),
    );
    let mut received = vec![s.recv_line().len()];
    line(
        &mut s,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    let calls = [
        json!({"name": "echo", "arguments": {"message": "hi"}}),
        json!({"name": "echo", "arguments": {}}),
        json!({"name": "no_such_tool", "arguments": {}}),
        json!({"name": "health_check", "arguments": {}}),
    ];
    for (i, params) in calls.into_iter().enumerate() {
        line(
            &mut s,
            json!({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call", "params": params}),
        );
        received.push(s.recv_line().len());
    }
    line(
        &mut s,
        json!({"jsonrpc": "2.0", "id": 9, "method": "bogus/method"}),
    );
    received.push(s.recv_line().len());

    let text = scrape(&addr);
    let table: &[(&str, f64)] = &[
        ("mcp_sessions_total", 1.0),
        ("mcp_sessions_active", 1.0),
        (
            "mcp_tool_calls_total{tool_name=\"echo\",status=\"success\"}",
            1.0,
        ),
        (
            "mcp_tool_calls_total{tool_name=\"echo\",status=\"error\"}",
            1.0,
        ),
        (
            "mcp_tool_calls_total{tool_name=\"__unknown__\",status=\"error\"}",
            1.0,
        ),
        (
            "mcp_tool_calls_total{tool_name=\"health_check\",status=\"success\"}",
            1.0,
        ),
        (
            "mcp_tool_call_duration_seconds_count{tool_name=\"echo\"}",
            2.0,
        ),
        (
            "mcp_tool_call_duration_seconds_bucket{tool_name=\"echo\",le=\"+Inf\"}",
            2.0,
        ),
        (
            "mcp_messages_total{method=\"initialize\",status=\"success\"}",
            1.0,
        ),
        (
            "mcp_messages_total{method=\"tools/call\",status=\"success\"}",
            2.0,
        ),
        (
            "mcp_messages_total{method=\"tools/call\",status=\"error\"}",
            2.0,
        ),
        ("mcp_messages_total{method=\"other\",status=\"error\"}", 1.0),
        (
            "mcp_message_size_bytes_count{direction=\"request\"}",
            sent.len() as f64,
        ),
        (
            "mcp_message_size_bytes_sum{direction=\"request\"}",
            sent.iter().sum::<usize>() as f64,
        ),
        (
            "mcp_message_size_bytes_count{direction=\"response\"}",
            received.len() as f64,
        ),
        (
            "mcp_message_size_bytes_sum{direction=\"response\"}",
            received.iter().sum::<usize>() as f64,
        ),
        ("tfo_mcp_log_notifications_dropped_total", 0.0),
        // The logger's own counters: nothing lost in a calm session.
        (
            "tfo_mcp_log_records_dropped_total{reason=\"writer_queue_full\"}",
            0.0,
        ),
        ("tfo_mcp_log_write_errors_total", 0.0),
    ];
    for (series, want) in table {
        assert_eq!(sample(&text, series), Some(*want), "{series} in\n{text}");
    }
    assert!(
        sample(&text, "process_resident_memory_bytes").is_some_and(|b| b > 1e5),
        "process metrics from /proc"
    );

    let (status, report) = health(&addr);
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["status"], "healthy", "{report}");
    for check in ["stdio", "metrics_endpoint"] {
        assert_eq!(report["checks"][check]["status"], "healthy", "{report}");
    }
    let (status, head, body) = http(&addr, "HEAD", "/health");
    assert_eq!(
        (status, body.as_str()),
        (200, ""),
        "HEAD has no body: {head}"
    );
    assert_eq!(http(&addr, "GET", "/nope").0, 404);
    assert_eq!(http(&addr, "POST", "/metrics").0, 405);

    s.close_stdin();
    let (exit, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(exit.code(), Some(0));
}

#[test]
fn the_health_check_tool_reports_what_get_health_serves() {
    let mut s = Server::start(&[]);
    let addr = endpoint(&s);
    s.initialize("2025-06-18");
    let reply = call(&mut s, 1, "health_check", json!({}));
    let tool = &reply["result"]["structuredContent"];
    let (_, http_report) = health(&addr);
    assert_eq!(reply["result"]["isError"], false);
    for key in ["status", "version"] {
        assert_eq!(
            tool[key], http_report[key],
            "{key}: {tool} vs {http_report}"
        );
    }
    let names = |v: &Value| {
        let mut n: Vec<String> = v["checks"]
            .as_object()
            .expect("checks")
            .keys()
            .cloned()
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(tool), names(&http_report));
    assert_eq!(names(tool), ["errors", "metrics_endpoint", "stdio"]);

    // The same report and the same exposition as MCP resources.
    let read = s.call(
        json!(2),
        "resources/read",
        json!({"uri": "status://health"}),
    );
    let item = &read["result"]["contents"][0];
    assert_eq!(item["mimeType"], "application/json", "{read}");
    let resource: Value =
        serde_json::from_str(item["text"].as_str().expect("text")).expect("health JSON");
    assert_eq!(resource["status"], http_report["status"], "{resource}");
    assert_eq!(
        names(&resource),
        names(&http_report),
        "status://health has GET /health's checks"
    );

    s.call(
        json!(3),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "m"}}),
    );
    let read = s.call(
        json!(4),
        "resources/read",
        json!({"uri": "metrics://prometheus"}),
    );
    let item = &read["result"]["contents"][0];
    assert_eq!(item["mimeType"], "text/plain; version=0.0.4", "{read}");
    let text = item["text"].as_str().expect("exposition text");
    assert_eq!(
        sample(
            text,
            "mcp_tool_calls_total{tool_name=\"echo\",status=\"success\"}"
        ),
        Some(1.0),
        "metrics://prometheus counts the echo call:\n{text}"
    );
    let (_, _, scraped) = http(&addr, "GET", "/metrics");
    assert!(
        scraped.contains("# TYPE mcp_tool_calls_total counter"),
        "GET /metrics serves the same families"
    );
}

#[test]
fn a_busy_port_is_a_warning_and_the_server_keeps_serving() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let port = taken.local_addr().expect("addr").port().to_string();
    let mut s = Server::start(&[("TELEMETRYFLOW_MCP_METRICS_PORT", &port)]);
    s.initialize("2025-06-18");
    let reply = call(&mut s, 1, "health_check", json!({}));
    let report = &reply["result"]["structuredContent"];
    assert_eq!(report["status"], "degraded", "{report}");
    assert_eq!(report["checks"]["metrics_endpoint"]["status"], "degraded");
    let message = report["checks"]["metrics_endpoint"]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains(&port), "names the port: {message}");
    let echo = call(&mut s, 2, "echo", json!({"message": "still here"}));
    assert_eq!(echo["result"]["isError"], false, "MCP goes on: {echo}");
    s.close_stdin();
    let (exit, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(exit.code(), Some(0));
    let stderr = s.stderr();
    let warning = stderr
        .lines()
        .find(|l| l.contains("cannot bind its port"))
        .unwrap_or_else(|| panic!("a warning about the port:\n{stderr}"));
    assert!(warning.contains("\"level\":\"warning\""), "{warning}");
}

#[test]
fn client_chosen_tool_names_never_become_labels() {
    let mut s = Server::start(&[("TELEMETRYFLOW_MCP_METRICS_MAX_SERIES", "10")]);
    let addr = endpoint(&s);
    s.initialize("2025-06-18");
    let secret = "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    call(&mut s, 0, secret, json!({}));
    for i in 1..300 {
        call(&mut s, i, &format!("unknown_{i}"), json!({}));
    }
    call(&mut s, 300, "echo", json!({"message": "still counted"}));
    let text = scrape(&addr);
    assert!(
        !text.contains("sk-ant") && !text.contains("\"unknown_"),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "mcp_tool_calls_total{tool_name=\"__unknown__\",status=\"error\"}"
        ),
        Some(300.0)
    );
    assert_eq!(
        sample(
            &text,
            "mcp_tool_calls_total{tool_name=\"echo\",status=\"success\"}"
        ),
        Some(1.0),
        "a flood of unknown names does not push the real tools out"
    );
}

#[test]
fn labelled_series_beyond_the_cap_fold_into_the_overflow_series() {
    let mut s = Server::start(&[("TELEMETRYFLOW_MCP_METRICS_MAX_SERIES", "2")]);
    let addr = endpoint(&s);
    s.initialize("2025-06-18");
    let tools = ["echo", "health_check", "system_info", "no_such_tool"];
    for (i, tool) in tools.into_iter().enumerate() {
        call(&mut s, i as i64, tool, json!({}));
    }
    let text = scrape(&addr);
    let series = |prefix: &str| text.lines().filter(|l| l.starts_with(prefix)).count();
    assert_eq!(series("mcp_tool_calls_total{"), 3, "2 series + overflow");
    assert_eq!(
        series("mcp_tool_call_duration_seconds_count{"),
        3,
        "the histogram family is capped too"
    );
    assert_eq!(
        sample(
            &text,
            "mcp_tool_calls_total{tool_name=\"__overflow__\",status=\"__overflow__\"}"
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            "tfo_mcp_metric_series_overflow_total{metric=\"mcp_tool_calls_total\"}"
        ),
        Some(2.0)
    );
}

#[test]
fn health_follows_the_otlp_receiver_down_and_back() {
    let receiver = Receiver::start(vec![]);
    receiver.down.store(true, Ordering::SeqCst);
    let mut s = Server::start(&[
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", &receiver.url),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "200"),
    ]);
    let addr = endpoint(&s);
    s.initialize("2025-06-18");
    let mut id = 1;
    let mut wait_for = |s: &mut Server, want: &str, code: u16| {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // Each request makes a span, so exports keep happening.
            s.call(json!(id), "ping", json!({}));
            id += 1;
            let (status, report) = health(&addr);
            if report["checks"]["otlp_traces"]["status"] == want {
                assert_eq!(report["status"], want, "{report}");
                assert_eq!(status, code);
                return report;
            }
            assert!(
                Instant::now() < deadline,
                "otlp_traces never became {want}: {report}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let down = wait_for(&mut s, "degraded", 200);
    let message = down["checks"]["otlp_traces"]["message"]
        .as_str()
        .expect("message");
    assert!(
        message.contains("failing since") && message.contains("503"),
        "last error and its time: {message}"
    );
    receiver.down.store(false, Ordering::SeqCst);
    let up = wait_for(&mut s, "healthy", 200);
    assert!(
        up["checks"]["otlp_traces"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("succeeded")),
        "{up}"
    );
    let text = scrape(&addr);
    assert!(
        sample(&text, "tfo_mcp_otlp_spans_failed_total").is_some_and(|n| n > 0.0),
        "failed spans counted:\n{text}"
    );
    assert!(sample(&text, "tfo_mcp_otlp_spans_exported_total").is_some_and(|n| n > 0.0));
}

#[test]
fn metrics_are_pushed_over_otlp_at_shutdown_alongside_prometheus() {
    let receiver = Receiver::start(vec![]);
    let mut s = Server::start(&[
        ("TELEMETRYFLOW_MCP_METRICS_EXPORTER", "prometheus,otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", &receiver.url),
        ("TELEMETRYFLOW_MCP_METRICS_INTERVAL_SECONDS", "3600"),
    ]);
    let addr = endpoint(&s);
    s.initialize("2025-06-18");
    call(&mut s, 1, "echo", json!({"message": "pushed"}));
    assert!(scrape(&addr).contains("mcp_tool_calls_total{tool_name=\"echo\""));
    assert!(
        receiver.received().is_empty(),
        "no push before the interval"
    );
    s.close_stdin();
    let (exit, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(exit.code(), Some(0));
    let pushes = receiver.received();
    assert_eq!(pushes.len(), 1, "one final push");
    assert_eq!(pushes[0].path, "/v1/metrics");
    assert_eq!(pushes[0].content_type, "application/x-protobuf");
    let body = &pushes[0].body;
    let has = |needle: &str| body.windows(needle.len()).any(|w| w == needle.as_bytes());
    for name in [
        "mcp_session_duration_seconds",
        "mcp_tool_calls_total",
        "tool_name",
        "echo",
        "mcp_message_size_bytes",
    ] {
        assert!(has(name), "{name} in the pushed request");
    }
}

#[test]
fn disabled_metrics_serve_nothing() {
    let mut s = Server::start(&[("TELEMETRYFLOW_MCP_METRICS_ENABLED", "false")]);
    s.initialize("2025-06-18");
    let reply = call(&mut s, 1, "health_check", json!({}));
    let checks = reply["result"]["structuredContent"]["checks"]
        .as_object()
        .expect("checks")
        .keys()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(
        checks,
        ["errors", "stdio"],
        "no endpoint check without an endpoint"
    );
    s.close_stdin();
    s.wait_exit(Duration::from_secs(10));
    assert!(
        !s.stderr().contains("metrics endpoint"),
        "no endpoint started:\n{}",
        s.stderr()
    );
}

#[test]
fn the_console_exporter_writes_a_snapshot_line_at_shutdown() {
    let mut s = Server::start(&[
        ("TELEMETRYFLOW_MCP_METRICS_EXPORTER", "console"),
        ("TELEMETRYFLOW_MCP_METRICS_INTERVAL_SECONDS", "3600"),
    ]);
    s.initialize("2025-06-18");
    call(&mut s, 1, "echo", json!({"message": "hi"}));
    s.close_stdin();
    let (exit, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(exit.code(), Some(0));
    let stderr = s.stderr();
    let line = stderr
        .lines()
        .find(|l| l.starts_with("{\"metrics\":"))
        .unwrap_or_else(|| panic!("a snapshot line on the log output:\n{stderr}"));
    let snapshot: Value = serde_json::from_str(line).expect("one JSON object");
    let calls = snapshot["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .find(|m| m["name"] == "mcp_tool_calls_total")
        .expect("tool calls in the snapshot");
    assert_eq!(calls["type"], "sum");
    assert_eq!(
        calls["points"][0],
        json!({"attributes": {"tool_name": "echo", "status": "success"}, "value": 1})
    );
    assert!(
        !stderr.contains("metrics endpoint listening"),
        "console alone serves no endpoint"
    );
}

/// Names of the process's threads that start with `prefix`.
fn threads(s: &Server, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(format!("/proc/{}/task", s.pid()))
        .expect("task list")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| name.starts_with(prefix))
        .collect();
    names.sort();
    names
}

#[test]
fn endpoint_workers_start_as_connections_need_them_up_to_four() {
    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    let addr = endpoint(&s);
    assert_eq!(
        threads(&s, "metrics-http-"),
        Vec::<String>::new(),
        "no worker before the first connection"
    );
    // A scraper's pace: the worker has closed one connection well before the next
    // (a client that reconnects within microseconds may find it still closing and
    // start a second worker, which is allowed).
    for _ in 0..3 {
        scrape(&addr);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        threads(&s, "metrics-http-"),
        ["metrics-http-0"],
        "sequential scrapes are served by one worker"
    );
    // Six clients that send nothing hold workers until their 3 s budget runs out:
    // the pool grows to its limit and no further.
    let silent: Vec<TcpStream> = (0..6)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    let deadline = Instant::now() + common::TIMEOUT;
    while threads(&s, "metrics-http-").len() < 4 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        threads(&s, "metrics-http-"),
        [
            "metrics-http-0",
            "metrics-http-1",
            "metrics-http-2",
            "metrics-http-3"
        ],
        "at most four workers"
    );
    // A scrape queued behind them is answered once a budget runs out.
    let body = scrape(&addr);
    assert!(body.contains("mcp_messages_total"), "{body}");
    drop(silent);
}
