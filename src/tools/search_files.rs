//! `search_files`: files under a directory inside the allowed roots whose path
//! matches a glob, optionally containing a substring; bounded by results, files
//! visited and time, with progress notifications when the client asks for them.

use super::{Tool, ToolResult, arg, schema};
use crate::sandbox::{EntryKind, Flow, Walk};
use serde_json::{Value, json};
use smol::future::FutureExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Deepest level searched below the start directory.
const MAX_DEPTH: usize = 16;
/// Most directory entries visited.
const MAX_VISITED: usize = 20_000;
/// Default and ceiling of `max_results`.
const DEFAULT_RESULTS: u64 = 100;
const MAX_RESULTS: u64 = 1000;
/// Bytes of one file searched for `content_pattern`.
const MAX_CONTENT_BYTES: u64 = 1024 * 1024;
/// Characters of a matching line returned.
const MAX_LINE_CHARS: usize = 200;
/// How often (entries visited) progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

pub(super) fn tool() -> Tool {
    Tool {
        name: "search_files",
        title: "Search files",
        description: "Find files under a directory inside the server's allowed roots whose path matches a glob, optionally only those containing a text. \
`pattern` is matched against the path relative to `path`: `*` and `?` stay within one path segment, `**` spans segments, `[abc]`/`[a-z]`/`[!x]` are classes; \
a pattern without `/` is matched against the file name alone (\"*.rs\" finds Rust files at any depth). \
With `content_pattern` (a plain, case-sensitive substring), each matching line is returned with its number; only the first 1 MiB of each file is searched, and binary files (with NUL bytes) are skipped. \
The search stops after max_results matches, 20000 entries visited, 16 levels or 10 seconds; `truncated` says so. Symlinks are not followed. Directories that could not be read and files whose content could not be searched (permissions) are named in `unreadable`.",
        input_schema: arg::with_path(
            "Directory to search: a",
            r#"{
            "type": "object",
            "properties": {
                "path": null,
                "pattern": {"type": "string", "minLength": 1, "maxLength": 1024, "description": "Glob matched against the relative path (or the file name when it has no `/`)."},
                "content_pattern": {"type": "string", "minLength": 1, "maxLength": 1024, "description": "Only files containing this text; matching lines are returned."},
                "max_results": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "Most matches returned (default 100)."}
            },
            "required": ["path", "pattern"],
            "additionalProperties": false
        }"#,
        ),
        output_schema: Some(schema(
            r#"{
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Canonical directory searched."},
                "matches": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "path": {"type": "string", "description": "Relative to the searched directory."},
                            "type": {"enum": ["file", "directory", "symlink", "other"]},
                            "size": {"type": "integer"},
                            "line": {"type": "integer", "description": "1-based line number of a content match."},
                            "text": {"type": "string", "description": "The matching line (clipped)."}
                        },
                        "required": ["path", "type", "size"]
                    }
                },
                "files_visited": {"type": "integer"},
                "truncated": {"type": "boolean"},
                "truncated_reason": {"type": "string"},
                "unreadable": {"type": "array", "items": {"type": "string"}, "description": "Directories and files that could not be read, so not searched (at most 100)."},
                "unreadable_count": {"type": "integer", "description": "How many paths could not be read."}
            },
            "required": ["path", "matches", "files_visited", "truncated"]
        }"#,
        )),
        annotations: arg::READS_LOCAL,
        handler: |ctx, args| {
            Box::pin(async move {
                let path = arg::text(&args, "path").unwrap_or_default();
                let pattern = arg::text(&args, "pattern").unwrap_or_default();
                let needle = arg::text(&args, "content_pattern");
                let max_results = arg::count(&args, "max_results")
                    .unwrap_or(DEFAULT_RESULTS)
                    .min(MAX_RESULTS) as usize;
                let roots = ctx.services.sandbox.settled().await;
                let cancel = Arc::new(AtomicBool::new(false));
                // Dropping the request (cancellation) stops the walk on its thread.
                let _stop = SetOnDrop(Arc::clone(&cancel));
                let visited = Arc::new(AtomicU64::new(0));
                let limits = Walk {
                    max_depth: MAX_DEPTH,
                    max_entries: MAX_VISITED,
                    deadline: Some(Instant::now() + super::WALK_TIME),
                    cancel,
                    visited: Arc::clone(&visited),
                };
                let mut search = crate::blocking::unblock(move || {
                    search(
                        &roots,
                        &path,
                        &pattern,
                        needle.as_deref(),
                        max_results,
                        &limits,
                    )
                });
                // Progress while the walk runs on its thread, when the client asked for it.
                ctx.progress(0.0, None, Some("search started")).await;
                let outcome = loop {
                    let tick = async {
                        smol::Timer::after(PROGRESS_EVERY).await;
                        None
                    };
                    match async { Some((&mut search).await) }.or(tick).await {
                        Some(outcome) => break outcome,
                        None => {
                            let n = visited.load(Ordering::Relaxed);
                            let message = format!("{n} entries visited");
                            ctx.progress(n as f64, None, Some(&message)).await;
                        }
                    }
                };
                match outcome {
                    Ok(data) => ToolResult::structured(data),
                    Err(refusal) => ToolResult::refused(&refusal),
                }
            })
        },
    }
}

/// Sets a flag when dropped: tells a blocking walk that its request is gone.
#[derive(Debug)]
pub(super) struct SetOnDrop(pub(super) Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

fn search(
    roots: &crate::sandbox::Roots,
    path: &str,
    pattern: &str,
    needle: Option<&str>,
    max_results: usize,
    limits: &Walk,
) -> Result<Value, crate::sandbox::Refusal> {
    let glob = tokens(pattern);
    let by_name = !pattern.contains('/');
    let mut matches = Vec::new();
    let mut full = false;
    // Files whose content could not be searched.
    let mut unsearched = crate::sandbox::Unreadable::default();
    let walked = roots.walk(path, limits, &mut |entry, pinned| {
        let subject = if by_name { &entry.name } else { &entry.path };
        let name: Vec<char> = subject.chars().collect();
        if !glob_match(&glob, &name) {
            return Flow::Continue;
        }
        let base = json!({"path": entry.path, "type": entry.kind.as_str(), "size": entry.size});
        match needle {
            None => matches.push(base),
            Some(needle) => {
                if entry.kind != EntryKind::File {
                    return Flow::Continue;
                }
                let Ok(chunk) = roots.read_pinned(pinned, &entry.path, MAX_CONTENT_BYTES) else {
                    unsearched.add(&entry.path);
                    return Flow::Continue;
                };
                if chunk.bytes.contains(&0) {
                    return Flow::Continue; // binary
                }
                let text = String::from_utf8_lossy(&chunk.bytes);
                for (i, line) in text.lines().enumerate() {
                    if line.contains(needle) {
                        let mut m = base.clone();
                        m["line"] = json!(i + 1);
                        m["text"] = json!(line.chars().take(MAX_LINE_CHARS).collect::<String>());
                        matches.push(m);
                        if matches.len() >= max_results {
                            break;
                        }
                    }
                }
            }
        }
        if matches.len() >= max_results {
            full = true;
            Flow::Stop
        } else {
            Flow::Continue
        }
    });
    let mut walked = walked?;
    let reason = if full {
        Some("result limit reached")
    } else {
        walked.end.reason()
    };
    walked.unreadable.absorb(unsearched);
    let mut data = json!({
        "path": walked.real.display().to_string(),
        "matches": matches,
        "files_visited": limits.visited.load(Ordering::Relaxed),
        "truncated": reason.is_some(),
    });
    if let Some(reason) = reason {
        data["truncated_reason"] = json!(reason);
    }
    super::report_unreadable(&walked.unreadable, &mut data);
    Ok(data)
}

/// One element of a glob.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    /// `?`: one character but `/`.
    One,
    /// `*`: any run without `/`.
    Star,
    /// `**`: any run.
    Any,
    /// `**/`: nothing, or any run ending in `/`.
    Segments,
    /// `[...]`: ranges (single characters are `c..=c`), negated or not.
    Class(Vec<(char, char)>, bool),
}

fn tokens(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    out.push(Token::Segments);
                    i += 3;
                } else {
                    out.push(Token::Any);
                    i += 2;
                }
            }
            '*' => {
                out.push(Token::Star);
                i += 1;
            }
            '?' => {
                out.push(Token::One);
                i += 1;
            }
            '\\' if i + 1 < chars.len() => {
                out.push(Token::Literal(chars[i + 1]));
                i += 2;
            }
            '[' => match class(&chars, i) {
                Some((token, next)) => {
                    out.push(token);
                    i = next;
                }
                None => {
                    out.push(Token::Literal('['));
                    i += 1;
                }
            },
            c => {
                out.push(Token::Literal(c));
                i += 1;
            }
        }
    }
    out
}

/// The class starting at `chars[start] == '['` and the index after it; `None` if unterminated.
fn class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut i = start + 1;
    let negate = matches!(chars.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    while let Some(&x) = chars.get(i) {
        if x == ']' && !first {
            return Some((Token::Class(ranges, negate), i + 1));
        }
        first = false;
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|&e| e != ']') {
            ranges.push((x, chars[i + 2]));
            i += 3;
        } else {
            ranges.push((x, x));
            i += 1;
        }
    }
    None
}

/// Whether the glob `tokens` matches all of `text`: a dynamic program over text
/// positions, O(tokens × text), so no pattern can make it blow up.
fn glob_match(tokens: &[Token], text: &[char]) -> bool {
    let n = text.len();
    let mut cur = vec![false; n + 1];
    cur[0] = true;
    for token in tokens {
        let mut next = vec![false; n + 1];
        match token {
            Token::Literal(c) => {
                for j in 0..n {
                    next[j + 1] = cur[j] && text[j] == *c;
                }
            }
            Token::One => {
                for j in 0..n {
                    next[j + 1] = cur[j] && text[j] != '/';
                }
            }
            Token::Class(ranges, negate) => {
                for j in 0..n {
                    let c = text[j];
                    let inside = ranges.iter().any(|(a, b)| (*a..=*b).contains(&c));
                    next[j + 1] = cur[j] && c != '/' && inside != *negate;
                }
            }
            Token::Star => {
                next[0] = cur[0];
                for j in 1..=n {
                    next[j] = cur[j] || (next[j - 1] && text[j - 1] != '/');
                }
            }
            Token::Any => {
                next[0] = cur[0];
                for j in 1..=n {
                    next[j] = cur[j] || next[j - 1];
                }
            }
            Token::Segments => {
                let mut seen = false;
                for j in 0..=n {
                    next[j] = cur[j] || (seen && text[j - 1] == '/');
                    seen |= cur[j];
                }
            }
        }
        cur = next;
    }
    cur[n]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_caps_max_results_at_the_enforced_limit() {
        let schema = tool().input_schema;
        assert_eq!(
            schema["properties"]["max_results"]["maximum"], MAX_RESULTS,
            "the schema text states the cap the handler applies"
        );
    }

    #[test]
    fn glob_cases() {
        let cases = [
            ("*.rs", "main.rs", true),
            ("*.rs", "main.rsx", false),
            ("*.rs", "src/main.rs", false),
            ("src/*.rs", "src/main.rs", true),
            ("src/*.rs", "src/a/main.rs", false),
            ("src/**/*.rs", "src/main.rs", true),
            ("src/**/*.rs", "src/a/b/main.rs", true),
            ("**", "a/b/c", true),
            ("?.txt", "a.txt", true),
            ("?.txt", "ab.txt", false),
            ("[ab].txt", "b.txt", true),
            ("[!ab].txt", "b.txt", false),
            ("[a-c]x", "cx", true),
            ("[a-c]x", "dx", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("\\*", "*", true),
            ("\\*", "a", false),
            ("", "", true),
            ("[", "[", true),
            ("**/*.rs", "main.rs", true),
            ("**/*.rs", "a/b/main.rs", true),
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/y/b", true),
            ("a/**/b", "ab", false),
        ];
        for (pattern, text, want) in cases {
            let t: Vec<char> = text.chars().collect();
            assert_eq!(
                glob_match(&tokens(pattern), &t),
                want,
                "{pattern:?} against {text:?}"
            );
        }
    }

    #[test]
    fn glob_stays_fast_on_hostile_patterns() {
        let t: Vec<char> = format!("{}c", "a".repeat(2000)).chars().collect();
        assert!(
            !glob_match(&tokens(&"*a".repeat(500)), &t),
            "the text ends in c, no match (and no exponential blow-up)"
        );
    }
}
