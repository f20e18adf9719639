//! `claude_conversation` through the real binary against a fake Messages API
//! (tests/common/anthropic.rs, written from the public docs) and the loopback
//! OTLP receiver: answers and usage, retries honouring `retry-after`, overload
//! exhausting the retries, a refused key (critical, not retried), a broken body,
//! a server slower than the deadline, a streamed answer as progress, a
//! conversation resending its history, and cancellation freeing the slot. Each
//! checks the `claude.message.send` span, the log records, and that the API key
//! appears nowhere in what the process emitted.

mod common;

use common::anthropic::{FakeApi, Reply};
use common::otlp::{Receiver, Span, spans};
use common::{Server, sample};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const KEY: &str = "sk-ant-test-KEY-0123456789abcdef";
const MODEL: &str = "claude-test-1";

/// A server talking to `api`, exporting spans to its own receiver, recording every stdout line.
struct Session {
    server: Server,
    otlp: Receiver,
    stdout: Vec<String>,
}

impl Session {
    fn start(api: &FakeApi, key: &str, extra: &[(&str, &str)]) -> Session {
        let otlp = Receiver::start(vec![]);
        let mut env = vec![
            ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
            ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", otlp.url.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("ANTHROPIC_API_KEY", key),
            ("ANTHROPIC_BASE_URL", api.url.as_str()),
            ("TELEMETRYFLOW_MCP_CLAUDE_MODEL", MODEL),
        ];
        env.extend_from_slice(extra);
        let mut server = Server::start(&env);
        server.initialize("2025-06-18");
        Session {
            server,
            otlp,
            stdout: Vec::new(),
        }
    }

    fn recv(&mut self) -> Value {
        let line = self.server.recv_line();
        self.stdout.push(line.clone());
        serde_json::from_str(&line).expect("JSON line")
    }

    /// Calls the tool; returns the response and the notifications sent before it.
    fn call(&mut self, id: i64, arguments: Value, meta: Option<Value>) -> (Value, Vec<Value>) {
        let mut params = json!({"name": "claude_conversation", "arguments": arguments});
        if let Some(meta) = meta {
            params["_meta"] = meta;
        }
        self.server.request(json!(id), "tools/call", params);
        let mut notifications = Vec::new();
        loop {
            let message = self.recv();
            if message.get("id").is_some() {
                assert_eq!(message["id"], id, "response id");
                return (message, notifications);
            }
            notifications.push(message);
        }
    }

    /// Reads an MCP resource's text (`metrics://prometheus`, `status://health`).
    fn resource(&mut self, id: i64, uri: &str) -> String {
        self.server
            .request(json!(id), "resources/read", json!({"uri": uri}));
        let reply = self.recv();
        reply["result"]["contents"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{uri} has text: {reply}"))
            .to_string()
    }

    /// The value of one metric series, read through `metrics://prometheus`.
    fn metric(&mut self, id: i64, series: &str) -> Option<f64> {
        let text = self.resource(id, "metrics://prometheus");
        assert!(!text.contains(KEY), "the API key leaked into the metrics");
        sample(&text, series)
    }

    /// The health report once the Claude check has run (it starts as "not checked yet").
    fn health_after_probe(&mut self, first_id: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        for id in first_id.. {
            let report: Value =
                serde_json::from_str(&self.resource(id, "status://health")).expect("health JSON");
            if report["checks"]["claude"]["message"] != "not checked yet" {
                return report;
            }
            assert!(
                Instant::now() < deadline,
                "the Claude check never ran: {report}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        unreachable!("the id range is unbounded")
    }

    /// Ends the process; returns every span exported, and stderr.
    fn finish(mut self) -> Emitted {
        self.server.close_stdin();
        let (status, _) = self.server.wait_exit(Duration::from_secs(15));
        assert_eq!(status.code(), Some(0), "clean exit");
        self.stdout.extend(self.server.drain_stdout());
        let bodies: Vec<Vec<u8>> = self.otlp.received().into_iter().map(|r| r.body).collect();
        let emitted = Emitted {
            spans: bodies.iter().flat_map(|b| spans(b)).collect(),
            stderr: self.server.stderr(),
            stdout: self.stdout.join("\n"),
            otlp: bodies,
        };
        emitted.assert_no_key();
        emitted
    }
}

/// What the process emitted.
struct Emitted {
    spans: Vec<Span>,
    stderr: String,
    stdout: String,
    otlp: Vec<Vec<u8>>,
}

impl Emitted {
    fn assert_no_key(&self) {
        assert!(!self.stdout.contains(KEY), "the API key leaked to stdout");
        assert!(!self.stderr.contains(KEY), "the API key leaked to stderr");
        let needle = KEY.as_bytes();
        for body in &self.otlp {
            assert!(
                !body.windows(needle.len()).any(|w| w == needle),
                "the API key leaked into an OTLP export"
            );
        }
    }

    /// The one `claude.message.send` span, checked to be a CLIENT child of `mcp.tool.call`.
    fn claude_spans(&self) -> Vec<&Span> {
        let claude: Vec<&Span> = self
            .spans
            .iter()
            .filter(|s| s.name == "claude.message.send")
            .collect();
        for span in &claude {
            assert_eq!(span.kind, 3, "claude.message.send is CLIENT");
            let parent = self
                .spans
                .iter()
                .find(|s| s.span_id == span.parent_span_id)
                .expect("the parent span was exported");
            assert_eq!(parent.name, "mcp.tool.call", "child of the tool span");
            assert_eq!(parent.trace_id, span.trace_id, "same trace");
            assert_eq!(span.attr("gen_ai.system"), Some("anthropic"));
            assert_eq!(span.attr("mcp.protocol.version"), Some("2025-06-18"));
            assert_eq!(span.attr("mcp.session.id"), parent.attr("mcp.session.id"));
            assert_eq!(span.attr("claude.model"), Some(MODEL));
            assert_eq!(span.attr("gen_ai.request.model"), Some(MODEL));
            assert!(span.int("claude.message.count").is_some_and(|n| n >= 1));
            assert!(span.int("claude.max_tokens").is_some());
            assert!(span.int("claude.request.duration_ms").is_some());
            assert!(
                span.attr("mcp.conversation.id")
                    .is_some_and(|c| c.starts_with("conv_"))
            );
            assert_eq!(
                span.event("claude.request.start"),
                Some(&["claude.tools.count".to_string()][..]),
                "request start event with the tools count"
            );
        }
        claude
    }

    /// JSON log records with `message`.
    fn logs(&self, message: &str) -> Vec<Value> {
        self.stderr
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["message"] == message)
            .collect()
    }
}

fn text(response: &Value) -> &str {
    response["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
}

fn is_error(response: &Value) -> bool {
    response["result"]["isError"] == true
}

#[test]
fn an_answer_carries_text_usage_and_a_new_conversation_and_is_fully_observed() {
    let api = FakeApi::start(KEY, vec![Reply::message("Hello from the fake", 21, 7)]);
    let mut s = Session::start(&api, KEY, &[("TELEMETRYFLOW_MCP_CLAUDE_MAX_TOKENS", "321")]);
    let list = s.server.call(json!("l"), "tools/list", json!({}));
    let tool = list["result"]["tools"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "claude_conversation"))
        .expect("listed when a key is configured")
        .clone();
    assert_eq!(
        tool["annotations"]["openWorldHint"], true,
        "it reaches a third party"
    );
    assert!(tool["outputSchema"].is_object());
    let (response, _) = s.call(
        1,
        json!({"message": "Hi", "system_prompt": "be brief"}),
        None,
    );
    assert!(!is_error(&response), "{response}");
    assert_eq!(text(&response), "Hello from the fake");
    let data = &response["result"]["structuredContent"];
    assert_eq!(data["model"], MODEL);
    assert_eq!(data["stop_reason"], "end_turn");
    assert_eq!(
        data["usage"],
        json!({"input_tokens": 21, "output_tokens": 7, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
    );
    assert_eq!(data["request_id"], "req_fake_0000");
    let conversation = data["conversation_id"]
        .as_str()
        .expect("a new id")
        .to_string();
    assert!(conversation.starts_with("conv_"));
    assert!(
        response["result"]["content"][1]["text"]
            .as_str()
            .is_some_and(|t| t.contains(&conversation)),
        "older clients see the id in the text too"
    );

    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/v1/messages")
    );
    assert_eq!(
        request.header("x-api-key"),
        Some(KEY),
        "key from ANTHROPIC_API_KEY"
    );
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.json(),
        json!({"model": MODEL, "max_tokens": 321, "system": "be brief",
               "messages": [{"role": "user", "content": "Hi"}]}),
        "configured model and max_tokens; no stream without a progress token"
    );

    // The spec's three Claude metrics, as /metrics (and metrics://prometheus) serve them.
    let m = format!("{{model=\"{MODEL}\"");
    for (series, want) in [
        (
            format!("claude_requests_total{m},status=\"success\"}}"),
            1.0,
        ),
        (format!("claude_tokens_total{m},type=\"input\"}}"), 21.0),
        (format!("claude_tokens_total{m},type=\"output\"}}"), 7.0),
        (format!("claude_request_duration_seconds_count{m}}}"), 1.0),
    ] {
        assert_eq!(s.metric(100, &series), Some(want), "{series}");
    }
    let report = s.health_after_probe(200);
    assert_eq!(report["checks"]["claude"]["status"], "healthy", "{report}");
    assert!(
        !api.probes().is_empty(),
        "the health check asked GET /v1/models"
    );
    assert!(
        api.seen().iter().all(|r| r.path == "/v1/messages"),
        "the health check never spends tokens: no other request than the call's"
    );
    let out = s.finish();
    let claude = out.claude_spans();
    assert_eq!(claude.len(), 1);
    let span = claude[0];
    assert_eq!(span.status_code, 1, "status OK");
    assert_eq!(span.attr("gen_ai.response.model"), Some(MODEL));
    assert_eq!(
        span.attr("mcp.conversation.id"),
        Some(conversation.as_str())
    );
    let ints = [
        ("claude.max_tokens", 321),
        ("claude.message.count", 1),
        ("claude.tokens.input", 21),
        ("claude.tokens.output", 7),
        ("claude.tokens.total", 28),
        ("gen_ai.usage.input_tokens", 21),
        ("gen_ai.usage.output_tokens", 7),
    ];
    for (key, value) in ints {
        assert_eq!(span.int(key), Some(value), "{key}");
    }
    assert!(
        span.array_attributes.contains(&(
            "gen_ai.response.finish_reasons".to_string(),
            vec!["end_turn".to_string()]
        )),
        "{:?}",
        span.array_attributes
    );
    assert!(span.event("claude.response.received").is_some());
    let logs = out.logs("Claude API request");
    assert_eq!(logs.len(), 1, "{}", out.stderr);
    assert_eq!(logs[0]["claude_model"], MODEL);
    assert_eq!(logs[0]["message_count"], 1);
    assert_eq!(logs[0]["token_count"], 28);
    assert_eq!(logs[0]["conversation_id"], conversation.as_str());
}

#[test]
fn rate_limited_with_retry_after_is_retried_once_after_the_wait() {
    let api = FakeApi::start(
        KEY,
        vec![
            Reply::error(
                429,
                "rate_limit_error",
                "Number of requests has exceeded your rate limit",
                &[("retry-after", "1")],
            ),
            Reply::message("second time lucky", 9, 3),
        ],
    );
    let mut s = Session::start(&api, KEY, &[]);
    let (response, _) = s.call(1, json!({"message": "Hi"}), None);
    assert!(!is_error(&response), "{response}");
    assert_eq!(text(&response), "second time lucky");
    let seen = api.seen();
    assert_eq!(seen.len(), 2, "exactly two requests");
    let gap = seen[1].at - seen[0].at;
    assert!(
        gap >= Duration::from_millis(1000),
        "retry-after: 1 honoured, waited {gap:?}"
    );
    assert!(
        gap < Duration::from_millis(3000),
        "and not much longer: {gap:?}"
    );
    assert_eq!(seen[0].body, seen[1].body, "the same request is resent");
    let out = s.finish();
    let span = out.claude_spans()[0];
    assert_eq!(span.status_code, 1);
    assert_eq!(span.int("claude.retry.count"), Some(1));
    let retry = span
        .event("claude.request.retry")
        .expect("the retry is a span event");
    for key in [
        "claude.retry.number",
        "claude.retry.wait_ms",
        "error.type",
        "http.response.status_code",
    ] {
        assert!(retry.contains(&key.to_string()), "{key} in {retry:?}");
    }
    assert_eq!(out.logs("Claude API request failed; retrying").len(), 1);
    assert_eq!(out.logs("Claude API request").len(), 1);
}

#[test]
fn overload_exhausts_the_retries_into_an_actionable_error() {
    let overloaded = || Reply::error(529, "overloaded_error", "Overloaded", &[]);
    let api = FakeApi::start(
        KEY,
        vec![overloaded(), overloaded(), overloaded(), overloaded()],
    );
    let mut s = Session::start(&api, KEY, &[("TELEMETRYFLOW_MCP_CLAUDE_MAX_RETRIES", "2")]);
    let started = Instant::now();
    let (response, _) = s.call(1, json!({"message": "Hi"}), None);
    let took = started.elapsed();
    assert!(is_error(&response), "{response}");
    let message = text(&response);
    assert!(
        message.starts_with(
            "the Claude API is overloaded (overloaded_error: Overloaded); retried 2 times over "
        ) && message.ends_with("s; try again later (request id req_fake_0002)"),
        "{message}"
    );
    assert_eq!(api.seen().len(), 3, "one attempt and max_retries=2 retries");
    // Backoff 0.5 s then 1 s, each up to a quarter shorter.
    assert!(
        took >= Duration::from_millis(1100),
        "backed off between attempts: {took:?}"
    );
    let m = format!("{{model=\"{MODEL}\"");
    assert_eq!(
        s.metric(100, &format!("claude_requests_total{m},status=\"error\"}}")),
        Some(1.0),
        "one failed request, however many attempts"
    );
    assert_eq!(
        s.metric(
            101,
            &format!("claude_requests_total{m},status=\"success\"}}")
        ),
        None,
        "no success series"
    );
    let out = s.finish();
    let span = out.claude_spans()[0];
    assert_eq!(span.status_code, 2, "status ERROR");
    assert_eq!(span.attr("error.type"), Some("overloaded_error"));
    assert_eq!(span.int("http.response.status_code"), Some(529));
    assert_eq!(span.int("claude.retry.count"), Some(2));
    assert!(span.event("exception").is_some(), "exception event");
    let retries = span
        .events
        .iter()
        .filter(|(n, _)| n == "claude.request.retry")
        .count();
    assert_eq!(retries, 2, "one event per retry");
    let failed = out.logs("Claude API request failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["error_type"], "overloaded_error");
    assert_eq!(failed[0]["retries"], 2);
    assert!(
        out.logs("Critical error detected").is_empty(),
        "overload is not critical"
    );
}

/// An API error message that quotes the key it was sent (a proxy might) reaches
/// the client and the records without it, whatever the key looks like.
#[test]
fn an_error_quoting_the_key_does_not_pass_it_on() {
    let key = "plain-proxy-credential-0123456789";
    let echo = format!(
        "invalid x-api-key: {key}; also sk-ant-api03-{}",
        "Z".repeat(40)
    );
    let api = FakeApi::start(
        key,
        vec![Reply::error(401, "authentication_error", &echo, &[])],
    );
    let mut s = Session::start(&api, key, &[]);
    let (response, _) = s.call(1, json!({"message": "Hi"}), None);
    assert!(is_error(&response), "{response}");
    let answer = text(&response);
    assert!(answer.contains("invalid x-api-key: [REDACTED]"), "{answer}");
    assert!(
        !answer.contains(key) && !answer.contains("ZZZZ"),
        "{answer}"
    );
    let out = s.finish();
    assert!(!out.stderr.contains(key), "the key reached the records");
}

#[test]
fn a_refused_key_is_critical_and_not_retried() {
    let api = FakeApi::start(KEY, vec![]);
    let wrong = "sk-ant-wrong-key-987654321";
    let mut s = Session::start(&api, wrong, &[]);
    let (response, _) = s.call(1, json!({"message": "Hi"}), None);
    assert!(is_error(&response), "{response}");
    assert_eq!(
        text(&response),
        "the Claude API refused the API key (authentication_error: invalid x-api-key); check \
         TELEMETRYFLOW_MCP_CLAUDE_API_KEY (or ANTHROPIC_API_KEY) (request id req_fake_0000)"
    );
    assert_eq!(api.seen().len(), 1, "401 is not retried");
    assert_eq!(
        s.metric(
            100,
            "mcp_critical_errors_total{error_type=\"AuthenticationError\"}"
        ),
        Some(1.0),
        "a refused key is a critical error"
    );
    let report = s.health_after_probe(200);
    assert_eq!(
        report["checks"]["claude"]["status"], "unhealthy",
        "{report}"
    );
    assert_eq!(
        report["status"], "degraded",
        "a failing Claude check degrades the server: {report}"
    );
    let out = s.finish();
    for (what, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(!text.contains(wrong), "the refused key leaked to {what}");
    }
    let span = out.claude_spans()[0];
    assert_eq!(span.status_code, 2);
    assert_eq!(span.attr("error.type"), Some("authentication_error"));
    let critical = out.logs("Critical error detected");
    assert_eq!(critical.len(), 1, "{}", out.stderr);
    assert_eq!(critical[0]["level"], "critical");
    assert_eq!(critical[0]["error_type"], "AuthenticationError");
    assert_eq!(critical[0]["operation"], "claude.message.send");
    assert!(
        critical[0]["error_message"]
            .as_str()
            .is_some_and(|m| m.contains("invalid x-api-key"))
    );
}

#[test]
fn a_body_that_is_not_a_message_is_an_error_not_a_retry() {
    let api = FakeApi::start(
        KEY,
        vec![Reply::Raw {
            status: 200,
            content_type: "application/json".into(),
            body: "{\"type\": \"message\", \"content\": [".into(),
        }],
    );
    let mut s = Session::start(&api, KEY, &[]);
    let (response, _) = s.call(1, json!({"message": "Hi"}), None);
    assert!(is_error(&response), "{response}");
    assert!(
        text(&response).starts_with(
            "the Claude API answered with something that is not a Messages response (EOF"
        ),
        "{}",
        text(&response)
    );
    assert_eq!(api.seen().len(), 1, "a broken body is not retried");
    let out = s.finish();
    assert_eq!(
        out.claude_spans()[0].attr("error.type"),
        Some("malformed_response")
    );
}

#[test]
fn a_server_slower_than_the_deadline_times_out_on_time() {
    let slow = Reply::Slow {
        delay: Duration::from_secs(4),
        then: Box::new(Reply::message("too late", 1, 1)),
    };
    let api = FakeApi::start(KEY, vec![slow]);
    let mut s = Session::start(&api, KEY, &[("TELEMETRYFLOW_MCP_CLAUDE_TIMEOUT_MS", "600")]);
    let started = Instant::now();
    let (response, _) = s.call(1, json!({"message": "Hi"}), None);
    let took = started.elapsed();
    assert!(is_error(&response), "{response}");
    assert!(
        text(&response).starts_with("no answer from the Claude API within 0.6 s (TELEMETRYFLOW_MCP_CLAUDE_TIMEOUT_MS); not retried"),
        "{}",
        text(&response)
    );
    assert!(
        took < Duration::from_millis(2500),
        "the deadline holds: {took:?}"
    );
    assert_eq!(api.seen().len(), 1);
    let out = s.finish();
    assert_eq!(out.claude_spans()[0].attr("error.type"), Some("timeout"));
}

#[test]
fn a_streamed_answer_grows_as_progress_and_ends_as_the_same_result() {
    let deltas: Vec<String> = ["The answer", " grows", " word", " by word."]
        .iter()
        .map(|s| s.to_string())
        .collect();
    // An overload before the stream starts is retried (after retry-after-ms), like any other.
    let api = FakeApi::start(
        KEY,
        vec![
            Reply::error(
                529,
                "overloaded_error",
                "Overloaded",
                &[("retry-after-ms", "150")],
            ),
            Reply::Stream {
                deltas: deltas.clone(),
                gap: Duration::from_millis(60),
                input_tokens: 17,
                output_tokens: 9,
            },
        ],
    );
    let mut s = Session::start(&api, KEY, &[]);
    let (response, notifications) = s.call(
        1,
        json!({"message": "Hi"}),
        Some(json!({"progressToken": "p1"})),
    );
    assert!(!is_error(&response), "{response}");
    assert_eq!(text(&response), "The answer grows word by word.");
    let data = &response["result"]["structuredContent"];
    assert_eq!(
        data["usage"]["input_tokens"], 17,
        "usage from message_start"
    );
    assert_eq!(
        data["usage"]["output_tokens"], 9,
        "output tokens from message_delta"
    );
    assert_eq!(data["stop_reason"], "end_turn");
    let mut values = Vec::new();
    let mut grown = String::new();
    for n in &notifications {
        assert_eq!(n["method"], "notifications/progress", "{n}");
        assert_eq!(n["params"]["progressToken"], "p1");
        values.push(n["params"]["progress"].as_f64().expect("number"));
        grown.push_str(n["params"]["message"].as_str().expect("a message"));
    }
    assert!(
        notifications.len() >= 2,
        "the answer arrived in pieces: {notifications:?}"
    );
    assert_eq!(
        grown, "The answer grows word by word.",
        "the deltas, in order"
    );
    assert!(
        values.windows(2).all(|w| w[0] < w[1]),
        "strictly increasing: {values:?}"
    );
    let seen = api.seen();
    assert_eq!(seen.len(), 2, "the overload, then the stream");
    assert!(
        seen[1].at - seen[0].at >= Duration::from_millis(150),
        "retry-after-ms honoured"
    );
    assert_eq!(
        seen[1].json()["stream"],
        true,
        "asked for server-sent events"
    );
    s.server
        .expect_silence(Duration::from_millis(200), "nothing after the response");
    let out = s.finish();
    let span = out.claude_spans()[0];
    assert_eq!(span.int("claude.retry.count"), Some(1));
    assert_eq!(span.int("claude.tokens.input"), Some(17));
    assert_eq!(span.int("claude.tokens.output"), Some(9));
}

#[test]
fn a_conversation_resends_its_history_and_unknown_ids_are_refused() {
    let api = FakeApi::start(
        KEY,
        vec![
            Reply::message("Paris.", 10, 2),
            Reply::message("About 2.1 million.", 20, 5),
        ],
    );
    let mut s = Session::start(&api, KEY, &[]);
    let (first, _) = s.call(1, json!({"message": "Capital of France?"}), None);
    let id = first["result"]["structuredContent"]["conversation_id"]
        .as_str()
        .expect("id")
        .to_string();
    let (second, _) = s.call(
        2,
        json!({"message": "Population?", "conversation_id": id}),
        None,
    );
    assert!(!is_error(&second), "{second}");
    assert_eq!(
        second["result"]["structuredContent"]["conversation_id"],
        id.as_str()
    );
    assert_eq!(second["result"]["structuredContent"]["messages_kept"], 4);
    let seen = api.seen();
    assert_eq!(
        seen[1].json()["messages"],
        json!([
            {"role": "user", "content": "Capital of France?"},
            {"role": "assistant", "content": "Paris."},
            {"role": "user", "content": "Population?"}
        ]),
        "earlier turns are resent, in order"
    );
    let (unknown, _) = s.call(
        3,
        json!({"message": "Hi", "conversation_id": "conv_nope"}),
        None,
    );
    assert!(is_error(&unknown));
    assert!(
        text(&unknown).starts_with("unknown conversation_id \"conv_nope\""),
        "{}",
        text(&unknown)
    );
    assert_eq!(api.seen().len(), 2, "an unknown id never reaches the API");
    let out = s.finish();
    let claude = out.claude_spans();
    assert_eq!(claude.len(), 2);
    assert_eq!(claude[1].int("claude.message.count"), Some(3));
    assert!(
        claude
            .iter()
            .all(|s| s.attr("mcp.conversation.id") == Some(id.as_str()))
    );
}

#[test]
fn cancelling_abandons_the_call_and_frees_its_slot() {
    let slow = Reply::Slow {
        delay: Duration::from_secs(5),
        then: Box::new(Reply::message("nobody listens", 1, 1)),
    };
    let api = FakeApi::start(KEY, vec![slow, Reply::message("fast", 1, 1)]);
    let mut s = Session::start(&api, KEY, &[("TELEMETRYFLOW_MCP_MAX_IN_FLIGHT", "1")]);
    s.server.request(
        json!(7),
        "tools/call",
        json!({"name": "claude_conversation", "arguments": {"message": "slow"}}),
    );
    api.wait_for(1);
    s.server.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7, "reason": "user"}}));
    // The only slot is free again: a second call runs at once, long before the first would end.
    let started = Instant::now();
    let (response, _) = s.call(8, json!({"message": "fast"}), None);
    assert_eq!(text(&response), "fast");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the slot was freed: {:?}",
        started.elapsed()
    );
    s.server.expect_silence(
        Duration::from_millis(300),
        "no response to the cancelled request",
    );
    assert!(
        !s.stdout.iter().any(|l| l.contains("\"id\":7")),
        "request 7 is never answered"
    );
    let out = s.finish();
    let claude = out.claude_spans();
    assert_eq!(claude.len(), 2, "both calls are traced");
    let cancelled = claude
        .iter()
        .find(|s| s.event("cancelled").is_some())
        .expect("the abandoned call's span ends marked cancelled");
    assert!(cancelled.event("claude.response.received").is_none());
    assert_eq!(
        out.logs("Claude API request abandoned: the MCP request was cancelled")
            .len(),
        1
    );
}

#[test]
fn without_a_key_the_tool_is_absent_and_info_and_validate_say_so() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let o = common::command()
            .args(args)
            .envs(env.iter().copied())
            .output()
            .expect("run");
        assert_eq!(o.status.code(), Some(0));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let info = run(&["info"], &[]);
    assert!(
        !info.contains("claude_conversation  "),
        "not listed without a key:\n{info}"
    );
    assert!(
        info.contains("claude_conversation: not served (set TELEMETRYFLOW_MCP_CLAUDE_API_KEY"),
        "{info}"
    );
    let info = run(&["info"], &[("TELEMETRYFLOW_MCP_CLAUDE_API_KEY", KEY)]);
    assert!(info.contains("claude_conversation  Ask Claude"), "{info}");
    assert!(info.contains("claude_conversation: served"), "{info}");
    let validate = run(&["validate"], &[("ANTHROPIC_API_KEY", KEY)]);
    assert!(
        validate.contains("TELEMETRYFLOW_MCP_CLAUDE_API_KEY=[REDACTED]\n"),
        "{validate}"
    );
    assert!(
        validate.contains("# claude_conversation: served"),
        "{validate}"
    );
    assert!(!validate.contains(KEY), "validate never prints the key");

    let mut s = Server::start(&[]);
    s.initialize("2025-06-18");
    let list = s.call(json!(1), "tools/list", json!({}));
    assert!(
        !list.to_string().contains("claude_conversation"),
        "not registered without a key: {list}"
    );
}

/// The fake against the official Anthropic Python SDK (`.ci/run` installs it and sets
/// `TFO_ANTHROPIC_PYTHON`): the SDK reads the fake's messages, streams, errors and
/// model list, so the fake follows the real API's shapes.
#[test]
#[ignore = "needs the anthropic Python SDK; run by .ci/run"]
fn official_sdk_reads_the_fake() {
    let python = std::env::var("TFO_ANTHROPIC_PYTHON")
        .expect("TFO_ANTHROPIC_PYTHON names a python with anthropic installed");
    let api = FakeApi::start(
        KEY,
        vec![
            Reply::message("Hello from the fake", 21, 7),
            Reply::Stream {
                deltas: ["The answer", " grows", " word", " by word."]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                gap: Duration::from_millis(5),
                input_tokens: 17,
                output_tokens: 9,
            },
            Reply::error(
                429,
                "rate_limit_error",
                "Number of requests has exceeded your rate limit",
                &[("retry-after", "1")],
            ),
        ],
    );
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/anthropic_fake.py"
    );
    let out = std::process::Command::new(python)
        .args([script, &api.url, KEY])
        .output()
        .expect("run python");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "the official SDK disagrees with the fake:\n{stdout}{stderr}"
    );
    println!("{stdout}");
}

/// The model id is the client's text: a call for a model other than the configured
/// one is labelled with the model the API says it served (redacted, and never the
/// overflow series), or `other` when no answer named one.
#[test]
fn a_model_id_label_is_redacted_and_never_the_overflow_series() {
    let api = FakeApi::start(
        KEY,
        vec![
            Reply::message("a", 1, 1),
            Reply::message("b", 1, 1),
            Reply::error(404, "not_found_error", "model: nope", &[]),
        ],
    );
    let mut s = Session::start(&api, KEY, &[]);
    let secret = "sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for (id, model) in [(1, secret), (2, "__overflow__")] {
        let (response, _) = s.call(id, json!({"message": "Hi", "model": model}), None);
        assert!(!is_error(&response), "{response}");
    }
    let unserved = "secret-of-the-client-0123456789";
    let (response, _) = s.call(3, json!({"message": "Hi", "model": unserved}), None);
    assert!(is_error(&response), "{response}");
    assert_eq!(
        s.metric(
            102,
            "claude_requests_total{model=\"other\",status=\"error\"}"
        ),
        Some(1.0)
    );
    let scrape = s.resource(103, "metrics://prometheus");
    assert!(!scrape.contains(unserved), "{scrape}");
    assert_eq!(
        s.metric(
            100,
            "claude_requests_total{model=\"[REDACTED]\",status=\"success\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        s.metric(
            101,
            "claude_requests_total{model=\"_overflow_\",status=\"success\"}"
        ),
        Some(1.0)
    );
    s.finish();
}
