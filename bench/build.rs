//! The bare programs (`raw`, `tutorial`) are linked as runner is (see runner's `build.rs`):
//! position-dependent, so that the tutorial's whole-process comparison is between programs built
//! the same way.

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
