//! `decode_line` on arbitrary bytes: it never panics, every decode error encodes
//! to one JSON line, every id it reads is echoed back with its type and text, and a
//! request's params written back as a result are the bytes serde_json writes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tfo_mcp::jsonrpc::{self, Incoming, Line};

fuzz_target!(|data: &[u8]| {
    let items = match jsonrpc::decode_line(data) {
        Line::Single(item) => vec![item],
        Line::Batch(items) => items,
    };
    for item in items {
        match item {
            Ok(Incoming::Request(request)) => {
                // The answer to a request must carry the very id it came with (`7` != `"7"`).
                let line = jsonrpc::encode_result(&request.id, &serde_json::json!({}));
                assert!(!line.contains('\n'), "a response is one line: {line}");
                match jsonrpc::decode_line(line.as_bytes()) {
                    Line::Single(Ok(Incoming::Response(response))) => {
                        assert_eq!(response.id, request.id, "id round trip")
                    }
                    other => panic!("our own response {line} decodes as {other:?}"),
                }
                // Answers are written by our own JSON writer: byte for byte serde_json's.
                let params = serde_json::Value::Object(request.params.unwrap_or_default());
                let line = jsonrpc::encode_result(&request.id, &params);
                let expected = serde_json::to_string(&params).expect("a Value serializes");
                assert!(
                    line.ends_with(&format!(",\"result\":{expected}}}")),
                    "{line} ends with the result as serde_json writes it: {expected}"
                );
            }
            Ok(Incoming::Notification(_) | Incoming::Response(_)) => {}
            Err(e) => {
                let line = jsonrpc::encode_error(e.id.as_ref(), &e.error);
                assert!(
                    !line.contains('\n'),
                    "an error response is one line: {line}"
                );
                assert!(
                    serde_json::from_str::<&serde_json::value::RawValue>(&line).is_ok(),
                    "error response is JSON: {line}"
                );
            }
        }
    }
});
