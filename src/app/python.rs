//! `runner export-python` and `runner compare-python`: a job's Python equivalent, printed, or
//! run beside runner's own run of the job.
//!
//! Owns: which plan is exported and the overrides handed on to runner's own run. Does not own:
//! the program's text (see `python`) or the comparison (see `python::compare`).

use super::load::single_plan;
use super::{Done, Format};
use crate::error::{Error, exit};
use crate::plan::Overrides;
use crate::report;

/// `runner export-python JOB`: the program on standard output.
pub(crate) fn export_python(label: &str, overrides: &Overrides) -> Result<Done, Error> {
    let plan = single_plan(label, overrides, "export-python")?;
    let program = crate::python::program(&plan).map_err(Error::Usage)?;
    report::emit(&program)?;
    Ok(Done::code(exit::OK))
}

/// `runner compare-python JOB`: 0 when both verdicts are acceptable, 1 otherwise.
pub(crate) fn compare_python(label: &str, overrides: &Overrides, format: Format) -> Result<Done, Error> {
    let plan = single_plan(label, overrides, "compare-python")?;
    crate::python::compare::run(&plan, label, &override_words(overrides), format).map(Done::code)
}

/// The overrides as command-line words, to hand on to runner's own run.
// TODO(merge): `plan::Overrides::words()` (helper `model`) replaces this: one list of overrides.
// Only these four are handed on today (not start, repeat, warmup or grace), as before.
fn override_words(o: &Overrides) -> Vec<String> {
    let mut words = Vec::new();
    if let Some(w) = o.workers {
        words.extend(["--workers".to_string(), w.to_string()]);
    }
    if let Some(m) = o.iterations {
        words.extend(["--iterations".to_string(), m.to_string()]);
    }
    if let Some(b) = o.backend {
        words.extend(["--backend".to_string(), b.name().to_string()]);
    }
    if let Some(t) = o.timeout_ns {
        words.extend(["--timeout".to_string(), format!("{}ms", t / 1_000_000)]);
    }
    words
}
