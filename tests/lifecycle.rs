//! Handshake revisions, the 2026-07-28 stateless revision, and pagination,
//! through the real binary.

mod common;

use common::{Server, modern_meta};
use serde_json::{Value, json};

/// The built-in tools, in the order `tools/list` gives them.
const BUILTIN_TOOLS: [&str; 8] = [
    "echo",
    "system_info",
    "health_check",
    "read_file",
    "write_file",
    "list_directory",
    "search_files",
    "execute_command",
];

#[test]
fn initialize_echoes_supported_versions_and_answers_latest_otherwise() {
    for (asked, answered) in [
        ("2024-11-05", "2024-11-05"),
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("2026-07-28", "2025-11-25"),
        ("2099-01-01", "2025-11-25"),
    ] {
        let mut s = Server::start(&[]);
        let result = s.initialize(asked);
        assert_eq!(
            result["protocolVersion"], answered,
            "initialize asking {asked}"
        );
        assert_eq!(result["serverInfo"]["name"], "tfo-mcp");
        assert_eq!(result["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(
            result["serverInfo"].get("title").is_some(),
            answered >= "2025-06-18",
            "title only from 2025-06-18 ({asked})"
        );
        let mut capabilities = json!({
            "tools": {"listChanged": false},
            "logging": {},
            "resources": {"subscribe": false, "listChanged": false},
            "prompts": {"listChanged": false},
        });
        // `completions` exists from 2025-03-26; 2024-11-05 has no flag for it.
        if answered >= "2025-03-26" {
            capabilities["completions"] = json!({});
        }
        assert_eq!(
            result["capabilities"], capabilities,
            "capabilities declare only what is implemented ({asked})"
        );
        assert!(
            result["instructions"]
                .as_str()
                .is_some_and(|i| !i.is_empty())
        );
        let tools = s.call(json!(1), "tools/list", json!({}));
        let names: Vec<&str> = tools["result"]["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .filter_map(|t| t["name"].as_str())
            .collect();
        assert_eq!(names, BUILTIN_TOOLS, "built-in tools for {asked}");
        let echo = s.call(
            json!(2),
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "hi"}}),
        );
        assert_eq!(
            echo["result"]["content"][0],
            json!({"type": "text", "text": "hi"})
        );
        assert_eq!(
            echo["result"].get("structuredContent").is_some(),
            answered >= "2025-06-18",
            "structuredContent only from 2025-06-18 ({asked})"
        );
    }
}

#[test]
fn requests_before_initialize_are_refused_but_initialize_still_works() {
    let mut s = Server::start(&[]);
    assert_eq!(
        s.call(json!(1), "ping", json!({}))["result"],
        json!({}),
        "ping is fine before initialize"
    );
    let early = s.call(json!(2), "tools/list", json!({}));
    assert_eq!(
        early["error"]["code"], -32600,
        "tools/list before initialize: {early}"
    );
    let bad = s.call(json!(3), "initialize", json!({"capabilities": {}}));
    assert_eq!(
        bad["error"]["code"], -32602,
        "initialize without protocolVersion: {bad}"
    );
    let result = s.initialize("2025-06-18");
    assert_eq!(
        result["protocolVersion"], "2025-06-18",
        "initialize accepted after errors"
    );
    let again = s.call(json!(4), "initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}));
    assert_eq!(
        again["error"]["code"], -32600,
        "a second initialize is an error: {again}"
    );
    assert_eq!(
        s.call(json!(5), "tools/list", json!({}))["result"]["tools"]
            .as_array()
            .map(Vec::len),
        Some(8)
    );
}

#[test]
fn tool_input_validation_follows_the_negotiated_revision() {
    for (version, protocol_error) in [
        ("2024-11-05", true),
        ("2025-06-18", true),
        ("2025-11-25", false),
    ] {
        let mut s = Server::start(&[]);
        s.initialize(version);
        let reply = s.call(
            json!(1),
            "tools/call",
            json!({"name": "echo", "arguments": {}}),
        );
        if protocol_error {
            assert_eq!(
                reply["error"]["code"], -32602,
                "{version}: -32602 for bad arguments: {reply}"
            );
            assert!(
                reply["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("arguments.message"),
                "names the field"
            );
        } else {
            assert_eq!(
                reply["result"]["isError"], true,
                "{version}: isError result: {reply}"
            );
            assert!(
                reply["result"]["content"][0]["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("arguments.message"),
                "names the field"
            );
        }
        let unknown = s.call(
            json!(2),
            "tools/call",
            json!({"name": "nope", "arguments": {}}),
        );
        assert_eq!(
            unknown["error"]["code"], -32602,
            "{version}: unknown tool is a protocol error"
        );
    }
}

#[test]
fn revision_2026_07_28_is_served_without_handshake() {
    let mut s = Server::start(&[]);
    let discover = s.call(json!(1), "server/discover", json!({"_meta": modern_meta()}));
    let result = &discover["result"];
    assert_eq!(result["resultType"], "complete", "{discover}");
    assert_eq!(result["supportedVersions"], json!(["2026-07-28"]));
    assert_eq!(
        result["capabilities"]["tools"],
        json!({"listChanged": false})
    );
    assert!(
        result["ttlMs"].as_u64().is_some() && result["cacheScope"] == "public",
        "cache hints: {result}"
    );
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "tfo-mcp"
    );

    let list = s.call(json!(2), "tools/list", json!({"_meta": modern_meta()}));
    assert_eq!(list["result"]["resultType"], "complete");
    assert!(
        list["result"]["ttlMs"].is_u64(),
        "tools/list is cacheable: {list}"
    );
    let call = s.call(
        json!(3),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "m"}, "_meta": modern_meta()}),
    );
    assert_eq!(call["result"]["resultType"], "complete");
    assert_eq!(call["result"]["structuredContent"], json!({"message": "m"}));
    assert_eq!(
        call["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "tfo-mcp"
    );

    let mut meta = modern_meta();
    meta["io.modelcontextprotocol/protocolVersion"] = json!("2027-01-01");
    let unsupported = s.call(json!(4), "tools/list", json!({"_meta": meta}));
    assert_eq!(unsupported["error"]["code"], -32022, "{unsupported}");
    assert_eq!(
        unsupported["error"]["data"],
        json!({"supported": ["2026-07-28"], "requested": "2027-01-01"})
    );

    let no_meta = s.call(json!(5), "tools/list", json!({}));
    assert_eq!(
        no_meta["error"]["code"], -32602,
        "missing _meta protocolVersion: {no_meta}"
    );
    let mut meta = modern_meta();
    meta.as_object_mut()
        .expect("object")
        .remove("io.modelcontextprotocol/clientCapabilities");
    let no_caps = s.call(json!(6), "tools/list", json!({"_meta": meta}));
    assert_eq!(
        no_caps["error"]["code"], -32602,
        "missing clientCapabilities: {no_caps}"
    );
    assert!(
        no_caps["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("clientCapabilities")
    );

    for removed in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
    ] {
        let reply = s.call(json!(removed), removed, json!({"_meta": modern_meta()}));
        assert_eq!(
            reply["error"]["code"], -32601,
            "{removed} is not served in 2026-07-28: {reply}"
        );
    }
    let invalid = s.call(
        json!(7),
        "tools/call",
        json!({"name": "echo", "arguments": {"message": 3}, "_meta": modern_meta()}),
    );
    assert_eq!(
        invalid["result"]["isError"], true,
        "validation failures are tool errors in 2026: {invalid}"
    );
    let mut meta = modern_meta();
    meta["io.modelcontextprotocol/logLevel"] = json!("verbose");
    let bad_level = s.call(json!(8), "tools/list", json!({"_meta": meta}));
    assert_eq!(
        bad_level["error"]["code"], -32602,
        "unknown logLevel: {bad_level}"
    );
}

#[test]
fn a_refused_modern_request_leaves_the_era_open_for_initialize() {
    let mut s = Server::start(&[]);
    let mut meta = modern_meta();
    meta["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let refused = s.call(json!(1), "server/discover", json!({"_meta": meta}));
    assert_eq!(refused["error"]["code"], -32022, "{refused}");
    assert_eq!(
        refused["error"]["data"]["supported"],
        json!([
            "2026-07-28",
            "2025-11-25",
            "2025-06-18",
            "2025-03-26",
            "2024-11-05"
        ]),
        "while the era is open every revision is usable"
    );
    let result = s.initialize("2025-06-18");
    assert_eq!(
        result["protocolVersion"], "2025-06-18",
        "fallback to the handshake works"
    );
    let discover = s.call(json!(2), "server/discover", json!({"_meta": modern_meta()}));
    assert_eq!(
        discover["error"]["code"], -32601,
        "a legacy session does not serve server/discover: {discover}"
    );
}

#[test]
fn pagination_walks_every_page_with_opaque_cursors() {
    let mut s = Server::with_diagnostics(&[("TELEMETRYFLOW_MCP_PAGE_SIZE", "1")]);
    s.initialize("2025-06-18");
    let mut names = Vec::new();
    let mut cursor = Value::Null;
    for page in 0.. {
        assert!(page < 10, "pagination must end");
        let params = if cursor.is_null() {
            json!({})
        } else {
            json!({"cursor": cursor})
        };
        let reply = s.call(json!(page), "tools/list", params);
        let tools = reply["result"]["tools"].as_array().expect("tools");
        assert_eq!(tools.len(), 1, "page size 1: {reply}");
        names.push(tools[0]["name"].as_str().expect("name").to_string());
        cursor = reply["result"]
            .get("nextCursor")
            .cloned()
            .unwrap_or(Value::Null);
        if cursor.is_null() {
            break;
        }
        assert!(cursor.is_string(), "cursor is a string");
    }
    assert_eq!(
        names,
        [&BUILTIN_TOOLS[..], &["sleep", "panic"]].concat(),
        "the built-in tools, then the diagnostic ones"
    );
    for bad in [json!("x"), json!(""), json!(5), json!("746f6f6c733a3939")] {
        let reply = s.call(json!("bad"), "tools/list", json!({"cursor": bad}));
        assert_eq!(
            reply["error"]["code"], -32602,
            "invalid cursor {bad}: {reply}"
        );
    }
}
