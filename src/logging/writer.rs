//! Where formatted lines go: a bounded queue to one writer thread, so that a slow
//! or broken output (a full disk, a closed stderr) never blocks the executor and
//! never takes the server down. When the queue is full a line is dropped and
//! counted; write errors are counted too. A file output is created if missing
//! (mode 0600), appended to, and rotated by size when asked:
//!
//! ```text
//!   tfo.log (full) ─► tfo.log.1 ─► tfo.log.2 ─► ... ─► tfo.log.{keep} (deleted)
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Lines waiting for the writer thread; beyond this new lines are dropped.
pub(crate) const QUEUE: usize = 8192;
/// Buffer kept between writes; a larger one (after a burst) is freed.
const CHUNK: usize = 64 * 1024;
/// Most bytes queued; beyond them new lines are dropped (with `QUEUE`, a bound on
/// memory whatever the line lengths).
const MAX_QUEUED_BYTES: usize = 8 * 1024 * 1024;
/// After a write the writer lets lines gather this long before it looks again: a
/// busy server then pays no thread wake-up per line (a sender only wakes a writer
/// that waits on the queue), and lines are written in large chunks.
const LINGER: Duration = Duration::from_millis(2);

/// The log output.
#[derive(Debug)]
pub(crate) enum Output {
    /// Standard error.
    Stderr,
    /// A file, rotated when it would grow beyond `max_bytes` (0: never).
    File(RotatingFile),
}

impl Output {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Output::Stderr => {
                let mut err = io::stderr().lock();
                err.write_all(bytes).and_then(|()| err.flush())
            }
            Output::File(file) => file.write(bytes),
        }
    }
}

/// A log file with size-based rotation.
#[derive(Debug)]
pub(crate) struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    max_bytes: u64,
    keep: usize,
}

impl RotatingFile {
    /// Opens (creating, mode 0600) `path` for appending.
    pub(crate) fn open(path: &Path, max_bytes: u64, keep: usize) -> io::Result<RotatingFile> {
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            size,
            max_bytes,
            keep,
        })
    }

    /// Writes whole lines, rotating before the line that would cross `max_bytes`
    /// (a single longer line gets a file of its own). A failed rotation turns
    /// rotation off and is reported once; the lines still go to the current file.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.max_bytes == 0 {
            return self.append(bytes);
        }
        let mut pending = 0..0;
        let mut failed = None;
        for line in bytes.split_inclusive(|b| *b == b'\n') {
            let held = self.size + pending.len() as u64;
            if self.max_bytes > 0 && held > 0 && held + line.len() as u64 > self.max_bytes {
                self.append(&bytes[pending.clone()])?;
                pending = pending.end..pending.end;
                if let Err(e) = self.rotate() {
                    self.max_bytes = 0;
                    failed = Some(e);
                }
            }
            pending.end += line.len();
        }
        self.append(&bytes[pending])?;
        failed.map_or(Ok(()), Err)
    }

    fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// `path.{keep-1}` → `path.{keep}` ... `path` → `path.1`, then a fresh `path`.
    fn rotate(&mut self) -> io::Result<()> {
        let numbered = |i: usize| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{i}"));
            PathBuf::from(name)
        };
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            for i in (1..self.keep).rev() {
                match std::fs::rename(numbered(i), numbered(i + 1)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = open_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// What the writer did; read by [`super::stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Lines accepted into the queue.
    pub(crate) queued: AtomicU64,
    /// Lines dropped because the queue was full.
    pub(crate) dropped: AtomicU64,
    /// Writes (of one or more lines) that failed.
    pub(crate) write_errors: AtomicU64,
    /// Lines handled by the writer thread (written or failed); guarded for `flush`.
    handled: Mutex<u64>,
    progress: Condvar,
}

/// Lines between the loggers and the writer thread: one text buffer behind a mutex
/// that records are formatted straight into, swapped whole with the writer's emptied
/// one. No `String` per record crosses threads (musl's allocator maps and unmaps
/// groups when lines are allocated on one thread and freed on another), and nothing
/// is preallocated: it holds what is queued (a channel of `QUEUE` slots touched
/// 256 kB from the first record on).
#[derive(Debug)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    /// Most lines held; beyond it new lines are dropped.
    capacity: usize,
}

#[derive(Debug, Default)]
struct QueueState {
    /// Whole lines, each ending in a newline.
    text: String,
    /// Lines in `text`.
    lines: usize,
    /// The writer thread waits on `ready`.
    waiting: bool,
    /// The sending side is gone: the writer ends once the queue is empty.
    closed: bool,
}

impl Queue {
    fn new(capacity: usize) -> Queue {
        Queue {
            state: Mutex::default(),
            ready: Condvar::new(),
            capacity,
        }
    }

    /// Appends one line written by `write` (which must end it with a newline) unless
    /// `capacity` lines or `MAX_QUEUED_BYTES` wait already; wakes a waiting writer.
    /// False when the line was dropped.
    fn push_with(&self, write: impl FnOnce(&mut String)) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.closed || state.lines >= self.capacity || state.text.len() >= MAX_QUEUED_BYTES {
            return false;
        }
        write(&mut state.text);
        state.lines += 1;
        if state.waiting {
            state.waiting = false;
            self.ready.notify_one();
        }
        true
    }

    /// Waits for lines and swaps them into `into` (emptied by the caller); returns
    /// how many, `None` once closed and drained.
    fn take(&self, into: &mut String) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while state.lines == 0 {
            if state.closed {
                return None;
            }
            state.waiting = true;
            state = self
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        std::mem::swap(&mut state.text, into);
        Some(std::mem::take(&mut state.lines) as u64)
    }

    fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.closed = true;
        self.ready.notify_one();
    }
}

/// The sending side: cheap to push to from any thread.
#[derive(Debug)]
pub(crate) struct Writer {
    queue: Arc<Queue>,
    pub(crate) counters: Arc<Counters>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.queue.close();
    }
}

impl Writer {
    /// Starts the writer thread for `output`.
    pub(crate) fn start(output: Output) -> io::Result<Writer> {
        let queue = Arc::new(Queue::new(QUEUE));
        let lines = Arc::clone(&queue);
        let counters = Arc::new(Counters::default());
        let shared = Arc::clone(&counters);
        crate::threads::spawn("log-writer".into(), move || run(output, &lines, &shared))?;
        Ok(Writer { queue, counters })
    }

    /// Queues one line (with its newline) without waiting; a full queue drops it.
    #[cfg(test)]
    pub(crate) fn push(&self, line: &str) {
        self.push_with(|text| text.push_str(line));
    }

    /// Queues the line `write` appends (ending in a newline), formatted straight into
    /// the queue; a full queue drops it without calling `write`.
    pub(crate) fn push_with(&self, write: impl FnOnce(&mut String)) {
        if self.queue.push_with(write) {
            self.counters.queued.fetch_add(1, Ordering::Relaxed);
        } else {
            self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every line queued before this call is handled, or `deadline`.
    pub(crate) fn flush(&self, deadline: Instant) {
        let target = self.counters.queued.load(Ordering::Relaxed);
        let Ok(mut handled) = self.counters.handled.lock() else {
            return;
        };
        while *handled < target {
            let wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                return;
            }
            match self.counters.progress.wait_timeout(handled, wait) {
                Ok((guard, _)) => handled = guard,
                Err(_) => return,
            }
        }
    }
}

fn run(mut output: Output, queue: &Queue, counters: &Counters) {
    let mut text = String::new();
    while let Some(count) = queue.take(&mut text) {
        if output.write(text.as_bytes()).is_err() {
            // Nowhere to report it: the log output itself is what failed.
            counters.write_errors.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut handled) = counters.handled.lock() {
            *handled += count;
        }
        counters.progress.notify_all();
        text.clear();
        // A burst's buffer is not kept: the next one grows again as needed.
        if text.capacity() > CHUNK {
            text = String::new();
        }
        std::thread::sleep(LINGER);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn file_is_private_appended_and_rotated_keeping_n() {
        let dir = std::env::temp_dir().join(format!("tfo-mcp-rotate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("t.log");
        std::fs::write(&path, "old\n").expect("existing file");
        let mut file = RotatingFile::open(&path, 10, 2).expect("open");
        file.write(b"aaaa\n").expect("write");
        // Several lines in one write are still rotated line by line.
        file.write(b"bbbb\ncccc\ndddd\n").expect("write");
        file.write(b"eeee\nffff\n").expect("write");
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let numbered = |i| dir.join(format!("t.log.{i}"));
        assert_eq!(
            read(&path),
            "ffff\n",
            "the current file has the newest line"
        );
        assert_eq!(read(&numbered(1)), "dddd\neeee\n");
        assert_eq!(
            read(&numbered(2)),
            "bbbb\ncccc\n",
            "the oldest kept file; old\\naaaa\\n was deleted"
        );
        assert!(!numbered(3).exists(), "only `keep` rotated files are kept");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a created log file is private");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_failed_rotation_keeps_writing_to_the_current_file() {
        let dir = std::env::temp_dir().join(format!("tfo-mcp-norotate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // `t.log.1` is a non-empty directory: renaming the log onto it fails, even as root.
        std::fs::create_dir_all(dir.join("t.log.1")).expect("blocking directory");
        std::fs::write(dir.join("t.log.1/x"), "").expect("file in it");
        let path = dir.join("t.log");
        let mut file = RotatingFile::open(&path, 10, 1).expect("open");
        file.write(b"aaaa\n").expect("first line");
        assert!(
            file.write(b"bbbb\ncccc\n").is_err(),
            "the failed rotation is reported"
        );
        file.write(b"dddd\n").expect("no further rotation attempts");
        assert_eq!(
            std::fs::read_to_string(&path).expect("log"),
            "aaaa\nbbbb\ncccc\ndddd\n",
            "no line lost"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let writer = Writer {
            queue: Arc::new(Queue::new(2)),
            counters: Arc::new(Counters::default()),
        };
        let start = Instant::now();
        for _ in 0..5 {
            writer.push("x\n");
        }
        assert!(
            start.elapsed() < std::time::Duration::from_millis(100),
            "push never waits"
        );
        assert_eq!(writer.counters.dropped.load(Ordering::Relaxed), 3);
        assert_eq!(writer.counters.queued.load(Ordering::Relaxed), 2);
        writer.queue.close();
        writer.push("y\n");
        assert_eq!(
            writer.counters.dropped.load(Ordering::Relaxed),
            4,
            "a closed queue drops too"
        );
    }
}
