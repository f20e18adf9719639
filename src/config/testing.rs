//! Helpers shared by the config unit tests: loading from text instead of the disk, and
//! reading one effective value back.

use std::path::{Path, PathBuf};

use super::load::{parse_file, resolve};
use super::{Config, ConfigError};

const FILE: &str = "/etc/tfo.env";

pub(super) fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `Config::load` with the file given as text, so no test touches the disk but those
/// about reading.
pub(super) fn load(
    file: &str,
    env: &[(&str, &str)],
    cli: &[(&str, &str)],
) -> Result<Config, ConfigError> {
    let entries = parse_file(Path::new(FILE), file)?;
    resolve(&entries, &owned(env), &owned(cli))
}

#[derive(Debug, Clone, Copy)]
pub(super) enum At {
    /// Line 3 of `FILE`.
    File,
    Env,
    Cli,
}

pub(super) fn load_at(at: At, key: &str, value: &str) -> Result<Config, ConfigError> {
    match at {
        At::File => load(&format!("# tfo-mcp\n\n{key}={value}\n"), &[], &[]),
        At::Env => load("", &[(key, value)], &[]),
        At::Cli => load("", &[], &[(key, value)]),
    }
}

pub(super) fn value(config: &Config, key: &str) -> String {
    let found = config.effective().into_iter().find(|(k, _)| *k == key);
    found
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{key} missing from effective()"))
}

pub(super) fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tfo-mcp-config-{}-{name}", std::process::id()))
}
