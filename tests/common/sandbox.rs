//! Helpers of the file, sandbox and exec tests: temporary directories removed on
//! drop, a server confined to one of them, and tool calls.

use super::{Server, server_command};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::thread::JoinHandle;

/// A fresh directory under the system temp dir (canonical path), removed on drop.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tfo-mcp-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir {
            path: std::fs::canonicalize(&dir).expect("canonical temp dir"),
        }
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }

    /// Writes `rel` (creating parents).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parents");
        }
        std::fs::write(&path, content).expect("write test file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A server whose only allowed root (and working directory) is `root`, in a
/// session of `version`, with extra environment.
pub fn server_in(root: &Path, version: &str, env: &[(&str, &str)]) -> Server {
    let mut cmd = server_command();
    cmd.current_dir(root)
        .env("TELEMETRYFLOW_MCP_ALLOWED_ROOTS", root)
        .envs(env.iter().copied());
    let mut server = Server::spawn(cmd);
    server.initialize(version);
    server
}

/// The user an unprivileged server runs as when the tests run as root.
pub const NOBODY: u32 = 65534;

/// Whether the tests run as root, whose permission checks always pass.
pub fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").expect("/proc/self").uid() == 0
}

/// [`server_in`], unprivileged: as [`NOBODY`] when the tests run as root, so that
/// file permissions apply to the server.
pub fn unprivileged_server_in(root: &Path, version: &str) -> Server {
    use std::os::unix::process::CommandExt;
    let mut cmd = server_command();
    if running_as_root() {
        cmd.uid(NOBODY).gid(NOBODY);
    }
    cmd.current_dir(root)
        .env("TELEMETRYFLOW_MCP_ALLOWED_ROOTS", root);
    let mut server = Server::spawn(cmd);
    server.initialize(version);
    server
}

/// Calls `name` with `args`; returns the whole response.
pub fn call(s: &mut Server, name: &str, args: Value) -> Value {
    static ID: AtomicU32 = AtomicU32::new(100);
    let id = ID.fetch_add(1, Ordering::Relaxed);
    s.call(
        json!(id),
        "tools/call",
        json!({"name": name, "arguments": args}),
    )
}

/// Calls `name` and returns its `CallToolResult`, asserting it is not a protocol error.
pub fn result(s: &mut Server, name: &str, args: Value) -> Value {
    let response = call(s, name, args);
    assert!(
        response.get("error").is_none(),
        "{name} answered a protocol error: {response}"
    );
    response["result"].clone()
}

/// A successful call's `structuredContent`, checked against its text copy.
pub fn ok(s: &mut Server, name: &str, args: Value) -> Value {
    let r = result(s, name, args.clone());
    assert_eq!(r["isError"], false, "{name} {args} failed: {r}");
    let data = r["structuredContent"].clone();
    let text: Value = serde_json::from_str(r["content"][0]["text"].as_str().expect("text block"))
        .expect("the text block is the JSON of structuredContent");
    assert_eq!(text, data, "{name}: text copy equals structuredContent");
    data
}

/// The `field` of every element of the list `list` of a result (the names of a
/// listing's entries, the paths of a search's matches).
pub fn column<'a>(data: &'a Value, list: &str, field: &str) -> Vec<&'a str> {
    data[list]
        .as_array()
        .unwrap_or_else(|| panic!("no list {list} in {data}"))
        .iter()
        .filter_map(|item| item[field].as_str())
        .collect()
}

/// A failed call's error text (`isError: true`).
pub fn err(s: &mut Server, name: &str, args: Value) -> String {
    let r = result(s, name, args.clone());
    assert_eq!(r["isError"], true, "{name} {args} must fail: {r}");
    r["content"][0]["text"]
        .as_str()
        .expect("error text")
        .to_string()
}

/// A thread that makes `dir/flip` of `names[0]` (a real directory), then exchanges
/// it with `names[1]` (a symlink to one outside) as fast as it can
/// (`renameat2(RENAME_EXCHANGE)`): `flip` always exists, one an instant and the
/// other the next, so a request can never create a plain `flip` that ends the race.
/// The race tests' adversary.
pub struct Swapper {
    stop: Arc<AtomicBool>,
    swaps: Arc<AtomicU64>,
    thread: JoinHandle<u64>,
}

impl Swapper {
    pub fn start(dir: &Path, names: [&'static str; 2]) -> Swapper {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        let flip = dir.join("flip");
        let other = dir.join(names[1]);
        std::fs::rename(dir.join(names[0]), &flip).expect("the real directory becomes flip");
        let stop = Arc::new(AtomicBool::new(false));
        let swaps = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, swaps) = (Arc::clone(&stop), Arc::clone(&swaps));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    renameat_with(CWD, &flip, CWD, &other, RenameFlags::EXCHANGE)
                        .expect("exchange flip");
                    swaps.fetch_add(1, Ordering::Relaxed);
                }
                swaps.load(Ordering::Relaxed)
            })
        };
        Swapper {
            stop,
            swaps,
            thread,
        }
    }

    /// Swaps made so far.
    pub fn swaps(&self) -> u64 {
        self.swaps.load(Ordering::Relaxed)
    }

    /// Stops the thread; how many swaps it made.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("swapper thread")
    }
}
