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

/// A non-negative integer argument, if given.
pub(super) fn count(args: &Map<String, Value>, key: &str) -> Option<u64> {
    args.get(key).and_then(Value::as_u64)
}
