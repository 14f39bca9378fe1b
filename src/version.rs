//! What build of runner this is: the package version and the git commit it was built from
//! (`build.rs`), as `--version` and every document runner prints name it. Owns nothing else.

/// The package version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit runner was built from (empty outside a checkout).
pub const COMMIT: &str = env!("RUNNER_COMMIT");

/// `0.1.0 (commit abc123)`, or the version alone outside a checkout.
pub fn long() -> &'static str {
    if COMMIT.is_empty() {
        VERSION
    } else {
        concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("RUNNER_COMMIT"), ")")
    }
}
