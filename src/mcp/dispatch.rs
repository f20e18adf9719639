//! What each message means: the era of the process (decided by its first
//! request), the handshake of the legacy revisions, per-request `_meta` of the
//! 2026-07-28 revision, and the methods each era serves.
//!
//! ```text
//!            initialize                      server/discover or a request with
//!   Unset ─────────────► Legacy(session)     _meta protocolVersion
//!     │                                   Unset ─────────────────────► Modern
//!     └─ ping → {}, anything else → -32600 (not initialized)
//! ```

use super::context::RequestContext;
use super::loglevel::LogLevel;
use super::observe::ToolCall;
use super::version::{self, Version};
use super::{Answer, Outcome, Server, Step, encode_answer};
use crate::jsonrpc::{self, Id, Incoming, Notification, Request, RpcError};
use crate::logging::{self, LogContext};
use crate::telemetry::model::{KeyValue, Value as AttrValue};
use crate::telemetry::{Span, SpanContext, SpanKind};
use crate::tools::{ToolResult, schema};
use serde_json::{Map, Value, json};
use smol::future::BoxedLocal;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

mod features;

use features::Catalog;

/// The `tool_name` label of calls to a tool that does not exist.
const UNKNOWN_TOOL: &str = "__unknown__";

/// Methods of the 2026-07-28 revision that this server implements.
const MODERN_METHODS: [&str; 9] = [
    "server/discover",
    "tools/list",
    "tools/call",
    // Resources, prompts, completion (issue 6).
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
];
const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
/// How long a 2026-07-28 client may cache our lists: they only change with a restart.
const CACHE_TTL_MS: u64 = 300_000;

/// The era of this process.
#[derive(Debug)]
pub(super) enum Era {
    /// No `initialize` and no modern request yet.
    Unset,
    /// A handshake session.
    Legacy(Session),
    /// Stateless 2026-07-28 requests.
    Modern,
}

/// The state of a handshake session.
#[derive(Debug)]
pub(super) struct Session {
    pub(super) version: Version,
    pub(super) client_name: String,
    pub(super) client_version: String,
    /// Set by `logging/setLevel`; `None` sends no log notifications.
    pub(super) log_level: Option<LogLevel>,
    /// The client declared `capabilities.roots`: the sandbox follows its `roots/list`.
    pub(super) client_roots: bool,
    pub(super) started: Instant,
}

/// A request's revision and the log level it asked for.
struct Served {
    version: Version,
    log_level: Option<LogLevel>,
}

impl Server {
    /// The negotiated revision of a legacy session, if one is open.
    pub(super) fn version(&self) -> Option<Version> {
        match &*self.state.borrow() {
            Era::Legacy(session) => Some(session.version),
            Era::Modern => Some(Version::V2026_07_28),
            Era::Unset => None,
        }
    }

    /// Ends the session at shutdown (a legacy session lives from `initialize` to EOF,
    /// a 2026-07-28 one from the first valid stateless request to EOF).
    pub(super) fn close_session(&self) {
        if let Some(opened) = self.session_opened.take() {
            let metrics = &self.services.obs.metrics;
            metrics.record_session_closed(opened.elapsed().as_secs_f64());
        }
        if let Era::Legacy(session) = &*self.state.borrow() {
            log::info!(
                duration_seconds = session.started.elapsed().as_secs_f64(),
                mcp_protocol_version = session.version.as_str();
                "MCP session closed"
            );
        }
    }

    /// Decides what a decoded message leads to. Synchronous, so state changes
    /// (the handshake) are seen by the very next line.
    pub(super) fn accept(self: &Rc<Self>, message: Incoming, in_batch: bool) -> Outcome {
        match message {
            Incoming::Notification(n) => match self.notification(n) {
                Some(task) => Outcome::Background(task),
                None => Outcome::Nothing,
            },
            Incoming::Response(response) => {
                let id = response.id.clone();
                if !self.outgoing.resolve(response) {
                    log::debug!(request_id = jsonrpc::clip(id.as_str()).as_str(); "ignoring a response to no pending request");
                }
                Outcome::Nothing
            }
            Incoming::Request(request) => {
                let id = request.id.clone();
                let method = request.method.clone();
                let started = Instant::now();
                // The id is the client's text: clipped (secret-looking text cut out,
                // the length bounded) once, for the span and every record.
                let id_text = jsonrpc::clip(id.as_str());
                let mut span = self.request_span(&request, &id_text);
                // Issue 5: every record of this request carries its ids, here and in its task.
                let log_context = Arc::new(LogContext::new(
                    self.services.session_id.clone(),
                    id_text,
                    Some((span.context().trace_id, span.context().span_id)),
                ));
                logging::scope(Some(&log_context), || {
                    logging::request_received(&method, request.params.as_ref());
                    let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.request(request, in_batch, &mut span)
                    }));
                    let step = step.unwrap_or_else(|_| {
                        log::error!(mcp_method = jsonrpc::clip(&method).as_str(); "request routing panicked; answering -32603");
                        Step::Reply(Err(RpcError::internal("internal error: the request handler failed")))
                    });
                    match step {
                        Step::Reply(answer) => {
                            let context = Some(Arc::clone(&log_context));
                            self.request_outcome(&method, started, &answer, span, context)
                                .complete();
                            Outcome::Line(encode_answer(&id, &answer))
                        }
                        Step::Work(mut work) => {
                            work.span = span;
                            work.method = method;
                            work.started = started;
                            work.future = Box::pin(logging::in_context(
                                Arc::clone(&log_context),
                                work.future,
                            ));
                            work.log_context = Some(Arc::clone(&log_context));
                            Outcome::Work(work)
                        }
                    }
                })
            }
        }
    }

    /// `request.process` (kind SERVER) for one request, child of the caller's
    /// `traceparent` when `_meta` carries one; `id_text` is its id as shown.
    fn request_span(&self, request: &Request, id_text: &str) -> Span {
        let remote = meta(request).and_then(SpanContext::from_meta);
        let mut span = self.services.obs.tracer.start_root(
            "request.process",
            SpanKind::Server,
            &request.method,
            remote,
        );
        if span.is_recording() {
            let id = AttrValue::text(id_text);
            span.set_with("mcp.request.id", || id.clone());
            span.set_with("jsonrpc.request.id", || id);
            // Client text, clipped as everywhere it is written.
            span.set_with("mcp.method.name", || {
                AttrValue::text(&jsonrpc::clip(&request.method))
            });
            span.set_with("mcp.session.id", || {
                AttrValue::text(&self.services.session_id)
            });
            span.set("network.transport", "pipe");
            span.set("mcp.protocol.version", "unknown");
        }
        span
    }

    /// Handles a notification; some start work of the server's own (asking for roots).
    fn notification(self: &Rc<Self>, n: Notification) -> Option<BoxedLocal<()>> {
        match n.method.as_str() {
            "notifications/initialized" => {
                if let Era::Legacy(session) = &*self.state.borrow() {
                    log::info!(
                        mcp_protocol_version = session.version.as_str(),
                        client_name = session.client_name.as_str(),
                        client_version = session.client_version.as_str();
                        "MCP session initialized"
                    );
                }
                return self.ask_roots();
            }
            "notifications/roots/list_changed" => return self.ask_roots(),
            "notifications/cancelled" => {
                let params = n.params.unwrap_or_default();
                if let Some(id) = params.get("requestId").and_then(Id::from_value)
                    && self.cancel(&id)
                {
                    let reason = params.get("reason").and_then(Value::as_str).unwrap_or("");
                    log::info!(
                        request_id = jsonrpc::clip(id.as_str()).as_str(),
                        reason = jsonrpc::clip(reason).as_str();
                        "request cancelled by the client"
                    );
                }
            }
            _ => {
                log::debug!(mcp_method = jsonrpc::clip(&n.method).as_str(); "notification ignored")
            }
        }
        None
    }

    fn request(self: &Rc<Self>, request: Request, in_batch: bool, span: &mut Span) -> Step {
        let modern = request.method == "server/discover"
            || meta(&request).is_some_and(|m| m.contains_key(META_PROTOCOL_VERSION));
        let era = match &*self.state.borrow() {
            Era::Legacy(session) => Some(Some((session.version, session.log_level))),
            Era::Modern => Some(None),
            Era::Unset => None,
        };
        let legacy = match era {
            Some(era) => era,
            None if request.method == "initialize" => {
                return if in_batch {
                    error(RpcError::invalid_request(
                        "invalid request: initialize must not be part of a batch",
                    ))
                } else {
                    self.initialize(request, span)
                };
            }
            None if modern => None,
            None if request.method == "ping" => return reply(json!({})),
            None => {
                return error(RpcError::invalid_request(
                    "invalid request: the session is not initialized; send `initialize` first \
                         (or, for protocol 2026-07-28, send `server/discover` or requests with `_meta` protocolVersion)",
                ));
            }
        };
        match legacy {
            Some((version, log_level)) => {
                span.set("mcp.protocol.version", version.as_str());
                self.legacy(request, Served { version, log_level }, span)
            }
            None => self.modern(request, span),
        }
    }

    fn legacy(self: &Rc<Self>, request: Request, served: Served, span: &mut Span) -> Step {
        let version = served.version;
        let result = match request.method.as_str() {
            "initialize" => Err(RpcError::invalid_request(
                "invalid request: the session is already initialized; `initialize` may be sent only once",
            )),
            "ping" => Ok(json!({})),
            "logging/setLevel" => self.set_level(&request),
            "tools/list" => self.list_tools(&request, served.version),
            "tools/call" => return self.call_tool(request, served, span.context()),
            "resources/list" => self.list(Catalog::Resources, &request, version),
            "resources/templates/list" => self.list(Catalog::ResourceTemplates, &request, version),
            "resources/read" => return self.read_resource(request, served, span),
            "prompts/list" => self.list(Catalog::Prompts, &request, version),
            "prompts/get" => self.get_prompt(&request, version, span),
            "completion/complete" => self.complete(&request),
            other => Err(RpcError::method_not_found(other)),
        };
        match result {
            Ok(result) => reply(result),
            Err(e) => error(e),
        }
    }

    fn modern(self: &Rc<Self>, request: Request, span: &mut Span) -> Step {
        // `initialize`, `ping`, `logging/setLevel`, subscriptions ... left the
        // ClientRequest union in 2026-07-28: unknown methods there.
        if !MODERN_METHODS.contains(&request.method.as_str()) {
            let mut e = RpcError::method_not_found(&request.method);
            if request.method == "initialize" {
                e.message = format!(
                    "method not found: initialize is not served once a process speaks protocol {}",
                    Version::V2026_07_28
                );
                e = e.with_data(json!({"supported": supported_modern()}));
            }
            return error(e);
        }
        let undecided = matches!(*self.state.borrow(), Era::Unset);
        let served = match modern_meta(&request, undecided) {
            Ok(served) => served,
            Err(e) => return error(e),
        };
        // The first valid 2026-07-28 request decides the era; a refused one does
        // not, so a dual-era client may still fall back to `initialize`.
        *self.state.borrow_mut() = Era::Modern;
        if undecided {
            // Stateless revision: the session is this process's stdio connection
            // from its first valid request to EOF (README, "Metrics and health").
            self.open_session();
        }
        span.set("mcp.protocol.version", served.version.as_str());
        let result = match request.method.as_str() {
            "server/discover" => Ok(cacheable(self.discover())),
            "tools/list" => self.list_tools(&request, served.version).map(cacheable),
            "resources/list" => self
                .list(Catalog::Resources, &request, served.version)
                .map(cacheable),
            "resources/templates/list" => self
                .list(Catalog::ResourceTemplates, &request, served.version)
                .map(cacheable),
            "resources/read" => return self.read_resource(request, served, span),
            "prompts/list" => self
                .list(Catalog::Prompts, &request, served.version)
                .map(cacheable),
            "prompts/get" => self.get_prompt(&request, served.version, span),
            "completion/complete" => self.complete(&request),
            _ => return self.call_tool(request, served, span.context()),
        };
        match result {
            Ok(result) => reply(complete(result)),
            Err(e) => error(e),
        }
    }

    fn initialize(&self, request: Request, span: &mut Span) -> Step {
        let params = request.params.clone().unwrap_or_default();
        let requested = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let client = params.get("clientInfo");
        // Client text, clipped before it reaches a span, a record or the session.
        let text = |key: &str| {
            jsonrpc::clip(
                client
                    .and_then(|c| c.get(key))
                    .and_then(Value::as_str)
                    .unwrap_or("unknown"),
            )
        };
        let requested_text = jsonrpc::clip(requested);
        let mut child = self.services.obs.tracer.start_child(
            "mcp.session.initialize",
            SpanKind::Internal,
            span.context(),
        );
        child.set_with("mcp.client.name", || AttrValue::from(text("name")));
        child.set_with("mcp.client.version", || AttrValue::from(text("version")));
        child.set_with("mcp.protocol.version", || {
            AttrValue::from(requested_text.clone())
        });
        child.add_event("session.validation.start", Vec::new);
        let invalid = if !params.get("protocolVersion").is_some_and(Value::is_string) {
            Some("invalid params: `protocolVersion` must be a string".to_string())
        } else {
            ["capabilities", "clientInfo"]
                .into_iter()
                .find(|field| params.get(*field).is_some_and(|v| !v.is_object()))
                .map(|field| format!("invalid params: `{field}` must be an object"))
        };
        if let Some(message) = invalid {
            child.record_error("InvalidParams", &message);
            child.end();
            return error(RpcError::invalid_params(message));
        }
        let version = version::negotiate(requested);
        let client_roots = params
            .get("capabilities")
            .and_then(|c| c.get("roots"))
            .is_some_and(Value::is_object);
        *self.state.borrow_mut() = Era::Legacy(Session {
            version,
            client_name: text("name"),
            client_version: text("version"),
            log_level: None,
            client_roots,
            started: Instant::now(),
        });
        self.open_session();
        span.set("mcp.protocol.version", version.as_str());
        child.add_event("session.created", || {
            vec![KeyValue::new(
                "mcp.session.id",
                self.services.session_id.clone(),
            )]
        });
        child.set_ok();
        child.end();
        log::info!(requested = requested_text.as_str(), negotiated = version.as_str(); "MCP initialize");
        reply(json!({
            "protocolVersion": version.as_str(),
            "capabilities": capabilities(version),
            "serverInfo": server_info(version),
            "instructions": INSTRUCTIONS,
        }))
    }

    fn open_session(&self) {
        self.session_opened.set(Some(Instant::now()));
        self.services.obs.metrics.record_session_created();
    }

    fn discover(&self) -> Value {
        json!({
            "supportedVersions": supported_modern(),
            "capabilities": capabilities(Version::V2026_07_28),
            "instructions": INSTRUCTIONS,
        })
    }

    fn set_level(&self, request: &Request) -> Result<Value, RpcError> {
        let name = request
            .params
            .as_ref()
            .and_then(|p| p.get("level"))
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::invalid_params("invalid params: `level` must be a string"))?;
        let level = LogLevel::parse(name).ok_or_else(|| {
            RpcError::invalid_params(format!("invalid params: {}", LogLevel::unknown(name)))
        })?;
        if let Era::Legacy(session) = &mut *self.state.borrow_mut() {
            session.log_level = Some(level);
        }
        crate::logging::forward_to_client(Some(level));
        Ok(json!({}))
    }

    fn list_tools(&self, request: &Request, version: Version) -> Result<Value, RpcError> {
        let tools: Vec<Value> = self
            .tools()
            .all()
            .iter()
            .map(|t| t.describe(version))
            .collect();
        let (page, next) = paginate(
            &tools,
            request,
            "tools",
            self.services.config.server.page_size,
            version,
        )?;
        let mut result = json!({"tools": page});
        if let Some(next) = next {
            result["nextCursor"] = json!(next);
        }
        Ok(result)
    }

    fn call_tool(self: &Rc<Self>, request: Request, served: Served, parent: &SpanContext) -> Step {
        let Request { id, method, params } = request;
        let mut params = params.unwrap_or_default();
        // Taken out, not copied: the handler gets the client's map itself.
        let arguments = params.remove("arguments");
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return error(RpcError::invalid_params(
                "invalid params: `name` must be a string",
            ));
        };
        let mut span =
            self.services
                .obs
                .tracer
                .start_child("mcp.tool.call", SpanKind::Internal, parent);
        let tool = self.tools().get(name);
        if span.is_recording() {
            // A tool's own name, or the client's text for a name no tool has: clipped.
            let shown = match tool {
                Some(tool) => AttrValue::from(tool.name),
                None => AttrValue::text(&jsonrpc::clip(name)),
            };
            span.set("mcp.tool.name", shown.clone());
            span.set("gen_ai.tool.name", shown);
        }
        span.set("gen_ai.operation.name", "execute_tool");
        span.set_with("mcp.session.id", || {
            AttrValue::text(&self.services.session_id)
        });
        span.set("mcp.protocol.version", served.version.as_str());
        let started = Instant::now();
        let metrics = &self.services.obs.metrics;
        // Refused calls count as failed calls of the tool, or of `__unknown__` for a
        // name no tool has: a client's text never becomes a label (it could hold a
        // secret, and a flood of names would push the real tools out of the series cap).
        let refuse = |mut span: Span, e: RpcError| {
            span.record_error(error_type(e.code), &e.message);
            span.end();
            let label = tool.map_or(UNKNOWN_TOOL, |tool| tool.name);
            metrics.record_tool_call(label, started.elapsed().as_secs_f64(), true);
            error(e)
        };
        let args = match arguments {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(args)) => args,
            Some(_) => {
                return refuse(
                    span,
                    RpcError::invalid_params("invalid params: `arguments` must be an object"),
                );
            }
        };
        // The spec's `len(command.arguments)`: how many arguments were given.
        span.set("mcp.tool.input.size", args.len() as i64);
        let Some(tool) = tool else {
            let message = format!("invalid params: unknown tool: {}", jsonrpc::clip(name));
            return refuse(span, RpcError::invalid_params(message));
        };
        let version = served.version;
        if let Err(problem) = schema::validate_arguments(&tool.input_schema, &args) {
            let message = format!("invalid arguments for tool {name}: {problem}");
            if !version.validation_is_tool_error() {
                let e = RpcError::invalid_params(format!("invalid params: {message}"))
                    .with_data(json!({"tool": name}));
                return refuse(span, e);
            }
            let result = ToolResult::error(message);
            finish_tool_span(&mut span, &result);
            span.end();
            metrics.record_tool_call(tool.name, started.elapsed().as_secs_f64(), true);
            return reply(finish(version, result.into_json(version)));
        }
        let handler = tool.handler;
        let call = ToolCall::start(metrics, tool.name);
        let ctx = Rc::new(RequestContext::new(
            id.clone(),
            method,
            version,
            params.get("_meta").and_then(Value::as_object),
            served.log_level,
            Rc::clone(&self.notifier),
            span.context().clone(),
            Rc::clone(&self.services),
        ));
        let server = Rc::clone(self);
        self.work(
            id,
            Box::pin(async move {
                let result = handler(ctx, args).await;
                finish_tool_span(&mut span, &result);
                server.end_after_answer(span);
                call.finish(result.is_error);
                Ok(finish(version, result.into_json(version)))
            }),
        )
    }
}

/// The spec's result attributes: `len(result.content)` and `not result.is_error`.
fn finish_tool_span(span: &mut Span, result: &ToolResult) {
    span.set("mcp.tool.result.size", result.content.len() as i64);
    span.set("mcp.tool.result.success", !result.is_error);
    if result.is_error {
        let text = result
            .content
            .first()
            .and_then(|c| c["text"].as_str())
            .unwrap_or("tool error");
        span.record_error("ToolError", text);
    } else {
        span.set_ok();
    }
}

/// Validates the per-request `_meta` of a 2026-07-28 request.
///
/// `undecided`: the era is still open, so the handshake revisions are usable
/// too and `-32022` lists them for a client that can fall back to `initialize`.
fn modern_meta(request: &Request, undecided: bool) -> Result<Served, RpcError> {
    let missing = |key: &str, what: &str| {
        RpcError::invalid_params(format!("invalid params: `_meta[\"{key}\"]` must be {what}"))
    };
    let meta = meta(request).ok_or_else(|| missing(META_PROTOCOL_VERSION, "a string"))?;
    let requested = meta
        .get(META_PROTOCOL_VERSION)
        .and_then(Value::as_str)
        .ok_or_else(|| missing(META_PROTOCOL_VERSION, "a string"))?;
    if !meta
        .get(META_CLIENT_CAPABILITIES)
        .is_some_and(Value::is_object)
    {
        return Err(missing(META_CLIENT_CAPABILITIES, "an object"));
    }
    if meta.get(META_CLIENT_INFO).is_some_and(|v| !v.is_object()) {
        return Err(missing(META_CLIENT_INFO, "an object"));
    }
    let version = Version::parse(requested)
        .filter(|v| v.is_modern())
        .ok_or_else(|| {
            RpcError::new(
                jsonrpc::UNSUPPORTED_PROTOCOL_VERSION,
                format!("unsupported protocol version: {}", jsonrpc::clip(requested)),
            )
            .with_data(
                json!({"supported": supported(undecided), "requested": jsonrpc::clip(requested)}),
            )
        })?;
    let log_level = match meta.get(META_LOG_LEVEL) {
        None => None,
        Some(level) => Some(level.as_str().and_then(LogLevel::parse).ok_or_else(|| {
            RpcError::invalid_params(format!(
                "invalid params: {}",
                LogLevel::unknown(&level.to_string())
            ))
        })?),
    };
    Ok(Served { version, log_level })
}

fn meta(request: &Request) -> Option<&Map<String, Value>> {
    request.params.as_ref()?.get("_meta")?.as_object()
}

/// Revisions a client may still use, newest first: the handshake ones only while
/// the era of the process is undecided.
fn supported(undecided: bool) -> Vec<&'static str> {
    let mut all = supported_modern();
    if undecided {
        all.extend(Version::LEGACY.iter().rev().map(|v| v.as_str()));
    }
    all
}

fn supported_modern() -> Vec<&'static str> {
    Version::MODERN.iter().map(|v| v.as_str()).collect()
}

const INSTRUCTIONS: &str = "TelemetryFlow MCP server (tfo-mcp). Every request is traced, counted and logged. \
Use `echo` to check the connection, `system_info` to learn about the host and `health_check` for the \
server's health. `read_file`, `write_file`, `list_directory` and `search_files` work only inside the \
allowed roots, and `execute_command` only runs programs the operator allowed. The resources \
`config://server` (secrets masked), `status://health`, `metrics://prometheus` and the template \
`file:///{path}` show the configuration, health, metrics and files; the prompts `code_review`, \
`explain_code` and `debug_help` turn code into a review, an explanation or a diagnosis.";

/// What this server implements in `version`, and nothing more: no resource
/// subscriptions and no list-change notifications.
fn capabilities(version: Version) -> Value {
    let mut capabilities = json!({"tools": {"listChanged": false}, "logging": {}});
    capabilities["resources"] = json!({"subscribe": false, "listChanged": false});
    capabilities["prompts"] = json!({"listChanged": false});
    // 2024-11-05 has `completion/complete` but no capability flag for it.
    if version.has_completions_capability() {
        capabilities["completions"] = json!({});
    }
    capabilities
}

fn server_info(version: Version) -> Value {
    let mut info = json!({"name": "tfo-mcp", "version": env!("CARGO_PKG_VERSION")});
    if version.has_titles_and_structured() {
        info["title"] = json!("TelemetryFlow MCP");
    }
    if version.has_implementation_description() {
        info["description"] = json!(
            "MCP server with built-in OpenTelemetry traces, Prometheus metrics and structured logs"
        );
    }
    info
}

/// Adds what a 2026-07-28 result must carry; other revisions' results pass unchanged.
fn finish(version: Version, result: Value) -> Value {
    if version.is_modern() {
        complete(result)
    } else {
        result
    }
}

fn complete(mut result: Value) -> Value {
    result["resultType"] = json!("complete");
    result["_meta"] = json!({ META_SERVER_INFO: server_info(Version::V2026_07_28) });
    result
}

fn cacheable(mut result: Value) -> Value {
    result["ttlMs"] = json!(CACHE_TTL_MS);
    result["cacheScope"] = json!("public");
    result
}

/// One page of `items` after the request's `cursor`. Cursors are opaque to the
/// client (`<list>:<offset>` base-16 encoded) and checked on the way back in.
fn paginate(
    items: &[Value],
    request: &Request,
    list: &str,
    page_size: usize,
    version: Version,
) -> Result<(Vec<Value>, Option<String>), RpcError> {
    let bad = || RpcError::invalid_params("invalid params: invalid cursor");
    let start = match request.params.as_ref().and_then(|p| p.get("cursor")) {
        None | Some(Value::Null) => 0,
        // 2026-07-28: "" is a valid cursor, the first page.
        Some(Value::String(c)) if c.is_empty() && version.is_modern() => 0,
        Some(Value::String(c)) => decode_cursor(c, list)
            .filter(|&o| o > 0 && o < items.len())
            .ok_or_else(bad)?,
        Some(_) => {
            return Err(RpcError::invalid_params(
                "invalid params: `cursor` must be a string",
            ));
        }
    };
    let end = (start + page_size).min(items.len());
    let next = (end < items.len()).then(|| encode_cursor(list, end));
    Ok((items[start..end].to_vec(), next))
}

fn encode_cursor(list: &str, offset: usize) -> String {
    format!("{list}:{offset}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_cursor(cursor: &str, list: &str) -> Option<usize> {
    if !cursor.len().is_multiple_of(2) || cursor.len() > 64 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(cursor.get(i..i + 2)?, 16).ok())
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (tag, offset) = text.split_once(':')?;
    if tag != list {
        return None;
    }
    offset.parse().ok()
}

fn reply(result: Value) -> Step {
    Step::Reply(Ok(result))
}

fn error(error: RpcError) -> Step {
    Step::Reply(Err(error))
}

/// Sets the outcome of a request's span: OK, or ERROR with an `exception` event.
pub(super) fn finish_request_span(span: &mut Span, answer: &Answer) {
    match answer {
        Ok(result) if result.get("isError") == Some(&Value::Bool(true)) => {
            span.set("error.type", "tool_error");
            span.record_error("ToolError", "the tool reported an error (isError: true)");
        }
        Ok(_) => span.set_ok(),
        Err(e) => {
            span.set_with("error.type", || e.code.to_string().into());
            span.set_with("rpc.response.status_code", || e.code.to_string().into());
            span.record_error(error_type(e.code), &e.message);
        }
    }
}

/// Longest error message written into a request's records and the error tracker, in
/// bytes. A message may quote what the client sent; every answer's error passes
/// here, so a handler that forgets to clip its quote cannot put a whole request into
/// them. (Spans cut their own text, `telemetry::tracer`.)
const MAX_ERROR_TEXT: usize = 1024;

/// `message` as a request's records and the error tracker carry it: cut to
/// [`MAX_ERROR_TEXT`].
pub(super) fn error_text(message: &str) -> std::borrow::Cow<'_, str> {
    crate::redact::truncate(message, MAX_ERROR_TEXT)
}

/// The exception type recorded for a JSON-RPC error code.
pub(super) fn error_type(code: i64) -> &'static str {
    match code {
        jsonrpc::PARSE_ERROR => "ParseError",
        jsonrpc::INVALID_REQUEST => "InvalidRequest",
        jsonrpc::METHOD_NOT_FOUND => "MethodNotFound",
        jsonrpc::INVALID_PARAMS => "InvalidParams",
        jsonrpc::INTERNAL_ERROR => "InternalError",
        jsonrpc::RESOURCE_NOT_FOUND => "ResourceNotFound",
        jsonrpc::UNSUPPORTED_PROTOCOL_VERSION => "UnsupportedProtocolVersion",
        jsonrpc::MISSING_CLIENT_CAPABILITY => "MissingRequiredClientCapability",
        _ => "JsonRpcError",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_text_keeps_short_messages_and_cuts_long_ones() {
        assert_eq!(error_text("invalid params: x"), "invalid params: x");
        let long = format!("unknown thing: {}", "é".repeat(3000));
        let cut = error_text(&long);
        assert!(cut.len() < MAX_ERROR_TEXT + 32, "{} bytes", cut.len());
        assert!(cut.starts_with("unknown thing: éé") && cut.ends_with("(6015 bytes)"));
    }

    #[test]
    fn cursors_round_trip_and_reject_tampering() {
        let c = encode_cursor("tools", 2);
        assert_eq!(decode_cursor(&c, "tools"), Some(2));
        assert_eq!(
            decode_cursor(&c, "prompts"),
            None,
            "a cursor of another list"
        );
        for bad in ["", "zz", "abc", "746f6f6c733a78", &"ab".repeat(40)] {
            assert_eq!(decode_cursor(bad, "tools"), None, "cursor {bad:?}");
        }
    }
}
