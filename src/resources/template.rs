//! URI templates of RFC 6570 level 1 (`{name}` simple expansion), the kind
//! `resources/templates/list` advertises, and matching a requested URI against one.
//!
//! Matching is the inverse of expansion: literals must appear verbatim, a variable
//! followed by a literal takes one path segment (no `/`), and the last variable takes
//! the rest of the URI, slashes included, so `file:///{path}` covers nested paths. A
//! raw `?` or `#` (a query, a fragment) is no part of a value, which expansion escapes.
//! Values are percent-decoded; a malformed escape, non-UTF-8 bytes or a NUL byte make
//! the URI invalid rather than merely unmatched.

use std::fmt;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(&'static str),
    Var(&'static str),
}

/// Why a template or a value in a URI is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// A `{` without `}`, an empty or non-identifier name, or a stray `}`.
    Syntax(&'static str),
    /// Two variables side by side: no literal tells where one ends.
    Adjacent(&'static str),
    /// A `%` not followed by two hex digits in the value of `name`.
    BadEscape(&'static str),
    /// The decoded value of `name` is not UTF-8 or holds a NUL byte.
    BadValue(&'static str),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Syntax(t) => write!(f, "uri template: bad syntax in {t}"),
            TemplateError::Adjacent(t) => write!(f, "uri template: adjacent variables in {t}"),
            TemplateError::BadEscape(name) => write!(
                f,
                "`{name}` has a malformed percent-escape (% must be followed by two hex digits)"
            ),
            TemplateError::BadValue(name) => write!(
                f,
                "`{name}` decodes to bytes that are not UTF-8 text or to a NUL byte"
            ),
        }
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    /// Parses `text` (`scheme://literal/{var}...`).
    pub fn parse(text: &'static str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            match rest.find(['{', '}']) {
                Some(0) if rest.starts_with('{') => {
                    let end = rest.find('}').ok_or(TemplateError::Syntax(text))?;
                    let name = &rest[1..end];
                    let ident = !name.is_empty()
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                    if !ident {
                        return Err(TemplateError::Syntax(text));
                    }
                    if matches!(parts.last(), Some(Part::Var(_))) {
                        return Err(TemplateError::Adjacent(text));
                    }
                    parts.push(Part::Var(name));
                    rest = &rest[end + 1..];
                }
                Some(i) if rest[i..].starts_with('}') => return Err(TemplateError::Syntax(text)),
                Some(i) => {
                    parts.push(Part::Literal(&rest[..i]));
                    rest = &rest[i..];
                }
                None => {
                    parts.push(Part::Literal(rest));
                    rest = "";
                }
            }
        }
        Ok(Template { parts })
    }

    /// Variable names, in order.
    pub fn variables(&self) -> Vec<&'static str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var(name) => Some(*name),
                Part::Literal(_) => None,
            })
            .collect()
    }

    /// The decoded variables when `uri` is an expansion of this template; `Ok(None)`
    /// when it is not; an error when it is, but a value is malformed.
    pub fn matches(&self, uri: &str) -> Result<Option<Vec<(&'static str, String)>>, TemplateError> {
        let mut vars = Vec::new();
        let mut rest = uri;
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(lit) => match rest.strip_prefix(lit) {
                    Some(after) => rest = after,
                    None => return Ok(None),
                },
                Part::Var(name) => {
                    let raw = match self.parts.get(i + 1) {
                        Some(Part::Literal(next)) => {
                            let Some(end) = rest.find(next) else {
                                return Ok(None);
                            };
                            let raw = &rest[..end];
                            if raw.contains('/') {
                                return Ok(None);
                            }
                            rest = &rest[end..];
                            raw
                        }
                        _ => std::mem::take(&mut rest),
                    };
                    // `?` and `#` start a URI's query and fragment: an expansion
                    // escapes them in a value, so a raw one is no part of it.
                    if raw.is_empty() || raw.contains(['?', '#']) {
                        return Ok(None);
                    }
                    vars.push((*name, decode(raw, name)?));
                }
            }
        }
        Ok(rest.is_empty().then_some(vars))
    }
}

/// Percent-decodes `raw`, the value of variable `name`.
fn decode(raw: &str, name: &'static str) -> Result<String, TemplateError> {
    let out = crate::bytes::percent_decode(raw).ok_or(TemplateError::BadEscape(name))?;
    match String::from_utf8(out) {
        Ok(text) if !text.contains('\0') => Ok(text),
        _ => Err(TemplateError::BadValue(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_level_one_templates_only() {
        let cases: [(&'static str, Result<Vec<&str>, &str>); 8] = [
            ("file:///{path}", Ok(vec!["path"])),
            ("config://server/{key}", Ok(vec!["key"])),
            ("db://{table}/rows/{id}", Ok(vec!["table", "id"])),
            ("status://health", Ok(vec![])),
            ("x://{a}{b}", Err("adjacent")),
            ("x://{a", Err("syntax")),
            ("x://a}", Err("syntax")),
            ("x://{a-b}", Err("syntax")),
        ];
        for (text, expected) in cases {
            match (Template::parse(text), expected) {
                (Ok(t), Ok(vars)) => assert_eq!(t.variables(), vars, "{text}"),
                (Err(e), Err(kind)) => assert!(e.to_string().contains(kind), "{text}: {e}"),
                (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn matching_decodes_values_and_keeps_slashes_in_the_last_variable() {
        let file = Template::parse("file:///{path}").expect("valid");
        let rows = Template::parse("db://{table}/rows/{id}").expect("valid");
        let v = |pairs: &[(&'static str, &str)]| {
            Ok(Some(
                pairs
                    .iter()
                    .map(|(k, v)| (*k, v.to_string()))
                    .collect::<Vec<_>>(),
            ))
        };
        let cases = [
            (&file, "file:///etc/hosts", v(&[("path", "etc/hosts")])),
            (&file, "file:///a%20b/c%2Fd", v(&[("path", "a b/c/d")])),
            (&file, "file:///caf%C3%A9", v(&[("path", "café")])),
            (&file, "file:///", Ok(None)),
            (&file, "file:///etc/hosts?x#y", Ok(None)),
            (&file, "file:///etc/hosts#top", Ok(None)),
            (&file, "file:///what%3F%23", v(&[("path", "what?#")])),
            (&file, "file://host/x", Ok(None)),
            (&file, "file:///a%2", Err(TemplateError::BadEscape("path"))),
            (&file, "file:///a%zz", Err(TemplateError::BadEscape("path"))),
            (&file, "file:///a%+1", Err(TemplateError::BadEscape("path"))),
            (&file, "file:///a%00b", Err(TemplateError::BadValue("path"))),
            (&file, "file:///%FF", Err(TemplateError::BadValue("path"))),
            (
                &rows,
                "db://users/rows/7",
                v(&[("table", "users"), ("id", "7")]),
            ),
            (&rows, "db://a/b/rows/7", Ok(None)),
            (&rows, "db://users/rows/", Ok(None)),
            (&rows, "db://users/cols/7", Ok(None)),
        ];
        for (template, uri, expected) in cases {
            assert_eq!(template.matches(uri), expected, "{uri}");
        }
    }
}
