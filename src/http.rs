//! The metrics endpoint: `GET /metrics` (Prometheus text or OpenMetrics) and
//! `GET /health` (the health report), `HEAD` for both, 404 and 405 otherwise.
//!
//! `route` is pure and tested in memory. The server around it is a minimal
//! HTTP/1.1 reader on `std::net` rather than tiny_http: tiny_http 0.12 gives every
//! connection its own thread with no read timeout and, when a request is dropped,
//! reads (and allocates) whatever `Content-Length` the client announced. Here one
//! accept thread hands connections to a pool of at most [`WORKERS`] workers
//! (started as connections need them: one scraper needs one) through a bounded
//! queue; a worker spends at most [`CONNECTION_BUDGET`] on one connection, reads
//! at most [`MAX_HEAD`] bytes of it, never reads a body and answers one request
//! per connection (`Connection: close`). When the queue is full the connection
//! gets a 503 at once. So a slow or malicious client costs one worker a bounded
//! time, never the MCP loop, and never unbounded memory or threads.

use crate::health::{CheckResult, Health};
use crate::metrics::{Format, Metrics};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Longest request head (request line and headers) read.
pub const MAX_HEAD: usize = 8 * 1024;
/// Longest time one connection may take from its accept to its answer: waiting for
/// a worker, reading and writing (so idle connections ahead in the queue cannot make
/// a scrape wait for their budgets one after another).
pub const CONNECTION_BUDGET: Duration = Duration::from_secs(3);
/// Least time an answer gets to be written, even past that budget.
const MIN_WRITE: Duration = Duration::from_millis(100);
/// Most worker threads answering requests.
pub const WORKERS: usize = 4;
/// Accepted connections waiting for a worker; beyond this they get 503.
const QUEUE: usize = 32;

/// An accepted connection and when it was accepted.
type Queued = (TcpStream, Instant);

/// A request, as much as routing needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request<'a> {
    /// `GET`, `HEAD`, ...
    pub method: &'a str,
    /// The request target, query string included.
    pub target: &'a str,
    /// The `Accept` header, if any.
    pub accept: Option<&'a str>,
}

/// A response, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body (left out on the wire for `HEAD`, its length still announced).
    pub body: String,
    /// `Allow`, for 405.
    pub allow: Option<&'static str>,
}

impl Response {
    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{body}\n"),
            allow: None,
        }
    }
}

/// What the endpoint answers to `request`.
pub fn route(request: &Request<'_>, metrics: &Metrics, health: &Health) -> Response {
    let path = request.target.split(['?', '#']).next().unwrap_or("");
    let known = matches!(path, "/metrics" | "/health");
    if !known {
        return Response::text(404, "not found: try /metrics or /health");
    }
    if !matches!(request.method, "GET" | "HEAD") {
        return Response {
            allow: Some("GET, HEAD"),
            ..Response::text(405, "method not allowed: use GET or HEAD")
        };
    }
    if path == "/metrics" {
        let format = Format::negotiate(request.accept);
        Response {
            status: 200,
            content_type: format.content_type(),
            body: metrics.render(format),
            allow: None,
        }
    } else {
        let report = health.report();
        Response {
            status: report.http_status(),
            content_type: "application/json",
            body: report.to_json().to_string(),
            allow: None,
        }
    }
}

/// How the endpoint is doing, for its own health check.
#[derive(Debug)]
pub struct EndpointState {
    bound: Mutex<Result<Option<SocketAddr>, String>>,
    served: AtomicU64,
}

impl Default for EndpointState {
    fn default() -> EndpointState {
        EndpointState {
            bound: Mutex::new(Ok(None)),
            served: AtomicU64::new(0),
        }
    }
}

impl EndpointState {
    /// The `metrics_endpoint` check: degraded when the port could not be bound.
    pub fn check(&self) -> CheckResult {
        match &*self.bound.lock().unwrap_or_else(PoisonError::into_inner) {
            Ok(Some(addr)) => CheckResult::healthy(format!(
                "serving http://{addr}/metrics and /health; {} requests answered",
                self.served.load(Ordering::Relaxed)
            )),
            Ok(None) => CheckResult::healthy("starting"),
            Err(e) => CheckResult::degraded(e.clone()),
        }
    }
}

/// The running endpoint.
#[derive(Debug)]
pub struct Endpoint {
    /// Where it listens.
    pub addr: SocketAddr,
}

/// Binds `host:port` and serves on background threads until the process exits.
/// A port that cannot be bound is logged as a warning and recorded in `state`:
/// the MCP server keeps running without the endpoint.
pub fn start(
    host: &str,
    port: u16,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    state: Arc<EndpointState>,
) -> Option<Endpoint> {
    let listener = match TcpListener::bind((host, port)) {
        Ok(listener) => listener,
        Err(e) => {
            let message =
                format!("cannot listen on {host}:{port}: {e}; /metrics and /health are not served");
            log::warn!(host = host, port = port, error:% = e; "metrics endpoint not started: cannot bind its port; the MCP server goes on without it");
            *state.bound.lock().unwrap_or_else(PoisonError::into_inner) = Err(message);
            return None;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            log::warn!(error:% = e; "metrics endpoint not started: no local address");
            return None;
        }
    };
    let (queue, connections) = sync_channel::<Queued>(QUEUE);
    let pool = Pool {
        connections: Arc::new(Mutex::new(connections)),
        counts: Arc::new(Counts::default()),
        started: 0,
        metrics,
        health,
        state: Arc::clone(&state),
    };
    let spawned = crate::threads::spawn("metrics-http".into(), move || {
        accept(&listener, &queue, pool)
    });
    if let Err(e) = spawned {
        log::warn!(error:% = e; "metrics endpoint not started: cannot start its thread");
        return None;
    }
    *state.bound.lock().unwrap_or_else(PoisonError::into_inner) = Ok(Some(addr));
    log::info!(address:% = addr, url = format!("http://{addr}/metrics").as_str(); "metrics endpoint listening");
    Some(Endpoint { addr })
}

/// Connections queued and workers waiting, as the accept thread sees them.
#[derive(Debug, Default)]
struct Counts {
    queued: AtomicUsize,
    idle: AtomicUsize,
}

/// The workers, started by the accept thread when queued connections outnumber
/// the idle workers.
struct Pool {
    connections: Arc<Mutex<Receiver<Queued>>>,
    counts: Arc<Counts>,
    started: usize,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    state: Arc<EndpointState>,
}

impl Pool {
    /// After a connection was queued: starts one more worker if the queued
    /// connections outnumber the idle workers and fewer than `WORKERS` run. A
    /// worker that cannot start leaves the connection to the others (or to the 503
    /// of a full queue).
    fn grow(&mut self) {
        let counts = &self.counts;
        let wanted = counts.queued.load(Ordering::SeqCst) > counts.idle.load(Ordering::SeqCst);
        if !wanted || self.started >= WORKERS {
            return;
        }
        let (connections, counts, metrics, health, state) = (
            Arc::clone(&self.connections),
            Arc::clone(&self.counts),
            Arc::clone(&self.metrics),
            Arc::clone(&self.health),
            Arc::clone(&self.state),
        );
        // Counted idle from the start, so the next connection does not start another.
        counts.idle.fetch_add(1, Ordering::SeqCst);
        let name = format!("metrics-http-{}", self.started);
        match crate::threads::spawn(name, move || {
            work(&connections, &counts, &metrics, &health, &state)
        }) {
            Ok(_) => self.started += 1,
            Err(e) => {
                self.counts.idle.fetch_sub(1, Ordering::SeqCst);
                log::warn!(error:% = e; "metrics endpoint: cannot start a worker thread");
            }
        }
    }
}

fn accept(listener: &TcpListener, queue: &SyncSender<Queued>, mut pool: Pool) {
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            // Out of descriptors or an aborted handshake: keep accepting, without
            // spinning while the descriptors stay exhausted.
            Err(_) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        // Counted before it is queued: a worker taking it at once never sees less than 0.
        pool.counts.queued.fetch_add(1, Ordering::SeqCst);
        let sent = queue.try_send((stream, Instant::now()));
        if sent.is_err() {
            pool.counts.queued.fetch_sub(1, Ordering::SeqCst);
        }
        match sent {
            Ok(()) => pool.grow(),
            Err(TrySendError::Full((mut stream, _))) => {
                let until = Instant::now() + MIN_WRITE;
                let _ = write_response(&mut stream, &Response::text(503, "busy"), false, until);
            }
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}

fn work(
    connections: &Mutex<Receiver<Queued>>,
    counts: &Counts,
    metrics: &Metrics,
    health: &Health,
    state: &EndpointState,
) {
    loop {
        let next = connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok((mut stream, accepted)) = next else {
            return;
        };
        counts.queued.fetch_sub(1, Ordering::SeqCst);
        counts.idle.fetch_sub(1, Ordering::SeqCst);
        // A panic (none is known) drops its connection, never the worker: the
        // panic hook has logged it.
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            serve(&mut stream, accepted, metrics, health)
        }));
        if matches!(served, Ok(Ok(()))) {
            state.served.fetch_add(1, Ordering::Relaxed);
        }
        counts.idle.fetch_add(1, Ordering::SeqCst);
    }
}

/// Reads one request head within the budget counted from `accepted`, answers it,
/// closes.
fn serve(
    stream: &mut TcpStream,
    accepted: Instant,
    metrics: &Metrics,
    health: &Health,
) -> io::Result<()> {
    let deadline = accepted + CONNECTION_BUDGET;
    // An answer gets at least `MIN_WRITE`, even to a request read at the deadline.
    let write_until = || deadline.max(Instant::now() + MIN_WRITE);
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let mut scan = HeadScan::default();
    loop {
        if scan.whole(&head) {
            break;
        }
        if head.len() >= MAX_HEAD {
            return write_response(
                stream,
                &Response::text(431, "request head too large"),
                false,
                write_until(),
            );
        }
        let mut left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            // Past its deadline (it waited in the queue), a connection still gets
            // one short first read: a request already sent is answered, a silent
            // client is dropped at once. Every later pass follows a read of bytes.
            if !head.is_empty() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            left = Duration::from_millis(1);
        }
        stream.set_read_timeout(Some(left))?;
        let n = stream.read(&mut buf[..(MAX_HEAD - head.len()).min(1024)])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let Head::Done(request) = read_head(&head) else {
        return write_response(
            stream,
            &Response::text(400, "bad request"),
            false,
            write_until(),
        );
    };
    let response = route(&request, metrics, health);
    write_response(stream, &response, request.method == "HEAD", write_until())
}

/// What the bytes read so far hold.
#[derive(Debug, PartialEq)]
enum Head<'a> {
    /// Not a whole head yet.
    Partial,
    /// Not an HTTP/1.x request: known as soon as the request line is whole (an
    /// HTTP/0.9 line has no blank line to wait for), or a header line is not UTF-8.
    Bad,
    /// A whole head.
    Done(Request<'a>),
}

/// Tells, read after read, when the bytes so far are worth [`read_head`]: the request
/// line is whole and refused, or the blank line that ends the head has come. Each
/// byte is looked at about once, however the head is cut into reads: 8 kB of short
/// header lines fed a byte at a time take 56-63 µs here, against 154 ms for
/// [`read_head`] after every byte (measured with a throwaway test, release build).
#[derive(Debug, Default)]
struct HeadScan {
    /// Where the LF that ends the (valid) request line is, once found.
    line_end: Option<usize>,
    /// Bytes before this hold no LF still to look at.
    searched: usize,
}

impl HeadScan {
    fn whole(&mut self, head: &[u8]) -> bool {
        let line_end = match self.line_end {
            Some(end) => end,
            None => {
                let Some(start) = request_start(head) else {
                    return false;
                };
                let from = self.searched.max(start);
                let Some(end) = head[from..].iter().position(|&b| b == b'\n') else {
                    self.searched = head.len();
                    return false;
                };
                let end = from + end;
                let line = &head[start..end];
                if request_line(line.strip_suffix(b"\r").unwrap_or(line)).is_none() {
                    return true;
                }
                self.line_end = Some(end);
                self.searched = end;
                end
            }
        };
        // The head ends at an empty line: an LF followed by LF or CR LF.
        let from = self.searched.max(line_end);
        let found = head[from..].iter().enumerate().any(|(i, &b)| {
            b == b'\n' && matches!(&head[from + i + 1..], [b'\n', ..] | [b'\r', b'\n', ..])
        });
        // The last two bytes may begin an empty line that the next read finishes.
        self.searched = head.len().saturating_sub(2).max(line_end);
        found
    }
}

/// Reads a request head as RFC 9112 (section 2.2) lets a server: empty lines before
/// the request line are skipped, and a bare LF ends a line as CRLF does.
fn read_head(head: &[u8]) -> Head<'_> {
    let Some(start) = request_start(head) else {
        return Head::Partial;
    };
    let mut lines = Lines(&head[start..]);
    let Some(first) = lines.next() else {
        return Head::Partial;
    };
    let Some((method, target)) = request_line(first) else {
        return Head::Bad;
    };
    let mut accept = None;
    loop {
        let Some(line) = lines.next() else {
            return Head::Partial;
        };
        if line.is_empty() {
            return Head::Done(Request {
                method,
                target,
                accept,
            });
        }
        let Ok(line) = std::str::from_utf8(line) else {
            return Head::Bad;
        };
        if accept.is_none()
            && let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("accept")
        {
            accept = Some(value.trim());
        }
    }
}

/// Where the request line starts: empty lines before it are skipped (RFC 9112
/// section 2.2).
fn request_start(head: &[u8]) -> Option<usize> {
    head.iter().position(|b| !matches!(b, b'\r' | b'\n'))
}

/// The method and target of an HTTP/1.0 or 1.1 request line.
fn request_line(line: &[u8]) -> Option<(&str, &str)> {
    let mut parts = std::str::from_utf8(line).ok()?.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (parts.next().is_none() && matches!(version, "HTTP/1.1" | "HTTP/1.0") && !method.is_empty())
        .then_some((method, target))
}

/// The whole lines of a head, without their LF or CRLF; the unfinished last one is
/// not given.
struct Lines<'a>(&'a [u8]);

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let end = self.0.iter().position(|&b| b == b'\n')?;
        let line = &self.0[..end];
        self.0 = &self.0[end + 1..];
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// Writes `response` and closes the sending side, all by `until`.
fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    head_only: bool,
    until: Instant,
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len()
    );
    if let Some(allow) = response.allow {
        out.push_str("Allow: ");
        out.push_str(allow);
        out.push_str("\r\n");
    }
    if response.status == 503 {
        // Busy (the queue is full) or unhealthy: either may pass within a second.
        out.push_str("Retry-After: 1\r\n");
    }
    out.push_str("\r\n");
    if !head_only {
        out.push_str(&response.body);
    }
    write_by(stream, out.as_bytes(), until)?;
    let _ = stream.shutdown(std::net::Shutdown::Write);
    Ok(())
}

/// Writes all of `bytes` by `until`. Each write may block only for the time left:
/// with one timeout per write (`write_all`), a client reading a trickle made every
/// write a partial one and held the worker for a timeout per write.
fn write_by(stream: &mut TcpStream, mut bytes: &[u8], until: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_write_timeout(Some(left))?;
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::{CheckResult, Impact};
    use std::sync::atomic::AtomicBool;

    fn get(method: &str, target: &str, accept: Option<&str>, health: &Health) -> Response {
        let metrics = Metrics::new(10);
        metrics.record_session_created();
        route(
            &Request {
                method,
                target,
                accept,
            },
            &metrics,
            health,
        )
    }

    #[test]
    fn routes() {
        let health = Health::new("1.0");
        let m = get("GET", "/metrics", None, &health);
        assert_eq!(m.status, 200);
        assert_eq!(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
        assert!(m.body.contains("mcp_sessions_total 1\n"), "{}", m.body);
        let om = get(
            "GET",
            "/metrics?x=1",
            Some("application/openmetrics-text;version=1.0.0"),
            &health,
        );
        assert!(om.content_type.starts_with("application/openmetrics-text"));
        assert!(om.body.ends_with("# EOF\n"));
        let h = get("HEAD", "/health", None, &health);
        assert_eq!((h.status, h.content_type), (200, "application/json"));
        let table = [
            ("GET", "/", 404),
            ("GET", "/metricsx", 404),
            ("POST", "/nope", 404),
            ("POST", "/metrics", 405),
            ("DELETE", "/health", 405),
        ];
        for (method, target, status) in table {
            let r = get(method, target, None, &health);
            assert_eq!(r.status, status, "{method} {target}");
            assert_eq!(r.allow.is_some(), status == 405, "Allow only with 405");
        }
        health.register("stdio", Impact::Critical, || CheckResult::unhealthy("gone"));
        let h = get("GET", "/health", None, &health);
        assert_eq!(h.status, 503, "unhealthy is 503");
        let json: serde_json::Value = serde_json::from_str(&h.body).expect("JSON body");
        assert_eq!(json["checks"]["stdio"]["status"], "unhealthy");
    }

    #[test]
    fn heads_parse() {
        let metrics = |accept| {
            Head::Done(Request {
                method: "GET",
                target: "/metrics",
                accept,
            })
        };
        let text = Some("text/plain");
        for (head, read) in [
            (
                &b"GET /metrics HTTP/1.1\r\nHost: x\r\nACCEPT:  text/plain \r\n\r\n"[..],
                metrics(text),
            ),
            // RFC 9112 section 2.2: bare LF ends a line; empty lines before the request
            // line are skipped.
            (
                b"GET /metrics HTTP/1.1\nAccept: text/plain\n\n",
                metrics(text),
            ),
            (b"\r\n\r\nGET /metrics HTTP/1.1\r\n\n", metrics(None)),
            (
                b"GET /metrics HTTP/1.1\r\nAccept: a\r\nAccept: b\r\n\r\n",
                metrics(Some("a")),
            ),
            // Not whole yet: nothing, blank lines only, a line or a head without its end.
            (b"", Head::Partial),
            (b"\r\n\n", Head::Partial),
            (b"GET /metrics HTTP/1.1", Head::Partial),
            (b"GET /metrics HTTP/1.1\r\nHost: x\r\n", Head::Partial),
            (b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r", Head::Partial),
            // Refused as soon as the request line is whole: HTTP/0.9 waits for nothing.
            (b"GET /metrics\r\n", Head::Bad),
            (b"GET /metrics HTTP/2 x\r\n", Head::Bad),
            (b"GET /metrics SPDY/3\r\n", Head::Bad),
            (b"\xff\xfe /x HTTP/1.1\r\n", Head::Bad),
            (b"GET /metrics HTTP/1.9\r\n", Head::Bad),
            (b"GET /metrics HTTP/1.\r\n", Head::Bad),
            (b" GET /metrics HTTP/1.1\r\n", Head::Bad),
            (b"GET /metrics HTTP/1.1\r\nX: \xff\r\n\r\n", Head::Bad),
        ] {
            assert_eq!(read_head(head), read, "{:?}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn the_scan_finds_what_read_head_reads_however_the_head_is_cut() {
        let heads: [&[u8]; 8] = [
            b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\nrest",
            b"GET /metrics HTTP/1.1\nAccept: text/plain\n\n",
            b"\r\n\r\nGET /metrics HTTP/1.1\r\n\n",
            b"GET /metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics\r\n",
            b"\xff\xfe /x HTTP/1.1\r\nX: y\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nX: \xff\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r",
        ];
        for head in heads {
            for step in 1..=head.len() {
                let mut scan = HeadScan::default();
                let mut seen = 0;
                let whole = loop {
                    if scan.whole(&head[..seen]) {
                        break Some(seen);
                    }
                    if seen == head.len() {
                        break None;
                    }
                    seen = (seen + step).min(head.len());
                };
                let shown = String::from_utf8_lossy(head);
                match whole {
                    // Whole: read_head decides, and agrees that nothing is missing.
                    Some(n) => assert_ne!(read_head(&head[..n]), Head::Partial, "{shown:?}/{step}"),
                    None => assert_eq!(read_head(head), Head::Partial, "{shown:?}/{step}"),
                }
            }
        }
    }

    #[test]
    fn a_client_reading_a_trickle_cannot_hold_a_write_past_its_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        let done = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&done);
        let reader = std::thread::spawn(move || {
            // 16 KiB every 20 ms: every write makes some progress, none finishes 32 MiB.
            let mut buf = [0u8; 16 * 1024];
            while !stop.load(Ordering::Relaxed) {
                match client.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        let body = vec![b'x'; 32 * 1024 * 1024];
        let started = Instant::now();
        let written = write_by(&mut server, &body, started + Duration::from_millis(500));
        let took = started.elapsed();
        assert!(
            written.is_err(),
            "32 MiB cannot reach a trickle reader in 0.5 s"
        );
        // Bounded by the deadline (plus scheduling), not by a timeout per write.
        assert!(
            took < Duration::from_secs(3),
            "the write went on for {took:?}"
        );
        done.store(true, Ordering::Relaxed);
        reader.join().expect("reader");
    }

    #[test]
    fn http_1_0_is_read_and_a_503_says_when_to_retry() {
        let Head::Done(head) = read_head(b"GET /metrics HTTP/1.0\r\n\r\n") else {
            panic!("HTTP/1.0 is read");
        };
        assert_eq!(head.target, "/metrics");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let written = |response: Response| {
            let mut client =
                TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
            let (mut server, _) = listener.accept().expect("accept");
            let until = Instant::now() + Duration::from_secs(5);
            write_response(&mut server, &response, false, until).expect("write");
            let mut answer = String::new();
            client.read_to_string(&mut answer).expect("read");
            answer
        };
        let busy = written(Response::text(503, "busy"));
        assert!(
            busy.starts_with("HTTP/1.1 503 Service Unavailable\r\n")
                && busy.contains("\r\nRetry-After: 1\r\n"),
            "{busy}"
        );
        let not_found = written(Response::text(404, "nope"));
        assert!(
            !not_found.contains("Retry-After"),
            "only a 503: {not_found}"
        );
    }

    #[test]
    fn a_silent_client_does_not_stop_others() {
        let health = Health::new("1");
        let state = Arc::new(EndpointState::default());
        let endpoint = start("127.0.0.1", 0, Metrics::new(10), health, Arc::clone(&state))
            .expect("bind port 0");
        // A queue full of silent connections: each holds a worker until its budget,
        // counted from its accept, is spent, so the last one in costs no more time
        // than the first (counted from when a worker took it, the queue took 24 s).
        let silent: Vec<TcpStream> = (0..QUEUE - 1)
            .map(|_| TcpStream::connect(endpoint.addr).expect("connect"))
            .collect();
        let started = Instant::now();
        let mut client = TcpStream::connect(endpoint.addr).expect("connect");
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        client
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send");
        let mut answer = String::new();
        client.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(
            started.elapsed() < CONNECTION_BUDGET + Duration::from_secs(2),
            "answered once the silent ones' budgets ran out: {:?}",
            started.elapsed()
        );
        drop(silent);
        let mut big = TcpStream::connect(endpoint.addr).expect("connect");
        big.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let _ = big.write_all(&vec![b'a'; MAX_HEAD]);
        let mut answer = String::new();
        let _ = big.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 431 "), "{answer}");
        assert_eq!(state.check().status, crate::health::Status::Healthy);
    }
}
