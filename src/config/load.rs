//! Reading the layers and resolving them into one `Config`: the config file's `KEY=VALUE`
//! lines, the environment and the command-line overrides, highest layer first, a key's own
//! name before its `OTEL_*` fallback, and the closest known name when a key is misspelt.

use std::path::Path;

use super::error::printable;
use super::values::Bad;
use super::{Config, ConfigError, KEYS, Origin, REDACTED, SetKeys, Setting};

/// One `KEY=VALUE` setting of one layer.
#[derive(Debug)]
pub(super) struct Entry {
    /// The name used: a key's `name` or its `fallback`.
    name: &'static str,
    value: String,
    origin: Origin,
}

pub(super) fn read_file(path: &Path) -> Result<String, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        error: e.to_string(),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        ConfigError::Syntax {
            path: path.to_path_buf(),
            line: 1 + valid.iter().filter(|&&b| b == b'\n').count(),
            message: "not valid UTF-8",
        }
    })
}

pub(super) fn parse_file(path: &Path, text: &str) -> Result<Vec<Entry>, ConfigError> {
    // Editors on Windows like to start UTF-8 files with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut entries = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let syntax = |message| ConfigError::Syntax {
            path: path.to_path_buf(),
            line: index + 1,
            message,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => line,
        };
        let Some((key, value)) = line.split_once('=') else {
            return Err(syntax("expected KEY=VALUE"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(syntax("expected KEY=VALUE, found nothing before \"=\""));
        }
        let origin = Origin::File {
            path: path.to_path_buf(),
            line: index + 1,
        };
        let Some(name) = known(key) else {
            return Err(ConfigError::UnknownKey {
                key: key.to_string(),
                origin,
                suggestion: suggest(key),
            });
        };
        let value = unquote(value.trim()).to_string();
        entries.push(Entry {
            name,
            value,
            origin,
        });
    }
    Ok(entries)
}

/// The sans-IO part of `Config::load`: layers in, config out.
pub(super) fn resolve(
    file: &[Entry],
    env: &[(String, String)],
    overrides: &[(String, String)],
) -> Result<Config, ConfigError> {
    let env: Vec<Entry> = env
        .iter()
        .filter_map(|(name, value)| {
            // Empty means unset here: compose files and CI templates often write `KEY=`.
            let value = value.trim();
            let name = known(name).filter(|_| !value.is_empty())?;
            Some(Entry {
                name,
                value: value.to_string(),
                origin: Origin::Environment,
            })
        })
        .collect();
    let overrides = overrides
        .iter()
        .map(|(name, value)| match known(name.trim()) {
            Some(known) => Ok(Entry {
                name: known,
                value: value.trim().to_string(),
                origin: Origin::CommandLine,
            }),
            None => Err(ConfigError::UnknownKey {
                key: name.clone(),
                origin: Origin::CommandLine,
                suggestion: suggest(name.trim()),
            }),
        })
        .collect::<Result<Vec<Entry>, ConfigError>>()?;
    let layers = [overrides.as_slice(), env.as_slice(), file];

    let mut config = Config {
        set_keys: SetKeys::none(),
        ..Config::default()
    };
    for (at, key) in KEYS.iter().enumerate() {
        let Some(entry) = winner(&layers, key.name, key.fallback) else {
            continue;
        };
        config.set_keys.insert(at);
        (key.set)(&mut config, &entry.value, entry.name != key.name).map_err(|Bad| {
            ConfigError::Invalid {
                key: entry.name,
                value: if key.secret {
                    REDACTED.to_string()
                } else {
                    crate::redact::redact_text(&printable(&entry.value)).into_owned()
                },
                origin: entry.origin.clone(),
                expected: key.allowed,
            }
        })?;
    }

    let tracing = &config.telemetry.tracing;
    if tracing.max_export_batch_size > tracing.max_queue_size {
        let setting = |key, value: usize| {
            let origin = winner(&layers, key, None).map_or(Origin::Default, |e| e.origin.clone());
            Box::new(Setting {
                key,
                value: value.to_string(),
                origin,
            })
        };
        return Err(ConfigError::Conflict {
            setting: setting(
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                tracing.max_export_batch_size,
            ),
            rule: "must not be greater than",
            other: setting("OTEL_BSP_MAX_QUEUE_SIZE", tracing.max_queue_size),
        });
    }
    Ok(config)
}

/// The entry for a key in the highest layer that sets it under `name` or `fallback`; within
/// that layer `name` beats `fallback`, and of two lines with the same name the later wins.
/// Layer by layer, not name by name: a higher layer wins whichever name it uses.
fn winner<'a>(layers: &[&'a [Entry]], name: &str, fallback: Option<&str>) -> Option<&'a Entry> {
    layers.iter().find_map(|layer| {
        let last = |wanted: Option<&str>| layer.iter().rev().find(|e| Some(e.name) == wanted);
        last(Some(name)).or_else(|| last(fallback))
    })
}

/// The static spelling of a known name (a key or a fallback).
pub(super) fn known(name: &str) -> Option<&'static str> {
    if !relevant(name) {
        return None;
    }
    // A plain loop: the chained iterator cost about 3,000 instructions a name at
    // opt-level "z", for each variable of the environment (callgrind).
    for key in KEYS {
        if key.name == name {
            return Some(key.name);
        }
        if let Some(fallback) = key.fallback
            && fallback == name
        {
            return Some(fallback);
        }
    }
    None
}

/// Whether `name` can be a setting: every key and fallback starts with one of these.
/// The environment is filtered with it before anything is copied.
pub(super) fn relevant(name: &str) -> bool {
    ["TELEMETRYFLOW_", "OTEL_", "ANTHROPIC_"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

/// The known name closest to `name` (ignoring case), if within edit distance 3.
pub(super) fn suggest(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_uppercase();
    KEYS.iter()
        .flat_map(|key| std::iter::once(key.name).chain(key.fallback))
        .map(|known| (edit_distance(&name, known), known))
        .filter(|&(distance, _)| distance <= 3)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, known)| known)
}

/// Levenshtein distance in characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

fn unquote(value: &str) -> &str {
    ['"', '\'']
        .iter()
        .find_map(|&q| value.strip_prefix(q)?.strip_suffix(q))
        .unwrap_or(value)
}

#[cfg(test)]
mod tests {
    use super::{KEYS, known, relevant};
    use crate::config::testing::{load, value};

    #[test]
    fn every_key_and_fallback_passes_the_environment_filter() {
        for key in KEYS {
            for name in std::iter::once(key.name).chain(key.fallback) {
                assert!(
                    relevant(name),
                    "{name} would be dropped from the environment"
                );
                assert_eq!(known(name), Some(name), "{name} is known");
            }
        }
        for other in [
            "PATH",
            "HOME",
            "TELEMETRYFLOW_MCP_NOPE",
            "OTEL_NOPE",
            "otel_service_name",
        ] {
            assert_eq!(known(other), None, "{other} is not a key");
        }
    }

    #[test]
    fn each_layer_beats_the_one_below() {
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            &'static str,
        );
        // (key, file, env, command line, expected effective value)
        let cases: &[Case] = &[
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
                Some("staging"),
                None,
                None,
                "staging",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
                Some("staging"),
                Some("prod"),
                None,
                "prod",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
                Some("staging"),
                Some("prod"),
                Some("test"),
                "test",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT",
                Some("staging"),
                None,
                Some("test"),
                "test",
            ),
            (
                "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
                Some("0.5"),
                None,
                None,
                "0.5",
            ),
            (
                "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
                Some("0.5"),
                Some("0.25"),
                None,
                "0.25",
            ),
            (
                "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
                Some("0.5"),
                Some("0.25"),
                Some("0"),
                "0.0",
            ),
            (
                "TELEMETRYFLOW_MCP_METRICS_PORT",
                Some("9100"),
                None,
                None,
                "9100",
            ),
            (
                "TELEMETRYFLOW_MCP_METRICS_PORT",
                Some("9100"),
                Some("9200"),
                None,
                "9200",
            ),
            (
                "TELEMETRYFLOW_MCP_METRICS_PORT",
                Some("9100"),
                Some("9200"),
                Some("0"),
                "0",
            ),
            (
                "TELEMETRYFLOW_MCP_LOG_LEVEL",
                Some("debug"),
                None,
                None,
                "DEBUG",
            ),
            (
                "TELEMETRYFLOW_MCP_LOG_LEVEL",
                Some("debug"),
                Some("warn"),
                None,
                "WARNING",
            ),
            (
                "TELEMETRYFLOW_MCP_LOG_LEVEL",
                Some("debug"),
                Some("warn"),
                Some("Error"),
                "ERROR",
            ),
            ("TELEMETRYFLOW_MCP_PAGE_SIZE", Some("10"), None, None, "10"),
            (
                "TELEMETRYFLOW_MCP_PAGE_SIZE",
                Some("10"),
                Some("20"),
                None,
                "20",
            ),
            (
                "TELEMETRYFLOW_MCP_PAGE_SIZE",
                Some("10"),
                Some("20"),
                Some("30"),
                "30",
            ),
        ];
        for &(key, file, env, cli, expected) in cases {
            let file = file.map(|v| format!("{key}={v}\n")).unwrap_or_default();
            let env: Vec<(&str, &str)> = env.map(|v| (key, v)).into_iter().collect();
            let cli: Vec<(&str, &str)> = cli.map(|v| (key, v)).into_iter().collect();
            let config = load(&file, &env, &cli).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(
                value(&config, key),
                expected,
                "{key}: file={file:?} env={env:?} cli={cli:?}"
            );
        }
    }

    #[test]
    fn ours_beats_otel_in_a_layer_and_a_higher_layer_beats_both() {
        type Pairs = &'static [(&'static str, &'static str)];
        // (file, env, command line, key, expected effective value)
        let cases: &[(&str, Pairs, Pairs, &str, &str)] = &[
            (
                "",
                &[("OTEL_SERVICE_NAME", "otel")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "otel",
            ),
            (
                "",
                &[
                    ("TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME", "ours"),
                    ("OTEL_SERVICE_NAME", "otel"),
                ],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "ours",
            ),
            (
                "",
                &[
                    ("OTEL_SERVICE_NAME", "otel"),
                    ("TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME", "ours"),
                ],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "ours",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME=ours\nOTEL_SERVICE_NAME=otel\n",
                &[],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "ours",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME=ours\n",
                &[("OTEL_SERVICE_NAME", "otel")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME",
                "otel",
            ),
            (
                "",
                &[("TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE", "0.5")],
                &[("OTEL_TRACES_SAMPLER_ARG", "0.25")],
                "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE",
                "0.25",
            ),
            (
                "OTEL_TRACES_SAMPLER=always_off\n",
                &[],
                &[],
                "TELEMETRYFLOW_MCP_TRACING_SAMPLER",
                "always_off",
            ),
            (
                "",
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318/")],
                &[],
                "TELEMETRYFLOW_MCP_OTLP_ENDPOINT",
                "https://collector:4318",
            ),
            (
                "",
                &[("OTEL_EXPORTER_OTLP_TIMEOUT", "2500")],
                &[],
                "TELEMETRYFLOW_MCP_OTLP_TIMEOUT_MS",
                "2500",
            ),
            (
                "",
                &[("OTEL_SDK_DISABLED", "true")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "false",
            ),
            (
                "",
                &[("OTEL_SDK_DISABLED", "false")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "true",
            ),
            (
                "",
                &[
                    ("OTEL_SDK_DISABLED", "true"),
                    ("TELEMETRYFLOW_MCP_TELEMETRY_ENABLED", "true"),
                ],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "true",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED=true\n",
                &[("OTEL_SDK_DISABLED", "TRUE")],
                &[],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "false",
            ),
            (
                "",
                &[("OTEL_SDK_DISABLED", "true")],
                &[("TELEMETRYFLOW_MCP_TELEMETRY_ENABLED", "on")],
                "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED",
                "true",
            ),
        ];
        for (file, env, cli, key, expected) in cases {
            let config = load(file, env, cli).unwrap_or_else(|e| panic!("{key}: {e}"));
            assert_eq!(
                &value(&config, key),
                expected,
                "file={file:?} env={env:?} cli={cli:?}"
            );
        }
    }

    #[test]
    fn file_lines_are_trimmed_unquoted_and_later_lines_win() {
        let env_key = "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT";
        let cases: &[(&str, &str)] = &[
            (
                "  TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT  =  prod  \n",
                "prod",
            ),
            (
                "export TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod\n",
                "prod",
            ),
            (
                "export\tTELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod\n",
                "prod",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=\"prod east\"\n",
                "prod east",
            ),
            ("TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT='prod'\n", "prod"),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=\"prod'\n",
                "\"prod'",
            ),
            ("TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=a=b\n", "a=b"),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod # not a comment\n",
                "prod # not a comment",
            ),
            (
                "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=one\nTELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=two\n",
                "two",
            ),
            ("TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod\r\n", "prod"),
            (
                "\u{feff}TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod\n",
                "prod",
            ),
            (
                "  # indented comment\n\t\nTELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT=prod",
                "prod",
            ),
        ];
        for (file, expected) in cases {
            let config = load(file, &[], &[]).unwrap_or_else(|e| panic!("{file:?}: {e}"));
            assert_eq!(value(&config, env_key), *expected, "file {file:?}");
        }
    }

    #[test]
    fn empty_values_are_unset_in_the_environment_only() {
        let key = "TELEMETRYFLOW_MCP_TELEMETRY_ENVIRONMENT";
        let config = load(
            &format!("{key}=staging\n"),
            &[(key, ""), ("OTEL_SERVICE_NAME", "  ")],
            &[],
        );
        let config = config.expect("empty environment values are ignored");
        assert_eq!(
            value(&config, key),
            "staging",
            "an empty env var must not hide the file"
        );
        assert_eq!(
            config.telemetry.service_name, "telemetryflow-mcp",
            "a blank OTEL_* var counts as unset"
        );

        let headers = "TELEMETRYFLOW_MCP_OTLP_HEADERS";
        let cleared = load(
            &format!("{headers}=authorization=x\n"),
            &[],
            &[(headers, "")],
        )
        .expect("empty list");
        assert!(
            cleared.telemetry.tracing.otlp_headers.is_empty(),
            "an empty override clears a list"
        );
        let none =
            load("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=\n", &[], &[]).expect("empty optional URL");
        assert_eq!(none.telemetry.tracing.traces_endpoint, None);
    }
}
