//! `runner compare OLD.json NEW.json`: did a change make a cell faster? Per cell (matched by
//! name), the change in median ops/s, each side's spread, and whether the change is beyond the
//! noise: a Mann-Whitney U test per cell (`sweep::summary::mann_whitney_p`), corrected for the
//! number of cells tested (Holm-Bonferroni, `sweep::summary::holm`), and the change's
//! confidence interval (`sweep::rank::ratio_interval`, per cell, not corrected).
//!
//! Only the same job is compared: a cell whose effective job differs between the two reports
//! (workers, iterations, value, operation, operands, backend and its settings, schedule,
//! start, work, pin, faults, ...; not its name, description, repeat, warm-up, deadline or
//! expected value) is not compared, and the fields that differ are named.
//!
//! Reads sweep documents (`{cells: [...]}`, from `--export-json` or `--format json`) and single
//! run reports alike. Owns: reading a report's text back (`parse`), matching and judging cells
//! (`judge`, a pure function of the two read reports) and the comparison's layout (`layout.rs`:
//! `human`, `document`). Does not own: reading the files or the exit code (see `app::compare`).

mod layout;

use serde_json::Value as Json;

use super::doc::{JobDifference, SCHEMA_VERSION};
use crate::error::Error;
use crate::sweep::rank::{self, RatioInterval};
use crate::sweep::summary::{self, ALPHA, Change, Summary};

use crate::words::plural;
pub(crate) use layout::{document, human, percent};

/// Fields of the effective job that do not change the work a run does: two reports that
/// differ only in these ran the same job.
const NOT_THE_WORK: [&str; 7] = ["name", "description", "repeat", "warmup", "timeout", "expect", "expect_outcome"];

/// A report as read back.
pub(crate) struct Report {
    pub path: String,
    /// `None` when the document has none.
    pub schema_version: Option<u64>,
    pub host: Option<Json>,
    /// The build that wrote it (`runner: {version, commit}`), and the job file's sha256.
    pub build: Option<Json>,
    pub file_sha256: Option<String>,
    /// An interrupted sweep: the cells after the interrupted one did not run.
    pub partial: bool,
    pub cells: Vec<Side>,
}

/// One cell of a report as read back: its name, the ops/s of its counted runs, its job.
pub(crate) struct Side {
    pub cell: String,
    pub rates: Vec<f64>,
    /// `None` for a cell with no counted run (its set-up failed, or it was interrupted).
    pub summary: Option<Summary>,
    /// The cell's effective job; `None` when the report does not carry it.
    pub job: Option<Json>,
    /// The cell's verdict as the report says it (`correct`, `lost_updates`, `failed`, ...).
    pub verdict: Option<String>,
}

/// What became of one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Tested (or too few runs to test): what the runs say.
    Change(Change),
    /// The same job, but a side has no counted run.
    NoRuns,
    /// The same job, but old's median is 0 ops/s: no ratio to it.
    OldAtZero,
    /// The effective jobs differ: not compared.
    DifferentJob,
    /// A side does not record its job: whether it is the same cannot be told, not compared.
    JobNotRecorded,
    OnlyInOld,
    OnlyInNew,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Change(c) => c.name(),
            Status::NoRuns => "no runs to compare",
            Status::OldAtZero => "no change to tell: old ran at 0 ops/s",
            Status::DifferentJob => "different job",
            Status::JobNotRecorded => "job not recorded",
            Status::OnlyInOld => "only in old",
            Status::OnlyInNew => "only in new",
        }
    }

    /// Present on both sides but not comparable as the same job.
    pub fn refused(self) -> bool {
        matches!(self, Status::DifferentJob | Status::JobNotRecorded)
    }
}

/// One cell of the comparison: each side's statistics, and what the test found.
pub(crate) struct Judged<'a> {
    pub cell: String,
    pub old: Option<&'a Side>,
    pub new: Option<&'a Side>,
    /// New median over old, minus one (only for the same job).
    pub change: Option<f64>,
    /// Where new over old lies (see `sweep::rank`); `None` with one run on a side.
    pub interval: Option<RatioInterval>,
    pub p_value: Option<f64>,
    /// After the Holm-Bonferroni correction over every tested cell.
    pub p_adjusted: Option<f64>,
    pub status: Status,
    pub differences: Vec<JobDifference>,
    /// Significantly slower by more than the threshold.
    pub regression: bool,
}

/// The whole comparison.
pub(crate) struct Comparison<'a> {
    pub old: &'a str,
    pub new: &'a str,
    pub cells: Vec<Judged<'a>>,
    /// Cells with a p-value: the family the correction is over.
    pub tested: usize,
    /// `--fail-on-regression`, as a fraction.
    pub threshold: Option<f64>,
    pub notes: Vec<String>,
}

impl Comparison<'_> {
    /// Cells present on both sides that were not compared because their jobs differ.
    pub fn refused(&self) -> Vec<&str> {
        self.cells.iter().filter(|j| j.status.refused()).map(|j| j.cell.as_str()).collect()
    }

    /// Cells significantly slower by more than the threshold.
    pub fn regressions(&self) -> Vec<&str> {
        self.cells.iter().filter(|j| j.regression).map(|j| j.cell.as_str()).collect()
    }

    /// Whether any tested cell could come out faster or slower at all: after the correction
    /// the smallest p-value must be below alpha / tested, and few runs cannot go that low.
    pub fn can_detect(&self) -> bool {
        self.cells.iter().filter(|j| j.p_value.is_some()).any(|j| {
            let runs = |s: Option<&Side>| s.map_or(0, |s| s.rates.len());
            summary::smallest_p(runs(j.old), runs(j.new)) * (self.tested as f64) < ALPHA
        })
    }

    /// The runs a side (the same on both) with which the smallest p-value survives the
    /// correction over the cells tested (at least one cell).
    pub fn runs_needed(&self) -> usize {
        let family = self.tested.max(1) as f64;
        (summary::MIN_RUNS_TO_COMPARE..).find(|&n| summary::smallest_p(n, n) * family < ALPHA).unwrap_or(usize::MAX)
    }

    /// Why nothing could come out faster or slower, if so: no cell tested, or too few runs
    /// for the correction.
    pub fn undetectable(&self) -> Option<String> {
        if self.tested == 0 {
            Some(format!("no cell has {} of the same job on both sides", plural(summary::MIN_RUNS_TO_COMPARE, "run")))
        } else if !self.can_detect() {
            Some(format!(
                "with these runs no cell can come out faster or slower: after the correction over {} a p-value must be below {:.4}, which takes {} a side at least",
                plural(self.tested, "tested cell"),
                ALPHA / self.tested as f64,
                plural(self.runs_needed(), "run")
            ))
        } else {
            None
        }
    }

    /// The correction, in words.
    pub fn correction(&self) -> String {
        format!(
            "Holm-Bonferroni over {}: at most a {:.0}% chance of any false faster or slower among them",
            plural(self.tested, "tested cell"),
            100.0 * ALPHA
        )
    }
}

/// Every cell of either side, old's order first, each judged; `threshold` is
/// `--fail-on-regression` as a fraction.
pub(crate) fn judge<'a>(old: &'a Report, new: &'a Report, threshold: Option<f64>) -> Comparison<'a> {
    let mut rows: Vec<(&str, Option<&Side>, Option<&Side>)> = Vec::new();
    for o in &old.cells {
        rows.push((&o.cell, Some(o), new.cells.iter().find(|n| n.cell == o.cell)));
    }
    for n in new.cells.iter().filter(|n| !old.cells.iter().any(|o| o.cell == n.cell)) {
        rows.push((&n.cell, None, Some(n)));
    }
    let mut cells: Vec<Judged<'a>> = rows.into_iter().map(|(cell, o, n)| pair(cell, o, n)).collect();
    // The correction over every cell that was tested, then each verdict from its adjusted p.
    let tested: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].p_value.is_some()).collect();
    let raw: Vec<f64> = tested.iter().filter_map(|&i| cells[i].p_value).collect();
    for (&i, adjusted) in tested.iter().zip(summary::holm(&raw)) {
        cells[i].p_adjusted = Some(adjusted);
    }
    for j in cells.iter_mut().filter(|j| j.status == Status::Change(Change::TooFewRuns) && j.p_value.is_some()) {
        let medians = j.old.zip(j.new).and_then(|(o, n)| o.summary.as_ref().zip(n.summary.as_ref()));
        if let Some((o, n)) = medians {
            j.status = Status::Change(summary::change(j.p_adjusted, o.median, n.median));
        }
        j.regression =
            j.status == Status::Change(Change::Slower) && threshold.is_some_and(|t| j.change.is_some_and(|c| -c > t));
    }
    let mut comparison =
        Comparison { old: &old.path, new: &new.path, cells, tested: tested.len(), threshold, notes: Vec::new() };
    comparison.notes = notes(old, new, &comparison);
    comparison
}

/// One row: the jobs checked first, then the runs tested (the verdict waits for the correction).
fn pair<'a>(cell: &str, o: Option<&'a Side>, n: Option<&'a Side>) -> Judged<'a> {
    let mut j = Judged {
        cell: cell.to_string(),
        old: o,
        new: n,
        change: None,
        interval: None,
        p_value: None,
        p_adjusted: None,
        status: Status::OnlyInNew,
        differences: Vec::new(),
        regression: false,
    };
    let (Some(o), Some(n)) = (o, n) else {
        j.status = if o.is_some() { Status::OnlyInOld } else { Status::OnlyInNew };
        return j;
    };
    let (Some(old_job), Some(new_job)) = (&o.job, &n.job) else {
        j.status = Status::JobNotRecorded;
        return j;
    };
    j.differences = job_differences(old_job, new_job);
    if !j.differences.is_empty() {
        j.status = Status::DifferentJob;
        return j;
    }
    match (&o.summary, &n.summary) {
        (Some(os), Some(ns)) if os.median > 0.0 => {
            j.change = Some(ns.median / os.median - 1.0);
            j.interval = rank::ratio_interval(&o.rates, &n.rates);
            j.p_value = summary::p_value(&o.rates, &n.rates);
            j.status = Status::Change(Change::TooFewRuns);
        }
        (Some(_), Some(_)) => j.status = Status::OldAtZero,
        _ => j.status = Status::NoRuns,
    }
    j
}

/// The fields in which two effective jobs differ, by path, leaving out what does not change
/// the work (`NOT_THE_WORK`, and the trace's file name).
pub(crate) fn job_differences(old: &Json, new: &Json) -> Vec<JobDifference> {
    let mut out = Vec::new();
    diff("", &the_work(old), &the_work(new), &mut out);
    out
}

fn the_work(job: &Json) -> Json {
    let mut job = job.clone();
    if let Some(map) = job.as_object_mut() {
        for key in NOT_THE_WORK {
            map.remove(key);
        }
        if let Some(trace) = map.get_mut("trace").and_then(Json::as_object_mut) {
            trace.remove("file");
        }
    }
    job
}

fn diff(path: &str, old: &Json, new: &Json, out: &mut Vec<JobDifference>) {
    let text = |v: Option<&Json>| v.map_or("default".to_string(), |v| v.to_string());
    match (old.as_object(), new.as_object()) {
        (Some(o), Some(n)) => {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.extend(n.keys().filter(|k| !o.contains_key(*k)));
            for key in keys {
                let field = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match (o.get(key), n.get(key)) {
                    (Some(a), Some(b)) => diff(&field, a, b, out),
                    (a, b) => out.push(JobDifference { field, old: text(a), new: text(b) }),
                }
            }
        }
        _ if old != new => {
            out.push(JobDifference { field: path.to_string(), old: text(Some(old)), new: text(Some(new)) })
        }
        _ => {}
    }
}

/// What the reader must know before believing the comparison.
fn notes(old: &Report, new: &Report, c: &Comparison<'_>) -> Vec<String> {
    let mut notes = Vec::new();
    for (side, r) in [("old", old), ("new", new)] {
        match r.schema_version {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) => notes.push(format!(
                "{side} ({}) is a schema version {v} document; this runner writes version {SCHEMA_VERSION}: read as far as the fields agree",
                r.path
            )),
            None => notes.push(format!("{side} ({}) has no schema_version: read as far as the fields agree", r.path)),
        }
        if r.partial {
            notes.push(format!("{side} ({}) is an interrupted sweep: the cells it did not run are missing", r.path));
        }
    }
    if old.host != new.host {
        let host = |h: &Option<Json>| h.as_ref().map_or("unknown".to_string(), Json::to_string);
        notes.push(format!(
            "the two reports come from different machines (old {}, new {}): a change may be the machine's",
            host(&old.host),
            host(&new.host)
        ));
    }
    if let Some(build) = same_build_and_job(old, new) {
        let moved =
            c.cells.iter().filter(|j| matches!(j.status, Status::Change(Change::Faster | Change::Slower))).count();
        if moved > 0 {
            notes.push(format!(
                "both reports come from the same build of runner ({build}) running the same job file: {} found faster or slower \
                 moved with the machine's state between the two sweeps, not with runner's code (on a shared machine two \
                 processes can differ by more than the runs inside either; run the same build twice to see this machine's own \
                 difference before setting --fail-on-regression)",
                crate::words::plural(moved, "cell")
            ));
        }
    }
    if let Some(why) = c.undetectable().filter(|_| c.tested > 0) {
        notes.push(why);
    }
    notes
}

/// `0.1.0 (commit abc)` when both reports name the same clean build (a commit without
/// `-dirty`) and the same job file's sha256; `None` when either is missing or they differ.
fn same_build_and_job(old: &Report, new: &Report) -> Option<String> {
    let build = old.build.as_ref().filter(|b| Some(*b) == new.build.as_ref())?;
    let commit = build.get("commit").and_then(Json::as_str).filter(|c| !c.is_empty() && !c.ends_with("-dirty"))?;
    let version = build.get("version").and_then(Json::as_str).unwrap_or("?");
    old.file_sha256.as_ref().filter(|s| Some(*s) == new.file_sha256.as_ref())?;
    Some(format!("{version}, commit {commit}"))
}

/// The cells of a report's text (`path` names it in errors).
pub(crate) fn parse(path: &str, text: &str) -> Result<Report, Error> {
    let doc: Json = serde_json::from_str(text).map_err(|e| Error::Usage(format!("{path}: not a JSON report: {e}")))?;
    let bad = || Error::Usage(format!("{path}: not a runner report (no `cells` and no `ops_per_second`)"));
    let verdict = |d: &Json| d.get("verdict").and_then(Json::as_str).map(String::from);
    let cells = if let Some(cells) = doc.get("cells").and_then(Json::as_array) {
        cells
            .iter()
            .map(|c| {
                let cell = c.get("cell").and_then(Json::as_str).unwrap_or_default().to_string();
                let rates: Vec<f64> = c
                    .get("runs")
                    .and_then(Json::as_array)
                    .map(|runs| runs.iter().filter_map(|r| r.get("ops_per_second").and_then(Json::as_f64)).collect())
                    .unwrap_or_default();
                let summary = Summary::of(&rates);
                Side { cell, rates, summary, job: c.get("job").cloned(), verdict: verdict(c) }
            })
            .collect()
    } else {
        let rate = doc.get("ops_per_second").and_then(Json::as_f64).ok_or_else(bad)?;
        let job = doc.get("job").cloned();
        vec![Side {
            cell: String::new(),
            rates: vec![rate],
            summary: Summary::of(&[rate]),
            job,
            verdict: verdict(&doc),
        }]
    };
    Ok(Report {
        path: path.to_string(),
        schema_version: doc.get("schema_version").and_then(Json::as_u64),
        host: doc.get("host").cloned(),
        build: doc.get("runner").cloned(),
        file_sha256: doc.get("file_sha256").and_then(Json::as_str).map(String::from),
        partial: doc.get("partial").and_then(Json::as_bool).unwrap_or(false),
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(path: &str, job: Json, rates: &[f64]) -> Report {
        let side = Side {
            cell: "c".to_string(),
            rates: rates.to_vec(),
            summary: Summary::of(rates),
            job: Some(job),
            verdict: Some("correct".to_string()),
        };
        Report {
            path: path.to_string(),
            schema_version: Some(u64::from(SCHEMA_VERSION)),
            host: None,
            build: None,
            file_sha256: None,
            partial: false,
            cells: vec![side],
        }
    }

    #[test]
    fn different_jobs_are_named_and_not_compared() {
        let a = json!({"name": "a", "workers": 2, "iterations": 20000, "work": {"inside": "0ns", "outside": "5ns"}, "repeat": 5});
        let b = json!({"name": "b", "workers": 2, "iterations": 200, "work": {"inside": "0ns", "outside": "9ns"}, "schedule": "round-robin"});
        let (old, new) = (report("o", a, &[1.0; 5]), report("n", b, &[2.0; 5]));
        let c = judge(&old, &new, Some(0.05));
        assert_eq!(c.cells[0].status, Status::DifferentJob);
        let fields: Vec<&str> = c.cells[0].differences.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["iterations", "work.outside", "schedule"]);
        assert_eq!(c.cells[0].differences[2].old, "default");
        assert_eq!((c.tested, c.cells[0].change, c.refused()), (0, None, vec!["c"]));
    }

    #[test]
    fn the_gate_reads_the_corrected_verdict() {
        let job = json!({"workers": 1, "iterations": 100});
        let old = report("o", job.clone(), &[100.0, 101.0, 102.0, 103.0, 104.0]);
        let new = report("n", job.clone(), &[80.0, 81.0, 82.0, 83.0, 84.0]);
        let c = judge(&old, &new, Some(0.05));
        assert_eq!(c.cells[0].status, Status::Change(Change::Slower));
        assert_eq!(c.regressions(), ["c"]);
        // A 20% drop does not fail a 25% gate.
        assert!(judge(&old, &new, Some(0.25)).regressions().is_empty());
        // No ratio to 0 ops/s.
        let stopped = report("o", job.clone(), &[0.0; 5]);
        assert_eq!(judge(&stopped, &new, None).cells[0].status, Status::OldAtZero);
        // Against itself: within noise, no regression.
        let c = judge(&old, &old, Some(0.0));
        assert_eq!((c.cells[0].status, c.regressions().len()), (Status::Change(Change::WithinNoise), 0));
    }

    #[test]
    fn a_change_between_two_sweeps_of_one_build_and_job_is_said_to_be_the_machines() {
        let job = json!({"workers": 1, "iterations": 100});
        let built = |commit: &str, sha: &str, rates: &[f64]| Report {
            build: Some(json!({"version": "0.1.0", "commit": commit})),
            file_sha256: Some(sha.to_string()),
            ..report("r", job.clone(), rates)
        };
        let fast = [100.0, 101.0, 102.0, 103.0, 104.0];
        let slow = [80.0, 81.0, 82.0, 83.0, 84.0];
        let machine = |c: &Comparison<'_>| c.notes.iter().any(|n| n.contains("the machine's state"));
        let (old, new) = (built("abc", "s", &fast), built("abc", "s", &slow));
        let c = judge(&old, &new, None);
        assert!(machine(&c), "{:?}", c.notes);
        assert!(
            c.notes.iter().any(|n| n.contains("(0.1.0, commit abc)") && n.contains("1 cell found")),
            "{:?}",
            c.notes
        );
        // Nothing moved: nothing to explain.
        assert!(!machine(&judge(&built("abc", "s", &fast), &built("abc", "s", &fast), None)));
        // Another build, a build from changed sources, another job file: the code may be why.
        assert!(!machine(&judge(&built("abc", "s", &fast), &built("abd", "s", &slow), None)));
        assert!(!machine(&judge(&built("abc-dirty", "s", &fast), &built("abc-dirty", "s", &slow), None)));
        assert!(!machine(&judge(&built("abc", "s", &fast), &built("abc", "t", &slow), None)));
        assert!(!machine(&judge(&report("o", job.clone(), &fast), &report("n", job.clone(), &slow), None)));
    }
}
