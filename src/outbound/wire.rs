//! HTTP/1.1 on the wire, sans-IO (RFC 9112): the request head written into a buffer,
//! the response head parsed from bytes, how the body that follows is framed, and a
//! chunked-body decoder that turns received bytes into body bytes. No sockets here.

use super::Error;
use super::url::Url;
use std::io::Write;
use std::time::Duration;

/// Longest response head accepted (status line and headers).
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Most response headers accepted.
const MAX_HEADERS: usize = 128;
/// Longest chunk-size line (size and extensions) and longest trailer section.
const MAX_CHUNK_LINE: u32 = 4096;
const MAX_TRAILERS: u32 = 16 * 1024;

/// Writes the request line and headers of `method url` into `out`. `body` is the body's
/// length, sent as `Content-Length` (a body is always sent whole, never chunked). Header
/// names must be tokens and values free of control characters; an error names the
/// header, never its value (values carry API keys). `forward`: the request goes to an
/// http proxy, with the absolute URL (RFC 9112 §3.2.2) and the proxy's authorization.
pub(crate) fn write_head(
    out: &mut Vec<u8>,
    method: &str,
    url: &Url<'_>,
    user_agent: &str,
    headers: &[(&str, &str)],
    body: Option<usize>,
    forward: Option<Option<&str>>,
) -> Result<(), Error> {
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    if forward.is_some() {
        out.extend_from_slice(b"http://");
        out.extend_from_slice(url.authority.as_bytes());
    }
    if !url.target.starts_with('/') {
        out.push(b'/');
    }
    out.extend_from_slice(url.target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(url.authority.as_bytes());
    out.extend_from_slice(b"\r\nuser-agent: ");
    out.extend_from_slice(user_agent.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in headers {
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(Error::Header(name.to_string()));
        }
        if value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f) {
            return Err(Error::Header(name.to_string()));
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(Some(authorization)) = forward {
        out.extend_from_slice(b"proxy-authorization: ");
        out.extend_from_slice(authorization.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(len) = body {
        // Writing into a Vec cannot fail.
        let _ = write!(out, "content-length: {len}\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(())
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// How the body after a response head ends (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body (1xx, 204, 304).
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) status: u16,
    /// Names in lower case, values trimmed, in the order received.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) framing: Framing,
    /// Whether the connection may carry another request after this body.
    pub(crate) keep_alive: bool,
}

impl Head {
    /// The first value of header `name` (lower case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a response head from the start of `buf`: `Ok(None)` while it is incomplete,
/// else the head and the number of bytes it took (the body starts after them).
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<(Head, usize)>, Error> {
    // The head ends at the first empty line; a bare LF ends a line too (§2.2).
    let Some(end) = head_end(buf) else {
        return if buf.len() > MAX_HEAD {
            Err(Error::Protocol("a response head over 64 kB"))
        } else {
            Ok(None)
        };
    };
    let text = std::str::from_utf8(&buf[..end])
        .map_err(|_| Error::Protocol("a response head that is not text"))?;
    let mut lines = text.lines();
    let status_line = lines.next().unwrap_or_default();
    let (version, rest) = status_line
        .split_once(' ')
        .ok_or(Error::Protocol("a malformed status line"))?;
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        _ => return Err(Error::Protocol("a response that is not HTTP/1.x")),
    };
    let code = rest
        .get(..3)
        .filter(|c| c.bytes().all(|b| b.is_ascii_digit()));
    let status = code
        .and_then(|c| c.parse::<u16>().ok())
        .filter(|s| (100..600).contains(s) && rest.get(3..4).is_none_or(|sp| sp == " "))
        .ok_or(Error::Protocol("a malformed status code"))?;
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            return Err(Error::Protocol("a folded header line"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(Error::Protocol("a header line without a colon"))?;
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(Error::Protocol("a malformed header name"));
        }
        if headers.len() == MAX_HEADERS {
            return Err(Error::Protocol("more than 128 response headers"));
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let mut head = Head {
        status,
        headers,
        framing: Framing::UntilClose,
        keep_alive: minor == 1,
    };
    head.keep_alive &= !head
        .headers
        .iter()
        .any(|(n, v)| n == "connection" && has_token(v, "close"));
    head.framing = framing(&head)?;
    let has = |name: &str| head.headers.iter().any(|(n, _)| n == name);
    // HTTP/1.0 has no chunked coding (RFC 9112 §6.1): its body runs to the close. A
    // message with both Transfer-Encoding and Content-Length may be a smuggling attempt
    // (§6.3): read as chunked, and the connection not used again.
    if minor == 0 && has("transfer-encoding") {
        head.framing = Framing::UntilClose;
    }
    if head.framing == Framing::UntilClose || (has("transfer-encoding") && has("content-length")) {
        head.keep_alive = false;
    }
    let taken = end
        + if buf[end..].starts_with(b"\r\n") {
            2
        } else {
            1
        };
    Ok(Some((head, taken)))
}

/// Where the empty line that ends a head starts (after the LF of the last header line).
fn head_end(buf: &[u8]) -> Option<usize> {
    let limit = buf.len().min(MAX_HEAD + 2);
    let mut at = 0;
    while let Some(lf) = buf[at..limit].iter().position(|&b| b == b'\n') {
        let next = at + lf + 1;
        match buf.get(next..next + 2) {
            Some([b'\r', b'\n']) => return Some(next),
            Some([b'\n', _]) => return Some(next),
            None if buf.get(next) == Some(&b'\n') => return Some(next),
            _ => at = next,
        }
    }
    None
}

fn has_token(list: &str, token: &str) -> bool {
    list.split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn framing(head: &Head) -> Result<Framing, Error> {
    if head.status < 200 || head.status == 204 || head.status == 304 {
        return Ok(Framing::Empty);
    }
    let mut codings = head
        .headers
        .iter()
        .filter(|(n, _)| n == "transfer-encoding")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .peekable();
    if codings.peek().is_some() {
        // Only the last coding decides where the body ends (§6.3, item 4).
        return Ok(match codings.last() {
            Some(c) if c.eq_ignore_ascii_case("chunked") => Framing::Chunked,
            _ => Framing::UntilClose,
        });
    }
    let mut length = None;
    for (_, value) in head.headers.iter().filter(|(n, _)| n == "content-length") {
        for part in value.split(',') {
            let part = part.trim();
            let n = part
                .parse::<u64>()
                .ok()
                .filter(|_| part.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(Error::Protocol("an invalid Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(Error::Protocol("conflicting Content-Length values"));
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::UntilClose, Framing::Length))
}

/// Decodes a chunked body (RFC 9112 §7.1): feed it received bytes, get body bytes.
///
/// ```text
///   Size ──LF──► Data(n) ──n bytes──► DataEnd ──LF──► Size
///    │ size 0
///    └──LF──► Trailer ──empty line──► Done
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunked {
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk-size line: the value so far, its digits, whether an extension began,
    /// and the line's length.
    Size {
        value: u64,
        digits: u8,
        ext: bool,
        len: u32,
    },
    /// A CR ended a chunk-size line (without extensions): only its LF may follow.
    SizeCr {
        value: u64,
    },
    Data(u64),
    /// After a chunk's data: its CRLF (`cr`: the CR was seen).
    DataEnd {
        cr: bool,
    },
    /// The trailer section: whether the current line is still empty, bytes read.
    Trailer {
        empty: bool,
        len: u32,
    },
    Done,
}

const SIZE_START: State = State::Size {
    value: 0,
    digits: 0,
    ext: false,
    len: 0,
};

impl Default for Chunked {
    fn default() -> Chunked {
        Chunked { state: SIZE_START }
    }
}

impl Chunked {
    /// Whether the last chunk and the trailers were read.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes from `input` into `out`; returns the bytes of `input` used and of `out`
    /// filled. Stops at the end of the body, when `out` is full, or when `input` runs out.
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), Error> {
        let (mut used, mut filled) = (0, 0);
        while used < input.len() {
            let b = input[used];
            self.state = match self.state {
                State::Done => break,
                State::Data(left) => {
                    let n =
                        (left.min((input.len() - used) as u64) as usize).min(out.len() - filled);
                    if n == 0 {
                        break;
                    }
                    out[filled..filled + n].copy_from_slice(&input[used..used + n]);
                    used += n;
                    filled += n;
                    self.state = match left - n as u64 {
                        0 => State::DataEnd { cr: false },
                        left => State::Data(left),
                    };
                    continue;
                }
                State::Size {
                    value,
                    digits,
                    ext,
                    len,
                } => {
                    if len >= MAX_CHUNK_LINE {
                        return Err(Error::Protocol("a chunk-size line over 4 kB"));
                    }
                    let len = len + 1;
                    match b {
                        b'\n' if digits == 0 => {
                            return Err(Error::Protocol("a chunk without a size"));
                        }
                        b'\n' if value == 0 => State::Trailer {
                            empty: true,
                            len: 0,
                        },
                        b'\n' => State::Data(value),
                        _ if ext => State::Size {
                            value,
                            digits,
                            ext,
                            len,
                        },
                        b'\r' if digits > 0 => State::SizeCr { value },
                        b';' | b' ' | b'\t' if digits > 0 => State::Size {
                            value,
                            digits,
                            ext: true,
                            len,
                        },
                        _ => {
                            let digit = (b as char)
                                .to_digit(16)
                                .ok_or(Error::Protocol("a malformed chunk size"))?;
                            if digits == 15 {
                                return Err(Error::Protocol("a chunk size over 2^60 bytes"));
                            }
                            State::Size {
                                value: value << 4 | u64::from(digit),
                                digits: digits + 1,
                                ext,
                                len,
                            }
                        }
                    }
                }
                State::SizeCr { value } => match b {
                    b'\n' if value == 0 => State::Trailer {
                        empty: true,
                        len: 0,
                    },
                    b'\n' => State::Data(value),
                    _ => return Err(Error::Protocol("a malformed chunk size")),
                },
                State::DataEnd { cr } => match b {
                    b'\r' if !cr => State::DataEnd { cr: true },
                    b'\n' => SIZE_START,
                    _ => return Err(Error::Protocol("chunk data longer than its size")),
                },
                State::Trailer { empty, len } => {
                    if len >= MAX_TRAILERS {
                        return Err(Error::Protocol("trailers over 16 kB"));
                    }
                    match b {
                        b'\n' if empty => State::Done,
                        b'\n' => State::Trailer {
                            empty: true,
                            len: len + 1,
                        },
                        b'\r' => State::Trailer {
                            empty,
                            len: len + 1,
                        },
                        _ => State::Trailer {
                            empty: false,
                            len: len + 1,
                        },
                    }
                }
            };
            used += 1;
        }
        Ok((used, filled))
    }
}

/// A server's wait hint from its headers: `retry-after-ms` (milliseconds, Anthropic's)
/// before `retry-after` (seconds; an HTTP date is not understood and ignored). Shared by
/// the Claude client and the OTLP exporters.
pub(crate) fn retry_after(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
) -> Option<Duration> {
    let parse = |v: Option<&str>, scale: f64| {
        crate::decimal::parse(v?.trim())
            .filter(|x| x.is_finite() && *x >= 0.0)
            // A day at most: `from_secs_f64` panics past `Duration::MAX` (`1e300`), and
            // a longer wait is refused as too long anyway.
            .map(|x| Duration::from_secs_f64((x / scale).min(86_400.0)))
    };
    parse(retry_after_ms, 1000.0).or_else(|| parse(retry_after, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retry_after_headers() {
        let cases: &[(Option<&str>, Option<&str>, Option<Duration>)] = &[
            (None, Some("1"), Some(Duration::from_secs(1))),
            (None, Some(" 2.5 "), Some(Duration::from_millis(2500))),
            (Some("150"), Some("9"), Some(Duration::from_millis(150))),
            (Some("x"), Some("3"), Some(Duration::from_secs(3))),
            (None, Some("Wed, 21 Oct 2026 07:28:00 GMT"), None),
            (None, Some("-1"), None),
            (None, None, None),
            (Some("1e300"), None, Some(Duration::from_secs(86_400))),
            (
                None,
                Some("18446744073709551616"),
                Some(Duration::from_secs(86_400)),
            ),
        ];
        for (ms, secs, want) in cases {
            assert_eq!(retry_after(*ms, *secs), *want, "{ms:?} {secs:?}");
        }
    }

    fn head(text: &str) -> Result<Option<(Head, usize)>, Error> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn request_heads_are_written_whole() {
        let url = Url::parse("http://127.0.0.1:4318/v1/traces").expect("url");
        let mut out = Vec::new();
        write_head(
            &mut out,
            "POST",
            &url,
            "tfo/1",
            &[("content-type", "application/x-protobuf"), ("x-k", "a\tb")],
            Some(1234),
            None,
        )
        .expect("valid head");
        assert_eq!(
            String::from_utf8(out).expect("text"),
            "POST /v1/traces HTTP/1.1\r\nhost: 127.0.0.1:4318\r\nuser-agent: tfo/1\r\n\
             content-type: application/x-protobuf\r\nx-k: a\tb\r\ncontent-length: 1234\r\n\r\n"
        );
        let url = Url::parse("https://[::1]?limit=1").expect("url");
        let mut out = Vec::new();
        write_head(&mut out, "GET", &url, "u", &[], None, None).expect("valid head");
        assert_eq!(
            out, b"GET /?limit=1 HTTP/1.1\r\nhost: [::1]\r\nuser-agent: u\r\n\r\n",
            "a target without a path gets '/', a GET no Content-Length"
        );
        let url = Url::parse("http://collector:4318/v1/traces").expect("url");
        let mut out = Vec::new();
        write_head(
            &mut out,
            "POST",
            &url,
            "u",
            &[],
            Some(0),
            Some(Some("Basic eA==")),
        )
        .expect("valid head");
        assert_eq!(
            String::from_utf8(out).expect("text"),
            "POST http://collector:4318/v1/traces HTTP/1.1\r\nhost: collector:4318\r\n\
             user-agent: u\r\nproxy-authorization: Basic eA==\r\ncontent-length: 0\r\n\r\n",
            "to an http proxy: the absolute URL and the proxy's credentials"
        );
    }

    #[test]
    fn header_injection_is_refused_without_quoting_the_value() {
        let url = Url::parse("http://h/").expect("url");
        for (name, value) in [
            ("x-api-key", "sk-secret\r\nx-evil: 1"),
            ("x-api-key", "sk-secret\n"),
            ("bad name", "v"),
            ("", "v"),
            ("x:y", "v"),
        ] {
            let error = write_head(
                &mut Vec::new(),
                "GET",
                &url,
                "u",
                &[(name, value)],
                None,
                None,
            )
            .expect_err("refused");
            assert_eq!(error, Error::Header(name.to_string()), "{name:?}");
            assert!(!error.to_string().contains("secret"), "the value stays out");
        }
    }

    #[test]
    fn response_heads_give_status_headers_and_framing() {
        let (h, used) = head(
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length:  5 \r\n\r\nhello",
        )
        .expect("valid")
        .expect("complete");
        assert_eq!(used, 78, "the body starts after the empty line");
        assert_eq!(h.status, 200);
        assert_eq!(h.header("content-type"), Some("application/x-protobuf"));
        assert_eq!(
            h.header("Content-Length"),
            Some("5"),
            "names match in any case"
        );
        assert_eq!((h.framing, h.keep_alive), (Framing::Length(5), true));
        let table: &[(&str, Framing, bool)] = &[
            (
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                Framing::Chunked,
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 9\r\n\r\n",
                Framing::Chunked,
                false,
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n",
                Framing::UntilClose,
                false,
            ),
            ("HTTP/1.1 200 OK\r\n\r\n", Framing::UntilClose, false),
            (
                "HTTP/1.1 204 No Content\r\ncontent-length: 7\r\n\r\n",
                Framing::Empty,
                true,
            ),
            ("HTTP/1.1 304 Not Modified\r\n\r\n", Framing::Empty, true),
            ("HTTP/1.1 100 Continue\r\n\r\n", Framing::Empty, true),
            (
                "HTTP/1.1 503 x\r\ncontent-length: 0\r\nconnection: Close\r\n\r\n",
                Framing::Length(0),
                false,
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 3, 3\r\n\r\n",
                Framing::Length(3),
                true,
            ),
            (
                "HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\n",
                Framing::Length(3),
                false,
            ),
            (
                "HTTP/1.1 200\r\ncontent-length: 1\r\n\r\n",
                Framing::Length(1),
                true,
            ),
            (
                "HTTP/1.0 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
                Framing::UntilClose,
                false,
            ),
            (
                "HTTP/1.1 200 OK\ncontent-length: 2\n\n",
                Framing::Length(2),
                true,
            ),
        ];
        for (text, framing, keep_alive) in table {
            let (h, used) = head(text).expect("valid").expect("complete");
            assert_eq!(
                (h.framing, h.keep_alive),
                (*framing, *keep_alive),
                "{text:?}"
            );
            assert_eq!(used, text.len(), "{text:?}: the whole head is used");
        }
    }

    #[test]
    fn incomplete_heads_wait_for_more_and_broken_ones_are_refused() {
        let whole = "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        for cut in 0..whole.len() {
            assert_eq!(head(&whole[..cut]), Ok(None), "cut at {cut}");
        }
        let table: &[(&str, &str)] = &[
            ("HTTP/2 200\r\n\r\n", "not HTTP/1.x"),
            ("SSH-2.0-OpenSSH\r\n\r\n", "status line"),
            ("HTTP/1.1 2000 OK\r\n\r\n", "status code"),
            ("HTTP/1.1 099 OK\r\n\r\n", "status code"),
            ("HTTP/1.1 20 OK\r\n\r\n", "status code"),
            ("HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\n\r\n", "folded"),
            ("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "without a colon"),
            ("HTTP/1.1 200 OK\r\nbad name: 1\r\n\r\n", "header name"),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n",
                "invalid Content-Length",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: +1\r\n\r\n",
                "invalid Content-Length",
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
                "conflicting",
            ),
        ];
        for (text, why) in table {
            match head(text) {
                Err(Error::Protocol(message)) => {
                    assert!(message.contains(why), "{text:?}: {message}")
                }
                other => panic!("{text:?}: expected a protocol error, got {other:?}"),
            }
        }
        assert_eq!(
            parse_head(b"HTTP/1.1 200 OK\r\nx: \xff\r\n\r\n"),
            Err(Error::Protocol("a response head that is not text"))
        );
        let many: String = (0..129).map(|i| format!("x-{i}: v\r\n")).collect();
        assert_eq!(
            head(&format!("HTTP/1.1 200 OK\r\n{many}\r\n")),
            Err(Error::Protocol("more than 128 response headers"))
        );
        let endless = format!("HTTP/1.1 200 OK\r\nx: {}", "a".repeat(MAX_HEAD));
        assert_eq!(
            head(&endless),
            Err(Error::Protocol("a response head over 64 kB")),
            "a head that never ends is cut off"
        );
    }

    /// Decodes `input` fed `step` bytes at a time into an output of `room` bytes a call.
    fn dechunk(input: &[u8], step: usize, room: usize) -> Result<(Vec<u8>, usize), Error> {
        let mut chunked = Chunked::default();
        let (mut body, mut at) = (Vec::new(), 0);
        let mut out = vec![0; room];
        while at < input.len() && !chunked.is_done() {
            let end = (at + step).min(input.len());
            let (used, filled) = chunked.decode(&input[at..end], &mut out)?;
            body.extend_from_slice(&out[..filled]);
            at += used;
            if used == 0 && filled == 0 {
                break;
            }
        }
        Ok((body, at))
    }

    #[test]
    fn chunked_bodies_decode_at_every_split() {
        let input =
            b"5\r\nhello\r\n7;name=\"v\"\r\n, world\r\n1 \r\n!\r\n0\r\nx-trailer: t\r\n\r\nNEXT";
        let body_end = input.len() - 4;
        for step in 1..=input.len() {
            for room in [1, 2, 3, 64] {
                let (body, used) = dechunk(input, step, room).expect("valid");
                assert_eq!(body, b"hello, world!", "step {step} room {room}");
                assert_eq!(
                    used, body_end,
                    "step {step} room {room}: stops at the body's end"
                );
            }
        }
        for (text, body) in [
            ("0\r\n\r\n", ""),
            ("0\n\n", ""),
            ("A\nabcdefghij\n0\n\n", "abcdefghij"),
            ("a\r\nabcdefghij\r\n0\r\n\r\n", "abcdefghij"),
        ] {
            assert_eq!(
                dechunk(text.as_bytes(), 64, 64).map(|(b, _)| b),
                Ok(body.as_bytes().to_vec()),
                "{text:?}"
            );
        }
    }

    /// xorshift64*: a fixed sequence, so that a failure repeats.
    fn rng(seed: u64) -> impl FnMut(usize) -> usize {
        let mut state = seed;
        move |below| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % below.max(1)
        }
    }

    #[test]
    fn random_chunked_bodies_decode_the_same_however_they_are_cut() {
        let mut next = rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..500 {
            // A body of random chunks (with extensions and trailers now and then).
            let mut wire = Vec::new();
            let mut body = Vec::new();
            for _ in 0..next(6) {
                let data: Vec<u8> = (0..1 + next(300)).map(|_| next(256) as u8).collect();
                let ext = if next(4) == 0 { ";x=\"y\"" } else { "" };
                wire.extend_from_slice(format!("{:x}{ext}\r\n", data.len()).as_bytes());
                wire.extend_from_slice(&data);
                wire.extend_from_slice(b"\r\n");
                body.extend_from_slice(&data);
            }
            wire.extend_from_slice(b"0\r\n");
            if next(3) == 0 {
                wire.extend_from_slice(b"x-checksum: 1\r\n");
            }
            wire.extend_from_slice(b"\r\n");
            let step = 1 + next(64);
            let room = 1 + next(512);
            assert_eq!(
                dechunk(&wire, step, room),
                Ok((body, wire.len())),
                "case {case}: step {step}, room {room}"
            );
        }
    }

    #[test]
    fn random_bytes_never_panic_the_parsers() {
        let mut next = rng(0x0123_4567_89ab_cdef);
        let pieces: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\n",
            b"HTTP/1.0 ",
            b"content-length: ",
            b"transfer-encoding: chunked\r\n",
            b"connection: close\r\n",
            b"\r\n",
            b"\n",
            b":",
            b" ",
            b"0",
            b"ff",
            b";",
            b"\xff\xfe",
            b"99999999999999999999",
        ];
        for _ in 0..5000 {
            let mut input = Vec::new();
            for _ in 0..next(12) {
                if next(3) == 0 {
                    input.push(next(256) as u8);
                } else {
                    input.extend_from_slice(pieces[next(pieces.len())]);
                }
            }
            if let Ok(Some((head, used))) = parse_head(&input) {
                assert!(used <= input.len(), "the head is inside the input");
                assert!((100..600).contains(&head.status));
                assert!(head.framing != Framing::UntilClose || !head.keep_alive);
            }
            let whole = Chunked::default().decode(&input, &mut [0; 4096]);
            let mut split = Chunked::default();
            let mut at = 0;
            let mut failed = None;
            while at < input.len() && !split.is_done() {
                let end = (at + 1 + next(7)).min(input.len());
                match split.decode(&input[at..end], &mut [0; 3]) {
                    Ok((0, 0)) => break,
                    Ok((used, _)) => at += used,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            assert_eq!(
                whole.is_err(),
                failed.is_some(),
                "an error is found whether the input comes whole or cut: {input:?}"
            );
        }
    }

    #[test]
    fn broken_chunked_bodies_are_refused() {
        let long_line = format!("1;{}\r\n", "e".repeat(4100));
        let long_trailer = format!("0\r\nx: {}\r\n\r\n", "t".repeat(17000));
        let table: &[(&str, &str)] = &[
            ("\n", "without a size"),
            ("\r\n", "malformed chunk size"),
            ("g\r\n", "malformed chunk size"),
            ("-1\r\n", "malformed chunk size"),
            ("10000000000000000\r\n", "over 2^60"),
            ("3\r\nabcd\r\n", "longer than its size"),
            ("5\rjunk\nhello\r\n", "malformed chunk size"),
            (&long_line, "over 4 kB"),
            (&long_trailer, "trailers over 16 kB"),
        ];
        for (text, why) in table {
            match dechunk(text.as_bytes(), 7, 5) {
                Err(Error::Protocol(message)) => {
                    assert!(message.contains(why), "{text:.20?}: {message}")
                }
                other => panic!("{text:.20?}: expected a protocol error, got {other:?}"),
            }
        }
    }
}
