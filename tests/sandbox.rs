//! The sandbox attack suite, through the real binary: `../` escapes, absolute
//! paths elsewhere, a symlink inside the root pointing to /etc, a symlinked
//! parent directory, writing a new file through a symlinked directory or a
//! dangling symlink, `/proc/self/root/...`, NUL bytes and over-long paths; each is
//! refused by read_file, write_file, list_directory and search_files with an
//! `isError` result naming the policy, and nothing outside the root is created
//! or changed.

mod common;

use common::sandbox::{TempDir, column, err, ok, server_in};
use serde_json::json;
use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::Path;

/// Every file under `dir` with its content (directories as empty markers).
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = entry.path();
            let kind = entry.file_type().expect("file type");
            let content = if kind.is_dir() {
                stack.push(path.clone());
                b"<dir>".to_vec()
            } else if kind.is_symlink() {
                std::fs::read_link(&path)
                    .expect("link")
                    .display()
                    .to_string()
                    .into_bytes()
            } else {
                std::fs::read(&path).expect("read")
            };
            out.insert(path.display().to_string(), content);
        }
    }
    out
}

fn clip(text: &str) -> String {
    text.chars().take(80).collect()
}

/// A refusal by a sandbox policy, or (for an over-long path) by the schema's
/// `maxLength`, which stops it even before the sandbox sees it.
fn assert_refused(tool: &str, path: &str, text: &str) {
    let ok = text.starts_with("refused by the")
        || (path.len() > 4096 && text.contains("arguments.path: must be at most 4096"));
    assert!(ok, "{tool} {:?}: {}", clip(path), clip(text));
}

struct Scene {
    base: TempDir,
    marker: String,
}

impl Scene {
    fn new() -> Scene {
        let base = TempDir::new("attack");
        base.write("root/inside.txt", "inside");
        base.write("root/sub/file.txt", "sub");
        base.write("outside/secret.txt", "secret");
        symlink("/etc", base.join("root/etc_link")).expect("symlink to /etc");
        symlink(base.join("outside"), base.join("root/outdir")).expect("symlinked directory");
        symlink(
            base.join("outside/created-by-attack"),
            base.join("root/dangling"),
        )
        .expect("dangling symlink");
        symlink(base.join("root/inside.txt"), base.join("root/good_link")).expect("symlink inside");
        Scene {
            base,
            marker: format!("tfo-mcp-attack-{}", std::process::id()),
        }
    }

    fn root(&self) -> std::path::PathBuf {
        self.base.join("root")
    }
}

#[test]
fn every_escape_is_refused_by_every_file_tool_and_nothing_outside_changes() {
    let scene = Scene::new();
    let outside = scene.base.join("outside");
    let before = snapshot(&outside);
    let etc_marker = Path::new("/etc").join(&scene.marker);
    let mut s = server_in(&scene.root(), "2025-11-25", &[]);

    let read_paths = [
        "../outside/secret.txt".to_string(),
        "sub/../../outside/secret.txt".to_string(),
        outside.join("secret.txt").display().to_string(),
        "/etc/passwd".to_string(),
        "etc_link/passwd".to_string(),
        "outdir/secret.txt".to_string(),
        "dangling".to_string(),
        "/proc/self/root/etc/passwd".to_string(),
        format!("/proc/self/root{}", outside.join("secret.txt").display()),
        "/proc/self/cwd/../outside/secret.txt".to_string(),
        "inside.txt\0".to_string(),
        "a".repeat(5000),
    ];
    for path in &read_paths {
        let text = err(&mut s, "read_file", json!({"path": path}));
        assert_refused("read_file", path, &text);
        assert!(!text.contains("secret\""), "no content leaks: {text}");
    }
    let write_paths = [
        "../outside/new.txt".to_string(),
        outside.join("new.txt").display().to_string(),
        etc_marker.display().to_string(),
        format!("etc_link/{}", scene.marker),
        "outdir/new.txt".to_string(),
        "outdir/secret.txt".to_string(),
        "outdir/deeper/new.txt".to_string(),
        "dangling".to_string(),
        format!("/proc/self/root{}", outside.join("new.txt").display()),
        "new\0.txt".to_string(),
        "a".repeat(5000),
    ];
    for path in &write_paths {
        for create_dirs in [false, true] {
            let text = err(
                &mut s,
                "write_file",
                json!({"path": path, "content": "pwned", "create_dirs": create_dirs}),
            );
            assert_refused("write_file", path, &text);
        }
    }
    let dir_paths = [
        "..".to_string(),
        "../outside".to_string(),
        outside.display().to_string(),
        "/etc".to_string(),
        "/".to_string(),
        "etc_link".to_string(),
        "outdir".to_string(),
        "/proc/self/root/etc".to_string(),
        "sub\0".to_string(),
    ];
    for path in &dir_paths {
        for recursive in [false, true] {
            let text = err(
                &mut s,
                "list_directory",
                json!({"path": path, "recursive": recursive}),
            );
            assert_refused("list_directory", path, &text);
        }
        let text = err(
            &mut s,
            "search_files",
            json!({"path": path, "pattern": "**", "content_pattern": "root"}),
        );
        assert_refused("search_files", path, &text);
    }

    // The `file:///{path}` resource template reads through the same sandbox.
    let root = scene.root().display().to_string();
    let template_paths = [
        format!("{root}/../outside/secret.txt"),
        format!("{root}/sub/../../outside/secret.txt"),
        outside.join("secret.txt").display().to_string(),
        "/etc/passwd".to_string(),
        format!("{root}/etc_link/passwd"),
        format!("{root}/outdir/secret.txt"),
        format!("{root}/dangling"),
        "/proc/self/root/etc/passwd".to_string(),
        format!("/proc/self/root{}", outside.join("secret.txt").display()),
        format!("{root}/inside.txt%00"),
    ];
    for (n, path) in template_paths.iter().enumerate() {
        let uri = format!("file://{path}");
        let reply = s.call(json!(1000 + n), "resources/read", json!({"uri": uri}));
        let error = &reply["error"];
        assert_eq!(
            error["code"], -32602,
            "file template {uri}: refused as invalid params: {reply}"
        );
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("refused by the") || message.contains("NUL byte"),
            "file template {uri}: the refusal names the policy (or the template's NUL rule): {message}"
        );
        assert!(
            !reply.to_string().contains("secret\""),
            "no content leaks: {reply}"
        );
    }
    let inside = s.call(
        json!(1100),
        "resources/read",
        json!({"uri": format!("file://{root}/good_link")}),
    );
    assert_eq!(
        inside["result"]["contents"][0]["text"], "inside",
        "a symlink that stays inside a root is read through the template: {inside}"
    );

    assert_eq!(
        snapshot(&outside),
        before,
        "nothing outside the root was created or changed"
    );
    assert!(!etc_marker.exists(), "nothing was written to /etc");
    let leftovers: Vec<_> = std::fs::read_dir(scene.root())
        .expect("root")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left in the root: {leftovers:?}"
    );
}

#[test]
fn symlinks_are_listed_not_followed_and_inside_links_work() {
    let scene = Scene::new();
    let mut s = server_in(&scene.root(), "2025-11-25", &[]);
    let through = ok(&mut s, "read_file", json!({"path": "good_link"}));
    assert_eq!(
        through["text"], "inside",
        "a symlink that stays inside is followed"
    );
    let listing = ok(
        &mut s,
        "list_directory",
        json!({"path": ".", "recursive": true}),
    );
    let names = column(&listing, "entries", "name");
    assert!(
        !names
            .iter()
            .any(|n| n.contains("passwd") || n.contains("secret")),
        "walks do not follow links out: {names:?}"
    );
    let types: Vec<(&str, &str)> = listing["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| Some((e["name"].as_str()?, e["type"].as_str()?)))
        .filter(|(n, _)| n.ends_with("link") || *n == "outdir" || *n == "dangling")
        .collect();
    assert_eq!(
        types,
        [
            ("dangling", "symlink"),
            ("etc_link", "symlink"),
            ("good_link", "symlink"),
            ("outdir", "symlink")
        ]
    );
    let found = ok(
        &mut s,
        "search_files",
        json!({"path": ".", "pattern": "**", "content_pattern": "secret"}),
    );
    assert_eq!(
        found["matches"],
        json!([]),
        "search does not reach through links: {found}"
    );
    let found = ok(
        &mut s,
        "search_files",
        json!({"path": ".", "pattern": "passwd"}),
    );
    assert_eq!(found["matches"], json!([]));
    // Overwriting a symlink that points inside replaces the link, not its target's directory.
    let w = ok(
        &mut s,
        "write_file",
        json!({"path": "good_link", "content": "via link"}),
    );
    assert_eq!(
        w["path"],
        scene.root().join("inside.txt").display().to_string()
    );
    assert_eq!(
        std::fs::read_to_string(scene.root().join("inside.txt")).expect("read"),
        "via link"
    );
}

#[test]
fn a_refusal_names_the_configured_policy_and_its_roots() {
    let scene = Scene::new();
    let mut s = server_in(&scene.root(), "2025-11-25", &[]);
    let text = err(&mut s, "read_file", json!({"path": "/etc/passwd"}));
    assert!(
        text.contains("allowed-roots policy") && text.contains(&scene.root().display().to_string()),
        "{text}"
    );
    let text = err(&mut s, "read_file", json!({"path": "a\u{0}b"}));
    assert!(
        text.contains("path policy") && text.contains("NUL"),
        "{text}"
    );
}

/// A session whose client declares `roots`; returns the server's `roots/list` request id.
fn session_with_roots(root: &Path) -> (common::Server, serde_json::Value) {
    let mut cmd = common::server_command();
    cmd.current_dir(root)
        .env("TELEMETRYFLOW_MCP_ALLOWED_ROOTS", root);
    let mut s = common::Server::spawn(cmd);
    let init = s.call(
        json!(0),
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"roots": {"listChanged": true}},
            "clientInfo": {"name": "roots-client", "version": "1"}
        }),
    );
    assert!(init.get("result").is_some(), "{init}");
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let id = expect_roots_request(&s);
    (s, id)
}

fn expect_roots_request(s: &common::Server) -> serde_json::Value {
    let request = s.recv();
    assert_eq!(
        request["method"], "roots/list",
        "the server asks for the roots: {request}"
    );
    assert!(
        request["id"].is_string() || request["id"].is_number(),
        "a request has an id: {request}"
    );
    request["id"].clone()
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display()).replace(' ', "%20")
}

/// A client may name its root through a symlinked ancestor (`alias` → the
/// configured root): paths spelled the client's way keep working inside the
/// narrowed roots, while the alias itself grants nothing beyond them.
#[test]
fn a_client_root_spelled_through_a_symlink_is_reachable_as_spelled() {
    let scene = Scene::new();
    let root = scene.root();
    let alias = scene.base.join("alias");
    symlink(&root, &alias).expect("symlink");
    let (mut s, id) = session_with_roots(&root);
    s.send(json!({"jsonrpc": "2.0", "id": id, "result": {"roots": [{"uri": uri(&alias.join("sub")), "name": "sub"}]}}));
    let spelled = alias.join("sub/file.txt").display().to_string();
    assert_eq!(
        ok(&mut s, "read_file", json!({"path": spelled}))["text"],
        "sub",
        "the client's spelling of its root reaches it"
    );
    let beside = alias.join("inside.txt").display().to_string();
    let refused = err(&mut s, "read_file", json!({"path": beside}));
    assert!(
        refused.starts_with("refused by the client-roots policy"),
        "the alias reaches no further than the client's root: {refused}"
    );
}

/// A client's roots list of any length costs a bounded amount: the first 256 roots
/// are used, the first 8 that are not local `file://` URIs and the first 8 that do
/// not resolve are named, and the rest counted; the list still narrows the roots.
#[test]
fn a_long_client_roots_list_is_cut_and_its_skips_counted() {
    let scene = Scene::new();
    let root = scene.root();
    let (mut s, id) = session_with_roots(&root);
    let mut roots: Vec<serde_json::Value> = (0..20)
        .map(|i| json!({"uri": format!("https://example.com/{i}")}))
        .collect();
    roots.push(json!({"uri": uri(&root.join("sub"))}));
    roots.extend((0..300).map(|i| json!({"uri": uri(&root.join(format!("missing-{i}")))})));
    s.send(json!({"jsonrpc": "2.0", "id": id, "result": {"roots": roots}}));
    let nested = root.join("sub/file.txt").display().to_string();
    assert_eq!(
        ok(&mut s, "read_file", json!({"path": nested}))["text"],
        "sub"
    );
    let top = root.join("inside.txt").display().to_string();
    let refused = err(&mut s, "read_file", json!({"path": top}));
    assert!(
        refused.starts_with("refused by the client-roots policy"),
        "{refused}"
    );
    s.close_stdin();
    s.wait_exit(std::time::Duration::from_secs(10));
    let stderr = s.stderr();
    let count = |message: &str| stderr.lines().filter(|l| l.contains(message)).count();
    assert_eq!(count("names more roots than are used"), 1, "{stderr}");
    assert_eq!(
        count("client root is not a local file:// URI"),
        8,
        "{stderr}"
    );
    let rest = stderr
        .lines()
        .find(|l| l.contains("more client roots are not local file:// URIs"))
        .unwrap_or_else(|| panic!("the rest counted: {stderr}"));
    assert!(rest.contains("\"count\":12"), "{rest}");
    // 236 of the roots used are file URIs; 1 resolves, 235 do not: 8 named, 227 counted.
    assert_eq!(count("root cannot be resolved"), 8, "{stderr}");
    let rest = stderr
        .lines()
        .find(|l| l.contains("more roots cannot be resolved"))
        .unwrap_or_else(|| panic!("the rest counted: {stderr}"));
    assert!(rest.contains("\"count\":227"), "{rest}");
}

#[test]
fn client_roots_are_asked_for_and_narrow_the_configured_roots() {
    let scene = Scene::new();
    let root = scene.root();
    let (mut s, id) = session_with_roots(&root);
    let top = root.join("inside.txt").display().to_string();
    let nested = root.join("sub/file.txt").display().to_string();

    // A file call waits for the pending answer instead of using the wider configured roots.
    s.request(
        json!("early"),
        "tools/call",
        json!({"name": "read_file", "arguments": {"path": top}}),
    );
    s.expect_silence(
        std::time::Duration::from_millis(300),
        "read_file waits for roots/list",
    );
    s.send(json!({"jsonrpc": "2.0", "id": id, "result": {"roots": [{"uri": uri(&root.join("sub")), "name": "sub"}]}}));
    let early = s.recv_response();
    assert_eq!(early["id"], "early");
    let text = early["result"]["content"][0]["text"].as_str().unwrap_or("");
    assert!(
        text.starts_with("refused by the client-roots policy"),
        "outside the client's root: {early}"
    );
    assert!(
        ok(&mut s, "read_file", json!({"path": nested}))
            .get("text")
            .is_some(),
        "inside the client's root"
    );

    // list_changed: asked again; an error answer falls back to the configured roots.
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}));
    let again = expect_roots_request(&s);
    assert_ne!(again, id, "a new id for a new request");
    s.send(
        json!({"jsonrpc": "2.0", "id": again, "error": {"code": -32601, "message": "no roots"}}),
    );
    assert_eq!(
        ok(&mut s, "read_file", json!({"path": top}))["text"],
        "inside"
    );

    // A client root wider than the configured one never widens it.
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}));
    let wide = expect_roots_request(&s);
    s.send(json!({"jsonrpc": "2.0", "id": wide, "result": {"roots": [{"uri": "file:///"}]}}));
    assert_eq!(
        ok(&mut s, "read_file", json!({"path": top}))["text"],
        "inside"
    );
    let text = err(
        &mut s,
        "read_file",
        json!({"path": scene.base.join("outside/secret.txt")}),
    );
    assert!(text.contains("client-roots policy"), "{text}");

    // Disjoint roots leave nothing reachable.
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}));
    let disjoint = expect_roots_request(&s);
    s.send(json!({"jsonrpc": "2.0", "id": disjoint, "result": {"roots": [{"uri": uri(&scene.base.join("outside"))}]}}));
    let text = err(&mut s, "read_file", json!({"path": top}));
    assert!(
        text.contains("client-roots policy") && text.contains("none"),
        "{text}"
    );
}

#[test]
fn no_roots_request_without_the_capability() {
    let scene = Scene::new();
    let mut s = server_in(&scene.root(), "2025-06-18", &[]);
    s.expect_silence(
        std::time::Duration::from_millis(300),
        "a client without roots is not asked",
    );
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}));
    s.expect_silence(
        std::time::Duration::from_millis(300),
        "nor after list_changed",
    );
    assert_eq!(
        ok(&mut s, "read_file", json!({"path": "inside.txt"}))["text"],
        "inside"
    );
}

/// Swaps `root/flip` between a real directory and a symlink to `outside` as fast
/// as it can, while the client reads and writes through it: a read never returns
/// the outside file and nothing is ever written outside, not even a directory
/// (the checks after each open catch what the resolution could not, and writes
/// act through verified directory descriptors only).
#[test]
fn a_directory_swapped_for_a_symlink_during_use_never_leaks() {
    let scene = Scene::new();
    let root = scene.root();
    let outside = scene.base.join("outside");
    std::fs::write(outside.join("x"), "secret").expect("write");
    scene.base.write("root/d/x", "inside");
    symlink(&outside, root.join("l")).expect("symlink");
    let before = snapshot(&outside);
    let swapper = common::sandbox::Swapper::start(&root, ["d", "l"]);
    let mut s = server_in(&root, "2025-11-25", &[]);
    let mut served = 0;
    let swaps_before = swapper.swaps();
    for i in 0..300 {
        let r = common::sandbox::result(&mut s, "read_file", json!({"path": "flip/x"}));
        let text = r["content"][0]["text"].as_str().unwrap_or("").to_string();
        assert!(
            !text.contains("secret"),
            "read {i} leaked the outside file: {r}"
        );
        if r["isError"] == false {
            served += 1;
        }
        // Writes are cheaper than the race window is rare: several per read,
        // into the swapped directory and into directories made under it.
        for path in ["flip/w", "flip/v", "flip/n/w", "flip/n/m/w"] {
            common::sandbox::result(
                &mut s,
                "write_file",
                json!({"path": path, "content": "pwned", "create_dirs": true}),
            );
        }
    }
    let during = swapper.swaps() - swaps_before;
    let swaps = swapper.stop();
    eprintln!(
        "{swaps} swaps ({during} during the requests); {served} of 300 reads served from inside"
    );
    assert!(swaps > 100, "the swap really raced the requests");
    assert!(
        during > 100,
        "the swap went on during the requests: {during}"
    );
    assert!(served > 0, "some reads found the real directory");
    assert_eq!(snapshot(&outside), before, "nothing written outside");
}

#[test]
fn a_2026_07_28_request_declaring_roots_gets_no_server_request() {
    let scene = Scene::new();
    let mut cmd = common::server_command();
    cmd.current_dir(scene.root())
        .env("TELEMETRYFLOW_MCP_ALLOWED_ROOTS", scene.root());
    let mut s = common::Server::spawn(cmd);
    let mut meta = common::modern_meta();
    meta["io.modelcontextprotocol/clientCapabilities"] = json!({"roots": {"listChanged": true}});
    let reply = s.call(
        json!(1),
        "tools/call",
        json!({"name": "read_file", "arguments": {"path": "inside.txt"}, "_meta": meta}),
    );
    assert_eq!(
        reply["result"]["structuredContent"]["text"], "inside",
        "{reply}"
    );
    s.expect_silence(
        std::time::Duration::from_millis(300),
        "2026-07-28 forbids server requests on stdio: the configured roots apply",
    );
}

/// A listing or a search that cannot read part of the tree says which part instead
/// of passing for complete: a subdirectory and a file of mode 0000 (the server runs as
/// `nobody` when the tests run as root, who could read them anyway).
#[test]
fn unreadable_directories_and_files_are_named_not_skipped_silently() {
    use std::os::unix::fs::PermissionsExt;
    let scene = Scene::new();
    let root = scene.root();
    // A tree of its own beside the scene's entries.
    let tree = root.join("tree");
    for (path, text) in [
        ("a/x.txt", "needle"),
        ("closed/hidden.txt", "needle"),
        ("c/y.txt", "hay"),
    ] {
        let path = tree.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    std::fs::write(tree.join("secret.txt"), "needle").expect("write");
    let mode = |path: &str, mode| {
        std::fs::set_permissions(tree.join(path), std::fs::Permissions::from_mode(mode))
            .expect("chmod");
    };
    mode("closed", 0o000);
    mode("secret.txt", 0o000);
    let mut s = common::sandbox::unprivileged_server_in(&root, "2025-11-25");
    let listed = ok(
        &mut s,
        "list_directory",
        json!({"path": "tree", "recursive": true}),
    );
    let names = column(&listed, "entries", "name");
    assert_eq!(
        names,
        ["a", "a/x.txt", "c", "c/y.txt", "closed", "secret.txt"],
        "{listed}"
    );
    assert_eq!(listed["unreadable"], json!(["closed"]), "{listed}");
    assert_eq!(listed["unreadable_count"], 1, "{listed}");
    let found = ok(
        &mut s,
        "search_files",
        json!({"path": "tree", "pattern": "*.txt", "content_pattern": "needle"}),
    );
    let paths = column(&found, "matches", "path");
    assert_eq!(paths, ["a/x.txt"], "{found}");
    assert_eq!(
        found["unreadable"],
        json!(["closed", "secret.txt"]),
        "the directory not entered and the file not searched: {found}"
    );
    assert_eq!(found["unreadable_count"], 2, "{found}");
    let complete = ok(&mut s, "list_directory", json!({"path": "tree/a"}));
    assert!(
        complete.get("unreadable").is_none(),
        "nothing named when nothing was left out: {complete}"
    );
    mode("closed", 0o755);
    mode("secret.txt", 0o644);
}

/// A directory that may be written and entered but not listed (mode 0300, a drop
/// box) takes writes: the write path holds directories with `O_PATH`, which needs
/// no read permission. The server runs unprivileged (as `nobody` when the tests run
/// as root, whose permission checks would pass anyway).
#[test]
fn a_directory_that_may_be_written_but_not_listed_takes_writes() {
    use std::os::unix::fs::PermissionsExt;
    let scene = Scene::new();
    let root = scene.root();
    let drop_box = root.join("drop");
    std::fs::create_dir(&drop_box).expect("mkdir");
    if common::sandbox::running_as_root() {
        use common::sandbox::NOBODY;
        std::os::unix::fs::chown(&drop_box, Some(NOBODY), Some(NOBODY)).expect("chown");
    }
    std::fs::set_permissions(&drop_box, std::fs::Permissions::from_mode(0o300)).expect("chmod");
    let mut s = common::sandbox::unprivileged_server_in(&root, "2025-11-25");
    let listed = common::sandbox::result(&mut s, "list_directory", json!({"path": "drop"}));
    assert_eq!(
        listed["isError"], true,
        "the server really cannot list it: {listed}"
    );
    let written = ok(
        &mut s,
        "write_file",
        json!({"path": "drop/note.txt", "content": "dropped"}),
    );
    assert_eq!(written["bytes_written"], 7, "{written}");
    let deep = ok(
        &mut s,
        "write_file",
        json!({"path": "drop/sub/note.txt", "content": "deeper", "create_dirs": true}),
    );
    assert_eq!(deep["dirs_created"], 1, "{deep}");
    std::fs::set_permissions(&drop_box, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    assert_eq!(
        std::fs::read_to_string(drop_box.join("note.txt")).expect("read"),
        "dropped"
    );
    assert_eq!(
        std::fs::read_to_string(drop_box.join("sub/note.txt")).expect("read"),
        "deeper"
    );
}
