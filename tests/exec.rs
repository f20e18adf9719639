//! `execute_command` through the real binary: off by default, the allowlist,
//! shell syntax refused and never interpreted, exit codes, working_dir inside the
//! roots, timeout and cancellation killing the whole process group (checked in
//! /proc), and an output flood capped with the server's peak memory flat.

mod common;

use common::Server;
use common::sandbox::{TempDir, err, ok, result, server_in};
use serde_json::json;
use std::time::{Duration, Instant};

const V: &str = "2025-11-25";

/// (pid, state, ppid, pgrp) of every process, from /proc/*/stat.
fn processes() -> Vec<(u32, char, u32, u32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
            continue;
        };
        let f: Vec<&str> = after.split_whitespace().collect();
        if f.len() < 3 {
            continue;
        }
        let state = f[0].chars().next().unwrap_or('?');
        out.push((
            pid,
            state,
            f[1].parse().unwrap_or(0),
            f[2].parse().unwrap_or(0),
        ));
    }
    out
}

fn group_members(pgrp: u32) -> Vec<(u32, char)> {
    processes()
        .into_iter()
        .filter(|p| p.3 == pgrp)
        .map(|p| (p.0, p.1))
        .collect()
}

/// Waits until no process of group `pgrp` exists (zombies count as existing).
fn assert_group_gone(pgrp: u32, why: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = group_members(pgrp);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{why}: processes left in group {pgrp}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_no_zombie_children(s: &Server) {
    let zombies: Vec<_> = processes()
        .into_iter()
        .filter(|p| p.2 == s.pid() && p.1 == 'Z')
        .collect();
    assert!(zombies.is_empty(), "the server left zombies: {zombies:?}");
}

#[test]
fn disabled_by_default_and_limited_to_the_allowlist() {
    let root = TempDir::new("exec-off");
    let mut s = server_in(&root.path, V, &[]);
    let text = err(&mut s, "execute_command", json!({"command": "echo hi"}));
    assert!(
        text.contains("disabled") && text.contains("TELEMETRYFLOW_MCP_EXEC_ALLOW"),
        "{text}"
    );

    let mut s = server_in(&root.path, V, &[("TELEMETRYFLOW_MCP_EXEC_ALLOW", "echo")]);
    for command in ["ls", "/bin/echo hi", "./echo", "sh -c id"] {
        let text = err(&mut s, "execute_command", json!({"command": command}));
        assert!(text.contains("allowlist"), "{command}: {text}");
    }
    let hello = ok(
        &mut s,
        "execute_command",
        json!({"command": "echo hello   world"}),
    );
    assert_eq!(
        (
            hello["stdout"].clone(),
            hello["exit_code"].clone(),
            hello["timed_out"].clone()
        ),
        (json!("hello world\n"), json!(0), json!(false))
    );
}

#[test]
fn shell_syntax_is_refused_and_never_interpreted() {
    let root = TempDir::new("exec-shell");
    let mut s = server_in(
        &root.path,
        V,
        &[("TELEMETRYFLOW_MCP_EXEC_ALLOW", "echo,touch")],
    );
    let attacks = [
        "touch a; touch pwned",
        "echo a && touch pwned",
        "echo a || touch pwned",
        "echo a | touch pwned",
        "echo $(touch pwned)",
        "echo `touch pwned`",
        "echo \"$(touch pwned)\"",
        "echo a > pwned",
        "echo a >> pwned",
        "touch pwned < /dev/null",
        "touch pwned &",
        "echo a\ntouch pwned",
    ];
    for command in attacks {
        let text = err(&mut s, "execute_command", json!({"command": command}));
        assert!(text.starts_with("command refused"), "{command:?}: {text}");
    }
    assert!(
        !root.join("pwned").exists() && !root.join("a").exists(),
        "nothing ran"
    );
    let literal = ok(
        &mut s,
        "execute_command",
        json!({"command": "echo 'a; b && c | d $(e) `f` > g' \"x y\""}),
    );
    assert_eq!(
        literal["stdout"], "a; b && c | d $(e) `f` > g x y\n",
        "quoted text reaches the program unchanged"
    );
    assert_eq!(
        literal["argv"],
        json!(["echo", "a; b && c | d $(e) `f` > g", "x y"])
    );
    assert!(!root.join("g").exists(), "no redirection happened");
}

#[test]
fn exit_codes_streams_and_working_dir() {
    let root = TempDir::new("exec-exit");
    root.write("sub/f.txt", "");
    let outside = TempDir::new("exec-outside");
    let mut s = server_in(
        &root.path,
        V,
        &[("TELEMETRYFLOW_MCP_EXEC_ALLOW", "ls,pwd,env")],
    );
    let r = result(
        &mut s,
        "execute_command",
        json!({"command": "ls does-not-exist"}),
    );
    assert_eq!(r["isError"], true, "non-zero exit is an error");
    let data = &r["structuredContent"];
    assert_eq!(data["exit_code"], 2);
    assert!(
        data["stderr"]
            .as_str()
            .is_some_and(|e| e.contains("does-not-exist")),
        "{data}"
    );
    assert!(
        r["content"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("exited with code 2"))
    );

    let here = ok(&mut s, "execute_command", json!({"command": "pwd"}));
    assert_eq!(
        here["stdout"],
        format!("{}\n", root.path.display()),
        "default: the first root"
    );
    let sub = ok(
        &mut s,
        "execute_command",
        json!({"command": "ls", "working_dir": "sub"}),
    );
    assert_eq!(sub["stdout"], "f.txt\n");
    for dir in [
        outside.path.display().to_string(),
        "..".to_string(),
        "sub/f.txt".to_string(),
    ] {
        let text = err(
            &mut s,
            "execute_command",
            json!({"command": "pwd", "working_dir": dir}),
        );
        assert!(text.starts_with("working_dir"), "{dir}: {text}");
    }
    let env = ok(&mut s, "execute_command", json!({"command": "env"}));
    assert!(
        !env["stdout"]
            .as_str()
            .unwrap_or("")
            .contains("TELEMETRYFLOW_"),
        "the server's settings (and secrets) stay out of the child's environment: {env}"
    );
    for (args, want) in [
        (json!({}), "arguments.command: required property is missing"),
        (
            json!({"command": "pwd", "timeout": 0}),
            "arguments.timeout: must be at least 1",
        ),
        (
            json!({"command": "pwd", "timeout": 301}),
            "arguments.timeout: must be at most 300",
        ),
        (
            json!({"command": "pwd", "timeout": 1.5}),
            "arguments.timeout: expected integer",
        ),
        (
            json!({"command": "pwd", "shell": true}),
            "arguments.shell: unknown property",
        ),
    ] {
        let text = err(&mut s, "execute_command", args.clone());
        assert!(text.contains(want), "{args}: {text}");
    }
}

#[test]
fn timeout_kills_the_process_group_and_leaves_no_zombie() {
    let root = TempDir::new("exec-timeout");
    let mut s = server_in(&root.path, V, &[("TELEMETRYFLOW_MCP_EXEC_ALLOW", "sh")]);
    let started = Instant::now();
    let r = result(
        &mut s,
        "execute_command",
        json!({"command": "sh -c 'sleep 30 & sleep 30'", "timeout": 1}),
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered after the timeout, not the sleep"
    );
    assert_eq!(r["isError"], true);
    let data = &r["structuredContent"];
    assert_eq!(
        (data["timed_out"].clone(), data["signal"].clone()),
        (json!(true), json!(9)),
        "{data}"
    );
    let pgrp = data["pid"].as_u64().expect("pid") as u32;
    assert_group_gone(
        pgrp,
        "after the timeout, the shell and its background sleep",
    );
    assert_no_zombie_children(&s);
}

#[test]
fn an_exit_is_answered_at_once_though_a_background_child_holds_the_pipes() {
    let root = TempDir::new("exec-background");
    let mut s = server_in(&root.path, V, &[("TELEMETRYFLOW_MCP_EXEC_ALLOW", "sh")]);
    let started = Instant::now();
    let data = ok(
        &mut s,
        "execute_command",
        json!({"command": "sh -c 'sleep 30 & echo started; echo note >&2'", "timeout": 20}),
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered when the shell exited, not at the timeout or the sleep's end"
    );
    assert_eq!(
        (
            &data["exit_code"],
            &data["timed_out"],
            &data["stdout"],
            &data["stderr"]
        ),
        (
            &json!(0),
            &json!(false),
            &json!("started\n"),
            &json!("note\n")
        ),
        "{data}"
    );
    let pgrp = data["pid"].as_u64().expect("pid") as u32;
    assert_group_gone(
        pgrp,
        "the background sleep, killed with its group at the exit",
    );
    assert_no_zombie_children(&s);
}

#[test]
fn cancellation_kills_the_process_group() {
    let root = TempDir::new("exec-cancel");
    let mut s = server_in(&root.path, V, &[("TELEMETRYFLOW_MCP_EXEC_ALLOW", "sh")]);
    s.request(json!("run"), "tools/call", json!({"name": "execute_command", "arguments": {"command": "sh -c 'sleep 30 & sleep 30'", "timeout": 60}}));
    // The shell is the server's child; wait until it and its background sleep run.
    let deadline = Instant::now() + Duration::from_secs(5);
    let pgrp = loop {
        let child = processes()
            .into_iter()
            .find(|p| p.2 == s.pid() && p.1 != 'Z');
        if let Some(child) = child
            && group_members(child.3).len() >= 2
        {
            break child.3;
        }
        assert!(Instant::now() < deadline, "the command did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    s.send(json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "run"}}));
    assert_group_gone(pgrp, "after cancellation");
    s.expect_silence(
        Duration::from_millis(300),
        "a cancelled request gets no response",
    );
    assert_no_zombie_children(&s);
    let pong = s.call(json!("after"), "ping", json!({}));
    assert_eq!(pong["result"], json!({}), "the server goes on");
}

#[test]
fn an_output_flood_is_capped_and_server_memory_stays_flat() {
    let root = TempDir::new("exec-flood");
    let mut s = server_in(
        &root.path,
        V,
        &[
            ("TELEMETRYFLOW_MCP_EXEC_ALLOW", "yes,echo"),
            ("TELEMETRYFLOW_MCP_EXEC_OUTPUT_MAX_BYTES", "65536"),
        ],
    );
    ok(&mut s, "execute_command", json!({"command": "echo warm"}));
    let before = s.proc_status_kb("VmHWM:");
    let r = result(
        &mut s,
        "execute_command",
        json!({"command": "yes flood", "timeout": 2}),
    );
    let data = &r["structuredContent"];
    assert_eq!(
        data["stdout"].as_str().map(str::len),
        Some(65536),
        "stdout kept up to the cap"
    );
    assert_eq!(data["stdout_truncated"], true);
    let total = data["stdout_bytes"].as_u64().expect("bytes");
    assert!(
        total > 16 * 65536,
        "the flood was read and dropped, not left blocking the program: {total}"
    );
    let after = s.proc_status_kb("VmHWM:");
    eprintln!("flood: {total} bytes read; server VmHWM {before} kB -> {after} kB");
    assert!(
        after < before + 16 * 1024,
        "peak memory grew from {before} kB to {after} kB for a {total}-byte flood"
    );
    assert_group_gone(
        data["pid"].as_u64().expect("pid") as u32,
        "after the flood's timeout",
    );
}

/// Swaps `root/flip` between a real directory and a symlink to an outside
/// directory while `pwd` runs in it: the program always starts inside (the working
/// directory is entered through the descriptor that was checked).
#[test]
fn a_working_dir_swapped_for_a_symlink_never_starts_the_program_outside() {
    let root = TempDir::new("exec-race");
    root.write("d/f", "");
    let outside = TempDir::new("exec-race-outside");
    std::os::unix::fs::symlink(&outside.path, root.join("l")).expect("symlink");
    let swapper = common::sandbox::Swapper::start(&root.path, ["d", "l"]);
    let mut s = server_in(&root.path, V, &[("TELEMETRYFLOW_MCP_EXEC_ALLOW", "pwd")]);
    let mut ran = 0;
    let swaps_before = swapper.swaps();
    for i in 0..300 {
        let r = result(
            &mut s,
            "execute_command",
            json!({"command": "pwd", "working_dir": "flip"}),
        );
        let stdout = r["structuredContent"]["stdout"].as_str().unwrap_or("");
        assert!(
            !stdout.starts_with(&outside.path.display().to_string()),
            "run {i} started outside: {r}"
        );
        if r["isError"] == false {
            // The directory is renamed too: it runs under any of its names.
            let inside = ["flip", "d", "l"].map(|name| format!("{}\n", root.join(name).display()));
            assert!(inside.contains(&stdout.to_string()), "run {i}: {r}");
            ran += 1;
        }
    }
    let during = swapper.swaps() - swaps_before;
    let swaps = swapper.stop();
    eprintln!("{swaps} swaps ({during} during the calls); {ran} of 300 runs inside");
    assert!(swaps > 100, "the swap really raced the calls");
    assert!(during > 100, "the swap went on during the calls: {during}");
    assert!(ran > 0, "some runs found the real directory");
}

/// A program is found by the server, in the absolute `PATH` entries, never by the
/// child after it entered the working directory: a relative `PATH` entry would find
/// a file inside a root, which `write_file` can replace. A program inside the roots is
/// refused outright.
#[test]
fn programs_inside_the_roots_are_never_run() {
    use std::os::unix::fs::PermissionsExt;
    let root = TempDir::new("exec-path");
    let tool = root.write("mytool", "#!/bin/sh\necho pwned\n");
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let allow = format!("mytool,{},sh", tool.display());
    let mut s = server_in(
        &root.path,
        V,
        &[
            ("TELEMETRYFLOW_MCP_EXEC_ALLOW", &allow),
            ("PATH", ".::/usr/bin:/bin"),
        ],
    );
    let bare = err(&mut s, "execute_command", json!({"command": "mytool"}));
    assert!(
        bare.contains("is not found (bare names: in the absolute PATH entries)"),
        "\".\" and \"\" in PATH are not searched: {bare}"
    );
    let absolute = err(
        &mut s,
        "execute_command",
        json!({"command": tool.display().to_string()}),
    );
    assert!(
        absolute.contains("lies inside the allowed roots"),
        "{absolute}"
    );
    assert!(!bare.contains("pwned") && !absolute.contains("pwned"));
    // Programs outside the roots still run, found on the absolute entries.
    let sh = ok(
        &mut s,
        "execute_command",
        json!({"command": "sh -c 'echo ok'"}),
    );
    assert_eq!(sh["stdout"], "ok\n", "{sh}");
}
