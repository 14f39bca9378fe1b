//! runner: a declarative job-file runner with pluggable synchronisation backends.
//!
//! Data flows one way: [`spec`] (the file as written) -> [`plan`] (checked, with the expected
//! value) -> [`exec`] (forked workers on a [`sync`] backend) -> [`outcome`] (plain data and the
//! verdict) -> [`report`]. [`cli`] calls the stages in order. See ARCHITECTURE.md.

#[cfg(not(target_os = "linux"))]
compile_error!("runner runs on Linux only: it relies on memfd, robust process-shared mutexes and PR_SET_PDEATHSIG");

#[macro_use]
pub mod value;
pub mod watch;

pub mod cli;
pub mod error;
pub mod exec;
pub mod expect;
pub mod iterate;
pub mod outcome;
pub mod plan;
pub mod python;
pub mod report;
pub mod spec;
pub mod sweep;
pub mod sync;
