//! The resource, prompt and completion requests: `resources/list`,
//! `resources/templates/list`, `resources/read`, `prompts/list`, `prompts/get` and
//! `completion/complete`, shaped for the revision each is served under, with the
//! `mcp.resource.read` and `mcp.prompt.get` spans (children of `request.process`).

use super::{Served, complete, error, error_type, paginate, reply};
use crate::jsonrpc::{self, Request, RpcError};
use crate::mcp::version::Version;
use crate::mcp::{Server, Step};
use crate::resources::{self, ReadError, ReadResult, Reader};
use crate::telemetry::model::Value as AttrValue;
use crate::telemetry::{Span, SpanKind};
use crate::{completion, prompts};
use serde_json::{Value, json};
use std::rc::Rc;

/// The lists this module serves, each under its result key.
#[derive(Debug, Clone, Copy)]
pub(super) enum Catalog {
    /// `resources/list`: the fixed resources.
    Resources,
    /// `resources/templates/list`: the URI templates.
    ResourceTemplates,
    /// `prompts/list`.
    Prompts,
}

impl Catalog {
    /// The result key, also the tag of the list's cursors.
    fn key(self) -> &'static str {
        match self {
            Catalog::Resources => "resources",
            Catalog::ResourceTemplates => "resourceTemplates",
            Catalog::Prompts => "prompts",
        }
    }
}

impl Server {
    /// One page of `catalog` as `version` describes its items.
    pub(super) fn list(
        &self,
        catalog: Catalog,
        request: &Request,
        version: Version,
    ) -> Result<Value, RpcError> {
        let items: Vec<Value> = match catalog {
            Catalog::Resources => self
                .resources
                .resources()
                .map(|r| r.describe(version))
                .collect(),
            Catalog::ResourceTemplates => self
                .resources
                .templates()
                .map(|r| r.describe(version))
                .collect(),
            Catalog::Prompts => prompts::PROMPTS
                .iter()
                .map(|p| p.describe(version))
                .collect(),
        };
        let page_size = self.services.config.server.page_size;
        let (page, next) = paginate(&items, request, catalog.key(), page_size, version)?;
        let mut result = json!({ catalog.key(): page });
        if let Some(next) = next {
            result["nextCursor"] = json!(next);
        }
        Ok(result)
    }

    /// `resources/read` under an `mcp.resource.read` span: answered inline for
    /// in-memory resources, as a cancellable task for the others.
    pub(super) fn read_resource(
        self: &Rc<Self>,
        request: Request,
        served: Served,
        span: &mut Span,
    ) -> Step {
        let version = served.version;
        let uri = match resources::validate_uri(request.params.as_ref()) {
            Ok(uri) => uri.to_string(),
            Err(e) => return error(e),
        };
        span.set_with("mcp.resource.uri", || AttrValue::from(jsonrpc::clip(&uri)));
        let mut child = self.services.obs.tracer.start_child(
            "mcp.resource.read",
            SpanKind::Internal,
            span.context(),
        );
        child.set_with("mcp.resource.uri", || AttrValue::from(jsonrpc::clip(&uri)));
        child.set_with("mcp.session.id", || {
            AttrValue::text(&self.services.session_id)
        });
        child.set("mcp.protocol.version", version.as_str());
        let (entry, target) = match self.resources.resolve(&uri) {
            Ok(found) => found,
            Err(e) => return error(fail(child, e.into_rpc(&uri, version))),
        };
        child.set("mcp.resource.name", entry.name);
        let ttl_ms = entry.ttl_ms;
        match entry.reader {
            Reader::Now(read) => {
                match finish_read(child, read(&self.services, &target), &uri, version) {
                    Ok(result) => reply(shape_read(version, ttl_ms, result)),
                    Err(e) => error(e.into_rpc(&uri, version)),
                }
            }
            Reader::Task(read) => {
                let future = read(Rc::clone(&self.services), target);
                self.work(
                    request.id,
                    Box::pin(async move {
                        finish_read(child, future.await, &uri, version)
                            .map(|result| shape_read(version, ttl_ms, result))
                            .map_err(|e| e.into_rpc(&uri, version))
                    }),
                )
            }
        }
    }

    /// `prompts/get` under an `mcp.prompt.get` span.
    pub(super) fn get_prompt(
        &self,
        request: &Request,
        version: Version,
        span: &mut Span,
    ) -> Result<Value, RpcError> {
        let params = request.params.as_ref();
        let name = params
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| RpcError::invalid_params("invalid params: `name` must be a string"))?;
        span.set_with("gen_ai.prompt.name", || {
            AttrValue::from(jsonrpc::clip(name))
        });
        let mut child = self.services.obs.tracer.start_child(
            "mcp.prompt.get",
            SpanKind::Internal,
            span.context(),
        );
        child.set_with("mcp.prompt.name", || AttrValue::from(jsonrpc::clip(name)));
        child.set_with("gen_ai.prompt.name", || {
            AttrValue::from(jsonrpc::clip(name))
        });
        child.set_with("mcp.session.id", || {
            AttrValue::text(&self.services.session_id)
        });
        child.set("mcp.protocol.version", version.as_str());
        let Some(prompt) = prompts::find(name) else {
            let e = RpcError::invalid_params(format!(
                "invalid params: unknown prompt: {}",
                jsonrpc::clip(name)
            ))
            .with_data(json!({"prompt": jsonrpc::clip(name)}));
            return Err(fail(child, e));
        };
        match prompt.get(params.and_then(|p| p.get("arguments"))) {
            Ok(result) => {
                let messages = result["messages"].as_array().map_or(0, Vec::len);
                child.set("mcp.prompt.messages", messages as i64);
                child.set_ok();
                child.end();
                Ok(result)
            }
            Err(e) => Err(fail(child, e)),
        }
    }

    /// `completion/complete`.
    pub(super) fn complete(&self, request: &Request) -> Result<Value, RpcError> {
        completion::complete(request.params.as_ref(), &self.resources, &self.services)
    }

    /// The resources this server serves.
    pub fn resources(&self) -> &resources::Registry {
        &self.resources
    }
}

/// Ends `span` as failed with `e` and hands `e` back.
fn fail(mut span: Span, e: RpcError) -> RpcError {
    span.record_error(error_type(e.code), &e.message);
    span.end();
    e
}

/// Ends a read's span with its outcome; the result is `ReadResourceResult` JSON.
fn finish_read(
    mut span: Span,
    read: ReadResult,
    uri: &str,
    version: Version,
) -> Result<Value, ReadError> {
    match read {
        // 2026-07-28: an empty `contents` for a missing resource MUST NOT be returned.
        Ok(contents) if contents.is_empty() => {
            span.record_error("ResourceNotFound", "Resource not found");
            span.end();
            Err(ReadError::NotFound)
        }
        Ok(contents) => {
            span.set("mcp.resource.contents", contents.len() as i64);
            span.set_ok();
            span.end();
            Ok(resources::read_result(&contents))
        }
        Err(e) => {
            let message = e.clone().into_rpc(uri, version).message;
            let kind = match e {
                ReadError::NotFound => "ResourceNotFound",
                ReadError::Invalid(_) => "InvalidParams",
                ReadError::Internal(_) => "InternalError",
            };
            span.record_error(kind, &message);
            span.end();
            Err(e)
        }
    }
}

/// A 2026-07-28 read result carries `resultType` and the entry's caching hints;
/// `private`, since what a resource holds is this host's and may differ per user.
fn shape_read(version: Version, ttl_ms: u64, result: Value) -> Value {
    if !version.is_modern() {
        return result;
    }
    let mut result = complete(result);
    result["ttlMs"] = json!(ttl_ms);
    result["cacheScope"] = json!("private");
    result
}
