//! The `tfo-mcp` binary: parse the command line, load the configuration, start
//! logging, run. Exit codes: 0 normal, 1 fatal runtime error, 2 bad configuration or usage.

use std::io::Write;
use std::process::ExitCode;
use tfo_mcp::cli::{self, Command};
use tfo_mcp::config::{self, Config, LogOutput, Sources};
use tfo_mcp::mcp::Version;

const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = match cli::parse(std::env::args_os().skip(1)) {
        Ok(cli) => cli,
        Err(e) => return fail(USAGE_ERROR, &e),
    };
    match cli.command {
        Command::Help => return print(cli::HELP),
        Command::Version => return print(&format!("tfo-mcp {}\n", env!("CARGO_PKG_VERSION"))),
        Command::InitConfig(path) => return init_config(path),
        _ => {}
    }
    let file = cli.config.or_else(|| {
        std::env::var_os(config::CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(Into::into)
    });
    let sources = Sources::from_process(file, cli.overrides);
    let config = match Config::load(&sources) {
        Ok(config) => config,
        Err(e) => return fail(USAGE_ERROR, &e),
    };
    let mut warnings = config::unknown_env_keys(&sources);
    warnings.extend(config::warnings(&config));
    match cli.command {
        Command::Validate => validate(&config, &warnings),
        Command::Info => info(&config),
        _ => serve(config, &warnings),
    }
}

fn serve(config: Config, warnings: &[String]) -> ExitCode {
    if config.telemetry.logging.output == LogOutput::Stdout {
        return fail(
            USAGE_ERROR,
            &"config: TELEMETRYFLOW_MCP_LOG_OUTPUT=stdout is refused when serving on stdio: stdout carries the MCP protocol; use stderr or a file path",
        );
    }
    // Background threads wait until the first answer is out (the runtime releases them).
    tfo_mcp::threads::hold();
    let logging = match tfo_mcp::logging::init(&config) {
        Ok(logging) => logging,
        Err(e) => {
            tfo_mcp::threads::release();
            return fail(USAGE_ERROR, &e);
        }
    };
    // A panic inside one request is answered with -32603 and the server goes on;
    // the hook only reports it, as one log record instead of a backtrace dump.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current().name().unwrap_or("?").to_string();
        log::error!(location = location.as_str(), thread = thread.as_str(); "panic: {}", panic_message(info.payload()));
    }));
    for warning in warnings {
        log::warn!("{warning}");
    }
    tfo_mcp::logging::starting(&config);
    let result = tfo_mcp::runtime::serve_stdio(config, |deadline| {
        tfo_mcp::logging::stopped();
        logging.shutdown(deadline);
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tfo_mcp::threads::release();
            log::error!(error:% = e; "fatal runtime error");
            logging.shutdown(std::time::Instant::now() + tfo_mcp::runtime::FLUSH_DEADLINE);
            fail(1, &e)
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

fn validate(config: &Config, warnings: &[String]) -> ExitCode {
    let mut text = String::new();
    for (key, value) in config.effective() {
        text.push_str(&format!("{key}={value}\n"));
    }
    // A comment line, so the output still loads as a config file.
    text.push_str(&format!("# {}\n", claude_status(config)));
    for warning in warnings {
        eprintln!(
            "tfo-mcp: warning: {}",
            tfo_mcp::redact::redact_text(warning)
        );
    }
    print(&text)
}

/// Whether `claude_conversation` is served, for `validate` and `info`.
fn claude_status(config: &Config) -> String {
    match config.claude.api_key {
        Some(_) => format!(
            "claude_conversation: served (API key set; model {}, {})",
            config.claude.model,
            // The URL may carry a password (`http://user:password@host`).
            tfo_mcp::redact::redact_text(&config.claude.base_url)
        ),
        None => "claude_conversation: not served (set TELEMETRYFLOW_MCP_CLAUDE_API_KEY or ANTHROPIC_API_KEY)"
            .to_string(),
    }
}

fn info(config: &Config) -> ExitCode {
    // The registries the server would serve, without building a server.
    let tools = tfo_mcp::tools::Registry::builtin(config);
    let resources = tfo_mcp::resources::Registry::builtin();
    let mut text = format!(
        "tfo-mcp {}\n\nprotocol versions:\n",
        env!("CARGO_PKG_VERSION")
    );
    for version in Version::all() {
        let era = if version.is_modern() {
            "per-request _meta, server/discover"
        } else {
            "initialize handshake"
        };
        text.push_str(&format!("  {version}  ({era})\n"));
    }
    text.push_str("\ntools:\n");
    for tool in tools.all() {
        text.push_str(&format!("  {:<20} {}\n", tool.name, tool.title));
    }
    text.push_str("\nresources:\n");
    for resource in resources.resources() {
        text.push_str(&format!("  {:<30} {}\n", resource.uri, resource.title));
    }
    text.push_str("\nresource templates:\n");
    for template in resources.templates() {
        text.push_str(&format!("  {:<30} {}\n", template.uri, template.title));
    }
    text.push_str("\nprompts:\n");
    for prompt in tfo_mcp::prompts::PROMPTS {
        let arguments: Vec<String> = prompt
            .arguments
            .iter()
            .map(|a| format!("{}{}", a.name, if a.required { "*" } else { "" }))
            .collect();
        text.push_str(&format!(
            "  {:<14} {} ({})\n",
            prompt.name,
            prompt.title,
            arguments.join(", ")
        ));
    }
    // Sandbox of the file and command tools (issue 6).
    let exec = &config.sandbox.exec_allow;
    text.push_str(&format!(
        "\nsandbox:\n  {}\n  execute_command: {}\n",
        tfo_mcp::sandbox::Sandbox::new(&config.sandbox)
            .roots()
            .describe(),
        if exec.is_empty() {
            "off (TELEMETRYFLOW_MCP_EXEC_ALLOW is empty)".to_string()
        } else {
            format!("runs only {}", exec.join(", "))
        }
    ));
    text.push_str(&format!("\n{}\n", claude_status(config)));
    print(&text)
}

fn init_config(path: Option<std::path::PathBuf>) -> ExitCode {
    let path = path.unwrap_or_else(|| cli::DEFAULT_INIT_CONFIG_PATH.into());
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    let written = file.and_then(|mut f| f.write_all(Config::template().as_bytes()));
    match written {
        Ok(()) => {
            eprintln!("tfo-mcp: wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => fail(
            USAGE_ERROR,
            &format!(
                "init-config: {} already exists; refusing to overwrite it",
                path.display()
            ),
        ),
        Err(e) => fail(
            1,
            &format!("init-config: cannot write {}: {e}", path.display()),
        ),
    }
}

fn print(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}

fn fail(code: u8, error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("tfo-mcp: {error}");
    ExitCode::from(code)
}
