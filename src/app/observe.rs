//! What a run of a job file shows and writes while the sweep goes: the sweep's [`Observer`],
//! implemented with report's progress bar, the trace file and the exports.
//!
//! Everything here runs on runner's one thread, called by sweep (the progress bar from the
//! wait loop between two looks at the workers, never from a ticker thread), so that the
//! parent is single-threaded at every fork; output is flushed as it is written.
//!
//! Owns: when the progress bar shows, the per-cell lines, a failed worker's line, when the
//! trace file is checked (before the run), created, written and committed (all three after
//! the run, a single run's after its report, so that the report phase is in it, and so that no
//! temporary file exists while the workers run), rewriting the exports after each cell, and
//! the outputs that could not be written: each said on standard error and kept for the report,
//! while the sweep goes on (only a file that cannot be written before anything ran stops it).
//! Does not own: their layout (see `report`).

use super::exports::{self, Exports, Streams};
use crate::error::Error;
use crate::plan::Plan;
use crate::report::doc::sweep::Unwritten;
use crate::report::sweep::Stage;
use crate::report::{self, export::Pending, progress::Progress};
use crate::sweep::{CellResult, Observer, Run};
use crate::watch::Watch;

/// A run's trace file, checked before the run and created, written and put in place after it
/// (a stream, which has no temporary file, is opened before the run and kept open).
pub(crate) struct PendingTrace {
    path: String,
    stream: Option<Pending>,
    watch: Watch,
}

/// The failed workers named one by one on standard error; the rest are counted.
const FAILED_SHOWN: usize = 8;

impl PendingTrace {
    /// Checks that the trace can be written, leaving nothing behind.
    fn check(path: &str, watch: &Watch) -> Result<PendingTrace, Error> {
        let stream = report::export::check(path)?;
        Ok(PendingTrace { path: path.to_string(), stream, watch: watch.clone() })
    }

    /// Writes the run's trace and puts the file in place.
    pub(crate) fn write(self, plan: &Plan, run: &Run) -> Result<(), Error> {
        if let Some(lost) = &run.outcome.events_lost {
            return Err(Error::Output(format!("{}: {lost}", self.path)));
        }
        let mut file = match self.stream {
            Some(stream) => stream,
            None => Pending::create(&self.path)?,
        };
        report::trace(&mut file.file, &self.path, plan, run, &self.watch)?;
        file.commit()
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
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
    /// The parameters of every planned cell, in order.
    pub(crate) axes: &'a [String],
    pub(crate) cells: usize,
    pub(crate) exports: &'a Exports,
}

/// The sweep's observer for one job file.
pub(crate) struct Shown<'a> {
    showing: Showing<'a>,
    bar: Option<Progress>,
    /// The current run's trace file; after a deferred run, the one left to write.
    trace: Option<PendingTrace>,
    /// Whether a run has started (a file that cannot be written stops nothing after that).
    started: bool,
    /// The outputs that could not be written, in order.
    unwritten: Vec<Unwritten>,
    /// The exports that are streams, open until they are written after the last cell.
    streams: Streams,
}

impl<'a> Shown<'a> {
    /// `streams`: the exports' streams, opened by `Exports::start`.
    pub(crate) fn new(showing: Showing<'a>, streams: Streams) -> Shown<'a> {
        Shown { showing, bar: None, trace: None, started: false, unwritten: Vec::new(), streams }
    }

    /// The outputs that could not be written so far.
    pub(crate) fn unwritten(&self) -> &[Unwritten] {
        &self.unwritten
    }

    /// An output that could not be written: said now, kept for the report.
    fn failed(&mut self, unwritten: Unwritten) {
        crate::stderrln!("runner: not written: {}", crate::terminal::for_people(&unwritten.error));
        self.unwritten.push(unwritten);
    }

    /// The last run's trace, still to write (with `defer_trace`).
    pub(crate) fn take_trace(&mut self) -> Option<PendingTrace> {
        self.trace.take()
    }
}

impl Observer for Shown<'_> {
    fn run_starts(&mut self, plan: &Plan, watch: &Watch) -> Result<(), Error> {
        // Refuse an unwritable trace file before running anything; after that, a trace that
        // cannot be written is one output lost, not the sweep.
        self.trace = match &watch.trace {
            Some(path) => match PendingTrace::check(path, watch) {
                Ok(trace) => Some(trace),
                Err(e) if !self.started => return Err(e),
                Err(e) => {
                    self.failed(Unwritten { path: path.clone(), error: exports::message(e) });
                    None
                }
            },
            None => None,
        };
        self.started = true;
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
        let failed: Vec<_> = run.outcome.failed_workers().collect();
        for w in failed.iter().take(FAILED_SHOWN) {
            // `exited with code 3`, `killed by SIGKILL`.
            let how = match (&w.exit.code, &w.exit.signal) {
                (Some(code), None) => format!("exited with code {code}"),
                _ => w.exit.to_string(),
            };
            crate::stderrln!("runner: worker {} (pid {}) failed: {how}", w.index, w.pid);
        }
        if let Some(more) = failed.len().checked_sub(FAILED_SHOWN).filter(|&n| n > 0) {
            crate::stderrln!("runner: and {more} more workers failed (the report lists every worker)");
        }
        match self.trace.take() {
            Some(trace) if !self.showing.defer_trace => {
                let path = trace.path().to_string();
                if let Err(e) = trace.write(plan, run) {
                    self.failed(Unwritten { path, error: exports::message(e) });
                }
            }
            kept => self.trace = kept,
        }
        Ok(())
    }

    fn cell_done(&mut self, cells: &[CellResult], last: bool) -> Result<(), Error> {
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
            crate::stderrln!("runner: [{}/{}] {label}: {speed}, {verdict}{outcome}", cells.len(), s.cells);
        }
        // The last rewrite: after the sweep's last cell, or the last one a signal stopped.
        let stage = Stage { planned: s.cells, in_progress: !last, unwritten: &self.unwritten };
        let contents =
            super::exports::Contents { name: s.name, file: s.label, sha256: s.sha256, axes: s.axes, cells, stage };
        let failed = s.exports.write_cell(&contents, last, &self.unwritten, &mut self.streams);
        for unwritten in failed {
            self.failed(unwritten);
        }
        Ok(())
    }

    fn round_done(&mut self, round: u32, rounds: u32) {
        if self.showing.cell_lines {
            crate::stderrln!("runner: round {round}/{rounds} done (a round runs each cell once)");
        }
    }
}
