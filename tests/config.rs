//! Configuration through the real binary: layer precedence (defaults < file <
//! environment < flags), each error message with exit code 2, secrets masked,
//! `init-config`, and settings actually reaching the server.

mod common;

use common::{Server, command};
use serde_json::json;
use std::path::PathBuf;
use std::process::Output;

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    command()
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run tfo-mcp")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tfo-mcp-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write temp file");
    path
}

fn effective(o: &Output, key: &str) -> String {
    stdout(o)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
        .unwrap_or_else(|| panic!("{key} in validate output:\n{}", stdout(o)))
}

#[test]
fn each_layer_beats_the_one_below() {
    let key = "TELEMETRYFLOW_MCP_LOG_LEVEL";
    let file = temp_file(
        "layers.env",
        "# comment\nTELEMETRYFLOW_MCP_LOG_LEVEL=warning\nTELEMETRYFLOW_MCP_PAGE_SIZE=7\n",
    );
    let file = file.to_str().expect("utf-8 path");
    #[allow(clippy::type_complexity)] // a table: arguments, environment, expected level, why
    let cases: &[(&[&str], &[(&str, &str)], &str, &str)] = &[
        (&["validate"], &[], "INFO", "default"),
        (
            &["validate", "--config", file],
            &[],
            "WARNING",
            "file beats default",
        ),
        (
            &["validate"],
            &[("TELEMETRYFLOW_MCP_CONFIG", file)],
            "WARNING",
            "file from TELEMETRYFLOW_MCP_CONFIG",
        ),
        (
            &["validate", "--config", file],
            &[(key, "error")],
            "ERROR",
            "environment beats file",
        ),
        (
            &["validate", "--config", file, "--log-level", "debug"],
            &[(key, "error")],
            "DEBUG",
            "flag beats environment",
        ),
        (
            &["validate", "--set", "TELEMETRYFLOW_MCP_LOG_LEVEL=critical"],
            &[(key, "error")],
            "CRITICAL",
            "--set beats environment",
        ),
    ];
    for (args, env, want, why) in cases {
        let o = run(args, env);
        assert_eq!(o.status.code(), Some(0), "{why}: {}", stderr(&o));
        assert_eq!(effective(&o, key), *want, "{why}");
    }
    let o = run(&["validate", "--config", file], &[]);
    assert_eq!(
        effective(&o, "TELEMETRYFLOW_MCP_PAGE_SIZE"),
        "7",
        "other file keys kept"
    );
}

#[test]
fn ours_beat_opentelemetry_names_within_a_layer() {
    let o = run(&["validate"], &[("OTEL_SERVICE_NAME", "otel-name")]);
    assert_eq!(
        effective(&o, "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME"),
        "otel-name",
        "OTEL fallback read"
    );
    let o = run(
        &["validate"],
        &[
            ("OTEL_SERVICE_NAME", "otel-name"),
            ("TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME", "ours"),
        ],
    );
    assert_eq!(
        effective(&o, "TELEMETRYFLOW_MCP_TELEMETRY_SERVICE_NAME"),
        "ours"
    );
    let o = run(&["validate"], &[("OTEL_SDK_DISABLED", "true")]);
    assert_eq!(
        effective(&o, "TELEMETRYFLOW_MCP_TELEMETRY_ENABLED"),
        "false",
        "OTEL_SDK_DISABLED turns telemetry off"
    );
}

#[test]
fn bad_configuration_exits_2_with_one_line_naming_key_value_and_rule() {
    let bad_file = temp_file(
        "bad.env",
        "TELEMETRYFLOW_MCP_LOG_LEVEL=info\nTELEMETRYFLOW_MCP_METRICS_PORT=abc\n",
    );
    let typo_file = temp_file("typo.env", "TELEMETRYFLOW_MCP_LOG_LEVL=debug\n");
    let bad = bad_file.display().to_string();
    let typo = typo_file.display().to_string();
    #[allow(clippy::type_complexity)] // a table: arguments, environment, expected message
    let cases: Vec<(Vec<&str>, Vec<(&str, &str)>, String)> = vec![
        (
            vec!["validate"],
            vec![("TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE", "1.5")],
            "tfo-mcp: config: TELEMETRYFLOW_MCP_TRACING_SAMPLE_RATE=1.5 (environment): expected a number from 0.0 to 1.0".into(),
        ),
        (
            vec!["validate", "--config", &bad],
            vec![],
            format!("tfo-mcp: config: TELEMETRYFLOW_MCP_METRICS_PORT=abc ({bad}:2): expected an integer from 0 to 65535"),
        ),
        (
            vec!["validate", "--config", &typo],
            vec![],
            format!("tfo-mcp: config: unknown key TELEMETRYFLOW_MCP_LOG_LEVL ({typo}:1); did you mean TELEMETRYFLOW_MCP_LOG_LEVEL?"),
        ),
        (vec!["--bogus"], vec![], "tfo-mcp: usage: unknown option --bogus (see tfo-mcp --help)".into()),
        (
            vec![],
            vec![("TELEMETRYFLOW_MCP_LOG_OUTPUT", "stdout")],
            "tfo-mcp: config: TELEMETRYFLOW_MCP_LOG_OUTPUT=stdout is refused when serving on stdio: stdout carries the MCP protocol; use stderr or a file path".into(),
        ),
    ];
    for (args, env, want) in cases {
        let o = run(&args, &env);
        assert_eq!(o.status.code(), Some(2), "exit code for {args:?} {env:?}");
        assert_eq!(stderr(&o).trim_end(), want, "message for {args:?} {env:?}");
        assert!(o.stdout.is_empty(), "nothing on stdout for {args:?}");
    }
    let o = run(&["validate", "--config", "/nonexistent/tfo.env"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/tfo.env"),
        "names the missing file: {}",
        stderr(&o)
    );
}

#[test]
fn secrets_are_masked_in_validate_output() {
    let o = run(
        &["validate"],
        &[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer sekrit-token,x-team=a",
        )],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(
        !stdout(&o).contains("sekrit"),
        "header values never printed:\n{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("authorization=[REDACTED]"));
}

#[test]
fn init_config_writes_a_template_that_validates_and_refuses_to_overwrite() {
    let dir = std::env::temp_dir().join(format!("tfo-mcp-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("tfo.env");
    let path_text = path.to_str().expect("utf-8");
    let o = run(&["init-config", path_text], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(&path).expect("written");
    for key in [
        "TELEMETRYFLOW_MCP_LOG_LEVEL",
        "TELEMETRYFLOW_MCP_OTLP_ENDPOINT",
        "TELEMETRYFLOW_MCP_MAX_LINE_BYTES",
    ] {
        assert!(text.contains(key), "template lists {key}");
    }
    let defaults = run(&["validate"], &[]);
    let from_file = run(&["validate", "--config", path_text], &[]);
    assert_eq!(from_file.status.code(), Some(0), "{}", stderr(&from_file));
    assert_eq!(
        stdout(&from_file),
        stdout(&defaults),
        "the template holds the defaults"
    );
    let again = run(&["init-config", path_text], &[]);
    assert_eq!(again.status.code(), Some(2), "refuses to overwrite");
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("still there"),
        text,
        "file untouched"
    );
}

#[test]
fn version_help_and_info() {
    let o = run(&["--version"], &[]);
    assert_eq!(
        stdout(&o),
        format!("tfo-mcp {}\n", env!("CARGO_PKG_VERSION"))
    );
    let o = run(&["--help"], &[]);
    assert_eq!(o.status.code(), Some(0));
    for word in ["serve", "validate", "info", "init-config", "--config"] {
        assert!(stdout(&o).contains(word), "help mentions {word}");
    }
    let o = run(&["info"], &[("TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS", "true")]);
    for word in ["2024-11-05", "2026-07-28", "echo", "system_info", "sleep"] {
        assert!(
            stdout(&o).contains(word),
            "info mentions {word}:\n{}",
            stdout(&o)
        );
    }
}

#[test]
fn settings_from_a_file_reach_the_running_server() {
    let file = temp_file(
        "serve.env",
        "TELEMETRYFLOW_MCP_PAGE_SIZE=1\nTELEMETRYFLOW_MCP_LOG_FORMAT=console\n",
    );
    let mut cmd = command();
    cmd.args(["serve", "--config", file.to_str().expect("utf-8")]);
    cmd.env("TELEMETRYFLOW_MCP_METRICS_PORT", "0");
    let mut s = Server::spawn(cmd);
    s.initialize("2025-06-18");
    let page = s.call(json!(1), "tools/list", json!({}));
    assert_eq!(
        page["result"]["tools"].as_array().map(Vec::len),
        Some(1),
        "page size from the file: {page}"
    );
    assert!(page["result"]["nextCursor"].is_string());
    s.close_stdin();
    s.wait_exit(std::time::Duration::from_secs(5));
    assert!(
        s.stderr().contains(" INFO "),
        "console log format from the file:\n{}",
        s.stderr()
    );
}

/// `validate` and `info` name the Claude endpoint without the password a URL may
/// carry, and a config line whose key is not a key (`NAME: value # x=1`) is quoted
/// redacted.
#[test]
fn secrets_in_urls_and_unknown_lines_are_not_printed() {
    let env = [
        (
            "TELEMETRYFLOW_MCP_CLAUDE_API_KEY",
            "sk-ant-api03-validate-test-key",
        ),
        (
            "TELEMETRYFLOW_MCP_CLAUDE_BASE_URL",
            "http://u:cbSECRETpass@127.0.0.1:1",
        ),
    ];
    for command in ["validate", "info"] {
        let o = run(&[command], &env);
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(!out.contains("cbSECRETpass"), "{command}:\n{out}");
        assert!(!out.contains("validate-test-key"), "{command}:\n{out}");
    }
    // Secrets behind escapes, beside secrets in plain sight and encoded twice: the
    // plain one used to end the search before the escapes were looked behind.
    let env = [
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "token=abc,db.conn=password%3DraSECRET1",
        ),
        (
            "OTEL_SERVICE_NAME",
            "Bearer abcdefgh1 x%20Bearer%20snSECRET2 password%253DsnSECRET3",
        ),
        ("TELEMETRYFLOW_MCP_METRICS_PORT", "0"),
    ];
    for args in [&["validate"][..], &["info"], &[]] {
        let o = run(args, &env);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        // Served (no arguments, stdin at its end): the start record is on stderr.
        let all = format!("{}{}", stdout(&o), stderr(&o));
        for secret in ["raSECRET1", "snSECRET2", "snSECRET3"] {
            assert!(!all.contains(secret), "{args:?} shows {secret}:\n{all}");
        }
    }
    let file = temp_file(
        "colon.env",
        "ANTHROPIC_API_KEY: sk-ant-api03-CFSECRETCFSECRET # old=1\n",
    );
    let o = run(&["validate", "--config", &file.to_string_lossy()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("unknown key"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("CFSECRET"), "{}", stderr(&o));
}
