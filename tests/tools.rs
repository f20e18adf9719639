//! The file tools through the real binary: success, each validation error and
//! each cap of read_file, write_file, list_directory and search_files, and the
//! shape of every tool's definition.

mod common;

use common::sandbox::{TempDir, call, column, err, ok, result, server_in};
use serde_json::{Value, json};

const V: &str = "2025-11-25";

#[test]
fn every_file_and_command_tool_is_listed_with_a_closed_schema_and_truthful_hints() {
    let root = TempDir::new("list");
    let mut s = server_in(&root.path, V, &[]);
    let tools = s.call(json!(1), "tools/list", json!({}))["result"]["tools"].clone();
    let hints = [
        ("read_file", true, false, true, false),
        ("write_file", false, true, true, false),
        ("list_directory", true, false, true, false),
        ("search_files", true, false, true, false),
        ("execute_command", false, true, false, true),
    ];
    for (name, read_only, destructive, idempotent, open_world) in hints {
        let tool = tools
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == name))
            .unwrap_or_else(|| panic!("{name} listed in {tools}"));
        assert!(tool["title"].is_string(), "{name} has a title");
        assert!(
            tool["description"].as_str().is_some_and(|d| d.len() > 80),
            "{name} explains itself"
        );
        assert_eq!(
            tool["inputSchema"]["additionalProperties"], false,
            "{name} closed schema"
        );
        assert_eq!(
            tool["outputSchema"]["type"], "object",
            "{name} outputSchema"
        );
        let a = &tool["annotations"];
        assert_eq!(
            (
                a["readOnlyHint"].clone(),
                a["destructiveHint"].clone(),
                a["idempotentHint"].clone(),
                a["openWorldHint"].clone()
            ),
            (
                json!(read_only),
                json!(destructive),
                json!(idempotent),
                json!(open_world)
            ),
            "{name} annotations"
        );
    }
}

#[test]
fn read_file_returns_text_blobs_and_pages() {
    let root = TempDir::new("read");
    root.write("hello.txt", "hello\nworld\n");
    root.write("bin/data.png", [0x89, b'P', b'N', b'G', 0, 1, 2, 0xff]);
    root.write("big.txt", "0123456789".repeat(5));
    root.write("utf8.txt", "aé"); // 3 bytes, a page of 2 ends inside 'é'
    let mut s = server_in(&root.path, V, &[("TELEMETRYFLOW_MCP_FILE_MAX_BYTES", "16")]);

    let text = ok(&mut s, "read_file", json!({"path": "hello.txt"}));
    assert_eq!(text["text"], "hello\nworld\n");
    assert_eq!(text["encoding"], "utf-8");
    assert_eq!(text["truncated"], false);
    assert_eq!(
        text["path"],
        root.join("hello.txt").display().to_string(),
        "canonical path"
    );
    let abs = ok(&mut s, "read_file", json!({"path": root.join("hello.txt")}));
    assert_eq!(
        abs["text"], "hello\nworld\n",
        "absolute paths inside the root work"
    );

    let r = result(&mut s, "read_file", json!({"path": "bin/data.png"}));
    assert_eq!(r["isError"], false);
    assert_eq!(r["structuredContent"]["encoding"], "base64");
    let blob = &r["content"][1]["resource"];
    assert_eq!(r["content"][1]["type"], "resource");
    assert_eq!(blob["mimeType"], "image/png");
    assert_eq!(blob["blob"], "iVBORwABAv8=", "base64 of the bytes");
    assert!(
        blob["uri"]
            .as_str()
            .is_some_and(|u| u.starts_with("file:///") && u.ends_with("/bin/data.png"))
    );
    let forced = result(
        &mut s,
        "read_file",
        json!({"path": "hello.txt", "encoding": "base64"}),
    );
    assert_eq!(forced["content"][1]["resource"]["blob"], "aGVsbG8Kd29ybGQK");

    // The cap (16 bytes here) pages a 50-byte file.
    let page = ok(&mut s, "read_file", json!({"path": "big.txt"}));
    assert_eq!(page["text"], "0123456789012345");
    assert_eq!(
        (
            page["size"].clone(),
            page["truncated"].clone(),
            page["next_offset"].clone()
        ),
        (json!(50), json!(true), json!(16))
    );
    let last = ok(
        &mut s,
        "read_file",
        json!({"path": "big.txt", "offset": 48}),
    );
    assert_eq!(
        (last["text"].clone(), last["truncated"].clone()),
        (json!("89"), json!(false))
    );
    let short = ok(
        &mut s,
        "read_file",
        json!({"path": "big.txt", "offset": 2, "length": 3}),
    );
    assert_eq!(short["text"], "234");
    // JSON has one number type: 2.0 is the integer 2, 1e30 is past any end.
    let spelled = ok(
        &mut s,
        "read_file",
        json!({"path": "big.txt", "offset": 2.0, "length": 3.0}),
    );
    assert_eq!(spelled["text"], "234");
    let far = ok(
        &mut s,
        "read_file",
        json!({"path": "big.txt", "offset": 1e30}),
    );
    assert_eq!(far["text"], "");
    let capped = ok(
        &mut s,
        "read_file",
        json!({"path": "big.txt", "length": 1000}),
    );
    assert_eq!(capped["length"], 16, "length never exceeds the cap");
    let past = ok(
        &mut s,
        "read_file",
        json!({"path": "big.txt", "offset": 999}),
    );
    assert_eq!(
        (past["text"].clone(), past["length"].clone()),
        (json!(""), json!(0))
    );
    let half = ok(
        &mut s,
        "read_file",
        json!({"path": "utf8.txt", "length": 2}),
    );
    assert_eq!(
        (half["text"].clone(), half["next_offset"].clone()),
        (json!("a"), json!(1)),
        "pages end on character boundaries"
    );

    assert!(err(&mut s, "read_file", json!({"path": "missing.txt"})).contains("does not exist"));
    assert!(err(&mut s, "read_file", json!({"path": "bin"})).contains("not a file"));
    let invalid = [
        (json!({}), "arguments.path: required property is missing"),
        (json!({"path": 5}), "arguments.path: expected string"),
        (
            json!({"path": ""}),
            "arguments.path: must be at least 1 characters long",
        ),
        (
            json!({"path": "a", "encoding": "latin1"}),
            "arguments.encoding: must be one of",
        ),
        (
            json!({"path": "a", "offset": -1}),
            "arguments.offset: must be at least 0",
        ),
        (
            json!({"path": "a", "length": 0}),
            "arguments.length: must be at least 1",
        ),
        (
            json!({"path": "a", "mode": "x"}),
            "arguments.mode: unknown property",
        ),
    ];
    for (args, want) in invalid {
        let text = err(&mut s, "read_file", args.clone());
        assert!(text.contains(want), "{args}: {text}");
    }
}

#[test]
fn validation_errors_are_protocol_errors_before_2025_11_25() {
    let root = TempDir::new("validate-old");
    let mut s = server_in(&root.path, "2025-06-18", &[]);
    for (name, args) in [
        ("read_file", json!({})),
        ("write_file", json!({"path": "a"})),
        ("list_directory", json!({"path": "a", "recursive": "yes"})),
        (
            "search_files",
            json!({"path": ".", "pattern": "*", "max_results": 0}),
        ),
        ("execute_command", json!({"command": "ls", "timeout": 0})),
    ] {
        let response = call(&mut s, name, args.clone());
        assert_eq!(
            response["error"]["code"], -32602,
            "{name} {args}: {response}"
        );
    }
}

#[test]
fn write_file_is_atomic_capped_and_creates_dirs_only_when_asked() {
    let root = TempDir::new("write");
    let mut s = server_in(&root.path, V, &[("TELEMETRYFLOW_MCP_FILE_MAX_BYTES", "32")]);
    let w = ok(
        &mut s,
        "write_file",
        json!({"path": "a.txt", "content": "first"}),
    );
    assert_eq!(
        (w["created"].clone(), w["bytes_written"].clone()),
        (json!(true), json!(5))
    );
    assert_eq!(
        std::fs::read_to_string(root.join("a.txt")).expect("written"),
        "first"
    );
    let w = ok(
        &mut s,
        "write_file",
        json!({"path": "a.txt", "content": "second"}),
    );
    assert_eq!(w["created"], false, "an overwrite");
    assert_eq!(
        std::fs::read_to_string(root.join("a.txt")).expect("written"),
        "second"
    );

    let no_dirs = err(
        &mut s,
        "write_file",
        json!({"path": "x/y/z.txt", "content": "z"}),
    );
    assert!(
        no_dirs.contains("create_dirs"),
        "the message says how to proceed: {no_dirs}"
    );
    assert!(
        !root.join("x").exists(),
        "nothing created without create_dirs"
    );
    let w = ok(
        &mut s,
        "write_file",
        json!({"path": "x/y/z.txt", "content": "z", "create_dirs": true}),
    );
    assert_eq!(w["dirs_created"], 2);
    assert_eq!(
        std::fs::read_to_string(root.join("x/y/z.txt")).expect("written"),
        "z"
    );

    let too_big = err(
        &mut s,
        "write_file",
        json!({"path": "a.txt", "content": "x".repeat(33)}),
    );
    assert!(
        too_big.contains("size cap") && too_big.contains("33"),
        "{too_big}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("a.txt")).expect("kept"),
        "second",
        "a refused write changes nothing"
    );
    let big_new = err(
        &mut s,
        "write_file",
        json!({"path": "new.txt", "content": "x".repeat(33)}),
    );
    assert!(big_new.contains("size cap"));
    assert!(!root.join("new.txt").exists(), "no partial file");

    assert!(
        err(&mut s, "write_file", json!({"path": "x", "content": "dir"})).contains("not a file")
    );
    let leftovers: Vec<String> = walk(&root.path)
        .into_iter()
        .filter(|p| p.contains(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );
    for (args, want) in [
        (
            json!({"path": "a"}),
            "arguments.content: required property is missing",
        ),
        (
            json!({"content": "a"}),
            "arguments.path: required property is missing",
        ),
        (
            json!({"path": "a", "content": 1}),
            "arguments.content: expected string",
        ),
        (
            json!({"path": "a", "content": "a", "create_dirs": "yes"}),
            "arguments.create_dirs: expected boolean",
        ),
    ] {
        let text = err(&mut s, "write_file", args.clone());
        assert!(text.contains(want), "{args}: {text}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        out.push(path.display().to_string());
        if entry.file_type().expect("type").is_dir() {
            out.extend(walk(&path));
        }
    }
    out
}

#[test]
fn list_directory_reports_entries_and_its_caps() {
    let root = TempDir::new("listdir");
    root.write("b.txt", "12345");
    root.write("a/inner.txt", "x");
    std::os::unix::fs::symlink("b.txt", root.join("link")).expect("symlink");
    let mut s = server_in(&root.path, V, &[]);
    let flat = ok(&mut s, "list_directory", json!({"path": "."}));
    assert_eq!(
        flat["entries"],
        json!([
            {"name": "a", "type": "directory", "size": flat["entries"][0]["size"]},
            {"name": "b.txt", "type": "file", "size": 5},
            {"name": "link", "type": "symlink", "size": 5}
        ])
    );
    assert_eq!(flat["truncated"], false);
    let deep = ok(
        &mut s,
        "list_directory",
        json!({"path": ".", "recursive": true}),
    );
    let names = column(&deep, "entries", "name");
    assert_eq!(names, ["a", "a/inner.txt", "b.txt", "link"]);

    // Depth cap: 10 nested levels, 8 listed.
    root.write("d/1/2/3/4/5/6/7/8/9/10/f", "");
    let nested = ok(
        &mut s,
        "list_directory",
        json!({"path": "d", "recursive": true}),
    );
    assert_eq!(
        (
            nested["truncated"].clone(),
            nested["truncated_reason"].clone()
        ),
        (json!(true), json!("depth limit reached"))
    );
    // Entry cap: 2001 files, 2000 listed.
    for i in 0..2001 {
        root.write(&format!("many/{i:04}"), "");
    }
    let many = ok(&mut s, "list_directory", json!({"path": "many"}));
    assert_eq!(many["entries"].as_array().map(Vec::len), Some(2000));
    assert_eq!(many["truncated_reason"], "entry limit reached");

    assert!(err(&mut s, "list_directory", json!({"path": "b.txt"})).contains("not a directory"));
    assert!(err(&mut s, "list_directory", json!({"path": "nope"})).contains("does not exist"));
    for (args, want) in [
        (json!({}), "arguments.path: required property is missing"),
        (
            json!({"path": ".", "recursive": 1}),
            "arguments.recursive: expected boolean",
        ),
        (
            json!({"path": ".", "depth": 1}),
            "arguments.depth: unknown property",
        ),
    ] {
        let text = err(&mut s, "list_directory", args.clone());
        assert!(text.contains(want), "{args}: {text}");
    }
}

#[test]
fn search_files_matches_globs_and_content_within_bounds() {
    let root = TempDir::new("search");
    root.write("src/main.rs", "fn main() {\n    println!(\"needle\");\n}\n");
    root.write("src/lib.rs", "// no match here\n");
    root.write("src/deep/mod.rs", "needle one\nneedle two\n");
    root.write("README.md", "needle in text\n");
    root.write("blob.rs", [b'n', 0, b'e']);
    let mut s = server_in(&root.path, V, &[]);
    let by_name = ok(
        &mut s,
        "search_files",
        json!({"path": ".", "pattern": "*.rs"}),
    );
    let paths = column(&by_name, "matches", "path");
    assert_eq!(
        paths,
        ["blob.rs", "src/deep/mod.rs", "src/lib.rs", "src/main.rs"]
    );
    let by_path = ok(
        &mut s,
        "search_files",
        json!({"path": ".", "pattern": "src/*.rs"}),
    );
    assert_eq!(
        by_path["matches"].as_array().map(Vec::len),
        Some(2),
        "`*` stays in one segment: {by_path}"
    );
    let content = ok(
        &mut s,
        "search_files",
        json!({"path": ".", "pattern": "**/*.rs", "content_pattern": "needle"}),
    );
    let hits: Vec<(String, u64)> = content["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .map(|m| {
            (
                m["path"].as_str().unwrap_or("").to_string(),
                m["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        hits,
        [
            ("src/deep/mod.rs".to_string(), 1),
            ("src/deep/mod.rs".to_string(), 2),
            ("src/main.rs".to_string(), 2)
        ]
    );
    assert_eq!(content["matches"][2]["text"], "    println!(\"needle\");");
    let capped = ok(
        &mut s,
        "search_files",
        json!({"path": ".", "pattern": "*", "max_results": 2}),
    );
    assert_eq!(capped["matches"].as_array().map(Vec::len), Some(2));
    assert_eq!(capped["truncated_reason"], "result limit reached");

    // Progress only when asked for.
    s.request(json!("p"), "tools/call", json!({"name": "search_files", "arguments": {"path": ".", "pattern": "*"}, "_meta": {"progressToken": "tok"}}));
    let first = s.recv();
    assert_eq!(
        (
            first["method"].clone(),
            first["params"]["progressToken"].clone()
        ),
        (json!("notifications/progress"), json!("tok")),
        "{first}"
    );
    loop {
        let m = s.recv();
        if m["id"] == "p" {
            assert_eq!(m["result"]["isError"], false);
            break;
        }
        assert_eq!(m["method"], "notifications/progress", "{m}");
    }
    s.request(
        json!("q"),
        "tools/call",
        json!({"name": "search_files", "arguments": {"path": ".", "pattern": "*"}}),
    );
    assert_eq!(s.recv()["id"], "q", "no progress without a token");

    for (args, want) in [
        (
            json!({"path": "."}),
            "arguments.pattern: required property is missing",
        ),
        (
            json!({"pattern": "*"}),
            "arguments.path: required property is missing",
        ),
        (
            json!({"path": ".", "pattern": ""}),
            "arguments.pattern: must be at least 1 characters long",
        ),
        (
            json!({"path": ".", "pattern": "*", "max_results": 1001}),
            "arguments.max_results: must be at most 1000",
        ),
        (
            json!({"path": ".", "pattern": "*", "content_pattern": 3}),
            "arguments.content_pattern: expected string",
        ),
    ] {
        let text = err(&mut s, "search_files", args.clone());
        assert!(text.contains(want), "{args}: {text}");
    }
}

#[test]
fn system_info_reports_every_field_of_the_issue() {
    let root = TempDir::new("sysinfo");
    let mut s = server_in(&root.path, V, &[]);
    let info = ok(&mut s, "system_info", json!({}));
    for field in [
        "os",
        "kernel_release",
        "architecture",
        "hostname",
        "cpu_count",
        "memory_total_bytes",
        "memory_available_bytes",
        "uptime_seconds",
        "server_version",
        "pid",
        "rss_bytes",
        "working_directory",
        "user",
    ] {
        assert!(
            info.get(field).is_some_and(|v: &Value| !v.is_null()),
            "{field} in {info}"
        );
    }
    assert_eq!(info["pid"], s.pid());
    assert_eq!(info["working_directory"], root.path.display().to_string());
}

#[test]
fn info_shows_the_file_tools_and_the_sandbox() {
    let root = TempDir::new("info");
    let out = common::command()
        .arg("info")
        .env("TELEMETRYFLOW_MCP_ALLOWED_ROOTS", &root.path)
        .env("TELEMETRYFLOW_MCP_EXEC_ALLOW", "git,ls")
        .output()
        .expect("run tfo-mcp info");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for want in [
        "read_file",
        "execute_command      Execute command",
        &format!(
            "allowed-roots policy (TELEMETRYFLOW_MCP_ALLOWED_ROOTS: {})",
            root.path.display()
        ),
        "execute_command: runs only git, ls",
    ] {
        assert!(text.contains(want), "info mentions {want:?}:\n{text}");
    }
}
