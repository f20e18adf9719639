//! File-system operations under a [`Roots`]: every open is `O_NOFOLLOW`, made from
//! its root with `openat2` where the kernel has it, and verified afterwards through
//! `/proc/self/fd/N`; reads are bounded; writes are
//! atomic (temporary file, then `renameat`, in a verified directory descriptor)
//! and never leave a partial file; walks go through pinned directory descriptors
//! with depth, entry, time and cancellation bounds. Blocking: call these through
//! `blocking::unblock`, never on the executor's thread.

use super::{Refusal, Roots};
use rustix::fs::{self as rfs, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::collections::BinaryHeap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// Flags of every open by path: never follow a symlink in the last component (a
/// swap after the check fails with `ELOOP`), never block on a FIFO. Opened with
/// rustix, not `OpenOptions`: std masks the flags with `O_ACCMODE`, which on musl
/// includes `O_PATH` (as `O_SEARCH`) and so dropped it.
const OPEN_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::NOFOLLOW)
    .union(OFlags::NONBLOCK)
    .union(OFlags::CLOEXEC);

/// Part of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChunk {
    /// The canonical path read.
    pub path: PathBuf,
    /// Size of the whole file.
    pub size: u64,
    /// Where the bytes start.
    pub offset: u64,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What an atomic write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The canonical path written.
    pub path: PathBuf,
    /// Bytes stored.
    pub bytes: u64,
    /// The file did not exist before.
    pub created: bool,
    /// Directories created on the way.
    pub dirs_created: usize,
}

/// What a directory entry is (symlinks are reported, never followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A FIFO, socket or device.
    Other,
}

impl EntryKind {
    /// The kind of an entry of this file type (`lstat`'s: a symlink is a symlink).
    fn of(file_type: fs::FileType) -> EntryKind {
        if file_type.is_symlink() {
            EntryKind::Symlink
        } else if file_type.is_dir() {
            EntryKind::Directory
        } else if file_type.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        }
    }

    /// The name used in tool output.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Directory => "directory",
            EntryKind::Symlink => "symlink",
            EntryKind::Other => "other",
        }
    }
}

/// One entry met by a walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the walked directory, `/`-separated.
    pub path: String,
    /// The entry's own name.
    pub name: String,
    /// Its kind.
    pub kind: EntryKind,
    /// Size in bytes (of the link itself for symlinks).
    pub size: u64,
    /// How deep below the walked directory (0: a direct child).
    pub depth: usize,
}

/// Bounds of a walk.
#[derive(Debug, Clone)]
pub struct Walk {
    /// Deepest level descended into (0: the directory's own entries only).
    pub max_depth: usize,
    /// Most entries visited.
    pub max_entries: usize,
    /// Give up at this instant.
    pub deadline: Option<Instant>,
    /// Set by the caller to stop (e.g. the request was cancelled).
    pub cancel: Arc<AtomicBool>,
    /// Entries visited so far, readable from another thread for progress.
    pub visited: Arc<AtomicU64>,
}

/// Why a walk ended early, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkEnd {
    /// Every entry within the depth was visited.
    Complete,
    /// `max_entries` reached.
    Entries,
    /// Directories below `max_depth` were not entered.
    Depth,
    /// The deadline passed.
    Time,
    /// The caller cancelled or the visitor stopped.
    Stopped,
}

impl WalkEnd {
    /// `None` when complete, otherwise why the result is truncated.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            WalkEnd::Complete => None,
            WalkEnd::Entries => Some("entry limit reached"),
            WalkEnd::Depth => Some("depth limit reached"),
            WalkEnd::Time => Some("time limit reached"),
            WalkEnd::Stopped => Some("stopped"),
        }
    }
}

/// Paths a walk or a search could not open or read (permissions, a race), so that a
/// result missing them says so instead of passing for complete.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// The first of them, relative to the walked directory.
    pub paths: Vec<String>,
    /// How many there were.
    pub count: u64,
}

impl Unreadable {
    /// Paths kept at most (the count goes on).
    pub const MAX_PATHS: usize = 100;

    /// Notes `path` (`""`: the walked directory itself, shown as `.`).
    pub fn add(&mut self, path: &str) {
        self.count += 1;
        if self.paths.len() < Self::MAX_PATHS {
            self.paths
                .push(if path.is_empty() { "." } else { path }.to_string());
        }
    }

    /// Takes in the paths and count of `other`.
    pub fn absorb(&mut self, other: Unreadable) {
        let room = Self::MAX_PATHS.saturating_sub(self.paths.len());
        self.paths.extend(other.paths.into_iter().take(room));
        self.count += other.count;
    }
}

/// One walk in progress: what every level of it shares.
struct Walker<'a> {
    /// The path as the caller gave it (for refusals).
    given: &'a str,
    limits: &'a Walk,
    visit: &'a mut dyn FnMut(&Entry, &Path) -> Flow,
    unreadable: Unreadable,
}

/// How a walk went.
#[derive(Debug)]
pub struct Walked {
    /// The walked directory, resolved.
    pub real: PathBuf,
    /// Why it ended.
    pub end: WalkEnd,
    /// Directories below it that could not be entered or listed.
    pub unreadable: Unreadable,
}

/// What the visitor of a walk wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Continue,
    /// End the walk now.
    Stop,
}

/// A directory held only to act in it (`*at` calls, a working directory): `O_PATH`
/// needs no read permission on it, so a directory that may be written and entered
/// but not listed still works.
const PINNED_DIR: OFlags = OFlags::DIRECTORY.union(OFlags::PATH);
/// Flags of such a directory opened through its parent's descriptor.
const DIR_FLAGS: OFlags = PINNED_DIR.union(OFlags::NOFOLLOW).union(OFlags::CLOEXEC);

/// How an open from a root resolves (`openat2`): below that root, through no
/// symlink and no `/proc` magic link, in any component.
const BENEATH: ResolveFlags = ResolveFlags::BENEATH
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS);

/// The path naming an open descriptor (`/proc/self/fd/N`): reading the link tells
/// where it is, opening or entering it reaches that very file or directory.
pub(crate) fn fd_path(fd: &impl AsRawFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

impl Roots {
    /// The real path of an open descriptor, which must lie inside a root (read
    /// through `/proc`; without it every operation fails closed).
    fn verify(&self, file: &File, given: &str) -> Result<PathBuf, Refusal> {
        let link = fs::read_link(fd_path(file)).map_err(|source| Refusal::Io {
            op: "verify (through /proc/self/fd)",
            path: given.to_string(),
            source,
        })?;
        if self.contains(&link) {
            Ok(link)
        } else {
            Err(self.outside(given))
        }
    }

    /// Opens `real` (already resolved, or a pinned `/proc/self/fd/N/name` path)
    /// for reading, with `extra` flags ([`OFlags::DIRECTORY`], [`PINNED_DIR`], or
    /// [`OFlags::PATH`] for a file held until its type is known), and verifies what
    /// was opened.
    fn open_verified(
        &self,
        real: &Path,
        given: &str,
        extra: OFlags,
    ) -> Result<(File, PathBuf), Refusal> {
        let flags = OPEN_FLAGS | extra;
        let opened = self
            .open_beneath(real, flags)
            .unwrap_or_else(|| rfs::open(real, flags, rfs::Mode::empty()));
        let file = opened.map(File::from).map_err(|e| {
            self.open_refusal(e, "open", given, || {
                fs::symlink_metadata(real).is_ok_and(|m| m.file_type().is_symlink())
            })
        })?;
        let path = self.verify(&file, given)?;
        Ok((file, path))
    }

    /// Opens `real` (resolved) from the root that contains it, the kernel keeping
    /// the walk below that root and off symlinks: a directory swapped for a symlink
    /// after resolution fails with `ELOOP` whatever it points at, so the error tells
    /// nothing about what exists outside (with a plain open it was "not found" or
    /// "outside"). `None` where this cannot be done: `real` is a pinned
    /// `/proc/self/fd/N/name` path (of a walk), or the kernel (before 5.6) or a seccomp
    /// filter refuses `openat2`; the plain open and the check after it remain.
    fn open_beneath(&self, real: &Path, flags: OFlags) -> Option<Result<OwnedFd, Errno>> {
        // Resolution refuses every path through `/proc`, so one there is a pinned
        // path, to be followed through its magic link; even under a root of `/`.
        if real.starts_with("/proc") {
            return None;
        }
        let (root, rest) = self
            .dirs
            .iter()
            .find_map(|root| Some((root, real.strip_prefix(root).ok()?)))?;
        // A root swapped for a symlink is no longer a directory to start from.
        let dir = match rfs::open(root, DIR_FLAGS, rfs::Mode::empty()) {
            Ok(dir) => dir,
            Err(Errno::NOTDIR) => return Some(Err(Errno::LOOP)),
            Err(e) => return Some(Err(e)),
        };
        let rest = if rest.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rest
        };
        // `openat2` refuses flags that `O_PATH` ignores (`O_NONBLOCK` here).
        let flags = if flags.contains(OFlags::PATH) {
            flags & (PINNED_DIR | OFlags::NOFOLLOW | OFlags::CLOEXEC)
        } else {
            flags
        };
        match rfs::openat2(&dir, rest, flags, rfs::Mode::empty(), BENEATH) {
            Err(Errno::NOSYS | Errno::PERM) => None,
            opened => Some(opened),
        }
    }

    /// Opens the directory at `path`, verified inside a root: a working directory
    /// entered through its descriptor (`/proc/self/fd/N`) cannot be swapped.
    pub fn open_dir(&self, path: &str) -> Result<(File, PathBuf), Refusal> {
        let real = self.resolve_existing(path)?;
        self.open_verified(&real, path, PINNED_DIR)
    }

    /// Opens the regular file at `path` for reading, verified inside a root.
    pub fn open_file(&self, path: &str) -> Result<(File, PathBuf, u64), Refusal> {
        let real = self.resolve_existing(path)?;
        self.open_file_at(&real, path)
    }

    /// Held with `O_PATH` first and read only once it is known to be a regular file:
    /// opening a device node (a watchdog, a tape) can act by itself.
    fn open_file_at(&self, real: &Path, given: &str) -> Result<(File, PathBuf, u64), Refusal> {
        let (held, path) = self.open_verified(real, given, OFlags::PATH)?;
        let meta = held.metadata().map_err(|source| Refusal::Io {
            op: "stat",
            path: given.to_string(),
            source,
        })?;
        if meta.file_type().is_symlink() {
            // With `O_PATH`, `O_NOFOLLOW` holds the link itself: it was swapped in.
            return Err(self.outside(given));
        }
        if !meta.is_file() {
            return Err(Refusal::NotAFile(given.to_string()));
        }
        // The same file, opened for reading through the held descriptor.
        let file = rfs::open(
            fd_path(&held),
            OPEN_FLAGS.difference(OFlags::NOFOLLOW),
            rfs::Mode::empty(),
        )
        .map(File::from)
        .map_err(|e| self.open_refusal(e, "open", given, || false))?;
        Ok((file, path, meta.len()))
    }

    /// Up to `length` bytes (never more than the cap) of the file at `path` from `offset`.
    pub fn read_chunk(
        &self,
        path: &str,
        offset: u64,
        length: Option<u64>,
    ) -> Result<FileChunk, Refusal> {
        let (file, real, size) = self.open_file(path)?;
        read_from(
            file,
            real,
            size,
            offset,
            length
                .unwrap_or(self.max_file_bytes)
                .min(self.max_file_bytes),
            path,
        )
    }

    /// The first `max` bytes of a file met during a walk (`pinned` from [`Roots::walk`]).
    pub fn read_pinned(&self, pinned: &Path, given: &str, max: u64) -> Result<FileChunk, Refusal> {
        let (file, real, size) = self.open_file_at(pinned, given)?;
        read_from(file, real, size, 0, max, given)
    }

    /// Writes `content` to `path` atomically: a new temporary file in the target's
    /// directory, synced, then renamed over the target. Every step after the first
    /// open goes through a directory descriptor verified inside a root (`mkdirat`,
    /// `openat`, `renameat`, all without following symlinks), so a directory
    /// swapped for a symlink at any moment cannot redirect the write. Missing parent
    /// directories are created only with `create_dirs`. On any failure nothing is
    /// left behind and the target is unchanged.
    pub fn write_atomic(
        &self,
        path: &str,
        content: &[u8],
        create_dirs: bool,
    ) -> Result<Written, Refusal> {
        let bytes = content.len() as u64;
        if bytes > self.max_file_bytes {
            return Err(Refusal::TooLarge {
                bytes,
                max: self.max_file_bytes,
            });
        }
        let resolved = self.resolve(path)?;
        let io_error = |op: &'static str| {
            move |source: io::Error| Refusal::Io {
                op,
                path: path.to_string(),
                source,
            }
        };
        let target = resolved.path;
        // "name/" names a directory, and so does a root (whose parent, outside, is
        // never opened). Any other directory is refused at the target itself,
        // through the directory's descriptor, below.
        if path.ends_with('/') || self.dirs.contains(&target) {
            return Err(Refusal::NotAFile(path.to_string()));
        }
        let Some((parent, name)) = target.parent().zip(target.file_name()) else {
            return Err(Refusal::NotAFile(path.to_string()));
        };
        if resolved.missing > 1 && !create_dirs {
            return Err(Refusal::MissingParent(path.to_string()));
        }
        // The deepest directory that exists, opened and verified; each missing one
        // below it is made and opened through its parent's descriptor.
        let missing_dirs: Vec<&Path> = parent
            .ancestors()
            .take(resolved.missing.saturating_sub(1))
            .collect();
        let existing_dir = parent
            .ancestors()
            .nth(missing_dirs.len())
            .ok_or_else(|| self.outside(path))?;
        let (mut dir, mut dir_path) = self.open_verified(existing_dir, path, PINNED_DIR)?;
        let mut dirs_created = 0;
        for missing in missing_dirs.into_iter().rev() {
            let Some(component) = missing.file_name() else {
                return Err(self.outside(path));
            };
            match rfs::mkdirat(&dir, component, rfs::Mode::from_raw_mode(0o777)) {
                Ok(()) => dirs_created += 1,
                Err(Errno::EXIST) => {}
                Err(e) => return Err(io_error("create directory")(e.into())),
            }
            dir = self.open_dir_at(&dir, component, path)?;
            dir_path.push(component);
        }
        let existing = match rfs::statat(&dir, name, rfs::AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat)
                if rfs::FileType::from_raw_mode(stat.st_mode) == rfs::FileType::RegularFile =>
            {
                // Not the set-user-ID, set-group-ID or sticky bits: the new file
                // belongs to this server's user, and a set-ID bit would hand the
                // client's content that user's rights.
                Some(stat.st_mode & 0o777)
            }
            Ok(_) => return Err(Refusal::NotAFile(path.to_string())),
            Err(Errno::NOENT) => None,
            Err(e) => return Err(io_error("stat")(e.into())),
        };
        let (mut file, temp) = self.create_temp(&dir, name, path)?;
        let guard = RemoveOnDrop {
            dir: &dir,
            name: Some(temp.as_os_str()),
        };
        if let Some(mode) = existing {
            file.set_permissions(fs::Permissions::from_mode(mode))
                .map_err(io_error("copy permissions to"))?;
        }
        file.write_all(content).map_err(io_error("write"))?;
        file.sync_all().map_err(io_error("sync"))?;
        drop(file);
        rfs::renameat(&dir, &temp, &dir, name).map_err(|e| io_error("rename into")(e.into()))?;
        guard.disarm();
        dir_path.push(name);
        Ok(Written {
            path: dir_path,
            bytes,
            created: existing.is_none(),
            dirs_created,
        })
    }

    /// Opens the directory `name` in the directory `dir` (a descriptor already
    /// verified inside a root) without following a symlink, so what opens is
    /// inside too.
    fn open_dir_at(&self, dir: &File, name: &OsStr, given: &str) -> Result<File, Refusal> {
        rfs::openat(dir, name, DIR_FLAGS, rfs::Mode::empty())
            .map(File::from)
            .map_err(|e| {
                self.open_refusal(e, "open", given, || {
                    rfs::statat(dir, name, rfs::AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|st| {
                        rfs::FileType::from_raw_mode(st.st_mode) == rfs::FileType::Symlink
                    })
                })
            })
    }

    /// A new temporary file in `dir` for the target `name`: `.NAME.tfo-mcp-PID-N.tmp`,
    /// with at most 64 bytes of the name (a long name must not make the temporary
    /// one too long), and another number when someone took that one first.
    fn create_temp(
        &self,
        dir: &File,
        name: &OsStr,
        given: &str,
    ) -> Result<(File, OsString), Refusal> {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let stem = &name.as_bytes()[..name.len().min(64)];
        let create = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        let mut attempts = 0;
        loop {
            let mut temp = Vec::with_capacity(stem.len() + 40);
            temp.push(b'.');
            temp.extend_from_slice(stem);
            temp.extend_from_slice(
                format!(
                    ".tfo-mcp-{}-{}.tmp",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed)
                )
                .as_bytes(),
            );
            let temp = OsString::from_vec(temp);
            let op = "create a temporary file for";
            match rfs::openat(
                dir,
                &temp,
                create | OFlags::CLOEXEC,
                rfs::Mode::from_raw_mode(0o666),
            ) {
                Ok(fd) => return Ok((File::from(fd), temp)),
                Err(Errno::EXIST) if attempts < 8 => attempts += 1,
                Err(e) => return Err(self.open_refusal(e, op, given, || false)),
            }
        }
    }

    /// Why opening `given` failed with `e` while doing `op`; `is_symlink` tells
    /// whether the last component is a symlink now (with `O_DIRECTORY`, Linux
    /// answers `ENOTDIR` rather than `ELOOP` for one).
    fn open_refusal(
        &self,
        e: Errno,
        op: &'static str,
        given: &str,
        is_symlink: impl FnOnce() -> bool,
    ) -> Refusal {
        match e {
            // The last component, or with `openat2` any, is (or became, after the
            // check) a symlink; or the walk would have left the root.
            Errno::LOOP | Errno::XDEV => self.outside(given),
            Errno::NOTDIR if is_symlink() => self.outside(given),
            Errno::NOTDIR => Refusal::NotADirectory(given.to_string()),
            Errno::NOENT => Refusal::NotFound(given.to_string()),
            _ => Refusal::Io {
                op,
                path: given.to_string(),
                source: e.into(),
            },
        }
    }

    /// Walks the directory at `path` depth-first in name order, calling `visit`
    /// with each entry and its pinned path (`/proc/self/fd/N/name`, valid during the
    /// call). Symlinks are reported, not followed.
    pub fn walk(
        &self,
        path: &str,
        limits: &Walk,
        visit: &mut dyn FnMut(&Entry, &Path) -> Flow,
    ) -> Result<Walked, Refusal> {
        let real = self.resolve_existing(path)?;
        let (dir, real) = self.open_verified(&real, path, OFlags::DIRECTORY)?;
        let mut walker = Walker {
            given: path,
            limits,
            visit,
            unreadable: Unreadable::default(),
        };
        let end = self.walk_dir(&mut walker, &dir, "", 0)?;
        Ok(Walked {
            real,
            end,
            unreadable: walker.unreadable,
        })
    }

    fn walk_dir(
        &self,
        walker: &mut Walker<'_>,
        dir: &File,
        prefix: &str,
        depth: usize,
    ) -> Result<WalkEnd, Refusal> {
        let given = walker.given;
        let limits = walker.limits;
        let pinned = fd_path(dir);
        let reader = fs::read_dir(&pinned).map_err(|source| Refusal::Io {
            op: "list",
            path: given.to_string(),
            source,
        })?;
        // The first names in byte order (the order of UTF-8 names), as many as the
        // walk may still visit and one more (which ends it as truncated): a max-heap of
        // that many, whatever the directory's size. Raw names: one that is not UTF-8
        // is shown lossily but opened as it is.
        let room = limits
            .max_entries
            .saturating_sub(limits.visited.load(Ordering::Relaxed) as usize)
            + 1;
        // Ordered by name: names in one directory are unique, the kind never decides.
        let mut first: BinaryHeap<(OsString, EntryKind)> = BinaryHeap::new();
        // An entry that cannot be read leaves its directory incomplete: noted once.
        let mut partial = false;
        for (i, item) in reader.enumerate() {
            if i % 1024 == 1023 {
                if limits.cancel.load(Ordering::Relaxed) {
                    return Ok(WalkEnd::Stopped);
                }
                if limits.deadline.is_some_and(|d| Instant::now() >= d) {
                    return Ok(WalkEnd::Time);
                }
            }
            let Ok(item) = item else {
                partial = true;
                continue;
            };
            let Ok(file_type) = item.file_type() else {
                partial = true;
                continue;
            };
            let entry = (item.file_name(), EntryKind::of(file_type));
            if first.len() < room {
                first.push(entry);
            } else if let Some(mut last) = first.peek_mut()
                && entry.0 < last.0
            {
                *last = entry;
            }
        }
        if partial {
            walker
                .unreadable
                .add(prefix.strip_suffix('/').unwrap_or(prefix));
        }
        let mut end = WalkEnd::Complete;
        for (raw, kind) in first.into_sorted_vec() {
            if limits.cancel.load(Ordering::Relaxed) {
                return Ok(WalkEnd::Stopped);
            }
            if limits.deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(WalkEnd::Time);
            }
            if limits.visited.load(Ordering::Relaxed) >= limits.max_entries as u64 {
                return Ok(WalkEnd::Entries);
            }
            limits.visited.fetch_add(1, Ordering::Relaxed);
            let name = raw.to_string_lossy().into_owned();
            let child = pinned.join(&raw);
            // The size of the entry itself (a symlink's own), as the listing shows it.
            let size = fs::symlink_metadata(&child).map_or(0, |m| m.len());
            let entry = Entry {
                path: format!("{prefix}{name}"),
                name,
                kind,
                size,
                depth,
            };
            if (walker.visit)(&entry, &child) == Flow::Stop {
                return Ok(WalkEnd::Stopped);
            }
            if kind == EntryKind::Directory {
                if depth >= limits.max_depth {
                    if limits.max_depth > 0 {
                        end = WalkEnd::Depth;
                    }
                    continue;
                }
                // A directory that cannot be opened or listed is noted and passed by.
                let sub_end = self
                    .open_verified(&child, given, OFlags::DIRECTORY)
                    .and_then(|(sub, _)| {
                        let prefix = format!("{}/", entry.path);
                        self.walk_dir(walker, &sub, &prefix, depth + 1)
                    });
                match sub_end {
                    Ok(WalkEnd::Complete) => {}
                    Ok(WalkEnd::Depth) => end = WalkEnd::Depth,
                    Ok(other) => return Ok(other),
                    Err(_) => walker.unreadable.add(&entry.path),
                }
            }
        }
        Ok(end)
    }
}

fn read_from(
    mut file: File,
    path: PathBuf,
    size: u64,
    offset: u64,
    length: u64,
    given: &str,
) -> Result<FileChunk, Refusal> {
    let io_error = |source| Refusal::Io {
        op: "read",
        path: given.to_string(),
        source,
    };
    let offset = offset.min(size);
    file.seek(SeekFrom::Start(offset)).map_err(io_error)?;
    let want = length.min(size - offset);
    let mut bytes = Vec::with_capacity(usize::try_from(want).unwrap_or(0));
    file.take(want).read_to_end(&mut bytes).map_err(io_error)?;
    Ok(FileChunk {
        path,
        size,
        offset,
        bytes,
    })
}

/// Removes a temporary file (a name in a pinned directory) unless disarmed: no
/// partial write survives a failure.
struct RemoveOnDrop<'a> {
    dir: &'a File,
    name: Option<&'a OsStr>,
}

impl RemoveOnDrop<'_> {
    fn disarm(mut self) {
        self.name = None;
    }
}

impl Drop for RemoveOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            let _ = rfs::unlinkat(self.dir, name, rfs::AtFlags::empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Policy;
    use super::*;

    #[test]
    fn a_symlink_where_a_directory_is_opened_counts_as_outside() {
        // With O_DIRECTORY, Linux answers ENOTDIR (not ELOOP) for a symlink.
        let temp = super::super::tests::TempDir::new("fs");
        let base = temp.0.clone();
        fs::create_dir_all(base.join("d")).expect("mkdir");
        std::os::unix::fs::symlink(base.join("d"), base.join("l")).expect("symlink");
        fs::write(base.join("f"), "f").expect("write");
        let roots = Roots::new(std::slice::from_ref(&base), Policy::Configured, 64);
        for flags in [OFlags::DIRECTORY, PINNED_DIR] {
            let link = roots.open_verified(&base.join("l"), "l", flags);
            assert!(matches!(link, Err(Refusal::Outside { .. })), "{link:?}");
            let file = roots.open_verified(&base.join("f"), "f", flags);
            assert!(matches!(file, Err(Refusal::NotADirectory(_))), "{file:?}");
        }
        let (dir, _) = roots.open_verified(&base, "", PINNED_DIR).expect("root");
        let at = roots.open_dir_at(&dir, OsStr::new("l"), "l");
        assert!(matches!(at, Err(Refusal::Outside { .. })), "{at:?}");
    }
}
