//! The protobuf wire format of OTLP v1 for the messages we send: the
//! `Export{Trace,Metrics,Logs}ServiceRequest` bodies of OTLP/HTTP, and lenient readers
//! of the receiver's answers.
//!
//! The encoders are hand-written and infallible: each message's length is computed
//! first, then its bytes are written into a `Vec<u8>` of exactly that size, with no
//! back-patching. Field numbers are constants next to each message, and a test checks
//! them against the subset of the official `.proto` files kept in `proto/`.

mod common;
mod logs;
mod metrics;
mod response;
mod trace;
mod wire;

#[cfg(test)]
mod contract;
#[cfg(test)]
pub(crate) mod testing;

pub use logs::{
    LogRecord, decode_logs_partial_success, encode_logs_request, encode_logs_request_into,
};
pub use metrics::{
    FLAG_NO_RECORDED_VALUE, HistogramPoint, Metric, MetricData, NumberPoint, NumberValue,
    Temporality, decode_metrics_partial_success, encode_metrics_request,
};
pub use response::{DecodeError, PartialSuccess, decode_status_message};
pub use trace::{
    decode_partial_success, encode_encoded_trace_request_into, encode_span_item,
    encode_trace_request, encode_trace_request_into, split_encoded_spans,
};
pub use wire::Buffers;
