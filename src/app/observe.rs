//! What a run of a job file shows and writes while the sweep goes: the sweep's [`Observer`],
//! implemented with report's progress bar, the trace file and the exports.
//!
//! Everything here runs on runner's one thread, called by sweep (the progress bar from the
//! wait loop between two looks at the workers, never from a ticker thread), so that the
//! parent is single-threaded at every fork; output is flushed as it is written.
//!
//! Owns: when the progress bar shows, the per-cell lines, a failed worker's line, when the
//! trace file is created, written and committed (a single run's after its report, so that the
//! report phase is in it), rewriting the exports after each cell. Does not own: their layout
//! (see `report`).

use super::exports::Exports;
use crate::error::Error;
use crate::plan::Plan;
use crate::report::{self, export::Pending, progress::Progress};
use crate::sweep::{CellResult, Observer, Run};
use crate::watch::Watch;

/// A run's trace file, created before the run and written after it.
pub(crate) struct PendingTrace {
    file: Pending,
    watch: Watch,
}

impl PendingTrace {
    /// Writes the run's trace and puts the file in place.
    pub(crate) fn write(mut self, plan: &Plan, run: &Run) -> Result<(), Error> {
        let path = self.watch.trace.clone().unwrap_or_default();
        report::trace(&mut self.file, &path, plan, run, &self.watch)?;
        self.file.commit()
    }
}

/// How a job file's runs are shown: the policy decided before it runs.
pub(crate) struct Showing<'a> {
    /// A progress bar for runs longer than about a second.
    pub(crate) progress: bool,
    /// A line on standard error after each cell (a sweep's, for people, not quiet).
    pub(crate) cell_lines: bool,
    /// Keep the last run's trace for the caller to write after the report.
    pub(crate) defer_trace: bool,
    /// The job's name, the file's label and digest, as the exports and lines show them.
    pub(crate) name: &'a str,
    pub(crate) label: &'a str,
    pub(crate) sha256: &'a str,
    pub(crate) cells: usize,
    pub(crate) exports: &'a Exports,
}

/// The sweep's observer for one job file.
pub(crate) struct Shown<'a> {
    showing: Showing<'a>,
    bar: Option<Progress>,
    /// The current run's trace file; after a deferred run, the one left to write.
    trace: Option<PendingTrace>,
}

impl<'a> Shown<'a> {
    pub(crate) fn new(showing: Showing<'a>) -> Shown<'a> {
        Shown { showing, bar: None, trace: None }
    }

    /// The last run's trace, still to write (with `defer_trace`).
    pub(crate) fn take_trace(&mut self) -> Option<PendingTrace> {
        self.trace.take()
    }
}

impl Observer for Shown<'_> {
    fn run_starts(&mut self, plan: &Plan, watch: &Watch) -> Result<(), Error> {
        // Refuse an unwritable trace file before running anything.
        self.trace = match &watch.trace {
            Some(path) => Some(PendingTrace { file: Pending::create(path)?, watch: watch.clone() }),
            None => None,
        };
        self.bar = Some(Progress::new(plan.total_ops(), self.showing.progress));
        Ok(())
    }

    fn progress(&mut self, done: u64) {
        if let Some(bar) = &mut self.bar {
            bar.update(done);
        }
    }

    fn executed(&mut self) {
        if let Some(mut bar) = self.bar.take() {
            bar.finish();
        }
    }

    fn run_done(&mut self, plan: &Plan, run: &Run) -> Result<(), Error> {
        for w in run.outcome.failed_workers() {
            // `exited with code 3`, `killed by SIGKILL`.
            let how = match (&w.exit.code, &w.exit.signal) {
                (Some(code), None) => format!("exited with code {code}"),
                _ => w.exit.to_string(),
            };
            eprintln!("runner: worker {} (pid {}) failed: {how}", w.index, w.pid);
        }
        match self.trace.take() {
            Some(trace) if !self.showing.defer_trace => trace.write(plan, run),
            kept => {
                self.trace = kept;
                Ok(())
            }
        }
    }

    fn cell_done(&mut self, cells: &[CellResult]) -> Result<(), Error> {
        let s = &self.showing;
        if let Some(last) = cells.last()
            && s.cell_lines
        {
            let speed = last.summary.as_ref().map_or("-".to_string(), |s| format!("{}ops/s", report::rate(s.median)));
            let label = if last.job.cell.is_empty() { s.name } else { last.job.cell.as_str() };
            let outcome = match last.outcome_as_expected() {
                Some(false) => format!(", {}", report::sweep::outcome_of(last)),
                _ => String::new(),
            };
            let verdict = report::sweep::verdict_of(last);
            eprintln!("runner: [{}/{}] {label}: {speed}, {verdict}{outcome}", cells.len(), s.cells);
        }
        s.exports.write_cell(s.name, s.label, s.sha256, cells, s.cells)
    }
}
