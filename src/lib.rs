//! tfo-mcp: a Model Context Protocol server over stdio whose every request is
//! traced, counted and logged, built to run as one small static binary.
//!
//! The binary is a thin shell around this library: [`cli`] parses arguments,
//! [`config`] loads the configuration, [`logging`] installs the logger and
//! [`runtime::serve_stdio`] runs the sans-IO [`mcp::Server`] on stdin/stdout.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

mod blocking;
mod bytes;
pub mod claude;
pub mod cli;
pub mod completion;
pub mod config;
mod decimal;
pub mod health;
pub mod http;
mod json;
pub mod jsonrpc;
pub mod logging;
pub mod mcp;
pub mod metrics;
pub mod observability;
pub mod otlp;
mod outbound;
pub mod prompts;
pub mod redact;
pub mod resources;
mod roots;
pub mod runtime;
pub mod sandbox;
mod sort;
pub mod telemetry;
pub mod threads;
mod tls;
pub mod tools;
