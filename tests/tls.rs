//! HTTPS from the real binary: an OTLP endpoint behind a loopback TLS server whose
//! certificate comes from a test CA. The binary must get through the handshake to the
//! certificate check (its rustls provider is installed at start, `tls::install`) and
//! refuse the unknown issuer against its compiled-in webpki roots, while MCP goes on.

mod common;

use common::Server;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};
use serde_json::json;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const SERVER_CERT: &[u8] = include_bytes!("fixtures/tls/server.der");
const SERVER_KEY: &[u8] = include_bytes!("fixtures/tls/server.key.der");

/// Accepts TLS connections on 127.0.0.1 until the test ends; counts the ClientHellos read.
fn tls_server() -> (u16, Arc<AtomicUsize>) {
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(SERVER_CERT.to_vec())],
                PrivatePkcs8KeyDer::from(SERVER_KEY.to_vec()).into(),
            )
            .expect("the fixture key matches its certificate");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("bound address").port();
    let hellos = Arc::new(AtomicUsize::new(0));
    let counted = hellos.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let mut conn = ServerConnection::new(config.clone()).expect("server connection");
            // The client sends its hello, gets ours with the certificate, then alerts.
            if conn.read_tls(&mut tcp).is_ok_and(|n| n > 0) && conn.process_new_packets().is_ok() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
            while conn.is_handshaking() {
                if conn.complete_io(&mut tcp).is_err() {
                    break;
                }
            }
        }
    });
    (port, hellos)
}

#[test]
fn https_export_reaches_the_certificate_check_and_refuses_an_unknown_issuer() {
    let (port, hellos) = tls_server();
    let endpoint = format!("https://localhost:{port}");
    let mut s = Server::start(&[
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
    ]);
    s.initialize("2025-06-18");
    let reply = s.call(json!(1), "ping", json!({}));
    assert_eq!(
        reply["result"],
        json!({}),
        "MCP answers while the export fails"
    );
    s.close_stdin();
    let (status, _) = s.wait_exit(Duration::from_secs(15));
    assert_eq!(
        status.code(),
        Some(0),
        "a refused collector is no reason to fail"
    );
    let stderr = s.stderr();
    assert!(
        hellos.load(Ordering::SeqCst) >= 1,
        "the binary opened a TLS handshake to the collector; stderr: {stderr}"
    );
    assert!(
        stderr.contains("UnknownIssuer"),
        "the export failed on the certificate check, not before it: {stderr}"
    );
    assert!(
        !stderr.contains("panic"),
        "no panic on the https path: {stderr}"
    );
}
