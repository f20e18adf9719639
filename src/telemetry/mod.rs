//! Distributed tracing: ids and W3C context, the sampler, spans, and the
//! exporters (OTLP/HTTP or console) fed through a bounded queue by a tracer that
//! never blocks the MCP loop.

mod context;
pub(crate) mod export;
pub mod model;
mod queue;
mod sampler;
mod stats;
mod tracer;

pub use context::{SpanContext, hex, hex_digits, new_session_id, parse_traceparent};
pub(crate) use export::{Otlp, Wire, signal_url};
pub use export::{Telemetry, resource};
pub use model::SpanKind;
pub use sampler::Sampler;
pub use stats::{Counter, ExportStats, LastExport};
pub use tracer::{Recycler, Span, Tracer, now_unix_nano};
