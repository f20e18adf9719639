//! The TLS settings of every HTTPS client of the crate (the OTLP exporters and the
//! Claude client, all through `outbound`): ring's AES-GCM suites for TLS 1.3 and 1.2,
//! key exchanges and certificate checks against the CAs `roots` loads, but neither
//! ChaCha20-Poly1305 nor client-certificate signing, which cost 107 kB of the
//! size-budgeted binary (README "Size after the feature merges").

use std::sync::{Arc, Mutex, PoisonError};

use crate::roots::Trust;
use rustls::crypto::{
    CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::{ClientConfig, SignatureScheme};
use webpki::ring as alg;

/// A client configuration with this crate's provider, TLS 1.3 and 1.2, trusting the CAs
/// of `trust`. The system's is read once and shared; a failed read is tried again on
/// the next call (the file may appear).
pub(crate) fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, String> {
    static SYSTEM: Mutex<Option<Arc<ClientConfig>>> = Mutex::new(None);
    if *trust == Trust::System
        && let Some(config) = &*SYSTEM.lock().unwrap_or_else(PoisonError::into_inner)
    {
        return Ok(config.clone());
    }
    let config = ClientConfig::builder_with_provider(Arc::new(provider()))
        .with_safe_default_protocol_versions()
        .expect("the provider has suites for TLS 1.3 and 1.2")
        .with_root_certificates(trust.load()?)
        .with_no_client_auth();
    let config = Arc::new(config);
    if *trust == Trust::System {
        *SYSTEM.lock().unwrap_or_else(PoisonError::into_inner) = Some(config.clone());
    }
    Ok(config)
}

/// ring's provider without what we never use: no private-key loader (that leaves ring's
/// RSA, ECDSA and Ed25519 signing out of the binary) and no ChaCha20-Poly1305 suites
/// (ring's ChaCha20 and Poly1305 assembly). The AES-GCM suites stay for TLS 1.3 (where
/// `TLS_AES_128_GCM_SHA256` is the suite every server must accept, RFC 8446 §9.1) and for
/// TLS 1.2 with ECDHE, ECDSA or RSA certificates; X25519, P-256 and P-384 key exchange and
/// every certificate signature scheme of ring's default provider stay.
fn provider() -> CryptoProvider {
    use rustls::crypto::ring::{cipher_suite as suite, kx_group};
    CryptoProvider {
        cipher_suites: vec![
            suite::TLS13_AES_256_GCM_SHA384,
            suite::TLS13_AES_128_GCM_SHA256,
            suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &SystemRandom,
        key_provider: &NoClientKeys,
    }
}

/// The certificate and handshake signature checks of rustls' ring provider (its
/// `SUPPORTED_SIG_ALGS`, private to rustls; the tests compare the two).
static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::ED25519,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        // TLS 1.2 does not tie the curve to the scheme; TLS 1.3 does.
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
        ),
        (SignatureScheme::ED25519, &[alg::ED25519]),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[alg::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[alg::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[alg::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// ring's system random source (`getrandom(2)`), as rustls' ring provider uses it.
#[derive(Debug)]
struct SystemRandom;

impl SecureRandom for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), buf)
            .map_err(|_| GetRandomFailed)
    }
}

/// A key provider that loads no key: the server never presents a client certificate.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _key: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "client certificates are not supported".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, ProtocolVersion, ServerConfig, ServerConnection};
    use rustls::{StreamOwned, SupportedProtocolVersion};
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    // A test CA and a server certificate it signed for `localhost` and 127.0.0.1 (ECDSA
    // P-256, valid until 2126), made with openssl for these tests only.
    const CA: &[u8] = include_bytes!("../tests/fixtures/tls/ca.der");
    const SERVER_CERT: &[u8] = include_bytes!("../tests/fixtures/tls/server.der");
    const SERVER_KEY: &[u8] = include_bytes!("../tests/fixtures/tls/server.key.der");
    const TIMEOUT: Duration = Duration::from_secs(10);

    /// A server configuration (ring's full provider, which can sign) speaking `version`
    /// with the fixture certificate `cert` and its key.
    fn server_config(
        version: &'static SupportedProtocolVersion,
        cert: &[u8],
        key: &[u8],
    ) -> ServerConfig {
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[version])
            .expect("ring supports TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.to_vec())],
                PrivatePkcs8KeyDer::from(key.to_vec()).into(),
            )
            .expect("the fixture key matches its certificate")
    }

    /// Reads one HTTP request on `tcp` through TLS and answers it `200 ok`, then closes.
    fn answer_one(config: ServerConfig, tcp: TcpStream) {
        tcp.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
        let conn = ServerConnection::new(Arc::new(config)).expect("server connection");
        let mut tls = StreamOwned::new(conn, tcp);
        let mut request = Vec::new();
        let mut buf = [0; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let _ =
            tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
        tls.conn.send_close_notify();
        let _ = tls.flush();
    }

    /// A loopback TLS server speaking `version` that answers one HTTP request on one
    /// connection with `200 ok`.
    fn serve_once(
        version: &'static SupportedProtocolVersion,
    ) -> (u16, std::thread::JoinHandle<()>) {
        let config = server_config(version, SERVER_CERT, SERVER_KEY);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("bound address").port();
        let server = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().expect("one connection");
            answer_one(config, tcp);
        });
        (port, server)
    }

    fn test_roots() -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(CA.to_vec()))
            .expect("the fixture CA parses");
        roots
    }

    #[test]
    fn provider_is_rings_without_chacha20_and_loads_no_key() {
        let ours = provider();
        let ring = rustls::crypto::ring::default_provider();
        let ring_suites: Vec<_> = ring
            .cipher_suites
            .iter()
            .map(|s| s.suite())
            .filter(|s| !format!("{s:?}").contains("CHACHA20"))
            .collect();
        let suites: Vec<_> = ours.cipher_suites.iter().map(|s| s.suite()).collect();
        assert_eq!(
            suites, ring_suites,
            "ring's AES-GCM suites for TLS 1.3 and 1.2, in ring's order"
        );
        let groups =
            |p: &CryptoProvider| -> Vec<_> { p.kx_groups.iter().map(|g| g.name()).collect() };
        assert_eq!(
            groups(&ours),
            groups(&ring),
            "X25519, P-256 and P-384 stay offered"
        );
        let ids = |p: &CryptoProvider| -> Vec<_> {
            let algs = p.signature_verification_algorithms;
            let all = algs
                .all
                .iter()
                .map(|a| (a.public_key_alg_id(), a.signature_alg_id()));
            all.collect()
        };
        assert_eq!(
            ids(&ours),
            ids(&ring),
            "every certificate signature algorithm of ring's provider"
        );
        assert_eq!(
            format!("{:?}", ours.signature_verification_algorithms.mapping),
            format!("{:?}", ring.signature_verification_algorithms.mapping),
            "the same handshake signature schemes, mapped the same way"
        );
        let mut random = [0u8; 32];
        ours.secure_random
            .fill(&mut random)
            .expect("the system random source");
        assert_ne!(random, [0u8; 32], "random bytes are filled in");
        let key = PrivateKeyDer::Pkcs8(SERVER_KEY.to_vec().into());
        assert!(
            ours.key_provider.load_private_key(key).is_err(),
            "no client key is ever loaded"
        );
    }

    #[test]
    fn provider_completes_tls_13_and_tls_12_handshakes_and_verifies_the_chain() {
        for (version, expected) in [
            (&rustls::version::TLS13, ProtocolVersion::TLSv1_3),
            (&rustls::version::TLS12, ProtocolVersion::TLSv1_2),
        ] {
            let (port, server) = serve_once(version);
            let config = ClientConfig::builder_with_provider(Arc::new(provider()))
                .with_protocol_versions(&[version])
                .expect("the provider has suites for both versions")
                .with_root_certificates(test_roots())
                .with_no_client_auth();
            let name = ServerName::try_from("localhost").expect("a DNS name");
            let conn = ClientConnection::new(Arc::new(config), name).expect("client connection");
            let tcp =
                TcpStream::connect(("127.0.0.1", port)).expect("connect to the loopback server");
            tcp.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
            let mut tls = StreamOwned::new(conn, tcp);
            tls.write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\n")
                .expect("handshake and request");
            let mut response = String::new();
            tls.read_to_string(&mut response)
                .expect("the response, then close_notify");
            assert!(
                response.ends_with("\r\n\r\nok"),
                "{expected:?}: the answer comes through, got {response:?}"
            );
            assert_eq!(
                tls.conn.protocol_version(),
                Some(expected),
                "the version asked for is negotiated"
            );
            server.join().expect("server thread");
        }
    }

    /// One https GET through an `outbound` agent trusting `trust` against a loopback
    /// TLS 1.3 server.
    fn https_get(trust: Trust) -> Result<Vec<u8>, crate::outbound::Error> {
        let (port, server) = serve_once(&rustls::version::TLS13);
        let agent = crate::outbound::Agent::new("tfo-test", Some(TIMEOUT)).trusting(trust);
        let body = agent
            .get(&format!("https://localhost:{port}/"), &[], TIMEOUT)
            .and_then(|mut response| response.read_to_vec(1024));
        let _ = server.join();
        body
    }

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name)
    }

    #[test]
    fn https_requests_go_through_the_provider_to_a_trusted_ca() {
        let body = https_get(Trust::File(fixture("ca.pem"))).expect("an https request");
        assert_eq!(body, b"ok", "the body comes through TLS");
    }

    /// A TLS 1.3 server for `proxied.test` (its own test CA) answering one GET with `ok`,
    /// behind a loopback proxy that opens `CONNECT` tunnels to it whatever the target;
    /// returns the proxy's port and the CONNECT request it read.
    fn tunnelled_server() -> (u16, std::thread::JoinHandle<String>) {
        const CERT: &[u8] = include_bytes!("../tests/fixtures/tls/proxied.der");
        const KEY: &[u8] = include_bytes!("../tests/fixtures/tls/proxied.key.der");
        let config = server_config(&rustls::version::TLS13, CERT, KEY);
        let proxy = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = proxy.local_addr().expect("address").port();
        let handle = std::thread::spawn(move || {
            let (mut client, _) = proxy.accept().expect("the client");
            client.set_read_timeout(Some(TIMEOUT)).expect("timeout");
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                client.read_exact(&mut byte).expect("the CONNECT head");
                head.push(byte[0]);
            }
            client
                .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                .expect("answer");
            // The tunnel's far end is the TLS server itself, on the proxy's socket.
            answer_one(config, client);
            String::from_utf8_lossy(&head).into_owned()
        });
        (port, handle)
    }

    #[test]
    fn https_goes_through_a_connect_tunnel_and_checks_the_host_behind_it() {
        let (proxy_port, proxy) = tunnelled_server();
        let proxies = crate::outbound::Proxies::from_vars(|name| {
            (name == "https_proxy").then(|| format!("http://127.0.0.1:{proxy_port}"))
        });
        let agent = crate::outbound::Agent::new("tfo-test", Some(TIMEOUT))
            .trusting(Trust::File(fixture("proxied-ca.pem")))
            .through(proxies);
        let body = agent
            .get("https://proxied.test/", &[], TIMEOUT)
            .and_then(|mut response| response.read_to_vec(1024));
        assert_eq!(
            body,
            Ok(b"ok".to_vec()),
            "TLS to the host, through the tunnel"
        );
        let connect = proxy.join().expect("proxy thread");
        assert!(
            connect.starts_with("CONNECT proxied.test:443 HTTP/1.1\r\n"),
            "the tunnel is asked for the URL's host and port: {connect}"
        );
    }

    /// Reads one request head through `tls`; false at the end of the connection.
    fn read_head(tls: &mut StreamOwned<ServerConnection, TcpStream>) -> bool {
        let mut request = Vec::new();
        let mut byte = [0; 1];
        while !request.ends_with(b"\r\n\r\n") {
            match tls.read(&mut byte) {
                Ok(1) => request.push(byte[0]),
                _ => return false,
            }
        }
        true
    }

    #[test]
    fn an_event_streams_end_in_a_record_of_its_own_keeps_the_connection() {
        let config = server_config(&rustls::version::TLS13, SERVER_CERT, SERVER_KEY);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("bound address").port();
        let server = std::thread::spawn(move || {
            // One connection only: a second one would never be answered.
            let (tcp, _) = listener.accept().expect("one connection");
            tcp.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
            let conn = ServerConnection::new(Arc::new(config)).expect("server connection");
            let mut tls = StreamOwned::new(conn, tcp);
            let mut served = 0;
            if read_head(&mut tls) {
                // The last event in one record; the chunked end later, in another.
                let _ = tls.write_all(
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n",
                );
                let _ = tls.flush();
                std::thread::sleep(Duration::from_millis(50));
                let _ = tls.write_all(b"0\r\n\r\n");
                let _ = tls.flush();
                served += 1;
            }
            if read_head(&mut tls) {
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                let _ = tls.flush();
                served += 1;
            }
            served
        });
        let agent = crate::outbound::Agent::new("tfo-test", Some(TIMEOUT))
            .trusting(Trust::File(fixture("ca.pem")));
        let url = format!("https://localhost:{port}/");
        let mut response = agent.post(&url, &[], b"", TIMEOUT).expect("head");
        let mut buf = [0; 3];
        response.read_exact(&mut buf).expect("the event");
        // The end's record arrives meanwhile, unread by rustls.
        std::thread::sleep(Duration::from_millis(300));
        response.discard_buffered();
        drop(response);
        assert_eq!(agent.idle_count(), 1, "the end was read from the socket");
        let second = agent
            .get(&url, &[], Duration::from_secs(3))
            .and_then(|mut r| r.read_to_vec(16));
        assert_eq!(
            second,
            Ok(b"ok".to_vec()),
            "the second request on the kept connection"
        );
        assert_eq!(server.join().expect("server"), 2, "both on one connection");
    }

    #[test]
    fn a_server_dripping_its_records_cannot_stretch_a_request_past_its_deadline() {
        let config = server_config(&rustls::version::TLS13, SERVER_CERT, SERVER_KEY);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = listener.local_addr().expect("bound address").port();
        std::thread::spawn(move || {
            let (mut tcp, _) = listener.accept().expect("one connection");
            tcp.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
            let mut conn = ServerConnection::new(Arc::new(config)).expect("server connection");
            while conn.is_handshaking() {
                if conn.complete_io(&mut tcp).is_err() {
                    return;
                }
            }
            let mut request = Vec::new();
            let mut buf = [0; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.reader().read(&mut buf) {
                    Ok(n) if n > 0 => request.extend_from_slice(&buf[..n]),
                    _ => {
                        if conn.complete_io(&mut tcp).is_err() {
                            return;
                        }
                    }
                }
            }
            let body = "x".repeat(200);
            let answer = format!("HTTP/1.1 200 OK\r\ncontent-length: 200\r\n\r\n{body}");
            conn.writer()
                .write_all(answer.as_bytes())
                .expect("plaintext");
            let mut records = Vec::new();
            while conn.wants_write() {
                conn.write_tls(&mut records).expect("records");
            }
            // One byte of the records every 100 ms: each read gets a byte well within
            // any per-read timeout, the whole takes half a minute.
            for byte in records {
                std::thread::sleep(Duration::from_millis(100));
                if tcp.write_all(&[byte]).is_err() {
                    return;
                }
            }
        });
        let agent = crate::outbound::Agent::new("tfo-test", Some(TIMEOUT))
            .trusting(Trust::File(fixture("ca.pem")));
        let started = std::time::Instant::now();
        let result = agent
            .get(
                &format!("https://localhost:{port}/"),
                &[],
                Duration::from_millis(600),
            )
            .and_then(|mut response| response.read_to_vec(1024));
        let took = started.elapsed();
        assert_eq!(
            result,
            Err(crate::outbound::Error::Timeout(
                crate::outbound::Stage::Receive
            ))
        );
        assert!(
            took < Duration::from_millis(1500),
            "the deadline holds across TLS records arriving a byte at a time: {took:?}"
        );
    }

    #[test]
    fn https_requests_refuse_a_certificate_of_another_ca() {
        let error = https_get(Trust::File(fixture("other-ca.pem"))).expect_err("another CA");
        assert_eq!(
            error,
            crate::outbound::Error::Tls(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            )),
            "the handshake reaches the certificate check and refuses the unknown issuer"
        );
        assert!(!error.is_transient(), "a certificate refused stays refused");
        let missing = https_get(Trust::File(fixture("missing.pem"))).expect_err("no CA file");
        assert!(
            matches!(&missing, crate::outbound::Error::Trust(why) if why.contains("missing.pem")),
            "a CA file that cannot be read is named: {missing:?}"
        );
    }
}
