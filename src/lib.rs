//! runner: a declarative job-file runner with pluggable synchronisation backends.
//!
//! Data flows one way: [`spec`] (the file as written) -> [`plan`] (checked, with the expected
//! value) -> [`exec`] (forked workers on a [`sync`] backend) -> [`outcome`] (plain data and the
//! verdict) -> [`report`]. [`cli`] parses the command line and hands each command to the
//! application layer (`app`), which calls the stages in order. See ARCHITECTURE.md.

#[cfg(not(target_os = "linux"))]
compile_error!("runner runs on Linux only: it relies on memfd, futexes, /proc and PR_SET_PDEATHSIG");

// The ground floor: imports nothing of runner's.
pub mod clock;
pub mod error;
pub mod host;
pub mod shm;
pub mod stdio;
pub mod terminal;
pub mod version;
pub mod words;

#[macro_use]
pub mod value;
pub mod expect;
pub mod iterate;
pub mod names;

pub mod plan;
pub mod spec;

pub mod exec;
pub mod sync;
pub mod watch;

pub mod outcome;
pub mod sweep;

pub mod python;
pub mod report;

pub(crate) mod app;

pub mod cli;

/// Reads and plans a job file's text as `runner validate` does, without touching the file
/// system: every cell's plan, or every problem found. The entry point of the fuzz target and
/// the property tests; it must never panic, whatever the text.
pub fn plan_text(label: &str, text: &str) -> Result<Vec<plan::Plan>, Vec<error::Diagnostic>> {
    if text.len() as u64 > spec::MAX_FILE_BYTES {
        return Err(vec![error::Diagnostic::file(label, "too large")]);
    }
    let source = spec::Source { label: label.to_string(), text: text.to_string() };
    let parsed = spec::parse(&source)?;
    let jobs = plan::plan_cells(parsed, &source, &plan::Overrides::default())?;
    Ok(jobs.into_iter().map(|job| job.plan).collect())
}
