//! Streaming answers (`"stream": true`), sans-IO: [`Decoder`] cuts server-sent
//! events out of bytes as they arrive, [`Accumulator`] folds the Messages
//! events into the same [`Response`] a non-streaming call returns and hands
//! out each text delta on the way.
//!
//! ```text
//!  message_start ─► (content_block_start ─► content_block_delta* ─► content_block_stop)*
//!                ─► message_delta+ ─► message_stop          (ping anywhere, error anywhere)
//! ```
//!
//! Framing follows the SSE rules the official SDKs follow: events end at a
//! blank line (`\n`, `\r\n` or `\r` line ends), `:` starts a comment, one space
//! after `field:` is dropped, several `data:` lines join with `\n`; unknown
//! events are ignored (docs: new event types may be added).

use super::error::{ApiErrorType, Error};
use super::types::{Response, Usage};
use crate::jsonrpc::clip;
use serde_json::Value;

/// Longest event (or line) accepted: a delta is a few tokens, so this only stops a runaway stream.
const MAX_EVENT: usize = 1 << 20;
/// Most text and tool input one streamed answer may accumulate.
const MAX_CONTENT: usize = 16 << 20;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `event:` name (`message` when none was given).
    pub name: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// Cuts events out of a byte stream.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    name: Option<String>,
    data: Option<String>,
}

impl Decoder {
    /// Takes the next bytes and appends every event they complete to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) -> Result<(), String> {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(offset) = self.buf[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            let end = start + offset;
            let next = match self.buf[end] {
                b'\r' if end + 1 == self.buf.len() => break, // maybe "\r\n": wait for the next byte
                b'\r' if self.buf[end + 1] == b'\n' => end + 2,
                _ => end + 1,
            };
            let line = String::from_utf8_lossy(&self.buf[start..end]).into_owned();
            self.line(&line, out);
            start = next;
        }
        self.buf.drain(..start);
        let pending = self.buf.len() + self.data.as_ref().map_or(0, String::len);
        if pending > MAX_EVENT {
            return Err(format!("a server-sent event exceeds {MAX_EVENT} bytes"));
        }
        Ok(())
    }

    /// The end of the stream: an event without its closing blank line is incomplete
    /// and dropped, as the SSE rules say.
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        if self.buf.last() == Some(&b'\r') {
            // A line end held back in case "\n" followed: nothing follows now.
            let _ = self.feed(b"\n", out);
        }
        self.buf.clear();
        self.name = None;
        self.data = None;
    }

    fn line(&mut self, line: &str, out: &mut Vec<Event>) {
        if line.is_empty() {
            let name = self.name.take();
            if let Some(data) = self.data.take() {
                out.push(Event {
                    name: name.unwrap_or_else(|| "message".to_string()),
                    data,
                });
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.name = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            _ => {} // `id`, `retry` and unknown fields mean nothing here
        }
    }
}

/// One content block being streamed.
#[derive(Debug)]
struct Block {
    /// The block from `content_block_start`, text appended to it as it comes.
    value: Value,
    /// `input_json_delta` fragments of a `tool_use` block, parsed at its stop.
    partial_json: String,
}

/// Folds Messages stream events into a [`Response`].
#[derive(Debug, Default)]
pub struct Accumulator {
    id: String,
    model: String,
    blocks: Vec<Block>,
    stop_reason: Option<String>,
    usage: Usage,
    started: bool,
    stopped: bool,
    size: usize,
}

impl Accumulator {
    /// Applies one event; returns the text it adds to the answer, if any.
    pub fn apply(
        &mut self,
        event: &Event,
        request_id: &Option<String>,
    ) -> Result<Option<String>, Error> {
        let malformed = |detail: String| Error::Malformed {
            detail,
            request_id: request_id.clone(),
        };
        if event.name == "ping" {
            return Ok(None);
        }
        let data: Value = serde_json::from_str(&event.data).map_err(|e| {
            malformed(format!(
                "event {} carries no JSON ({e}): {}",
                event.name,
                clip(&event.data)
            ))
        })?;
        let index = || {
            data["index"]
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(|| malformed(format!("{} without an index", event.name)))
        };
        match event.name.as_str() {
            "message_start" => {
                let message = &data["message"];
                self.id = message["id"].as_str().unwrap_or_default().to_string();
                self.model = message["model"].as_str().unwrap_or_default().to_string();
                self.usage.update(&message["usage"]);
                self.started = true;
            }
            "content_block_start" => {
                let index = index()?;
                if index != self.blocks.len() || !data["content_block"]["type"].is_string() {
                    return Err(malformed(format!(
                        "content_block_start {index} out of order or without a type"
                    )));
                }
                self.blocks.push(Block {
                    value: data["content_block"].clone(),
                    partial_json: String::new(),
                });
            }
            "content_block_delta" => {
                let index = index()?;
                let block = self
                    .blocks
                    .get_mut(index)
                    .ok_or_else(|| malformed(format!("delta for unknown block {index}")))?;
                let delta = &data["delta"];
                let (field, piece) = match delta["type"].as_str() {
                    Some("text_delta") => ("text", delta["text"].as_str()),
                    Some("thinking_delta") => ("thinking", delta["thinking"].as_str()),
                    Some("signature_delta") => ("signature", delta["signature"].as_str()),
                    Some("input_json_delta") => {
                        let piece = delta["partial_json"].as_str().unwrap_or_default();
                        self.size += piece.len();
                        block.partial_json.push_str(piece);
                        ("", None)
                    }
                    _ => ("", None), // citations_delta and future kinds
                };
                if let Some(piece) = piece {
                    self.size += piece.len();
                    let text = block.value[field].as_str().unwrap_or_default().to_string() + piece;
                    block.value[field] = Value::String(text);
                }
                if self.size > MAX_CONTENT {
                    return Err(malformed(format!(
                        "streamed answer exceeds {MAX_CONTENT} bytes"
                    )));
                }
                if field == "text" {
                    return Ok(piece.map(str::to_string));
                }
            }
            "content_block_stop" => {
                let index = index()?;
                let block = self
                    .blocks
                    .get_mut(index)
                    .ok_or_else(|| malformed(format!("stop for unknown block {index}")))?;
                if block.value["type"] == "tool_use" {
                    let json = std::mem::take(&mut block.partial_json);
                    block.value["input"] = if json.trim().is_empty() {
                        serde_json::json!({})
                    } else {
                        serde_json::from_str(&json)
                            .map_err(|e| malformed(format!("tool_use input is not JSON: {e}")))?
                    };
                }
            }
            "message_delta" => {
                if let Some(reason) = data["delta"]["stop_reason"].as_str() {
                    self.stop_reason = Some(reason.to_string());
                }
                self.usage.update(&data["usage"]);
            }
            "message_stop" => self.stopped = true,
            "error" => {
                let kind = ApiErrorType::parse(data["error"]["type"].as_str().unwrap_or_default());
                return Err(Error::Api {
                    status: kind.status(),
                    message: super::client::api_text(
                        data["error"]["message"].as_str().unwrap_or_default(),
                    ),
                    kind,
                    request_id: request_id.clone(),
                    retry_after: None,
                });
            }
            _ => {}
        }
        Ok(None)
    }

    /// Whether `message_stop` arrived.
    pub fn is_complete(&self) -> bool {
        self.stopped
    }

    /// The answer; an error when the stream ended before `message_stop`.
    pub fn finish(self, request_id: Option<String>) -> Result<Response, Error> {
        if !self.started || !self.stopped {
            return Err(Error::Malformed {
                detail: "the event stream ended before message_stop".to_string(),
                request_id,
            });
        }
        Ok(Response {
            id: self.id,
            model: self.model,
            content: self.blocks.into_iter().map(|b| b.value).collect(),
            stop_reason: self.stop_reason.unwrap_or_default(),
            usage: self.usage,
            request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The docs' example stream with a tool call, written with `line_end`.
    fn documented_stream(line_end: &str) -> String {
        let events = [
            (
                "message_start",
                json!({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-sonnet-5-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":4,"output_tokens":1}}}),
            ),
            (
                "content_block_start",
                json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
            ),
            ("ping", json!({"type":"ping"})),
            (
                "content_block_delta",
                json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}),
            ),
            (
                "content_block_delta",
                json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", world"}}),
            ),
            (
                "content_block_stop",
                json!({"type":"content_block_stop","index":0}),
            ),
            (
                "content_block_start",
                json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}}),
            ),
            (
                "content_block_delta",
                json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}),
            ),
            (
                "content_block_delta",
                json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"Os"}}),
            ),
            ("brand_new_event", json!({"type":"brand_new_event"})),
            (
                "content_block_delta",
                json!({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"lo\"}"}}),
            ),
            (
                "content_block_stop",
                json!({"type":"content_block_stop","index":1}),
            ),
            (
                "message_delta",
                json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":15}}),
            ),
            ("message_stop", json!({"type":"message_stop"})),
        ];
        let mut text = format!(": a comment{line_end}");
        for (name, data) in events {
            text.push_str(&format!(
                "event: {name}{line_end}data: {data}{line_end}{line_end}"
            ));
        }
        text
    }

    fn run(bytes: &[u8], chunk: usize) -> (Vec<String>, Result<Response, Error>) {
        let mut decoder = Decoder::default();
        let mut acc = Accumulator::default();
        let mut texts = Vec::new();
        let mut events = Vec::new();
        for piece in bytes.chunks(chunk) {
            decoder.feed(piece, &mut events).expect("within limits");
        }
        decoder.finish(&mut events);
        for event in &events {
            match acc.apply(event, &None) {
                Ok(Some(text)) => texts.push(text),
                Ok(None) => {}
                Err(e) => return (texts, Err(e)),
            }
        }
        (texts, acc.finish(Some("req_9".into())))
    }

    #[test]
    fn the_documented_stream_folds_into_the_non_streaming_response() {
        let expected = Response::parse(
            json!({"id":"msg_1","type":"message","model":"claude-sonnet-5-5",
                "content":[{"type":"text","text":"Hello, world"},
                           {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Oslo"}}],
                "stop_reason":"tool_use",
                "usage":{"input_tokens":25,"output_tokens":15,"cache_creation_input_tokens":0,"cache_read_input_tokens":4}})
            .to_string()
            .as_bytes(),
            Some("req_9".into()),
        )
        .expect("reference parses");
        for line_end in ["\n", "\r\n", "\r"] {
            for chunk in [1, 2, 7, 4096] {
                let (texts, response) = run(documented_stream(line_end).as_bytes(), chunk);
                assert_eq!(
                    texts,
                    ["Hello", ", world"],
                    "deltas {line_end:?} chunk {chunk}"
                );
                assert_eq!(
                    response,
                    Ok(expected.clone()),
                    "line end {line_end:?}, chunk {chunk}"
                );
            }
        }
    }

    #[test]
    fn framing_rules() {
        let mut events = Vec::new();
        let mut d = Decoder::default();
        d.feed(
            b"event: a\ndata: 1\ndata:2\n\ndata: x\n\n:only a comment\n\nevent: b\n\n",
            &mut events,
        )
        .expect("small");
        assert_eq!(
            events,
            vec![
                Event {
                    name: "a".into(),
                    data: "1\n2".into()
                },
                Event {
                    name: "message".into(),
                    data: "x".into()
                },
            ],
            "data lines join with \\n, one leading space is dropped, no data no event"
        );
        let mut d = Decoder::default();
        let big = vec![b'x'; MAX_EVENT + 1];
        assert!(
            d.feed(&big, &mut Vec::new()).is_err(),
            "a runaway line is refused"
        );
    }

    #[test]
    fn an_error_event_is_an_api_error_and_a_cut_stream_is_malformed() {
        let stream = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"x\",\"usage\":{\"input_tokens\":1}}}\n\n\
                      event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let (_, result) = run(stream.as_bytes(), 5);
        match result {
            Err(Error::Api {
                status,
                kind,
                message,
                ..
            }) => {
                assert_eq!(
                    (status, kind, message.as_str()),
                    (529, ApiErrorType::Overloaded, "Overloaded")
                );
            }
            other => panic!("expected the overloaded error, got {other:?}"),
        }
        let cut = &documented_stream("\n")[..300];
        let (_, result) = run(cut.as_bytes(), 64);
        assert!(
            matches!(result, Err(Error::Malformed { ref detail, .. }) if detail.contains("before message_stop")),
            "{result:?}"
        );
    }
}
