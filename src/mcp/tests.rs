//! The span tree a session produces, checked in memory through a tracer whose
//! queue the test reads.

use super::run_in_memory_traced;
use crate::config::Config;
use crate::telemetry::model::{FLAG_IS_REMOTE, KeyValue, SpanData, SpanKind, StatusCode, Value};
use crate::telemetry::{ExportStats, Sampler, Tracer, hex};
use serde_json::json;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

fn traced(config: &Config) -> (Tracer, Receiver<SpanData>, Arc<ExportStats>) {
    let (queue, spans) = sync_channel(1024);
    let stats = Arc::new(ExportStats::default());
    let tracer = Tracer::new(
        Sampler::new(&config.telemetry.tracing),
        queue,
        Arc::clone(&stats),
        "telemetryflow-mcp".into(),
    );
    (tracer, spans, stats)
}

fn lines(messages: &[serde_json::Value]) -> Vec<Vec<u8>> {
    messages
        .iter()
        .map(|m| m.to_string().into_bytes())
        .collect()
}

fn attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .map(|kv| &kv.value)
}

fn text(span: &SpanData, key: &str) -> String {
    match attr(span, key) {
        Some(Value::Str(s)) => s.to_string(),
        other => panic!("{} attribute {key}: {other:?}", span.name),
    }
}

fn event_attr<'a>(kvs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    kvs.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
}

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn a_session_produces_the_spec_span_tree() {
    let config = Config::default();
    let (tracer, spans, _) = traced(&config);
    let out = run_in_memory_traced(
        config,
        tracer,
        lines(&[
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "9.1"}}}),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            json!({"jsonrpc": "2.0", "id": "c", "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}, "_meta": {"traceparent": TRACEPARENT, "tracestate": "vendor=x"}}}),
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "nope", "arguments": {}}}),
            json!({"jsonrpc": "2.0", "id": 4, "method": "nope/nope"}),
        ]),
    );
    assert_eq!(out.len(), 4, "four responses: {out:?}");
    let spans: Vec<SpanData> = spans.try_iter().collect();
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_ref()).collect();
    assert_eq!(
        names.iter().filter(|n| **n == "request.process").count(),
        4,
        "one request.process per request: {names:?}"
    );
    let by = |name: &str, pred: &dyn Fn(&SpanData) -> bool| -> SpanData {
        spans
            .iter()
            .find(|s| s.name == name && pred(s))
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {names:?}"))
    };

    // initialize: request.process SERVER root with the MCP attributes, and its child.
    let init_root = by("request.process", &|s| {
        text(s, "mcp.method.name") == "initialize"
    });
    assert_eq!(init_root.kind, SpanKind::Server);
    assert_eq!(init_root.parent_span_id, None, "root without traceparent");
    assert_eq!(text(&init_root, "mcp.request.id"), "1");
    assert_eq!(text(&init_root, "jsonrpc.request.id"), "1");
    assert_eq!(text(&init_root, "mcp.protocol.version"), "2025-06-18");
    assert_eq!(text(&init_root, "service.name"), "telemetryflow-mcp");
    assert_eq!(init_root.status.code, StatusCode::Ok);
    let session_id = text(&init_root, "mcp.session.id");
    assert_eq!(session_id.len(), 32);
    let init = by("mcp.session.initialize", &|_| true);
    assert_eq!(init.parent_span_id, Some(init_root.span_id));
    assert_eq!(init.trace_id, init_root.trace_id);
    assert_eq!(text(&init, "mcp.client.name"), "probe");
    assert_eq!(text(&init, "mcp.client.version"), "9.1");
    assert_eq!(text(&init, "mcp.protocol.version"), "2025-06-18");
    let events: Vec<&str> = init.events.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(events, ["session.validation.start", "session.created"]);
    assert_eq!(
        event_attr(&init.events[1].attributes, "mcp.session.id"),
        Some(&Value::from(session_id.clone())),
        "session.created names the session"
    );

    // tools/call under the caller's traceparent.
    let call_root = by("request.process", &|s| text(s, "mcp.request.id") == "c");
    assert_eq!(
        hex(&call_root.trace_id.0),
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "caller's trace continued"
    );
    assert_eq!(
        call_root.parent_span_id.map(|p| hex(&p.0)),
        Some("00f067aa0ba902b7".into()),
        "child of the caller's span"
    );
    assert_eq!(call_root.trace_state, "vendor=x", "tracestate passed on");
    assert_ne!(call_root.flags & FLAG_IS_REMOTE, 0, "parent is remote");
    assert_eq!(
        call_root.status.code,
        StatusCode::Ok,
        "a finished tool call ends its request span OK"
    );
    assert!(
        call_root.events.is_empty(),
        "no cancelled event on a finished request: {:?}",
        call_root.events
    );
    let tool = by("mcp.tool.call", &|s| text(s, "mcp.tool.name") == "echo");
    assert_eq!(tool.parent_span_id, Some(call_root.span_id));
    assert_eq!(tool.trace_id, call_root.trace_id);
    assert_eq!(
        tool.flags & FLAG_IS_REMOTE,
        0,
        "tool span's parent is local"
    );
    assert_eq!(text(&tool, "gen_ai.tool.name"), "echo");
    assert_eq!(text(&tool, "gen_ai.operation.name"), "execute_tool");
    assert_eq!(text(&tool, "mcp.session.id"), session_id);
    assert_eq!(attr(&tool, "mcp.tool.input.size"), Some(&Value::Int(1)));
    assert_eq!(attr(&tool, "mcp.tool.result.size"), Some(&Value::Int(1)));
    assert_eq!(
        attr(&tool, "mcp.tool.result.success"),
        Some(&Value::Bool(true))
    );
    assert_eq!(tool.status.code, StatusCode::Ok);
    assert!(tool.end_time_unix_nano >= tool.start_time_unix_nano);

    // Failures: ERROR status with the message and an exception event.
    let unknown = by("mcp.tool.call", &|s| text(s, "mcp.tool.name") == "nope");
    assert_eq!(unknown.status.code, StatusCode::Error);
    assert_eq!(unknown.status.message, "invalid params: unknown tool: nope");
    let exception = unknown
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("exception event");
    assert_eq!(
        event_attr(&exception.attributes, "exception.type"),
        Some(&Value::from("InvalidParams"))
    );
    let missing = by("request.process", &|s| {
        text(s, "mcp.method.name") == "nope/nope"
    });
    assert_eq!(missing.status.code, StatusCode::Error);
    assert_eq!(text(&missing, "error.type"), "-32601");
    for span in &spans {
        assert_eq!(
            text(span, "service.name"),
            "telemetryflow-mcp",
            "{} carries service.name",
            span.name
        );
        assert!(
            attr(span, "mcp.protocol.version").is_some(),
            "{} carries mcp.protocol.version",
            span.name
        );
    }
}

#[test]
fn tool_errors_are_error_spans_and_unsampled_traces_queue_nothing() {
    let config = Config::default();
    let (tracer, spans, _) = traced(&config);
    run_in_memory_traced(
        config,
        tracer,
        lines(&[
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {}}}),
        ]),
    );
    let spans: Vec<SpanData> = spans.try_iter().collect();
    let tool = spans
        .iter()
        .find(|s| s.name == "mcp.tool.call")
        .expect("tool span");
    assert_eq!(
        tool.status.code,
        StatusCode::Error,
        "isError: true makes an error span"
    );
    assert_eq!(
        attr(tool, "mcp.tool.result.success"),
        Some(&Value::Bool(false))
    );
    let root = spans
        .iter()
        .find(|s| s.name == "request.process" && text(s, "mcp.request.id") == "2")
        .expect("root");
    assert_eq!(text(root, "error.type"), "tool_error");

    // A caller that did not sample: parent-based, nothing is recorded or queued.
    let mut config = Config::default();
    config.telemetry.tracing.sample_rate = 1.0;
    let (tracer, spans, stats) = traced(&config);
    let unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";
    run_in_memory_traced(
        config,
        tracer,
        lines(&[
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"_meta": {"traceparent": unsampled}}}),
        ]),
    );
    assert_eq!(
        spans.try_iter().count(),
        0,
        "unsampled parent: no span queued"
    );
    assert_eq!(stats.dropped_queue_full.get(), 0);
}

#[test]
fn a_full_queue_drops_and_counts_without_blocking() {
    let config = Config::default();
    let (queue, spans) = sync_channel(2);
    let stats = Arc::new(ExportStats::default());
    let tracer = Tracer::new(
        Sampler::new(&config.telemetry.tracing),
        queue,
        Arc::clone(&stats),
        "s".into(),
    );
    let pings: Vec<serde_json::Value> = (0..10)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "ping"}))
        .collect();
    let out = run_in_memory_traced(config, tracer, lines(&pings));
    assert_eq!(out.len(), 10, "every ping answered");
    assert_eq!(spans.try_iter().count(), 2, "queue capacity");
    assert_eq!(
        stats.dropped_queue_full.get(),
        8,
        "the rest dropped and counted"
    );
}

#[test]
fn a_cancelled_request_span_ends_marked_cancelled() {
    let mut config = Config::default();
    config.server.diagnostic_tools = true;
    let (tracer, spans, _) = traced(&config);
    let out = run_in_memory_traced(
        config,
        tracer,
        lines(&[
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18"}}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "sleep", "arguments": {"ms": 60000}}}),
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}}),
        ]),
    );
    assert_eq!(out.len(), 1, "only initialize is answered: {out:?}");
    let spans: Vec<SpanData> = spans.try_iter().collect();
    let root = spans
        .iter()
        .find(|s| s.name == "request.process" && text(s, "mcp.request.id") == "2")
        .expect("the cancelled request's span is still exported");
    let events: Vec<&str> = root.events.iter().map(|e| e.name.as_ref()).collect();
    assert_eq!(events, ["cancelled"], "marked as cancelled");
    assert_eq!(root.status.code, StatusCode::Unset, "neither OK nor ERROR");
}

// --- resources and prompts (issue 6) ---------------------------------------------------

#[test]
fn resource_reads_and_prompt_gets_have_child_spans_with_their_outcome() {
    let config = Config::default();
    let (tracer, spans, _) = traced(&config);
    let out = run_in_memory_traced(
        config,
        tracer,
        lines(&[
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "resources/read", "params": {"uri": "config://server"}}),
            json!({"jsonrpc": "2.0", "id": 3, "method": "resources/read", "params": {"uri": "config://missing"}}),
            json!({"jsonrpc": "2.0", "id": 4, "method": "prompts/get", "params": {"name": "code_review", "arguments": {"code": "x"}}}),
            json!({"jsonrpc": "2.0", "id": 5, "method": "prompts/get", "params": {"name": "debug_help", "arguments": {"code": "x"}}}),
        ]),
    );
    assert_eq!(out.len(), 5, "five responses: {out:?}");
    let spans: Vec<SpanData> = spans.try_iter().collect();
    let root = |id: &str| {
        spans
            .iter()
            .find(|s| s.name == "request.process" && text(s, "mcp.request.id") == id)
            .unwrap_or_else(|| panic!("request.process of {id}"))
    };
    let child = |parent: &SpanData, name: &str| {
        let found: Vec<&SpanData> = spans
            .iter()
            .filter(|s| s.name == name && s.parent_span_id == Some(parent.span_id))
            .collect();
        assert_eq!(found.len(), 1, "one {name} under request {parent:?}");
        found[0].clone()
    };
    let session = text(root("1"), "mcp.session.id");
    // (request id, child span, attribute, value, error message or None)
    let cases = [
        (
            "2",
            "mcp.resource.read",
            "mcp.resource.uri",
            "config://server",
            None,
        ),
        (
            "3",
            "mcp.resource.read",
            "mcp.resource.uri",
            "config://missing",
            Some(("ResourceNotFound", "Resource not found")),
        ),
        (
            "4",
            "mcp.prompt.get",
            "mcp.prompt.name",
            "code_review",
            None,
        ),
        (
            "5",
            "mcp.prompt.get",
            "mcp.prompt.name",
            "debug_help",
            Some((
                "InvalidParams",
                "invalid params: prompt debug_help: missing required argument `error`",
            )),
        ),
    ];
    for (id, name, key, value, failure) in cases {
        let parent = root(id);
        let span = child(parent, name);
        assert_eq!(span.kind, SpanKind::Internal, "{name} {id}");
        assert_eq!(
            span.trace_id, parent.trace_id,
            "{name} {id} in its request's trace"
        );
        assert_eq!(text(&span, key), value, "{name} {id}");
        assert_eq!(text(&span, "mcp.session.id"), session, "{name} {id}");
        assert_eq!(
            text(&span, "mcp.protocol.version"),
            "2025-11-25",
            "{name} {id}"
        );
        assert_eq!(
            text(&span, "service.name"),
            "telemetryflow-mcp",
            "{name} {id}"
        );
        let semconv = if name == "mcp.resource.read" {
            "mcp.resource.uri"
        } else {
            "gen_ai.prompt.name"
        };
        assert_eq!(
            text(parent, semconv),
            value,
            "request.process {id} carries {semconv}"
        );
        match failure {
            None => {
                assert_eq!(span.status.code, StatusCode::Ok, "{name} {id}");
                assert!(span.events.is_empty(), "{name} {id}: no events");
            }
            Some((kind, message)) => {
                assert_eq!(
                    (span.status.code, span.status.message.as_str()),
                    (StatusCode::Error, message),
                    "{name} {id}"
                );
                let exception = span
                    .events
                    .iter()
                    .find(|e| e.name == "exception")
                    .expect("exception event");
                assert_eq!(
                    event_attr(&exception.attributes, "exception.type"),
                    Some(&Value::from(kind.to_string()))
                );
                assert_eq!(
                    event_attr(&exception.attributes, "exception.message"),
                    Some(&Value::from(message.to_string()))
                );
                assert_eq!(
                    parent.status.code,
                    StatusCode::Error,
                    "request.process {id} fails too"
                );
            }
        }
    }
    assert_eq!(
        text(&child(root("2"), "mcp.resource.read"), "mcp.resource.name"),
        "server-config"
    );
}

/// A table with blocking readers, as the `file:///{path}` template will be.
fn task_resources() -> crate::resources::Registry {
    use crate::resources::{Annotations, Contents, ReadError, Reader, Resource};
    let entry = |uri, reader| Resource {
        uri,
        name: "test",
        title: "Test",
        description: "test entry",
        mime_type: Some("text/plain"),
        annotations: Annotations {
            user: true,
            assistant: false,
            priority: 0.1,
        },
        ttl_ms: 0,
        reader,
        complete: None,
    };
    crate::resources::Registry::new(vec![
        entry("test://empty", Reader::Now(|_, _| Ok(Vec::new()))),
        entry(
            "test://broken",
            Reader::Task(|_, _| {
                Box::pin(async { Err(ReadError::Internal("disk on fire".into())) })
            }),
        ),
        entry(
            "test://files/{name}",
            Reader::Task(|services, target| {
                Box::pin(async move {
                    let name = target.var("name").unwrap_or_default().to_string();
                    let text = smol::unblock(move || {
                        std::fs::read_to_string(std::env::temp_dir().join(name))
                    })
                    .await
                    .map_err(|_| ReadError::NotFound)?;
                    let text = format!("{text} (session {})", services.session_id.len());
                    Ok(vec![Contents::text(&target.uri, "text/plain", text)])
                })
            }),
        ),
    ])
}

#[test]
fn blocking_readers_run_as_tasks_and_empty_or_failed_reads_are_errors() {
    let name = format!("tfo-mcp-task-reader-{}.txt", std::process::id());
    let path = std::env::temp_dir().join(&name);
    std::fs::write(&path, "from disk").expect("write temp file");
    let config = Config::default();
    let (tracer, spans, _) = traced(&config);
    let read = |id: i64, uri: &str| json!({"jsonrpc": "2.0", "id": id, "method": "resources/read", "params": {"uri": uri}});
    let out = super::run_in_memory_with(
        config,
        tracer,
        lines(&[
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}),
            read(2, &format!("test://files/{name}")),
            read(3, "test://files/tfo-mcp-no-such-file"),
            read(4, "test://broken"),
            read(5, "test://empty"),
            json!({"jsonrpc": "2.0", "id": 6, "method": "resources/templates/list"}),
        ]),
        |server| server.resources = task_resources(),
    );
    let _ = std::fs::remove_file(&path);
    let replies: std::collections::HashMap<i64, serde_json::Value> = out
        .iter()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("JSON"))
        .map(|m| (m["id"].as_i64().expect("integer id"), m))
        .collect();
    assert_eq!(
        replies[&2]["result"]["contents"],
        json!([{"uri": format!("test://files/{name}"), "mimeType": "text/plain", "text": "from disk (session 32)"}]),
        "a task reader's contents: {out:?}"
    );
    assert_eq!(replies[&3]["error"]["code"], -32002, "a missing file");
    assert_eq!(
        (
            replies[&4]["error"]["code"].as_i64(),
            replies[&4]["error"]["message"].as_str()
        ),
        (
            Some(-32603),
            Some("internal error: reading the resource failed: disk on fire")
        )
    );
    assert_eq!(
        replies[&5]["error"]["code"], -32002,
        "empty contents are never returned"
    );
    assert_eq!(
        replies[&6]["result"]["resourceTemplates"][0]["uriTemplate"],
        "test://files/{name}"
    );
    let spans: Vec<SpanData> = spans.try_iter().collect();
    let status = |uri: &str| {
        let span = spans
            .iter()
            .find(|s| {
                s.name == "mcp.resource.read"
                    && matches!(attr(s, "mcp.resource.uri"), Some(Value::Str(u)) if u == uri)
            })
            .unwrap_or_else(|| panic!("span of {uri}"));
        (span.status.code, span.status.message.clone())
    };
    assert_eq!(
        status(&format!("test://files/{name}")),
        (StatusCode::Ok, String::new())
    );
    assert_eq!(
        status("test://broken"),
        (
            StatusCode::Error,
            "internal error: reading the resource failed: disk on fire".into()
        )
    );
    assert_eq!(
        status("test://empty"),
        (StatusCode::Error, "Resource not found".into())
    );
}

/// A session of `messages` on a server whose task answers wait for a write (as under
/// the stdio loop, which is not here): the server and the answers it queued.
fn deferred_session(
    config: Config,
    tracer: Tracer,
    messages: &[serde_json::Value],
) -> (std::rc::Rc<super::Server>, Vec<String>) {
    super::session_in_memory(
        config,
        crate::observability::Observability::traced(tracer),
        lines(messages),
        |server| server.defer_completions(),
    )
}

#[test]
fn a_task_answer_is_queued_before_its_record_and_span_end_until_it_is_written() {
    let config = Config::default();
    let (tracer, spans, _) = traced(&config);
    let (server, answers) = deferred_session(
        config,
        tracer,
        &[
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}}}),
        ],
    );
    assert!(
        answers
            .iter()
            .any(|a| a.contains("\"id\":2") && a.contains("hi")),
        "the tool's answer is queued: {answers:?}"
    );
    let request_span = |spans: &[SpanData]| {
        spans
            .iter()
            .any(|s| s.name == "request.process" && text(s, "mcp.request.id") == "2")
    };
    let ended: Vec<SpanData> = spans.try_iter().collect();
    assert!(
        !request_span(&ended),
        "the request's span waits until its answer is written"
    );
    assert!(
        !ended.iter().any(|s| s.name == "mcp.tool.call"),
        "the tool's own span is encoded after the answer too"
    );
    // The write comes later than the answer (as after a pipelined burst).
    std::thread::sleep(std::time::Duration::from_millis(20));
    let written_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as u64;
    server.complete_written();
    let ended: Vec<SpanData> = spans.try_iter().collect();
    assert!(request_span(&ended), "written: the request's span ends");
    let tool = ended
        .iter()
        .find(|s| s.name == "mcp.tool.call")
        .expect("written: the tool's span ends");
    let request = ended
        .iter()
        .find(|s| s.name == "request.process" && text(s, "mcp.request.id") == "2")
        .expect("request span");
    assert!(
        tool.end_time_unix_nano >= tool.start_time_unix_nano
            && tool.end_time_unix_nano <= request.end_time_unix_nano,
        "the tool's span keeps the end time it had when the tool returned, inside its request's"
    );
    assert!(
        request.end_time_unix_nano < written_at,
        "the request's span ends with its answer, not when the answer is written"
    );
}

#[test]
fn deferred_completions_are_bounded() {
    use super::MAX_DEFERRED;
    let config = Config::default();
    let calls = MAX_DEFERRED + 10;
    // Room for every span of the session (two per call).
    let (queue, spans) = sync_channel(4 * calls);
    let tracer = Tracer::new(
        Sampler::new(&config.telemetry.tracing),
        queue,
        Arc::default(),
        "telemetryflow-mcp".into(),
    );
    let mut messages = vec![
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}),
    ];
    messages.extend((1..=calls).map(|i| {
        json!({"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "x"}}})
    }));
    let (server, _answers) = deferred_session(config, tracer, &messages);
    assert_eq!(
        server.deferred.borrow().len(),
        MAX_DEFERRED,
        "no more completions wait than the bound, however many answers are unwritten"
    );
    // Each call leaves two: its tool's span and its request's record and span; the
    // initialize answer (inline, two spans) completed at once.
    let ended = spans.try_iter().count();
    assert_eq!(
        ended,
        2 + 2 * calls - MAX_DEFERRED,
        "the rest completed at once"
    );
    server.complete_written();
    assert_eq!(
        spans.try_iter().count(),
        MAX_DEFERRED,
        "the waiting ones complete once written"
    );
}
