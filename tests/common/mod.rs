//! A client for the real `tfo-mcp` binary: spawns it, writes lines to its stdin,
//! reads its stdout line by line with a timeout on every read, so that a hang
//! fails the test instead of blocking CI. Every stdout line is checked to be one
//! JSON-RPC 2.0 message as it arrives.

#![allow(dead_code)] // each test binary uses a different part of the harness

pub mod anthropic;
pub mod otlp;
pub mod sandbox;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A running server.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// Signalled when stderr reaches EOF: everything the process wrote has been read.
    stderr_eof: Receiver<()>,
}

/// The binary under test: `TFO_MCP_BIN` when set (CI runs the suite against the
/// static musl release build that way), otherwise the one cargo built for the tests.
pub fn binary() -> String {
    std::env::var("TFO_MCP_BIN")
        .ok()
        .filter(|path| !path.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_tfo-mcp").to_string())
}

/// The binary with a clean environment: no inherited TELEMETRYFLOW_*/OTEL_* settings.
pub fn command() -> Command {
    let mut cmd = Command::new(binary());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().to_string();
        if key.starts_with("TELEMETRYFLOW_")
            || key.starts_with("OTEL_")
            || key.starts_with("ANTHROPIC_")
        {
            cmd.env_remove(key);
        }
    }
    // Telemetry export is not under test here: keep the process self-contained.
    cmd.env("TELEMETRYFLOW_MCP_TRACING_EXPORTER", "none");
    cmd
}

/// [`command`] for a serving process: servers run side by side, so each metrics
/// endpoint goes on a free port, never 9090 (which the machine may be using).
pub fn server_command() -> Command {
    let mut cmd = command();
    cmd.env("TELEMETRYFLOW_MCP_METRICS_PORT", "0");
    cmd
}

impl Server {
    /// Starts `tfo-mcp` with extra environment variables.
    pub fn start(env: &[(&str, &str)]) -> Server {
        let mut cmd = server_command();
        cmd.envs(env.iter().copied());
        Server::spawn(cmd)
    }

    /// Starts with the diagnostic tools (`sleep`, `panic`) enabled.
    pub fn with_diagnostics(env: &[(&str, &str)]) -> Server {
        let mut all = vec![("TELEMETRYFLOW_MCP_DIAGNOSTIC_TOOLS", "true")];
        all.extend_from_slice(env);
        Server::start(&all)
    }

    pub fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tfo-mcp");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, lines) = channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                assert_json_rpc_line(&line);
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let mut err = child.stderr.take().expect("stderr piped");
        let (eof_tx, stderr_eof) = channel();
        thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("stderr lock")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
            let _ = eof_tx.send(());
        });
        Server {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            stderr_eof,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Writes raw bytes (a newline is not added).
    pub fn write_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).expect("write stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Writes one line.
    pub fn send_line(&mut self, line: &str) {
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\n');
        self.write_raw(&bytes);
    }

    /// Writes one JSON message as a line.
    pub fn send(&mut self, message: Value) {
        self.send_line(&message.to_string());
    }

    /// A request with `id`, `method` and `params`.
    pub fn request(&mut self, id: Value, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    }

    /// The next stdout line, raw.
    pub fn recv_line(&self) -> String {
        match self.lines.recv_timeout(TIMEOUT) {
            Ok(line) => line,
            Err(e) => panic!(
                "no stdout line within {TIMEOUT:?} ({e:?}); stderr:\n{}",
                self.stderr()
            ),
        }
    }

    /// The next stdout message.
    pub fn recv(&self) -> Value {
        serde_json::from_str(&self.recv_line()).expect("stdout lines are JSON")
    }

    /// The next message that is not a notification.
    pub fn recv_response(&self) -> Value {
        loop {
            let message = self.recv();
            if message.get("method").is_none() {
                return message;
            }
        }
    }

    /// Asserts that nothing arrives on stdout for `wait`.
    pub fn expect_silence(&self, wait: Duration, why: &str) {
        match self.lines.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(line) => panic!("{why}: unexpected stdout line {line}"),
            Err(RecvTimeoutError::Disconnected) => panic!("{why}: stdout closed"),
        }
    }

    /// Sends a request and returns its response (notifications before it are skipped).
    pub fn call(&mut self, id: Value, method: &str, params: Value) -> Value {
        self.request(id.clone(), method, params);
        let response = self.recv_response();
        assert_eq!(response["id"], id, "response id for {method}");
        response
    }

    /// `initialize` for `version` then `notifications/initialized`; returns the result.
    pub fn initialize(&mut self, version: &str) -> Value {
        let response = self.call(
            json!(0),
            "initialize",
            json!({
                "protocolVersion": version,
                "capabilities": {},
                "clientInfo": {"name": "tfo-mcp-tests", "version": "1.0"}
            }),
        );
        self.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        response["result"].clone()
    }

    /// Closes stdin (EOF for the server).
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Waits for the process to exit; returns its status and how long that took.
    pub fn wait_exit(&mut self, limit: Duration) -> (ExitStatus, Duration) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                let elapsed = start.elapsed();
                // The exit does not mean its last log lines have been read yet: wait for
                // EOF on stderr (bounded: a grandchild could hold the pipe open).
                let _ = self.stderr_eof.recv_timeout(Duration::from_secs(2));
                return (status, elapsed);
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "tfo-mcp did not exit within {limit:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Remaining stdout lines after exit.
    pub fn drain_stdout(&self) -> Vec<String> {
        let mut rest = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(500)) {
            rest.push(line);
        }
        rest
    }

    /// Everything written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr lock").clone()
    }

    /// Sends a signal with `kill`.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name}");
    }

    /// A field of `/proc/<pid>/status` in kB (e.g. `VmHWM`).
    pub fn proc_status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc status");
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc status"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every stdout line must be exactly one JSON-RPC 2.0 message (or a batch of them).
pub fn assert_json_rpc_line(line: &str) {
    let value: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
    let messages = match &value {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    for m in messages {
        assert_eq!(m["jsonrpc"], "2.0", "jsonrpc 2.0 in {line}");
        let is_response =
            m.get("id").is_some() && (m.get("result").is_some() ^ m.get("error").is_some());
        let is_notification = m.get("id").is_none() && m["method"].is_string();
        // Server-to-client requests (`roots/list`): an id, a method, no result or error.
        let is_request = m.get("id").is_some_and(|id| id.is_string() || id.is_i64())
            && m["method"].is_string()
            && m.get("result").is_none()
            && m.get("error").is_none();
        assert!(
            is_response || is_notification || is_request,
            "neither response, notification nor request: {line}"
        );
        if let Some(error) = m.get("error") {
            assert!(
                error["code"].is_i64() && error["message"].is_string(),
                "error object shape: {line}"
            );
        }
    }
}

/// `_meta` of a 2026-07-28 request.
pub fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "tfo-mcp-tests", "version": "1.0"}
    })
}

// --- sessions in any revision (resources, prompts, completion tests) -------------------

/// The revisions whose behaviour differs for resources, prompts and completion.
pub const REVISIONS: [&str; 5] = [
    "2024-11-05",
    "2025-03-26",
    "2025-06-18",
    "2025-11-25",
    "2026-07-28",
];

impl Server {
    /// A server ready for requests in `version`: initialized for a handshake revision,
    /// nothing to do for 2026-07-28 (each request carries its `_meta`, see [`Server::call_in`]).
    pub fn open(version: &str, env: &[(&str, &str)]) -> Server {
        let mut s = Server::start(env);
        if version != "2026-07-28" {
            let result = s.initialize(version);
            assert_eq!(result["protocolVersion"], version, "negotiated {version}");
        }
        s
    }

    /// [`Server::call`] in `version`: adds the per-request `_meta` in 2026-07-28.
    pub fn call_in(&mut self, version: &str, id: Value, method: &str, mut params: Value) -> Value {
        if version == "2026-07-28" {
            params["_meta"] = modern_meta();
        }
        self.call(id, method, params)
    }
}

/// The value of the Prometheus sample line `series` (name and labels exactly), if present.
#[allow(dead_code, reason = "not every test binary reads metrics")]
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().expect("a number"))
}
