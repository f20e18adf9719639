//! Host resolution for the OTLP agents. ureq resolves the host before every request,
//! pooled connection or not, and its default resolver bounds the lookup by the request
//! timeout by doing it on a new thread: a thread created and joined per export (a
//! 2 MB stack mapped and unmapped, two context switches), even for `127.0.0.1`. Here an
//! IP address is used as it is, and a name is looked up (by ureq's resolver, thread
//! and timeout included) at most once a minute.

use std::net::SocketAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a looked-up name's addresses are used before it is looked up again
/// (a collector behind a DNS name may move).
const TTL: Duration = Duration::from_secs(60);

/// Resolves IP literals in place and caches the last looked-up name.
#[derive(Debug, Default)]
pub(crate) struct CachingResolver {
    /// `host:port`, its addresses, and when they were looked up.
    last: Mutex<Option<(String, ResolvedSocketAddrs, Instant)>>,
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host_port = uri
            .scheme()
            .zip(uri.authority())
            .and_then(|(scheme, authority)| DefaultResolver::host_and_port(scheme, authority));
        let Some(host_port) = host_port else {
            // Not a full URL: ureq's resolver says precisely what is wrong.
            return DefaultResolver::default().resolve(uri, config, timeout);
        };
        if let Ok(addr) = host_port.parse::<SocketAddr>() {
            let mut addrs = self.empty();
            addrs.push(addr);
            return Ok(addrs);
        }
        let cached = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((name, addrs, at)) = &*cached
            && *name == host_port
            && at.elapsed() < TTL
        {
            return Ok(addrs.clone());
        }
        drop(cached);
        let addrs = DefaultResolver::default().resolve(uri, config, timeout)?;
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((host_port, addrs.clone(), Instant::now()));
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::unversioned::transport::time::Duration as UreqDuration;

    fn resolve(resolver: &CachingResolver, url: &str) -> Vec<SocketAddr> {
        let uri: Uri = url.parse().expect("valid URL");
        let timeout = NextTimeout {
            after: UreqDuration::from_secs(5),
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        };
        let addrs = resolver
            .resolve(&uri, &Config::default(), timeout)
            .expect("resolves");
        addrs.iter().copied().collect()
    }

    #[test]
    fn ip_literals_resolve_in_place_and_names_are_cached() {
        let resolver = CachingResolver::default();
        let table: &[(&str, &str)] = &[
            ("http://127.0.0.1:4318/v1/traces", "127.0.0.1:4318"),
            ("http://[::1]:4318/v1/traces", "[::1]:4318"),
            ("http://10.1.2.3/v1/traces", "10.1.2.3:80"),
        ];
        for (url, addr) in table {
            assert_eq!(
                resolve(&resolver, url),
                [addr.parse::<SocketAddr>().expect("address")],
                "{url}"
            );
        }
        assert!(
            resolver.last.lock().expect("lock").is_none(),
            "no lookup for IP literals"
        );
        let first = resolve(&resolver, "http://localhost:4318/v1/traces");
        assert!(!first.is_empty(), "localhost resolves");
        assert_eq!(
            resolver
                .last
                .lock()
                .expect("lock")
                .as_ref()
                .map(|l| l.0.as_str()),
            Some("localhost:4318"),
            "a looked-up name is remembered"
        );
        assert_eq!(
            resolve(&resolver, "http://localhost:4318/other"),
            first,
            "the same host and port answer from the cache"
        );
    }
}
