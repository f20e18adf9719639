//! Link settings of the shipped static musl binary (README "Size after the feature merges").

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        // Packed relative relocations (DT_RELR, `-z pack-relative-relocs`, GNU ld 2.38+,
        // lld 15+): the static-pie binary's start-up relocations shrink from 24 bytes each
        // (`.rela.dyn`, 116 kB) to a bitmap of about 1.5 kB, while the binary stays
        // position independent (ASLR kept). musl's static-pie start code (`rcrt1.o`, musl
        // 1.2.4+, shipped with Rust's musl target) applies them. An older linker ignores
        // the option with a warning and links the larger table.
        println!("cargo::rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
