//! Resources: the table of what `resources/list`, `resources/templates/list` and
//! `resources/read` serve, URI validation, RFC 6570 template matching, the shape of
//! each entry in each protocol revision, and the error a failed read becomes there.
//!
//! An entry is a URI (or a URI template such as `file:///{path}`) plus a reader that
//! gets the [`Services`] and the matched [`Target`] and returns [`Contents`]. A new
//! resource is one entry in [`Registry::builtin`].

mod config;
mod file;
mod status;
mod template;

use crate::jsonrpc::{self, RpcError};
use crate::mcp::Version;
use crate::tools::Services;
use serde_json::{Value, json};
use smol::future::BoxedLocal;
use std::rc::Rc;

pub use template::{Template, TemplateError};

/// Longest URI accepted in `resources/read` (bytes); longer ones are invalid params.
pub const MAX_URI_BYTES: usize = 8192;

/// What a read asked for: the URI and, for a template, its variables (percent-decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URI exactly as the client sent it.
    pub uri: String,
    /// Template variables in template order (`[("path", "etc/hosts")]`); empty for a fixed URI.
    pub vars: Vec<(&'static str, String)>,
}

impl Target {
    /// The value of variable `name`.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One item of a `resources/read` result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    /// The URI of this item (the requested one, or a sub-resource of it).
    pub uri: String,
    /// Its MIME type, when known.
    pub mime_type: Option<String>,
    /// Text or base64 data.
    pub body: Body,
}

/// `TextResourceContents.text` or `BlobResourceContents.blob`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// UTF-8 text.
    Text(String),
    /// Binary data, already base64-encoded (standard alphabet, padded).
    Blob(String),
}

impl Contents {
    /// One text item.
    pub fn text(uri: &str, mime_type: &str, text: String) -> Contents {
        Contents {
            uri: uri.to_string(),
            mime_type: Some(mime_type.to_string()),
            body: Body::Text(text),
        }
    }

    fn to_json(&self) -> Value {
        let mut item = json!({"uri": self.uri});
        if let Some(mime) = &self.mime_type {
            item["mimeType"] = json!(mime);
        }
        match &self.body {
            Body::Text(text) => item["text"] = json!(text),
            Body::Blob(blob) => item["blob"] = json!(blob),
        }
        item
    }
}

/// Why a read failed; [`ReadError::into_rpc`] makes it the revision's JSON-RPC error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Nothing lives at this URI (or the file does not exist).
    NotFound,
    /// The URI or its variables are not acceptable (a sandbox refusal, a bad key); says why.
    Invalid(String),
    /// The reader failed on our side; says why, without secrets.
    Internal(String),
}

impl ReadError {
    /// The JSON-RPC error for `uri` in `version`: a missing resource is `-32002` up to
    /// 2025-11-25 and `-32602` in 2026-07-28, which retired `-32002` (SEP-2164).
    pub fn into_rpc(self, uri: &str, version: Version) -> RpcError {
        let data = json!({"uri": jsonrpc::clip(uri)});
        match self {
            ReadError::NotFound if version.is_modern() => {
                RpcError::invalid_params("Resource not found").with_data(data)
            }
            ReadError::NotFound => {
                RpcError::new(jsonrpc::RESOURCE_NOT_FOUND, "Resource not found").with_data(data)
            }
            ReadError::Invalid(why) => {
                RpcError::invalid_params(format!("invalid params: {why}")).with_data(data)
            }
            ReadError::Internal(why) => RpcError::internal(format!(
                "internal error: reading the resource failed: {why}"
            ))
            .with_data(data),
        }
    }
}

/// The result of a reader.
pub type ReadResult = Result<Vec<Contents>, ReadError>;

/// How an entry is read.
#[derive(Debug, Clone, Copy)]
pub enum Reader {
    /// In-memory and quick (a snapshot of config, health or metrics): answered inline.
    Now(fn(&Services, &Target) -> ReadResult),
    /// Blocking or slow (the file system): run as a cancellable request task; blocking
    /// work inside goes through `smol::unblock`.
    Task(fn(Rc<Services>, Target) -> BoxedLocal<ReadResult>),
}

/// Suggests values for variable `name` of a template, given the prefix typed so far
/// (`completion/complete` with `ref/resource`); at most [`crate::completion::MAX_VALUES`]
/// are shown, the rest counted.
pub type Completer = fn(&Services, name: &str, prefix: &str) -> Vec<String>;

/// Who a resource is meant for, and how much it matters (`annotations` of every revision).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Annotations {
    /// Shown to the user.
    pub user: bool,
    /// Meant for the model.
    pub assistant: bool,
    /// 0 (optional) ..= 1 (effectively required).
    pub priority: f64,
}

/// One resource, or a family of them behind a URI template.
#[derive(Debug, Clone)]
pub struct Resource {
    /// A URI (`config://server`) or an RFC 6570 level-1 template (`file:///{path}`).
    pub uri: &'static str,
    /// Programmatic name.
    pub name: &'static str,
    /// Display name (2025-06-18+).
    pub title: &'static str,
    /// What it holds, for the model.
    pub description: &'static str,
    /// MIME type of the contents, when every read has the same one.
    pub mime_type: Option<&'static str>,
    /// Audience and priority (every revision).
    pub annotations: Annotations,
    /// How long a 2026-07-28 client may cache a read (`ttlMs`); 0 for live data.
    pub ttl_ms: u64,
    /// How it is read.
    pub reader: Reader,
    /// Completion of template variables; `None` completes nothing.
    pub complete: Option<Completer>,
}

impl Resource {
    /// Whether `uri` is a template (listed by `resources/templates/list`).
    pub fn is_template(&self) -> bool {
        self.uri.contains('{')
    }

    /// The `Resource` (or `ResourceTemplate`) object for `version`: fields a revision
    /// does not know are left out.
    pub fn describe(&self, version: Version) -> Value {
        let key = if self.is_template() {
            "uriTemplate"
        } else {
            "uri"
        };
        let mut item = json!({key: self.uri, "name": self.name, "description": self.description});
        if let Some(mime) = self.mime_type {
            item["mimeType"] = json!(mime);
        }
        if version.has_titles_and_structured() {
            item["title"] = json!(self.title);
        }
        // Unlike tool annotations (2025-03-26), `audience`/`priority` annotations are
        // in every revision's Resource and ResourceTemplate, 2024-11-05 included.
        let a = self.annotations;
        let audience: Vec<&str> = [(a.user, "user"), (a.assistant, "assistant")]
            .into_iter()
            .filter_map(|(on, who)| on.then_some(who))
            .collect();
        item["annotations"] = json!({"audience": audience, "priority": a.priority});
        item
    }
}

/// The resources this server serves, in listing order.
#[derive(Debug, Clone)]
pub struct Registry {
    entries: Vec<Resource>,
    /// Parsed templates, parallel to `entries` (`None` for fixed URIs).
    templates: Vec<Option<Template>>,
}

impl Registry {
    /// The built-in resources.
    pub fn builtin() -> Registry {
        Registry::new(vec![
            config::server(),
            status::health(),
            status::metrics(),
            config::key(),
            file::template(),
        ])
    }

    /// A registry of `entries`.
    ///
    /// # Panics
    /// When an entry's template does not parse: the table is ours and a unit test
    /// parses every entry, so this is a programming error caught before release.
    pub fn new(entries: Vec<Resource>) -> Registry {
        let templates = entries
            .iter()
            .map(|r| {
                r.is_template()
                    .then(|| Template::parse(r.uri).expect("built-in resource templates are valid"))
            })
            .collect();
        Registry { entries, templates }
    }

    /// Fixed resources, in listing order.
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.entries.iter().filter(|r| !r.is_template())
    }

    /// Templates, in listing order.
    pub fn templates(&self) -> impl Iterator<Item = &Resource> {
        self.entries.iter().filter(|r| r.is_template())
    }

    /// The entry serving `uri` and what it was asked for: a fixed URI first, then the
    /// templates in order. `uri` must have passed [`validate_uri`].
    pub fn resolve(&self, uri: &str) -> Result<(&Resource, Target), ReadError> {
        if let Some(entry) = self.entries.iter().find(|r| r.uri == uri) {
            let target = Target {
                uri: uri.to_string(),
                vars: Vec::new(),
            };
            return Ok((entry, target));
        }
        for (entry, template) in self.entries.iter().zip(&self.templates) {
            let Some(template) = template else { continue };
            match template.matches(uri) {
                Ok(Some(vars)) => {
                    let target = Target {
                        uri: uri.to_string(),
                        vars,
                    };
                    return Ok((entry, target));
                }
                Ok(None) => {}
                Err(e) => return Err(ReadError::Invalid(e.to_string())),
            }
        }
        Err(ReadError::NotFound)
    }

    /// The template entry whose `uriTemplate` is `uri_template`, or the fixed
    /// resource at that URI (`ref/resource` of `completion/complete`).
    pub fn by_reference(&self, uri_template: &str) -> Option<&Resource> {
        self.entries.iter().find(|r| r.uri == uri_template)
    }

    /// Variables of a template entry, in order (empty for a fixed URI).
    pub fn variables(&self, entry: &Resource) -> Vec<&str> {
        self.entries
            .iter()
            .zip(&self.templates)
            .find(|(r, _)| r.uri == entry.uri)
            .and_then(|(_, t)| t.as_ref())
            .map(Template::variables)
            .unwrap_or_default()
    }
}

/// `params.uri` of `resources/read`, checked: a string with a scheme, no whitespace
/// or control characters, at most [`MAX_URI_BYTES`].
pub fn validate_uri(params: Option<&serde_json::Map<String, Value>>) -> Result<&str, RpcError> {
    let uri = params
        .and_then(|p| p.get("uri"))
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params("invalid params: `uri` must be a string"))?;
    let bad = |why: &str| {
        RpcError::invalid_params(format!("invalid params: `uri` is not a valid URI: {why}"))
            .with_data(json!({"uri": jsonrpc::clip(uri)}))
    };
    if uri.len() > MAX_URI_BYTES {
        return Err(bad(&format!("longer than {MAX_URI_BYTES} bytes")));
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("it contains whitespace or control characters"));
    }
    let scheme = uri.split_once(':').map(|(s, _)| s).unwrap_or_default();
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err(bad("it has no scheme (such as `config:` or `file:`)"));
    }
    Ok(uri)
}

/// The `ReadResourceResult` of `contents`.
pub fn read_result(contents: &[Contents]) -> Value {
    json!({"contents": contents.iter().map(Contents::to_json).collect::<Vec<_>>()})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(uri: Value) -> serde_json::Map<String, Value> {
        json!({ "uri": uri }).as_object().cloned().expect("object")
    }

    #[test]
    fn uri_validation_names_the_problem() {
        let long = format!("config://{}", "a".repeat(MAX_URI_BYTES));
        let cases: [(Value, Result<&str, &str>); 9] = [
            (json!("config://server"), Ok("config://server")),
            (json!("file:///etc/hosts"), Ok("file:///etc/hosts")),
            (json!("x-y+z.w:thing"), Ok("x-y+z.w:thing")),
            (json!(5), Err("`uri` must be a string")),
            (json!("no-scheme"), Err("no scheme")),
            (json!("1http://x"), Err("no scheme")),
            (json!(":x"), Err("no scheme")),
            (json!("config://a b"), Err("whitespace or control")),
            (json!(long), Err("longer than 8192 bytes")),
        ];
        for (uri, expected) in cases {
            let p = params(uri.clone());
            match (validate_uri(Some(&p)), expected) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{uri}"),
                (Err(e), Err(want)) => {
                    assert_eq!(e.code, jsonrpc::INVALID_PARAMS, "{uri}");
                    assert!(e.message.contains(want), "{uri}: {}", e.message);
                }
                (got, want) => panic!("{uri}: got {got:?}, want {want:?}"),
            }
        }
        assert!(validate_uri(None).is_err(), "missing params");
    }

    #[test]
    fn not_found_is_32002_until_2025_11_25_and_32602_after() {
        let cases = [
            (Version::V2024_11_05, -32002),
            (Version::V2025_03_26, -32002),
            (Version::V2025_06_18, -32002),
            (Version::V2025_11_25, -32002),
            (Version::V2026_07_28, -32602),
        ];
        for (version, code) in cases {
            let e = ReadError::NotFound.into_rpc("config://nope", version);
            assert_eq!(e.code, code, "{version}");
            assert_eq!(
                e.message, "Resource not found",
                "{version}: the spec's message"
            );
            assert_eq!(e.data, Some(json!({"uri": "config://nope"})), "{version}");
        }
        let e = ReadError::Internal("disk".into()).into_rpc("file:///x", Version::V2025_11_25);
        assert_eq!(e.code, jsonrpc::INTERNAL_ERROR);
        let e = ReadError::Invalid("outside the roots".into())
            .into_rpc("file:///x", Version::V2024_11_05);
        assert_eq!(
            (e.code, e.message.as_str()),
            (jsonrpc::INVALID_PARAMS, "invalid params: outside the roots")
        );
    }

    #[test]
    fn resolve_prefers_fixed_uris_then_templates_in_order() {
        let registry = Registry::builtin();
        let (entry, target) = registry.resolve("config://server").expect("fixed");
        assert_eq!((entry.uri, target.vars.len()), ("config://server", 0));
        let (entry, target) = registry
            .resolve("config://server/TELEMETRYFLOW_MCP_PAGE_SIZE")
            .expect("template");
        assert_eq!(entry.uri, "config://server/{key}");
        assert_eq!(target.var("key"), Some("TELEMETRYFLOW_MCP_PAGE_SIZE"));
        assert!(
            matches!(registry.resolve("config://other"), Err(ReadError::NotFound)),
            "an unknown URI is missing"
        );
        assert!(
            matches!(
                registry.resolve("config://server/%zz"),
                Err(ReadError::Invalid(_))
            ),
            "a malformed escape is invalid, not missing"
        );
    }

    #[test]
    fn describe_follows_the_revision() {
        let registry = Registry::builtin();
        let entry = registry.resources().next().expect("config://server");
        let old = entry.describe(Version::V2024_11_05);
        assert_eq!(
            old,
            json!({"uri": "config://server", "name": "server-config",
                   "description": entry.description, "mimeType": "application/json",
                   "annotations": {"audience": ["user", "assistant"], "priority": 0.5}}),
            "2024-11-05 has annotations but no title"
        );
        let mid = entry.describe(Version::V2025_03_26);
        assert!(mid.get("title").is_none(), "title arrives in 2025-06-18");
        let new = entry.describe(Version::V2026_07_28);
        assert_eq!(new["title"], "Server configuration");
        let template = registry.templates().next().expect("a template");
        let t = template.describe(Version::V2025_06_18);
        assert_eq!(t["uriTemplate"], "config://server/{key}");
        assert!(t.get("uri").is_none(), "templates carry uriTemplate only");
    }

    #[test]
    fn every_builtin_template_parses_and_is_unique() {
        let registry = Registry::builtin();
        let mut uris: Vec<&str> = registry.entries.iter().map(|r| r.uri).collect();
        uris.sort_unstable();
        uris.dedup();
        assert_eq!(uris.len(), registry.entries.len(), "unique URIs");
        for entry in registry.templates() {
            assert!(
                !registry.variables(entry).is_empty(),
                "{} has variables",
                entry.uri
            );
        }
    }

    #[test]
    fn read_result_carries_text_or_blob() {
        let items = [
            Contents::text("config://server", "application/json", "{}".into()),
            Contents {
                uri: "file:///a.png".into(),
                mime_type: None,
                body: Body::Blob("iVBORw==".into()),
            },
        ];
        assert_eq!(
            read_result(&items),
            json!({"contents": [
                {"uri": "config://server", "mimeType": "application/json", "text": "{}"},
                {"uri": "file:///a.png", "blob": "iVBORw=="}
            ]})
        );
    }
}
