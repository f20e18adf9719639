//! Built-in tools: their definitions (name, title, description, schemas,
//! annotations), the registry the server lists and calls, and argument
//! validation against each tool's `inputSchema` before it runs.

mod claude_conversation;
mod diagnostics;
mod echo;
mod health_check;
pub mod schema;
mod system_info;
// File and command tools (issue 6).
mod arg;
mod execute_command;
mod list_directory;
mod read_file;
mod search_files;
mod write_file;
pub use read_file::resource_contents;

use crate::config::Config;
use crate::mcp::{RequestContext, Version};
use crate::observability::Observability;
use serde_json::{Map, Value, json};
use smol::future::BoxedLocal;
use std::rc::Rc;

/// Longest a walk of the file tools (a listing, a search) runs on its blocking
/// thread: a hung network mount must not hold one for ever.
const WALK_TIME: std::time::Duration = std::time::Duration::from_secs(10);

/// Adds `unreadable` (the paths) and `unreadable_count` to a walking tool's result
/// when it left anything out.
fn report_unreadable(unreadable: &crate::sandbox::Unreadable, data: &mut Value) {
    if unreadable.count > 0 {
        data["unreadable"] = json!(unreadable.paths);
        data["unreadable_count"] = json!(unreadable.count);
    }
}

/// What tools may use besides their arguments, shared by the server and every
/// request: the configuration, the observability handles, the connection's id.
/// Issues add what their tools need here (sandbox, health checker, Claude client).
#[derive(Debug)]
pub struct Services {
    /// The effective configuration.
    pub config: Config,
    /// Tracer and metrics.
    pub obs: Observability,
    /// This stdio connection (`mcp.session.id`).
    pub session_id: String,
    /// Allowed roots and checked file operations of the file tools (and the `file:///` template).
    pub sandbox: crate::sandbox::Sandbox,
    /// Flags slow requests (issue 5's `PerformanceMonitor`).
    pub performance: crate::logging::PerformanceMonitor,
    /// The Claude client and conversations; `None` without an API key (issue 7).
    pub claude: Option<crate::claude::Claude>,
}

impl Services {
    /// The services of one connection: a sandbox from `config`, a Claude client when a key
    /// is configured (built without network or TLS: the first call sets those up), a
    /// fresh session id.
    pub fn new(config: Config, obs: Observability) -> Services {
        Services {
            sandbox: crate::sandbox::Sandbox::new(&config.sandbox),
            performance: crate::logging::PerformanceMonitor::new(
                config.telemetry.logging.slow_request_threshold,
            ),
            claude: crate::claude::Claude::new(&config.claude),
            config,
            obs,
            // Identifies this stdio connection in spans and logs (`mcp.session.id`).
            session_id: crate::telemetry::new_session_id(),
        }
    }
}

/// What a tool returns: content blocks, optional structured data, error flag.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// Content blocks (`text`, `image`, `resource`, ...).
    pub content: Vec<Value>,
    /// `structuredContent`, for tools with an `outputSchema`.
    pub structured: Option<Value>,
    /// A tool execution error the model can act on.
    pub is_error: bool,
}

impl ToolResult {
    /// One text block.
    pub fn text(text: impl Into<String>) -> ToolResult {
        ToolResult {
            content: vec![json!({"type": "text", "text": text.into()})],
            structured: None,
            is_error: false,
        }
    }

    /// One text block flagged `isError`.
    pub fn error(text: impl Into<String>) -> ToolResult {
        ToolResult {
            is_error: true,
            ..ToolResult::text(text)
        }
    }

    /// A refusal or failure of the sandbox, flagged `isError`.
    pub fn refused(refusal: &crate::sandbox::Refusal) -> ToolResult {
        ToolResult::error(refusal.to_string())
    }

    /// Structured data, also serialized as a text block for older clients.
    pub fn structured(data: Value) -> ToolResult {
        ToolResult {
            content: vec![json!({"type": "text", "text": data.to_string()})],
            structured: Some(data),
            is_error: false,
        }
    }

    /// The `CallToolResult` for `version` (moves the content: no copy on the way out).
    pub fn into_json(self, version: Version) -> Value {
        let mut result = Map::new();
        result.insert("content".into(), Value::Array(self.content));
        result.insert("isError".into(), Value::Bool(self.is_error));
        if let (Some(data), true) = (self.structured, version.has_titles_and_structured()) {
            result.insert("structuredContent".into(), data);
        }
        Value::Object(result)
    }
}

/// A tool's handler: runs on the executor; blocking work goes through
/// `blocking::unblock` (`smol::unblock` carrying the request's log context).
pub type Handler = fn(Rc<RequestContext>, Map<String, Value>) -> BoxedLocal<ToolResult>;

/// Behaviour hints, each stated truthfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Annotations {
    /// Does not change its environment.
    pub read_only: bool,
    /// May destroy data (meaningful when not read-only).
    pub destructive: bool,
    /// Repeating a call with the same arguments has no further effect.
    pub idempotent: bool,
    /// Reaches outside the server's closed world (network, other processes).
    pub open_world: bool,
}

/// One tool definition.
#[derive(Debug, Clone)]
pub struct Tool {
    /// Unique name (`A-Z a-z 0-9 _ - .`).
    pub name: &'static str,
    /// Display name.
    pub title: &'static str,
    /// What it does, for the model.
    pub description: &'static str,
    /// JSON Schema of the arguments (`type: object`, `additionalProperties: false`).
    pub input_schema: Value,
    /// JSON Schema of `structuredContent`, when the tool returns data.
    pub output_schema: Option<Value>,
    /// Behaviour hints.
    pub annotations: Annotations,
    /// The implementation.
    pub handler: Handler,
}

impl Tool {
    /// The `Tool` object of `tools/list` for `version`: fields a revision does not know are left out.
    pub fn describe(&self, version: Version) -> Value {
        let mut tool = json!({
            "name": self.name,
            "description": self.description,
            "inputSchema": self.input_schema,
        });
        if version.has_annotations() {
            tool["annotations"] = json!({
                "title": self.title,
                "readOnlyHint": self.annotations.read_only,
                "destructiveHint": self.annotations.destructive,
                "idempotentHint": self.annotations.idempotent,
                "openWorldHint": self.annotations.open_world,
            });
        }
        if version.has_titles_and_structured() {
            tool["title"] = json!(self.title);
            if let Some(schema) = &self.output_schema {
                tool["outputSchema"] = schema.clone();
            }
        }
        tool
    }
}

/// A tool's JSON Schema, written as JSON text and parsed when the registry is built:
/// `json!` expands every key and value into code, and a dozen schemas of it cost tens of
/// kB of the size-budgeted binary (README "Edge footprint"); text costs its bytes.
pub(crate) fn schema(text: &str) -> Value {
    serde_json::from_str(text)
        .expect("built-in schemas are valid JSON (every_tool_has_a_closed_object_schema_and_a_valid_name parses them)")
}

/// The tools this server serves, in listing order.
#[derive(Debug, Clone)]
pub struct Registry {
    tools: Vec<Tool>,
}

impl Registry {
    /// The built-in tools enabled by `config`.
    pub fn builtin(config: &Config) -> Registry {
        let mut tools = vec![echo::tool(), system_info::tool(), health_check::tool()];
        tools.extend([
            read_file::tool(),
            write_file::tool(),
            list_directory::tool(),
            search_files::tool(),
            execute_command::tool(&config.sandbox),
        ]);
        if config.claude.api_key.is_some() {
            tools.push(claude_conversation::tool());
        }
        if config.server.diagnostic_tools {
            tools.extend(diagnostics::tools());
        }
        Registry { tools }
    }

    /// All tools in listing order.
    pub fn all(&self) -> &[Tool] {
        &self.tools
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_paths_are_reported_only_when_some_were_left_out() {
        let mut few = crate::sandbox::Unreadable::default();
        few.add("a");
        few.add("f");
        let mut data = json!({});
        report_unreadable(&crate::sandbox::Unreadable::default(), &mut data);
        assert_eq!(data, json!({}), "nothing added when nothing was left out");
        report_unreadable(&few, &mut data);
        assert_eq!(
            data,
            json!({"unreadable": ["a", "f"], "unreadable_count": 2})
        );
    }

    #[test]
    fn every_tool_has_a_closed_object_schema_and_a_valid_name() {
        let mut config = Config::default();
        config.server.diagnostic_tools = true;
        config.claude.api_key = Some(crate::config::Secret::new("k"));
        for tool in Registry::builtin(&config).all() {
            assert_eq!(
                tool.input_schema["type"], "object",
                "{} inputSchema root",
                tool.name
            );
            assert_eq!(
                tool.input_schema["additionalProperties"], false,
                "{} rejects unknown arguments",
                tool.name
            );
            assert!(
                tool.name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)),
                "{} follows the 2025-11-25 name rules",
                tool.name
            );
            if let Some(schema) = &tool.output_schema {
                assert_eq!(schema["type"], "object", "{} outputSchema root", tool.name);
            }
        }
    }

    #[test]
    fn describe_follows_the_revision() {
        let tool = echo::tool();
        let old = tool.describe(Version::V2024_11_05);
        assert!(old.get("annotations").is_none() && old.get("title").is_none());
        let mid = tool.describe(Version::V2025_03_26);
        assert_eq!(mid["annotations"]["readOnlyHint"], true);
        assert!(mid.get("title").is_none());
        let new = tool.describe(Version::V2025_11_25);
        assert_eq!(new["title"], "Echo");
        assert!(new.get("outputSchema").is_some());
    }
}
