//! The URLs the crate sends requests to: `http://` or `https://`, a host (a name, an
//! IPv4 address or a bracketed IPv6 address), an optional port, then a path and query.
//! Parsed in place, without allocating. User information is refused: a credential in a
//! URL would be one log line away from leaking, and headers carry credentials instead.

use super::Error;

/// A parsed request URL, borrowing the text it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Url<'a> {
    /// `https`.
    pub(crate) tls: bool,
    /// The host to resolve and to name in TLS, without IPv6 brackets.
    pub(crate) host: &'a str,
    /// The port, the scheme's default when none is written.
    pub(crate) port: u16,
    /// The `Host` header: the authority as written (brackets and port included).
    pub(crate) authority: &'a str,
    /// Path and query as written; the request line adds a leading `/` when it lacks one.
    pub(crate) target: &'a str,
}

impl<'a> Url<'a> {
    /// Splits `text` into its parts, or says which part is unusable.
    pub(crate) fn parse(text: &'a str) -> Result<Url<'a>, Error> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or(Error::Url("no scheme (http:// or https://)"))?;
        let tls = if scheme.eq_ignore_ascii_case("https") {
            true
        } else if scheme.eq_ignore_ascii_case("http") {
            false
        } else {
            return Err(Error::Url("the scheme is neither http nor https"));
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(end);
        let target = target.split('#').next().unwrap_or_default();
        if authority.contains('@') {
            return Err(Error::Url("user information in a URL is not supported"));
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, after) = v6
                    .split_once(']')
                    .ok_or(Error::Url("an IPv6 host without its closing bracket"))?;
                match after {
                    "" => (host, None),
                    _ => (
                        host,
                        Some(
                            after
                                .strip_prefix(':')
                                .ok_or(Error::Url("text between the IPv6 host and the port"))?,
                        ),
                    ),
                }
            }
            None => match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            },
        };
        if host.is_empty() {
            return Err(Error::Url("no host"));
        }
        if host
            .bytes()
            .any(|b| b <= b' ' || b == 0x7f || b"\"<>\\^`{|}[]".contains(&b))
        {
            return Err(Error::Url("the host has characters a host cannot have"));
        }
        let port = match port {
            None | Some("") => {
                if tls {
                    443
                } else {
                    80
                }
            }
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0 && port.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(Error::Url("the port is not a number from 1 to 65535"))?,
        };
        if target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(Error::Url("the path has spaces or control characters"));
        }
        Ok(Url {
            tls,
            host,
            port,
            authority,
            target,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_host_port_and_target() {
        let table: &[(&str, bool, &str, u16, &str, &str)] = &[
            (
                "http://localhost:4318/v1/traces",
                false,
                "localhost",
                4318,
                "localhost:4318",
                "/v1/traces",
            ),
            (
                "https://api.anthropic.com",
                true,
                "api.anthropic.com",
                443,
                "api.anthropic.com",
                "",
            ),
            (
                "HTTPS://Example.com:8443/a/b?c=d#frag",
                true,
                "Example.com",
                8443,
                "Example.com:8443",
                "/a/b?c=d",
            ),
            ("http://10.1.2.3/x", false, "10.1.2.3", 80, "10.1.2.3", "/x"),
            (
                "http://[::1]:4318/v1",
                false,
                "::1",
                4318,
                "[::1]:4318",
                "/v1",
            ),
            ("https://[fe80::1]", true, "fe80::1", 443, "[fe80::1]", ""),
            ("http://h:/p", false, "h", 80, "h:", "/p"),
            ("http://h?q=1", false, "h", 80, "h", "?q=1"),
        ];
        for &(text, tls, host, port, authority, target) in table {
            assert_eq!(
                Url::parse(text),
                Ok(Url {
                    tls,
                    host,
                    port,
                    authority,
                    target
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn unusable_urls_are_refused_with_the_part_at_fault() {
        let table: &[(&str, &str)] = &[
            ("localhost:4318", "no scheme"),
            ("ftp://h/x", "neither http nor https"),
            ("http://user:secret@h/x", "user information"),
            ("http:///x", "no host"),
            ("http://[::1/x", "closing bracket"),
            ("http://[::1]x/", "between the IPv6 host and the port"),
            ("http://h:99999/", "1 to 65535"),
            ("http://h:0/", "1 to 65535"),
            ("http://h:+80/", "1 to 65535"),
            ("http://h o/", "characters a host cannot have"),
            ("http://h/a b", "spaces or control"),
            ("http://h/a\r\nX-Injected: 1", "spaces or control"),
        ];
        for (text, why) in table {
            match Url::parse(text) {
                Err(Error::Url(message)) => assert!(message.contains(why), "{text}: {message}"),
                other => panic!("{text}: expected a URL error, got {other:?}"),
            }
        }
        let secret = Url::parse("http://user:secret@h/").expect_err("refused");
        assert!(
            !secret.to_string().contains("secret"),
            "the error never quotes the URL"
        );
    }
}
