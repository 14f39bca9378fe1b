//! The documents of the two comparisons: `runner compare` (two reports, cell by cell) and
//! `runner compare-python` (runner against the job's Python equivalent).

use schemars::JsonSchema;
use serde::Serialize;

use super::run::Verdict;
use super::{Num, SchemaVersion, Summary};

/// `runner compare OLD.json NEW.json`.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "runner compare")]
pub(crate) struct Compare {
    pub schema_version: SchemaVersion,
    pub old: String,
    pub new: String,
    /// The test that tells a change from noise, in words.
    pub test: String,
    pub cells: Vec<CompareCell>,
}

/// One cell in either report, matched by name.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CompareCell {
    pub cell: String,
    /// Ops/s over the old report's runs of the cell; null when it has none.
    pub old: Option<Summary>,
    pub new: Option<Summary>,
    /// New median over old, minus one.
    pub change: Option<f64>,
    /// The Mann-Whitney U test's two-sided p-value.
    pub p_value: Option<f64>,
    /// `faster`, `slower`, `within noise`, `too few runs to tell`, `no runs to compare`,
    /// `only in old` or `only in new`.
    pub verdict: String,
}

/// `runner compare-python JOB`.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "runner compare-python")]
pub(crate) struct ComparePython {
    pub schema_version: SchemaVersion,
    pub file: String,
    /// The job both sides ran (runner's own run reported it; one run, no warm-up).
    pub job: super::Job,
    pub runner: PythonSide,
    pub python: PythonSide,
    pub ratios: PythonRatios,
    /// What of the job the Python program does not carry over (transport, deadline, runs,
    /// trace), each in words.
    pub notices: Vec<String>,
}

/// One side of `compare-python`.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct PythonSide {
    #[serde(rename = "final")]
    pub final_value: Num,
    pub verdict: Verdict,
    /// From spawn to exit.
    pub wall_seconds: f64,
    /// In the work window: from the barrier's release to the last worker's end.
    pub ops_per_second: f64,
}

/// python3 over runner (whole process), runner over python3 (ops/s); null when a side's time
/// or speed is 0.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct PythonRatios {
    pub whole_process: Option<f64>,
    pub ops_per_second: Option<f64>,
}
