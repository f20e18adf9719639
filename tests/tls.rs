//! HTTPS from the real binary: an OTLP endpoint behind a loopback TLS server whose
//! certificate comes from a test CA. Trusting that CA (`OTEL_EXPORTER_OTLP_CERTIFICATE`),
//! the binary delivers its spans over TLS; trusting another (`SSL_CERT_FILE`), it gets
//! through the handshake to the certificate check and refuses the unknown issuer, while
//! MCP goes on either way.

mod common;

use common::Server;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

const SERVER_CERT: &[u8] = include_bytes!("fixtures/tls/server.der");

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/tls/{name}", env!("CARGO_MANIFEST_DIR"))
}
const SERVER_KEY: &[u8] = include_bytes!("fixtures/tls/server.key.der");

fn server_config() -> Arc<ServerConfig> {
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
    Arc::new(config)
}

/// Accepts TLS connections on 127.0.0.1 until the test ends; counts the ClientHellos read.
fn tls_server() -> (u16, Arc<AtomicUsize>) {
    let config = server_config();
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
        ("SSL_CERT_FILE", &fixture("other-ca.pem")),
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

/// An OTLP receiver behind TLS on 127.0.0.1: answers every request `200` with an empty
/// body on kept connections, and sends each request's path and body to the test.
fn https_receiver() -> (u16, Receiver<(String, Vec<u8>)>) {
    let config = server_config();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("bound address").port();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
            let conn = ServerConnection::new(config.clone()).expect("server connection");
            let mut tls = StreamOwned::new(conn, tcp);
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&mut tls);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_string();
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 {
                            return;
                        }
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().expect("a length");
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let _ = tx.send((path, body));
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                    if reader.get_mut().write_all(answer).is_err() {
                        return;
                    }
                    let _ = reader.get_mut().flush();
                }
            });
        }
    });
    (port, rx)
}

#[test]
fn https_export_delivers_spans_to_a_collector_of_the_ca_trusted() {
    let (port, requests) = https_receiver();
    let endpoint = format!("https://localhost:{port}");
    let ca = fixture("ca.pem");
    let mut s = Server::start(&[
        ("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "otlp"),
        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", &ca),
        // The system store must not matter: it names a CA that did not sign the server.
        ("SSL_CERT_FILE", &fixture("other-ca.pem")),
    ]);
    s.initialize("2025-06-18");
    for id in 1..=3 {
        let reply = s.call(json!(id), "ping", json!({}));
        assert_eq!(reply["result"], json!({}), "MCP answers");
    }
    s.close_stdin();
    let (status, _) = s.wait_exit(Duration::from_secs(15));
    assert_eq!(status.code(), Some(0));
    let stderr = s.stderr();
    let mut spans = 0;
    while let Ok((path, body)) = requests.recv_timeout(Duration::from_millis(500)) {
        assert_eq!(path, "/v1/traces", "spans go to the traces path");
        spans += common::otlp::spans(&body)
            .iter()
            .filter(|span| span.name == "request.process")
            .count();
    }
    assert!(
        spans >= 4,
        "the initialize and ping spans arrived over TLS ({spans}); stderr: {stderr}"
    );
    assert!(
        !stderr.contains("export failed"),
        "no export failed: {stderr}"
    );
}
