//! The stdio event loop: the thread that runs the executor also reads stdin and
//! writes stdout, waiting in one `poll(2)` on stdin, stdout and a wake-up eventfd.
//! There is no reader or writer thread, so a request costs one thread wake-up (its
//! bytes arriving) instead of three hand-offs.
//!
//! ```text
//!   ┌─► poll the future (the server and its tasks) ──► lines to the outbox
//!   │   pump: split input into the inbox, outbox into the write buffer
//!   └── sleep in poll(eventfd, stdin if the inbox has room, stdout if bytes wait)
//! ```
//!
//! The loop never blocks on the client: stdin is read only once `poll` says it is
//! readable. Answers are first written with `pwritev2(RWF_NOWAIT)`, which a pipe or
//! socket with no room refuses instead of waiting, so an answer usually costs no
//! `poll` for writability. Where that flag is refused (a terminal, a named FIFO, a
//! regular file on some file systems, pipes before Linux 6.4, a seccomp filter),
//! stdout is written at most `PIPE_BUF` bytes at a time once `poll` says it is
//! writable, which a pipe or socket accepts without waiting. A client
//! that stops reading fills the bounded outbox and then the tasks wait, while
//! signals, timers and cancellations still run. Other threads (the async-io
//! reactor, `unblock` workers) wake the loop through the eventfd; a wake from the
//! loop's own thread costs no system call.

use super::lines::LineSplitter;
use crate::mcp::Input;
use rustix::event::{EventfdFlags, PollFd, PollFlags};
use rustix::io::{Errno, ReadWriteFlags};
use smol::channel::{Receiver, Sender, TrySendError};
use std::collections::VecDeque;
use std::future::Future;
use std::os::fd::{BorrowedFd, OwnedFd};
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// How long the loop waits for a first request before it counts as idle and starts
/// the background threads (see [`Stdio::when_started`]).
const IDLE_START: rustix::event::Timespec = rustix::event::Timespec {
    tv_sec: 0,
    tv_nsec: 5_000_000,
};
/// A `poll` that only looks.
const NO_WAIT: rustix::event::Timespec = rustix::event::Timespec {
    tv_sec: 0,
    tv_nsec: 0,
};
/// Bytes read from stdin at once.
const READ_CHUNK: usize = 64 * 1024;
/// Bytes of encoded messages gathered for stdout before the outbox is left to fill.
const WRITE_BUFFER: usize = 64 * 1024;
/// Most bytes written after one "writable" answer: POSIX's `PIPE_BUF`, what a
/// pipe with room for anything takes without blocking.
const WRITE_CHUNK: usize = 4096;

/// Wakes the loop: a flag when it is running, the eventfd when it sleeps.
#[derive(Debug)]
struct Wake {
    fd: OwnedFd,
    /// Set by every wake; cleared before each poll of the future.
    notified: AtomicBool,
    /// The loop is in (or about to enter) `poll(2)`.
    sleeping: AtomicBool,
}

impl std::task::Wake for Wake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // SeqCst pairs with the loop's store of `sleeping` and load of `notified`:
        // either it sees this wake or this wake sees it asleep.
        if !self.notified.swap(true, SeqCst) && self.sleeping.load(SeqCst) {
            // Only EAGAIN (counter at its maximum, so already readable) can fail here.
            let _ = rustix::io::write(&self.fd, &1u64.to_ne_bytes());
        }
    }
}

/// What happened to one side of stdio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Open,
    Closed,
}

/// Stdin, stdout and the executor's wake-ups, driven by [`Stdio::block_on`].
pub(crate) struct Stdio<'fd> {
    stdin: BorrowedFd<'fd>,
    stdout: BorrowedFd<'fd>,
    wake: Arc<Wake>,
    /// The inbox; `None` once stdin ended and every line was handed over.
    inbox: Option<Sender<Input>>,
    splitter: LineSplitter,
    /// Lines read but not yet taken by the inbox; stdin is not read while any wait.
    pending: VecDeque<Input>,
    stdin_side: Side,
    read_buf: Vec<u8>,
    outbox: Receiver<String>,
    out: Vec<u8>,
    written: usize,
    stdout_side: Side,
    /// `pwritev2(RWF_NOWAIT)` works on stdout (until it is refused once).
    nowait: bool,
    /// Writes that went out that way, without a `poll` first.
    nowait_writes: u64,
    /// Called once when stdin ends (the health probe starts draining).
    on_eof: Option<Box<dyn FnOnce()>>,
    /// Called once, after the first write to stdout or when the loop first has
    /// nothing to do, whichever comes first.
    on_started: Option<Box<dyn FnOnce()>>,
    /// Called after every write to stdout.
    on_written: Option<Box<dyn FnMut()>>,
}

impl std::fmt::Debug for Stdio<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stdio")
            .field("stdin", &self.stdin_side)
            .field("stdout", &self.stdout_side)
            .field("pending", &self.pending.len())
            .field("unwritten", &(self.out.len() - self.written))
            .field("nowait_writes", &self.nowait_writes)
            .finish_non_exhaustive()
    }
}

impl<'fd> Stdio<'fd> {
    /// A loop reading lines of at most `max_line` bytes from `stdin` into `inbox`
    /// and writing what arrives in `outbox`, one message per line, to `stdout`.
    pub(crate) fn new(
        stdin: BorrowedFd<'fd>,
        stdout: BorrowedFd<'fd>,
        max_line: usize,
        inbox: Sender<Input>,
        outbox: Receiver<String>,
        on_eof: Box<dyn FnOnce()>,
    ) -> std::io::Result<Stdio<'fd>> {
        let fd = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        Ok(Stdio {
            stdin,
            stdout,
            wake: Arc::new(Wake {
                fd,
                notified: AtomicBool::new(false),
                sleeping: AtomicBool::new(false),
            }),
            inbox: Some(inbox),
            splitter: LineSplitter::new(max_line),
            pending: VecDeque::new(),
            stdin_side: Side::Open,
            read_buf: Vec::new(),
            outbox,
            out: Vec::new(),
            written: 0,
            stdout_side: Side::Open,
            nowait: true,
            nowait_writes: 0,
            on_eof: Some(on_eof),
            on_started: None,
            on_written: None,
        })
    }

    /// Sets what to run once the first answer is written or the loop is first
    /// idle (nothing read for `IDLE_START`): work that should not delay the first
    /// answer.
    pub(crate) fn when_started(&mut self, started: Box<dyn FnOnce()>) {
        self.on_started = Some(started);
    }

    /// Sets what to run each time every answer queued so far is written whole (the
    /// buffer written out and the outbox empty; `None`: nothing): work that must not
    /// delay an answer. A partial write, or answers still waiting, do not count.
    pub(crate) fn when_written(&mut self, written: Option<Box<dyn FnMut()>>) {
        self.on_written = written;
    }

    fn started(&mut self) {
        if let Some(started) = self.on_started.take() {
            started();
        }
    }

    /// Runs `future` (the server on its executor) to completion while moving
    /// bytes between stdio and the inbox and outbox.
    pub(crate) fn block_on<F: Future>(&mut self, future: F) -> F::Output {
        let waker = Waker::from(Arc::clone(&self.wake));
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            self.wake.notified.store(false, SeqCst);
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            self.pump();
            if self.wake.notified.load(SeqCst) {
                continue;
            }
            // Nothing left to run: what the future answered goes out now, in one
            // write, before the loop sleeps; if that emptied the buffer while
            // answers still wait in the outbox (their senders blocked), take them.
            if self.write_now() && self.out.is_empty() && !self.outbox.is_empty() {
                // Stdin and wake-ups are looked at too, without sleeping: a flood of
                // answers must not keep requests (and cancellations) unread.
                self.wait(Some(&NO_WAIT));
                continue;
            }
            self.wake.sleeping.store(true, SeqCst);
            if self.wake.notified.load(SeqCst) {
                self.wake.sleeping.store(false, SeqCst);
                continue;
            }
            // Before the first answer, the loop is idle once nothing has arrived for
            // `IDLE_START`: a client sends `initialize` as soon as it has spawned us,
            // and that answer goes out before any thread is created.
            let waiting_to_start = self.on_started.is_some() && self.out.is_empty();
            let moved = self.wait(waiting_to_start.then_some(&IDLE_START));
            self.wake.sleeping.store(false, SeqCst);
            if waiting_to_start && !moved {
                self.started();
            }
        }
    }

    /// After the future: writes every message still in the outbox (whose senders
    /// are gone by now) until `deadline`; what a client that reads nothing leaves
    /// unwritten is dropped then.
    pub(crate) fn flush(&mut self, deadline: Instant) {
        loop {
            self.pump();
            self.write_now();
            if self.stdout_side == Side::Closed {
                return;
            }
            if self.out.is_empty() {
                if self.outbox.is_empty() {
                    return;
                }
                continue;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                log::warn!(bytes = self.out.len() - self.written; "stdout not writable before the deadline; dropping the last messages");
                return;
            }
            let timeout =
                rustix::event::Timespec::try_from(left).unwrap_or(rustix::event::Timespec {
                    tv_sec: 1,
                    tv_nsec: 0,
                });
            self.wait(Some(&timeout));
        }
    }

    /// Moves ready lines into the inbox and encoded messages into the write buffer.
    fn pump(&mut self) {
        if let Some(inbox) = &self.inbox {
            while let Some(item) = self.pending.pop_front() {
                match inbox.try_send(item) {
                    Ok(()) => {}
                    Err(TrySendError::Full(item)) => {
                        self.pending.push_front(item);
                        break;
                    }
                    // The server stopped listening (shutdown): nothing more to hand over.
                    Err(TrySendError::Closed(_)) => {
                        self.pending.clear();
                        break;
                    }
                }
            }
            if self.pending.is_empty() && self.stdin_side == Side::Closed {
                // Dropping the last sender tells the server that input ended.
                self.inbox = None;
            }
        }
        while self.out.len() < WRITE_BUFFER {
            match self.outbox.try_recv() {
                Ok(line) => {
                    debug_assert!(!line.contains('\n'), "encoded messages are single lines");
                    if self.stdout_side == Side::Open {
                        self.out.extend_from_slice(line.as_bytes());
                        self.out.push(b'\n');
                    }
                }
                Err(_) => break,
            }
        }
    }

    /// Sleeps in `poll(2)` until something can move, then moves it; false when
    /// `timeout` passed with nothing to do.
    fn wait(&mut self, timeout: Option<&rustix::event::Timespec>) -> bool {
        let want_input =
            self.inbox.is_some() && self.stdin_side == Side::Open && self.pending.is_empty();
        let want_output = !self.out.is_empty() && self.stdout_side == Side::Open;
        let mut fds = [
            PollFd::new(&self.wake.fd, PollFlags::IN),
            PollFd::from_borrowed_fd(
                self.stdin,
                if want_input {
                    PollFlags::IN
                } else {
                    PollFlags::empty()
                },
            ),
            PollFd::from_borrowed_fd(
                self.stdout,
                if want_output {
                    PollFlags::OUT
                } else {
                    PollFlags::empty()
                },
            ),
        ];
        // Without interest, an fd only reports errors; those are handled when it is used.
        let n = if want_input || want_output {
            &mut fds[..]
        } else {
            &mut fds[..1]
        };
        match rustix::event::poll(n, timeout) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(Errno::INTR) => return true,
            Err(e) => {
                log::error!(error:% = e; "poll on stdio failed");
                return true;
            }
        }
        let woken = !fds[0].revents().is_empty();
        let readable = want_input && !fds[1].revents().is_empty();
        let writable = want_output && !fds[2].revents().is_empty();
        if woken {
            let mut counter = [0u8; 8];
            let _ = rustix::io::read(&self.wake.fd, &mut counter);
        }
        if readable {
            self.read();
        }
        if writable {
            self.write();
        }
        true
    }

    fn read(&mut self) {
        self.read_buf.clear();
        self.read_buf.reserve(READ_CHUNK);
        // Into the spare capacity: only the pages a read fills are ever touched.
        match rustix::io::read(
            self.stdin,
            rustix::buffer::spare_capacity(&mut self.read_buf),
        ) {
            Ok(0) => self.end_of_input(),
            Ok(_) => self.splitter.push(&self.read_buf, &mut self.pending),
            Err(Errno::INTR | Errno::AGAIN) => {}
            Err(e) => {
                log::error!(error:% = e; "reading stdin failed; treating it as EOF");
                self.end_of_input();
            }
        }
    }

    fn end_of_input(&mut self) {
        self.splitter.finish(&mut self.pending);
        self.stdin_side = Side::Closed;
        self.read_buf = Vec::new();
        if let Some(on_eof) = self.on_eof.take() {
            on_eof();
        }
    }

    /// Writes what waits for stdout without asking `poll` first, as far as the
    /// client has room for it: `RWF_NOWAIT` makes a full pipe or socket answer
    /// `EAGAIN` (then `wait` polls for room) instead of blocking. True when some
    /// bytes went out.
    fn write_now(&mut self) -> bool {
        let before = self.nowait_writes;
        while self.nowait && !self.out.is_empty() && self.stdout_side == Side::Open {
            let unwritten = [std::io::IoSlice::new(&self.out[self.written..])];
            // `u64::MAX`: at the current offset, as `write` does.
            match rustix::io::pwritev2(self.stdout, &unwritten, u64::MAX, ReadWriteFlags::NOWAIT) {
                Ok(0) => break,
                Ok(n) => {
                    self.nowait_writes += 1;
                    self.wrote(n);
                }
                Err(Errno::AGAIN | Errno::INTR) => break,
                // The flag is unknown to this kernel, or not supported by this kind of
                // file (a terminal, some file systems), or a seccomp filter refuses the
                // call: `poll` first from now on, and a real error shows on `write`.
                Err(
                    e @ (Errno::OPNOTSUPP
                    | Errno::INVAL
                    | Errno::NOSYS
                    | Errno::SPIPE
                    | Errno::PERM
                    | Errno::ACCESS),
                ) => {
                    log::debug!(error:% = e; "stdout refuses RWF_NOWAIT writes; polling before each write");
                    self.nowait = false;
                }
                Err(e) => self.write_failed(e),
            }
        }
        self.nowait_writes != before
    }

    /// Writes at most `WRITE_CHUNK` bytes, once `poll` said stdout is writable.
    fn write(&mut self) {
        let end = self.out.len().min(self.written + WRITE_CHUNK);
        match rustix::io::write(self.stdout, &self.out[self.written..end]) {
            Ok(n) => self.wrote(n),
            Err(Errno::INTR | Errno::AGAIN) => {}
            Err(e) => self.write_failed(e),
        }
    }

    /// `n` more bytes of the buffer are out.
    fn wrote(&mut self, n: usize) {
        self.started();
        self.written += n;
        if self.written == self.out.len() {
            self.out.clear();
            self.written = 0;
            if self.out.capacity() > WRITE_BUFFER {
                self.out = Vec::new();
            }
            if self.outbox.is_empty()
                && let Some(written) = &mut self.on_written
            {
                written();
            }
        }
    }

    fn write_failed(&mut self, e: Errno) {
        log::error!(error:% = e; "writing stdout failed; the client is gone");
        self.stdout_side = Side::Closed;
        self.out = Vec::new();
        self.written = 0;
        self.outbox.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;
    use std::time::Duration;

    /// A loop on two socket pairs: returns (client's writer to our stdin, client's
    /// reader of our stdout, our stdin end, our stdout end).
    fn sockets() -> (UnixStream, UnixStream, UnixStream, UnixStream) {
        let (client_in, server_in) = UnixStream::pair().expect("pair");
        let (server_out, client_out) = UnixStream::pair().expect("pair");
        (client_in, client_out, server_in, server_out)
    }

    /// A loop on `stdin` and `stdout` with lines of at most 1 kB.
    fn stdio_loop<'a>(
        stdin: &'a UnixStream,
        stdout: &'a UnixStream,
        inbox: Sender<Input>,
        outbox: Receiver<String>,
        on_eof: Box<dyn FnOnce()>,
    ) -> Stdio<'a> {
        Stdio::new(stdin.as_fd(), stdout.as_fd(), 1024, inbox, outbox, on_eof).expect("eventfd")
    }

    /// A loop whose client sends nothing (its inbox is never read).
    fn quiet_loop<'a>(
        stdin: &'a UnixStream,
        stdout: &'a UnixStream,
        outbox: Receiver<String>,
    ) -> Stdio<'a> {
        let (in_tx, _in_rx) = smol::channel::bounded(1);
        stdio_loop(stdin, stdout, in_tx, outbox, Box::new(|| {}))
    }

    #[test]
    fn lines_in_are_echoed_out_in_order_until_eof() {
        let (mut client_in, mut client_out, server_in, server_out) = sockets();
        let (in_tx, in_rx) = smol::channel::bounded(2);
        let (out_tx, out_rx) = smol::channel::bounded(4);
        let eof = Arc::new(AtomicBool::new(false));
        let seen_eof = Arc::clone(&eof);
        let writer = std::thread::spawn(move || {
            for i in 0..100 {
                client_in
                    .write_all(format!("line {i}\n").as_bytes())
                    .expect("write");
            }
        });
        let mut stdio = stdio_loop(
            &server_in,
            &server_out,
            in_tx,
            out_rx,
            Box::new(move || seen_eof.store(true, SeqCst)),
        );
        let writes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&writes);
        stdio.when_written(Some(Box::new(move || {
            counted.fetch_add(1, SeqCst);
        })));
        let count = stdio.block_on(async move {
            let mut count = 0;
            while let Ok(Input::Line(line)) = in_rx.recv().await {
                let text = String::from_utf8(line).expect("utf-8");
                out_tx.send(format!("got {text}")).await.expect("open");
                count += 1;
            }
            count
        });
        stdio.flush(Instant::now() + Duration::from_secs(5));
        writer.join().expect("writer");
        assert_eq!(count, 100, "every line reached the server");
        assert!(eof.load(SeqCst), "the EOF callback ran");
        assert!(
            writes.load(SeqCst) >= 1,
            "the after-write hook ran after the writes"
        );
        drop(stdio);
        drop(server_out);
        let mut text = String::new();
        client_out.read_to_string(&mut text).expect("read");
        let want: String = (0..100).map(|i| format!("got line {i}\n")).collect();
        assert_eq!(text, want, "one message per line, in order");
    }

    /// What a loop that answered lines left behind.
    struct Answered {
        /// How often the after-write hook ran.
        hooks: usize,
        nowait: bool,
        nowait_writes: u64,
        stdout: Side,
        unwritten: usize,
    }

    /// Runs a loop that answers each of `lines` with `got LINE` on `stdout` until
    /// EOF, then flushes.
    fn answer_lines(stdout: BorrowedFd<'_>, lines: usize) -> Answered {
        let (mut client_in, server_in) = UnixStream::pair().expect("pair");
        let (in_tx, in_rx) = smol::channel::bounded(2);
        let (out_tx, out_rx) = smol::channel::bounded(4);
        let writer = std::thread::spawn(move || {
            for i in 0..lines {
                client_in
                    .write_all(format!("line {i}\n").as_bytes())
                    .expect("write");
            }
        });
        let mut stdio = Stdio::new(
            server_in.as_fd(),
            stdout,
            1024,
            in_tx,
            out_rx,
            Box::new(|| {}),
        )
        .expect("eventfd");
        let hooks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&hooks);
        stdio.when_written(Some(Box::new(move || {
            counted.fetch_add(1, SeqCst);
        })));
        stdio.block_on(async move {
            while let Ok(Input::Line(line)) = in_rx.recv().await {
                let text = String::from_utf8(line).expect("utf-8");
                out_tx.send(format!("got {text}")).await.expect("open");
            }
        });
        stdio.flush(Instant::now() + Duration::from_secs(5));
        writer.join().expect("writer");
        Answered {
            hooks: hooks.load(SeqCst),
            nowait: stdio.nowait,
            nowait_writes: stdio.nowait_writes,
            stdout: stdio.stdout_side,
            unwritten: stdio.out.len() - stdio.written,
        }
    }

    #[test]
    fn answers_on_a_pipe_are_written_without_a_poll_first() {
        let (mut reader, writer) = std::io::pipe().expect("pipe");
        // Pipes take the flag since Linux 6.4; before, the loop must fall back.
        let (_probe_reader, probe) = std::io::pipe().expect("pipe");
        let takes_nowait = rustix::io::pwritev2(
            &probe,
            &[std::io::IoSlice::new(b"x")],
            u64::MAX,
            ReadWriteFlags::NOWAIT,
        )
        .is_ok();
        let answered = answer_lines(writer.as_fd(), 100);
        assert_eq!(
            answered.nowait, takes_nowait,
            "RWF_NOWAIT kept where the kernel takes it"
        );
        assert_eq!(
            answered.nowait_writes >= 1,
            takes_nowait,
            "answers went out before any poll for room, where pipes take the flag"
        );
        assert!(answered.hooks >= 1, "the after-write hook ran");
        drop(writer);
        let mut text = String::new();
        reader.read_to_string(&mut text).expect("read");
        let want: String = (0..100).map(|i| format!("got line {i}\n")).collect();
        assert_eq!(text, want, "one message per line, in order");
    }

    #[test]
    fn a_stdout_that_refuses_nowait_writes_is_written_after_poll() {
        // A terminal (here a pseudo-terminal's master side) does not take
        // RWF_NOWAIT: the loop falls back to poll-then-write and loses nothing.
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/ptmx")
            .expect("/dev/ptmx");
        let answered = answer_lines(tty.as_fd(), 20);
        assert!(
            !answered.nowait,
            "the terminal refused RWF_NOWAIT, then poll"
        );
        assert_eq!(answered.nowait_writes, 0, "no write went out without poll");
        assert_eq!(answered.stdout, Side::Open, "the refusal is not an error");
        assert_eq!(answered.unwritten, 0, "every answer was written");
        assert!(answered.hooks >= 1, "the after-write hook ran");
    }

    #[test]
    fn answers_larger_than_the_write_buffer_keep_flowing_and_are_flushed() {
        // 400 answers of 1 kB through an outbox of 256: the write buffer (64 kB)
        // fills before the outbox is empty, so after each whole write the loop must
        // take more from the outbox (its senders wait) before it sleeps. When the
        // future ends, up to 256 kB are still in the outbox: the flush must write
        // them all, not stop once the buffer is out. A socket, not a pipe: its buffer
        // takes the whole 64 kB in one write, so the buffer does empty that way.
        let (mut reader, writer) = UnixStream::pair().expect("pair");
        let (_client_in, server_in) = UnixStream::pair().expect("pair");
        let (in_tx, _in_rx) = smol::channel::bounded(1);
        let (out_tx, out_rx) = smol::channel::bounded(256);
        let mut stdio = Stdio::new(
            server_in.as_fd(),
            writer.as_fd(),
            1024,
            in_tx,
            out_rx,
            Box::new(|| {}),
        )
        .expect("eventfd");
        let client = std::thread::spawn(move || {
            let mut text = String::new();
            reader.read_to_string(&mut text).expect("read");
            text
        });
        let answer = |i: usize| format!("{i:04}{}", "x".repeat(1020));
        let sent = stdio.block_on(async move {
            let producer = async {
                for i in 0..400 {
                    out_tx.send(answer(i)).await.expect("open");
                }
                true
            };
            let stall = async {
                smol::Timer::after(Duration::from_secs(10)).await;
                false
            };
            smol::future::or(producer, stall).await
        });
        assert!(
            sent,
            "400 kB of answers went through a 64 kB buffer without a stall"
        );
        stdio.flush(Instant::now() + Duration::from_secs(5));
        drop(stdio);
        drop(writer);
        let text = client.join().expect("client");
        let want: String = (0..400).map(|i| answer(i) + "\n").collect();
        assert!(
            text.len() == want.len(),
            "every answer, the flushed ones too: {} of {} bytes",
            text.len(),
            want.len()
        );
        assert!(text == want, "in order");
    }

    #[test]
    fn background_work_waits_for_the_first_answer_or_an_idle_loop() {
        // A request that arrives late (after IDLE_START): the loop is idle first.
        // One already waiting: its answer is written before the hook runs.
        for late in [false, true] {
            let (mut client_in, client_out, server_in, server_out) = sockets();
            let (in_tx, in_rx) = smol::channel::bounded(2);
            let (out_tx, out_rx) = smol::channel::bounded(2);
            let mut stdio = stdio_loop(&server_in, &server_out, in_tx, out_rx, Box::new(|| {}));
            client_out.set_nonblocking(true).expect("nonblocking");
            let answered_first = Arc::new(AtomicBool::new(false));
            let seen = Arc::clone(&answered_first);
            stdio.when_started(Box::new(move || {
                let mut buf = [0u8; 64];
                seen.store((&client_out).read(&mut buf).is_ok_and(|n| n > 0), SeqCst);
            }));
            let writer = std::thread::spawn(move || {
                if late {
                    std::thread::sleep(Duration::from_millis(100));
                }
                client_in.write_all(b"initialize\n").expect("write");
                client_in
            });
            if !late {
                // The request is in the pipe before the loop first looks.
                std::thread::sleep(Duration::from_millis(20));
            }
            stdio.block_on(async move {
                if let Ok(Input::Line(_)) = in_rx.recv().await {
                    out_tx.send("answer".into()).await.expect("open");
                }
            });
            stdio.flush(Instant::now() + Duration::from_secs(5));
            drop(writer.join().expect("writer"));
            assert_eq!(
                answered_first.load(SeqCst),
                !late,
                "late request: the idle loop starts the work before any answer; \
                 waiting request: its answer is out before the work starts"
            );
        }
    }

    #[test]
    fn a_wake_from_another_thread_reaches_a_sleeping_loop() {
        let (_client_in, _client_out, server_in, server_out) = sockets();
        let (_out_tx, out_rx) = smol::channel::bounded::<String>(1);
        let mut stdio = quiet_loop(&server_in, &server_out, out_rx);
        let (tx, rx) = smol::channel::bounded(1);
        let sender = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            tx.send_blocking(7).expect("open");
        });
        let got = stdio.block_on(async move { rx.recv().await });
        sender.join().expect("sender");
        assert_eq!(
            got,
            Ok(7),
            "the loop woke for a message from another thread"
        );
    }

    #[test]
    fn a_client_that_reads_nothing_does_not_stall_the_loop() {
        let (_client_in, _client_out, server_in, server_out) = sockets();
        let (out_tx, out_rx) = smol::channel::bounded(8);
        let mut stdio = quiet_loop(&server_in, &server_out, out_rx);
        let whole = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = Arc::clone(&whole);
        stdio.when_written(Some(Box::new(move || {
            counted.fetch_add(1, SeqCst);
        })));
        // Far more than the socket buffer holds: the loop must keep running the
        // future (the timer fires) while stdout is full.
        let big = "x".repeat(64 * 1024);
        let finished = stdio.block_on(async move {
            let producer = async {
                loop {
                    if out_tx.send(big.clone()).await.is_err() {
                        break;
                    }
                }
                false
            };
            let timer = async {
                smol::Timer::after(Duration::from_millis(300)).await;
                true
            };
            smol::future::or(producer, timer).await
        });
        assert!(finished, "the timer fired although stdout was full");
        assert_eq!(
            whole.load(SeqCst),
            0,
            "partial writes with answers still waiting never count as written"
        );
        let started = Instant::now();
        stdio.flush(Instant::now() + Duration::from_millis(200));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "flush gives up at its deadline"
        );
    }
}
