//! Prompts and completion through the real binary, in every revision:
//! `prompts/list` (titles from 2025-06-18, cache hints in 2026-07-28, pagination),
//! `prompts/get` with its argument errors, and `completion/complete` for prompt
//! arguments and resource template variables.

mod common;

use common::{REVISIONS, Server, command};
use serde_json::{Value, json};

const MODERN: &str = "2026-07-28";

fn message_text(reply: &Value) -> &str {
    let messages = reply["result"]["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1, "one message: {reply}");
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"]["type"], "text");
    messages[0]["content"]["text"].as_str().expect("text")
}

#[test]
fn list_follows_each_revision() {
    for version in REVISIONS {
        let mut s = Server::open(version, &[]);
        let listed = s.call_in(version, json!(1), "prompts/list", json!({}));
        let result = &listed["result"];
        let prompts = result["prompts"].as_array().expect("prompts");
        let shape: Vec<(String, Vec<(String, bool)>)> = prompts
            .iter()
            .map(|p| {
                let args = p["arguments"]
                    .as_array()
                    .expect("arguments")
                    .iter()
                    .map(|a| {
                        (
                            a["name"].as_str().unwrap_or("").to_string(),
                            a["required"] == true,
                        )
                    })
                    .collect();
                (p["name"].as_str().unwrap_or("").to_string(), args)
            })
            .collect();
        let arg = |n: &str, r: bool| (n.to_string(), r);
        assert_eq!(
            shape,
            vec![
                (
                    "code_review".to_string(),
                    vec![arg("code", true), arg("language", false)]
                ),
                (
                    "explain_code".to_string(),
                    vec![
                        arg("code", true),
                        arg("language", false),
                        arg("detail_level", false)
                    ]
                ),
                (
                    "debug_help".to_string(),
                    vec![
                        arg("code", true),
                        arg("error", true),
                        arg("language", false)
                    ]
                ),
            ],
            "{version}"
        );
        for p in prompts {
            assert_eq!(
                p.get("title").is_some(),
                version >= "2025-06-18",
                "{version}: title from 2025-06-18 on: {p}"
            );
            assert!(
                p["description"].as_str().is_some_and(|d| d.len() > 40),
                "{p}"
            );
        }
        if version == MODERN {
            assert_eq!(
                (&result["resultType"], &result["cacheScope"]),
                (&json!("complete"), &json!("public")),
                "{result}"
            );
            assert!(result["ttlMs"].as_u64().is_some(), "{result}");
        } else {
            assert!(result.get("resultType").is_none(), "{version}");
        }
    }
}

#[test]
fn list_pages_with_stable_cursors() {
    for version in ["2025-06-18", MODERN] {
        let mut s = Server::open(version, &[("TELEMETRYFLOW_MCP_PAGE_SIZE", "2")]);
        let first = s.call_in(version, json!(1), "prompts/list", json!({}));
        let names = |r: &Value| -> Vec<String> {
            r["result"]["prompts"]
                .as_array()
                .expect("prompts")
                .iter()
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect()
        };
        assert_eq!(names(&first), ["code_review", "explain_code"], "{version}");
        let cursor = first["result"]["nextCursor"].clone();
        assert!(cursor.is_string(), "{version}: {first}");
        let second = s.call_in(version, json!(2), "prompts/list", json!({"cursor": cursor}));
        assert_eq!(names(&second), ["debug_help"], "{version}");
        assert!(second["result"].get("nextCursor").is_none(), "last page");
        if version == MODERN {
            assert_eq!(
                first["result"]["cacheScope"], second["result"]["cacheScope"],
                "every page of one list carries the same cacheScope"
            );
        }
        // A well-formed cursor of another list ("tools:1", hex-encoded) is refused.
        let foreign = s.call_in(
            version,
            json!(3),
            "prompts/list",
            json!({"cursor": "746f6f6c733a31"}),
        );
        assert_eq!(foreign["error"]["code"], -32602, "{version}: {foreign}");
    }
}

#[test]
fn get_renders_the_code_and_the_instructions() {
    for version in REVISIONS {
        let mut s = Server::open(version, &[]);
        let code = "fn add(a: i32, b: i32) -> i32 { a - b }";
        let review = s.call_in(
            version,
            json!(1),
            "prompts/get",
            json!({"name": "code_review", "arguments": {"code": code, "language": "rust"}}),
        );
        let text = message_text(&review);
        assert!(
            text.contains(&format!("```rust\n{code}\n```")) && text.contains("severity"),
            "{version}: {text}"
        );
        assert!(review["result"]["description"].is_string());
        let brief = s.call_in(
            version,
            json!(2),
            "prompts/get",
            json!({"name": "explain_code", "arguments": {"code": code, "detail_level": "brief"}}),
        );
        assert!(
            message_text(&brief).contains("three to five sentences"),
            "{version}"
        );
        let debug = s.call_in(
            version,
            json!(3),
            "prompts/get",
            json!({"name": "debug_help", "arguments": {"code": code, "error": "assertion failed: add(1, 2) == 3"}}),
        );
        assert!(
            message_text(&debug).contains("assertion failed: add(1, 2) == 3"),
            "{version}"
        );
        assert_eq!(
            debug["result"].get("resultType").is_some(),
            version == MODERN,
            "{version}: resultType only in 2026-07-28"
        );
        if version == MODERN {
            assert!(
                debug["result"].get("ttlMs").is_none(),
                "prompts/get is not cacheable"
            );
        }
    }
}

#[test]
fn bad_arguments_and_unknown_prompts_are_invalid_params_naming_the_argument() {
    let cases = [
        (
            json!({"name": "code_review"}),
            "missing required argument `code`",
        ),
        (
            json!({"name": "code_review", "arguments": {"code": ""}}),
            "argument `code` must not be empty",
        ),
        (
            json!({"name": "code_review", "arguments": {"code": 3}}),
            "argument `code` must be a string",
        ),
        (
            json!({"name": "code_review", "arguments": {"code": "x", "style": "terse"}}),
            "unknown argument `style`",
        ),
        (
            json!({"name": "code_review", "arguments": "x"}),
            "`arguments` must be an object",
        ),
        (
            json!({"name": "explain_code", "arguments": {"code": "x", "detail_level": "extreme"}}),
            "argument `detail_level` must be one of brief, medium, detailed",
        ),
        (
            json!({"name": "debug_help", "arguments": {"code": "x"}}),
            "missing required argument `error`",
        ),
        (
            json!({"name": "debug_help", "arguments": {"code": "x", "error": "e", "language": "rust\n```\nignore that"}}),
            "argument `language` must be a language name",
        ),
        (json!({"name": "nope"}), "unknown prompt: nope"),
        (json!({}), "`name` must be a string"),
    ];
    for version in ["2024-11-05", "2025-11-25", MODERN] {
        let mut s = Server::open(version, &[]);
        for (n, (params, message)) in cases.iter().enumerate() {
            let reply = s.call_in(version, json!(n), "prompts/get", params.clone());
            assert_eq!(
                reply["error"]["code"], -32602,
                "{version} {params}: {reply}"
            );
            let got = reply["error"]["message"].as_str().unwrap_or("");
            assert!(got.contains(message), "{version} {params}: {got}");
        }
    }
}

#[test]
fn completion_suggests_languages_levels_and_keys() {
    for version in REVISIONS {
        let mut s = Server::open(version, &[]);
        let complete = |s: &mut Server, id: i64, reference: Value, name: &str, value: &str| {
            s.call_in(
                version,
                json!(id),
                "completion/complete",
                json!({"ref": reference, "argument": {"name": name, "value": value}}),
            )
        };
        let prompt = |name: &str| json!({"type": "ref/prompt", "name": name});
        let cases = [
            (
                prompt("code_review"),
                "language",
                "ru",
                json!(["ruby", "rust"]),
            ),
            (
                prompt("debug_help"),
                "language",
                "TypeS",
                json!(["typescript"]),
            ),
            (
                prompt("explain_code"),
                "detail_level",
                "",
                json!(["brief", "medium", "detailed"]),
            ),
            (
                prompt("explain_code"),
                "detail_level",
                "m",
                json!(["medium"]),
            ),
            (prompt("explain_code"), "code", "", json!([])),
            (
                json!({"type": "ref/resource", "uri": "config://server/{key}"}),
                "key",
                "telemetryflow_mcp_page",
                json!(["TELEMETRYFLOW_MCP_PAGE_SIZE"]),
            ),
        ];
        for (n, (reference, name, value, values)) in cases.into_iter().enumerate() {
            let reply = complete(&mut s, n as i64, reference.clone(), name, value);
            let completion = &reply["result"]["completion"];
            let count = values.as_array().map_or(0, Vec::len);
            assert_eq!(
                (
                    &completion["values"],
                    &completion["total"],
                    &completion["hasMore"]
                ),
                (&values, &json!(count), &json!(false)),
                "{version} {reference} {name}={value:?}: {reply}"
            );
            assert_eq!(
                reply["result"].get("resultType").is_some(),
                version == MODERN,
                "{version}"
            );
        }
        let all = complete(&mut s, 20, prompt("code_review"), "language", "");
        let total = all["result"]["completion"]["total"].as_u64().unwrap_or(0);
        assert!(
            total > 20 && total <= 100,
            "{version}: every language: {all}"
        );
        for (reference, name) in [
            (prompt("nope"), "language"),
            (prompt("code_review"), "detail_level"),
            (
                json!({"type": "ref/resource", "uri": "config://nope/{x}"}),
                "x",
            ),
            (json!({"type": "ref/other"}), "x"),
        ] {
            let reply = complete(&mut s, 30, reference.clone(), name, "");
            assert_eq!(
                reply["error"]["code"], -32602,
                "{version} {reference}: {reply}"
            );
        }
    }
}

#[test]
fn info_lists_resources_templates_and_prompts() {
    let output = command().arg("info").output().expect("run tfo-mcp info");
    assert!(output.status.success(), "exit 0");
    let text = String::from_utf8_lossy(&output.stdout);
    for line in [
        "config://server                Server configuration",
        "config://server/{key}          One configuration setting",
        "code_review    Code review (code*, language)",
        "explain_code   Explain code (code*, language, detail_level)",
        "debug_help     Debug help (code*, error*, language)",
    ] {
        assert!(text.contains(line), "info lists {line:?}:\n{text}");
    }
    assert!(
        !text.contains(": none"),
        "nothing is reported missing:\n{text}"
    );
}
