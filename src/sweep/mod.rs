//! Many runs of one job file: each matrix cell run `warmup` times uncounted and then `repeat`
//! times, in rounds (every cell once, then every cell again), with statistics per cell. A
//! single job with one run is the same path with one cell and one run.
//!
//! Owns: the order of runs (rounds, so that a slow stretch of the machine falls on every cell
//! alike; a cell's warmups just before its first counted run), which run of a cell is traced
//! (the last, one file per cell, named after it), stopping at an interrupt (the cells that
//! started are kept, each with the runs it finished), [`summary`] statistics and [`rank`] tests
//! and intervals. Does not own: running one job (see `exec`), judging it (see `outcome`), or
//! drawing and writing anything: what the caller shows as the sweep goes (a progress bar,
//! per-cell and per-round lines, the trace file, exports) it does in its `Observer`, which
//! sweep calls at each step and which runs on this thread, in runner's wait loop (sweep starts
//! no thread, so nothing draws while a fork happens).

pub mod rank;
pub mod summary;

use std::time::Instant;

use crate::error::{Error, Interrupt, exit};
use crate::exec::interrupt::Interrupts;
use crate::outcome::{self, Expectation, Judgement, Outcome, Verdict};
use crate::plan::{Job, Plan};
use crate::spec::ExpectOutcome;
use crate::watch::Watch;
use summary::Summary;

/// What the caller sees of a sweep while it runs, in this order for each run: `run_starts`,
/// `progress` (any number of times), `executed`, then `run_done` when the run could be judged;
/// `cell_done` for each cell, in the cells' order, once it and every cell before it are done;
/// and `round_done` after each round but the last. An error from `run_starts` or `run_done` (a file that
/// cannot be written) or from `cell_done` stops the sweep and is its result (runner's observer
/// returns one only before anything ran: later, a file lost is said and the sweep goes on).
pub(crate) trait Observer {
    /// A run is about to start and will watch `watch` (its trace file, if any, is refused here
    /// when it cannot be written, before anything runs).
    fn run_starts(&mut self, plan: &Plan, watch: &Watch) -> Result<(), Error>;
    /// `done` of the run's operations so far, called from runner's wait loop.
    fn progress(&mut self, done: u64);
    /// Every worker of the run is reaped (or the run could not be set up).
    fn executed(&mut self);
    /// The run is judged.
    fn run_done(&mut self, plan: &Plan, run: &Run) -> Result<(), Error>;
    /// A cell is over: `cells` are the results so far, the last one just finished; `last`:
    /// no cell follows (the sweep is over, or a signal stopped it).
    fn cell_done(&mut self, cells: &[CellResult], last: bool) -> Result<(), Error>;
    /// Round `round` of `rounds` is over: every cell not done ran once more.
    fn round_done(&mut self, round: u32, rounds: u32);
}

/// One run of a cell.
pub struct Run {
    pub outcome: Outcome,
    pub judgement: Judgement,
    /// From the run's start to its verdict.
    pub wall_seconds: f64,
    pub started_at: String,
    /// CLOCK_MONOTONIC at the run's start: the trace's origin.
    pub origin: u64,
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
    pub(crate) trace: Option<String>,
    /// The signal that stopped the sweep before this cell's runs were done.
    pub stopped_by: Option<Interrupt>,
}

impl CellResult {
    /// The worst verdict of its runs: wrong over lost updates over inconclusive over no race
    /// over within the bound over correct.
    pub fn verdict(&self) -> Option<Verdict> {
        let verdicts = self.runs.iter().map(|r| r.judgement.verdict);
        verdicts.max_by_key(|v| match v {
            Verdict::Correct => 0,
            Verdict::WithinBound => 1,
            Verdict::NoRace => 2,
            Verdict::Inconclusive => 3,
            Verdict::LostUpdates => 4,
            Verdict::DuplicatedUpdates => 5,
            Verdict::Wrong => 6,
        })
    }

    /// Each counted run's expectation, by `outcome`'s one rule: what it came to against the
    /// outcome the job declares (or, declaring none, completing).
    pub fn expectations(&self) -> Vec<Expectation> {
        self.runs.iter().map(|r| Expectation::of(&self.job.plan, &r.outcome, r.judgement.verdict)).collect()
    }

    /// The ops/s of its counted runs, in order.
    pub fn rates(&self) -> Vec<f64> {
        self.runs.iter().map(|r| r.outcome.ops_per_second()).collect()
    }

    /// How many counted runs came to the expected outcome.
    pub fn runs_as_expected(&self) -> usize {
        self.expectations().iter().filter(|e| e.as_expected == Some(true)).count()
    }

    /// Whether the cell came to the outcome its job declares (or, declaring none, completed):
    /// true only when every counted run did (or the job declares a fork failure, and a fork
    /// failed); false when one run did not, or a set-up failure stopped the cell; `None` when
    /// a signal stopped the cell before any run failed, or nothing ran.
    pub fn outcome_as_expected(&self) -> Option<bool> {
        let expectations = self.expectations();
        if self.error.is_some() {
            let declared = self.fork_failed && self.job.plan.expect_outcome == Some(ExpectOutcome::ForkFailed);
            return Some(declared && expectations.iter().all(|e| e.as_expected == Some(true)));
        }
        if expectations.iter().any(Expectation::failed) {
            return Some(false);
        }
        if self.interrupted().is_some() || expectations.is_empty() {
            return None;
        }
        Some(true)
    }

    /// The highest exit code of its runs (each by `outcome::exit_code`), of the signal that
    /// stopped it, and of a set-up failure (3, unless it is the fork failure the job declares).
    pub fn exit_code(&self) -> i32 {
        let plan = &self.job.plan;
        let runs = self.runs.iter().map(|r| outcome::exit_code(plan, &r.outcome, &r.judgement)).max();
        let runs = runs.unwrap_or(exit::OK);
        let runs = self.stopped_by.map_or(runs, |signal| runs.max(signal.exit_code()));
        if self.error.is_some() && self.outcome_as_expected() != Some(true) { runs.max(exit::FAILED) } else { runs }
    }

    pub fn interrupted(&self) -> Option<Interrupt> {
        self.runs.iter().find_map(|r| r.outcome.interrupted).or(self.stopped_by)
    }
}

/// What to watch: the trace asked for on the command line.
pub(crate) struct Settings {
    /// The trace file asked for on the command line (the job's `trace` applies otherwise).
    pub(crate) trace: Option<String>,
    pub(crate) trace_ops: bool,
    /// Every run keeps its latency histograms in full (`--histogram`).
    pub(crate) histogram: bool,
}

/// Runs every cell, telling `observer` how it goes: in rounds, each round one counted run of
/// every cell not done, so that a slow stretch of the machine (a vCPU that another guest is
/// using, a frequency change) falls on every cell's runs alike instead of on one cell; a
/// cell's warmups run just before its first counted run, in the first round. Stops at the run
/// in which runner was interrupted: the cells that started are kept, each with the runs it
/// finished.
pub(crate) fn run(jobs: Vec<Job>, settings: &Settings, observer: &mut dyn Observer) -> Result<Vec<CellResult>, Error> {
    let several = jobs.len() > 1;
    // Blocked from here to runner's exit: see `exec::interrupt`.
    let interrupts = Interrupts::arm().map_err(|e| Error::Setup(format!("cannot watch for signals: {e}")))?;
    let mut states = Vec::with_capacity(jobs.len());
    let mut cells = Vec::with_capacity(jobs.len());
    for job in jobs {
        let watch = watch_for(&job, settings, several)?;
        let trace = watch.trace.clone();
        states.push(Progress { watch, next: 0, over: false });
        cells.push(CellResult {
            runs: Vec::new(),
            error: None,
            fork_failed: false,
            summary: None,
            trace,
            stopped_by: None,
            job,
        });
    }
    let rounds = cells.iter().map(|c| c.job.plan.repeat).max().unwrap_or(0);
    // The cells told to the observer so far, a prefix of `cells`.
    let mut told = 0;
    let mut stopped = None;
    // How many cells were reached before a signal in the first round.
    let mut reached = 0;
    'rounds: for round in 0..rounds {
        for i in 0..cells.len() {
            let (cell, state) = (&mut cells[i], &mut states[i]);
            if state.over {
                continue;
            }
            // A signal between two runs: no further run starts.
            if let Some(signal) = interrupts.caught() {
                stopped = Some(signal);
                // The cell it would have run is kept, with nothing run.
                reached = reached.max(i + 1);
                break 'rounds;
            }
            let runs = if round == 0 { cell.job.plan.warmup + 1 } else { 1 };
            for _ in 0..runs {
                state.run_next(cell, observer, interrupts)?;
                if state.over {
                    break;
                }
            }
            if cell.interrupted().is_some() {
                stopped = cell.interrupted();
                break 'rounds;
            }
            // The cells done, in order, are told once every cell before them is.
            while told < cells.len() && states[told].over {
                told += 1;
                observer.cell_done(&cells[..told], told == cells.len())?;
            }
        }
        if round + 1 < rounds && told < cells.len() {
            observer.round_done(round + 1, rounds);
        }
    }
    // After a signal: the cells that started, each with the runs it finished.
    let started = states.iter().take_while(|s| s.next > 0).count().max(told).max(reached);
    cells.truncate(started);
    for cell in cells.iter_mut().skip(told) {
        if cell.interrupted().is_none() {
            cell.stopped_by = stopped;
        }
        cell.summary = Summary::of(&cell.rates());
    }
    for i in told..started {
        observer.cell_done(&cells[..=i], i + 1 == started)?;
    }
    Ok(cells)
}

/// How far a cell of a sweep has run.
struct Progress {
    watch: Watch,
    /// The runs started so far, warmups included.
    next: u32,
    /// No run of it starts any more: all done, a set-up failure, or a signal.
    over: bool,
}

impl Progress {
    /// Runs `cell`'s next run into it: a warmup uncounted, then the counted ones.
    fn run_next(
        &mut self,
        cell: &mut CellResult,
        observer: &mut dyn Observer,
        interrupts: &Interrupts,
    ) -> Result<(), Error> {
        let plan = &cell.job.plan;
        let total = plan.warmup + plan.repeat;
        let i = self.next;
        self.next += 1;
        // Only the last run writes the trace.
        let watch = if i + 1 == total {
            self.watch.clone()
        } else {
            Watch { histogram: self.watch.histogram, ..Watch::default() }
        };
        match once(plan, &watch, observer, interrupts) {
            Ok(run) => {
                let stop = run.outcome.interrupted.is_some();
                if i >= plan.warmup || stop {
                    cell.runs.push(run);
                }
                self.over = stop || self.next == total;
            }
            // A trace file that cannot be written or a usage error stops everything; a
            // set-up failure stops this cell.
            Err(e @ (Error::Output(_) | Error::Usage(_))) => return Err(e),
            Err(e) => {
                cell.fork_failed = matches!(e, Error::Fork(_));
                cell.error = Some(e.render().trim_start_matches("error: ").trim_end().to_string());
                self.over = true;
            }
        }
        if self.over {
            cell.summary = Summary::of(&cell.rates());
        }
        Ok(())
    }
}

/// Runs a plan once and judges it, telling `observer` (which writes the trace `watch` asks for).
pub(crate) fn once(
    plan: &Plan,
    watch: &Watch,
    observer: &mut dyn Observer,
    interrupts: &Interrupts,
) -> Result<Run, Error> {
    let started = Instant::now();
    let origin = crate::clock::now_ns();
    let started_at = humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string();
    observer.run_starts(plan, watch)?;
    let executed = crate::exec::execute(plan, watch, &mut |done| observer.progress(done), interrupts);
    observer.executed();
    let outcome = executed?;
    let verifying = tracing::info_span!("verify").entered();
    let judgement = outcome::judge_run(plan, &outcome);
    drop(verifying);
    let run = Run { outcome, judgement, wall_seconds: started.elapsed().as_secs_f64(), started_at, origin };
    observer.run_done(plan, &run)?;
    Ok(run)
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
    Ok(Watch { trace, ops, histogram: settings.histogram })
}

/// `t.json` for cell `backend=mutex workers=8` is `t.backend-mutex.workers-8.json`.
pub(crate) fn cell_path(path: &str, cell: &str) -> String {
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
    use super::{CellResult, Run, cell_path};
    use crate::outcome::{Latency, Outcome, Phases, judge_run};
    use crate::plan::{Job, Overrides, Plan};
    use crate::spec::{Source, parse};

    /// The one job of `text`, planned.
    fn job(text: &str) -> Job {
        let source = Source { label: "t.yaml".to_string(), text: text.to_string() };
        let parsed = parse(&source).expect("parses");
        crate::plan::plan_cells(parsed, &source, &Overrides::default()).expect("plans").remove(0)
    }

    /// A run that completed with the planned value, or that its deadline stopped before any
    /// operation (its value the initial one): judged as runner judges it.
    fn run(plan: &Plan, deadline: bool) -> Run {
        let outcome = Outcome {
            final_value: if deadline { plan.initial } else { plan.expected },
            refused: None,
            workers: Vec::new(),
            elapsed_seconds: 0.01,
            served: None,
            latency: Latency { sample_every: 1, op: None, lock_wait: None, histogram: None },
            events: Vec::new(),
            interrupted: None,
            deadline: deadline.then_some(0.02),
            deadline_stop: None,
            recoveries: Vec::new(),
            moments: Vec::new(),
            memory_kib: (0, 0),
            memory_start_kib: 0,
            events_lost: None,
            stride: 4096,
            phases: Phases::default(),
            cpu: Default::default(),
            hosts: Vec::new(),
            window_clock: Default::default(),
        };
        let judgement = judge_run(plan, &outcome);
        Run { outcome, judgement, wall_seconds: 0.01, started_at: String::new(), origin: 0 }
    }

    fn cell(deadlines: &[bool]) -> CellResult {
        let job = job(
            "workers: 2\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: mutex\nrepeat: 3\ntimeout: 20ms\nexpect_outcome: deadline\n",
        );
        let runs = deadlines.iter().map(|&d| run(&job.plan, d)).collect();
        CellResult { job, runs, error: None, fork_failed: false, summary: None, trace: None, stopped_by: None }
    }

    #[test]
    fn a_cell_shows_its_declared_outcome_only_when_every_run_did() {
        // The last run showed it, an earlier one did not: the cell did not.
        let mixed = cell(&[true, false, true]);
        assert_eq!((mixed.outcome_as_expected(), mixed.runs_as_expected()), (Some(false), 2));
        assert_eq!(mixed.exit_code(), crate::error::exit::FAILED);
        let every = cell(&[true, true, true]);
        assert_eq!((every.outcome_as_expected(), every.runs_as_expected()), (Some(true), 3));
        assert_eq!(every.exit_code(), crate::error::exit::OK);
        let none = cell(&[false, false, false]);
        assert_eq!((none.outcome_as_expected(), none.runs_as_expected()), (Some(false), 0));
        assert_eq!(none.exit_code(), crate::error::exit::FAILED);
        // A signal before any run failed: nothing to compare.
        let mut stopped = cell(&[true]);
        stopped.stopped_by = Some(crate::error::Interrupt::Sigint);
        assert_eq!(stopped.outcome_as_expected(), None);
    }

    #[test]
    fn cell_paths() {
        assert_eq!(cell_path("out/t.json", "backend=mutex workers=8"), "out/t.backend-mutex.workers-8.json");
        assert_eq!(cell_path("t", "work={inside: 1us}"), "t.work-_inside_.1us_");
    }
}
