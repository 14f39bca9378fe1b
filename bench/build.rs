//! The bare programs (`raw`, `tutorial`) are linked as runner is (see runner's `build.rs`):
//! position-dependent, so that the tutorial's whole-process comparison is between programs built
//! the same way.
//!
//! `seed.c`, the tutorial's C reference, is compiled here with `cc -O2 seed.c -o seed -lpthread`
//! (as the issue that brought it names it) into OUT_DIR; its path reaches the crate as
//! `RUNNER_BENCH_SEED`. Without a working `cc` the build fails and says so: the benchmark never
//! runs without its C reference.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=seed.c");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let seed = out.join("seed");
    let status = Command::new("cc").args(["-O2", "seed.c", "-o"]).arg(&seed).arg("-lpthread").status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`cc -O2 seed.c -o {} -lpthread` failed ({s}): the tutorial's C reference does not build",
            seed.display()
        ),
        Err(e) => panic!(
            "cannot run `cc` ({e}): runner-bench needs a C compiler to build the tutorial's C reference (bench/seed.c); install one (e.g. `apt-get install gcc`)"
        ),
    }
    println!("cargo:rustc-env=RUNNER_BENCH_SEED={}", seed.display());
}
