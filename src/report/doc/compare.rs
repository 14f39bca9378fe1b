//! The documents of the two comparisons: `runner compare` (two reports, cell by cell) and
//! `runner compare-python` (runner against the job's Python equivalent).

use schemars::JsonSchema;
use serde::Serialize;

use super::{Num, SchemaVersion, Summary};
use crate::outcome::Verdict;

/// `runner compare OLD.json NEW.json`.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "runner compare")]
pub(crate) struct Compare {
    pub schema_version: SchemaVersion,
    pub old: String,
    pub new: String,
    /// The test that tells a change from noise, in words.
    pub test: String,
    /// How each cell's `change_interval` is found (its method; the level is each interval's).
    pub interval: String,
    /// The correction for testing several cells at once, in words (Holm-Bonferroni over the
    /// cells tested).
    pub correction: String,
    /// Cells whose runs were tested (the same job on both sides, enough runs on each).
    pub tested: usize,
    /// `--fail-on-regression`, as a fraction (0.05 for 5%); null without it.
    pub fail_on_regression: Option<f64>,
    /// Cells significantly slower by more than `fail_on_regression` (the command exits 1).
    pub regressions: Vec<String>,
    /// Cells present on both sides whose effective jobs differ (or are not recorded): their
    /// speeds are not compared, and the command exits 2.
    pub different_jobs: Vec<String>,
    /// What the reader must know to trust the comparison: documents of another schema version,
    /// different machines, an interrupted sweep, too few runs for any change to be significant.
    pub notes: Vec<String>,
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
    /// New median over old, minus one; null when the cell was not compared.
    pub change: Option<f64>,
    /// Where `change` lies, with its confidence (for this cell alone, not corrected for the
    /// others); null with one run on a side (one run: no uncertainty) or without a change.
    pub change_interval: Option<ChangeInterval>,
    /// The Mann-Whitney U test's two-sided p-value, for this cell alone.
    pub p_value: Option<f64>,
    /// The p-value after the Holm-Bonferroni correction over every tested cell: `comparison`
    /// reads this one.
    pub p_adjusted: Option<f64>,
    /// `faster`, `slower`, `within noise`, `too few runs to tell (repeat 4 or more)`,
    /// `no runs to compare`, `no change to tell: old ran at 0 ops/s`, `different job`,
    /// `job not recorded`, `only in old` or `only in new`: how the speed compares, not whether
    /// the value was correct (that is `old_verdict` and `new_verdict`).
    pub comparison: String,
    /// The fields of the effective job that differ between the two sides (`different job`).
    pub job_differences: Vec<JobDifference>,
    /// Significantly slower by more than `--fail-on-regression`.
    pub regression: bool,
    /// The cell's verdict on each side (`correct`, `lost_updates`, ...), as its report says.
    pub old_verdict: Option<String>,
    pub new_verdict: Option<String>,
}

/// Where a change (new over old, minus one) lies.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ChangeInterval {
    /// The lower bound of the change (-0.05 for 5% slower).
    pub low: f64,
    pub high: f64,
    /// The interval's confidence: 0.95, or less when too few runs cannot give that (0.9 with
    /// 3 runs a side): the widest interval the runs give.
    pub level: f64,
}

/// A field of the effective job that differs: its path (`work.inside`) and each side's
/// value as JSON text (`default` when the job leaves it at its default).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct JobDifference {
    pub field: String,
    pub old: String,
    pub new: String,
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
