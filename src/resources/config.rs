//! `config://server` (the effective configuration as JSON) and the template
//! `config://server/{key}` (one key with its default and description), with every
//! secret masked: keys flagged `secret` (OTLP header values), keys whose name says
//! they hold a credential even if a new row forgot the flag, and passwords written
//! into URLs (`https://user:pass@host`).

use super::{Annotations, Contents, ReadError, ReadResult, Reader, Resource, Target};
use crate::config::{Config, KEYS, Key};
use crate::tools::Services;
use serde_json::{Map, Value, json};

const REDACTED: &str = "[REDACTED]";
/// Name parts that mark a key as a credential whatever its `secret` flag says.
const SECRET_WORDS: [&str; 6] = ["API_KEY", "TOKEN", "SECRET", "PASSWORD", "AUTH", "HEADERS"];

pub(super) fn server() -> Resource {
    Resource {
        uri: "config://server",
        name: "server-config",
        title: "Server configuration",
        description: "The effective configuration of this tfo-mcp process as JSON: every \
                      setting by section (telemetry, tracing, metrics, logging, server) after \
                      defaults, config file, environment and flags were applied. Secrets are \
                      shown as [REDACTED].",
        mime_type: Some("application/json"),
        annotations: Annotations {
            user: true,
            assistant: true,
            priority: 0.5,
        },
        // Fixed for the life of the process.
        ttl_ms: 300_000,
        reader: Reader::Now(read_server),
        complete: None,
    }
}

pub(super) fn key() -> Resource {
    Resource {
        uri: "config://server/{key}",
        name: "server-config-key",
        title: "One configuration setting",
        description: "One setting of this tfo-mcp process by its name (e.g. \
                      config://server/TELEMETRYFLOW_MCP_LOG_LEVEL): effective value, default, \
                      allowed values and what it does. Secrets are shown as [REDACTED].",
        mime_type: Some("application/json"),
        annotations: Annotations {
            user: true,
            assistant: true,
            priority: 0.3,
        },
        ttl_ms: 300_000,
        reader: Reader::Now(read_key),
        complete: Some(complete_key),
    }
}

fn read_server(services: &Services, target: &Target) -> ReadResult {
    Ok(vec![json_contents(
        &target.uri,
        &effective_json(&services.config),
    )])
}

fn read_key(services: &Services, target: &Target) -> ReadResult {
    let name = target.var("key").unwrap_or_default();
    let (key, (_, value)) = KEYS
        .iter()
        .zip(services.config.effective())
        .find(|(key, _)| key.name == name)
        .ok_or(ReadError::NotFound)?;
    let item = json!({
        "key": key.name,
        "value": masked(key, &value),
        "default": masked(key, key.default),
        "section": key.section,
        "allowed": key.allowed,
        "description": key.description,
        "secret": is_secret(key),
        "fallback": key.fallback,
    });
    Ok(vec![json_contents(&target.uri, &item)])
}

/// Key names starting with `prefix` (case-insensitive), in table order.
fn complete_key(_services: &Services, name: &str, prefix: &str) -> Vec<String> {
    if name != "key" {
        return Vec::new();
    }
    let prefix = prefix.to_ascii_uppercase();
    KEYS.iter()
        .filter(|k| k.name.starts_with(&prefix))
        .map(|k| k.name.to_string())
        .collect()
}

fn json_contents(uri: &str, value: &Value) -> Contents {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    Contents::text(uri, "application/json", text)
}

/// `{"version": ..., "settings": {section: {KEY: value}}}`, values as they would be
/// written in the config file.
fn effective_json(config: &Config) -> Value {
    let mut sections: Map<String, Value> = Map::new();
    for (key, (name, value)) in KEYS.iter().zip(config.effective()) {
        debug_assert_eq!(key.name, name, "effective() follows KEYS");
        let section = sections
            .entry(key.section)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(section) = section {
            section.insert(name.to_string(), Value::String(masked(key, &value)));
        }
    }
    json!({
        "server": "tfo-mcp",
        "version": env!("CARGO_PKG_VERSION"),
        "settings": sections,
    })
}

fn is_secret(key: &Key) -> bool {
    key.secret || SECRET_WORDS.iter().any(|w| key.name.contains(w))
}

/// `value` of `key` with nothing secret left: a secret is `[REDACTED]` unless it is
/// already a list of `name=[REDACTED]` pairs (header names are not secret); any
/// other value has the password of a URL's user info replaced.
fn masked(key: &Key, value: &str) -> String {
    if is_secret(key) {
        let pairs_masked = value.split(',').all(|item| {
            item.split_once('=')
                .is_some_and(|(name, v)| !name.is_empty() && v == REDACTED)
        });
        return match value {
            "" => String::new(),
            _ if pairs_masked => value.to_string(),
            _ => REDACTED.to_string(),
        };
    }
    mask_url_userinfo(value)
}

/// `scheme://user:pass@host...` → `scheme://user:[REDACTED]@host...` (and
/// `scheme://token@host` → `scheme://[REDACTED]@host`) wherever a URL
/// appears in `value` (lists of URLs included).
fn mask_url_userinfo(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?', '#', ',', ' ']).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                // `user:password` keeps the user name; a lone `token@` is all secret.
                if let Some((user, _)) = userinfo.split_once(':') {
                    out.push_str(user);
                    out.push(':');
                }
                out.push_str(REDACTED);
                out.push('@');
                out.push_str(host);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Sources;
    use crate::observability::Observability;

    fn services(env: &[(&str, &str)]) -> Services {
        let sources = Sources {
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Sources::default()
        };
        Services::new(
            Config::load(&sources).expect("valid config"),
            Observability::disabled(),
        )
    }

    fn key_named(name: &str) -> &'static Key {
        KEYS.iter().find(|k| k.name == name).expect("known key")
    }

    #[test]
    fn masking_table() {
        let headers = key_named("TELEMETRYFLOW_MCP_OTLP_HEADERS");
        let endpoint = key_named("TELEMETRYFLOW_MCP_OTLP_ENDPOINT");
        // A future key whose row forgot `secret: true`.
        let mut flagless = *endpoint;
        flagless.name = "TELEMETRYFLOW_MCP_CLAUDE_API_KEY";
        flagless.secret = false;
        let cases = [
            (headers, "", ""),
            (
                headers,
                "authorization=[REDACTED]",
                "authorization=[REDACTED]",
            ),
            (
                headers,
                "a=[REDACTED],b=[REDACTED]",
                "a=[REDACTED],b=[REDACTED]",
            ),
            (headers, "authorization=Bearer%20abc", REDACTED),
            (headers, "a=[REDACTED],b=leak", REDACTED),
            (headers, "=[REDACTED]", REDACTED),
            (&flagless, "sk-ant-123", REDACTED),
            (endpoint, "http://localhost:4318", "http://localhost:4318"),
            (
                endpoint,
                "https://user:pa55@collector:4318/v1",
                "https://user:[REDACTED]@collector:4318/v1",
            ),
            (
                endpoint,
                "https://tok@collector",
                "https://[REDACTED]@collector",
            ),
            (
                endpoint,
                "http://a:b@x,http://c:d@y",
                "http://a:[REDACTED]@x,http://c:[REDACTED]@y",
            ),
            (endpoint, "plain text", "plain text"),
        ];
        for (key, value, expected) in cases {
            assert_eq!(masked(key, value), expected, "{} = {value:?}", key.name);
        }
    }

    #[test]
    fn server_config_has_every_key_and_no_secret() {
        let services = services(&[
            (
                "TELEMETRYFLOW_MCP_OTLP_HEADERS",
                "authorization=Bearer%20s3cr3t,x-tenant=t0p",
            ),
            (
                "TELEMETRYFLOW_MCP_OTLP_ENDPOINT",
                "https://alice:hunter2@collector.example:4318",
            ),
        ]);
        let target = Target {
            uri: "config://server".into(),
            vars: Vec::new(),
        };
        let contents = read_server(&services, &target).expect("readable");
        let super::super::Body::Text(text) = &contents[0].body else {
            panic!("text contents");
        };
        for secret in ["s3cr3t", "Bearer", "t0p", "hunter2"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        let value: Value = serde_json::from_str(text).expect("JSON");
        let settings = value["settings"].as_object().expect("sections");
        let count: usize = settings
            .values()
            .map(|s| s.as_object().map_or(0, Map::len))
            .sum();
        assert_eq!(count, KEYS.len(), "one entry per key");
        assert_eq!(
            value["settings"]["tracing"]["TELEMETRYFLOW_MCP_OTLP_HEADERS"],
            "authorization=[REDACTED],x-tenant=[REDACTED]"
        );
        assert_eq!(
            value["settings"]["tracing"]["TELEMETRYFLOW_MCP_OTLP_ENDPOINT"],
            "https://alice:[REDACTED]@collector.example:4318"
        );
        assert_eq!(contents[0].mime_type.as_deref(), Some("application/json"));
    }

    #[test]
    fn one_key_reads_with_its_metadata_and_unknown_keys_are_missing() {
        let services = services(&[("TELEMETRYFLOW_MCP_PAGE_SIZE", "7")]);
        let target = |key: &str| Target {
            uri: format!("config://server/{key}"),
            vars: vec![("key", key.to_string())],
        };
        let contents = read_key(&services, &target("TELEMETRYFLOW_MCP_PAGE_SIZE")).expect("known");
        let super::super::Body::Text(text) = &contents[0].body else {
            panic!("text contents");
        };
        let value: Value = serde_json::from_str(text).expect("JSON");
        assert_eq!(
            (&value["value"], &value["default"], &value["secret"]),
            (&json!("7"), &json!("100"), &json!(false))
        );
        assert_eq!(
            read_key(&services, &target("NOPE")),
            Err(ReadError::NotFound)
        );
    }

    #[test]
    fn key_completion_is_a_case_insensitive_prefix_match() {
        let services = services(&[]);
        let all = complete_key(&services, "key", "");
        assert_eq!(all.len(), KEYS.len());
        let otel = complete_key(&services, "key", "otel_bsp");
        assert!(
            !otel.is_empty() && otel.iter().all(|k| k.starts_with("OTEL_BSP")),
            "{otel:?}"
        );
        assert!(complete_key(&services, "other", "").is_empty());
    }
}
