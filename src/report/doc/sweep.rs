//! The sweep document (every cell of a matrix, or repeated runs of one job) and the catalog
//! document (several job files run at once).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use super::{ErrorDoc, Host, Job, Num, Run, RunnerHeader, SchemaVersion};
use crate::names::Schedule;

/// A sweep: every cell of a matrix, or repeated runs of one job.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "A sweep: every cell of a matrix, or repeated runs of one job")]
pub(crate) struct Sweep {
    pub schema_version: SchemaVersion,
    pub runner: RunnerHeader,
    pub file: String,
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub file_sha256: String,
    pub host: Host,
    /// Interrupted: the cells after the interrupted one did not run.
    pub partial: bool,
    /// Written while the sweep was still running: an export's rewrite after a cell, before the
    /// last. Found true once runner has ended, the sweep was killed, or this file could not be
    /// rewritten after that cell (see `unwritten` in the report): the cells after these are
    /// missing. False in the last rewrite and in the report.
    pub in_progress: bool,
    /// The cells the sweep has, run or not (`cells` holds those run so far).
    pub cells_planned: usize,
    /// Outputs (traces, exports, the plot) that could not be written so far: the sweep went on
    /// without them, and the exit code is at least 2.
    pub unwritten: Vec<Unwritten>,
    /// The parameter cells are compared along (`backend` when it varies).
    pub compared_by: Option<String>,
    /// How each comparison's interval is found (its method; the level is each interval's).
    pub comparison_interval: String,
    /// Per group of cells that differ only in `compared_by`, its fastest correct cell against
    /// each other correct cell, as the human report says them.
    pub comparisons: Vec<Comparison>,
    pub cells: Vec<Cell>,
}

/// One cell against a slower one of its group.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Comparison {
    /// The faster cell's name (`cell`), then the slower's.
    pub faster: String,
    pub slower: String,
    /// Median ops/s over median ops/s; null when a side ran at 0 ops/s.
    pub ratio: Option<f64>,
    /// Where the ratio lies, with its confidence; null with one run on a side (one run: no
    /// uncertainty) or without a ratio.
    pub interval: Option<crate::sweep::rank::RatioInterval>,
    /// Counted runs of the faster cell, then of the slower.
    pub runs: [usize; 2],
    /// The comparison in words, as the human report prints it.
    pub words: String,
}

/// An output that could not be written.
#[derive(Serialize, JsonSchema, Clone, Debug, PartialEq)]
#[schemars(deny_unknown_fields)]
pub struct Unwritten {
    /// The file as named on the command line (a trace: the cell's file).
    pub path: String,
    /// Why, and what the file holds instead.
    pub error: String,
}

/// One cell of a sweep: its parameters, statistics, verdict and every counted run.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Cell {
    /// `key=value` pairs of the matrix; empty without a matrix.
    pub cell: String,
    /// The matrix's keys and this cell's values, in the matrix's order.
    pub params: Params,
    /// The effective job of the cell.
    pub job: Job,
    /// Ops/s over the cell's counted runs; null without any.
    pub ops_per_second: Option<crate::sweep::summary::Summary>,
    /// CPU time and context switches: medians over the counted runs; null without any.
    pub cpu: Option<super::measures::CellCpu>,
    /// Median ops/s over the fastest correct cell of its group (one whose value passed and
    /// whose runs came to the expected outcome); null without runs, or when that best is
    /// 0 ops/s.
    pub relative_to_best: Option<f64>,
    /// Mutex with work inside the lock: 1/inside.
    pub lock_bound_ops_per_second: Option<f64>,
    /// The worst verdict of its runs (`correct`, `within_bound`, `no_race`, `inconclusive`,
    /// `lost_updates`, `wrong`), or `failed`, `partial (SIGNAL)`, or `-` without runs.
    pub verdict: String,
    pub order_dependent: bool,
    pub schedule: Schedule,
    /// How each run's final value is checked.
    pub expected: super::Expected,
    /// The final value of each counted run.
    pub finals: Vec<Num>,
    /// Why the cell's runs stopped (a set-up failure).
    pub error: Option<String>,
    /// The trace file written for this cell.
    pub trace: Option<String>,
    /// The cell's outcome in a few words: the expected outcome (`completed`, or the one the
    /// job declares) when every run came to it; else `FAILED K/N runs: ` and what they came to
    /// (`completed (expects deadline)`, `recovered with a wrong value`); `interrupted`; `-`.
    pub outcome: String,
    /// Whether every counted run came to the outcome the job declares (with a value that
    /// checks out) or, declaring none, completed, as each run's `outcome_as_expected`; false
    /// too after a set-up failure (unless it is the fork failure the job declares). Null when
    /// a signal stopped the cell before any run failed, or nothing ran.
    pub outcome_as_expected: Option<bool>,
    /// How many counted runs came to the expected outcome (of `runs`).
    pub runs_as_expected: usize,
    pub exit_code: i32,
    pub runs: Vec<Run>,
}

/// A cell's parameters: an object of strings, keys in the matrix's order.
pub(crate) struct Params(pub Vec<(String, String)>);

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl JsonSchema for Params {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Params".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        BTreeMap::<String, String>::json_schema(generator)
    }
}

/// Several job files run as a catalog.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "Several job files run as a catalog")]
pub(crate) struct Catalog {
    pub schema_version: SchemaVersion,
    pub jobs: Vec<CatalogJob>,
    /// Jobs whose exit code was not 0.
    pub failed: usize,
}

/// One job file of a catalog.
#[derive(Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct CatalogJob {
    pub file: String,
    pub exit_code: i32,
    /// Its document; null when it failed before it had one.
    pub report: Option<FileReport>,
}

/// The document of one job file.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "the catalog's documents are still gathered as JSON values by the command line")]
pub(crate) enum FileReport {
    Run(Box<Run>),
    Sweep(Box<Sweep>),
    Error(ErrorDoc),
}
