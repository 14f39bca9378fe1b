//! Many runs of one job file: each matrix cell, run `warmup` times uncounted and then `repeat`
//! times, one after another, with statistics per cell. A single job with one run is the same
//! path with one cell and one run.
//!
//! Owns: the order of runs, each run's trace file (one per cell, named after it), stopping at
//! an interrupt, and [`summary`] statistics. Does not own: running one job (see `exec`),
//! judging it (see `outcome`) or drawing anything (see `report`).

pub mod summary;

use std::time::Instant;

use crate::error::{Error, Interrupt, exit};
use crate::exec::interrupt::Interrupts;
use crate::outcome::{self, Judgement, Outcome, Verdict};
use crate::plan::{Job, Plan};
use crate::spec::ExpectOutcome;
use crate::watch::Watch;
use summary::Summary;

/// One run of a cell.
pub struct Run {
    pub outcome: Outcome,
    pub judgement: Judgement,
    /// From the run's start to its verdict.
    pub wall_seconds: f64,
    pub started_at: String,
    /// CLOCK_MONOTONIC at the run's start: the trace's origin.
    pub origin: u64,
    /// The trace still to write (a single run writes it after its report, so that the report
    /// phase is in it): the file, created before the run, its path and what was watched.
    pub pending_trace: Option<(crate::report::export::Pending, Watch)>,
}

impl Run {
    /// Writes the run's trace, if it has one still to write.
    pub fn write_trace(&mut self, plan: &Plan) -> Result<(), Error> {
        match self.pending_trace.take() {
            Some((mut pending, watch)) => {
                let path = watch.trace.clone().unwrap_or_default();
                crate::report::trace(&mut pending.file, &path, plan, self, &watch)?;
                pending.commit()
            }
            None => Ok(()),
        }
    }
}

/// Every counted run of a cell, or why it could not run.
pub struct CellResult {
    pub job: Job,
    pub runs: Vec<Run>,
    /// Set-up failure (the cell's runs stopped there).
    pub error: Option<String>,
    /// Whether `error` is a failed fork (what `expect_outcome: fork-failed` expects).
    pub fork_failed: bool,
    /// Ops/s over the counted runs.
    pub summary: Option<Summary>,
    /// The trace file written for this cell.
    pub trace: Option<String>,
    /// The signal that stopped the sweep before this cell's runs were done.
    pub stopped_by: Option<Interrupt>,
}

impl CellResult {
    /// The worst verdict of its runs: wrong over lost updates over correct.
    pub fn verdict(&self) -> Option<Verdict> {
        let verdicts = self.runs.iter().map(|r| r.judgement.verdict);
        verdicts.max_by_key(|v| match v {
            Verdict::Correct => 0,
            Verdict::LostUpdates => 1,
            Verdict::Wrong => 2,
        })
    }

    /// What happened, in the terms of `expect_outcome` (of the last run; `None`: it completed
    /// without a fault showing).
    pub fn observed(&self) -> Option<ExpectOutcome> {
        if self.fork_failed {
            return Some(ExpectOutcome::ForkFailed);
        }
        let run = self.runs.last()?;
        if run.outcome.deadline.is_some() {
            Some(ExpectOutcome::Deadline)
        } else if run.outcome.recovery.is_some() && run.judgement.verdict == Verdict::Correct {
            Some(ExpectOutcome::Recovered)
        } else if run.outcome.failed_workers().next().is_some() {
            Some(ExpectOutcome::WorkerFailed)
        } else {
            None
        }
    }

    /// With `expect_outcome`: whether every run showed it, with a value that checks out.
    pub fn outcome_as_expected(&self) -> Option<bool> {
        let expected = self.job.plan.expect_outcome?;
        let wrong = self.runs.iter().any(|r| r.judgement.verdict == Verdict::Wrong);
        let interrupted = self.runs.iter().any(|r| r.outcome.interrupted.is_some()) || self.stopped_by.is_some();
        Some(!wrong && !interrupted && self.observed() == Some(expected))
    }

    /// The highest exit code of its runs (a set-up failure is 3); a job whose declared outcome
    /// happened as expected passes (0), and one whose declared outcome did not, fails (3).
    pub fn exit_code(&self) -> i32 {
        match self.outcome_as_expected() {
            Some(true) => return exit::OK,
            Some(false) if self.stopped_by.is_none() && self.interrupted().is_none() => return exit::FAILED,
            _ => {}
        }
        let runs = self.runs.iter().map(|r| outcome::exit_code(&r.outcome, &r.judgement)).max().unwrap_or(exit::OK);
        let runs = self.stopped_by.map_or(runs, |signal| runs.max(signal.exit_code()));
        if self.error.is_some() { runs.max(exit::FAILED) } else { runs }
    }

    pub fn interrupted(&self) -> Option<Interrupt> {
        self.runs.iter().find_map(|r| r.outcome.interrupted).or(self.stopped_by)
    }
}

/// How to run: what to watch and show.
pub struct Settings {
    /// The trace file asked for on the command line (the job's `trace` applies otherwise).
    pub trace: Option<String>,
    pub trace_ops: bool,
    /// Draw a progress bar (a terminal, human format, not quiet).
    pub progress: bool,
    /// Leave a single run's trace for the caller to write after the report.
    pub defer_trace: bool,
}

/// Runs every cell; `after_cell` sees the results so far after each cell (exports rewrite
/// themselves there). Stops after the cell in which runner was interrupted.
pub fn run(
    jobs: Vec<Job>,
    settings: &Settings,
    after_cell: &mut dyn FnMut(&[CellResult]) -> Result<(), Error>,
) -> Result<Vec<CellResult>, Error> {
    let several = jobs.len() > 1;
    let interrupts =
        Interrupts::new().map_err(|e| Error::Setup(format!("cannot watch for SIGINT and SIGTERM: {e}")))?;
    let mut results: Vec<CellResult> = Vec::new();
    for job in jobs {
        let watch = watch_for(&job, settings, several)?;
        let mut result = CellResult {
            runs: Vec::new(),
            error: None,
            fork_failed: false,
            summary: None,
            trace: watch.trace.clone(),
            stopped_by: None,
            job,
        };
        let total = result.job.plan.warmup + result.job.plan.repeat;
        for i in 0..total {
            // A signal between two runs: no further run starts.
            if let Some(signal) = interrupts.caught() {
                result.stopped_by = Some(signal);
                break;
            }
            // Only the last run writes the trace.
            let watch = if i + 1 == total { watch.clone() } else { Watch::default() };
            match once(&result.job.plan, &watch, settings.progress, &interrupts) {
                Ok(mut run) => {
                    if !settings.defer_trace {
                        run.write_trace(&result.job.plan)?;
                    }
                    let stop = run.outcome.interrupted.is_some();
                    if i >= result.job.plan.warmup || stop {
                        result.runs.push(run);
                    }
                    if stop {
                        break;
                    }
                }
                // A trace file that cannot be written or a usage error stops everything; a
                // set-up failure stops this cell.
                Err(e @ (Error::Output(_) | Error::Usage(_))) => return Err(e),
                Err(e) => {
                    result.fork_failed = matches!(e, Error::Fork(_));
                    result.error = Some(e.render().trim_start_matches("error: ").trim_end().to_string());
                    break;
                }
            }
        }
        let rates: Vec<f64> = result.runs.iter().map(|r| r.outcome.ops_per_second()).collect();
        result.summary = Summary::of(&rates);
        let stop = result.interrupted().is_some();
        results.push(result);
        after_cell(&results)?;
        if stop {
            break;
        }
    }
    Ok(results)
}

/// Runs a plan once and judges it; the trace `watch` asks for is left pending in the run.
pub fn once(plan: &Plan, watch: &Watch, show_progress: bool, interrupts: &Interrupts) -> Result<Run, Error> {
    let started = Instant::now();
    let origin = crate::clock::now_ns();
    let started_at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    // Refuse an unwritable trace file before running anything.
    let trace_file = match &watch.trace {
        Some(path) => Some(crate::report::export::Pending::create(path)?),
        None => None,
    };
    let mut progress = crate::report::progress::Progress::new(plan.total_ops(), show_progress);
    let executed = crate::exec::execute(plan, watch, &mut |done| progress.update(done), interrupts);
    progress.finish();
    let outcome = executed?;
    let verifying = tracing::info_span!("verify").entered();
    let judgement = outcome::judge_run(plan, &outcome);
    drop(verifying);
    for w in outcome.failed_workers() {
        eprintln!("runner: worker {} (pid {}) failed: exit {}", w.index, w.pid, w.exit);
    }
    let pending_trace = trace_file.map(|pending| (pending, watch.clone()));
    Ok(Run { outcome, judgement, wall_seconds: started.elapsed().as_secs_f64(), started_at, origin, pending_trace })
}

/// What to watch in a cell: the command line's trace over the job's; with several cells, one
/// file per cell, named after it.
fn watch_for(job: &Job, settings: &Settings, several: bool) -> Result<Watch, Error> {
    let from_job = job.plan.trace.clone();
    let ops = settings.trace_ops || (settings.trace.is_none() && from_job.as_ref().is_some_and(|t| t.ops));
    let trace = settings.trace.clone().or(from_job.map(|t| t.file));
    if ops && trace.is_none() {
        return Err(Error::Usage("--trace-ops needs --trace FILE (or `trace:` in the job file)".to_string()));
    }
    let trace = trace.map(|path| if several { cell_path(&path, &job.cell) } else { path });
    Ok(Watch { trace, ops })
}

/// `t.json` for cell `backend=mutex workers=8` is `t.backend-mutex.workers-8.json`.
pub fn cell_path(path: &str, cell: &str) -> String {
    let safe: String = cell
        .replace(' ', ".")
        .replace('=', "-")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' })
        .collect();
    let p = std::path::Path::new(path);
    let stem = p.file_stem().map_or_else(|| "trace".into(), |s| s.to_string_lossy().into_owned());
    let name = match p.extension() {
        Some(ext) => format!("{stem}.{safe}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{safe}"),
    };
    p.with_file_name(name).to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::cell_path;

    #[test]
    fn cell_paths() {
        assert_eq!(cell_path("out/t.json", "backend=mutex workers=8"), "out/t.backend-mutex.workers-8.json");
        assert_eq!(cell_path("t", "work={inside: 1us}"), "t.work-_inside_.1us_");
    }
}
