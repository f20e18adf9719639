//! One client connection: the host lookup (IP literals in place, names at most once a
//! minute, on a helper thread bounded by the deadline), the TCP connect, TLS through
//! rustls, and reads and writes that each stop at the request's deadline.

use super::proxy::Proxy;
use super::url::Url;
use super::{Error, Stage};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use std::io::{self, IoSlice, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Receive buffer of a new connection; it grows (to hold a long response head) up to
/// [`super::wire::MAX_HEAD`] plus this.
const IO_BUFFER: usize = 8 * 1024;
/// How long a looked-up name's addresses are used before it is looked up again
/// (a collector behind a DNS name may move).
const DNS_TTL: Duration = Duration::from_secs(60);

/// The socket, bare or inside TLS.
enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => &tls.sock,
        }
    }
}

/// An open connection, with what was received and not yet used.
pub(crate) struct Conn {
    stream: Stream,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Scheme, host and port it was opened for.
    tls: bool,
    host: Box<str>,
    port: u16,
    /// When it went back to the pool.
    pub(crate) idle_since: Instant,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("tls", &self.tls)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("buffered", &(self.end - self.pos))
            .finish_non_exhaustive()
    }
}

impl Conn {
    /// Resolves `url`'s host, connects within `connect_timeout` (and the deadline), and
    /// starts TLS for https with the config `tls` gives. The handshake itself happens with
    /// the first write.
    /// Through `proxy`, the connection is to the proxy, and for https a `CONNECT` tunnel
    /// to the host is opened before TLS starts.
    pub(crate) fn open(
        url: &Url<'_>,
        proxy: Option<&Proxy>,
        resolver: &Resolver,
        connect_timeout: Option<Duration>,
        deadline: Instant,
        tls: impl FnOnce() -> Result<Arc<ClientConfig>, Error>,
    ) -> Result<Conn, Error> {
        let connect_by = connect_timeout.map_or(deadline, |t| deadline.min(Instant::now() + t));
        let (host, port) = proxy.map_or((url.host, url.port), |p| (p.host.as_str(), p.port));
        let addrs = resolver.resolve(host, port, connect_by)?;
        let mut last = None;
        let mut tcp = None;
        let count = addrs.len();
        for (tried, addr) in addrs.into_iter().enumerate() {
            let left = remaining(connect_by, Stage::Connect)?;
            match TcpStream::connect_timeout(&addr, connect_share(left, count - tried)) {
                Ok(stream) => {
                    tcp = Some(stream);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let mut tcp = match (tcp, last) {
            (Some(tcp), _) => tcp,
            (None, Some(e)) if is_timeout(&e) => return Err(Error::Timeout(Stage::Connect)),
            (None, Some(e)) => return Err(Error::Connect(e.kind())),
            (None, None) => return Err(Error::Resolve("no addresses".into())),
        };
        // Head and body go out in one write, but TLS records and later requests should
        // not wait for an acknowledgement (Nagle with delayed ACKs stalls 40 ms).
        tcp.set_nodelay(true).map_err(|e| Error::Io(e.kind()))?;
        if let Some(proxy) = proxy.filter(|_| url.tls) {
            tunnel(&mut tcp, url, proxy, connect_by)?;
        }
        let stream = if url.tls {
            let name = ServerName::try_from(url.host.to_string())
                .map_err(|_| Error::Url("the host is not a valid TLS server name"))?;
            let conn = ClientConnection::new(tls()?, name).map_err(Error::Tls)?;
            Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))
        } else {
            Stream::Plain(tcp)
        };
        Ok(Conn {
            stream,
            buf: vec![0; IO_BUFFER],
            pos: 0,
            end: 0,
            tls: url.tls,
            host: url.host.into(),
            port: url.port,
            idle_since: Instant::now(),
        })
    }

    /// Whether this connection was opened for `url`'s scheme, host and port.
    pub(crate) fn serves(&self, url: &Url<'_>) -> bool {
        self.tls == url.tls && self.port == url.port && *self.host == *url.host
    }

    /// Whether an idle connection can take a request: the server has neither closed it
    /// nor sent anything (an idle HTTP/1.1 connection has nothing to say).
    pub(crate) fn is_idle_and_open(&self) -> bool {
        self.pos == self.end && !readable_now(self.stream.tcp())
    }

    /// Receives what has already arrived, without waiting for more: 0 when nothing has.
    /// For the end of a body that is due at once (an event stream's chunked end, sent
    /// in a TLS record of its own after the last event).
    pub(crate) fn fill_ready(&mut self) -> Result<usize, Error> {
        if !self.tls_holds_plaintext() && !readable_now(self.stream.tcp()) {
            return Ok(0);
        }
        // Something is there: a TLS record cut in two by the network is the only
        // way to wait here, and then not for long.
        self.fill(Instant::now() + READY_GUARD, Stage::Receive)
    }

    /// Sends a request head and its body before `deadline`, the TLS handshake included.
    /// Every socket call gets the time left, not a fresh timeout: a peer that takes the
    /// bytes (or sends handshake records) slowly cannot stretch the exchange past it.
    pub(crate) fn send(
        &mut self,
        head: &[u8],
        body: &[u8],
        deadline: Instant,
    ) -> Result<(), Error> {
        match &mut self.stream {
            Stream::Plain(tcp) => write_all_vectored(tcp, head, body, deadline),
            Stream::Tls(tls) => {
                let StreamOwned { conn, sock } = &mut **tls;
                while conn.is_handshaking() {
                    flush_tls(conn, sock, deadline, Stage::Send)?;
                    if !conn.is_handshaking() {
                        break;
                    }
                    if !conn.wants_read() || read_tls(conn, sock, deadline, Stage::Send)? == 0 {
                        return Err(Error::Closed);
                    }
                }
                for mut data in [head, body] {
                    while !data.is_empty() {
                        let n = conn
                            .writer()
                            .write(data)
                            .map_err(|e| io_error(e, Stage::Send))?;
                        data = &data[n..];
                        flush_tls(conn, sock, deadline, Stage::Send)?;
                    }
                }
                flush_tls(conn, sock, deadline, Stage::Send)
            }
        }
    }

    /// Whether rustls holds decrypted bytes not yet read (unasked-for data after a body).
    pub(crate) fn tls_holds_plaintext(&mut self) -> bool {
        match &mut self.stream {
            Stream::Plain(_) => false,
            Stream::Tls(tls) => tls
                .conn
                .process_new_packets()
                .map_or(true, |state| state.plaintext_bytes_to_read() > 0),
        }
    }

    /// What was received and not yet used.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Marks `n` buffered bytes as used.
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
        if self.pos == self.end {
            (self.pos, self.end) = (0, 0);
        }
    }

    /// Receives more bytes before `deadline`; 0 when the server closed the connection.
    pub(crate) fn fill(&mut self, deadline: Instant, stage: Stage) -> Result<usize, Error> {
        if self.end == self.buf.len() {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.end, 0);
                (self.pos, self.end) = (0, self.end - self.pos);
            } else {
                let grown = (self.buf.len() * 2).min(super::wire::MAX_HEAD + IO_BUFFER);
                if grown == self.buf.len() {
                    return Err(Error::Protocol("a response head over 64 kB"));
                }
                self.buf.resize(grown, 0);
            }
        }
        let into = &mut self.buf[self.end..];
        let n = match &mut self.stream {
            Stream::Plain(tcp) => loop {
                let left = remaining(deadline, stage)?;
                tcp.set_read_timeout(Some(left))
                    .map_err(|e| io_error(e, stage))?;
                match tcp.read(into) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(io_error(e, stage)),
                }
            },
            Stream::Tls(tls) => {
                let StreamOwned { conn, sock } = &mut **tls;
                loop {
                    match conn.reader().read(into) {
                        // 0: the server's close_notify.
                        Ok(n) => break n,
                        // Nothing decrypted yet: one more record from the socket.
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        // A server that closes without close_notify ends the body all
                        // the same when it runs until the close; framed bodies notice.
                        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break 0,
                        Err(e) => return Err(io_error(e, stage)),
                    }
                    flush_tls(conn, sock, deadline, stage)?;
                    read_tls(conn, sock, deadline, stage)?;
                }
            }
        };
        self.end += n;
        Ok(n)
    }
}

/// The time one address may take to connect, with `left` for `addresses` still to
/// try: a share each (at least 250 ms), so that one that never answers does not use it
/// all up; the last one gets all that is left.
pub(super) fn connect_share(left: Duration, addresses: usize) -> Duration {
    match u32::try_from(addresses) {
        Ok(0 | 1) => left,
        Ok(n) => (left / n).max(Duration::from_millis(250)).min(left),
        Err(_) => Duration::from_millis(250).min(left),
    }
}

/// The longest [`Conn::fill_ready`] waits for the rest of a record already arriving.
const READY_GUARD: Duration = Duration::from_millis(50);

/// Whether `tcp` has something to read (or was closed) right now.
fn readable_now(tcp: &TcpStream) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let mut fds = [PollFd::new(tcp, PollFlags::IN)];
    let now = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    !matches!(poll(&mut fds, Some(&now)), Ok(0))
}

/// Asks the proxy on `tcp` for a tunnel to `url`'s host (RFC 9110 §9.3.6) and reads
/// its answer, byte by byte up to the empty line: what follows belongs to TLS.
fn tunnel(
    tcp: &mut TcpStream,
    url: &Url<'_>,
    proxy: &Proxy,
    deadline: Instant,
) -> Result<(), Error> {
    let io = |e: io::Error| io_error(e, Stage::Connect);
    let target = if url.host.contains(':') {
        format!("[{}]:{}", url.host, url.port)
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nhost: {target}\r\n");
    if let Some(authorization) = &proxy.authorization {
        request.push_str("proxy-authorization: ");
        request.push_str(authorization);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    let left = remaining(deadline, Stage::Connect)?;
    tcp.set_write_timeout(Some(left)).map_err(io)?;
    tcp.write_all(request.as_bytes()).map_err(io)?;
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    loop {
        let left = remaining(deadline, Stage::Connect)?;
        tcp.set_read_timeout(Some(left)).map_err(io)?;
        match tcp.read(&mut byte) {
            Ok(0) => return Err(Error::Closed),
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        }
        if head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n") {
            break;
        }
        if head.len() > super::wire::MAX_HEAD {
            return Err(Error::Protocol("a response head over 64 kB"));
        }
    }
    let status = match super::wire::parse_head(&head)? {
        Some((answer, _)) => answer.status,
        None => return Err(Error::Protocol("a malformed answer to CONNECT")),
    };
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(Error::ProxyRefused(status))
    }
}

/// Writes what rustls has for the socket (records, alerts), each call within `deadline`;
/// errors are reported as `stage` (receiving also writes: key updates, alerts).
fn flush_tls(
    conn: &mut ClientConnection,
    sock: &mut TcpStream,
    deadline: Instant,
    stage: Stage,
) -> Result<(), Error> {
    while conn.wants_write() {
        let left = remaining(deadline, stage)?;
        sock.set_write_timeout(Some(left))
            .map_err(|e| io_error(e, stage))?;
        match conn.write_tls(sock) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e, stage)),
        }
    }
    Ok(())
}

/// One read from the socket into rustls, within `deadline`, and its records processed;
/// the bytes read (0: the server closed the connection).
fn read_tls(
    conn: &mut ClientConnection,
    sock: &mut TcpStream,
    deadline: Instant,
    stage: Stage,
) -> Result<usize, Error> {
    let n = loop {
        let left = remaining(deadline, stage)?;
        sock.set_read_timeout(Some(left))
            .map_err(|e| io_error(e, stage))?;
        match conn.read_tls(sock) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_error(e, stage)),
        }
    };
    if let Err(e) = conn.process_new_packets() {
        // Tell the server why (an alert), as far as the deadline allows.
        let _ = flush_tls(conn, sock, deadline, stage);
        return Err(Error::Tls(e));
    }
    Ok(n)
}

/// Writes `head` then `body` with as few `writev` calls as the socket allows, each
/// within `deadline`.
fn write_all_vectored(
    tcp: &mut TcpStream,
    head: &[u8],
    body: &[u8],
    deadline: Instant,
) -> Result<(), Error> {
    let (mut head, mut body) = (head, body);
    let io = |e: io::Error| io_error(e, Stage::Send);
    while !head.is_empty() || !body.is_empty() {
        tcp.set_write_timeout(Some(remaining(deadline, Stage::Send)?))
            .map_err(io)?;
        let n = match tcp.write_vectored(&[IoSlice::new(head), IoSlice::new(body)]) {
            Ok(0) => return Err(io(io::ErrorKind::WriteZero.into())),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        let from_head = n.min(head.len());
        head = &head[from_head..];
        body = &body[n - from_head..];
    }
    Ok(())
}

/// Time left before `deadline`, or the timeout of `stage`.
pub(crate) fn remaining(deadline: Instant, stage: Stage) -> Result<Duration, Error> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(Error::Timeout(stage))
    } else {
        Ok(left)
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// A socket error as the crate's error: a timed-out read or write (`SO_RCVTIMEO` gives
/// `EAGAIN`) is the stage's timeout, a TLS failure keeps rustls' reason.
fn io_error(e: io::Error, stage: Stage) -> Error {
    if is_timeout(&e) {
        return Error::Timeout(stage);
    }
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(tls) => Error::Tls(tls.clone()),
        None => Error::Io(e.kind()),
    }
}

/// Looks hosts up: IP addresses are used as they are, and the last name looked up is
/// remembered for a minute, so an exporter does not look up its collector per batch.
#[derive(Debug, Default)]
pub(crate) struct Resolver {
    last: Mutex<Option<Lookup>>,
}

/// Host, port, its addresses, and when they were looked up.
type Lookup = (Box<str>, u16, Vec<SocketAddr>, Instant);

impl Resolver {
    /// The addresses of `host:port`, looked up before `deadline`.
    pub(crate) fn resolve(
        &self,
        host: &str,
        port: u16,
        deadline: Instant,
    ) -> Result<Vec<SocketAddr>, Error> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let cached = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((name, p, addrs, at)) = &*cached
            && **name == *host
            && *p == port
            && at.elapsed() < DNS_TTL
        {
            return Ok(addrs.clone());
        }
        drop(cached);
        let addrs = lookup(host, port, deadline)?;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((host.into(), port, addrs.clone(), Instant::now()));
        Ok(addrs)
    }
}

/// `getaddrinfo` on a helper thread, so that a resolver that does not answer costs the
/// caller no more than its deadline (the thread ends when the lookup does).
fn lookup(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, Error> {
    let left = remaining(deadline, Stage::Resolve)?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let name = host.to_string();
    // Through the crate's one boxed thread start (each distinct closure given to
    // `Builder::spawn` costs its own copy of the thread machinery).
    crate::threads::spawn("tfo-dns".into(), move || {
        let found = (name.as_str(), port)
            .to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>());
        let _ = tx.send(found);
    })
    .map_err(|e| Error::Resolve(format!("no lookup thread: {e}")))?;
    match rx.recv_timeout(left) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(Error::Resolve(format!("{host} has no addresses"))),
        Ok(Err(e)) => Err(Error::Resolve(format!("{host}: {e}"))),
        Err(_) => Err(Error::Timeout(Stage::Resolve)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_resolve_in_place_and_names_are_cached() {
        let resolver = Resolver::default();
        let deadline = Instant::now() + Duration::from_secs(5);
        for (host, addr) in [("127.0.0.1", "127.0.0.1:4318"), ("::1", "[::1]:4318")] {
            assert_eq!(
                resolver.resolve(host, 4318, deadline),
                Ok(vec![addr.parse::<SocketAddr>().expect("address")]),
                "{host}"
            );
        }
        assert!(
            resolver.last.lock().expect("lock").is_none(),
            "no lookup for IP literals"
        );
        let first = resolver
            .resolve("localhost", 4318, deadline)
            .expect("localhost resolves");
        assert!(!first.is_empty(), "localhost has addresses");
        assert!(
            first.iter().all(|a| a.port() == 4318),
            "with the port asked"
        );
        let remembered = resolver
            .last
            .lock()
            .expect("lock")
            .as_ref()
            .map(|l| (l.0.to_string(), l.1));
        assert_eq!(
            remembered,
            Some(("localhost".to_string(), 4318)),
            "a looked-up name is remembered"
        );
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(
            resolver.resolve("localhost", 4318, past),
            Ok(first),
            "the same host and port answer from the cache, even with no time left"
        );
        assert_eq!(
            resolver.resolve("localhost", 4319, past),
            Err(Error::Timeout(Stage::Resolve)),
            "another port is another lookup, bounded by the deadline"
        );
    }

    #[test]
    fn writes_split_anywhere_between_head_and_body_arrive_whole() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut tcp = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut peer, _) = listener.accept().expect("accept");
        let body = vec![7u8; 3 << 20];
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            peer.read_to_end(&mut got).expect("read");
            got
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        write_all_vectored(&mut tcp, b"HEAD", &body, deadline).expect("write");
        drop(tcp);
        let got = reader.join().expect("reader");
        assert_eq!(got.len(), 4 + body.len(), "every byte once");
        assert_eq!(&got[..4], b"HEAD");
        assert!(
            got[4..].iter().all(|&b| b == 7),
            "the body follows the head"
        );
    }
}
