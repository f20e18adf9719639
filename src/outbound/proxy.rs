//! HTTP proxies from the environment, read as curl and Go read them: `https_proxy` /
//! `HTTPS_PROXY` for https URLs, `http_proxy` / `HTTP_PROXY` for http URLs, `all_proxy` /
//! `ALL_PROXY` for either, and `no_proxy` / `NO_PROXY` for the hosts reached directly
//! (comma-separated names or suffixes, IP addresses, `*` for all). Loopback hosts are
//! never proxied (a collector on `localhost`). An https request goes through a `CONNECT`
//! tunnel; an http request is sent to the proxy with its absolute URL. Only `http://`
//! proxies are spoken; credentials in a proxy URL become `Proxy-Authorization: Basic`
//! and appear nowhere else.

use super::url::Url;
use crate::bytes::base64;
use std::net::IpAddr;

/// One proxy: where it is and how to authenticate to it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Proxy {
    pub(crate) host: String,
    pub(crate) port: u16,
    /// `Basic ...` when the proxy URL had credentials (a secret).
    pub(crate) authorization: Option<String>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// The proxies of the environment, read once per agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Proxies {
    /// For https URLs; `Err` says why the configured value cannot be used.
    https: Option<Result<Proxy, &'static str>>,
    /// For http URLs.
    http: Option<Result<Proxy, &'static str>>,
    /// `no_proxy` entries, lower case, without leading dots or ports.
    bypass: Vec<String>,
    /// `no_proxy=*`.
    bypass_all: bool,
}

impl Proxies {
    /// The proxies the process environment names.
    pub(crate) fn from_env() -> Proxies {
        Proxies::from_vars(|name| std::env::var(name).ok())
    }

    /// The proxies named by the variables `get` returns.
    pub(crate) fn from_vars(get: impl Fn(&str) -> Option<String>) -> Proxies {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| get(n).filter(|v| !v.trim().is_empty()))
        };
        let all = first(&["all_proxy", "ALL_PROXY"]);
        let https = first(&["https_proxy", "HTTPS_PROXY"]).or_else(|| all.clone());
        let http = first(&["http_proxy", "HTTP_PROXY"]).or(all);
        let no_proxy = first(&["no_proxy", "NO_PROXY"]).unwrap_or_default();
        let mut bypass = Vec::new();
        let mut bypass_all = false;
        for entry in no_proxy.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                bypass_all = true;
                continue;
            }
            let host = match entry.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or_default(),
                None if entry.matches(':').count() == 1 => {
                    entry.split(':').next().unwrap_or_default()
                }
                None => entry,
            };
            bypass.push(host.trim_start_matches('.').to_ascii_lowercase());
        }
        Proxies {
            https: https.map(|v| parse(&v)),
            http: http.map(|v| parse(&v)),
            bypass,
            bypass_all,
        }
    }

    /// The proxy a request to `url` goes through, if any.
    pub(crate) fn for_url(&self, url: &Url<'_>) -> Option<Result<&Proxy, &'static str>> {
        let proxy = if url.tls { &self.https } else { &self.http };
        let proxy = proxy.as_ref()?;
        if self.bypass_all || is_loopback(url.host) {
            return None;
        }
        let host = url.host.to_ascii_lowercase();
        let bypassed = self.bypass.iter().any(|entry| {
            host == *entry
                || (host.len() > entry.len()
                    && host.ends_with(entry.as_str())
                    && host.as_bytes()[host.len() - entry.len() - 1] == b'.')
        });
        if bypassed {
            return None;
        }
        Some(proxy.as_ref().map_err(|why| *why))
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A proxy URL: `http://[user[:password]@]host[:port]`, the scheme optional.
fn parse(text: &str) -> Result<Proxy, &'static str> {
    let text = text.trim();
    let rest = match text.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some(_) => return Err("only http:// proxies are supported"),
        None => text,
    };
    // Credentials end at the last '@' (a password may hold an unescaped '/'); the
    // host and port end at a path.
    let (credentials, after) = match rest.rsplit_once('@') {
        Some((credentials, after)) => (Some(credentials), after),
        None => (None, rest),
    };
    let hostport = after.split(['/', '?', '#']).next().unwrap_or_default();
    // The proxy is reached as an http URL would be; its default port is 80.
    let url = format!("http://{hostport}");
    let parsed = Url::parse(&url).map_err(|_| "the proxy's host or port cannot be used")?;
    let authorization = match credentials {
        None => None,
        Some(c) => {
            let (user, password) = c.split_once(':').unwrap_or((c, ""));
            let decoded =
                crate::config::percent_decode(user).zip(crate::config::percent_decode(password));
            let (user, password) =
                decoded.ok_or("the proxy's credentials are not valid percent-encoding")?;
            Some(format!(
                "Basic {}",
                base64(format!("{user}:{password}").as_bytes())
            ))
        }
    };
    Ok(Proxy {
        host: parsed.host.to_string(),
        port: parsed.port,
        authorization,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        Proxies::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    fn route<'a>(proxies: &'a Proxies, url: &str) -> Option<Result<&'a Proxy, &'static str>> {
        proxies.for_url(&Url::parse(url).expect("url"))
    }

    #[test]
    fn base64_and_percent_decoding_give_the_rfc_examples() {
        // The crate's encoder (`bytes::base64`), on what credentials need.
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
            ("user:pass", "dXNlcjpwYXNz"),
        ] {
            assert_eq!(base64(input.as_bytes()), want, "{input:?}");
        }
        // The configuration's decoder: a broken escape makes the proxy unusable, said once
        // per request rather than sent as a wrong password.
        assert_eq!(
            crate::config::percent_decode("p%40ss%3Aw").as_deref(),
            Some("p@ss:w")
        );
        assert_eq!(
            route(
                &proxies(&[("https_proxy", "http://me:p%2@proxy:3128")]),
                "https://x.example"
            ),
            Some(Err(
                "the proxy's credentials are not valid percent-encoding"
            ))
        );
    }

    #[test]
    fn each_scheme_takes_its_variable_then_all_proxy() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://secure.proxy:3128"),
            ("http_proxy", "plain.proxy:8080"),
            ("ALL_PROXY", "http://all.proxy"),
        ]);
        let host = |url| route(&p, url).map(|r| r.map(|p| (p.host.clone(), p.port)));
        assert_eq!(
            host("https://api.anthropic.com/v1/messages"),
            Some(Ok(("secure.proxy".into(), 3128)))
        );
        assert_eq!(
            host("http://collector:4318/v1/traces"),
            Some(Ok(("plain.proxy".into(), 8080))),
            "no scheme: an http proxy"
        );
        let only_all = proxies(&[("all_proxy", "http://all.proxy")]);
        assert_eq!(
            route(&only_all, "https://x.example").map(|r| r.map(|p| p.port)),
            Some(Ok(80)),
            "all_proxy for either scheme, port 80 by default"
        );
        assert_eq!(route(&proxies(&[]), "https://x.example"), None);
        assert_eq!(
            route(
                &proxies(&[("https_proxy", "socks5://s:1080")]),
                "https://x.example"
            ),
            Some(Err("only http:// proxies are supported"))
        );
    }

    #[test]
    fn no_proxy_and_loopback_hosts_go_direct() {
        let p = proxies(&[
            ("https_proxy", "http://proxy:3128"),
            ("http_proxy", "http://proxy:3128"),
            (
                "NO_PROXY",
                " .internal.example, collector:4318,10.0.0.7,[fd00::1]",
            ),
        ]);
        for (url, direct) in [
            ("https://api.anthropic.com", false),
            ("https://otel.internal.example", true),
            ("https://internal.example", true),
            ("https://notinternal.example", false),
            ("http://COLLECTOR:4318/v1/traces", true),
            ("http://10.0.0.7/v1", true),
            ("http://10.0.0.8/v1", false),
            ("http://[fd00::1]:4318", true),
            ("http://localhost:4318", true),
            ("http://127.0.0.1:4318", true),
            ("http://[::1]:4318", true),
        ] {
            assert_eq!(route(&p, url).is_none(), direct, "{url}");
        }
        let none = proxies(&[("https_proxy", "http://proxy:3128"), ("no_proxy", "*")]);
        assert_eq!(
            route(&none, "https://api.anthropic.com"),
            None,
            "no_proxy=*"
        );
    }

    #[test]
    fn credentials_become_basic_authorization_and_are_never_shown() {
        let slash = proxies(&[("https_proxy", "http://u:pa/ss@proxy:3128")]);
        let proxy = route(&slash, "https://x.example")
            .expect("proxied")
            .expect("usable");
        assert_eq!(
            (proxy.host.as_str(), proxy.port),
            ("proxy", 3128),
            "a '/' in a password"
        );
        assert_eq!(
            proxy.authorization.as_deref(),
            Some(format!("Basic {}", base64(b"u:pa/ss")).as_str())
        );
        let p = proxies(&[("https_proxy", "http://me:s%40cret@proxy:3128/")]);
        let proxy = route(&p, "https://api.anthropic.com")
            .expect("proxied")
            .expect("usable");
        assert_eq!(
            proxy.authorization.as_deref(),
            Some(format!("Basic {}", base64(b"me:s@cret")).as_str())
        );
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("cret") && !shown.contains(&base64(b"me:s@cret")),
            "{shown}"
        );
    }
}
