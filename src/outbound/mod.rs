//! The crate's blocking HTTP/1.1 client, for its outbound calls: OTLP exports to a
//! collector and the Claude Messages API. A request's body goes out whole with its
//! `Content-Length`; the response is framed by length, chunks or close; idle connections
//! are kept for the next request; https goes through rustls with the crate's provider
//! and the CAs of `roots`; one deadline bounds the whole exchange, lookup to last byte.
//! Proxies come from the environment (`proxy`). No redirects or compression: neither
//! peer uses them, and each would be code in a size-budgeted binary.

mod conn;
mod proxy;
mod url;
mod wire;

use crate::roots::Trust;
use conn::{Conn, Resolver};
pub(crate) use proxy::Proxies;
use rustls::ClientConfig;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
pub(crate) use wire::retry_after;
use wire::{Chunked, Framing, Head};

/// Idle connections kept per agent (an exporter needs one; the Claude client one per
/// concurrent call that ended recently).
const MAX_IDLE: usize = 4;
/// How long an idle connection is kept (collectors close theirs after a minute or more).
const IDLE_FOR: Duration = Duration::from_secs(30);

/// Where in an exchange a deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Looking the host up.
    Resolve,
    /// Opening the connection.
    Connect,
    /// Sending the request (the TLS handshake included).
    Send,
    /// Waiting for or reading the response.
    Receive,
}

/// Why a request failed. No variant carries a header value or a URL's text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Error {
    /// The URL cannot be used (why).
    Url(&'static str),
    /// A request header's name or value cannot be sent (its name).
    Header(String),
    /// The host name did not resolve.
    Resolve(String),
    /// No connection could be opened.
    Connect(io::ErrorKind),
    /// The TLS handshake or a record failed.
    Tls(rustls::Error),
    /// No trusted CA certificates could be loaded (why).
    Trust(String),
    /// Sending or receiving failed.
    Io(io::ErrorKind),
    /// The deadline passed in this stage.
    Timeout(Stage),
    /// The response broke HTTP/1.1.
    Protocol(&'static str),
    /// The server closed the connection before answering.
    Closed,
    /// The body is longer than the limit it was read with.
    TooLarge(u64),
    /// The proxy the environment names cannot be used (why).
    Proxy(&'static str),
    /// The proxy refused to open a tunnel (its status).
    ProxyRefused(u16),
}

impl Error {
    /// Whether trying again later may succeed: network trouble, not a bad URL, header,
    /// certificate or answer size.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Resolve(_)
                | Error::Connect(_)
                | Error::Io(_)
                | Error::Timeout(_)
                | Error::Protocol(_)
                | Error::Closed
        ) || matches!(self, Error::ProxyRefused(status) if *status >= 500)
    }

    /// Whether a kept connection failed because the server had closed it meanwhile:
    /// nothing of a response arrived, so the request can go again on a new one.
    fn is_stale(&self) -> bool {
        matches!(
            self,
            Error::Closed
                | Error::Io(
                    io::ErrorKind::BrokenPipe
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                )
        )
    }

    /// As an I/O error for [`io::Read`], a timeout as `TimedOut`.
    fn into_io(self) -> io::Error {
        let kind = match self {
            Error::Timeout(_) => io::ErrorKind::TimedOut,
            Error::Io(kind) => kind,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Url(why) => write!(f, "http: unusable URL: {why}"),
            Error::Header(name) => write!(f, "http: request header {name:?} cannot be sent"),
            Error::Resolve(detail) => write!(f, "http: host lookup failed: {detail}"),
            Error::Connect(kind) => write!(f, "http: connection failed: {kind}"),
            Error::Tls(e) => write!(f, "http: tls: {e}"),
            Error::Trust(why) => write!(f, "http: tls: {why}"),
            Error::Io(kind) => write!(f, "http: i/o error: {kind}"),
            Error::Timeout(stage) => f.write_str(match stage {
                Stage::Resolve => "http: timed out looking the host up",
                Stage::Connect => "http: timed out connecting",
                Stage::Send => "http: timed out sending the request",
                Stage::Receive => "http: timed out waiting for the response",
            }),
            Error::Protocol(why) => write!(f, "http: invalid response: {why}"),
            Error::Closed => f.write_str("http: the server closed the connection before answering"),
            Error::TooLarge(limit) => write!(f, "http: the body exceeds {limit} bytes"),
            Error::Proxy(why) => write!(f, "http: proxy: {why}"),
            Error::ProxyRefused(status) => {
                write!(f, "http: proxy: the proxy answered {status} to CONNECT")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Tls(e) => Some(e),
            _ => None,
        }
    }
}

/// Sends requests and keeps their connections; shared by the threads of one client.
pub(crate) struct Agent {
    user_agent: &'static str,
    connect_timeout: Option<Duration>,
    /// The CAs https connections trust.
    trust: Trust,
    /// The proxies requests go through (the environment's).
    proxies: Proxies,
    /// The TLS configuration, made at the first https connection.
    tls: Mutex<Option<Arc<ClientConfig>>>,
    resolver: Resolver,
    idle: Mutex<Vec<Conn>>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// An agent sending `user_agent`; connecting may take at most `connect_timeout` of a
    /// request's time (all of it when `None`).
    pub(crate) fn new(user_agent: &'static str, connect_timeout: Option<Duration>) -> Agent {
        Agent {
            user_agent,
            connect_timeout,
            trust: Trust::System,
            proxies: Proxies::from_env(),
            tls: Mutex::new(None),
            resolver: Resolver::default(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The same agent going through `proxies` instead of the environment's.
    #[cfg(test)]
    pub(crate) fn through(mut self, proxies: Proxies) -> Agent {
        self.proxies = proxies;
        self
    }

    /// The same agent trusting the CAs of `trust` instead of the system's.
    pub(crate) fn trusting(mut self, trust: Trust) -> Agent {
        self.trust = trust;
        self
    }

    /// `POST url` with `headers` and `body`, answered within `timeout`.
    pub(crate) fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout: Duration,
    ) -> Result<Response<'_>, Error> {
        self.send("POST", url, headers, Some(body), timeout)
    }

    /// `GET url` with `headers`, answered within `timeout`.
    pub(crate) fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<Response<'_>, Error> {
        self.send("GET", url, headers, None, timeout)
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<Response<'_>, Error> {
        let deadline = Instant::now() + timeout;
        let url = url::Url::parse(url)?;
        let proxy = match self.proxies.for_url(&url) {
            None => None,
            Some(Ok(proxy)) => Some(proxy),
            Some(Err(why)) => return Err(Error::Proxy(why)),
        };
        let mut head = Vec::with_capacity(256);
        // Plain http through a proxy: the absolute URL, and the proxy's credentials.
        let forward = proxy.filter(|_| !url.tls);
        wire::write_head(
            &mut head,
            method,
            &url,
            self.user_agent,
            headers,
            body.map(<[u8]>::len),
            forward.map(|p| p.authorization.as_deref()),
        )?;
        let body = body.unwrap_or_default();
        loop {
            let (mut conn, reused) = match self.take_idle(&url) {
                Some(conn) => (conn, true),
                None => {
                    let tls = || self.tls_config();
                    let conn = Conn::open(
                        &url,
                        proxy,
                        &self.resolver,
                        self.connect_timeout,
                        deadline,
                        tls,
                    )?;
                    (conn, false)
                }
            };
            match exchange(&mut conn, &head, body, deadline) {
                Ok(head) => return Ok(Response::new(self, conn, head, deadline)),
                // A kept connection that the server had closed: again on another.
                Err((e, unprocessed)) if reused && unprocessed && e.is_stale() => continue,
                Err((e, _)) => return Err(e),
            }
        }
    }

    /// Whether the TLS configuration has been built (at the first https connection).
    pub(crate) fn tls_is_set_up(&self) -> bool {
        self.tls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    fn tls_config(&self) -> Result<Arc<ClientConfig>, Error> {
        let mut cached = self.tls.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(config) = &*cached {
            return Ok(config.clone());
        }
        let config = crate::tls::client_config(&self.trust).map_err(Error::Trust)?;
        *cached = Some(config.clone());
        Ok(config)
    }

    /// An open idle connection to `url`'s host, the most recently used first.
    fn take_idle(&self, url: &url::Url<'_>) -> Option<Conn> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain(|c| c.idle_since.elapsed() < IDLE_FOR);
        while let Some(at) = idle.iter().rposition(|c| c.serves(url)) {
            let conn = idle.remove(at);
            if conn.is_idle_and_open() {
                return Some(conn);
            }
        }
        None
    }

    fn release(&self, mut conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() == MAX_IDLE {
            idle.remove(0);
        }
        conn.idle_since = Instant::now();
        idle.push(conn);
    }

    /// Idle connections kept (tests).
    #[cfg(test)]
    pub(crate) fn idle_count(&self) -> usize {
        self.idle.lock().expect("lock").len()
    }
}

/// How soon after a request was sent a close still means that the server had closed the
/// kept connection before the request arrived (its FIN or RST was on the way), rather
/// than that it dropped a request it may have acted on (a generation billed twice if
/// sent again). Later failures are the caller's to retry, visibly.
const STALE_WINDOW: Duration = Duration::from_secs(1);

/// Sends a request on `conn` and reads the head of its final response (interim 1xx
/// responses are skipped). An error comes with whether the server cannot have acted on
/// the request: it failed while being sent, or the connection closed at once and
/// before any answer.
fn exchange(
    conn: &mut Conn,
    head: &[u8],
    body: &[u8],
    deadline: Instant,
) -> Result<Head, (Error, bool)> {
    if let Err(e) = conn.send(head, body, deadline) {
        // A server may answer before it has read the whole body (413, 401) and close;
        // its answer is then worth more than the broken pipe.
        if !matches!(e, Error::Timeout(_)) {
            let glance = deadline.min(Instant::now() + Duration::from_millis(50));
            if let Ok(n) = conn.fill(glance, Stage::Receive)
                && n > 0
                && let Ok(Some((mut head, used))) = wire::parse_head(conn.buffered())
                && head.status >= 200
            {
                conn.consume(used);
                head.keep_alive = false;
                return Ok(head);
            }
        }
        return Err((e, true));
    }
    let sent = Instant::now();
    let mut answered = false;
    let failed = |e: Error, answered: bool| (e, !answered && sent.elapsed() < STALE_WINDOW);
    loop {
        match wire::parse_head(conn.buffered()) {
            Ok(Some((head, used))) => {
                conn.consume(used);
                if head.status >= 200 {
                    return Ok(head);
                }
                answered = true;
                continue;
            }
            Ok(None) => {}
            Err(e) => return Err((e, false)),
        }
        match conn.fill(deadline, Stage::Receive) {
            Ok(0) if conn.buffered().is_empty() && !answered => {
                return Err(failed(Error::Closed, answered));
            }
            Ok(0) => {
                let e = Error::Protocol("the connection closed inside the response head");
                return Err((e, false));
            }
            Ok(_) => {}
            Err(e) => return Err(failed(e, answered || !conn.buffered().is_empty())),
        }
    }
}

/// What is left of a response body.
#[derive(Debug)]
enum Body {
    Length(u64),
    Chunked(Chunked),
    UntilClose,
    Done,
}

/// A response: status and headers at once, the body as it is read ([`io::Read`] or
/// [`Response::read_to_vec`]). Its connection goes back to the agent when the body was
/// read to its end; a response dropped before that closes it.
#[derive(Debug)]
pub(crate) struct Response<'a> {
    agent: &'a Agent,
    conn: Option<Conn>,
    head: Head,
    body: Body,
    deadline: Instant,
}

/// About the most [`Response::discard_buffered`] reads: a body's end, not a body that
/// keeps coming.
const DISCARD_MAX: usize = 64 * 1024;

/// How [`Response::read_body`] gets bytes not yet received.
#[derive(Clone, Copy)]
enum Fill {
    /// Waits for them until the response's deadline.
    Wait,
    /// Takes only what has already arrived.
    Ready,
}

impl<'a> Response<'a> {
    fn new(agent: &'a Agent, conn: Conn, head: Head, deadline: Instant) -> Response<'a> {
        let body = match head.framing {
            Framing::Empty | Framing::Length(0) => Body::Done,
            Framing::Length(n) => Body::Length(n),
            Framing::Chunked => Body::Chunked(Chunked::default()),
            Framing::UntilClose => Body::UntilClose,
        };
        let mut response = Response {
            agent,
            conn: Some(conn),
            head,
            body,
            deadline,
        };
        if matches!(response.body, Body::Done) {
            response.finish();
        }
        response
    }

    /// The status code.
    pub(crate) fn status(&self) -> u16 {
        self.head.status
    }

    /// The first value of header `name`, in any case.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// The rest of the body, at most `limit` bytes.
    pub(crate) fn read_to_vec(&mut self, limit: u64) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        loop {
            if out.len() == out.capacity() {
                out.reserve(8 * 1024);
            }
            let len = out.len();
            out.resize(out.capacity(), 0);
            let n = self.read_body(&mut out[len..], Fill::Wait);
            out.truncate(len + *n.as_ref().unwrap_or(&0));
            match n? {
                0 => return Ok(out),
                _ if out.len() as u64 > limit => return Err(Error::TooLarge(limit)),
                _ => {}
            }
        }
    }

    /// Reads what of the body has already arrived (buffered, or in the socket), without
    /// waiting for more; when that was the rest of it, the connection goes back to the
    /// agent. For a caller done with a body whose end is due at once (the chunked end
    /// after an event stream's last event), so that the next request need not open a
    /// connection. Stops after about [`DISCARD_MAX`] bytes of body.
    pub(crate) fn discard_buffered(&mut self) {
        if matches!(self.body, Body::UntilClose) {
            return;
        }
        let mut scratch = [0u8; 512];
        let mut discarded = 0;
        while discarded < DISCARD_MAX {
            match self.read_body(&mut scratch, Fill::Ready) {
                Ok(n) if n > 0 => discarded += n,
                // The end (the connection went back), or nothing more has arrived.
                Ok(_) => return,
                Err(_) => {
                    self.conn = None;
                    return;
                }
            }
        }
    }

    /// Reads body bytes into `out`; 0 at the end of the body, or with [`Fill::Ready`]
    /// when nothing more has arrived.
    fn read_body(&mut self, out: &mut [u8], fill: Fill) -> Result<usize, Error> {
        while !out.is_empty() {
            let Some(conn) = self.conn.as_mut() else {
                return Ok(0);
            };
            let input = conn.buffered();
            let (used, filled, complete) = match &mut self.body {
                Body::Done => return Ok(0),
                Body::Length(left) => {
                    let n = (*left).min(input.len().min(out.len()) as u64) as usize;
                    out[..n].copy_from_slice(&input[..n]);
                    *left -= n as u64;
                    (n, n, *left == 0)
                }
                Body::UntilClose => {
                    let n = input.len().min(out.len());
                    out[..n].copy_from_slice(&input[..n]);
                    (n, n, false)
                }
                Body::Chunked(chunked) => {
                    let (used, filled) = chunked.decode(input, out)?;
                    (used, filled, chunked.is_done())
                }
            };
            conn.consume(used);
            if complete {
                self.finish();
                return Ok(filled);
            }
            if filled > 0 {
                return Ok(filled);
            }
            if used > 0 {
                continue;
            }
            let received = match fill {
                Fill::Wait => conn.fill(self.deadline, Stage::Receive)?,
                Fill::Ready => match conn.fill_ready()? {
                    0 => return Ok(0),
                    n => n,
                },
            };
            if received == 0 {
                if !matches!(self.body, Body::UntilClose) {
                    self.conn = None;
                    return Err(Error::Protocol("the connection closed inside the body"));
                }
                self.body = Body::Done;
                self.conn = None;
                return Ok(0);
            }
        }
        Ok(0)
    }

    /// The body was read to its end: the connection goes back to the agent when the
    /// response allows another request on it and nothing unasked-for followed.
    fn finish(&mut self) {
        self.body = Body::Done;
        if let Some(mut conn) = self.conn.take()
            && self.head.keep_alive
            && conn.buffered().is_empty()
            && !conn.tls_holds_plaintext()
        {
            self.agent.release(conn);
        }
    }
}

impl io::Read for Response<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_body(buf, Fill::Wait).map_err(Error::into_io)
    }
}

#[cfg(test)]
mod tests;
