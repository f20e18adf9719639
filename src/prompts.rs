//! Prompts: `code_review`, `explain_code` and `debug_help`, their arguments and
//! checks, the user message each one renders, how each is listed in each protocol
//! revision, and the values `completion/complete` suggests for their arguments.

use crate::jsonrpc::{self, RpcError};
use crate::mcp::Version;
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

/// Longest `language` accepted (characters); it is set in a code fence's info string.
const MAX_LANGUAGE_CHARS: usize = 40;

/// Languages `completion/complete` offers for `language`, in a stable order.
pub const LANGUAGES: &[&str] = &[
    "bash",
    "c",
    "clojure",
    "cpp",
    "csharp",
    "css",
    "dart",
    "dockerfile",
    "elixir",
    "erlang",
    "fsharp",
    "go",
    "graphql",
    "groovy",
    "haskell",
    "html",
    "java",
    "javascript",
    "json",
    "julia",
    "kotlin",
    "lua",
    "makefile",
    "markdown",
    "nix",
    "objective-c",
    "ocaml",
    "perl",
    "php",
    "powershell",
    "python",
    "r",
    "ruby",
    "rust",
    "scala",
    "shell",
    "sql",
    "swift",
    "terraform",
    "toml",
    "typescript",
    "yaml",
    "zig",
];

/// The values of `explain_code`'s `detail_level`.
pub const DETAIL_LEVELS: &[&str] = &["brief", "medium", "detailed"];

/// One argument of a prompt.
#[derive(Debug, Clone, Copy)]
pub struct Argument {
    /// Name in `arguments`.
    pub name: &'static str,
    /// Display name (2025-06-18+).
    pub title: &'static str,
    /// What to pass.
    pub description: &'static str,
    /// Must be given and not blank.
    pub required: bool,
    /// What `completion/complete` suggests; the only accepted values when `closed`.
    pub values: &'static [&'static str],
    /// Only `values` are accepted.
    pub closed: bool,
}

/// Arguments of one `prompts/get`, checked against the prompt's definition.
#[derive(Debug)]
pub struct Args<'a> {
    map: &'a Map<String, Value>,
}

impl Args<'_> {
    /// The argument's text, `None` when absent or blank (only optional ones may be).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .and_then(Value::as_str)
            .filter(|text| !text.trim().is_empty())
    }
}

/// One prompt.
#[derive(Debug, Clone, Copy)]
pub struct Prompt {
    /// Unique name.
    pub name: &'static str,
    /// Display name (2025-06-18+).
    pub title: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Arguments, in listing order.
    pub arguments: &'static [Argument],
    /// The text of the user message.
    pub render: fn(&Args<'_>) -> String,
}

const CODE: Argument = Argument {
    name: "code",
    title: "Code",
    description: "The source code, pasted as is.",
    required: true,
    values: &[],
    closed: false,
};
const LANGUAGE: Argument = Argument {
    name: "language",
    title: "Language",
    description: "Programming language of the code (e.g. rust, python); guessed from the code when absent.",
    required: false,
    values: LANGUAGES,
    closed: false,
};

/// The built-in prompts, in listing order.
pub const PROMPTS: &[Prompt] = &[
    Prompt {
        name: "code_review",
        title: "Code review",
        description: "Review code the way a senior engineer reviews a pull request: correctness, \
                      security, performance, readability and tests, with a severity and a concrete \
                      fix for each finding.",
        arguments: &[CODE, LANGUAGE],
        render: code_review,
    },
    Prompt {
        name: "explain_code",
        title: "Explain code",
        description: "Explain what code does and how, at the chosen depth: brief (a few \
                      sentences), medium (a structured walk-through) or detailed (section by \
                      section, with edge cases and complexity).",
        arguments: &[
            CODE,
            LANGUAGE,
            Argument {
                name: "detail_level",
                title: "Detail level",
                description: "How deep the explanation goes: brief, medium (default) or detailed.",
                required: false,
                values: DETAIL_LEVELS,
                closed: true,
            },
        ],
        render: explain_code,
    },
    Prompt {
        name: "debug_help",
        title: "Debug help",
        description: "Find the root cause of an error in code: what the error means, which lines \
                      cause it and why, a corrected version, and how to confirm the fix.",
        arguments: &[
            CODE,
            Argument {
                name: "error",
                title: "Error",
                description: "The error message, stack trace or wrong behaviour observed, verbatim.",
                required: true,
                values: &[],
                closed: false,
            },
            LANGUAGE,
        ],
        render: debug_help,
    },
];

/// The prompt called `name`.
pub fn find(name: &str) -> Option<&'static Prompt> {
    PROMPTS.iter().find(|p| p.name == name)
}

impl Prompt {
    /// The `Prompt` object of `prompts/list` for `version`.
    pub fn describe(&self, version: Version) -> Value {
        let titles = version.has_titles_and_structured();
        let arguments: Vec<Value> = self
            .arguments
            .iter()
            .map(|a| {
                let mut arg = json!({
                    "name": a.name,
                    "description": a.description,
                    "required": a.required,
                });
                if titles {
                    arg["title"] = json!(a.title);
                }
                arg
            })
            .collect();
        let mut prompt = json!({
            "name": self.name,
            "description": self.description,
            "arguments": arguments,
        });
        if titles {
            prompt["title"] = json!(self.title);
        }
        prompt
    }

    /// The argument called `name`.
    pub fn argument(&self, name: &str) -> Option<&'static Argument> {
        self.arguments.iter().find(|a| a.name == name)
    }

    /// The `GetPromptResult` for `arguments` (the request's `arguments`, absent or
    /// an object of strings), or `-32602` naming the argument at fault.
    pub fn get(&self, arguments: Option<&Value>) -> Result<Value, RpcError> {
        let empty = Map::new();
        let map = match arguments {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(self.invalid("`arguments` must be an object of strings".into()));
            }
        };
        for (name, value) in map {
            let Some(arg) = self.argument(name) else {
                let known: Vec<&str> = self.arguments.iter().map(|a| a.name).collect();
                return Err(self.invalid(format!(
                    "unknown argument `{}` (allowed: {})",
                    jsonrpc::clip(name),
                    known.join(", ")
                )));
            };
            let Some(text) = value.as_str() else {
                return Err(self.invalid(format!("argument `{name}` must be a string")));
            };
            if text.trim().is_empty() {
                // Clients send "" for an optional field left blank: the same as absent.
                if arg.required {
                    return Err(self.invalid(format!("argument `{name}` must not be empty")));
                }
                continue;
            }
            if arg.closed && !arg.values.contains(&text) {
                return Err(self.invalid(format!(
                    "argument `{name}` must be one of {}, got {:?}",
                    arg.values.join(", "),
                    jsonrpc::clip(text)
                )));
            }
            if arg.name == "language" {
                check_language(text).map_err(|why| self.invalid(why))?;
            }
        }
        if let Some(missing) = self
            .arguments
            .iter()
            .find(|a| a.required && !map.contains_key(a.name))
        {
            return Err(self.invalid(format!("missing required argument `{}`", missing.name)));
        }
        let text = (self.render)(&Args { map });
        Ok(json!({
            "description": self.description,
            "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
        }))
    }

    fn invalid(&self, why: String) -> RpcError {
        RpcError::invalid_params(format!("invalid params: prompt {}: {why}", self.name))
            .with_data(json!({"prompt": self.name}))
    }
}

/// `language` goes into a code fence's info string and the prose: one short line of
/// name characters, so that it cannot close the fence or inject instructions.
fn check_language(text: &str) -> Result<(), String> {
    let ok = !text.trim().is_empty()
        && text.chars().count() <= MAX_LANGUAGE_CHARS
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || " +#-._/".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "argument `language` must be a language name of at most {MAX_LANGUAGE_CHARS} \
             letters, digits, spaces or + # - . _ / (e.g. rust, c++, objective-c)"
        ))
    }
}

/// `code` in a fenced block whose fence is longer than any backtick run inside,
/// so the code cannot end the block early (CommonMark fences).
fn fenced(code: &str, language: Option<&str>) -> String {
    let longest = code
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest.max(2) + 1);
    let info = language.map(fence_info).unwrap_or_default();
    let newline = if code.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{info}\n{code}{newline}{fence}")
}

/// A fence info string is one word: `objective c` → `objective-c`.
fn fence_info(language: &str) -> String {
    language.trim().to_lowercase().replace(' ', "-")
}

fn subject(language: Option<&str>) -> String {
    match language {
        Some(l) => format!("{} code", l.trim()),
        None => "code".to_string(),
    }
}

fn code_review(args: &Args<'_>) -> String {
    let language = args.get("language");
    let code = args.get("code").unwrap_or_default();
    let mut text = format!(
        "Please review the following {}.\n\n{}\n\n",
        subject(language),
        fenced(code, language)
    );
    if language.is_none() {
        text.push_str("First name the language and version you assume.\n\n");
    }
    let expert = language.map_or("a senior engineer".to_string(), |l| {
        format!("a senior {} engineer", l.trim())
    });
    let _ = write!(
        text,
        "Review it as {expert} would before approving a pull request. Cover, in this order:\n\
         1. Correctness: bugs, unhandled edge cases (empty input, boundaries, overflow, \
         concurrency) and error handling.\n\
         2. Security: untrusted input, injection, secrets in code, unsafe use of files, \
         processes or the network.\n\
         3. Performance: needless work, allocations or complexity that matter at realistic sizes.\n\
         4. Readability and maintainability: naming, structure, duplication, comments and the \
         idioms of the language.\n\
         5. Tests: what is untested, and the test cases that would catch the problems you found.\n\n\
         For each finding quote the line or snippet, say why it matters, give a severity \
         (critical, major, minor or nit) and a concrete fix, as code when that is clearer. \
         List findings by severity, most severe first. Where an area has no problem, say so in \
         one line instead of inventing one. End with a one-paragraph verdict: ready to merge, \
         or what must change first."
    );
    text
}

fn explain_code(args: &Args<'_>) -> String {
    let language = args.get("language");
    let code = args.get("code").unwrap_or_default();
    let how = match args.get("detail_level").unwrap_or("medium") {
        "brief" => {
            "Keep it brief: in three to five sentences, say what the code does, what it takes \
             and returns, and anything surprising about it. No line-by-line commentary."
        }
        "detailed" => {
            "Explain it in detail, for someone who has to maintain it:\n\
             1. Purpose: what problem it solves and where it would be used.\n\
             2. Walk-through: go section by section (or line by line where it is dense), \
             quoting each part before explaining it.\n\
             3. Data and control flow: the data structures, how values change, every branch \
             and loop, and any side effects (I/O, shared state, errors raised).\n\
             4. Edge cases and assumptions: inputs it does not handle, and what happens then.\n\
             5. Complexity: time and memory in big-O terms, and what dominates.\n\
             6. Anything non-obvious: language features, idioms or tricks a reader could miss, \
             and pitfalls to watch when changing it."
        }
        _ => {
            "Give a structured explanation: first its purpose in one or two sentences, then a \
             walk-through of its main parts in order, what it takes as input and produces as \
             output, and any notable technique, library call or edge case worth knowing."
        }
    };
    let mut text = format!(
        "Explain the following {}.\n\n{}\n\n{how}\n\n",
        subject(language),
        fenced(code, language)
    );
    text.push_str(
        "Write for a developer who knows programming but not this code. Define terms the \
         first time they appear, and do not restate the code in words without adding meaning.",
    );
    if language.is_none() {
        text.push_str(" Start by naming the language.");
    }
    text
}

fn debug_help(args: &Args<'_>) -> String {
    let language = args.get("language");
    let code = args.get("code").unwrap_or_default();
    let error = args.get("error").unwrap_or_default();
    format!(
        "I need help debugging the following {}.\n\n{}\n\nThis is the error or wrong behaviour \
         I get:\n\n{}\n\nPlease:\n\
         1. Explain what the error means, in plain words.\n\
         2. Find the root cause: point to the line or lines responsible and explain why they \
         produce this error, not just where it surfaces.\n\
         3. Give a corrected version of the code (only the parts that change, with enough \
         context to place them), and explain why the fix works.\n\
         4. Say how to confirm the fix, ideally with a small test that fails before it and \
         passes after.\n\
         5. Point out any other bug in the same code that is likely to bite next.\n\n\
         If the code shown cannot explain the error, say what is missing (the input, the full \
         stack trace, versions, configuration) and list the most likely causes, most likely \
         first, with how to check each.",
        subject(language),
        fenced(code, language),
        fenced(error, None),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(name: &str, args: Value) -> Result<String, String> {
        find(name)
            .expect("known prompt")
            .get(Some(&args))
            .map(|r| {
                assert_eq!(r["messages"].as_array().map(Vec::len), Some(1));
                assert_eq!(r["messages"][0]["role"], "user");
                r["messages"][0]["content"]["text"]
                    .as_str()
                    .expect("text")
                    .to_string()
            })
            .map_err(|e| {
                assert_eq!(e.code, jsonrpc::INVALID_PARAMS, "{}", e.message);
                e.message
            })
    }

    #[test]
    fn argument_errors_name_the_argument() {
        let cases = [
            ("code_review", json!({}), "missing required argument `code`"),
            (
                "code_review",
                json!({"code": "   "}),
                "argument `code` must not be empty",
            ),
            (
                "code_review",
                json!({"code": 1}),
                "argument `code` must be a string",
            ),
            (
                "code_review",
                json!({"code": "x", "lang": "c"}),
                "unknown argument `lang` (allowed: code, language)",
            ),
            (
                "code_review",
                json!({"code": "x", "language": "c\n```"}),
                "argument `language` must be a language name",
            ),
            (
                "code_review",
                json!({"code": "x", "language": "x".repeat(41)}),
                "argument `language` must be a language name",
            ),
            (
                "explain_code",
                json!({"code": "x", "detail_level": "huge"}),
                "argument `detail_level` must be one of brief, medium, detailed, got \"huge\"",
            ),
            (
                "debug_help",
                json!({"code": "x"}),
                "missing required argument `error`",
            ),
            (
                "debug_help",
                json!({"error": "boom"}),
                "missing required argument `code`",
            ),
        ];
        for (name, args, expected) in cases {
            let message = get(name, args.clone()).expect_err("refused");
            assert!(
                message.starts_with(&format!("invalid params: prompt {name}: "))
                    && message.contains(expected),
                "{name} {args}: {message}"
            );
        }
        let prompt = find("code_review").expect("known");
        let e = prompt.get(Some(&json!(["x"]))).expect_err("not an object");
        assert!(
            e.message.contains("`arguments` must be an object"),
            "{}",
            e.message
        );
        let e = prompt.get(None).expect_err("no arguments at all");
        assert!(
            e.message.contains("missing required argument `code`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn messages_carry_the_code_fenced_and_the_instructions() {
        let text = get(
            "code_review",
            json!({"code": "fn main() {}", "language": "Rust"}),
        )
        .expect("ok");
        assert!(
            text.starts_with(
                "Please review the following Rust code.\n\n```rust\nfn main() {}\n```\n\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("a senior Rust engineer") && text.contains("severity"),
            "{text}"
        );
        let text = get("code_review", json!({"code": "x = 1"})).expect("ok");
        assert!(text.contains("First name the language"), "{text}");
        let text = get(
            "debug_help",
            json!({"code": "let x;", "error": "E0381", "language": "rust"}),
        )
        .expect("ok");
        assert!(
            text.contains("```rust\nlet x;\n```") && text.contains("```\nE0381\n```"),
            "{text}"
        );
        assert!(text.contains("root cause"), "{text}");
    }

    #[test]
    fn detail_level_changes_the_instructions() {
        let at = |level: Option<&str>| {
            let mut args = json!({"code": "print(1)", "language": "python"});
            if let Some(level) = level {
                args["detail_level"] = json!(level);
            }
            get("explain_code", args).expect("ok")
        };
        let cases = [
            (Some("brief"), "three to five sentences"),
            (Some("medium"), "structured explanation"),
            (None, "structured explanation"),
            // Clients send "" for an optional field left blank: the default applies.
            (Some(""), "structured explanation"),
            (Some("detailed"), "Complexity: time and memory"),
        ];
        for (level, expected) in cases {
            assert!(at(level).contains(expected), "{level:?}");
        }
    }

    #[test]
    fn fences_outgrow_backticks_in_the_code() {
        let cases = [
            ("a", None, "```\na\n```"),
            ("a\n", Some("c++"), "```c++\na\n```"),
            (
                "x = ```y```",
                Some("objective c"),
                "````objective-c\nx = ```y```\n````",
            ),
            ("`````", None, "``````\n`````\n``````"),
        ];
        for (code, language, expected) in cases {
            assert_eq!(fenced(code, language), expected, "{code:?}");
        }
    }

    #[test]
    fn describe_follows_the_revision() {
        let prompt = find("debug_help").expect("known");
        let old = prompt.describe(Version::V2025_03_26);
        assert!(old.get("title").is_none() && old["arguments"][0].get("title").is_none());
        assert_eq!(
            old["arguments"],
            json!([
                {"name": "code", "description": CODE.description, "required": true},
                {"name": "error", "description": prompt.arguments[1].description, "required": true},
                {"name": "language", "description": LANGUAGE.description, "required": false},
            ])
        );
        let new = prompt.describe(Version::V2025_06_18);
        assert_eq!(
            (&new["title"], &new["arguments"][1]["title"]),
            (&json!("Debug help"), &json!("Error"))
        );
    }

    #[test]
    fn names_are_unique_and_completion_lists_are_sorted() {
        let mut names: Vec<&str> = PROMPTS.iter().map(|p| p.name).collect();
        names.dedup();
        assert_eq!(names.len(), PROMPTS.len());
        assert!(
            LANGUAGES.windows(2).all(|w| w[0] < w[1]),
            "sorted and unique"
        );
        assert!(LANGUAGES.len() <= 100, "one completion page");
    }
}
