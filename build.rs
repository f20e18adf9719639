//! Link settings of the shipped static musl binary (README "Size after the feature merges").

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() != Ok("musl") {
        return;
    }
    // Packed relative relocations (DT_RELR, `-z pack-relative-relocs`, GNU ld 2.38+,
    // lld 15+): the static-pie binary's start-up relocations shrink from 24 bytes each
    // (`.rela.dyn`, 116 kB) to a bitmap of about 1.5 kB, while the binary stays
    // position independent (ASLR kept). musl's static-pie start code (`rcrt1.o`, musl
    // 1.2.4+, shipped with Rust's musl target) applies them. An older linker ignores
    // the option with a warning and links the larger table.
    println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    // The toolchain's own lld (rustup ships it as `gcc-ld/ld.lld` beside `rust-lld`),
    // with identical code folding: functions whose code and references are the same
    // byte for byte are kept once (Rust gives no function a unique address): 17,376
    // bytes smaller than GNU ld's output when measured (README "Size after the feature
    // merges"). Without that lld, the C compiler's linker is used.
    if let Some(gcc_ld) = toolchain_lld() {
        println!("cargo::rustc-link-arg-bins=-B{}", gcc_ld.display());
        println!("cargo::rustc-link-arg-bins=-fuse-ld=lld");
        println!("cargo::rustc-link-arg-bins=-Wl,--icf=all");
    }
}

/// `<sysroot>/lib/rustlib/<host>/bin/gcc-ld` when it holds `ld.lld`.
fn toolchain_lld() -> Option<PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let host = std::env::var("HOST").ok()?;
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    let sysroot = String::from_utf8(output.stdout).ok()?;
    let dir = PathBuf::from(sysroot.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin/gcc-ld");
    dir.join("ld.lld").is_file().then_some(dir)
}
