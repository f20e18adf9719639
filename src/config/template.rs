//! The commented config file written by `tfo-mcp init-config`: every key of `KEYS` with its
//! description, allowed values and default. The tests hold the README's key table to the
//! same source.

use super::{Config, KEYS};

impl Config {
    /// A commented config file listing every key with its description, allowed values and
    /// default as `# KEY=default`; written by `tfo-mcp init-config`.
    pub fn template() -> String {
        let mut out = String::from(TEMPLATE_HEADER);
        let mut section = "";
        for key in KEYS {
            if key.section != section {
                section = key.section;
                out.push_str(&format!("\n# ===== {section} =====\n"));
            }
            out.push('\n');
            let mut notes = vec![
                key.description.to_string(),
                format!("Allowed: {}.", key.allowed),
            ];
            if let Some(fallback) = key.fallback {
                notes.push(format!(
                    "Fallback: {fallback}, read when {} is not set in the same layer.",
                    key.name
                ));
            }
            for line in notes.iter().flat_map(|note| wrap(note, 88)) {
                out.push_str(&format!("# {line}\n"));
            }
            out.push_str(&format!("# {}={}\n", key.name, key.default));
        }
        out
    }
}

const TEMPLATE_HEADER: &str = "\
# tfo-mcp configuration file, written by `tfo-mcp init-config`.
#
# Format: one KEY=VALUE per line, with exactly the environment variable names. Blank lines
# and lines starting with # are ignored. Whitespace around KEY and VALUE is trimmed, one pair
# of surrounding double or single quotes is removed from VALUE, and an `export ` prefix is
# allowed. There are no escapes and no comments after a value. When a key appears twice, the
# later line wins. Unknown keys are an error.
#
# Precedence, lowest first: built-in defaults < this file < environment variables <
# command-line flags (--set KEY=VALUE and the shorthands). Within one layer a
# TELEMETRYFLOW_MCP_* name beats its OTEL_* fallback; across layers the higher layer wins
# whichever name it uses, so OTEL_SERVICE_NAME in the environment beats
# TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME in this file. An empty environment variable
# counts as unset.
#
# Every key below is commented out and shows its default: uncomment a line to change it,
# then check the result with `tfo-mcp validate --config FILE`.
";

pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Sources;
    use crate::config::load::known;
    use crate::config::testing::{load, temp_path};

    #[test]
    fn template_lists_every_key_once_and_parses_back_to_the_defaults() {
        let template = Config::template();
        assert!(
            template.contains("Precedence")
                && template.contains("OTEL_SERVICE_NAME in the environment beats")
        );
        let mut uncommented = String::new();
        for line in template.lines() {
            assert!(
                line.is_empty() || line.starts_with('#'),
                "template line is not a comment: {line:?}"
            );
            // Any known name counts here, fallbacks too, so that a wrapped description line
            // that a user might uncomment by mistake shows up as a duplicate below.
            let setting = line
                .strip_prefix("# ")
                .filter(|l| l.split_once('=').is_some_and(|(k, _)| known(k).is_some()));
            if let Some(setting) = setting {
                uncommented.push_str(setting);
                uncommented.push('\n');
            }
        }
        let written: Vec<&str> = uncommented
            .lines()
            .map(|l| l.split_once('=').map_or(l, |(k, _)| k))
            .collect();
        let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        assert_eq!(written, names, "every key exactly once, in table order");
        assert_eq!(load(&uncommented, &[], &[]), Ok(Config::default()));

        let path = temp_path("template.env");
        std::fs::write(&path, &uncommented).expect("write temp file");
        let loaded = Config::load(&Sources {
            file: Some(path.clone()),
            ..Sources::default()
        });
        std::fs::remove_file(&path).expect("remove temp file");
        assert_eq!(loaded, Ok(Config::default()), "the same through the disk");
    }

    /// The key table of README.md, as KEYS says it should read.
    fn readme_table() -> String {
        let mut table = String::from(
            "| Key | Default | Allowed values | What it does |\n| --- | --- | --- | --- |\n",
        );
        for key in KEYS {
            let default = match key.default {
                _ if key.name == "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_VERSION" => {
                    "the crate version".to_string()
                }
                "" => "(empty)".to_string(),
                default => format!("`{default}`"),
            };
            let fallback = key
                .fallback
                .map(|f| format!(" Fallback: `{f}`."))
                .unwrap_or_default();
            table.push_str(&format!(
                "| `{}` | {default} | {} | {}{fallback} |\n",
                key.name, key.allowed, key.description
            ));
        }
        table
    }

    #[test]
    fn readme_documents_every_key() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
        assert!(
            readme.contains("## Configuration"),
            "README.md lacks its Configuration section"
        );
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README.md's key table is out of date with KEYS; it should read:\n{table}"
        );
        for name in KEYS
            .iter()
            .flat_map(|k| std::iter::once(k.name).chain(k.fallback))
        {
            assert!(
                readme.contains(&format!("`{name}`")),
                "README.md does not mention `{name}`"
            );
        }
        let example = readme
            .split_once("```sh\n# /etc/tfo-mcp.env\n")
            .and_then(|(_, rest)| rest.split_once("```"))
            .map(|(example, _)| example)
            .expect("README.md has the example config file");
        let config = load(example, &[], &[]).expect("README.md's example config file loads");
        assert_eq!(
            config.telemetry.resource_attributes[1],
            ("team".to_string(), "platform tools".to_string())
        );
    }
}
