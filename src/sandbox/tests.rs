use super::*;
use std::os::unix::fs::symlink;

/// A fresh directory under the system temp dir, removed on drop.
pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    pub(super) fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("tfo-sandbox-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(std::fs::canonicalize(&dir).expect("canonical temp dir"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn resolution_keeps_inside_and_refuses_every_way_out() {
    let base = TempDir::new("resolve");
    let root = base.0.join("root");
    let outside = base.0.join("outside");
    std::fs::create_dir_all(root.join("sub")).expect("mkdir");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(root.join("a.txt"), "a").expect("write");
    std::fs::write(outside.join("secret"), "s").expect("write");
    symlink(&outside, root.join("out")).expect("symlink");
    symlink(root.join("a.txt"), root.join("in")).expect("symlink");
    symlink(outside.join("nothing"), root.join("dangling")).expect("symlink");
    let roots = Roots::new(std::slice::from_ref(&root), Policy::Configured, 1024);
    let ok = [
        ("a.txt", root.join("a.txt"), 0),
        ("sub/../a.txt", root.join("a.txt"), 0),
        ("in", root.join("a.txt"), 0),
        ("new/file", root.join("new/file"), 2),
        (".", root.clone(), 0),
    ];
    for (path, want, missing) in ok {
        assert_eq!(
            roots.resolve(path).expect(path),
            Resolved {
                path: want,
                missing
            },
            "{path}"
        );
    }
    let abs = root.join("a.txt").display().to_string();
    assert!(roots.resolve(&abs).is_ok(), "absolute path inside");
    let refused = [
        "../outside/secret".to_string(),
        "../outside/new".to_string(),
        outside.join("secret").display().to_string(),
        "/etc/passwd".to_string(),
        "/etc/does-not-exist".to_string(),
        "out/secret".to_string(),
        "out/new-file".to_string(),
        "dangling".to_string(),
        "new/../../outside".to_string(),
        "/proc/self/root/etc/passwd".to_string(),
        format!("/proc/self/root{}", root.join("a.txt").display()),
        "a\0b".to_string(),
        "x".repeat(MAX_PATH_BYTES + 1),
        String::new(),
    ];
    // Beyond the roots, nothing tells a missing path from a file or a directory:
    // not a detour out and back in, not a symlink whatever its target is.
    symlink(outside.join("secret"), root.join("to-file")).expect("symlink");
    symlink(outside.join("secret/x"), root.join("to-not-dir")).expect("symlink");
    symlink(root.join("loop"), root.join("loop")).expect("symlink");
    let back_in = |detour: &str| format!("{detour}/..{}", root.join("a.txt").display());
    let oracle = [
        "/etc/does-not-exist/../x".to_string(),
        "/etc/passwd/x".to_string(),
        "/etc/passwd/../x".to_string(),
        "/root/.ssh/x".to_string(),
        back_in("/etc"),
        back_in("/does-not-exist"),
        "out".to_string(),
        "dangling".to_string(),
        "to-file".to_string(),
        "to-not-dir".to_string(),
        "out/../../outside/secret".to_string(),
    ];
    for path in &oracle {
        let refusal = roots.resolve(path).expect_err(path);
        assert!(
            matches!(refusal, Refusal::Outside { .. }),
            "{path}: {refusal:?}"
        );
    }
    assert!(
        matches!(roots.resolve("a.txt/x"), Err(Refusal::NotADirectory(_))),
        "inside, the precise error"
    );
    let looped = roots.resolve("loop");
    assert!(
        matches!(&looped, Err(Refusal::Io { source, .. }) if source.raw_os_error() == Some(40)),
        "inside, a symlink loop is told: {looped:?}"
    );
    symlink(root.join("nothing"), root.join("dangling-in")).expect("symlink");
    assert!(matches!(
        roots.resolve("dangling-in"),
        Err(Refusal::Dangling(_))
    ));

    // A root spelled through a symlinked ancestor: paths spelled the same way work.
    symlink(&base.0, base.0.join("alias")).expect("symlink");
    let spelled = base.0.join("alias/root");
    let aliased = Roots::new(std::slice::from_ref(&spelled), Policy::Configured, 1024);
    let through = spelled.join("a.txt").display().to_string();
    assert_eq!(
        aliased.resolve(&through).expect("through the alias").path,
        root.join("a.txt")
    );
    assert!(matches!(
        aliased.resolve(&base.0.join("alias/outside/secret").display().to_string()),
        Err(Refusal::Outside { .. })
    ));
    assert!(matches!(
        roots.resolve("new/../x"),
        Err(Refusal::DotAfterMissing(_))
    ));
    for path in refused {
        let refusal = roots.resolve(&path).expect_err(&path);
        let text = refusal.to_string();
        assert!(
            text.starts_with("refused by the"),
            "{path:?} refusal names its policy: {text}"
        );
    }
}

#[test]
fn client_roots_narrow_and_never_widen() {
    let base = TempDir::new("intersect");
    for d in ["a/b", "c"] {
        std::fs::create_dir_all(base.0.join(d)).expect("mkdir");
    }
    let configured = Roots::new(&[base.0.join("a")], Policy::Configured, 1);
    let narrowed = configured.intersect(&[base.0.clone(), base.0.join("a/b"), base.0.join("c")]);
    assert_eq!(
        narrowed.dirs(),
        [base.0.join("a")],
        "the wider client root gives the configured one"
    );
    let inner = configured.intersect(&[base.0.join("a/b")]);
    assert_eq!(
        inner.dirs(),
        [base.0.join("a/b")],
        "a narrower client root wins"
    );
    let none = configured.intersect(&[base.0.join("c")]);
    assert!(none.dirs().is_empty(), "disjoint roots leave nothing");
    assert!(
        none.resolve("x")
            .expect_err("no roots")
            .to_string()
            .contains("client-roots policy")
    );
}

#[test]
fn file_uris_decode() {
    let cases = [
        ("file:///tmp/a%20b", Some("/tmp/a b")),
        ("file://localhost/x", Some("/x")),
        ("file:///x?q#f", Some("/x")),
        ("file://host/x", None),
        ("http://x/y", None),
        ("file:///a%00b", None),
        ("file:///a%zz", None),
        ("file:///a%+2f", None),
        ("file:///x?bad%z", Some("/x")),
    ];
    for (uri, want) in cases {
        assert_eq!(path_from_file_uri(uri), want.map(PathBuf::from), "{uri}");
    }
}

#[test]
fn opens_are_checked_again_after_the_fact() {
    // What a lost race looks like to the open: a path that no longer resolves
    // inside. `read_pinned` opens without resolving first, so only the checks
    // after the open stand between it and the file.
    let base = TempDir::new("verify");
    let root = base.0.join("root");
    std::fs::create_dir_all(&root).expect("mkdir");
    std::fs::write(base.0.join("secret"), "s").expect("write");
    std::fs::write(root.join("ok"), "ok").expect("write");
    symlink(root.join("ok"), root.join("link")).expect("symlink");
    symlink(base.0.join("secret"), root.join("out")).expect("symlink");
    let roots = Roots::new(std::slice::from_ref(&root), Policy::Configured, 1024);
    let chunk = roots
        .read_pinned(&root.join("ok"), "ok", 10)
        .expect("inside");
    assert_eq!(chunk.bytes, b"ok");
    let outside = roots.read_pinned(&base.0.join("secret"), "secret", 10);
    assert!(
        matches!(outside, Err(Refusal::Outside { .. })),
        "the opened file is outside: {outside:?}"
    );
    let link = roots.read_pinned(&root.join("out"), "out", 10);
    assert!(
        matches!(link, Err(Refusal::Outside { .. })),
        "O_NOFOLLOW: a symlink in the last component fails: {link:?}"
    );
    let inside_link = roots.read_pinned(&root.join("link"), "link", 10);
    assert!(
        inside_link.is_err(),
        "unresolved symlinks are never followed, even inside"
    );
}

/// A lost race on a parent directory: resolved while it was a directory, swapped
/// for a symlink out of the roots before the open. Whether the file exists at the
/// symlink's target must not change the answer (with a plain open it did: "outside"
/// when it existed, "not found" when not), and nothing outside is read.
#[test]
fn a_parent_swapped_after_resolution_gives_one_answer_whatever_lies_outside() {
    let base = TempDir::new("swap");
    let root = base.0.join("root");
    std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
    std::fs::write(root.join("a/b/f"), "inside").expect("write");
    std::fs::create_dir_all(base.0.join("full/b")).expect("mkdir");
    std::fs::write(base.0.join("full/b/f"), "outside").expect("write");
    std::fs::create_dir_all(base.0.join("empty")).expect("mkdir");
    let roots = Roots::new(std::slice::from_ref(&root), Policy::Configured, 1024);
    // Every open goes through the one `open_verified`: a read stands for all.
    let real = roots.resolve_existing("a/b/f").expect("resolves inside");
    std::fs::rename(root.join("a"), base.0.join("a.old")).expect("move away");
    for target in ["full", "empty"] {
        let _ = std::fs::remove_file(root.join("a"));
        symlink(base.0.join(target), root.join("a")).expect("swap in a symlink");
        let read = roots.read_pinned(&real, "a/b/f", 100);
        assert!(
            matches!(read, Err(Refusal::Outside { .. })),
            "a read through a swapped parent, {target} outside: {read:?}"
        );
    }
}

#[test]
fn a_failed_write_leaves_nothing_and_keeps_the_old_content() {
    let base = TempDir::new("write");
    std::fs::write(base.0.join("f"), "old").expect("write");
    let roots = Roots::new(std::slice::from_ref(&base.0), Policy::Configured, 4);
    let big = roots.write_atomic("f", b"12345", false);
    assert!(
        matches!(big, Err(Refusal::TooLarge { bytes: 5, max: 4 })),
        "{big:?}"
    );
    let missing = roots.write_atomic("a/b", b"1", false);
    assert!(
        matches!(missing, Err(Refusal::MissingParent(_))),
        "{missing:?}"
    );
    let written = roots.write_atomic("f", b"new", false).expect("write");
    assert_eq!((written.bytes, written.created), (3, false));
    let names: Vec<String> = std::fs::read_dir(&base.0)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["f"], "no temporary files, no directories");
    assert_eq!(
        std::fs::read_to_string(base.0.join("f")).expect("read"),
        "new"
    );
}

#[test]
fn writes_keep_the_mode_make_missing_directories_and_refuse_non_files() {
    use std::os::unix::fs::PermissionsExt;
    let base = TempDir::new("write-dirs");
    let file = base.0.join("f");
    std::fs::write(&file, "old").expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let roots = Roots::new(std::slice::from_ref(&base.0), Policy::Configured, 64);
    roots.write_atomic("f", b"new", false).expect("overwrite");
    let mode = std::fs::metadata(&file).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o640, "the old file's mode is kept");

    let made = roots
        .write_atomic("a/b/c", b"deep", true)
        .expect("deep write");
    assert_eq!(
        (made.path, made.dirs_created, made.created),
        (base.0.join("a/b/c"), 2, true)
    );
    assert_eq!(std::fs::read(base.0.join("a/b/c")).expect("read"), b"deep");
    let again = roots
        .write_atomic("a/b/d", b"x", true)
        .expect("existing dirs");
    assert_eq!(again.dirs_created, 0);

    let dir = roots.write_atomic("a", b"x", false);
    assert!(matches!(dir, Err(Refusal::NotAFile(_))), "{dir:?}");
    for not_a_file in [base.0.display().to_string(), "new/".to_string()] {
        let refused = roots.write_atomic(&not_a_file, b"x", true);
        assert!(
            matches!(refused, Err(Refusal::NotAFile(_))),
            "{not_a_file}: {refused:?}"
        );
    }
    assert!(!base.0.join("new").exists(), "\"new/\" made nothing");

    // Set-ID bits are not carried over to the new file, which the server owns.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o6755)).expect("chmod");
    roots.write_atomic("f", b"newer", false).expect("overwrite");
    let mode = std::fs::metadata(&file).expect("stat").permissions().mode();
    assert_eq!(mode & 0o7777, 0o755, "no set-ID bits: {mode:o}");

    // A long name still leaves room for its temporary file's suffix.
    let long = "n".repeat(250);
    roots
        .write_atomic(&long, b"long", false)
        .expect("a 250-byte name");
    std::fs::write(base.0.join("plain"), "p").expect("write");
    let through_file = roots.write_atomic("plain/x", b"x", false);
    assert!(
        through_file.is_err(),
        "a file is no directory: {through_file:?}"
    );
}

#[test]
fn walks_stop_at_their_bounds() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64};
    use std::time::{Duration, Instant};
    let base = TempDir::new("walk");
    for name in ["a/1", "a/2", "b/c/3", "d"] {
        let path = base.0.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, "x").expect("write");
    }
    let roots = Roots::new(std::slice::from_ref(&base.0), Policy::Configured, 1024);
    let limits = |max_depth, max_entries, deadline, cancelled| Walk {
        max_depth,
        max_entries,
        deadline,
        cancel: Arc::new(AtomicBool::new(cancelled)),
        visited: Arc::new(AtomicU64::new(0)),
    };
    let run = |walk: &Walk| {
        let mut seen = Vec::new();
        let walked = roots
            .walk(".", walk, &mut |e, _| {
                seen.push(e.path.clone());
                Flow::Continue
            })
            .expect("walk");
        (seen, walked.end)
    };
    let all = run(&limits(8, 100, None, false));
    assert_eq!(all.0, ["a", "a/1", "a/2", "b", "b/c", "b/c/3", "d"]);
    assert_eq!(all.1, WalkEnd::Complete);
    assert_eq!(
        run(&limits(0, 100, None, false)),
        (vec!["a".into(), "b".into(), "d".into()], WalkEnd::Complete),
        "depth 0 lists one level, not truncated"
    );
    assert_eq!(run(&limits(1, 100, None, false)).1, WalkEnd::Depth);
    assert_eq!(
        run(&limits(8, 3, None, false)),
        (
            vec!["a".into(), "a/1".into(), "a/2".into()],
            WalkEnd::Entries
        )
    );
    let past = Instant::now() - Duration::from_millis(1);
    assert_eq!(
        run(&limits(8, 100, Some(past), false)),
        (vec![], WalkEnd::Time)
    );
    assert_eq!(
        run(&limits(8, 100, None, true)),
        (vec![], WalkEnd::Stopped),
        "a cancelled request stops the walk"
    );
}

/// With `/` as a root (the default root is the working directory, `/` for a
/// process started by a launcher), the pinned `/proc/self/fd/N/name` paths of a
/// walk lie under a root too: they must still be followed, not refused.
#[test]
fn under_a_root_of_slash_walks_descend_and_read_what_they_meet() {
    let base = TempDir::new("slash");
    std::fs::create_dir_all(base.0.join("sub/deep")).expect("mkdir");
    std::fs::write(base.0.join("sub/deep/f.txt"), "found").expect("write");
    let roots = Roots::new(&[PathBuf::from("/")], Policy::Configured, 1024);
    let mut seen = Vec::new();
    let mut read = Vec::new();
    let walked = roots
        .walk(
            base.0.to_str().expect("utf-8"),
            &walk_limits(8, 100),
            &mut |entry, pinned| {
                seen.push(entry.path.clone());
                if entry.kind == EntryKind::File {
                    read.push(roots.read_pinned(pinned, &entry.path, 100).map(|c| c.bytes));
                }
                Flow::Continue
            },
        )
        .expect("walk");
    assert_eq!(seen, ["sub", "sub/deep", "sub/deep/f.txt"], "descended");
    assert_eq!(walked.unreadable.count, 0, "nothing unreadable");
    assert!(
        matches!(read.as_slice(), [Ok(bytes)] if bytes == b"found"),
        "read through its pinned path: {read:?}"
    );
}

#[test]
fn names_that_are_not_utf8_are_walked_and_read_as_they_are() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let base = TempDir::new("walk-bytes");
    let bad_dir = base.0.join(OsStr::from_bytes(b"dir\xff"));
    std::fs::create_dir(&bad_dir).expect("mkdir");
    std::fs::write(bad_dir.join("needle"), "found").expect("write");
    // Two names that show the same: the raw one must not read the other.
    std::fs::write(base.0.join(OsStr::from_bytes(b"x\xff")), "raw").expect("write");
    std::fs::write(base.0.join("x\u{FFFD}"), "replacement").expect("write");
    let roots = Roots::new(std::slice::from_ref(&base.0), Policy::Configured, 1024);
    let walk = walk_limits(4, 100);
    let mut read = Vec::new();
    roots
        .walk(".", &walk, &mut |entry, pinned| {
            if entry.kind == EntryKind::File {
                let chunk = roots.read_pinned(pinned, &entry.path, 64).expect("read");
                read.push((
                    entry.path.clone(),
                    String::from_utf8(chunk.bytes).expect("text"),
                ));
            }
            Flow::Continue
        })
        .expect("walk");
    read.sort();
    assert_eq!(
        read,
        [
            ("dir\u{FFFD}/needle".to_string(), "found".to_string()),
            ("x\u{FFFD}".to_string(), "raw".to_string()),
            ("x\u{FFFD}".to_string(), "replacement".to_string()),
        ]
    );
}

#[test]
fn a_capped_walk_lists_the_first_names_in_order_whatever_the_directory_order() {
    let base = TempDir::new("walk-first");
    // Created in a scrambled order, so that the directory's own order is not the names'.
    for i in 0..3000u32 {
        let n = (i * 7919) % 3000;
        std::fs::write(base.0.join(format!("f{n:04}")), "").expect("write");
    }
    let roots = Roots::new(std::slice::from_ref(&base.0), Policy::Configured, 1024);
    let walk = walk_limits(0, 10);
    let mut seen = Vec::new();
    let walked = roots
        .walk(".", &walk, &mut |entry, _| {
            seen.push(entry.name.clone());
            Flow::Continue
        })
        .expect("walk");
    let want: Vec<String> = (0..10).map(|n| format!("f{n:04}")).collect();
    assert_eq!((seen, walked.end), (want, WalkEnd::Entries));
}

#[test]
fn unreadable_paths_are_counted_and_the_first_kept() {
    let mut unreadable = super::Unreadable::default();
    unreadable.add("");
    for i in 0..super::Unreadable::MAX_PATHS + 5 {
        unreadable.add(&format!("d{i}"));
    }
    assert_eq!(unreadable.count, 106, "every one counted");
    assert_eq!(unreadable.paths.len(), 100, "at most MAX_PATHS kept");
    assert_eq!(
        unreadable.paths[..2],
        [".", "d0"],
        "the walked directory shows as ."
    );
    let mut files = super::Unreadable::default();
    files.add("f");
    let mut few = super::Unreadable::default();
    few.add("a");
    few.absorb(files.clone());
    assert_eq!(
        (few.paths.clone(), few.count),
        (vec!["a".into(), "f".into()], 2)
    );
    unreadable.absorb(files);
    assert_eq!((unreadable.paths.len(), unreadable.count), (100, 107));
}

/// Walk limits with no deadline and no cancellation.
fn walk_limits(max_depth: usize, max_entries: usize) -> Walk {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64};
    Walk {
        max_depth,
        max_entries,
        deadline: None,
        cancel: Arc::new(AtomicBool::new(false)),
        visited: Arc::new(AtomicU64::new(0)),
    }
}

#[test]
fn what_is_not_a_regular_file_is_refused_without_being_opened() {
    use std::sync::mpsc;
    use std::time::Duration;
    let base = TempDir::new("fifo");
    let fifo = base.0.join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .expect("mkfifo");
    // A writer's open waits until someone opens the FIFO for reading: opening a
    // device or a FIFO can act by itself, and the read must not do it.
    let (opened_tx, opened) = mpsc::channel();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let file = std::fs::OpenOptions::new().write(true).open(&fifo);
            let _ = opened_tx.send(());
            file
        })
    };
    // Time for the writer to reach its open and wait there.
    std::thread::sleep(Duration::from_millis(100));
    let roots = Roots::new(std::slice::from_ref(&base.0), Policy::Configured, 1024);
    let read = roots.read_chunk("fifo", 0, None);
    assert!(matches!(read, Err(Refusal::NotAFile(_))), "{read:?}");
    assert!(
        opened.recv_timeout(Duration::from_millis(300)).is_err(),
        "the FIFO was opened for reading"
    );
    // Let the writer go.
    let _reader = std::fs::File::open(&fifo).expect("open the FIFO");
    writer.join().expect("writer").expect("writer's open");
}
