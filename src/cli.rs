//! Command-line parsing: `tfo-mcp [SUBCOMMAND] [OPTIONS]`, by hand (no argument-parsing
//! crate for a grammar this small). Values are not checked here: overrides go to
//! `config::Config::load`, which names the flag's key in its errors.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::PathBuf;

/// Where `tfo-mcp init-config` writes when no PATH is given.
pub const DEFAULT_INIT_CONFIG_PATH: &str = "tfo-mcp.env";

/// What to do.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Serve MCP on stdin/stdout (the default).
    Serve,
    /// Load the configuration, print the effective values and warnings.
    Validate,
    /// Print server information.
    Info,
    /// Write a commented config file to PATH (`None`: `DEFAULT_INIT_CONFIG_PATH`).
    InitConfig(Option<PathBuf>),
    /// Print the version.
    Version,
    /// Print `HELP`.
    Help,
}

/// A parsed command line.
#[derive(Debug, PartialEq)]
pub struct Cli {
    /// The subcommand.
    pub command: Command,
    /// `--config PATH`; when absent the caller may read `TELEMETRYFLOW_MCP_CONFIG`.
    pub config: Option<PathBuf>,
    /// `--set KEY=VALUE` and the shorthands, as configuration keys, in command-line order.
    pub overrides: Vec<(String, String)>,
}

/// A command line that does not follow the grammar; exit code 2.
#[derive(Debug, PartialEq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "usage: {} (see tfo-mcp --help)", self.0)
    }
}

impl std::error::Error for UsageError {}

/// Flags that set one configuration key.
const SHORTHANDS: &[(&str, &str)] = &[
    ("--log-level", "TELEMETRYFLOW_MCP_LOG_LEVEL"),
    ("--log-format", "TELEMETRYFLOW_MCP_LOG_FORMAT"),
    ("--log-output", "TELEMETRYFLOW_MCP_LOG_OUTPUT"),
    ("--metrics-port", "TELEMETRYFLOW_MCP_METRICS_PORT"),
    ("--otlp-endpoint", "TELEMETRYFLOW_MCP_OTLP_ENDPOINT"),
    ("--sample-rate", "TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE"),
];

/// The `--help` text.
pub const HELP: &str = "\
tfo-mcp: an MCP server on stdio whose every request is traced, counted and logged
(OpenTelemetry traces over OTLP/HTTP, Prometheus metrics, structured logs).

Usage: tfo-mcp [SUBCOMMAND] [OPTIONS]

Subcommands:
  serve               Serve MCP on stdin/stdout (the default)
  validate            Load the configuration, print every effective value (secrets
                      redacted) and any warnings; exit 0 if it is valid, 2 if not
  info                Print server information and exit
  init-config [PATH]  Write a commented config file listing every key with its
                      description and default to PATH (default: tfo-mcp.env);
                      an existing file is never overwritten
  help                Print this help

Options (anywhere on the line; VALUE may also be given as --option=VALUE):
  -c, --config PATH         Read KEY=VALUE settings from PATH
                            (default: $TELEMETRYFLOW_MCP_CONFIG, if set)
      --set KEY=VALUE       Set any configuration key; repeatable
      --log-level LEVEL     TELEMETRYFLOW_MCP_LOG_LEVEL: trace, debug, info, warning,
                            error or critical
      --log-format FORMAT   TELEMETRYFLOW_MCP_LOG_FORMAT: json or console
      --log-output OUTPUT   TELEMETRYFLOW_MCP_LOG_OUTPUT: stderr or a file path
                            (stdout carries the protocol and is refused by serve)
      --metrics-port PORT   TELEMETRYFLOW_MCP_METRICS_PORT: 0 to 65535, 0 picks one
      --otlp-endpoint URL   TELEMETRYFLOW_MCP_OTLP_ENDPOINT: OTLP/HTTP base URL
      --sample-rate RATE    TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE: 0.0 to 1.0
  -h, --help                Print this help and exit
  -V, --version             Print the version and exit

Configuration, lowest precedence first: built-in defaults < config file < environment
variables < command-line options; among options the later wins. The config file uses
the environment variable names. For every key, its default and what it does, run
`tfo-mcp init-config` and read tfo-mcp.env.

Exit codes:
  0  success
  1  fatal runtime error
  2  bad configuration or usage
";

/// Parses the arguments after the program name.
pub fn parse<I: IntoIterator<Item = OsString>>(args: I) -> Result<Cli, UsageError> {
    let args: Vec<OsString> = args.into_iter().collect();
    // --help and --version win over everything else on the line, errors included, so a
    // user who is lost always gets help. Only up to `--`, after which nothing is an option.
    let options = args.iter().take_while(|a| *a != "--");
    let wanted = |flags: &[&str]| options.clone().any(|a| flags.iter().any(|f| a == f));
    if wanted(&["--help", "-h"]) {
        return Ok(only(Command::Help));
    }
    if wanted(&["--version", "-V"]) {
        return Ok(only(Command::Version));
    }

    let mut command = None;
    let mut config = None;
    let mut overrides = Vec::new();
    let mut args = args.into_iter();
    let mut positional_only = false;
    while let Some(arg) = args.next() {
        if positional_only || !is_option(&arg) {
            positional(&mut command, arg)?;
            continue;
        }
        let arg = utf8(arg)?;
        if arg == "--" {
            positional_only = true;
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value)),
            _ => (arg.as_str(), None),
        };
        match flag {
            "--config" | "-c" => {
                let path = match inline {
                    Some(path) => PathBuf::from(path),
                    // A path may be any bytes the OS allows, so this form skips the UTF-8 check.
                    None => PathBuf::from(next_value(flag, &mut args)?),
                };
                if path.as_os_str().is_empty() {
                    return Err(UsageError(format!("{flag} needs a value")));
                }
                if config.replace(path).is_some() {
                    return Err(UsageError(format!("{flag} given twice")));
                }
            }
            "--set" => {
                let setting = match inline {
                    Some(setting) => setting.to_string(),
                    None => utf8(next_value(flag, &mut args)?)?,
                };
                match setting.split_once('=') {
                    Some((key, value)) if !key.trim().is_empty() => {
                        overrides.push((key.trim().to_string(), value.to_string()));
                    }
                    _ => {
                        return Err(UsageError(format!(
                            "--set needs KEY=VALUE, got {setting:?}"
                        )));
                    }
                }
            }
            "--help" | "-h" | "--version" | "-V" => {
                return Err(UsageError(format!("{flag} takes no value")));
            }
            _ => {
                let Some(&(_, key)) = SHORTHANDS.iter().find(|(name, _)| *name == flag) else {
                    return Err(UsageError(format!("unknown option {flag}")));
                };
                let value = match inline {
                    Some(value) => value.to_string(),
                    None => utf8(next_value(flag, &mut args)?)?,
                };
                overrides.push((key.to_string(), value));
            }
        }
    }
    Ok(Cli {
        command: command.unwrap_or(Command::Serve),
        config,
        overrides,
    })
}

fn only(command: Command) -> Cli {
    Cli {
        command,
        config: None,
        overrides: Vec::new(),
    }
}

/// `-x` or `--xyz`; a lone `-` is a positional argument (a path, by convention).
fn is_option(arg: &OsStr) -> bool {
    let bytes = arg.as_encoded_bytes();
    bytes.len() > 1 && bytes[0] == b'-'
}

fn utf8(arg: OsString) -> Result<String, UsageError> {
    arg.into_string().map_err(|arg| {
        UsageError(format!(
            "argument {:?} is not valid UTF-8",
            arg.to_string_lossy()
        ))
    })
}

/// The argument after `flag`. One that looks like an option is not taken as the value:
/// `--config --log-level debug` is far more likely a forgotten PATH than a file named
/// `--log-level`; `--config=--log-level` still says the latter.
fn next_value(
    flag: &str,
    args: &mut impl Iterator<Item = OsString>,
) -> Result<OsString, UsageError> {
    match args.next() {
        Some(value) if is_option(&value) => {
            let value = value.to_string_lossy();
            let long = if flag == "-c" { "--config" } else { flag };
            Err(UsageError(format!(
                "{flag} needs a value, found option {value:?} (write {long}={value} if that is the value)"
            )))
        }
        Some(value) => Ok(value),
        None => Err(UsageError(format!("{flag} needs a value"))),
    }
}

fn positional(command: &mut Option<Command>, arg: OsString) -> Result<(), UsageError> {
    match command {
        None => {
            *command = Some(match utf8(arg)?.as_str() {
                "serve" => Command::Serve,
                "validate" => Command::Validate,
                "info" => Command::Info,
                "init-config" => Command::InitConfig(None),
                "help" => Command::Help,
                other => {
                    return Err(UsageError(format!(
                        "unknown subcommand {other:?}; expected serve, validate, info or init-config"
                    )));
                }
            });
            Ok(())
        }
        Some(Command::InitConfig(path @ None)) => {
            *path = Some(PathBuf::from(arg));
            Ok(())
        }
        Some(_) => Err(UsageError(format!(
            "unexpected argument {:?}",
            arg.to_string_lossy()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Cli, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    fn cli(command: Command, config: Option<&str>, overrides: &[(&str, &str)]) -> Cli {
        Cli {
            command,
            config: config.map(PathBuf::from),
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn accepted_command_lines() {
        let cases: Vec<(&[&str], Cli)> = vec![
            (&[], cli(Command::Serve, None, &[])),
            (&["serve"], cli(Command::Serve, None, &[])),
            (&["validate"], cli(Command::Validate, None, &[])),
            (&["info"], cli(Command::Info, None, &[])),
            (&["help"], cli(Command::Help, None, &[])),
            (&["init-config"], cli(Command::InitConfig(None), None, &[])),
            (
                &["init-config", "my.env"],
                cli(
                    Command::InitConfig(Some(PathBuf::from("my.env"))),
                    None,
                    &[],
                ),
            ),
            (
                &["init-config", "--", "-odd.env"],
                cli(
                    Command::InitConfig(Some(PathBuf::from("-odd.env"))),
                    None,
                    &[],
                ),
            ),
            (
                &["init-config", "-"],
                cli(Command::InitConfig(Some(PathBuf::from("-"))), None, &[]),
            ),
            (
                &["--config", "a.env"],
                cli(Command::Serve, Some("a.env"), &[]),
            ),
            (
                &["--config=a.env", "validate"],
                cli(Command::Validate, Some("a.env"), &[]),
            ),
            (
                &["validate", "-c", "a.env"],
                cli(Command::Validate, Some("a.env"), &[]),
            ),
            (
                &["--config=--odd.env"],
                cli(Command::Serve, Some("--odd.env"), &[]),
            ),
            (
                &[
                    "--set",
                    "OTEL_SERVICE_NAME=svc",
                    "--set=TELEMETRYFLOW_MCP_PAGE_SIZE=5",
                ],
                cli(
                    Command::Serve,
                    None,
                    &[
                        ("OTEL_SERVICE_NAME", "svc"),
                        ("TELEMETRYFLOW_MCP_PAGE_SIZE", "5"),
                    ],
                ),
            ),
            (
                &["--set", "OTEL_RESOURCE_ATTRIBUTES=a=1,b=2"],
                cli(
                    Command::Serve,
                    None,
                    &[("OTEL_RESOURCE_ATTRIBUTES", "a=1,b=2")],
                ),
            ),
            (
                &["--set", "TELEMETRYFLOW_MCP_OTLP_HEADERS="],
                cli(
                    Command::Serve,
                    None,
                    &[("TELEMETRYFLOW_MCP_OTLP_HEADERS", "")],
                ),
            ),
            (
                &[
                    "--log-level",
                    "debug",
                    "--log-format=console",
                    "--log-output",
                    "/tmp/t.log",
                    "--metrics-port",
                    "0",
                    "--otlp-endpoint=http://c:4318",
                    "--sample-rate",
                    "0.5",
                    "info",
                ],
                cli(
                    Command::Info,
                    None,
                    &[
                        ("TELEMETRYFLOW_MCP_LOG_LEVEL", "debug"),
                        ("TELEMETRYFLOW_MCP_LOG_FORMAT", "console"),
                        ("TELEMETRYFLOW_MCP_LOG_OUTPUT", "/tmp/t.log"),
                        ("TELEMETRYFLOW_MCP_METRICS_PORT", "0"),
                        ("TELEMETRYFLOW_MCP_OTLP_ENDPOINT", "http://c:4318"),
                        ("TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE", "0.5"),
                    ],
                ),
            ),
            (
                &["--log-level=", "--log-level", "info"],
                cli(
                    Command::Serve,
                    None,
                    &[
                        ("TELEMETRYFLOW_MCP_LOG_LEVEL", ""),
                        ("TELEMETRYFLOW_MCP_LOG_LEVEL", "info"),
                    ],
                ),
            ),
            (&["--version"], cli(Command::Version, None, &[])),
            (&["-V", "validate"], cli(Command::Version, None, &[])),
            (&["--help"], cli(Command::Help, None, &[])),
            (
                &["validate", "--bogus", "-h"],
                cli(Command::Help, None, &[]),
            ),
            (&["--version", "--help"], cli(Command::Help, None, &[])),
            (
                &["init-config", "--", "--help"],
                cli(
                    Command::InitConfig(Some(PathBuf::from("--help"))),
                    None,
                    &[],
                ),
            ),
        ];
        for (args, expected) in cases {
            assert_eq!(run(args), Ok(expected), "{args:?}");
        }
    }

    #[test]
    fn rejected_command_lines_say_why_in_one_line() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["--bogus"],
                "usage: unknown option --bogus (see tfo-mcp --help)",
            ),
            (&["-x"], "usage: unknown option -x (see tfo-mcp --help)"),
            (
                &["-c=a.env"],
                "usage: unknown option -c=a.env (see tfo-mcp --help)",
            ),
            (
                &["--config"],
                "usage: --config needs a value (see tfo-mcp --help)",
            ),
            (
                &["-c", "--log-level", "debug"],
                "usage: -c needs a value, found option \"--log-level\" (write --config=--log-level if that is the \
                 value) (see tfo-mcp --help)",
            ),
            (
                &["--config="],
                "usage: --config needs a value (see tfo-mcp --help)",
            ),
            (
                &["-c", "a.env", "--config", "b.env"],
                "usage: --config given twice (see tfo-mcp --help)",
            ),
            (
                &["--log-level"],
                "usage: --log-level needs a value (see tfo-mcp --help)",
            ),
            (
                &["--sample-rate", "-0.5"],
                "usage: --sample-rate needs a value, found option \"-0.5\" (write --sample-rate=-0.5 if that \
                 is the value) (see tfo-mcp --help)",
            ),
            (
                &["--set"],
                "usage: --set needs a value (see tfo-mcp --help)",
            ),
            (
                &["--set", "PAGE_SIZE"],
                "usage: --set needs KEY=VALUE, got \"PAGE_SIZE\" (see tfo-mcp --help)",
            ),
            (
                &["--set==5"],
                "usage: --set needs KEY=VALUE, got \"=5\" (see tfo-mcp --help)",
            ),
            (
                &["--help=yes"],
                "usage: --help takes no value (see tfo-mcp --help)",
            ),
            (
                &["serv"],
                "usage: unknown subcommand \"serv\"; expected serve, validate, info or init-config \
                 (see tfo-mcp --help)",
            ),
            (
                &["my.env"],
                "usage: unknown subcommand \"my.env\"; expected serve, validate, info or init-config \
                 (see tfo-mcp --help)",
            ),
            (
                &["validate", "extra"],
                "usage: unexpected argument \"extra\" (see tfo-mcp --help)",
            ),
            (
                &["serve", "validate"],
                "usage: unexpected argument \"validate\" (see tfo-mcp --help)",
            ),
            (
                &["init-config", "a.env", "b.env"],
                "usage: unexpected argument \"b.env\" (see tfo-mcp --help)",
            ),
        ];
        for (args, expected) in cases {
            let error = run(args).expect_err(expected);
            assert_eq!(error.to_string(), *expected, "{args:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_arguments_are_refused_except_as_a_separate_path() {
        use std::os::unix::ffi::OsStringExt;
        let bad = || OsString::from_vec(b"caf\xe9".to_vec());
        let lossy = "usage: argument \"caf\u{FFFD}\" is not valid UTF-8 (see tfo-mcp --help)";
        let refused: Vec<Vec<OsString>> = vec![
            vec![bad()],
            vec!["--log-level".into(), bad()],
            vec!["--set".into(), bad()],
            vec![OsString::from_vec(b"--config=caf\xe9".to_vec())],
        ];
        for args in refused {
            let error = parse(args.clone()).expect_err("non-UTF-8 argument");
            assert_eq!(
                error.to_string().replace("--config=", ""),
                lossy,
                "{args:?}"
            );
        }
        let accepted = parse(vec!["--config".into(), bad(), "init-config".into(), bad()]);
        assert_eq!(
            accepted,
            Ok(Cli {
                command: Command::InitConfig(Some(PathBuf::from(bad()))),
                config: Some(PathBuf::from(bad())),
                overrides: Vec::new(),
            }),
            "paths may be any bytes"
        );
    }

    #[test]
    fn shorthands_and_help_agree_with_the_config_keys() {
        for (flag, key) in SHORTHANDS {
            assert!(
                crate::config::KEYS.iter().any(|k| k.name == *key),
                "{flag} sets unknown key {key}"
            );
            assert!(
                HELP.contains(flag) && HELP.contains(key),
                "HELP does not document {flag}"
            );
        }
        for needle in [
            "serve",
            "validate",
            "info",
            "init-config",
            "--config",
            "--set",
            "tfo-mcp init-config",
        ] {
            assert!(HELP.contains(needle), "HELP does not mention {needle}");
        }
        for code in [
            "0  success",
            "1  fatal runtime error",
            "2  bad configuration or usage",
        ] {
            assert!(HELP.contains(code), "HELP does not list exit code {code}");
        }
        assert!(HELP.contains(DEFAULT_INIT_CONFIG_PATH));
    }
}
