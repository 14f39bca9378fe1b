//! The commands that read job files without running them: `runner validate`, `runner plan`,
//! and `runner schema` (the job files' JSON Schema).
//!
//! Owns: their exit codes, and which files `validate` reads (a folder's job files, as a
//! catalog runs them). Does not own: the checks (see `spec` and `plan`) or the layout (see
//! `report`).

use super::load::load;
use super::{Done, Format};
use crate::error::{Error, exit};
use crate::plan::{Overrides, Plan};
use crate::report::{self, Validated};
use crate::spec;

/// `runner validate FILE...`: every file loaded and planned (a folder: each `*.yaml` file in
/// it, as `runner FOLDER` runs them); 2 when any has a problem.
pub(crate) fn validate(names: &[String], format: Format) -> Result<Done, Error> {
    let (files, _) = super::catalog::job_files(names)?;
    let results: Vec<Validated> = files
        .iter()
        .map(|file| Validated {
            file: file.clone(),
            diagnostics: load(file, &Overrides::default()).err().unwrap_or_default(),
        })
        .collect();
    report::validated(&results, format)?;
    Ok(Done::code(if results.iter().all(|r| r.diagnostics.is_empty()) { exit::OK } else { exit::INVALID }))
}

/// `runner plan JOB`: what would run, per cell.
pub(crate) fn plan(label: &str, overrides: &Overrides, format: Format) -> Result<Done, Error> {
    let (jobs, _) = load(label, overrides).map_err(Error::Invalid)?;
    let cells: Vec<(String, Plan)> = jobs.into_iter().map(|j| (j.cell, j.plan)).collect();
    report::plans(&cells, format)?;
    Ok(Done::code(exit::OK))
}

/// `runner schema`: the JSON Schema of job files (the checked-in file, which a test holds to
/// the generator).
pub(crate) fn schema() -> Result<Done, Error> {
    report::emit_json_text(spec::SCHEMA_TEXT)?;
    Ok(Done::code(exit::OK))
}
