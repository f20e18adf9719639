//! Logging of the real binary: JSON records with the spec's fields and messages,
//! the request context (the same trace as the exported span), redaction of
//! secrets everywhere the process writes, slow requests, client log
//! notifications, file output with rotation, and OTLP logs at a loopback receiver.

mod common;

use common::Server;
use common::otlp::{Receiver, hex, log_records, spans};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Ends the session (EOF), waits for the exit and returns every stderr line as JSON.
fn finish(s: &mut Server) -> Vec<Value> {
    s.close_stdin();
    let (status, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(
        status.code(),
        Some(0),
        "clean exit; stderr:\n{}",
        s.stderr()
    );
    // The stderr reader thread may still be catching up with the last write.
    let deadline = Instant::now() + Duration::from_secs(3);
    while !s.stderr().contains("\"tfo-mcp stopped\"") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    parse_records(&s.stderr())
}

/// Every line must be one JSON object with `timestamp`, `level`, `logger`, `message`.
fn parse_records(text: &str) -> Vec<Value> {
    let levels = ["trace", "debug", "info", "warning", "error", "critical"];
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
            let ts = v["timestamp"]
                .as_str()
                .unwrap_or_else(|| panic!("timestamp: {line}"));
            let b = ts.as_bytes();
            assert!(
                ts.len() == 24 && b[4] == b'-' && b[10] == b'T' && b[19] == b'.' && b[23] == b'Z',
                "RFC 3339 UTC with milliseconds: {ts}"
            );
            assert!(
                levels.contains(&v["level"].as_str().unwrap_or("")),
                "level: {line}"
            );
            assert!(
                v["logger"].is_string() && v["message"].is_string(),
                "{line}"
            );
            v
        })
        .collect()
}

fn find<'a>(records: &'a [Value], message: &str, request_id: &str) -> &'a Value {
    records
        .iter()
        .find(|r| r["message"] == message && r["request_id"] == request_id)
        .unwrap_or_else(|| panic!("{message:?} for request {request_id} in {records:#?}"))
}

#[test]
fn every_stderr_line_is_a_json_record_with_the_spec_events() {
    let mut s = Server::start(&[("TELEMETRYFLOW_MCP_LOG_LEVEL", "DEBUG")]);
    s.initialize("2025-06-18");
    s.call(
        json!(1),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi"}}),
    );
    s.call(json!(2), "no/such/method", json!({}));
    let records = finish(&mut s);

    let start = records
        .iter()
        .find(|r| r["message"] == "tfo-mcp starting on stdio")
        .expect("start record");
    assert_eq!(start["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        start["config"]
            .as_str()
            .is_some_and(|c| c.contains("TELEMETRYFLOW_MCP_LOG_LEVEL=DEBUG")),
        "non-default settings summarised: {start}"
    );
    assert!(
        records
            .iter()
            .any(|r| r["message"] == "MCP session initialized")
    );
    assert!(records.iter().any(|r| r["message"] == "tfo-mcp stopped"));

    let received = find(&records, "MCP request received", "1");
    assert_eq!(received["level"], "debug");
    assert_eq!(received["mcp_method"], "tools/call");
    assert!(
        received["mcp_params"]
            .as_str()
            .is_some_and(|p| p.contains("\"echo\""))
    );
    let completed = find(&records, "MCP request completed", "1");
    assert_eq!(completed["level"], "info");
    assert_eq!(completed["mcp_method"], "tools/call");
    assert!(completed["duration_ms"].as_f64().is_some_and(|d| d >= 0.0));
    for key in ["session_id", "trace_id", "span_id"] {
        assert!(
            completed[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key} in a record inside a request: {completed}"
        );
    }
    assert_eq!(completed["trace_id"].as_str().map(str::len), Some(32));
    assert_eq!(
        received["trace_id"], completed["trace_id"],
        "one request, one trace"
    );

    let failed = find(&records, "MCP request failed", "2");
    assert_eq!(failed["level"], "error");
    assert_eq!(failed["mcp_method"], "no/such/method");
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("method not found"))
    );
    let tracked = find(&records, "Operation failed", "2");
    assert_eq!(tracked["operation"], "no/such/method");
    assert_eq!(tracked["error_type"], "MethodNotFound");
    assert!(tracked["error_message"].is_string());
    assert!(
        !records
            .iter()
            .any(|r| r["message"] == "Critical error detected"),
        "an unknown method is not critical"
    );
}

/// A request id and a method are client text of any length: their records carry
/// them clipped (`jsonrpc::clip`, 128 characters and a note of the size).
#[test]
fn long_ids_and_methods_are_clipped_in_records() {
    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    let long_id = "i".repeat(5000);
    let long_method = format!("x/{}", "m".repeat(5000));
    let answer = s.call(json!(long_id), &long_method, json!({}));
    assert_eq!(answer["id"], long_id, "the answer echoes the whole id");
    let records = finish(&mut s);
    let failed = records
        .iter()
        .find(|r| r["message"] == "MCP request failed")
        .expect("the unknown method's record");
    for field in ["request_id", "mcp_method"] {
        let text = failed[field].as_str().expect("text");
        assert!(
            text.len() < 200 && text.ends_with("bytes)"),
            "{field} clipped: {text}"
        );
    }
}

/// What the handshake quotes from the client (the requested protocol version,
/// `clientInfo`) and what its errors quote (an unknown log level, an unsupported
/// `_meta` protocol version) reaches records, spans and error messages clipped.
#[test]
fn handshake_text_is_clipped_in_records_spans_and_errors() {
    let receiver = Receiver::start(vec![]);
    let env = [
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", receiver.url.as_str()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    let long = "q".repeat(20_000);
    let run = "q".repeat(200);

    let mut legacy = Server::start(&env);
    let hello = json!({"name": long, "version": long});
    let params = json!({"protocolVersion": long, "capabilities": {}, "clientInfo": hello});
    let answer = legacy.call(json!(0), "initialize", params);
    assert!(answer["result"]["protocolVersion"].is_string(), "{answer}");
    legacy.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let answer = legacy.call(json!(1), "logging/setLevel", json!({"level": long}));
    assert_eq!(answer["error"]["code"], -32602);
    let message = answer["error"]["message"].as_str().expect("message");
    assert!(!message.contains(&run), "clipped: {message}");

    let mut modern = Server::start(&env);
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": long,
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let answer = modern.call(json!(1), "tools/list", json!({"_meta": meta}));
    assert_eq!(answer["error"]["code"], -32022);
    let message = answer["error"]["message"].as_str().expect("message");
    assert!(!message.contains(&run), "clipped: {message}");

    let records = [finish(&mut legacy), finish(&mut modern)].concat();
    for (message, field) in [
        ("MCP initialize", "requested"),
        ("MCP session initialized", "client_name"),
        ("MCP session initialized", "client_version"),
    ] {
        let record = records
            .iter()
            .find(|r| r["message"] == message)
            .unwrap_or_else(|| panic!("{message}: {records:#?}"));
        let text = record[field].as_str().expect("text");
        assert!(
            text.starts_with("qqq") && text.ends_with("bytes)"),
            "{message} {field} clipped: {text}"
        );
    }
    for record in &records {
        let line = record.to_string();
        assert!(
            !line.contains(&run),
            "a record quotes it whole: {line:.300}"
        );
    }
    let received = receiver.received();
    let traces: Vec<_> = received.iter().filter(|r| r.path == "/v1/traces").collect();
    let handshake = traces
        .iter()
        .flat_map(|r| spans(&r.body))
        .find(|s| s.name == "mcp.session.initialize")
        .expect("the handshake's span was exported");
    let name = handshake.attr("mcp.client.name").expect("client name");
    assert!(
        name.starts_with("qqq") && name.ends_with("bytes)"),
        "{name:.300}"
    );
    for request in traces {
        let body = String::from_utf8_lossy(&request.body);
        assert!(!body.contains(&run), "a span quotes it whole");
    }
}

/// Client text quoted anywhere else reaches records, spans and error messages
/// clipped too: an unknown tool's name, an unknown argument's name, a path a refusal
/// quotes (escapes included), a duplicate id, a cancellation's reason, an unknown
/// notification's name and the id of a response to nothing.
#[test]
fn client_text_is_clipped_wherever_it_is_quoted() {
    let receiver = Receiver::start(vec![]);
    let mut s = Server::with_diagnostics(&[
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", receiver.url.as_str()),
        ("TELEMETRYFLOW_MCP_LOG_LEVEL", "debug"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    s.initialize("2025-06-18");
    let long = "q".repeat(20_000);
    let run = "q".repeat(200);
    let controls = "\u{1}".repeat(4000);
    let quiet = |answer: &Value| {
        let text = answer.to_string();
        assert!(text.len() < 2000 && !text.contains(&run), "{text:.300}");
    };
    let answer = s.call(
        json!(1),
        "tools/call",
        json!({"name": long, "arguments": {}}),
    );
    assert_eq!(answer["error"]["code"], -32602);
    quiet(&answer);
    let arguments = json!({"message": "x", long.as_str(): 1});
    let answer = s.call(
        json!(2),
        "tools/call",
        json!({"name": "echo", "arguments": arguments}),
    );
    assert_eq!(answer["error"]["code"], -32602);
    quiet(&answer);
    let arguments = json!({"path": controls});
    let answer = s.call(
        json!(3),
        "tools/call",
        json!({"name": "read_file", "arguments": arguments}),
    );
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    quiet(&answer);
    let sleep = json!({"name": "sleep", "arguments": {"ms": 60_000}});
    s.request(json!(long), "tools/call", sleep.clone());
    let answer = s.call(json!(long), "tools/call", sleep);
    assert_eq!(answer["error"]["code"], -32600, "a duplicate id");
    assert!(!answer["error"]["message"].to_string().contains(&run));
    let cancel = json!({"requestId": long, "reason": long});
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": cancel}));
    s.send(json!({"jsonrpc": "2.0", "method": long}));
    s.send(json!({"jsonrpc": "2.0", "id": long, "result": {}}));
    s.call(json!(4), "ping", json!({}));

    let records = finish(&mut s);
    for message in [
        "request cancelled by the client",
        "notification ignored",
        "ignoring a response to no pending request",
    ] {
        assert!(
            records.iter().any(|r| r["message"] == message),
            "{message}: {records:#?}"
        );
    }
    for record in &records {
        // The debug record of a request shows its parameters cut to 1 kB, by design.
        let shown = record["message"] == "MCP request received";
        let line = record.to_string();
        assert!(
            line.len() < 3000 && (shown || !line.contains(&run)),
            "a record quotes it whole: {line:.300}"
        );
    }
    for request in receiver.received() {
        let body = String::from_utf8_lossy(&request.body);
        assert!(!body.contains(&run), "a span or record quotes it whole");
        // A refusal quotes the path escaped (`{:?}`): `\u{1}` for each control.
        let escaped = "\\u{1}".repeat(200);
        assert!(!body.contains(&escaped), "a span quotes the path whole");
    }
}

#[test]
fn records_and_otlp_logs_carry_the_trace_of_the_exported_span() {
    let receiver = Receiver::start(vec![]);
    let mut s = Server::start(&[
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", &receiver.url),
        ("TELEMETRYFLOW_MCP_LOG_OTLP_ENABLED", "true"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    s.initialize("2025-06-18");
    s.call(
        json!(7),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi"}}),
    );
    let records = finish(&mut s);
    let completed = find(&records, "MCP request completed", "7");

    let received = receiver.received();
    let span = received
        .iter()
        .filter(|r| r.path == "/v1/traces")
        .flat_map(|r| spans(&r.body))
        .find(|s| s.name == "request.process" && s.attr("mcp.request.id") == Some("7"))
        .expect("the request's span was exported");
    assert_eq!(
        completed["trace_id"],
        hex(&span.trace_id),
        "same trace as the span"
    );
    assert_eq!(
        completed["span_id"],
        hex(&span.span_id),
        "same span as the span"
    );

    let logs: Vec<_> = received
        .iter()
        .filter(|r| r.path == "/v1/logs")
        .inspect(|r| assert_eq!(r.content_type, "application/x-protobuf"))
        .flat_map(|r| log_records(&r.body))
        .collect();
    let otlp = logs
        .iter()
        .find(|l| l.body == "MCP request completed" && l.attr("request_id") == Some("7"))
        .unwrap_or_else(|| panic!("completion record exported over OTLP: {logs:#?}"));
    assert_eq!(
        (otlp.severity_number, otlp.severity_text.as_str()),
        (9, "INFO")
    );
    assert_eq!(otlp.attr("mcp_method"), Some("tools/call"));
    assert_eq!(otlp.attr("logger"), Some("tfo_mcp::logging::events"));
    assert_eq!(
        otlp.trace_id, span.trace_id,
        "OTLP record in the span's trace"
    );
    assert_eq!(otlp.span_id, span.span_id, "OTLP record in the span");
    assert!(
        logs.iter()
            .any(|l| l.body == "tfo-mcp starting on stdio" && l.trace_id.is_empty()),
        "records outside requests have no trace"
    );
}

#[test]
fn secrets_in_arguments_and_headers_never_leave_the_process() {
    let receiver = Receiver::start(vec![]);
    let mut s = Server::start(&[
        ("TELEMETRYFLOW_MCP_LOG_LEVEL", "DEBUG"),
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", &receiver.url),
        ("TELEMETRYFLOW_MCP_LOG_OTLP_ENABLED", "true"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    s.initialize("2025-06-18");
    let mut stdout = Vec::new();
    stdout.push(
        s.call(json!(1), "logging/setLevel", json!({"level": "debug"}))
            .to_string(),
    );
    let secret_args = json!({
        "message": "hi",
        "api_key": "sk-ant-secret123",
        "headers": {"Authorization": "Bearer abcdef123456"}
    });
    let requests = [
        json!({"name": "echo", "arguments": secret_args}),
        json!({"name": "sk-ant-secret123", "arguments": {}}),
        json!({"name": "echo", "arguments": {"message": "hi"},
               "_meta": {"authorization": "Bearer abcdef123456", "note": "key sk-ant-secret123"}}),
    ];
    for (i, params) in requests.into_iter().enumerate() {
        s.request(json!(10 + i), "tools/call", params);
    }
    // Secrets glued to a word or percent-encoded in a URI or a path.
    s.request(
        json!(13),
        "tools/call",
        json!({"name": "x_sk-ant-api03-secret123secret123", "arguments": {}}),
    );
    s.request(
        json!(14),
        "resources/read",
        json!({"uri": "file:///tmp/a%20Bearer%20abcdef123456"}),
    );
    s.request(
        json!(15),
        "tools/call",
        json!({"name": "read_file", "arguments": {"path": "/tmp/password%3Dsecret123"}}),
    );
    // A request id is the client's text too: its answer must echo it, nothing else may.
    let id_secret = "idsecret987654";
    s.request(
        json!(format!("Bearer {id_secret}")),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi"}}),
    );
    // So is a method name, even one that is no method.
    let method_secret = "methodsecret24680";
    s.request(json!(20), &format!("Bearer {method_secret}"), json!({}));
    s.close_stdin();
    let (status, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    stdout.extend(s.drain_stdout());
    let stdout = stdout.join("\n");
    let echoed = format!("\"id\":\"Bearer {id_secret}\"");
    assert!(
        stdout.contains(&echoed),
        "its answer echoes the id: {stdout}"
    );
    // The one place the id's text belongs.
    let stdout = stdout.replace(&echoed, "\"id\":\"(the id, echoed)\"");
    assert!(
        stdout.contains("notifications/message"),
        "the client got log notifications: {stdout}"
    );
    let stderr = s.stderr();
    let exported: String = receiver
        .received()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        exported.contains("[REDACTED]"),
        "exported telemetry was redacted, not empty"
    );
    assert!(
        stderr.contains("[REDACTED]"),
        "logs were redacted, not silent"
    );
    for (name, text) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("OTLP", &exported),
    ] {
        for secret in ["secret123", "abcdef123456"] {
            assert!(!text.contains(secret), "{secret} leaked on {name}:\n{text}");
        }
    }
    for (name, text) in [("stderr", &stderr), ("OTLP", &exported)] {
        assert!(
            !text.contains(id_secret),
            "the request id's secret leaked on {name}:\n{text}"
        );
    }
    for (name, text) in [
        ("stdout", &stdout),
        ("stderr", &stderr),
        ("OTLP", &exported),
    ] {
        assert!(
            !text.contains(method_secret),
            "the method's secret leaked on {name}:\n{text}"
        );
    }
}

#[test]
fn a_slow_request_is_warned_about_and_marked_on_its_span() {
    let receiver = Receiver::start(vec![]);
    let mut s = Server::with_diagnostics(&[
        ("TELEMETRYFLOW_MCP_SLOW_REQUEST_THRESHOLD_MS", "50"),
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", &receiver.url),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    s.initialize("2025-06-18");
    s.call(
        json!(1),
        "tools/call",
        json!({"name": "sleep", "arguments": {"ms": 200}}),
    );
    s.call(
        json!(2),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "fast"}}),
    );
    let records = finish(&mut s);
    let slow: Vec<&Value> = records
        .iter()
        .filter(|r| r["message"] == "Slow request detected")
        .collect();
    assert_eq!(slow.len(), 1, "only the sleep is slow: {slow:#?}");
    let warning = slow[0];
    assert_eq!(warning["level"], "warning");
    assert_eq!(warning["operation"], "tools/call");
    assert_eq!(warning["request_id"], "1");
    assert!(
        warning["duration_seconds"]
            .as_f64()
            .is_some_and(|d| d >= 0.2)
    );
    assert_eq!(warning["threshold_seconds"], 0.05);
    let all: Vec<_> = receiver
        .received()
        .iter()
        .flat_map(|r| spans(&r.body))
        .collect();
    let span_of = |id: &str| {
        all.iter()
            .find(|s| s.name == "request.process" && s.attr("mcp.request.id") == Some(id))
            .unwrap_or_else(|| panic!("span of request {id}"))
    };
    assert!(
        span_of("1").events.iter().any(|(e, _)| e == "slow_request"),
        "slow span marked"
    );
    assert!(
        !span_of("2").events.iter().any(|(e, _)| e == "slow_request"),
        "fast span not marked"
    );
}

#[test]
fn set_level_debug_then_a_call_yields_log_notifications() {
    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    s.call(json!(1), "logging/setLevel", json!({"level": "debug"}));
    s.request(
        json!(2),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "hi"}}),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut notes = Vec::new();
    let about_2 = |n: &Value, message: &str| {
        n["params"]["data"]["message"] == message && n["params"]["data"]["request_id"] == "2"
    };
    while Instant::now() < deadline && !notes.iter().any(|n| about_2(n, "MCP request completed")) {
        let message = s.recv();
        if message["method"] == "notifications/message" {
            notes.push(message);
        }
    }
    let received = notes
        .iter()
        .find(|n| about_2(n, "MCP request received"))
        .unwrap_or_else(|| panic!("debug record forwarded: {notes:#?}"));
    assert_eq!(received["params"]["level"], "debug");
    assert_eq!(received["params"]["data"]["mcp_method"], "tools/call");
    let completed = notes
        .iter()
        .find(|n| about_2(n, "MCP request completed"))
        .expect("completion forwarded");
    assert_eq!(completed["params"]["level"], "info");
    assert_eq!(completed["params"]["logger"], "tfo_mcp::logging::events");
    assert!(
        completed["params"]["data"]["trace_id"].is_string(),
        "context in data"
    );
    let records = finish(&mut s);
    assert!(
        !records.iter().any(|r| r["level"] == "debug"),
        "the client's level does not change what is written at INFO"
    );
}

#[test]
fn log_output_stdout_is_refused_with_exit_2() {
    let output = common::command()
        .env("TELEMETRYFLOW_MCP_LOG_OUTPUT", "stdout")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run tfo-mcp");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing on stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("LOG_OUTPUT=stdout is refused"), "{stderr}");
}

#[test]
fn file_output_is_private_and_rotated() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("tfo-mcp-logging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("tfo.log");
    let path_text = path.to_str().expect("utf-8 path").to_string();
    let mut s = Server::start(&[
        ("TELEMETRYFLOW_MCP_LOG_OUTPUT", &path_text),
        ("TELEMETRYFLOW_MCP_LOG_LEVEL", "DEBUG"),
        ("TELEMETRYFLOW_MCP_LOG_FILE_MAX_BYTES", "4000"),
        ("TELEMETRYFLOW_MCP_LOG_FILE_KEEP", "2"),
    ]);
    s.initialize("2025-06-18");
    for i in 0..40 {
        s.call(
            json!(i),
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "x"}}),
        );
    }
    s.close_stdin();
    let (status, _) = s.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
    assert_eq!(s.stderr(), "", "records go to the file only");
    let rotated = |i: usize| dir.join(format!("tfo.log.{i}"));
    for file in [path.clone(), rotated(1), rotated(2)] {
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{} exists: {e}", file.display()));
        assert!(
            text.len() <= 4000,
            "{} within the size limit",
            file.display()
        );
        parse_records(&text);
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is private", file.display());
    }
    assert!(!rotated(3).exists(), "only two rotated files are kept");
    let newest = std::fs::read_to_string(&path).expect("current file");
    assert!(
        newest.contains("\"tfo-mcp stopped\""),
        "the last record is in the current file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_collector_is_a_critical_backend_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut s = Server::start(&[
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ]);
    s.initialize("2025-06-18");
    s.call(json!(1), "ping", json!({}));
    std::thread::sleep(Duration::from_millis(300));
    let records = finish(&mut s);
    let critical = records
        .iter()
        .find(|r| r["message"] == "Critical error detected")
        .unwrap_or_else(|| panic!("critical record: {records:#?}"));
    assert_eq!(critical["level"], "critical");
    assert_eq!(critical["error_type"], "BackendError");
    assert_eq!(critical["operation"], "otlp.export.traces");
    assert!(critical["error_message"].is_string());
    assert!(
        records
            .iter()
            .any(|r| r["message"] == "Operation failed" && r["error_type"] == "BackendError"),
        "the failure is tracked as an error too"
    );
}

#[test]
fn dropped_notifications_are_logged_but_never_notified() {
    let mut s = Server::start(&[("TELEMETRYFLOW_MCP_LOG_NOTIFY_RATE", "1")]);
    s.initialize("2025-06-18");
    s.request(json!(1), "logging/setLevel", json!({"level": "debug"}));
    for i in 2..12 {
        s.request(json!(i), "ping", json!({}));
    }
    let records = finish(&mut s);
    let stdout = s.drain_stdout();
    let notes: Vec<Value> = stdout
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
        .filter(|m| m["method"] == "notifications/message")
        .collect();
    assert!(
        !notes.is_empty(),
        "the rate lets some notifications through"
    );
    assert!(
        records.iter().any(
            |r| r["message"] == "log notifications dropped by the rate limit"
                && r["level"] == "warning"
        ),
        "drops are reported in the log"
    );
    for note in &notes {
        assert_ne!(
            note["params"]["logger"], "tfo_mcp::mcp::notify",
            "a record about notifying is never itself notified: {note}"
        );
    }
}
