//! Validation of tool arguments against the subset of JSON Schema 2020-12 our
//! tool schemas use: `type`, `properties`, `required`, `additionalProperties`
//! (boolean), `enum`, `minimum`/`maximum`, `minLength`/`maxLength`, `items`,
//! `minItems`/`maxItems`. Errors name the offending field.

use crate::jsonrpc;
use serde_json::{Map, Value};

/// Checks `value` against `schema`; the error names the field (`arguments.path`) and the rule.
pub fn validate(schema: &Value, value: &Value) -> Result<(), String> {
    check(schema, value).map_err(|e| format!("arguments{e}"))
}

/// Checks a tool's arguments object against its `inputSchema` (whose root is an
/// object schema), without copying the arguments into a `Value` first.
pub fn validate_arguments(schema: &Value, args: &Map<String, Value>) -> Result<(), String> {
    check_object(schema, args).map_err(|e| format!("arguments{e}"))
}

/// The error starts with the path below `value` (`.name`, `[i]`, or nothing) and
/// callers prefix their own part on the way out, so a valid value costs no path
/// string at all.
fn check(schema: &Value, value: &Value) -> Result<(), String> {
    if let Some(types) = schema.get("type") {
        let ok = match types {
            Value::String(t) => has_type(value, t),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| has_type(value, t)),
            _ => true,
        };
        if !ok {
            return Err(format!(
                ": expected {}, got {}",
                type_text(types),
                kind(value)
            ));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return Err(format!(": must be one of {}", list.join(", ")));
    }
    match value {
        Value::Object(map) => check_object(schema, map)?,
        Value::Number(n) => {
            let x = n.as_f64().unwrap_or(f64::NAN);
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && x < min
            {
                return Err(format!(": must be at least {min}, got {n}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && x > max
            {
                return Err(format!(": must be at most {max}, got {n}"));
            }
        }
        Value::String(s) => {
            let chars = s.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && chars < min
            {
                return Err(format!(": must be at least {min} characters long"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && chars > max
            {
                return Err(format!(
                    ": must be at most {max} characters long, got {chars}"
                ));
            }
        }
        Value::Array(items) => {
            let n = items.len() as u64;
            if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
                && n < min
            {
                return Err(format!(": must have at least {min} items"));
            }
            if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
                && n > max
            {
                return Err(format!(": must have at most {max} items"));
            }
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check(sub, item).map_err(|e| format!("[{i}]{e}"))?;
                }
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
    Ok(())
}

/// `properties`, `required` and `additionalProperties` of an object.
fn check_object(schema: &Value, map: &Map<String, Value>) -> Result<(), String> {
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                return Err(format!(".{name}: required property is missing"));
            }
        }
    }
    for (name, item) in map {
        match properties.and_then(|p| p.get(name)) {
            Some(sub) => check(sub, item).map_err(|e| format!(".{}{e}", jsonrpc::clip(name)))?,
            None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                let known: Vec<&str> = properties
                    .map(|p| p.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                return Err(format!(
                    ".{}: unknown property (allowed: {})",
                    jsonrpc::clip(name),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ));
            }
            None => {}
        }
    }
    Ok(())
}

fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => match value {
            Value::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        },
        _ => true,
    }
}

fn type_text(types: &Value) -> String {
    match types {
        Value::Array(ts) => {
            let names: Vec<&str> = ts.iter().filter_map(Value::as_str).collect();
            names.join(" or ")
        }
        other => other.as_str().unwrap_or("?").to_string(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_name_the_field_and_the_rule() {
        let schema = json!({
            "type": "object",
            "properties": {
                "message": {"type": "string", "maxLength": 5},
                "mode": {"enum": ["a", "b"]},
                "count": {"type": "integer", "minimum": 1, "maximum": 10},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}
            },
            "required": ["message"],
            "additionalProperties": false
        });
        let cases = [
            (json!({"message": "hi"}), Ok(())),
            (
                json!({}),
                Err("arguments.message: required property is missing"),
            ),
            (
                json!({"message": 5}),
                Err("arguments.message: expected string, got integer"),
            ),
            (
                json!({"message": "toolong"}),
                Err("arguments.message: must be at most 5 characters long, got 7"),
            ),
            (
                json!({"message": "a", "mode": "c"}),
                Err("arguments.mode: must be one of \"a\", \"b\""),
            ),
            (
                json!({"message": "a", "count": 0}),
                Err("arguments.count: must be at least 1, got 0"),
            ),
            (
                json!({"message": "a", "count": 11}),
                Err("arguments.count: must be at most 10, got 11"),
            ),
            (
                json!({"message": "a", "count": 1.5}),
                Err("arguments.count: expected integer, got number"),
            ),
            (
                json!({"message": "a", "tags": ["x", 1]}),
                Err("arguments.tags[1]: expected string, got integer"),
            ),
            (
                json!({"message": "a", "tags": ["x", "y", "z"]}),
                Err("arguments.tags: must have at most 2 items"),
            ),
            (
                json!({"message": "a", "extra": 1}),
                Err("arguments.extra: unknown property (allowed: count, message, mode, tags)"),
            ),
            (json!([1]), Err("arguments: expected object, got array")),
        ];
        for (value, want) in cases {
            let want: Result<(), String> = want.map_err(String::from);
            assert_eq!(validate(&schema, &value), want, "validating {value}");
            if let Value::Object(args) = &value {
                assert_eq!(
                    validate_arguments(&schema, args),
                    want,
                    "the argument path agrees for {value}"
                );
            }
        }
    }
}
