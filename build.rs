//! Records the git commit runner is built from, for `runner --version` and reports.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let dirty = !commit.is_empty()
        && Command::new("git")
            .args(["status", "--porcelain", "--untracked-files=no"])
            .output()
            .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    let commit = if dirty { format!("{commit}-dirty") } else { commit };
    println!("cargo:rustc-env=RUNNER_COMMIT={commit}");
    // Where git keeps them: in a worktree (`git worktree add`) `.git` is a file, and a path
    // that does not exist would rerun this script, and relink runner, at every build.
    for path in ["HEAD", "refs/heads", "index"] {
        let file = Command::new("git")
            .args(["rev-parse", "--git-path", path])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map_or_else(|| format!(".git/{path}"), |s| s.trim().to_string());
        println!("cargo:rerun-if-changed={file}");
    }
    // runner is a short-lived process whose start-up is part of what it reports (the tutorial's
    // whole run is about 2 ms): a position-dependent executable is loaded without the 2,400
    // relative relocations a PIE needs and without writing (copying) the pages they patch.
    // Measured: about 0.1 ms less per run here; the cost is that the executable's own code is not
    // address-randomised (its libraries, heap, stack and mappings still are).
    // (Statically linked, as `link/rustc-static` has it on x86_64-unknown-linux-gnu, rustc asks
    // for `-no-pie` itself; this covers the dynamic case.)
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    // `link/rustc-static` (the workspace's rustc wrapper, `.cargo/config.toml`) links the
    // executable statically unless RUNNER_DYNAMIC is set; cargo does not know the wrapper reads
    // it, so a change reruns this script, and so relinks the executable.
    println!("cargo:rerun-if-env-changed=RUNNER_DYNAMIC");
    symbol_order();
}

/// The functions a run executes, side by side (`link/startup-symbols.txt`, written by
/// `scripts/symbol-order.sh`): every page of code is a page fault the first time runner or a
/// worker touches it. Only with rust-lld, the default linker of x86_64-unknown-linux-gnu since
/// Rust 1.90, and no other linker asked for: another linker may not know the option.
/// `RUNNER_NO_SYMBOL_ORDER=1` leaves it out. Its Rust names have no hash (they would depend on the
/// checkout's directory): link/cc-order, the linker link/rustc-static sets, resolves them.
fn symbol_order() {
    println!("cargo:rerun-if-changed=link/startup-symbols.txt");
    println!("cargo:rerun-if-env-changed=RUNNER_NO_SYMBOL_ORDER");
    let file =
        std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default()).join("link/startup-symbols.txt");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let target = var("TARGET");
    let flags = var("CARGO_ENCODED_RUSTFLAGS");
    let linker_env = format!("CARGO_TARGET_{}_LINKER", target.to_uppercase().replace('-', "_"));
    let other_linker = flags.contains("linker") || flags.contains("fuse-ld") || std::env::var_os(&linker_env).is_some();
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into())).arg("--version").output();
    // `rustc 1.95.0 (...)`: the minor version.
    let minor = rustc
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|v| v.split_whitespace().nth(1).and_then(|n| n.split('.').nth(1)).and_then(|m| m.parse::<u32>().ok()))
        .unwrap_or(0);
    if target == "x86_64-unknown-linux-gnu"
        && minor >= 90
        && !other_linker
        && file.is_file()
        && var("RUNNER_NO_SYMBOL_ORDER").is_empty()
    {
        // link/cc-order resolves the list's hash-less Rust names with `nm`: without it, no list.
        let nm = ["nm", "llvm-nm"]
            .iter()
            .any(|tool| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success()));
        if nm {
            println!("cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", file.display());
            println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
        } else {
            println!(
                "cargo:warning=neither nm nor llvm-nm found: runner is linked without its symbol order (link/startup-symbols.txt)"
            );
        }
    }
}
