//! `ExportLogsServiceRequest` (logs.proto, logs_service.proto) from [`LogRecord`]s,
//! and the reading of `ExportLogsServiceResponse`.

use std::borrow::Cow;

use super::common::{Envelope, Request, attributes};
use super::response::{self, DecodeError, PartialSuccess, PartialSuccessFields};
use super::wire::{Buffers, Message, Sink, fields};
use crate::telemetry::model::{KeyValue, Resource, Scope, SpanId, TraceId, Value};

/// One log record, as exported.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// When the event happened, nanoseconds since the Unix epoch; 0 if unknown.
    pub time_unix_nano: u64,
    /// When we saw it; equal to `time_unix_nano` for logs we create ourselves.
    pub observed_time_unix_nano: u64,
    /// OTLP `SeverityNumber`: TRACE 1-4, DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20,
    /// FATAL 21-24, 0 unspecified.
    pub severity_number: i32,
    /// The level as the source spelled it, e.g. `WARN`.
    pub severity_text: Cow<'static, str>,
    /// The message (usually a string).
    pub body: Value,
    /// Attributes (keys unique).
    pub attributes: Vec<KeyValue>,
    /// The trace the record was written in, if any.
    pub trace_id: Option<TraceId>,
    /// The span the record was written in; only together with `trace_id`.
    pub span_id: Option<SpanId>,
    /// W3C trace flags in bits 0-7 (bits 8-31 are 0).
    pub flags: u32,
}

fields! {
    /// `ExportLogsServiceRequest` (logs_service.proto): the POST body of `/v1/logs`.
    mod export_logs_service_request = "ExportLogsServiceRequest" {
        RESOURCE_LOGS = 1,
    }
}

fields! {
    /// `ResourceLogs`.
    mod resource_logs = "ResourceLogs" {
        RESOURCE = 1,
        SCOPE_LOGS = 2,
    }
}

fields! {
    /// `ScopeLogs`.
    mod scope_logs = "ScopeLogs" {
        SCOPE = 1,
        LOG_RECORDS = 2,
    }
}

fields! {
    /// `LogRecord` (field 4 is reserved): times fixed64, flags fixed32.
    mod log_record = "LogRecord" {
        TIME_UNIX_NANO = 1,
        SEVERITY_NUMBER = 2,
        SEVERITY_TEXT = 3,
        BODY = 5,
        ATTRIBUTES = 6,
        FLAGS = 8,
        TRACE_ID = 9,
        SPAN_ID = 10,
        OBSERVED_TIME_UNIX_NANO = 11,
    }
}

fields! {
    /// `ExportLogsServiceResponse`.
    mod export_logs_service_response = "ExportLogsServiceResponse" {
        PARTIAL_SUCCESS = 1,
    }
}

fields! {
    /// `ExportLogsPartialSuccess`.
    mod export_logs_partial_success = "ExportLogsPartialSuccess" {
        REJECTED_LOG_RECORDS = 1,
        ERROR_MESSAGE = 2,
    }
}

const ENVELOPE: Envelope = Envelope {
    request_resource_items: export_logs_service_request::RESOURCE_LOGS,
    resource: resource_logs::RESOURCE,
    resource_scope_items: resource_logs::SCOPE_LOGS,
    scope: scope_logs::SCOPE,
    scope_items: scope_logs::LOG_RECORDS,
};

const PARTIAL_SUCCESS: PartialSuccessFields = PartialSuccessFields {
    partial_success: export_logs_service_response::PARTIAL_SUCCESS,
    rejected: export_logs_partial_success::REJECTED_LOG_RECORDS,
    error_message: export_logs_partial_success::ERROR_MESSAGE,
};

/// Encodes `records` as one `ExportLogsServiceRequest` body (protobuf, for
/// `POST /v1/logs`): one `ResourceLogs`, one `ScopeLogs`, the records in order.
///
/// An empty `records` slice gives an empty `Vec` rather than an envelope with no
/// records: send nothing then.
pub fn encode_logs_request(resource: &Resource, scope: &Scope, records: &[LogRecord]) -> Vec<u8> {
    request(resource, scope, records).encode()
}

/// [`encode_logs_request`] into reused buffers (read the body with
/// `buffers.bytes()`); `false` and nothing written for an empty `records`.
pub fn encode_logs_request_into(
    resource: &Resource,
    scope: &Scope,
    records: &[LogRecord],
    buffers: &mut Buffers,
) -> bool {
    request(resource, scope, records).encode_into(buffers)
}

fn request<'a>(
    resource: &'a Resource,
    scope: &'a Scope,
    records: &'a [LogRecord],
) -> Request<'a, LogRecord> {
    Request {
        envelope: &ENVELOPE,
        resource,
        scope,
        items: records,
        keep: |_| true,
    }
}

/// Reads an `ExportLogsServiceResponse` body; `rejected` counts log records.
/// Same rules as [`decode_partial_success`](super::decode_partial_success) for traces.
pub fn decode_logs_partial_success(body: &[u8]) -> Result<Option<PartialSuccess>, DecodeError> {
    response::decode_partial_success(body, &PARTIAL_SUCCESS)
}

impl super::common::Item for LogRecord {}

impl Message for LogRecord {
    fn fields<S: Sink>(&self, out: &mut S) {
        if self.time_unix_nano != 0 {
            out.fixed64(log_record::TIME_UNIX_NANO, self.time_unix_nano);
        }
        if self.severity_number != 0 {
            // An enum is an int32 varint: a negative one would take 10 bytes.
            out.varint(
                log_record::SEVERITY_NUMBER,
                i64::from(self.severity_number) as u64,
            );
        }
        if !self.severity_text.is_empty() {
            out.string(log_record::SEVERITY_TEXT, &self.severity_text);
        }
        out.message(log_record::BODY, &self.body);
        attributes(log_record::ATTRIBUTES, &self.attributes, out);
        if self.flags != 0 {
            out.fixed32(log_record::FLAGS, self.flags);
        }
        if let Some(trace_id) = &self.trace_id {
            out.bytes(log_record::TRACE_ID, &trace_id.0);
        }
        if let Some(span_id) = &self.span_id {
            out.bytes(log_record::SPAN_ID, &span_id.0);
        }
        if self.observed_time_unix_nano != 0 {
            out.fixed64(
                log_record::OBSERVED_TIME_UNIX_NANO,
                self.observed_time_unix_nano,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::testing::{Rng, random_log_record, random_resource, random_scope};
    use crate::otlp::wire::encode_to_vec;

    /// The golden request: a record inside a span and one outside, every byte written out.
    #[test]
    fn complete_request_byte_for_byte() {
        let records = [
            LogRecord {
                time_unix_nano: 5,
                observed_time_unix_nano: 6,
                severity_number: 17,
                severity_text: "ERROR".into(),
                body: Value::from("bad"),
                attributes: vec![KeyValue::new("code", -32602i64)],
                trace_id: Some(TraceId([0xAA; 16])),
                span_id: Some(SpanId([0xBB; 8])),
                flags: 1,
            },
            LogRecord {
                time_unix_nano: 0,
                observed_time_unix_nano: 7,
                severity_number: 9,
                severity_text: "".into(),
                body: Value::from(""),
                attributes: vec![],
                trace_id: None,
                span_id: None,
                flags: 0,
            },
        ];
        let scope = Scope {
            name: "l".into(),
            version: "2".into(),
        };
        #[rustfmt::skip]
        let expected: &[u8] = &[
            0x0A, 0x77, // ExportLogsServiceRequest.resource_logs, 119 bytes
              0x0A, 0x00, // ResourceLogs.resource: present and empty
              0x12, 0x73, // ResourceLogs.scope_logs, 115 bytes
                0x0A, 0x06, 0x0A, 0x01, b'l', 0x12, 0x01, b'2', // ScopeLogs.scope
                0x12, 0x58, // log_records[0], 88 bytes
                  0x09, 0x05, 0, 0, 0, 0, 0, 0, 0, // time_unix_nano 5, fixed64
                  0x10, 0x11, // severity_number = ERROR (17)
                  0x1A, 0x05, b'E', b'R', b'R', b'O', b'R', // severity_text
                  0x2A, 0x05, 0x0A, 0x03, b'b', b'a', b'd', // body {string_value: "bad"}
                  0x32, 0x13, // attributes[0], 19 bytes
                    0x0A, 0x04, b'c', b'o', b'd', b'e',
                    0x12, 0x0B, 0x18, // {int_value: -32602}, 10 varint bytes
                      0xA6, 0x81, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
                  0x45, 0x01, 0x00, 0x00, 0x00, // flags 1, fixed32
                  0x4A, 0x10, // trace_id
                    0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
                    0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
                  0x52, 0x08, 0xBB, 0xBB, 0xBB, 0xBB, 0xBB, 0xBB, 0xBB, 0xBB, // span_id
                  0x59, 0x06, 0, 0, 0, 0, 0, 0, 0, // observed_time_unix_nano 6
                0x12, 0x0F, // log_records[1], 15 bytes
                  0x10, 0x09, // severity_number = INFO (9)
                  0x2A, 0x02, 0x0A, 0x00, // body {string_value: ""}: written
                  0x59, 0x07, 0, 0, 0, 0, 0, 0, 0, // observed_time_unix_nano 7
        ];
        assert_eq!(
            encode_logs_request(&Resource::default(), &scope, &records),
            expected,
            "whole ExportLogsServiceRequest"
        );
    }

    #[test]
    fn empty_record_slice_sends_nothing() {
        assert_eq!(
            encode_logs_request(&Resource::default(), &Scope::default(), &[]),
            Vec::<u8>::new(),
            "no records must give no envelope"
        );
    }

    #[test]
    fn encoded_len_matches_bytes_for_random_requests() {
        let mut rng = Rng::new(9);
        for _ in 0..500 {
            let records: Vec<LogRecord> = (0..rng.below(4) + 1)
                .map(|_| random_log_record(&mut rng))
                .collect();
            let (resource, scope) = (random_resource(&mut rng), random_scope(&mut rng));
            let request = Request {
                envelope: &ENVELOPE,
                resource: &resource,
                scope: &scope,
                items: &records,
                keep: |_| true,
            };
            let bytes = encode_logs_request(&resource, &scope, &records);
            assert_eq!(request.encoded_len(), bytes.len(), "request length pass");
            for record in &records {
                assert_eq!(
                    record.encoded_len(),
                    encode_to_vec(record).len(),
                    "{record:?}"
                );
            }
        }
    }

    #[test]
    fn partial_success_reads_rejected_log_records() {
        let body = [0x0A, 0x02, 0x08, 0x04];
        assert_eq!(
            decode_logs_partial_success(&body),
            Ok(Some(PartialSuccess {
                rejected: 4,
                error_message: String::new()
            })),
            "rejected_log_records is field 1"
        );
    }
}
