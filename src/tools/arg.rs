//! Small pieces the file and command tools share: reading arguments already
//! validated against the tool's schema, the `path` property, the hints of a tool
//! that only reads local data.

use super::Annotations;
use serde_json::{Map, Value, json};

/// Reads local data only: no side effects, repeatable, closed world.
pub(super) const READS_LOCAL: Annotations = Annotations {
    read_only: true,
    destructive: false,
    idempotent: true,
    open_world: false,
};

/// The `path` property of a file tool's schema.
pub(super) fn path_property(what: &str) -> Value {
    json!({
        "type": "string",
        "minLength": 1,
        "maxLength": crate::sandbox::MAX_PATH_BYTES,
        "description": format!("{what} path, absolute or relative to the first allowed root.")
    })
}

/// The schema `text` (see [`super::schema`]) with its `properties.path` set to
/// [`path_property`]`(what)`.
pub(super) fn with_path(what: &str, text: &str) -> Value {
    let mut schema = super::schema(text);
    schema["properties"]["path"] = path_property(what);
    schema
}

/// A string argument, if given.
pub(super) fn text(args: &Map<String, Value>, key: &str) -> Option<String> {
    args.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A boolean argument, false when absent.
pub(super) fn flag(args: &Map<String, Value>, key: &str) -> bool {
    args.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// A non-negative integer argument, if given. JSON has one number type: `5.0` and
/// `1e30` are integers too (the schema check accepts them), the latter saturating.
pub(super) fn count(args: &Map<String, Value>, key: &str) -> Option<u64> {
    let n = args.get(key)?;
    n.as_u64().or_else(|| {
        let f = n.as_f64()?;
        // `as` saturates at `u64::MAX`.
        (f >= 0.0 && f.fract() == 0.0).then_some(f as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_take_whole_numbers_in_any_spelling() {
        let args = json!({"a": 5, "b": 5.0, "c": 1e30, "d": 2.5, "e": -1, "f": "5"});
        let args = args.as_object().expect("object");
        let got: Vec<Option<u64>> = ["a", "b", "c", "d", "e", "f", "g"]
            .iter()
            .map(|k| count(args, k))
            .collect();
        assert_eq!(
            got,
            [Some(5), Some(5), Some(u64::MAX), None, None, None, None]
        );
    }
}
