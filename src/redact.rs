//! Redaction of secrets wherever a value leaves the process (log records, client
//! log notifications, span error messages, quoted client text, `validate`):
//! values under secret-looking keys, at any depth, become `[REDACTED]`, and
//! secret-looking text inside strings (`sk-ant-...` keys, `Bearer ...`
//! credentials, `password=...` pairs) is cut out.

use serde_json::Value;
use std::borrow::Cow;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Key words that make a key secret (issue 5: api_key, apikey, x-api-key,
/// authorization, password, secret, token, cookie).
const SECRET_WORDS: [&str; 9] = [
    "apikey",
    "authorization",
    "password",
    "passwd",
    "pwd",
    "secret",
    "cookie",
    "cookies",
    "credentials",
];

/// Whether values under `key` are secrets. The key is split into words (at `_`,
/// `-`, `.`, spaces and lower-to-upper case changes): it is secret when a word is
/// one of the secret words, `api` or `private` is followed by `key`, or the last
/// word is `token`. So `x-api-key`, `apiKey`, `access_token`, `Set-Cookie` are secret,
/// while `token_count`, `max_tokens` and `input_tokens` are not.
pub fn is_secret_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    let mut previous: &[u8] = b"";
    let mut start = 0;
    for i in 0..=bytes.len() {
        // A `match` rather than a lookup in a separator list: this runs for every
        // field of every log record and every key of the start record.
        let separator = match bytes.get(i) {
            None => false,
            Some(b'_' | b'-' | b'.' | b' ' | b':' | b'/') => true,
            Some(b) if b.is_ascii_uppercase() && i > start => {
                let before = bytes[i - 1];
                if !(before.is_ascii_lowercase() || before.is_ascii_digit()) {
                    continue;
                }
                false
            }
            Some(_) => continue,
        };
        let word = &bytes[start..i];
        start = if separator { i + 1 } else { i };
        if word.is_empty() {
            continue;
        }
        if is_secret_word(word)
            || ((previous.eq_ignore_ascii_case(b"api")
                || previous.eq_ignore_ascii_case(b"private"))
                && word.eq_ignore_ascii_case(b"key"))
        {
            return true;
        }
        previous = word;
    }
    previous.eq_ignore_ascii_case(b"token")
}

/// Whether `word` is one of [`SECRET_WORDS`], ignoring case; most words are not of
/// any of their lengths or do not start with any of their letters, and are turned
/// away without a comparison.
fn is_secret_word(word: &[u8]) -> bool {
    matches!(word.len(), 3 | 6 | 7 | 8 | 11 | 13)
        && matches!(word[0].to_ascii_lowercase(), b'a' | b'c' | b'p' | b's')
        && SECRET_WORDS
            .iter()
            .any(|w| w.len() == word.len() && word.eq_ignore_ascii_case(w.as_bytes()))
}

/// Redacts `value` in place: values under secret keys become `[REDACTED]` and
/// strings lose secret-looking text, in objects and arrays at any depth.
pub fn redact_value(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if is_secret_key(key) && !item.is_null() {
                    *item = Value::String(REDACTED.to_string());
                } else {
                    redact_value(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::String(s) => {
            if let Cow::Owned(clean) = redact_text(s) {
                *s = clean;
            }
        }
        _ => {}
    }
}

/// `text` without secret-looking parts: Anthropic keys (`sk-ant-...`) and other
/// `sk-` keys of 20 characters or more, the credential after `Bearer ` or `Basic `,
/// and the value of `key=value` / `"key": "value"` pairs whose key is secret.
/// Borrows when nothing was found (the common case allocates nothing).
///
/// Text with `%XX` escapes (a URI, a path a client percent-encoded) is also looked at
/// decoded, again and again up to [`DECODE_LEVELS`] times (`%253D` is `=` encoded
/// twice). Each look is at the text itself, decoded once more, so that a cut made
/// through an escape (a credential ends at a `%`) cannot hide what follows; the cuts
/// made so far are carried into it. When a look finds a secret the earlier ones did
/// not, the text is shown as that look saw it, with every cut. A text whose escapes
/// still decode after the last look is shown as `[REDACTED]` whole.
pub fn redact_text(text: &str) -> Cow<'_, str> {
    let (plain, mut escaped) = find_cuts(text);
    if !escaped {
        // Nearly every text (each record's strings): nothing to decode.
        return apply_plain(text, plain);
    }
    let mut cuts = plain.clone();
    let mut level = Cow::Borrowed(text);
    // The deepest look that found something new, and every cut up to it.
    let mut shown: Option<(String, Vec<(usize, usize)>)> = None;
    for depth in 0..=DECODE_LEVELS {
        if !escaped {
            break;
        }
        // The position map only when there are cuts to carry: it takes 16 bytes a byte.
        let Some((decoded, map)) = decode_mapped(&level, !cuts.is_empty()) else {
            break;
        };
        if depth == DECODE_LEVELS {
            // Owned: a caller takes a borrowed answer for the text unchanged.
            return Cow::Owned(REDACTED.to_string());
        }
        // Where the cuts so far fall in the decoded text, widened to whole characters.
        let mut carried: Vec<(usize, usize)> = cuts
            .iter()
            .map(|&(start, end)| {
                (
                    decoded.floor_char_boundary(map[start]),
                    decoded.ceil_char_boundary(map[end]),
                )
            })
            .collect();
        let (found, more) = find_cuts(&decoded);
        // New: not within a cut already made (the same secret found again).
        let made = merged(carried.clone());
        let new = found.iter().any(|&(start, end)| {
            let at = made.partition_point(|&(from, _)| from <= start);
            at == 0 || made[at - 1].1 < end
        });
        carried.extend(found);
        if new {
            shown = Some((decoded.clone(), carried.clone()));
        }
        cuts = carried;
        level = Cow::Owned(decoded);
        escaped = more;
    }
    match shown {
        Some((decoded, cuts)) => Cow::Owned(apply_cuts(&decoded, cuts)),
        // Only the look at the text itself can have found something.
        None => apply_plain(text, plain),
    }
}

/// `text` with `cuts` applied, borrowed when there are none.
fn apply_plain(text: &str, cuts: Vec<(usize, usize)>) -> Cow<'_, str> {
    if cuts.is_empty() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(apply_cuts(text, cuts))
    }
}

/// How many times [`redact_text`] decodes escapes to look behind them.
const DECODE_LEVELS: usize = 4;

/// `text` with its escapes decoded once (leniently: a stray `%` stays; bytes that
/// are not UTF-8 become U+FFFD), and with `map`, for each byte of `text` and its
/// end, where it lands in the result (else no positions); `None` when no escape
/// decodes.
fn decode_mapped(text: &str, map: bool) -> Option<(String, Vec<usize>)> {
    let mut at = Vec::new();
    let raw = crate::bytes::percent_decode_lenient(text, map.then_some(&mut at));
    if raw.len() == text.len() {
        return None;
    }
    if !map {
        return Some((String::from_utf8_lossy(&raw).into_owned(), Vec::new()));
    }
    // Bytes that are not UTF-8 become U+FFFD, as `String::from_utf8_lossy` writes it.
    let mut out = String::with_capacity(raw.len());
    let mut to = Vec::with_capacity(raw.len() + 1);
    for chunk in raw.utf8_chunks() {
        let base = out.len();
        to.extend((0..chunk.valid().len()).map(|k| base + k));
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            to.extend(std::iter::repeat_n(out.len(), chunk.invalid().len()));
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
    to.push(out.len());
    Some((out, at.into_iter().map(|r| to[r]).collect()))
}

/// `cuts` sorted, those that overlap or touch made one.
fn merged(mut cuts: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    cuts.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(cuts.len());
    for (start, end) in cuts {
        match out.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// `text` with each cut replaced by [`REDACTED`]; cuts that overlap or touch are one.
fn apply_cuts(text: &str, cuts: Vec<(usize, usize)>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (start, end) in merged(cuts) {
        out.push_str(&text[pos..start]);
        out.push_str(REDACTED);
        pos = end;
    }
    out.push_str(&text[pos..]);
    out
}

/// The byte ranges of `text` that [`redact_text`] cuts, without the look at decoded
/// escapes; also whether `text` has a `%`.
fn find_cuts(text: &str) -> (Vec<(usize, usize)>, bool) {
    let bytes = text.as_bytes();
    // Each pattern needs one of these bytes: one pass decides which searches can match
    // (and whether the text has escapes to look behind).
    let (mut dash, mut space, mut pair, mut escaped) = (false, false, false, false);
    for b in bytes {
        match b {
            b'-' => dash = true,
            b' ' => space = true,
            b':' | b'=' => pair = true,
            b'%' => escaped = true,
            _ => {}
        }
    }
    let mut cuts: Vec<(usize, usize)> = Vec::new();
    if !(dash || space || pair) {
        return (cuts, escaped);
    }
    // `sk-...` keys.
    let mut from = 0;
    while let Some(at) = dash.then(|| find_ci(bytes, b"sk-", from)).flatten() {
        let end = token_end(bytes, at + 3, is_key_char);
        let boundary = at == 0 || !is_key_char(bytes[at - 1]);
        let anthropic =
            bytes[at + 3..].len() >= 4 && bytes[at + 3..at + 7].eq_ignore_ascii_case(b"ant-");
        // An Anthropic key glued to what comes before it (`x_sk-ant-…`, `%20sk-ant-…`)
        // is still one when it is long: real keys are about 100 characters.
        if (boundary && (anthropic || end - at >= 23)) || (anthropic && end - at >= 27) {
            cuts.push((at, end));
        }
        from = end.max(at + 3);
    }
    // `Bearer xyz`, `Basic xyz`. A credential can swallow another scheme and its
    // credential (`Bearer user=Bearer xyz`): as for pairs below, the search goes on
    // inside the first credentials, then behind each.
    let mut looks_inside = 16usize;
    for scheme in [&b"bearer"[..], b"basic"] {
        let mut from = 0;
        while let Some(at) = space.then(|| find_ci(bytes, scheme, from)).flatten() {
            from = at + scheme.len();
            if let Some(range) = credential(bytes, at, scheme.len()) {
                if looks_inside > 0 {
                    looks_inside -= 1;
                } else {
                    from = range.1;
                }
                cuts.push(range);
            }
        }
    }
    // `scheme://user:password@host`: the password.
    let mut from = 0;
    while let Some(at) = pair.then(|| find_ci(bytes, b"://", from)).flatten() {
        from = at + 3;
        let authority = token_end(bytes, from, |b| !b"/?# \"'".contains(&b));
        if let Some(userinfo) = bytes[from..authority].iter().rposition(|b| *b == b'@') {
            match bytes[from..from + userinfo].iter().position(|b| *b == b':') {
                Some(colon) if colon + 1 < userinfo => {
                    cuts.push((from + colon + 1, from + userinfo));
                }
                // A user name alone that is as long as a token is one
                // (`https://ghp_…@github.com`).
                None if userinfo >= 16 => cuts.push((from, from + userinfo)),
                _ => {}
            }
        }
        from = authority;
    }
    looks_inside = 16;
    // `key=value`, `key: value`, `"key": "value"`, where the key ends with a match or
    // its whole word is secret (`AWS_SECRET_ACCESS_KEY=`, not `secretary=`).
    for key in PAIR_KEYS {
        let mut from = 0;
        while let Some(at) = pair.then(|| find_ci(bytes, key.as_bytes(), from)).flatten() {
            from = at + key.len();
            let start = bytes[..at]
                .iter()
                .rposition(|b| !is_key_word_char(*b))
                .map_or(0, |i| i + 1);
            let end = token_end(bytes, from, is_key_word_char);
            let word = &text[start..end];
            // A key that ends with the match is secret whatever comes before it
            // (`dbpassword`, `accesstoken`); one that goes on is judged whole.
            let judged = end > from;
            // Every other match inside this word finds the same word: the search goes
            // on behind it (or at its last match, when the word ends with the key).
            // Looking again from each match was quadratic: 64 kB of `tokentoken…`
            // took 1.5 s.
            if judged && !is_secret_key(word) {
                let tail = end - key.len();
                from = if word.len() >= key.len()
                    && bytes[tail..end].eq_ignore_ascii_case(key.as_bytes())
                {
                    tail
                } else {
                    end
                };
                continue;
            }
            from = end;
            let kind = if find_ci(word.as_bytes(), b"cookie", 0).is_some() {
                PairKind::Cookie
            } else if find_ci(word.as_bytes(), b"authorization", 0).is_some() {
                PairKind::Authorization
            } else {
                PairKind::Plain
            };
            // A value can swallow a real key (`x_cookieV1: Cookie: v`, a cookie
            // header's pairs): the search goes on inside the first values. Past
            // those it goes on behind each value, so that every byte is looked at
            // about once whatever the text.
            let header = HEADER_NAMES.iter().any(|h| word.eq_ignore_ascii_case(h));
            if let Some(range) = pair_value(bytes, end, kind, header) {
                if looks_inside > 0 {
                    looks_inside -= 1;
                } else {
                    from = range.1;
                }
                cuts.push(range);
            }
        }
    }
    (cuts, escaped)
}

/// Parts of key names that make [`redact_text`] look at the whole key word (which
/// [`is_secret_key`] then judges) and cut its value out of `key=value` pairs.
const PAIR_KEYS: [&str; 11] = [
    "api_key",
    "apikey",
    "api-key",
    "authorization",
    "password",
    "passwd",
    "pwd",
    "private",
    "secret",
    "token",
    "cookie",
];

/// Header names whose whole value, on a `Name: value` line, is secret.
const HEADER_NAMES: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// What a secret key's value is made of, beyond one word.
#[derive(Clone, Copy, PartialEq)]
enum PairKind {
    /// One word or a quoted string.
    Plain,
    /// `a=1; sid=x`: every `name=value` of the header.
    Cookie,
    /// An auth scheme of any name and the credential after it (`Token xyz`).
    Authorization,
}

/// The value after a secret key at `i`: an optional closing quote (or `\"`), `:` or
/// `=`, then a quoted string or a bare word (more for `kind`). `None` when no value
/// follows (`tokens`, `token_count`, prose) or the value is structured (`{`, `[`).
fn pair_value(bytes: &[u8], mut i: usize, kind: PairKind, header: bool) -> Option<(usize, usize)> {
    // JSON inside a JSON string quotes with `\"`.
    let escaped_quote = |i: usize| bytes.get(i..i + 2) == Some(b"\\\"");
    let quoted_key = escaped_quote(i) || matches!(bytes.get(i), Some(b'"' | b'\''));
    if escaped_quote(i) {
        i += 2;
    } else if quoted_key {
        i += 1;
    }
    while bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    if !matches!(bytes.get(i), Some(b':' | b'=')) {
        return None;
    }
    // `Cookie: …`, `Authorization: …` as a header line: a bare header name, not a
    // quoted (JSON) key or a longer word (`cookie_count: 5`).
    let header = header && !quoted_key && bytes[i] == b':';
    i += 1;
    while bytes.get(i) == Some(&b' ') {
        i += 1;
    }
    if escaped_quote(i) {
        let start = i + 2;
        let end = bytes[start..]
            .windows(2)
            .position(|w| w == b"\\\"")
            .map_or(bytes.len(), |n| start + n);
        return (end > start).then_some((start, end));
    }
    match bytes.get(i)? {
        quote @ (b'"' | b'\'') => {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end] != *quote {
                // Inside JSON text a quote may be escaped.
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            let end = end.min(bytes.len());
            (end > start).then_some((start, end))
        }
        b'{' | b'[' => None,
        // A header's value (`Cookie: a=1&b=2; sid=x`, `Authorization: AWS4-HMAC-SHA256
        // Credential=…, Signature=…`, `Digest username="u", response="r"`) is secret
        // whole, to the end of its line, whatever it is made of.
        _ if header => {
            // To the end of the line, or of the JSON string it is quoted in (an
            // escaped quote or line break).
            let mut end = i;
            while end < bytes.len() && !matches!(bytes[end], b'\n' | b'\r') {
                if bytes[end] == b'\\' && matches!(bytes.get(end + 1), Some(b'"' | b'n' | b'r')) {
                    break;
                }
                end += 1;
            }
            (end > i).then_some((i, end))
        }
        _ => {
            // `authorization=Bearer xyz`: the scheme and its credential both go.
            for scheme in [&b"bearer"[..], b"basic"] {
                if bytes[i..].len() > scheme.len()
                    && bytes[i..i + scheme.len()].eq_ignore_ascii_case(scheme)
                    && let Some((_, end)) = credential(bytes, i, scheme.len())
                {
                    return Some((i, end));
                }
            }
            let value_end = |from: usize| {
                token_end(bytes, from, |b| {
                    !matches!(
                        b,
                        b' ' | b',' | b';' | b'&' | b'}' | b']' | b'"' | b'\'' | b'\n'
                    )
                })
            };
            let mut end = value_end(i);
            if kind == PairKind::Cookie {
                // `Cookie: a=1; sid=x`: the `name=value` pairs after the first go too.
                loop {
                    let next = end
                        + bytes[end..]
                            .iter()
                            .take_while(|b| matches!(b, b';' | b' '))
                            .count();
                    let name = token_end(bytes, next, is_key_char);
                    if next == end || name == next || bytes.get(name) != Some(&b'=') {
                        break;
                    }
                    end = value_end(name + 1);
                }
            }
            // `Authorization: Token xyz`, `Api-Token xyz`: a scheme word of any name
            // and the credential after it.
            let word = &bytes[i..end];
            if kind == PairKind::Authorization
                && (2..=24).contains(&word.len())
                && word.iter().all(|b| b.is_ascii_alphabetic() || *b == b'-')
                && bytes.get(end) == Some(&b' ')
            {
                let start = end + bytes[end..].iter().take_while(|b| **b == b' ').count();
                let credential = token_end(bytes, start, is_credential_char);
                if credential > start {
                    return Some((i, credential));
                }
            }
            (end > i).then_some((i, end))
        }
    }
}

/// The credential after an auth scheme word at `at` (`Bearer abc`): the scheme
/// must be a word of its own followed by a space, and the credential either
/// capitalised scheme (`Bearer`, `BASIC`), 8 characters or more, or not only
/// letters, so that prose ("the bearer of news") is left alone.
fn credential(bytes: &[u8], at: usize, len: usize) -> Option<(usize, usize)> {
    let mut start = at + len;
    if (at > 0 && bytes[at - 1].is_ascii_alphanumeric()) || bytes.get(start) != Some(&b' ') {
        return None;
    }
    while bytes.get(start) == Some(&b' ') {
        start += 1;
    }
    let end = token_end(bytes, start, is_credential_char);
    let word = &bytes[start..end];
    let likely = bytes[at].is_ascii_uppercase()
        || word.len() >= 8
        || word.iter().any(|b| !b.is_ascii_alphabetic());
    (!word.is_empty() && likely && !bytes[start..].starts_with(REDACTED.as_bytes()))
        .then_some((start, end))
}

fn token_end(bytes: &[u8], start: usize, part: impl Fn(u8) -> bool) -> usize {
    let mut end = start;
    while end < bytes.len() && part(bytes[end]) {
        end += 1;
    }
    end
}

/// What a key name is made of (`X-Api-Key`, `db.password`, `AWS_SECRET_ACCESS_KEY`).
fn is_key_word_char(b: u8) -> bool {
    is_key_char(b) || b == b'.'
}

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn is_credential_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)
}

/// The first ASCII-case-insensitive occurrence of `needle` at or after `from`.
fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (first, rest) = needle.split_first()?;
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let last_start = hay.len().checked_sub(needle.len())?;
    // A plain loop comparing the first byte in both cases: the iterator with a
    // lower-casing closure cost about 35 instructions a byte at opt-level "z", and the
    // start record's settings are searched for twelve patterns (callgrind).
    let mut i = from;
    while i <= last_start {
        let b = hay[i];
        if (b == lower || b == upper) && hay[i + 1..i + needle.len()].eq_ignore_ascii_case(rest) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `text` cut to at most `max` bytes (at a character boundary) with `…` appended when cut.
pub fn truncate(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let cut = text.floor_char_boundary(max);
    Cow::Owned(format!("{}… ({} bytes)", &text[..cut], text.len()))
}

/// `text` kept whole up to `max` bytes; longer, its first and last `max / 2` bytes
/// (at character boundaries) around `…`: for a path, both where it starts and the
/// file it names.
pub fn elide_middle(text: &str, max: usize) -> Cow<'_, str> {
    if text.len() <= max {
        return Cow::Borrowed(text);
    }
    let head = text.floor_char_boundary(max / 2);
    let tail = text.ceil_char_boundary(text.len() - max / 2);
    Cow::Owned(format!("{}…{}", &text[..head], &text[tail..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn case_insensitive_search_finds_the_first_match_from_an_offset() {
        // (haystack, needle, from, expected)
        type Case = (&'static [u8], &'static [u8], usize, Option<usize>);
        let table: [Case; 9] = [
            (b"a Bearer x", b"bearer", 0, Some(2)),
            (b"BEARER", b"bearer", 0, Some(0)),
            (b"xx sk-", b"sk-", 0, Some(3)),
            (b"sk- sk-", b"sk-", 1, Some(4)),
            (b"sk- sk-", b"sk-", 5, None),
            (b"s", b"sk-", 0, None),
            (b"", b"://", 0, None),
            (b"tok token", b"token", 0, Some(4)),
            (b"\x1a// ://", b"://", 0, Some(4)),
        ];
        for (hay, needle, from, expected) in table {
            assert_eq!(
                find_ci(hay, needle, from),
                expected,
                "{:?} in {:?} from {from}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(hay)
            );
        }
    }

    #[test]
    fn every_secret_word_passes_the_length_filter() {
        for word in SECRET_WORDS {
            assert!(is_secret_word(word.as_bytes()), "{word}");
            assert!(
                is_secret_word(word.to_uppercase().as_bytes()),
                "{word} in upper case"
            );
        }
    }

    #[test]
    fn secret_keys_are_recognised_and_counters_are_not() {
        let secret = [
            "api_key",
            "API_KEY",
            "apikey",
            "apiKey",
            "x-api-key",
            "X-Api-Key",
            "authorization",
            "Proxy-Authorization",
            "password",
            "db_password",
            "secret",
            "client_secret",
            "token",
            "access_token",
            "refreshToken",
            "cookie",
            "Set-Cookie",
            "Cookies",
            "credentials",
            "pwd",
            "private_key",
        ];
        for key in secret {
            assert!(is_secret_key(key), "{key} is secret");
        }
        let plain = [
            "token_count",
            "max_tokens",
            "input_tokens",
            "tokens",
            "message",
            "api",
            "key",
            "keyboard",
            "mcp_method",
            "session_id",
            "duration_ms",
            "",
        ];
        for key in plain {
            assert!(!is_secret_key(key), "{key} is not secret");
        }
    }

    #[test]
    fn a_string_encoded_too_deep_is_replaced_in_values_too() {
        let mut value = serde_json::json!({"n": "x%2525252525 token=PLAINSECRET"});
        redact_value(&mut value);
        assert_eq!(value, serde_json::json!({"n": REDACTED}));
    }

    #[test]
    fn nested_values_are_redacted_by_key_and_by_content() {
        let mut value = json!({
            "name": "call",
            "arguments": {"api_key": "sk-ant-secret123", "nested": [{"Authorization": "Bearer abc"}]},
            "headers": {"X-API-KEY": 42, "accept": "json"},
            "note": "my key is sk-ant-api03-AbC_d-e and more",
            "token_count": 12,
            "password": null
        });
        redact_value(&mut value);
        assert_eq!(
            value,
            json!({
                "name": "call",
                "arguments": {"api_key": REDACTED, "nested": [{"Authorization": REDACTED}]},
                "headers": {"X-API-KEY": REDACTED, "accept": "json"},
                "note": "my key is [REDACTED] and more",
                "token_count": 12,
                "password": null
            })
        );
    }

    #[test]
    fn secret_text_is_cut_out_of_strings() {
        let cases = [
            ("nothing here", "nothing here"),
            ("key sk-ant-secret123.", "key [REDACTED]."),
            ("sk-ant-api03-x", "[REDACTED]"),
            ("task-ant-x is a word", "task-ant-x is a word"),
            ("sk-short", "sk-short"),
            ("openai sk-abcdefghijklmnopqrstuvwx", "openai [REDACTED]"),
            (
                "Authorization: Bearer abc.def-ghi",
                "Authorization: [REDACTED]",
            ),
            ("authorization=Bearer%20abc", "authorization=[REDACTED]"),
            ("header bearer xyz=", "header bearer [REDACTED]"),
            ("Basic dXNlcjpwYXNz end", "Basic [REDACTED] end"),
            ("the bearer of news", "the bearer of news"),
            ("Authorization: Bearer abc", "Authorization: [REDACTED]"),
            (
                r#"{"Authorization":"Bearer abc"}"#,
                r#"{"Authorization":"[REDACTED]"}"#,
            ),
            (
                r#"{"api_key":"hunter2","n":1}"#,
                r#"{"api_key":"[REDACTED]","n":1}"#,
            ),
            (
                r#"{"password": "a\"b", "x": 1}"#,
                r#"{"password": "[REDACTED]", "x": 1}"#,
            ),
            ("url?token=abc&x=1", "url?token=[REDACTED]&x=1"),
            ("max_tokens=5 token_count: 3", "max_tokens=5 token_count: 3"),
            ("secret: {\"a\":1}", "secret: {\"a\":1}"),
            ("Ünïcödé sk-ant-é", "Ünïcödé [REDACTED]é"),
            (
                "https://user:hunter2@otlp.example:4318/v1",
                "https://user:[REDACTED]@otlp.example:4318/v1",
            ),
            (
                "http://otlp:4318/v1/traces and http://a@b",
                "http://otlp:4318/v1/traces and http://a@b",
            ),
            // A long user name alone is a token.
            (
                "https://ghp_abcdefghijklmnop1234@github.com/x",
                "https://[REDACTED]@github.com/x",
            ),
            // Anthropic keys glued to a word.
            ("x_sk-ant-api03-ABCDEFGHIJKLMNOPQRST", "x_[REDACTED]"),
            ("a%20sk-ant-api03-ABCDEFGHIJKLMNOPQRST", "a%20[REDACTED]"),
            // Any scheme after `Authorization`, every cookie of a header.
            (
                "Authorization: Token W19SECRET",
                "Authorization: [REDACTED]",
            ),
            (
                "authorization: Api-Token dt0c01.supersecretDT",
                "authorization: [REDACTED]",
            ),
            ("Cookie: a=1; sid=X3bSECRET", "Cookie: [REDACTED]"),
            // The whole key word decides.
            (
                "AWS_SECRET_ACCESS_KEY=abc123",
                "AWS_SECRET_ACCESS_KEY=[REDACTED]",
            ),
            ("passwd=hunter2 pwd=x", "passwd=[REDACTED] pwd=[REDACTED]"),
            ("private_key=abc", "private_key=[REDACTED]"),
            ("secretary=bob tokens=5", "secretary=bob tokens=5"),
            (
                "dbpassword=x accesstoken=y",
                "dbpassword=[REDACTED] accesstoken=[REDACTED]",
            ),
            // Percent-encoded secrets are shown decoded, redacted.
            (
                "file:///tmp/a%20Bearer%20abcdefgh12",
                "file:///tmp/a Bearer [REDACTED]",
            ),
            (
                "file:///tmp/password%3Dhunter2",
                "file:///tmp/password=[REDACTED]",
            ),
            ("50%25 off, 100%", "50%25 off, 100%"),
            // A secret in plain sight does not hide one behind escapes; nor does a
            // second encoding or a stray `%`.
            (
                "token=abc,db.conn=password%3Dhunter2",
                "token=[REDACTED],db.conn=password=[REDACTED]",
            ),
            (
                "Bearer abcdefgh1 x%20Bearer%20sekrit99",
                "Bearer [REDACTED] x Bearer [REDACTED]",
            ),
            ("password%253Dhunter2", "password=[REDACTED]"),
            // A cut that stops at an escape does not hide what follows it.
            (
                "x Bearer abcdefgh%2Bijkl%2Fmnop%3D%3D",
                "x Bearer [REDACTED]",
            ),
            (
                "Authorization: Bear%65r LEAKSECRET1",
                "Authorization: [REDACTED]",
            ),
            ("Cookie: a=1; sid%3DLEAKSECRET2", "Cookie: [REDACTED]"),
            ("sk-ant-api03-AAAAAAAA%2DLEAKSECRET4", "[REDACTED]"),
            // Four encodings are looked behind; a fifth is not shown at all.
            (
                "password%2525253DLEAKSECRET3 token%25253Dabc",
                "password=[REDACTED] token=[REDACTED]",
            ),
            ("password%252525253Dx", "[REDACTED]"),
            // A header's value goes whole, whatever it is made of.
            ("Cookie: prefs=a=1&b=2; session=S1", "Cookie: [REDACTED]"),
            (
                "Authorization: AWS4-HMAC-SHA256 Credential=AKIA1/x, Signature=SIG\nnext",
                "Authorization: [REDACTED]\nnext",
            ),
            (
                "authorization: Digest username=\"u\", response=\"R\"",
                "authorization: [REDACTED]",
            ),
            // Only a bare header name takes its line: not a JSON key, not a longer word.
            (
                r#"{"authorization": null, "user": "bob"}"#,
                r#"{"authorization": [REDACTED], "user": "bob"}"#,
            ),
            (
                "cookie_count: 5 other text",
                "cookie_count: [REDACTED] other text",
            ),
            (
                r#"{"msg":"Cookie: a=1\nHost: x","level":"info"}"#,
                r#"{"msg":"Cookie: [REDACTED]\nHost: x","level":"info"}"#,
            ),
            ("Cookie:\nnext", "Cookie:\nnext"),
            ("a%E2%80password%3Dhunter2", "a\u{fffd}password=[REDACTED]"),
            ("100% password%3Dhunter2", "100% password=[REDACTED]"),
            (
                "https://u:pw@h/?q=api_key%3Dzzz123",
                "https://u:[REDACTED]@h/?q=api_key=[REDACTED]",
            ),
            // JSON inside a JSON string.
            (
                r#"{"p":"{\"api_key\":\"ESCSECRET10\",\"n\":1}"}"#,
                r#"{"p":"{\"api_key\":\"[REDACTED]\",\"n\":1}"}"#,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact_text(input), want, "{input}");
        }
        assert!(
            matches!(redact_text("plain text"), Cow::Borrowed(_)),
            "clean text is not copied"
        );
    }

    /// A text made of one key word repeated is looked at once per word, not once
    /// per match: 256 kB of `token…` (about 2 ms) took minutes when each match
    /// scanned the whole word again.
    #[test]
    fn a_long_word_of_repeated_keys_is_looked_at_once() {
        for key in ["token", "Pwd", "api_keyapi_key", "secret_token_"] {
            let mut text = key.repeat(256 * 1024 / key.len());
            text.push_str(" password=hunter2");
            let shown = redact_text(&text);
            assert!(shown.ends_with(" password=[REDACTED]"), "{key}");
        }
    }

    /// A `password=` value encoded up to four times is cut wherever it stands,
    /// among secrets in plain sight, other escapes and a stray `%`.
    #[test]
    fn secrets_behind_escapes_are_cut_whatever_stands_beside_them() {
        const NOISE: [&str; 12] = [
            "Bearer abcdefgh1",
            "token=abc",
            "sk-ant-api03-abcdefghij",
            "100%",
            "a%20b",
            "%zz",
            "https://u:pw@host/",
            "x",
            "path=%2Ftmp",
            "Cookie: a=1",
            "%25",
            "ünï",
        ];
        let mut rng = crate::otlp::testing::Rng::new(7);
        let mut next = move |n: usize| rng.below(n as u64) as usize;
        for round in 0..20_000 {
            let marker = format!("SECRET{round}X");
            // `=` as it is, then encoded once, twice, three and four times.
            let equals = ["=", "%3D", "%253D", "%25253D", "%2525253D"][next(DECODE_LEVELS + 1)];
            let mut words: Vec<String> = (0..next(6)).map(|_| NOISE[next(12)].into()).collect();
            words.insert(next(words.len() + 1), format!("password{equals}{marker}"));
            let text = words.join(" ");
            let shown = redact_text(&text);
            assert!(!shown.contains(&marker), "{text:?} shows as {shown:?}");
        }
    }

    #[test]
    fn eliding_keeps_both_ends_and_char_boundaries() {
        assert_eq!(elide_middle("/a/b", 4), "/a/b");
        assert_eq!(elide_middle("/abcdef/file", 6), "/ab…ile");
        assert_eq!(elide_middle("ééééé", 4), "é…é");
    }

    #[test]
    fn truncation_keeps_char_boundaries() {
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("abcd", 3), "abc… (4 bytes)");
        assert_eq!(truncate("é", 1), "… (2 bytes)");
    }
}
