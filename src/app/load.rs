//! Reading and planning a job file for any command: one job per matrix cell, and the file's
//! sha256 (reports carry it).
//!
//! Owns: the `load` and `plan` phases of the trace. Does not own: reading or planning rules
//! (see `spec` and `plan`).

use sha2::{Digest, Sha256};

use crate::error::{Diagnostic, Error};
use crate::plan::{Job, Overrides, Plan};
use crate::spec::{self, Source};

/// Reads, parses and plans a job file: one job per matrix cell, and the sha256 of its text.
pub(crate) fn load(label: &str, overrides: &Overrides) -> Result<(Vec<Job>, String), Vec<Diagnostic>> {
    let loading = tracing::info_span!("load").entered();
    let source = spec::read_source(label).map_err(|d| vec![d])?;
    plan_source(&source, overrides, loading)
}

/// [`load`] of a job file [`spec::check_input`] already looked at.
pub(crate) fn load_checked(
    label: &str,
    input: spec::Input,
    overrides: &Overrides,
) -> Result<(Vec<Job>, String), Vec<Diagnostic>> {
    let loading = tracing::info_span!("load").entered();
    let source = spec::read_checked(label, input).map_err(|d| vec![d])?;
    plan_source(&source, overrides, loading)
}

/// [`load`] of a job file's text already read.
pub(crate) fn load_source(source: &Source, overrides: &Overrides) -> Result<(Vec<Job>, String), Vec<Diagnostic>> {
    plan_source(source, overrides, tracing::info_span!("load").entered())
}

/// Parses and plans a job file's text, ending the `load` phase after the parse.
fn plan_source(
    source: &Source,
    overrides: &Overrides,
    loading: tracing::span::EnteredSpan,
) -> Result<(Vec<Job>, String), Vec<Diagnostic>> {
    // What is wrong in a `--matrix` axis's values names the flag, not a line of the file.
    let flags = |found| spec::axis::on_the_command_line(found, &overrides.matrix);
    let parsed = spec::parse_with(source, &overrides.matrix).map_err(flags)?;
    let sha256 = format!("{:x}", Sha256::digest(source.text.as_bytes()));
    drop(loading);
    let _planning = tracing::info_span!("plan").entered();
    let jobs = crate::plan::plan_cells(parsed, source, overrides).map_err(flags)?;
    if let Some(first) = jobs.first() {
        tracing::info!(
            cells = jobs.len(),
            workers = first.plan.workers,
            backend = first.plan.backend.name(),
            "planned"
        );
    }
    Ok((jobs, sha256))
}

/// The one plan of a job file without a matrix (for `command`), or why there is none.
pub(crate) fn single_plan(label: &str, overrides: &Overrides, command: &str) -> Result<Plan, Error> {
    match load(label, overrides) {
        Ok((mut jobs, _)) if jobs.len() == 1 => Ok(jobs.remove(0).plan),
        Ok((jobs, _)) => Err(Error::Usage(format!(
            "{command} takes one job, and this file's matrix has {} cells: pick one with overrides (--workers, --iterations, --backend and --start each collapse the matrix axis they name, --matrix KEY=VALUE makes any axis one value)",
            jobs.len()
        ))),
        Err(diags) => Err(Error::Invalid(diags)),
    }
}
