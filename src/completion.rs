//! `completion/complete`: suggestions for a prompt argument (`ref/prompt`) or a
//! resource template variable (`ref/resource`), matched by case-insensitive prefix,
//! at most [`MAX_VALUES`] per answer with the full count in `total`.

use crate::jsonrpc::{self, RpcError};
use crate::prompts;
use crate::resources::Registry;
use crate::tools::Services;
use serde_json::{Map, Value, json};

/// The most values one `CompleteResult` may carry (spec: "must not exceed 100").
pub const MAX_VALUES: usize = 100;

/// The `CompleteResult` for `params`, or `-32602` saying which part is wrong.
pub fn complete(
    params: Option<&Map<String, Value>>,
    resources: &Registry,
    services: &Services,
) -> Result<Value, RpcError> {
    let invalid = |why: String| RpcError::invalid_params(format!("invalid params: {why}"));
    let params = params.ok_or_else(|| invalid("`ref` and `argument` are required".into()))?;
    let reference = params
        .get("ref")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`ref` must be an object".into()))?;
    let argument = params
        .get("argument")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("`argument` must be an object".into()))?;
    let text = |map: &'_ Map<String, Value>, key: &str, what: &str| {
        map.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| invalid(format!("`{what}` must be a string")))
    };
    let name = text(argument, "name", "argument.name")?;
    let value = text(argument, "value", "argument.value")?;
    let candidates: Vec<String> = match reference.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => {
            let prompt_name = text(reference, "name", "ref.name")?;
            let prompt = prompts::find(&prompt_name).ok_or_else(|| {
                invalid(format!("unknown prompt: {}", jsonrpc::clip(&prompt_name)))
            })?;
            let arg = prompt.argument(&name).ok_or_else(|| {
                invalid(format!(
                    "prompt {} has no argument `{}`",
                    prompt.name,
                    jsonrpc::clip(&name)
                ))
            })?;
            matching(arg.values.iter().copied(), &value)
        }
        Some("ref/resource") => {
            let uri = text(reference, "uri", "ref.uri")?;
            let entry = resources.by_reference(&uri).ok_or_else(|| {
                invalid(format!(
                    "unknown resource or template: {}",
                    jsonrpc::clip(&uri)
                ))
            })?;
            if !resources.variables(entry).contains(&name.as_str()) {
                return Err(invalid(format!(
                    "{} has no variable `{}`",
                    entry.uri,
                    jsonrpc::clip(&name)
                )));
            }
            match entry.complete {
                Some(complete) => complete(services, &name, &value),
                None => Vec::new(),
            }
        }
        _ => {
            return Err(invalid(
                "`ref.type` must be \"ref/prompt\" or \"ref/resource\"".into(),
            ));
        }
    };
    Ok(result(candidates))
}

/// `candidates` that start with `prefix`, ignoring ASCII case.
fn matching<'a>(candidates: impl Iterator<Item = &'a str>, prefix: &str) -> Vec<String> {
    let prefix = prefix.to_ascii_lowercase();
    candidates
        .filter(|c| c.to_ascii_lowercase().starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

fn result(mut values: Vec<String>) -> Value {
    let total = values.len();
    values.truncate(MAX_VALUES);
    json!({"completion": {"values": values, "total": total, "hasMore": total > MAX_VALUES}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::observability::Observability;

    fn run(params: Value) -> Result<Value, String> {
        let services = Services::new(Config::default(), Observability::disabled());
        complete(params.as_object(), &Registry::builtin(), &services).map_err(|e| {
            assert_eq!(e.code, jsonrpc::INVALID_PARAMS, "{}", e.message);
            e.message
        })
    }

    fn prompt(name: &str, arg: &str, value: &str) -> Value {
        json!({"ref": {"type": "ref/prompt", "name": name}, "argument": {"name": arg, "value": value}})
    }

    #[test]
    fn prompt_arguments_complete_by_prefix() {
        let cases = [
            (
                prompt("explain_code", "detail_level", ""),
                json!(["brief", "medium", "detailed"]),
            ),
            (
                prompt("explain_code", "detail_level", "DE"),
                json!(["detailed"]),
            ),
            (prompt("code_review", "language", "py"), json!(["python"])),
            (
                prompt("debug_help", "language", "ja"),
                json!(["java", "javascript"]),
            ),
            (prompt("code_review", "language", "zzz"), json!([])),
            (prompt("code_review", "code", "fn"), json!([])),
        ];
        for (params, values) in cases {
            let got = run(params.clone()).expect("answered");
            let n = values.as_array().map_or(0, Vec::len);
            assert_eq!(
                got,
                json!({"completion": {"values": values, "total": n, "hasMore": false}}),
                "{params}"
            );
        }
    }

    #[test]
    fn template_variables_complete_through_the_entry() {
        let params = json!({"ref": {"type": "ref/resource", "uri": "config://server/{key}"},
                            "argument": {"name": "key", "value": "telemetryflow_mcp_log_l"}});
        let got = run(params).expect("answered");
        assert_eq!(
            got["completion"]["values"],
            json!(["TELEMETRYFLOW_MCP_LOG_LEVEL"])
        );
        let fixed = json!({"ref": {"type": "ref/resource", "uri": "config://server"},
                           "argument": {"name": "key", "value": ""}});
        assert!(
            run(fixed)
                .expect_err("no variables")
                .contains("has no variable `key`")
        );
    }

    #[test]
    fn bad_requests_say_what_is_wrong() {
        let cases = [
            (json!({}), "`ref` must be an object"),
            (
                json!({"ref": {"type": "ref/prompt", "name": "x"}}),
                "`argument` must be an object",
            ),
            (
                json!({"ref": {"type": "ref/prompt"}, "argument": {"name": "a", "value": ""}}),
                "`ref.name` must be a string",
            ),
            (
                json!({"ref": {"type": "ref/prompt", "name": "x"}, "argument": {"name": "a"}}),
                "`argument.value` must be a string",
            ),
            (prompt("nope", "language", ""), "unknown prompt: nope"),
            (
                prompt("code_review", "detail_level", ""),
                "prompt code_review has no argument `detail_level`",
            ),
            (
                json!({"ref": {"type": "ref/tool", "name": "x"}, "argument": {"name": "a", "value": ""}}),
                "`ref.type` must be",
            ),
            (
                json!({"ref": {"type": "ref/resource", "uri": "file:///{nope}"}, "argument": {"name": "a", "value": ""}}),
                "unknown resource or template",
            ),
        ];
        for (params, expected) in cases {
            let message = run(params.clone()).expect_err("refused");
            assert!(message.contains(expected), "{params}: {message}");
        }
    }

    #[test]
    fn answers_cap_at_one_hundred_values_and_count_the_rest() {
        let many: Vec<String> = (0..250).map(|i| format!("v{i}")).collect();
        let got = result(many);
        assert_eq!(
            got["completion"]["values"].as_array().map(Vec::len),
            Some(100)
        );
        assert_eq!(got["completion"]["total"], 250);
        assert_eq!(got["completion"]["hasMore"], true);
    }
}
