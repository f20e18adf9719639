//! A whole server run in memory on arbitrary lines. The first byte picks the start:
//! even bytes send a valid `initialize` first (one of the four handshake revisions),
//! odd bytes leave the server uninitialized so pre-init and 2026-07-28 requests are
//! explored. Every output line must be one JSON-RPC 2.0 message (or a batch of them).

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::time::Duration;
use tfo_mcp::config::Config;
use tfo_mcp::mcp::run_in_memory;

/// An output message, fields kept as raw JSON (ids may be integers beyond `u64`).
type Message = HashMap<String, Box<RawValue>>;

const REVISIONS: [&str; 4] = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// The diagnostic `panic` tool panics on purpose and the server answers -32603;
/// any other panic still reaches libFuzzer's aborting hook and is a crash.
fn tolerate_the_diagnostic_panic() {
    let fuzzer_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload().downcast_ref::<&str>() != Some(&"diagnostic panic requested") {
            fuzzer_hook(info);
        }
    }));
}

/// One output message: a notification (`method`, no `id`) or a response (`id` and
/// exactly one of `result`, always an object, or `error`).
fn check_message(message: &Message, line: &str) {
    let field = |name: &str| message.get(name).map(|raw| raw.get());
    assert_eq!(field("jsonrpc"), Some("\"2.0\""), "jsonrpc 2.0 on {line}");
    match (
        field("method"),
        field("id"),
        field("result"),
        field("error"),
    ) {
        (Some(_), None, None, None) => {}
        (None, Some(_), Some(result), None) => {
            assert!(result.starts_with('{'), "result is an object: {line}")
        }
        (None, Some(_), None, Some(error)) => {
            assert!(error.starts_with('{'), "error is an object: {line}")
        }
        _ => panic!("neither a notification nor a response: {line}"),
    }
}

fuzz_target!(init: tolerate_the_diagnostic_panic(), |data: &[u8]| run(data));

fn run(data: &[u8]) {
    let Some((&start, rest)) = data.split_first() else {
        return;
    };
    let mut lines = Vec::new();
    if start % 2 == 0 {
        let version = REVISIONS[usize::from(start / 2) % REVISIONS.len()];
        let params = json!({
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "fuzz", "version": "0"},
        });
        let initialize =
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params});
        lines.push(initialize.to_string().into_bytes());
        lines.push(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_vec());
    }
    // What the stdio reader hands over: blank lines are skipped, a trailing `\r` is kept.
    let given = rest.split(|&b| b == b'\n');
    lines.extend(
        given
            .filter(|l| !l.is_empty() && *l != b"\r")
            .map(<[u8]>::to_vec),
    );

    let mut config = Config::default();
    config.server.diagnostic_tools = true;
    // At end of input cancel in-flight `sleep` calls at once, and never make the
    // reader wait for a slot: a run then takes as long as its shortest sleeps.
    config.server.shutdown_grace = Duration::ZERO;
    config.server.max_in_flight = 4096;

    for line in run_in_memory(config, lines) {
        assert!(!line.contains('\n'), "one message per line: {line:?}");
        let messages: Vec<Message> = if line.starts_with('[') {
            let batch: Vec<Message> = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("batch reply is not JSON ({e}): {line}"));
            assert!(!batch.is_empty(), "no empty batch reply");
            batch
        } else {
            vec![
                serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("reply is not a JSON object ({e}): {line}")),
            ]
        };
        messages.iter().for_each(|m| check_message(m, &line));
    }
}
