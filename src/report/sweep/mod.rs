//! Reports of a sweep (a matrix, or repeated runs): the comparison table people read
//! (`table`), the JSON document (`doc::Sweep`, built here), CSV and Markdown exports (`files`),
//! and the chart's data (`chart`).
//!
//! Owns: layout, and what the parts share (each cell's speed relative to the best of its group,
//! its verdict in a word, its outcome in a few words, the matrix's keys). Does not own: the statistics (see
//! `sweep::summary`) or where the bytes go.

mod chart;
mod files;
mod table;

use serde_json::Value as Json;

use super::doc::{self, Cell, Params};
use super::{Provenance, RunReport, json, to_json};
use crate::outcome::{Expectation, Verdict};
use crate::sweep::summary;
use crate::sweep::{CellResult, Run};

pub use chart::{Source, chart};
pub use files::{csv, markdown};
pub use table::human;

/// A run's report, as in a single run's JSON document.
pub fn run_json(cell: &CellResult, run: &Run, sha256: &str) -> Json {
    to_json(&run_doc(cell, run, sha256))
}

/// A run's report document.
pub(crate) fn run_doc(cell: &CellResult, run: &Run, sha256: &str) -> doc::Run {
    json::run(&RunReport {
        plan: &cell.job.plan,
        outcome: &run.outcome,
        judgement: &run.judgement,
        wall_seconds: run.wall_seconds,
        provenance: Provenance { file_sha256: sha256.to_string(), started_at: run.started_at.clone() },
    })
}

/// A single run's report for people.
pub fn run_human(cell: &CellResult, run: &Run, sha256: &str) -> String {
    super::human::run(&RunReport {
        plan: &cell.job.plan,
        outcome: &run.outcome,
        judgement: &run.judgement,
        wall_seconds: run.wall_seconds,
        provenance: Provenance { file_sha256: sha256.to_string(), started_at: run.started_at.clone() },
    })
}

/// Per cell: its speed relative to the best of its group (cells that differ only in the
/// series parameter, `backend` when it varies).
pub(super) fn relative(cells: &[CellResult]) -> (Option<String>, Vec<Option<f64>>, Vec<usize>) {
    let params: Vec<Vec<(String, String)>> = cells.iter().map(|c| c.job.params.clone()).collect();
    let Some(series) = summary::series_key(&params) else {
        return (None, vec![None; cells.len()], vec![0; cells.len()]);
    };
    // Only parameters every cell has make groups (an `include` that adds `batch` to the
    // channel cells keeps them comparable with the others).
    let common: Vec<Vec<(String, String)>> = params
        .iter()
        .map(|p| p.iter().filter(|(k, _)| params.iter().all(|q| q.iter().any(|(qk, _)| qk == k))).cloned().collect())
        .collect();
    let groups = summary::groups(&common, &series);
    let medians: Vec<Option<f64>> = cells.iter().map(|c| c.summary.as_ref().map(|s| s.median)).collect();
    // The best of a group is its fastest correct cell: losing updates, or a worker, is no way to
    // win.
    let best = |g: usize| {
        let members = || cells.iter().zip(&groups).zip(&medians).filter(move |((_, gg), _)| **gg == g);
        let correct = members().filter(|((c, _), _)| passes(c)).filter_map(|(_, m)| *m);
        let fastest = correct.fold(0.0, f64::max);
        if fastest > 0.0 { fastest } else { members().filter_map(|(_, m)| *m).fold(0.0, f64::max) }
    };
    // No ratio to a best of 0 ops/s.
    let rel = groups.iter().zip(&medians).map(|(g, m)| m.filter(|_| best(*g) > 0.0).map(|m| m / best(*g))).collect();
    (Some(series), rel, groups)
}

pub(super) fn param<'a>(cell: &'a CellResult, key: &str) -> &'a str {
    cell.job.params.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
}

/// The cell's verdict in one word (`correct`, `failed`, `partial (SIGINT)`).
pub fn verdict_of(cell: &CellResult) -> String {
    verdict(cell)
}

pub(super) fn verdict(cell: &CellResult) -> String {
    match (&cell.error, cell.verdict(), cell.interrupted()) {
        (Some(_), ..) => "failed".to_string(),
        (_, _, Some(signal)) => format!("partial ({signal})"),
        (_, Some(v), _) => v.name().to_string(),
        (_, None, _) => "-".to_string(),
    }
}

/// The cell's outcome in a few words: the expected one (`completed`, or the one the job
/// declares) when every run came to it; else how many runs failed and what they came to
/// (`FAILED 2/6 runs: completed (expects deadline)`); `interrupted`, or `-` without runs.
pub fn outcome_of(cell: &CellResult) -> String {
    let expected = cell.job.plan.expect_outcome.map_or("completed", |e| e.name());
    let expectations = cell.expectations();
    let failed: Vec<&Expectation> = expectations.iter().filter(|e| e.failed()).collect();
    match cell.outcome_as_expected() {
        Some(true) => return expected.to_string(),
        None if cell.interrupted().is_some() => return "interrupted".to_string(),
        None => return "-".to_string(),
        Some(false) if failed.is_empty() => return "FAILED: set-up".to_string(),
        Some(false) => {}
    }
    let expects = match cell.job.plan.expect_outcome {
        Some(expected) if failed.iter().any(|e| !e.value_wrong) => format!(" (expects {})", expected.name()),
        _ => String::new(),
    };
    format!("FAILED {}/{} runs: {}{expects}", failed.len(), expectations.len(), came_to(&failed))
}

/// What the failed runs came to, each kind once, with its count when they differ:
/// `completed`, `recovered with a wrong value`, `worker_failed 2, deadline 1`.
pub(super) fn came_to(failed: &[&Expectation]) -> String {
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for e in failed {
        let kind = if e.value_wrong {
            format!("{} with a wrong value", e.happened.name())
        } else {
            e.happened.name().to_string()
        };
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind, 1)),
        }
    }
    match kinds.as_slice() {
        [(kind, _)] => kind.clone(),
        _ => kinds.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", "),
    }
}

/// The cell counts as a result: its value passed the check and every run came to the outcome
/// its job expects (a cell whose worker died or whose deadline passed is no speed to compare).
pub(super) fn passes(c: &CellResult) -> bool {
    c.verdict().is_some_and(Verdict::passed) && c.outcome_as_expected() != Some(false)
}

/// For mutex with busy work inside the lock: 1/inside, the most ops/s one lock allows.
pub(super) fn lock_bound(c: &CellResult) -> Option<f64> {
    let inside = c.job.plan.work.inside_ns;
    (c.job.plan.backend.kind() == crate::names::BackendKind::Mutex && inside > 0).then(|| 1e9 / inside as f64)
}

pub(super) fn median(c: &CellResult) -> f64 {
    c.summary.as_ref().map_or(0.0, |s| s.median)
}

/// Where a sweep stands when a document or an export of it is written.
#[derive(Clone, Copy, Debug)]
pub struct Stage<'a> {
    /// The cells the sweep has, run or not.
    pub planned: usize,
    /// Written after a cell before the last: more cells are to come.
    pub in_progress: bool,
    /// The outputs that could not be written so far.
    pub unwritten: &'a [doc::sweep::Unwritten],
}

impl Stage<'_> {
    /// The sweep is over (its report, its last rewrite).
    pub fn over(planned: usize, unwritten: &[doc::sweep::Unwritten]) -> Stage<'_> {
        Stage { planned, in_progress: false, unwritten }
    }

    /// `in progress: 2 of 6 cells`, for the CSV, the Markdown and the plot; `None` once over.
    pub fn in_progress(&self, done: usize) -> Option<String> {
        self.in_progress.then(|| format!("in progress: {done} of {}", crate::words::plural(self.planned, "cell")))
    }
}

/// `{schema_version, runner, file, ..., cells: [...]}`: per cell its parameters, statistics,
/// verdict, relative speed and every counted run's report.
pub fn document(file: &str, sha256: &str, cells: &[CellResult], stage: &Stage<'_>) -> Json {
    to_json(&sweep_doc(file, sha256, cells, stage))
}

/// The sweep document.
pub(crate) fn sweep_doc(file: &str, sha256: &str, cells: &[CellResult], stage: &Stage<'_>) -> doc::Sweep {
    let (series, rel, _) = relative(cells);
    let partial = cells.iter().any(|c| c.interrupted().is_some());
    let (_, pairs) = table::pairs(cells);
    let comparisons = pairs.iter().map(|p| table::comparison_doc(p, series.as_deref().unwrap_or_default())).collect();
    doc::Sweep {
        schema_version: doc::SchemaVersion,
        runner: doc::RunnerHeader::this(),
        file: file.to_string(),
        file_sha256: sha256.to_string(),
        host: doc::Host::this(),
        partial,
        in_progress: stage.in_progress,
        cells_planned: stage.planned,
        unwritten: stage.unwritten.to_vec(),
        compared_by: series,
        comparison_interval: crate::sweep::rank::METHOD.to_string(),
        comparisons,
        cells: cells.iter().zip(rel).map(|(c, r)| cell_doc(c, r, sha256)).collect(),
    }
}

fn cell_doc(c: &CellResult, relative_to_best: Option<f64>, sha256: &str) -> Cell {
    let plan = &c.job.plan;
    Cell {
        cell: c.job.cell.clone(),
        params: Params(c.job.params.clone()),
        job: doc::Job::new(plan),
        ops_per_second: c.summary.clone(),
        cpu: doc::measures::CellCpu::of(c.runs.iter().map(|r| &r.outcome)),
        relative_to_best,
        lock_bound_ops_per_second: lock_bound(c),
        verdict: verdict(c),
        order_dependent: plan.order_matters,
        schedule: plan.schedule,
        expected: doc::Expected::new(plan),
        finals: c.runs.iter().map(|r| doc::Num(r.outcome.final_value)).collect(),
        error: c.error.clone(),
        trace: c.trace.clone(),
        outcome: outcome_of(c),
        outcome_as_expected: c.outcome_as_expected(),
        runs_as_expected: c.runs_as_expected(),
        exit_code: c.exit_code(),
        runs: c.runs.iter().map(|run| run_doc(c, run, sha256)).collect(),
    }
}

pub(super) fn keys(cells: &[CellResult]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for c in cells {
        for (k, _) in &c.job.params {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    keys
}
