//! Resources through the real binary, in every revision: `resources/list`,
//! `resources/templates/list`, `resources/read` of the configuration (secrets
//! masked), the error for an unknown URI in each revision, invalid URIs, and the
//! subscriptions we do not advertise.

mod common;

use common::{REVISIONS, Server};
use serde_json::{Value, json};

const MODERN: &str = "2026-07-28";

/// The JSON text of the first contents item of a read result.
fn read_json(result: &Value) -> Value {
    let text = result["contents"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("text contents: {result}"));
    serde_json::from_str(text).expect("contents are JSON")
}

#[test]
fn lists_follow_each_revision() {
    for version in REVISIONS {
        let mut s = Server::open(version, &[]);
        let listed = s.call_in(version, json!(1), "resources/list", json!({}));
        let result = &listed["result"];
        let resources = result["resources"].as_array().expect("resources");
        for r in resources {
            let uri = r["uri"].as_str().unwrap_or("");
            assert!(
                !uri.contains('{') && r["name"].is_string() && r["description"].is_string(),
                "{version}: a fixed resource with name and description: {r}"
            );
        }
        let config = resources
            .iter()
            .find(|r| r["uri"] == "config://server")
            .unwrap_or_else(|| panic!("{version}: config://server listed: {listed}"));
        assert_eq!(
            (&config["uri"], &config["name"], &config["mimeType"]),
            (
                &json!("config://server"),
                &json!("server-config"),
                &json!("application/json")
            ),
            "{version}"
        );
        assert_eq!(
            config.get("title").is_some(),
            version >= "2025-06-18",
            "{version}: title from 2025-06-18 on: {config}"
        );
        assert_eq!(
            config["annotations"],
            json!({"audience": ["user", "assistant"], "priority": 0.5}),
            "{version}: annotations in every revision: {config}"
        );
        assert!(result.get("nextCursor").is_none(), "{version}: one page");

        let templates = s.call_in(version, json!(2), "resources/templates/list", json!({}));
        let items = templates["result"]["resourceTemplates"]
            .as_array()
            .expect("resourceTemplates");
        let uris: Vec<&str> = items
            .iter()
            .filter_map(|t| t["uriTemplate"].as_str())
            .collect();
        assert_eq!(
            uris.len(),
            items.len(),
            "{version}: every template has uriTemplate"
        );
        assert!(
            uris.contains(&"config://server/{key}"),
            "{version}: {templates}"
        );
        assert!(
            items.iter().all(|t| t.get("uri").is_none()),
            "{version}: templates carry no uri"
        );

        let modern = version == MODERN;
        for (what, r) in [
            ("resources/list", result),
            ("templates", &templates["result"]),
        ] {
            assert_eq!(
                r.get("resultType").is_some(),
                modern,
                "{version} {what}: resultType only in 2026-07-28"
            );
            if modern {
                assert_eq!(
                    (&r["resultType"], &r["cacheScope"]),
                    (&json!("complete"), &json!("public")),
                    "{what}: {r}"
                );
                assert!(r["ttlMs"].as_u64().is_some(), "{what}: ttlMs {r}");
                assert_eq!(
                    r["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "tfo-mcp",
                    "{what}"
                );
            }
        }
    }
}

#[test]
fn reads_return_the_configuration_with_secrets_masked() {
    let env = [
        (
            "TELEMETRYFLOW_MCP_OTLP_HEADERS",
            "authorization=Bearer%20t0ps3cret,x-tenant=acme-private",
        ),
        (
            "TELEMETRYFLOW_MCP_OTLP_ENDPOINT",
            "http://collector-user:hunter2@127.0.0.1:9",
        ),
        ("TELEMETRYFLOW_MCP_PAGE_SIZE", "7"),
    ];
    for version in REVISIONS {
        let mut s = Server::open(version, &env);
        let read = s.call_in(
            version,
            json!(1),
            "resources/read",
            json!({"uri": "config://server"}),
        );
        let line = read.to_string();
        for secret in ["t0ps3cret", "Bearer", "acme-private", "hunter2"] {
            assert!(!line.contains(secret), "{version}: {secret} leaked: {line}");
        }
        let result = &read["result"];
        let item = &result["contents"][0];
        assert_eq!(
            (&item["uri"], &item["mimeType"]),
            (&json!("config://server"), &json!("application/json")),
            "{version}"
        );
        let config = read_json(result);
        let tracing = &config["settings"]["tracing"];
        assert_eq!(
            tracing["TELEMETRYFLOW_MCP_OTLP_HEADERS"],
            "authorization=[REDACTED],x-tenant=[REDACTED]"
        );
        assert_eq!(
            tracing["TELEMETRYFLOW_MCP_OTLP_ENDPOINT"],
            "http://collector-user:[REDACTED]@127.0.0.1:9"
        );
        assert_eq!(
            config["settings"]["server"]["TELEMETRYFLOW_MCP_PAGE_SIZE"],
            "7"
        );
        if version == MODERN {
            assert_eq!(
                (&result["resultType"], &result["cacheScope"]),
                (&json!("complete"), &json!("private")),
                "{result}"
            );
            assert_eq!(result["ttlMs"], 300_000);
        } else {
            assert!(result.get("resultType").is_none(), "{version}: {result}");
        }

        let one = s.call_in(
            version,
            json!(2),
            "resources/read",
            json!({"uri": "config://server/TELEMETRYFLOW_MCP_OTLP_HEADERS"}),
        );
        let key = read_json(&one["result"]);
        assert_eq!(
            (&key["value"], &key["secret"], &key["section"]),
            (
                &json!("authorization=[REDACTED],x-tenant=[REDACTED]"),
                &json!(true),
                &json!("tracing")
            ),
            "{version}: {one}"
        );
        assert_eq!(
            one["result"]["contents"][0]["uri"],
            "config://server/TELEMETRYFLOW_MCP_OTLP_HEADERS"
        );
    }
}

#[test]
fn unknown_uris_get_the_revisions_error_and_bad_uris_are_invalid_params() {
    for version in REVISIONS {
        let mut s = Server::open(version, &[]);
        let expected = if version == MODERN { -32602 } else { -32002 };
        for (id, uri) in [
            (1, "config://nope"),
            (2, "metrics://nope"),
            (3, "config://server/NO_SUCH_KEY"),
        ] {
            let reply = s.call_in(version, json!(id), "resources/read", json!({"uri": uri}));
            assert_eq!(
                reply["error"],
                json!({"code": expected, "message": "Resource not found", "data": {"uri": uri}}),
                "{version} {uri}"
            );
        }
        let cases = [
            (json!({}), "`uri` must be a string"),
            (json!({"uri": 7}), "`uri` must be a string"),
            (json!({"uri": "server"}), "has no scheme"),
            (json!({"uri": "config://ser ver"}), "whitespace"),
            (
                json!({"uri": "config://server/%zz"}),
                "malformed percent-escape",
            ),
        ];
        for (n, (params, message)) in cases.into_iter().enumerate() {
            let reply = s.call_in(version, json!(10 + n), "resources/read", params.clone());
            assert_eq!(
                reply["error"]["code"], -32602,
                "{version} {params}: {reply}"
            );
            assert!(
                reply["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(message)),
                "{version} {params}: {reply}"
            );
        }
        let cursor = s.call_in(
            version,
            json!(20),
            "resources/list",
            json!({"cursor": "not-a-cursor"}),
        );
        assert_eq!(cursor["error"]["code"], -32602, "{version}: bad cursor");
        // No `subscribe` capability: the legacy subscription methods are unknown.
        let subscribe = s.call_in(
            version,
            json!(21),
            "resources/subscribe",
            json!({"uri": "config://server"}),
        );
        assert_eq!(subscribe["error"]["code"], -32601, "{version}: {subscribe}");
    }
}

#[test]
fn the_capability_never_advertises_subscriptions() {
    for version in REVISIONS {
        let mut s = Server::start(&[]);
        let capabilities = if version == MODERN {
            s.call_in(version, json!(1), "server/discover", json!({}))["result"]["capabilities"]
                .clone()
        } else {
            s.initialize(version)["capabilities"].clone()
        };
        assert_eq!(
            capabilities["resources"],
            json!({"subscribe": false, "listChanged": false}),
            "{version}"
        );
        assert_eq!(
            capabilities["prompts"],
            json!({"listChanged": false}),
            "{version}"
        );
        assert_eq!(
            capabilities.get("completions").is_some(),
            version >= "2025-03-26",
            "{version}: completions declared where the revision has the capability"
        );
    }
}
