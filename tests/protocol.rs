//! JSON-RPC behaviour of the real binary: error codes with exact ids, id types,
//! notifications, batches per revision, oversized lines with bounded memory.

mod common;

use common::Server;
use serde_json::{Value, json};
use std::time::Duration;

#[test]
fn malformed_input_gets_precise_errors_and_the_server_goes_on() {
    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    let cases: &[(&[u8], i64, Value)] = &[
        (b"{not json", -32700, Value::Null),
        (b"\xff\xfe\xfd", -32700, Value::Null),
        (b"{\"jsonrpc\":\"2.0\",\"id\":\"\xc3\x28\",\"method\":\"ping\"}", -32700, Value::Null),
        (b"42", -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":11}"#, -32600, json!(11)),
        (br#"{"jsonrpc":"1.0","id":12,"method":"ping"}"#, -32600, json!(12)),
        (br#"{"id":13,"method":"ping"}"#, -32600, json!(13)),
        (br#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#, -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":"p","method":"ping","params":[1,2]}"#, -32600, json!("p")),
        (br#"{"jsonrpc":"2.0","id":"p2","method":"ping","params":"x"}"#, -32600, json!("p2")),
        (br#"{"jsonrpc":"2.0","id":14,"method":7}"#, -32600, json!(14)),
        (br#"{"jsonrpc":"2.0","id":15,"method":"no/such/method"}"#, -32601, json!(15)),
        (br#"{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"nope"}}"#, -32602, json!(16)),
        (br#"{"jsonrpc":"2.0","id":17,"method":"tools/call","params":{}}"#, -32602, json!(17)),
        (br#"{"jsonrpc":"2.0","id":18,"method":"tools/call","params":{"name":"echo","arguments":[1]}}"#, -32602, json!(18)),
        (br#"{"jsonrpc":"2.0","id":19,"method":"tools/call","params":{"name":"echo","arguments":{"message":1}}}"#, -32602, json!(19)),
        (br#"{"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":"echo","arguments":{"message":"a","x":1}}}"#, -32602, json!(20)),
        (br#"{"jsonrpc":"2.0","id":21,"method":"tools/list","params":{"cursor":"bogus"}}"#, -32602, json!(21)),
    ];
    for (line, code, id) in cases {
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        s.write_raw(&bytes);
        let reply = s.recv();
        let shown = String::from_utf8_lossy(line);
        assert_eq!(reply["error"]["code"], *code, "code for {shown}: {reply}");
        assert_eq!(reply["id"], *id, "id for {shown}: {reply}");
        assert!(
            reply.get("id").is_some(),
            "id present (null when unreadable) for {shown}"
        );
        assert!(
            reply["error"]["message"]
                .as_str()
                .is_some_and(|m| m.len() > 10),
            "a precise message for {shown}: {reply}"
        );
    }
    let ok = s.call(json!(99), "ping", json!({}));
    assert_eq!(ok["result"], json!({}), "server alive after every bad line");
}

#[test]
fn ids_are_echoed_with_their_exact_type_and_value() {
    let mut s = Server::start(&[]);
    s.initialize("2025-11-25");
    for raw in [
        "7",
        "\"7\"",
        "-3",
        "0",
        "\"\"",
        "\"\u{e9}\\n\"",
        "18446744073709551615",
        "123456789012345678901234567890",
    ] {
        s.send_line(&format!(
            r#"{{"jsonrpc":"2.0","id":{raw},"method":"ping"}}"#
        ));
        let line = s.recv_line();
        assert!(
            line.contains(&format!(r#""id":{raw},"#)),
            "id {raw} must come back byte for byte: {line}"
        );
    }
}

#[test]
fn notifications_are_never_answered() {
    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    for method in [
        "notifications/unknown",
        "notifications/progress",
        "notifications/cancelled",
        "tools/list",
        "ping",
    ] {
        s.send(json!({"jsonrpc": "2.0", "method": method}));
    }
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 424242}}));
    s.expect_silence(
        Duration::from_millis(300),
        "notifications, known or not, get no response",
    );
    assert_eq!(s.call(json!(1), "ping", json!({}))["result"], json!({}));
}

#[test]
fn batches_are_answered_as_arrays_only_in_2025_03_26() {
    let batch = r#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":"b","method":"nope"},5]"#;
    let mut s = Server::start(&[]);
    s.initialize("2025-03-26");
    s.send_line(batch);
    let reply = s.recv();
    let items = reply.as_array().expect("an array answers a batch");
    assert_eq!(
        items.len(),
        3,
        "one entry per request and per invalid item, none for the notification"
    );
    assert_eq!(items[0], json!({"jsonrpc": "2.0", "id": 1, "result": {}}));
    assert_eq!(items[1]["id"], "b");
    assert_eq!(items[1]["error"]["code"], -32601);
    assert_eq!(items[2]["error"]["code"], -32600);
    s.send_line(r#"[{"jsonrpc":"2.0","method":"notifications/x"}]"#);
    s.expect_silence(
        Duration::from_millis(200),
        "a batch of notifications gets nothing back",
    );
    s.send_line(r#"[{"jsonrpc":"2.0","id":9,"method":"initialize","params":{"protocolVersion":"2025-03-26"}}]"#);
    let reply = s.recv();
    assert_eq!(
        reply[0]["error"]["code"], -32600,
        "initialize must not be batched: {reply}"
    );

    for version in ["2024-11-05", "2025-06-18", "2025-11-25"] {
        let mut s = Server::start(&[]);
        s.initialize(version);
        s.send_line(batch);
        let reply = s.recv();
        assert_eq!(
            reply["error"]["code"], -32600,
            "{version}: one -32600 for a batch: {reply}"
        );
        assert_eq!(reply["id"], Value::Null);
    }
}

#[test]
fn oversized_line_is_refused_with_bounded_memory_and_the_next_line_served() {
    let limit = 1024 * 1024;
    let mut s = Server::start(&[("TELEMETRYFLOW_MCP_MAX_LINE_BYTES", &limit.to_string())]);
    s.initialize("2025-06-18");
    let baseline_kb = s.proc_status_kb("VmHWM");
    // 64 MiB in one line, written in chunks while the server streams it away.
    let chunk = vec![b'x'; 1024 * 1024];
    s.write_raw(br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":""#);
    for _ in 0..64 {
        s.write_raw(&chunk);
    }
    s.write_raw(b"\"}}}\n");
    let reply = s.recv();
    assert_eq!(reply["error"]["code"], -32600, "oversized line: {reply}");
    assert_eq!(reply["id"], Value::Null);
    assert!(
        reply["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("1048576"),
        "names the limit: {reply}"
    );
    let peak_kb = s.proc_status_kb("VmHWM");
    assert!(
        peak_kb < baseline_kb + 8 * 1024,
        "peak RSS grew by {} kB for a 64 MiB line; the reader must not hold more than the 1 MiB limit",
        peak_kb - baseline_kb
    );
    let ok = s.call(
        json!(2),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "after"}}),
    );
    assert_eq!(
        ok["result"]["content"][0]["text"], "after",
        "the next line is served normally"
    );
}

#[test]
fn a_line_just_under_the_limit_is_served() {
    let limit = 64 * 1024;
    let mut s = Server::start(&[("TELEMETRYFLOW_MCP_MAX_LINE_BYTES", &limit.to_string())]);
    s.initialize("2025-06-18");
    let prefix = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":""#;
    let suffix = r#""}}}"#;
    let message = "y".repeat(limit - prefix.len() - suffix.len());
    s.send_line(&format!("{prefix}{message}{suffix}"));
    let reply = s.recv();
    assert_eq!(
        reply["result"]["content"][0]["text"].as_str().map(str::len),
        Some(message.len()),
        "exactly the limit fits"
    );
}
