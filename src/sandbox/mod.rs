//! The sandbox of the file and command tools: which directories they may reach
//! (the configured roots, narrowed by the client's `roots/list` when it declares
//! roots), symlink-safe resolution of the paths a client sends, and the checked
//! file-system operations built on it (`fs.rs`): verified opens, bounded reads,
//! atomic writes and bounded directory walks.
//!
//! Resolution: a path (relative paths start at the first root) is walked one
//! component at a time, as the kernel would (symlinks expanded, `..` from where a
//! symlink led), but a component is looked at only when it lies inside a root or on
//! the way to one (an ancestor of a root, or of a root as it was spelled). Anything
//! else is refused as outside before it is touched, so a detour out and back in
//! (`/etc/../root/f`), a symlink that leads out whatever its target is (a file, a
//! missing path, a loop), and absolute paths elsewhere all get the same answer: no
//! existence oracle outside the roots. The missing rest of a path that does not
//! exist yet must be plain names (no `..`, no dangling symlink).
//! Paths through `/proc` are refused outright: its magic links reach anywhere.
//!
//! Residual race (TOCTOU): a path is checked, then used. Between the two, someone
//! who can write inside a root could swap a directory for a symlink leading out.
//! What is narrowed, with std and `rustix` flags only:
//! - every open of a resolved path starts from the root that holds it, with
//!   `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` (Linux 5.6): a component
//!   swapped for a symlink fails the open, whatever it points at, so a lost race
//!   tells nothing about what exists outside. Where `openat2` is refused (older
//!   kernels, some seccomp filters) the open is by path with `O_NOFOLLOW` (a swapped
//!   last component fails);
//! - either way, what was opened is checked again after the fact through
//!   `/proc/self/fd/N`: it must lie inside a root, so reads and walks act on
//!   verified files only;
//! - directories are walked through their pinned descriptor (`/proc/self/fd/N/name`),
//!   so a parent swapped during a walk does not redirect it;
//! - writes act through descriptors only: the deepest existing directory is
//!   opened (`O_NOFOLLOW`) and verified, each missing directory below it is made
//!   with `mkdirat` and opened with `openat(O_NOFOLLOW)` through its parent, and
//!   the temporary file is created, then renamed over the target, with
//!   `openat(O_EXCL|O_NOFOLLOW)` and `renameat` in that pinned directory (a rename
//!   replaces a symlink, it does not follow it). A swap at any moment after the
//!   verification changes no descriptor, so nothing is written outside.
//!
//! What remains: a directory already opened can itself be moved (renamed, not
//! swapped for a symlink) out of the roots while in use, by someone who may write
//! both inside a root and at the destination; the write then follows it. Hard
//! links inside a root to files outside it cannot be told apart from ordinary
//! files and are served.

mod fs;

pub(crate) use fs::fd_path;
pub use fs::{Entry, EntryKind, FileChunk, Flow, Unreadable, Walk, WalkEnd, Walked, Written};

use crate::config::SandboxConfig;
use smol::lock::{RwLock, RwLockWriteGuardArc};
use std::cell::Cell;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Longest path accepted, in bytes (Linux `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;

/// Which rule set decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `TELEMETRYFLOW_MCP_ALLOWED_ROOTS` (or the working directory at startup).
    Configured,
    /// The client's `roots/list`, intersected with the configured roots.
    ClientRoots,
}

/// A set of canonical directories the tools may reach, and the caps they work under.
#[derive(Debug, Clone, PartialEq)]
pub struct Roots {
    dirs: Vec<PathBuf>,
    /// The roots as they were given (absolute, not resolved): their ancestors may be
    /// walked through too, so a path spelled through a symlinked ancestor of a root
    /// (`/home` → `/data/home`) still resolves.
    spelled: Vec<PathBuf>,
    policy: Policy,
    max_file_bytes: u64,
}

/// Why a path or an operation on it was refused: each names the policy that refused.
#[derive(Debug)]
pub enum Refusal {
    /// The path contains a NUL byte.
    Nul,
    /// The path is empty.
    Empty,
    /// The path is longer than [`MAX_PATH_BYTES`].
    TooLong(usize),
    /// The path goes through `/proc`.
    Proc(String),
    /// The path resolves outside every root.
    Outside {
        /// The path as given.
        path: String,
        /// The policy and its roots.
        policy: String,
    },
    /// A `..` or `.` follows a part that does not exist.
    DotAfterMissing(String),
    /// A symlink whose target does not exist (it could lead anywhere once created).
    Dangling(String),
    /// The policy leaves no root at all.
    NoRoots(String),
    /// Nothing exists at the path.
    NotFound(String),
    /// The parent directory of a file to write does not exist (and `create_dirs` is off).
    MissingParent(String),
    /// A directory was found where a file is needed.
    NotAFile(String),
    /// A file was found where a directory is needed.
    NotADirectory(String),
    /// Content larger than the cap.
    TooLarge {
        /// Size of the content.
        bytes: u64,
        /// `TELEMETRYFLOW_MCP_FILE_MAX_BYTES`.
        max: u64,
    },
    /// The file system refused.
    Io {
        /// What was being done.
        op: &'static str,
        /// The path as given.
        path: String,
        /// The error.
        source: io::Error,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path_rule = "refused by the path policy";
        // A path is the client's text: quoted redacted, and past 512 bytes once quoted
        // (escapes can make a 4,096-byte path five times longer) its middle is left
        // out; both ends stay, where it starts and the file it names.
        let q = |path: &str| {
            let quoted = format!("{:?}", crate::redact::redact_text(path));
            crate::redact::elide_middle(&quoted, 512).into_owned()
        };
        match self {
            Refusal::Nul => write!(f, "{path_rule}: the path contains a NUL byte"),
            Refusal::Empty => write!(f, "{path_rule}: the path is empty"),
            Refusal::TooLong(n) => write!(
                f,
                "{path_rule}: the path is {n} bytes long, more than {MAX_PATH_BYTES}"
            ),
            Refusal::Proc(p) => write!(
                f,
                "{path_rule}: {} goes through /proc, whose links lead anywhere",
                q(p)
            ),
            Refusal::Outside { path, policy } => {
                write!(
                    f,
                    "refused by the {policy}: {} resolves outside every allowed root",
                    q(path)
                )
            }
            Refusal::DotAfterMissing(p) => write!(
                f,
                "{path_rule}: {} has `..` or `.` after a part that does not exist",
                q(p)
            ),
            Refusal::Dangling(p) => write!(
                f,
                "{path_rule}: {} is or goes through a symlink whose target does not exist",
                q(p)
            ),
            Refusal::NoRoots(policy) => write!(
                f,
                "refused by the {policy}: no allowed root is left, so no path is reachable"
            ),
            Refusal::NotFound(p) => write!(f, "not found: {} does not exist", q(p)),
            Refusal::MissingParent(p) => write!(
                f,
                "not found: the parent directory of {} does not exist; pass create_dirs: true to create it",
                q(p)
            ),
            Refusal::NotAFile(p) => {
                write!(f, "not a file: {} is a directory or a special file", q(p))
            }
            Refusal::NotADirectory(p) => write!(f, "not a directory: {}", q(p)),
            Refusal::TooLarge { bytes, max } => write!(
                f,
                "refused by the size cap: {bytes} bytes is more than TELEMETRYFLOW_MCP_FILE_MAX_BYTES ({max})"
            ),
            Refusal::Io { op, path, source } => write!(f, "cannot {op} {}: {source}", q(path)),
        }
    }
}

impl std::error::Error for Refusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Refusal::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A resolved path: canonical where it exists, plus the plain names still missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Canonical existing ancestor joined with the missing names.
    pub path: PathBuf,
    /// How many trailing components do not exist yet (0: the path exists).
    pub missing: usize,
}

/// Most dropped roots (missing, or not directories) named one by one in the
/// records; a client's roots list can name 256.
const NAMED_IGNORED: usize = 8;

impl Roots {
    /// Canonical `dirs` (missing ones dropped) under `policy`. The first
    /// [`NAMED_IGNORED`] dropped ones get a warning each, the rest one between them.
    pub fn new(dirs: &[PathBuf], policy: Policy, max_file_bytes: u64) -> Roots {
        let mut canonical: Vec<PathBuf> = Vec::new();
        let mut spelled: Vec<PathBuf> = Vec::new();
        let mut ignored = 0usize;
        for dir in dirs {
            spelled.push(absolute(dir));
            let error = match std::fs::canonicalize(dir) {
                Ok(real) if real.is_dir() => {
                    canonical.push(real);
                    continue;
                }
                Ok(_) => None,
                Err(e) => Some(e),
            };
            ignored += 1;
            if ignored > NAMED_IGNORED {
                continue;
            }
            let root = crate::jsonrpc::clip(&dir.to_string_lossy());
            match error {
                None => {
                    log::warn!(root = root.as_str(), policy:? = policy; "root is not a directory; ignored")
                }
                Some(e) => {
                    log::warn!(root = root.as_str(), policy:? = policy, error:% = e; "root cannot be resolved; ignored")
                }
            }
        }
        if ignored > NAMED_IGNORED {
            log::warn!(count = ignored - NAMED_IGNORED, policy:? = policy; "more roots cannot be resolved or are not directories; ignored");
        }
        // Unstable is enough: equal paths are identical (and deduplicated next).
        canonical.sort_unstable();
        canonical.dedup();
        // A root inside another adds nothing.
        let all = canonical.clone();
        canonical.retain(|d| !all.iter().any(|o| o != d && d.starts_with(o)));
        spelled.retain(|d| !canonical.contains(d));
        Roots {
            dirs: canonical,
            spelled,
            policy,
            max_file_bytes,
        }
    }

    /// The canonical roots.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// `TELEMETRYFLOW_MCP_FILE_MAX_BYTES`.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_bytes
    }

    /// `self` narrowed to `client` directories: for each pair, the deeper one when
    /// one contains the other; nothing when they are disjoint.
    pub fn intersect(&self, client: &[PathBuf]) -> Roots {
        let client = Roots::new(client, Policy::ClientRoots, self.max_file_bytes);
        let mut dirs = Vec::new();
        for c in &client.dirs {
            for r in &self.dirs {
                if c.starts_with(r) {
                    dirs.push(c.clone());
                } else if r.starts_with(c) {
                    dirs.push(r.clone());
                }
            }
        }
        let mut narrowed = Roots::new(&dirs, Policy::ClientRoots, self.max_file_bytes);
        narrowed.spelled = self
            .spelled
            .iter()
            .chain(&client.spelled)
            .cloned()
            .collect();
        narrowed
    }

    /// The policy and its roots, for messages.
    pub fn describe(&self) -> String {
        // A client's roots/list can name any number of roots of any length: the first
        // few, clipped, then how many more.
        const SHOWN: usize = 8;
        let mut list: Vec<String> = self
            .dirs
            .iter()
            .take(SHOWN)
            .map(|d| crate::jsonrpc::clip(&d.to_string_lossy()))
            .collect();
        if self.dirs.len() > SHOWN {
            list.push(format!("and {} more", self.dirs.len() - SHOWN));
        }
        let list = if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        };
        match self.policy {
            Policy::Configured => {
                format!("allowed-roots policy (TELEMETRYFLOW_MCP_ALLOWED_ROOTS: {list})")
            }
            Policy::ClientRoots => format!(
                "client-roots policy (the client's roots/list within TELEMETRYFLOW_MCP_ALLOWED_ROOTS: {list})"
            ),
        }
    }

    /// Whether `path` (canonical) lies inside a root.
    pub fn contains(&self, path: &Path) -> bool {
        self.dirs.iter().any(|d| path.starts_with(d))
    }

    /// Whether resolution may look at `path` (canonical so far): it lies inside a
    /// root, or on the way to one (an ancestor of a root, or of a root as spelled).
    fn passable(&self, path: &Path) -> bool {
        self.contains(path)
            || self
                .dirs
                .iter()
                .chain(&self.spelled)
                .any(|d| d.starts_with(path))
    }

    fn outside(&self, path: &str) -> Refusal {
        Refusal::Outside {
            path: path.to_string(),
            policy: self.describe(),
        }
    }

    /// Resolves `path` (relative to the first root when relative) without following
    /// anything out of the roots; see the module docs.
    pub fn resolve(&self, path: &str) -> Result<Resolved, Refusal> {
        if path.is_empty() {
            return Err(Refusal::Empty);
        }
        if path.contains('\0') {
            return Err(Refusal::Nul);
        }
        if path.len() > MAX_PATH_BYTES {
            return Err(Refusal::TooLong(path.len()));
        }
        let Some(first) = self.dirs.first() else {
            return Err(Refusal::NoRoots(self.describe()));
        };
        let given = Path::new(path);
        let absolute = if given.is_absolute() {
            given.to_path_buf()
        } else {
            first.join(given)
        };
        if absolute.starts_with("/proc") && !self.dirs.iter().any(|d| d.starts_with("/proc")) {
            return Err(Refusal::Proc(path.to_string()));
        }
        // One component at a time, as the kernel would, but nothing that is neither
        // inside a root nor on the way to one is ever looked at: whatever lies beyond
        // the roots (missing, a file, unreadable, a symlink's target) gets the same
        // "outside" answer, so no path tells what exists there.
        let mut todo = Vec::new();
        push_steps(&absolute, false, &mut todo);
        let mut current = PathBuf::from("/");
        let mut missing: Vec<OsString> = Vec::new();
        let mut dangling = false;
        let mut links = 0;
        let io_refusal = |source| Refusal::Io {
            op: "resolve",
            path: path.to_string(),
            source,
        };
        while let Some((step, from_link)) = todo.pop() {
            let name = match step {
                Step::Root => {
                    current = PathBuf::from("/");
                    continue;
                }
                Step::Up if missing.is_empty() => {
                    current.pop();
                    continue;
                }
                Step::Up => return Err(Refusal::DotAfterMissing(path.to_string())),
                Step::Name(name) if !missing.is_empty() => {
                    missing.push(name);
                    continue;
                }
                Step::Name(name) => name,
            };
            let next = current.join(&name);
            if !self.passable(&next) {
                return Err(self.outside(path));
            }
            match std::fs::symlink_metadata(&next) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(io_refusal(rustix::io::Errno::LOOP.into()));
                    }
                    let target = std::fs::read_link(&next).map_err(io_refusal)?;
                    // An absolute target starts again at `/`, a relative one here.
                    push_steps(&target, true, &mut todo);
                }
                Ok(meta) if !meta.is_dir() && !todo.is_empty() => {
                    return Err(Refusal::NotADirectory(path.to_string()));
                }
                Ok(_) => current = next,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    // What a symlink names does not exist: a dangling symlink.
                    dangling = from_link;
                    missing.push(name);
                }
                Err(source) => return Err(io_refusal(source)),
            }
        }
        let count = missing.len();
        let mut full = current;
        for name in missing {
            full.push(name);
        }
        if !self.contains(&full) || full.starts_with("/proc") && !self.contains(Path::new("/proc"))
        {
            return Err(self.outside(path));
        }
        if dangling {
            return Err(Refusal::Dangling(path.to_string()));
        }
        Ok(Resolved {
            path: full,
            missing: count,
        })
    }

    /// Resolves a path that must exist.
    pub fn resolve_existing(&self, path: &str) -> Result<PathBuf, Refusal> {
        let resolved = self.resolve(path)?;
        if resolved.missing > 0 {
            return Err(Refusal::NotFound(path.to_string()));
        }
        Ok(resolved.path)
    }
}

/// `path` made absolute from the working directory, lexically (nothing resolved);
/// an absolute path as it is, without asking for the working directory.
/// `std::path::absolute` does the same and costs 900 bytes more in the static build.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir().unwrap_or_default().join(path)
}

/// Symlinks followed in one resolution at most (Linux's own limit).
const MAX_SYMLINKS: usize = 40;

/// One component of a path being resolved.
enum Step {
    /// `/`: start again at the top (an absolute symlink target).
    Root,
    /// `..`
    Up,
    /// A name.
    Name(OsString),
}

/// Pushes the steps of `path` so that popping gives them in order; `from_link` marks
/// the steps a symlink's target brought.
fn push_steps(path: &Path, from_link: bool, todo: &mut Vec<(Step, bool)>) {
    for component in path.components().rev() {
        let step = match component {
            Component::RootDir | Component::Prefix(_) => Step::Root,
            Component::ParentDir => Step::Up,
            Component::Normal(name) => Step::Name(name.to_os_string()),
            Component::CurDir => continue,
        };
        todo.push((step, from_link));
    }
}

/// The roots the tools work under, shared by every request of a connection. The
/// configured roots are fixed; a client that declares `roots` narrows them with
/// its `roots/list` answers. While such an answer is awaited, file operations
/// wait for it (bounded by the request timeout), so none runs under a set the
/// client has just replaced.
#[derive(Debug)]
pub struct Sandbox {
    configured: Arc<Roots>,
    current: Mutex<Arc<Roots>>,
    gate: Arc<RwLock<()>>,
    generation: Cell<u64>,
}

/// A pending update of the client's roots: holds file operations until applied or dropped.
#[derive(Debug)]
pub struct RootsUpdate {
    generation: u64,
    _gate: Option<RwLockWriteGuardArc<()>>,
}

impl Sandbox {
    /// The sandbox of `config`: its allowed roots, or the working directory at startup.
    pub fn new(config: &SandboxConfig) -> Sandbox {
        let dirs = if config.allowed_roots.is_empty() {
            std::env::current_dir().map(|d| vec![d]).unwrap_or_default()
        } else {
            config.allowed_roots.clone()
        };
        let roots = Arc::new(Roots::new(&dirs, Policy::Configured, config.file_max_bytes));
        if roots.dirs.is_empty() {
            log::warn!("no allowed root exists; the file tools will refuse every path");
        }
        Sandbox {
            current: Mutex::new(Arc::clone(&roots)),
            configured: roots,
            gate: Arc::new(RwLock::new(())),
            generation: Cell::new(0),
        }
    }

    /// The configured roots: the widest set the file tools can ever reach, whatever
    /// the client's roots.
    pub fn configured(&self) -> Arc<Roots> {
        Arc::clone(&self.configured)
    }

    /// The roots in force now.
    pub fn roots(&self) -> Arc<Roots> {
        Arc::clone(&self.current.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The roots in force once a pending `roots/list` answer (if any) is applied.
    pub async fn settled(&self) -> Arc<Roots> {
        drop(self.gate.read().await);
        self.roots()
    }

    /// Resolves a path that must exist under the roots in force (for resource readers).
    pub fn resolve_read(&self, path: &str) -> Result<PathBuf, Refusal> {
        self.roots().resolve_existing(path)
    }

    /// Reads up to `length` bytes (at most the cap) of the file at `path` from
    /// `offset`, on a blocking thread; the opened file is verified to be inside a root.
    pub async fn read_file(
        &self,
        path: String,
        offset: u64,
        length: Option<u64>,
    ) -> Result<FileChunk, Refusal> {
        let roots = self.settled().await;
        crate::logging::unblock(move || roots.read_chunk(&path, offset, length)).await
    }

    /// Starts an update of the client's roots: file operations wait until it is
    /// applied or dropped. Each update gets a new generation and only the newest applies.
    pub fn begin_update(&self) -> RootsUpdate {
        let generation = self.generation.get() + 1;
        self.generation.set(generation);
        RootsUpdate {
            generation,
            // Taken by an older update still pending: that one holds operations already.
            _gate: self.gate.try_write_arc(),
        }
    }

    /// Applies the client's roots (already intersected with the configured ones,
    /// see [`Roots::intersect`], off the executor: it resolves paths) if `generation`
    /// is still the newest; `None` keeps the configured roots.
    pub fn apply_client_roots(&self, generation: u64, client: Option<Roots>) -> bool {
        if generation != self.generation.get() {
            return false;
        }
        let roots = match client {
            Some(narrowed) => Arc::new(narrowed),
            None => Arc::clone(&self.configured),
        };
        log::info!(roots = roots.describe().as_str(); "allowed roots updated from the client's roots/list");
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = roots;
        true
    }
}

impl RootsUpdate {
    /// The generation this update applies to.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// The local path of a `file://` URI (`file:///a/b`, `file://localhost/a%20b`); `None` otherwise.
pub fn path_from_file_uri(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    // A query or fragment is not part of the path.
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let out = crate::bytes::percent_decode(rest)?;
    let text = String::from_utf8(out).ok()?;
    if text.contains('\0') {
        return None;
    }
    Some(PathBuf::from(text))
}

#[cfg(test)]
mod tests;
