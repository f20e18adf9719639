//! Distributed tracing: ids and W3C context, the sampler, spans, and the
//! exporters (OTLP/HTTP or console) fed through a bounded queue by a tracer that
//! never blocks the MCP loop.

mod context;
mod export;
pub mod model;
mod sampler;
mod stats;
mod tracer;

pub use context::{SpanContext, hex, new_session_id, parse_traceparent};
pub use export::{Telemetry, resource};
pub use model::SpanKind;
pub use sampler::Sampler;
pub use stats::{Counter, ExportStats};
pub use tracer::{Recycler, Span, Tracer, now_unix_nano};
