//! Parsers and printers of configuration values: booleans, numbers in a range, URLs, names
//! from a table, and the OpenTelemetry `k=v,k=v` lists with percent-encoded values. A
//! parser refuses with `Bad`; the key's `allowed` text says why.

use super::Secret;
use std::time::Duration;

use super::REDACTED;

/// A value its key does not allow; `Key::allowed` says why.
#[derive(Debug)]
pub(super) struct Bad;

pub(super) fn boolean(v: &str) -> Result<bool, Bad> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Bad),
    }
}

pub(super) fn text(v: &str) -> Result<String, Bad> {
    if v.is_empty() {
        Err(Bad)
    } else {
        Ok(v.to_string())
    }
}

pub(super) fn rate(v: &str) -> Result<f64, Bad> {
    crate::decimal::parse(v)
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or(Bad)
}

pub(super) fn integer(v: &str, min: u64, max: u64) -> Result<u64, Bad> {
    v.parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or(Bad)
}

pub(super) fn size(v: &str, min: u64, max: u64) -> Result<usize, Bad> {
    usize::try_from(integer(v, min, max)?).map_err(|_| Bad)
}

pub(super) fn millis(v: &str, min: u64) -> Result<Duration, Bad> {
    integer(v, min, 600_000).map(Duration::from_millis)
}

pub(super) fn url(v: &str) -> Result<&str, Bad> {
    let lower = v.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"))
        .ok_or(Bad)?;
    let host_missing = rest.is_empty() || rest.starts_with(['/', '?', '#']);
    if host_missing || v.contains(char::is_whitespace) {
        Err(Bad)
    } else {
        Ok(v)
    }
}

pub(super) fn choice<T: Copy>(v: &str, table: &[(&str, T)]) -> Result<T, Bad> {
    table
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(v))
        .map(|&(_, value)| value)
        .ok_or(Bad)
}

/// The first (canonical) name of `value` in `table`.
pub(super) fn name_of<T: PartialEq>(value: T, table: &[(&'static str, T)]) -> &'static str {
    table
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("", |(name, _)| name)
}

/// `k=v,k=v` with whitespace around items, keys and values trimmed and empty items skipped
/// (the OpenTelemetry format of `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS`).
fn split_pairs(v: &str) -> Result<Vec<(&str, &str)>, Bad> {
    v.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v.trim())),
            _ => Err(Bad),
        })
        .collect()
}

/// Pairs with percent-decoded values.
pub(super) fn pairs(v: &str) -> Result<Vec<(String, String)>, Bad> {
    split_pairs(v)?
        .into_iter()
        .map(|(k, v)| Ok((k.to_string(), percent_decode(v)?)))
        .collect()
}

/// Pairs whose names are HTTP tokens and whose values hold no control characters but tab,
/// so a header cannot smuggle a line break into the request (RFC 9110, section 5).
pub(super) fn headers(v: &str) -> Result<Vec<(String, String)>, Bad> {
    let pairs = pairs(v)?;
    let token = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    let clean = |s: &str| !s.chars().any(|c| c.is_control() && c != '\t');
    if pairs.iter().all(|(k, v)| token(k) && clean(v)) {
        Ok(pairs)
    } else {
        Err(Bad)
    }
}

pub(super) fn operation_rates(v: &str) -> Result<Vec<(String, f64)>, Bad> {
    split_pairs(v)?
        .into_iter()
        .map(|(op, r)| Ok((op.to_string(), rate(r)?)))
        .collect()
}

/// Keeps the first position of each key and the last value, so a lookup finds what the
/// user wrote last.
pub(super) fn later_wins<T>(pairs: Vec<(String, T)>) -> Vec<(String, T)> {
    let mut out: Vec<(String, T)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    out
}

pub(super) fn percent_decode(v: &str) -> Result<String, Bad> {
    String::from_utf8(crate::bytes::percent_decode(v).ok_or(Bad)?).map_err(|_| Bad)
}

/// Encodes what `split_pairs` or trimming would change (W3C Baggage value octets).
fn percent_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_graphic() && !b"%,;=\"\\".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(super) fn show_pairs(pairs: &[(String, String)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    items.join(",")
}

/// Pairs whose values are secrets: `name=[REDACTED]`.
pub(super) fn show_secret_pairs(pairs: &[(String, Secret)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(k, _)| format!("{k}={REDACTED}"))
        .collect();
    items.join(",")
}

pub(super) fn show_ms(d: Duration) -> String {
    d.as_millis().to_string()
}

/// The port of an `http(s)://` URL, if written.
pub(super) fn url_port(url: &str) -> Option<u16> {
    let (_, port) = url_host_port(url)?.rsplit_once(':')?;
    port.parse().ok()
}

/// `host[:port]` of a URL: its authority without user info.
pub(super) fn url_host_port(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(authority.rsplit_once('@').map_or(authority, |(_, h)| h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load::edit_distance;
    use crate::config::template::wrap;
    use crate::config::testing::{load, owned, value};

    #[test]
    fn lists_parse_percent_decode_and_print_back() {
        let config = load(
            "",
            &[
                (
                    "OTEL_RESOURCE_ATTRIBUTES",
                    " service.namespace=tools, team=a%2Cb ,x=%E2%9C%93,y=1,x=last,,",
                ),
                (
                    "TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES",
                    "tools/call=0.5, ping=0,ping=0.25",
                ),
                (
                    "TELEMETRYFLOW_MCP_OTLP_HEADERS",
                    "authorization=Bearer%20abc,x-tenant=t1",
                ),
            ],
            &[],
        )
        .expect("valid lists");
        let t = &config.telemetry;
        assert_eq!(
            t.resource_attributes,
            owned(&[
                ("service.namespace", "tools"),
                ("team", "a,b"),
                ("x", "last"),
                ("y", "1")
            ]),
            "decoded, later duplicate wins in the first position"
        );
        assert_eq!(
            t.tracing.operation_rates,
            vec![("tools/call".to_string(), 0.5), ("ping".to_string(), 0.25)]
        );
        let headers: Vec<(String, String)> = t
            .tracing
            .otlp_headers
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().to_string()))
            .collect();
        assert_eq!(
            headers,
            owned(&[("authorization", "Bearer abc"), ("x-tenant", "t1")])
        );
        let debug = format!("{config:?}");
        assert!(
            debug.contains("authorization") && !debug.contains("Bearer abc"),
            "the configuration's Debug names the headers and hides their values"
        );
        let otlp = crate::telemetry::export::Otlp::new(&config, "http://127.0.0.1:9".into());
        let debug = format!("{otlp:?}");
        assert!(
            debug.contains("authorization") && !debug.contains("Bearer abc"),
            "so does the exporter's: {debug}"
        );
        let attributes = value(&config, "OTEL_RESOURCE_ATTRIBUTES");
        assert_eq!(attributes, "service.namespace=tools,team=a%2Cb,x=last,y=1");
        assert_eq!(
            value(&config, "TELEMETRYFLOW_MCP_TRACING_OPERATION_RATES"),
            "tools/call=0.5,ping=0.25"
        );

        let tricky = owned(&[
            ("a", "x y"),
            ("b", "50%"),
            ("c", "k=v,w"),
            ("d", "\u{e9}"),
            ("e", " "),
        ]);
        let shown = show_pairs(&tricky);
        assert_eq!(shown, "a=x%20y,b=50%25,c=k%3Dv%2Cw,d=%C3%A9,e=%20");
        assert_eq!(
            pairs(&shown).ok(),
            Some(tricky),
            "what effective() prints loads back unchanged"
        );
    }

    #[test]
    fn helpers_at_their_edges() {
        for (a, b, distance) in [
            ("", "", 0),
            ("abc", "abc", 0),
            ("kitten", "sitting", 3),
            ("", "abc", 3),
            ("abc", "", 3),
            ("flaw", "lawn", 2),
        ] {
            assert_eq!(edit_distance(a, b), distance, "{a} -> {b}");
        }
        for (url, port) in [
            ("http://h:4317", Some(4317)),
            ("http://h:4317/", Some(4317)),
            ("https://u:p@h:4318/x?y=1", Some(4318)),
            ("http://[::1]:4317", Some(4317)),
            ("http://[::1]", None),
            ("http://h", None),
            ("http://h/a:4317", None),
        ] {
            assert_eq!(url_port(url), port, "{url}");
        }
        for (encoded, decoded) in [
            ("", Some("")),
            ("a%20b", Some("a b")),
            ("%e2%9C%93", Some("\u{2713}")),
            ("%", None),
            ("%2", None),
            ("%ff", None),
            ("a+b", Some("a+b")),
        ] {
            assert_eq!(
                percent_decode(encoded).ok().as_deref(),
                decoded,
                "{encoded}"
            );
        }
        assert_eq!(wrap("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
    }
}
