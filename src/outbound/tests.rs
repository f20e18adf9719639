//! The client against loopback servers that answer with scripted bytes.

use super::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

const TIMEOUT: Duration = Duration::from_secs(10);

/// Reads one request (head and `content-length` body) from `tcp`; `None` at EOF.
fn read_request(tcp: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut byte = [0; 1];
    while !got.ends_with(b"\r\n\r\n") {
        match tcp.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            _ => return None,
        }
    }
    let text = String::from_utf8(got).expect("a text head");
    let len = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |n| n.parse::<usize>().expect("a length"));
    let mut body = vec![0; len];
    tcp.read_exact(&mut body).ok()?;
    Some(text + &String::from_utf8_lossy(&body))
}

/// What a scripted server does with a request.
enum Reply {
    /// Writes these bytes and waits for the next request.
    Answer(Vec<u8>),
    /// Writes these bytes and closes the connection.
    AnswerAndClose(Vec<u8>),
    /// Closes the connection without answering.
    Close,
    /// Writes the first bytes, then after a pause the second, and waits for the next
    /// request.
    InTwo(Vec<u8>, Vec<u8>),
    /// Writes the head, then the same bytes over and over until the client goes away.
    Endless(Vec<u8>, Vec<u8>),
}

fn answer(bytes: &[u8]) -> Reply {
    Reply::Answer(bytes.to_vec())
}

/// A loopback server: `script(connection number, request number on it, request text)`
/// says what to do.
fn serve(
    script: impl Fn(usize, usize, &str) -> Reply + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    let script = Arc::new(script);
    let server = std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { return };
            let number = counted.fetch_add(1, Ordering::SeqCst);
            let script = script.clone();
            std::thread::spawn(move || {
                let _ = tcp.set_read_timeout(Some(TIMEOUT));
                let mut n = 0;
                while let Some(request) = read_request(&mut tcp) {
                    match script(number, n, &request) {
                        Reply::Answer(bytes) => {
                            if tcp.write_all(&bytes).is_err() {
                                return;
                            }
                        }
                        Reply::AnswerAndClose(bytes) => {
                            let _ = tcp.write_all(&bytes);
                            return;
                        }
                        Reply::Close => return,
                        Reply::Endless(head, piece) => {
                            let _ = tcp.write_all(&head);
                            while tcp.write_all(&piece).is_ok() {}
                            return;
                        }
                        Reply::InTwo(first, second) => {
                            let _ = tcp.write_all(&first);
                            std::thread::sleep(Duration::from_millis(50));
                            if tcp.write_all(&second).is_err() {
                                return;
                            }
                        }
                    }
                    n += 1;
                }
            });
        }
    });
    (url, connections, server)
}

fn agent() -> Agent {
    Agent::new("tfo-test/1", Some(Duration::from_secs(5)))
}

#[test]
fn a_kept_connection_carries_the_next_request() {
    let (url, connections, _server) = serve(|_, n, request| {
        assert!(
            request.starts_with("POST /v1/traces HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("\r\nuser-agent: tfo-test/1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("\r\ncontent-type: application/x-protobuf\r\n"),
            "{request}"
        );
        assert!(
            request.ends_with("\r\n\r\nbody"),
            "the body follows the head: {request}"
        );
        answer(format!("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nr{n}").as_bytes())
    });
    let agent = agent();
    for n in 0..3 {
        let mut response = agent
            .post(
                &format!("{url}/v1/traces"),
                &[("content-type", "application/x-protobuf")],
                b"body",
                TIMEOUT,
            )
            .expect("answered");
        assert_eq!(response.status(), 200);
        assert_eq!(response.header("Content-Length"), Some("2"));
        assert_eq!(response.read_to_vec(100), Ok(format!("r{n}").into_bytes()));
        assert_eq!(
            agent.idle_count(),
            1,
            "the connection went back to the agent"
        );
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "one connection for three requests"
    );
}

#[test]
fn a_connection_the_server_closed_is_replaced() {
    let ok = b"HTTP/1.1 204 No Content\r\n\r\n";
    let status = |agent: &Agent, url: &str| agent.get(url, &[], TIMEOUT).map(|r| r.status());
    let agent = agent();

    // Closed while idle: seen before the request is sent, which goes on a new connection.
    let (url, connections, _server) = serve(move |_, _, _| Reply::AnswerAndClose(ok.to_vec()));
    assert_eq!(status(&agent, &url), Ok(204));
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(status(&agent, &url), Ok(204));
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "the closed one is not used"
    );

    // Closed when the next request arrives: sent once more, on a new connection; a new
    // connection closed unanswered is an error.
    let (url, connections, _server) = serve(move |c, n, _| match (c, n) {
        (0, 0) | (2, _) => answer(ok),
        _ => Reply::Close,
    });
    assert_eq!(status(&agent, &url), Ok(204));
    assert_eq!(
        status(&agent, &url),
        Err(Error::Closed),
        "connection 1 closed unanswered"
    );
    assert_eq!(
        connections.load(Ordering::SeqCst),
        2,
        "connection 0 was tried, then 1"
    );
    assert_eq!(status(&agent, &url), Ok(204));
    assert_eq!(status(&agent, &url), Ok(204), "connection 2 is kept");
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}

#[test]
fn bodies_are_framed_by_length_chunks_or_close() {
    let (url, _, _server) = serve(|_, _, request| {
        let path = request.split_whitespace().nth(1).unwrap_or_default();
        let bytes = match path {
            "/chunked" => {
                &b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\
                transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"[..]
            }
            "/close" => b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end",
            "/short" => b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\nconnection: close\r\n\r\nabc",
            _ => b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world",
        };
        match path {
            "/close" | "/short" => Reply::AnswerAndClose(bytes.to_vec()),
            _ => answer(bytes),
        }
    });
    let agent = agent();
    let body = |path: &str, limit: u64| {
        agent
            .get(&format!("{url}{path}"), &[], TIMEOUT)
            .and_then(|mut r| r.read_to_vec(limit))
    };
    assert_eq!(
        body("/chunked", 100),
        Ok(b"hello world".to_vec()),
        "after a 100 Continue"
    );
    assert_eq!(
        agent.idle_count(),
        1,
        "a chunked body read to its end frees the connection"
    );
    assert_eq!(body("/length", 100), Ok(b"hello world".to_vec()));
    assert_eq!(body("/length", 10), Err(Error::TooLarge(10)));
    assert_eq!(body("/close", 100), Ok(b"until the end".to_vec()));
    assert_eq!(
        body("/short", 100),
        Err(Error::Protocol("the connection closed inside the body"))
    );
}

#[test]
fn a_slow_server_times_out_at_the_deadline() {
    let (url, _, _server) = serve(|_, _, _| {
        std::thread::sleep(Duration::from_secs(2));
        answer(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
    });
    let started = Instant::now();
    let result = agent()
        .get(&url, &[], Duration::from_millis(200))
        .map(|r| r.status());
    assert_eq!(result, Err(Error::Timeout(Stage::Receive)));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(190) && took < Duration::from_millis(1500),
        "stopped at the deadline, took {took:?}"
    );
    assert!(Error::Timeout(Stage::Receive).is_transient());
}

#[test]
fn a_refused_connection_and_a_bad_url_fail_at_once() {
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port();
    let refused = agent()
        .get(&format!("http://127.0.0.1:{port}/"), &[], TIMEOUT)
        .map(|r| r.status());
    assert_eq!(
        refused,
        Err(Error::Connect(io::ErrorKind::ConnectionRefused))
    );
    let bad = agent()
        .get("localhost:4318", &[], TIMEOUT)
        .map(|r| r.status());
    assert_eq!(bad, Err(Error::Url("no scheme (http:// or https://)")));
    assert!(!Error::Url("x").is_transient(), "a bad URL stays bad");
}

#[test]
fn streamed_bodies_read_piece_by_piece_and_time_out_as_io_errors() {
    let (url, _, _server) = serve(|_, _, _| {
        answer(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n")
    });
    let agent = agent();
    let mut response = agent
        .post(&url, &[], b"", Duration::from_millis(300))
        .expect("head");
    let mut buf = [0; 64];
    assert_eq!(response.read(&mut buf).expect("first chunk"), 3);
    assert_eq!(&buf[..3], b"abc");
    let error = response
        .read(&mut buf)
        .expect_err("nothing more before the deadline");
    assert_eq!(error.kind(), io::ErrorKind::TimedOut, "{error}");
    drop(response);
    assert_eq!(
        agent.idle_count(),
        0,
        "an unfinished body closes its connection"
    );
}

#[test]
fn a_stream_read_to_its_last_event_keeps_its_connection_if_the_end_came_with_it() {
    let (url, connections, _server) = serve(|_, n, _| match n {
        // The whole chunked body in one write: its end arrives with the last data.
        0 => answer(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
        // The end never comes.
        _ => answer(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n"),
    });
    let agent = agent();
    for expect_kept in [true, false] {
        let mut response = agent.post(&url, &[], b"", TIMEOUT).expect("head");
        let mut buf = [0; 3];
        response.read_exact(&mut buf).expect("the data");
        assert_eq!(&buf, b"abc");
        let started = Instant::now();
        response.discard_buffered();
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "never waits for bytes that have not arrived"
        );
        drop(response);
        assert_eq!(agent.idle_count(), usize::from(expect_kept));
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "the kept connection carried the second request"
    );
}

#[test]
fn a_stream_end_already_in_the_socket_keeps_the_connection() {
    let (url, connections, _server) = serve(|_, n, _| match n {
        // The last event, then the chunked end in a write of its own.
        0 => Reply::InTwo(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n".to_vec(),
            b"0\r\n\r\n".to_vec(),
        ),
        _ => answer(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    });
    let agent = agent();
    let mut response = agent.post(&url, &[], b"", TIMEOUT).expect("head");
    let mut buf = [0; 3];
    response.read_exact(&mut buf).expect("the data");
    // The end arrives meanwhile: it is in the socket, not yet read.
    std::thread::sleep(Duration::from_millis(300));
    response.discard_buffered();
    drop(response);
    assert_eq!(agent.idle_count(), 1, "the end was read from the socket");
    let second = agent
        .get(&url, &[], TIMEOUT)
        .and_then(|mut r| r.read_to_vec(16));
    assert_eq!(second, Ok(b"ok".to_vec()));
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "the kept connection carried the second request"
    );
}

#[test]
fn discarding_a_body_that_keeps_coming_stops() {
    let (url, _, _server) = serve(|_, _, _| {
        Reply::Endless(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec(),
            b"3\r\nabc\r\n".repeat(1000),
        )
    });
    let agent = agent();
    let mut response = agent.post(&url, &[], b"", TIMEOUT).expect("head");
    let mut buf = [0; 3];
    response.read_exact(&mut buf).expect("the data");
    // Give the server time to fill the socket buffers.
    std::thread::sleep(Duration::from_millis(200));
    // An unbounded discard reads for as long as the server writes (about 9 s here,
    // until the server's own timeout); the bound stops it after about 64 kB.
    let started = Instant::now();
    response.discard_buffered();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "the discard stopped ({took:?})"
    );
    drop(response);
    assert_eq!(
        agent.idle_count(),
        0,
        "a body without its end keeps nothing"
    );
}

#[test]
fn plain_http_through_a_proxy_sends_the_absolute_url_and_its_credentials() {
    let (proxy_url, connections, _server) = serve(|_, _, request| {
        assert!(
            request.starts_with("POST http://collector.example:4318/v1/traces HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains("\r\nproxy-authorization: Basic dXNlcjpwYXNz\r\n"),
            "{request}"
        );
        answer(b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nproxied")
    });
    let proxy = proxy_url.replace("http://", "http://user:pass@");
    let proxies = Proxies::from_vars(|name| (name == "http_proxy").then(|| proxy.clone()));
    let agent = agent().through(proxies);
    for _ in 0..2 {
        let body = agent
            .post(
                "http://collector.example:4318/v1/traces",
                &[],
                b"x",
                TIMEOUT,
            )
            .and_then(|mut r| r.read_to_vec(100));
        assert_eq!(body, Ok(b"proxied".to_vec()));
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        1,
        "the proxy connection is kept"
    );
}

#[test]
fn a_proxy_that_refuses_the_tunnel_is_reported_with_its_status_and_no_credentials() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let seen = std::thread::spawn(move || {
        let (mut tcp, _) = listener.accept().expect("a connection");
        let request = read_request(&mut tcp).expect("the CONNECT");
        let _ = tcp
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n");
        request
    });
    let proxies = Proxies::from_vars(|name| {
        (name == "HTTPS_PROXY").then(|| format!("http://me:s3cret@{addr}"))
    });
    let error = agent()
        .through(proxies)
        .get("https://api.example:8443/v1/models", &[], TIMEOUT)
        .map(|r| r.status())
        .expect_err("refused");
    assert_eq!(error, Error::ProxyRefused(407));
    assert!(
        !error.is_transient(),
        "a refused authentication stays refused"
    );
    assert!(!error.to_string().contains("s3cret"));
    let request = seen.join().expect("proxy thread");
    assert!(
        request.starts_with("CONNECT api.example:8443 HTTP/1.1\r\nhost: api.example:8443\r\n"),
        "{request}"
    );
    assert!(request.contains("proxy-authorization: Basic "), "{request}");
}

#[test]
fn a_request_dropped_after_a_while_is_not_sent_again() {
    // The second request on the kept connection is read, then, after 1.2 s, dropped
    // unanswered: the server may have acted on it, so it is not sent again.
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    let (url, connections, _server) = serve(move |_, n, _| {
        counted.fetch_add(1, Ordering::SeqCst);
        match n {
            0 => answer(b"HTTP/1.1 204 No Content\r\n\r\n"),
            _ => {
                std::thread::sleep(Duration::from_millis(1200));
                Reply::Close
            }
        }
    });
    let agent = agent();
    assert_eq!(
        agent.post(&url, &[], b"1", TIMEOUT).map(|r| r.status()),
        Ok(204)
    );
    assert_eq!(
        agent.post(&url, &[], b"2", TIMEOUT).map(|r| r.status()),
        Err(Error::Closed),
        "the caller decides about a retry"
    );
    assert_eq!(requests.load(Ordering::SeqCst), 2, "sent once");
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[test]
fn an_answer_sent_before_the_body_was_read_is_not_lost_to_the_broken_pipe() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://{}/v1/messages",
        listener.local_addr().expect("address")
    );
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { return };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && tcp.read_exact(&mut byte).is_ok() {
                head.push(byte[0]);
            }
            // Refused on its head alone; the body is never read, the socket closed.
            let _ =
                tcp.write_all(b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 5\r\n\r\nlarge");
            let _ = tcp.shutdown(std::net::Shutdown::Write);
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let agent = agent();
    let body = vec![b'x'; 16 << 20];
    let mut response = agent
        .post(&url, &[], &body, TIMEOUT)
        .expect("the server's answer");
    assert_eq!(response.status(), 413);
    assert_eq!(response.read_to_vec(100), Ok(b"large".to_vec()));
    assert_eq!(agent.idle_count(), 0, "that connection is not used again");
}

#[test]
fn each_address_gets_a_share_of_the_connect_time() {
    use super::conn::connect_share;
    let ms = Duration::from_millis;
    let table = [
        (
            ms(3000),
            1,
            ms(3000),
            "the last address gets all that is left",
        ),
        (ms(3000), 3, ms(1000), "a third each for three"),
        (ms(600), 4, ms(250), "at least 250 ms each"),
        (ms(100), 4, ms(100), "never more than is left"),
        (
            ms(100),
            0,
            ms(100),
            "no address still to try: nothing to share",
        ),
    ];
    for (left, addresses, share, what) in table {
        assert_eq!(connect_share(left, addresses), share, "{what}");
    }
}
