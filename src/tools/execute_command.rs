//! `execute_command`: runs one allow-listed program without a shell. Off unless
//! `TELEMETRYFLOW_MCP_EXEC_ALLOW` lists programs. The command line is split into
//! argv by simple quoting rules; anything a shell would interpret (`;`, `&`, `|`,
//! `$`, backticks, redirections, globs) is refused, not run. The program is found
//! by the server in the absolute `PATH` entries and refused when it lies inside the
//! roots (where `write_file` could replace it). It runs in its own process group
//! with a minimal environment, stdin closed, a working directory inside the roots
//! (entered through its verified descriptor) and a timeout; output is capped per
//! stream (the rest is read and dropped, so memory stays flat); on exit, timeout or
//! cancellation the whole group is killed (SIGKILL), and the child is always
//! reaped (no zombies).

use super::{Annotations, Tool, ToolResult, arg, schema};
use crate::config::SandboxConfig;
use crate::sandbox::Roots;
use rustix::process::{Pid, Signal, kill_process_group};
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Timeout when the call gives none (capped by the configured maximum).
const DEFAULT_TIMEOUT_SECONDS: u64 = 30;
/// `PATH` for a server started without one (what the child gets, and where bare
/// program names are looked up).
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// Longest command line accepted.
const MAX_COMMAND_CHARS: u64 = 8192;
/// Environment variables passed on to the program; everything else (API keys,
/// OTLP headers, ...) stays in the server.
const PASSED_ENV: [&str; 9] = [
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "USER", "LOGNAME", "TERM",
];

/// The arguments' schema: JSON text (far smaller in the binary than `json!`), with the
/// parts that depend on the configuration filled in.
fn input_schema(config: &SandboxConfig, allowed: &str) -> Value {
    let mut input = schema(
        r#"{
            "type": "object",
            "properties": {
                "command": {"type": "string", "minLength": 1},
                "working_dir": null,
                "timeout": {"type": "integer", "minimum": 1}
            },
            "required": ["command"],
            "additionalProperties": false
        }"#,
    );
    let properties = &mut input["properties"];
    properties["command"]["maxLength"] = MAX_COMMAND_CHARS.into();
    properties["working_dir"] =
        arg::path_property("Directory to run in (default: the first root): a");
    properties["command"]["description"] = Value::String(format!(
        "Program and arguments, e.g. \"git status --short\". Allowed programs: {allowed}."
    ));
    properties["timeout"]["maximum"] = config.exec_timeout_max_seconds.into();
    properties["timeout"]["description"] = Value::String(format!(
        "Seconds before the program and its children are killed (default {}).",
        default_timeout(config)
    ));
    input
}

pub(super) fn tool(config: &SandboxConfig) -> Tool {
    let allowed = if config.exec_allow.is_empty() {
        "none: this tool is disabled on this server".to_string()
    } else {
        config.exec_allow.join(", ")
    };
    Tool {
        name: "execute_command",
        title: "Execute command",
        description: "Run one program with arguments, without a shell, and return its exit code, stdout and stderr. \
Only programs on the server's allowlist (TELEMETRYFLOW_MCP_EXEC_ALLOW) may run; when it is empty the tool is disabled. \
The command is split into arguments like a shell would (spaces separate, '...' and \"...\" quote, \\ escapes), but nothing is interpreted: \
a command with ; & | $ ` < > ( ) or unquoted * ? [ is refused, so run one program per call and quote such characters when they are literal text. \
working_dir must be inside the allowed roots (default: the first root). The program is killed with its children after `timeout` seconds (default 30). \
Output is capped per stream; a non-zero exit is reported as an error with the exit code and both streams.",
        input_schema: input_schema(config, &allowed),
        output_schema: Some(schema(
            r#"{
            "type": "object",
            "properties": {
                "argv": {"type": "array", "items": {"type": "string"}},
                "pid": {"type": "integer", "description": "Process id, also the id of its process group."},
                "working_dir": {"type": "string"},
                "exit_code": {"type": ["integer", "null"], "description": "null when killed by a signal."},
                "signal": {"type": ["integer", "null"]},
                "timed_out": {"type": "boolean"},
                "duration_ms": {"type": "integer"},
                "stdout": {"type": "string"},
                "stderr": {"type": "string"},
                "stdout_bytes": {"type": "integer", "description": "Bytes the program wrote, kept or not."},
                "stderr_bytes": {"type": "integer"},
                "stdout_truncated": {"type": "boolean"},
                "stderr_truncated": {"type": "boolean"}
            },
            "required": ["argv", "pid", "working_dir", "exit_code", "timed_out", "duration_ms", "stdout", "stderr", "stdout_truncated", "stderr_truncated"]
        }"#,
        )),
        annotations: Annotations {
            read_only: false,
            destructive: true,
            idempotent: false,
            open_world: true,
        },
        handler: |ctx, args| {
            Box::pin(async move {
                let config = &ctx.services.config.sandbox;
                if config.exec_allow.is_empty() {
                    return ToolResult::error(
                        "execute_command is disabled on this server: TELEMETRYFLOW_MCP_EXEC_ALLOW lists no programs",
                    );
                }
                let command = args
                    .get("command")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let argv = match split(command) {
                    Ok(argv) => argv,
                    Err(problem) => {
                        return ToolResult::error(format!("command refused: {problem}"));
                    }
                };
                let program = match allowed_program(&argv[0], &config.exec_allow) {
                    Ok(program) => program,
                    Err(problem) => {
                        return ToolResult::error(format!(
                            "command refused by the exec allowlist: {problem}"
                        ));
                    }
                };
                let roots = ctx.services.sandbox.settled().await;
                let configured = ctx.services.sandbox.configured();
                let dir_arg = arg::text(&args, "working_dir");
                let found = crate::blocking::unblock(move || {
                    let program = locate(&program, &configured)
                        .map_err(|problem| format!("command refused: {problem}"))?;
                    let dir = roots
                        .open_dir(&dir_arg.unwrap_or_else(|| ".".to_string()))
                        .map_err(|refusal| format!("working_dir {refusal}"))?;
                    Ok::<_, String>((program, dir))
                })
                .await;
                let (program, dir) = match found {
                    Ok(found) => found,
                    Err(problem) => return ToolResult::error(problem),
                };
                let timeout =
                    arg::count(&args, "timeout").unwrap_or_else(|| default_timeout(config));
                let cap = config.exec_output_max_bytes;
                run(program, argv, dir, Duration::from_secs(timeout), cap).await
            })
        },
    }
}

fn default_timeout(config: &SandboxConfig) -> u64 {
    DEFAULT_TIMEOUT_SECONDS.min(config.exec_timeout_max_seconds)
}

/// Splits a command line into argv: whitespace separates words, `'...'` is
/// literal, `"..."` is literal except `\"`, `\\`, `\$`, `` \` ``, and `\` outside
/// quotes escapes the next character. What a POSIX shell would interpret instead
/// of passing on (operators, redirections, expansions, globs, `~` and `#` at a
/// word's start) is an error naming the character.
pub(super) fn split(command: &str) -> Result<Vec<String>, String> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut argv = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote = Quote::None;
    let mut chars = command.chars().peekable();
    let refuse = |c: char, what: &str| {
        Err(format!(
            "{c:?} {what}; this tool runs one program without a shell (quote it if it is literal text)"
        ))
    };
    while let Some(c) = chars.next() {
        match quote {
            Quote::Single => {
                if c == '\'' {
                    quote = Quote::None;
                } else {
                    word.push(c);
                }
            }
            Quote::Double => match c {
                '"' => quote = Quote::None,
                '$' => return refuse(c, "would expand inside double quotes"),
                '`' => return refuse(c, "would run a command inside double quotes"),
                '\\' => match chars.peek() {
                    Some(&next @ ('"' | '\\' | '$' | '`')) => {
                        word.push(next);
                        chars.next();
                    }
                    _ => word.push('\\'),
                },
                _ => word.push(c),
            },
            Quote::None => match c {
                c if c.is_whitespace() => {
                    if in_word {
                        argv.push(std::mem::take(&mut word));
                        in_word = false;
                    }
                    if c == '\n' || c == '\r' {
                        return refuse(c, "would separate commands");
                    }
                }
                '\'' => {
                    quote = Quote::Single;
                    in_word = true;
                }
                '"' => {
                    quote = Quote::Double;
                    in_word = true;
                }
                '\\' => match chars.next() {
                    Some(next) => {
                        word.push(next);
                        in_word = true;
                    }
                    None => return Err("the command ends with a lone backslash".to_string()),
                },
                ';' | '&' | '|' => return refuse(c, "would chain or pipe commands"),
                '<' | '>' => return refuse(c, "would redirect input or output"),
                '$' => return refuse(c, "would expand a variable or run a command"),
                '`' => return refuse(c, "would run a command"),
                '(' | ')' => return refuse(c, "would start a subshell"),
                '*' | '?' | '[' => return refuse(c, "would expand a glob"),
                '~' | '#' if !in_word => return refuse(c, "would be expanded or start a comment"),
                c => {
                    word.push(c);
                    in_word = true;
                }
            },
        }
    }
    if quote != Quote::None {
        return Err("the command has an unterminated quote".to_string());
    }
    if in_word {
        argv.push(word);
    }
    if argv.is_empty() {
        return Err("the command is empty".to_string());
    }
    Ok(argv)
}

/// The program to run for `name` if the allowlist has it: a bare name matches a
/// bare entry (found on `PATH`) or the file name of an absolute entry (run by
/// that path); a path must equal an entry.
fn allowed_program(name: &str, allow: &[String]) -> Result<PathBuf, String> {
    let found = if name.contains('/') {
        allow.iter().find(|a| a.as_str() == name)
    } else {
        allow.iter().find(|a| {
            a.as_str() == name
                || (a.starts_with('/')
                    && std::path::Path::new(a.as_str())
                        .file_name()
                        .is_some_and(|f| f == name))
        })
    };
    found.map(PathBuf::from).ok_or_else(|| {
        format!(
            "{:?} is not an allowed program (allowed: {})",
            crate::jsonrpc::clip(name),
            allow.join(", ")
        )
    })
}

/// Where the allowed `program` is, found here and not by the child: the child would
/// search `PATH` only after entering the working directory, where a relative `PATH`
/// entry (an empty one means ".") or a relative allowlist entry would find a file
/// inside a root, which `write_file` can replace. Bare names are looked up in the
/// absolute `PATH` entries (the ones the child gets); relative paths start at the
/// server's own working directory. A program inside the configured roots is refused
/// for the same reason.
fn locate(program: &Path, roots: &Roots) -> Result<PathBuf, String> {
    use std::os::unix::ffi::OsStrExt;
    let name = program.as_os_str().as_bytes();
    let not_found = || {
        format!(
            "{:?} is not found (bare names: in the absolute PATH entries)",
            crate::jsonrpc::clip(&program.to_string_lossy())
        )
    };
    let found = if name.contains(&b'/') {
        crate::sandbox::absolute(program)
    } else {
        let search = std::env::var_os("PATH");
        let search = search
            .as_ref()
            .map_or(DEFAULT_PATH.as_bytes(), |p| p.as_bytes());
        search
            .split(|b| *b == b':')
            .filter(|dir| dir.first() == Some(&b'/'))
            .map(|dir| Path::new(std::ffi::OsStr::from_bytes(dir)).join(program))
            .find(|candidate| {
                std::fs::metadata(candidate)
                    .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            })
            .ok_or_else(not_found)?
    };
    match std::fs::canonicalize(&found) {
        Ok(real) if !roots.contains(&real) => Ok(found),
        Ok(real) => Err(format!(
            "{} lies inside the allowed roots, where write_file could replace it; allow a program outside them",
            real.display()
        )),
        Err(_) => Err(not_found()),
    }
}

/// SIGKILL to the process group `pid` leads. ESRCH (the group is already gone) is the
/// common, harmless case.
fn kill_group(pid: Option<Pid>) {
    if let Some(pid) = pid {
        let _ = kill_process_group(pid, Signal::KILL);
    }
}

/// Output of one stream: the first `cap` bytes and how many there were in all.
#[derive(Default)]
struct Capped {
    kept: Vec<u8>,
    total: u64,
}

impl Capped {
    fn add(&mut self, bytes: &[u8], cap: usize) {
        self.total += bytes.len() as u64;
        let take = cap.saturating_sub(self.kept.len()).min(bytes.len());
        self.kept.extend_from_slice(&bytes[..take]);
    }
}

/// Where the program is, shared by the blocking thread that watches it and the request
/// that waits for it; the request dropped before the end (cancellation) kills a running
/// program's group, and one not yet started is killed as soon as it is.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Watch {
    #[default]
    Starting,
    /// Running in the group this pid leads (`None`: a pid out of range, no group to kill).
    Running(Option<Pid>),
    /// The request was dropped before the program started.
    Cancelled,
    /// Reaped: its group id may be another's, nothing may signal it.
    Done,
}

/// Cancels the watched program when the request's future is dropped.
struct CancelOnDrop(Arc<Mutex<Watch>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        let mut watch = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match *watch {
            Watch::Running(group) => kill_group(group),
            Watch::Starting => *watch = Watch::Cancelled,
            Watch::Cancelled | Watch::Done => {}
        }
    }
}

/// What became of a program.
struct Finished {
    pid: u32,
    status: std::io::Result<std::process::ExitStatus>,
    timed_out: bool,
    out: Capped,
    err: Capped,
}

/// How often a child's exit is checked where `pidfd_open` is refused (Linux before 5.3,
/// some seccomp profiles): with a pidfd the exit wakes the wait at once.
const EXIT_TICK: Duration = Duration::from_millis(20);

/// Starts the program and watches it on a blocking thread: reads both streams as they
/// become readable (capped), and when the program exits kills its group (children left
/// in the background would hold the pipes open) and reads to the end; at the deadline,
/// or when the request is cancelled, kills the group. The child is always reaped.
/// `pidfd`: whether to watch the exit through a pidfd (always, but in tests of the
/// fallback that runs where `pidfd_open` is refused).
fn watch(
    mut cmd: std::process::Command,
    timeout: Duration,
    cap: usize,
    watch: &Mutex<Watch>,
    pidfd: bool,
) -> std::io::Result<Finished> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let deadline = Instant::now() + timeout;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let group = i32::try_from(pid).ok().and_then(Pid::from_raw);
    {
        let mut state = watch.lock().unwrap_or_else(PoisonError::into_inner);
        if *state == Watch::Cancelled {
            kill_group(group);
        }
        *state = Watch::Running(group);
    }
    let exited = group
        .filter(|_| pidfd)
        .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok());
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let (mut out, mut err) = (Capped::default(), Capped::default());
    let mut buf = vec![0u8; 16 * 1024];
    // Whether the program has exited. It is seen without reaping it (`WNOWAIT`): until
    // it is reaped its pid, and so its group's id, cannot be given to another process,
    // so that killing the group can never reach a stranger.
    let mut ended = false;
    let mut timed_out = false;
    let mut failure = None;
    // Whether to ask if it exited: every turn without a pidfd, else when it was ready.
    let mut check_exit = true;
    loop {
        if !ended && check_exit && has_exited(group) {
            ended = true;
            kill_group(group);
        }
        if ended && stdout.is_none() && stderr.is_none() {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            timed_out = !ended;
            break;
        }
        let wait = if !ended && exited.is_none() {
            left.min(EXIT_TICK)
        } else {
            left
        };
        let wait = Timespec::try_from(wait).unwrap_or(Timespec {
            tv_sec: i64::MAX,
            tv_nsec: 0,
        });
        // Which of stdout and stderr are polled (in that order), then the exit.
        let polled = [stdout.is_some(), stderr.is_some()];
        let mut fds = Vec::with_capacity(3);
        fds.extend(stdout.as_ref().map(|s| PollFd::new(s, PollFlags::IN)));
        fds.extend(stderr.as_ref().map(|s| PollFd::new(s, PollFlags::IN)));
        if let (Some(fd), false) = (&exited, ended) {
            fds.push(PollFd::new(fd, PollFlags::IN));
        }
        match poll(&mut fds, Some(&wait)) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                failure = Some(std::io::Error::from(e));
                break;
            }
        }
        let mut revents = fds.iter().map(|fd| !fd.revents().is_empty());
        let ready = polled.map(|on| on && revents.next().unwrap_or(false));
        check_exit = exited.is_none() || revents.next().unwrap_or(false);
        drop(fds);
        if ready[0] {
            read_some(&mut stdout, &mut buf, &mut out, cap);
        }
        if ready[1] {
            read_some(&mut stderr, &mut buf, &mut err, cap);
        }
    }
    // The group is killed while the program is still unreaped (children left in the
    // background, or a timeout), then nothing may signal it any more (the request's
    // cancellation included), then it is reaped.
    if !ended {
        kill_group(group);
    }
    *watch.lock().unwrap_or_else(PoisonError::into_inner) = Watch::Done;
    let status = child.wait();
    match failure {
        Some(e) => Err(e),
        None => Ok(Finished {
            pid,
            status,
            timed_out,
            out,
            err,
        }),
    }
}

/// Whether the process `pid` has exited, without reaping it.
fn has_exited(pid: Option<Pid>) -> bool {
    use rustix::process::{WaitId, WaitIdOptions, waitid};
    let Some(pid) = pid else { return true };
    let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
    // An error (no such child) is an exit too: nothing is left to wait for.
    !matches!(waitid(WaitId::Pid(pid), options), Ok(None))
}

/// One read from a readable stream; the stream is closed at its end or on an error.
fn read_some<R: std::io::Read>(
    stream: &mut Option<R>,
    buf: &mut [u8],
    sink: &mut Capped,
    cap: usize,
) {
    if let Some(s) = stream {
        match s.read(buf) {
            Ok(0) => *stream = None,
            Ok(n) => sink.add(&buf[..n], cap),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => *stream = None,
        }
    }
}

async fn run(
    program: PathBuf,
    argv: Vec<String>,
    (dir_fd, dir): (std::fs::File, PathBuf),
    timeout: Duration,
    cap: usize,
) -> ToolResult {
    let mut cmd = std::process::Command::new(&program);
    // Entered through the verified descriptor (still open in the child until its
    // exec): a directory swapped for a symlink after the check changes nothing.
    cmd.args(&argv[1..])
        .current_dir(crate::sandbox::fd_path(&dir_fd))
        .env_clear()
        .envs(
            PASSED_ENV
                .iter()
                .filter_map(|k| std::env::var_os(k).map(|v| (k, v))),
        )
        // Its own group, so that the whole tree can be killed at once.
        .process_group(0);
    if std::env::var_os("PATH").is_none() {
        cmd.env("PATH", DEFAULT_PATH);
    }
    let started = Instant::now();
    let shared = Arc::new(Mutex::new(Watch::default()));
    let _cancel = CancelOnDrop(Arc::clone(&shared));
    let finished = crate::blocking::unblock(move || {
        let finished = watch(cmd, timeout, cap, &shared, true);
        drop(dir_fd);
        finished
    })
    .await;
    let Finished {
        pid,
        status,
        timed_out,
        out,
        err,
    } = match finished {
        Ok(finished) => finished,
        Err(e) => return ToolResult::error(format!("cannot start {:?}: {e}", argv[0])),
    };
    let status = match status {
        Ok(status) => status,
        Err(e) => return ToolResult::error(format!("waiting for {:?} failed: {e}", argv[0])),
    };
    let data = json!({
        "argv": argv,
        "pid": pid,
        "working_dir": dir.display().to_string(),
        "exit_code": status.code(),
        "signal": status.signal(),
        "timed_out": timed_out,
        "duration_ms": started.elapsed().as_millis() as u64,
        "stdout": String::from_utf8_lossy(&out.kept),
        "stderr": String::from_utf8_lossy(&err.kept),
        "stdout_bytes": out.total,
        "stderr_bytes": err.total,
        "stdout_truncated": out.total > out.kept.len() as u64,
        "stderr_truncated": err.total > err.kept.len() as u64,
    });
    let mut result = ToolResult::structured(data);
    if timed_out || !status.success() {
        result.is_error = true;
        let why = if timed_out {
            format!(
                "timed out after {} s; the program and its children were killed",
                timeout.as_secs()
            )
        } else {
            match status.code() {
                Some(code) => format!("exited with code {code}"),
                None => format!("was killed by signal {}", status.signal().unwrap_or(0)),
            }
        };
        result.content.insert(
            0,
            json!({"type": "text", "text": format!("{:?} {why}", argv[0])}),
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `sh -c script` in a group of its own, watched with a pidfd or with the
    /// fallback that checks for the exit every `EXIT_TICK`.
    fn run_sh(script: &str, timeout: Duration, pidfd: bool) -> (Finished, Watch, Duration) {
        run_sh_from(Watch::default(), script, timeout, pidfd)
    }

    /// [`run_sh`] with the shared state starting as `state`.
    fn run_sh_from(
        state: Watch,
        script: &str,
        timeout: Duration,
        pidfd: bool,
    ) -> (Finished, Watch, Duration) {
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", script]).process_group(0);
        let shared = Mutex::new(state);
        let started = Instant::now();
        let finished = watch(cmd, timeout, 1024, &shared, pidfd).expect("started");
        let state = *shared.lock().expect("lock");
        (finished, state, started.elapsed())
    }

    #[test]
    fn a_finished_program_leaves_nothing_to_signal() {
        for pidfd in [true, false] {
            let (finished, state, _) = run_sh(
                "echo out; echo err >&2; exit 3",
                Duration::from_secs(10),
                pidfd,
            );
            let status = finished.status.expect("reaped");
            assert_eq!(status.code(), Some(3), "pidfd {pidfd}");
            assert_eq!(
                (finished.out.kept, finished.err.kept),
                (b"out\n".to_vec(), b"err\n".to_vec()),
                "pidfd {pidfd}"
            );
            assert!(!finished.timed_out, "pidfd {pidfd}");
            assert_eq!(
                state,
                Watch::Done,
                "pidfd {pidfd}: once reaped, its group id may be another's: a later \
                 cancellation signals nothing"
            );
        }
    }

    #[test]
    fn an_exit_is_seen_while_a_background_child_holds_the_pipes_with_or_without_pidfd() {
        for pidfd in [true, false] {
            // The child would hold stdout open for 30 s: the exit ends the watch, and
            // the group (the child with it) is killed.
            let (finished, _, took) =
                run_sh("sleep 30 & echo started", Duration::from_secs(20), pidfd);
            assert_eq!(
                finished.status.expect("reaped").code(),
                Some(0),
                "pidfd {pidfd}"
            );
            assert_eq!(finished.out.kept, b"started\n".to_vec(), "pidfd {pidfd}");
            assert!(!finished.timed_out, "pidfd {pidfd}");
            assert!(
                took < Duration::from_secs(10),
                "pidfd {pidfd}: answered when the program exited, not when its child would \
                 have ({took:?})"
            );
        }
    }

    #[test]
    fn a_request_cancelled_before_its_program_started_kills_it_once_started() {
        let (finished, state, took) =
            run_sh_from(Watch::Cancelled, "sleep 30", Duration::from_secs(20), true);
        assert!(
            finished.status.expect("reaped").code().is_none(),
            "ended by a signal"
        );
        assert!(!finished.timed_out, "killed at once, not at the deadline");
        assert!(took < Duration::from_secs(10), "{took:?}");
        assert_eq!(state, Watch::Done);
    }

    #[test]
    fn a_program_past_its_deadline_is_killed_with_or_without_pidfd() {
        for pidfd in [true, false] {
            let (finished, state, took) = run_sh("sleep 30", Duration::from_millis(300), pidfd);
            assert!(finished.timed_out, "pidfd {pidfd}");
            assert!(
                finished.status.expect("reaped").code().is_none(),
                "pidfd {pidfd}: ended by a signal"
            );
            assert_eq!(state, Watch::Done, "pidfd {pidfd}");
            assert!(took < Duration::from_secs(10), "pidfd {pidfd}: {took:?}");
        }
    }

    #[test]
    fn split_follows_simple_quoting_and_refuses_shell_syntax() {
        let ok = [
            ("ls -la", vec!["ls", "-la"]),
            ("  echo   a  b ", vec!["echo", "a", "b"]),
            ("echo 'a;b | c'", vec!["echo", "a;b | c"]),
            ("echo \"a b\" c", vec!["echo", "a b", "c"]),
            ("echo \"say \\\"hi\\\"\"", vec!["echo", "say \"hi\""]),
            ("echo a\\ b", vec!["echo", "a b"]),
            ("echo ''", vec!["echo", ""]),
            ("echo a#b x~", vec!["echo", "a#b", "x~"]),
            (
                "echo '$(id)' '`id`' '*'",
                vec!["echo", "$(id)", "`id`", "*"],
            ),
        ];
        for (line, want) in ok {
            assert_eq!(
                split(line),
                Ok(want.iter().map(|s| s.to_string()).collect()),
                "{line:?}"
            );
        }
        let refused = [
            "echo a; id",
            "echo a && id",
            "echo a || id",
            "echo a | id",
            "echo $(id)",
            "echo `id`",
            "echo \"$(id)\"",
            "echo \"`id`\"",
            "echo $HOME",
            "echo a > /tmp/x",
            "cat < /etc/passwd",
            "echo a 2>&1",
            "sleep 1 &",
            "(id)",
            "ls *.rs",
            "ls ~",
            "echo # comment",
            "echo 'open",
            "echo a\nid",
            "",
            "   ",
            "echo \\",
        ];
        for line in refused {
            assert!(
                split(line).is_err(),
                "{line:?} must be refused, got {:?}",
                split(line)
            );
        }
    }

    #[test]
    fn allowlist_matches_names_and_paths() {
        let allow = vec!["echo".to_string(), "/usr/bin/git".to_string()];
        assert_eq!(allowed_program("echo", &allow), Ok(PathBuf::from("echo")));
        assert_eq!(
            allowed_program("git", &allow),
            Ok(PathBuf::from("/usr/bin/git"))
        );
        assert_eq!(
            allowed_program("/usr/bin/git", &allow),
            Ok(PathBuf::from("/usr/bin/git"))
        );
        assert!(
            allowed_program("/bin/echo", &allow).is_err(),
            "a path must equal an entry"
        );
        assert!(allowed_program("./echo", &allow).is_err());
        assert!(allowed_program("sh", &allow).is_err());
    }
}
