//! What a run produced, as plain data, and the verdict on it.
//!
//! Owns: [`Outcome`] (filled by `exec`), the workers' window overlap, [`judge_run`] (the final
//! value against the planner's check: [`Verdict`], with why when the check could not see
//! everything), and, in `expectation`, the one rule for whether a run came to the outcome its
//! job declares (or, declaring none, completed) and the exit code of a run. Does not own:
//! running anything or drawing the report.

mod ambiguous;
mod hosts;
mod partial;

pub use ambiguous::Ambiguity;
pub use hosts::{ClockOffset, HostOutcome, RoundTrip, WindowClock};

use crate::error::Interrupt;
use crate::iterate::{Depth, depth};
use crate::plan::Plan;
pub use crate::sync::Refused;
use crate::sync::Served;
pub use crate::sync::{Holder, Recovery};
use crate::value::Value;
use crate::watch::ring::Event;
use crate::watch::stats::{Bin, Fairness, Percentiles, fairness};

mod cpu;
mod expectation;

pub use cpu::{Cpu, RunCpu};
pub use expectation::{Expectation, Happened, exit_code};

/// A worker's exit status when its body panicked (as Rust's own panic exit code).
pub const EXIT_PANIC: i32 = 101;

/// How a worker process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    /// The exit status, when it exited.
    pub code: Option<i32>,
    /// The signal's name (`SIGKILL`), when a signal killed it.
    pub signal: Option<String>,
}

impl WorkerOutcome {
    /// Whether the worker published its end time (a worker killed before it did has none).
    pub fn measured(&self) -> bool {
        self.seconds > 0.0 && self.ended >= self.started
    }

    /// Its ops/s from its first operation to its last; `None` when it was never measured.
    pub fn ops_per_second(&self) -> Option<f64> {
        self.measured().then(|| self.ops as f64 / self.seconds)
    }

    /// When it ended, after the barrier's release; `None` when it was never measured.
    pub fn ended_seconds(&self) -> Option<f64> {
        self.measured().then_some(self.ended)
    }
}

impl Exit {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.code, &self.signal) {
            (_, Some(signal)) => write!(f, "killed by {signal}"),
            (Some(code), None) => write!(f, "{code}"),
            (None, None) => write!(f, "unknown"),
        }
    }
}

#[derive(Clone, Debug)]
pub struct WorkerOutcome {
    pub index: u32,
    pub pid: i32,
    /// Operations the worker completed (channel: sent).
    pub ops: u64,
    /// From the worker's first operation to its last.
    pub seconds: f64,
    /// When the worker started and ended, in seconds after the barrier's release.
    pub started: f64,
    pub ended: f64,
    pub exit: Exit,
    /// Failed compare-exchanges (atomic).
    pub retries: u64,
    /// Redis: commands it sent again after a timeout.
    pub resent: u64,
    /// Redis: its operations whose every send timed out: each applied or not, nobody can tell
    /// (counted among `ops`, which are the operations it attempted).
    pub ambiguous: u64,
    /// Locks this worker took over from a dead holder (mutex): its entries in
    /// [`Outcome::recoveries`].
    pub recoveries: u64,
    /// The worker's peak resident memory (KiB, from `wait4` when it was reaped): its own
    /// high-water mark, which counts the pages it shared with runner from the fork on (runner's
    /// resident memory then, a few MiB); 0 when it could not be reaped.
    pub peak_kib: u64,
    /// Its CPU time and context switches from its fork to its exit (from `wait4` when it was
    /// reaped, mid-run or at the end, killed or not); `None` when it could not be reaped.
    pub cpu: Option<Cpu>,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub final_value: Value,
    /// Redis: what the server refused (duplicates, stale writes); `None` on the local engine.
    pub refused: Option<Refused>,
    pub workers: Vec<WorkerOutcome>,
    /// From the barrier's release to the end of the last worker (channel: of the owner).
    pub elapsed_seconds: f64,
    /// What the channel owner received.
    pub served: Option<Served>,
    pub latency: Latency,
    /// Per worker: its pid and the trace events it published.
    pub events: Vec<(i32, Vec<Event>)>,
    /// Why the trace events could not be kept (their copy did not fit in memory): the run and
    /// its report stand, its trace is refused rather than written without them.
    pub events_lost: Option<String>,
    /// The signal that stopped the run before its end (`SIGINT`, `SIGTERM`): a partial run.
    pub interrupted: Option<Interrupt>,
    /// The deadline (in seconds) that stopped the run before its end: a partial run.
    pub deadline: Option<f64>,
    /// How runner stopped the run at its deadline, as it measured it.
    pub deadline_stop: Option<DeadlineStop>,
    /// mutex: every lock taken over from a worker that died holding it, in the order it
    /// happened: who died, who recovered it (or runner, after every worker had ended), and
    /// whether the value was restored. Each worker dies at most once: at most one per worker.
    pub recoveries: Vec<Recovery>,
    /// For the trace's timeline: deaths, the deadline, a signal, when each happened.
    pub moments: Vec<crate::watch::trace::Moment>,
    /// Peak resident memory in KiB: runner's own during this run (`VmHWM`, afresh at exec and
    /// reset before each later run: not what the process that started runner used), and the largest of this run's
    /// workers' peaks (see [`WorkerOutcome::peak_kib`]).
    pub memory_kib: (u64, u64),
    /// runner's resident memory (KiB) when the run began: part of its peak, and shared by
    /// every worker from its fork on (so part of theirs). Large only when runner holds what
    /// earlier runs left (a catalog's reports and traces).
    pub memory_start_kib: u64,
    /// Operations each worker may have done beyond its published count when it was stopped
    /// (it publishes once per chunk of this many).
    pub stride: u64,
    /// Where the time around the work went, and how often the workers were switched out.
    pub phases: Phases,
    /// Over Redis: each host, its workers and its measured round trip (one, this machine,
    /// without `hosts:`); empty on the local engine.
    pub hosts: Vec<HostOutcome>,
    /// The clock the workers' times (the window, ops/s, the trace) are on.
    pub window_clock: WindowClock,
    /// CPU time and context switches: the workers' (from `wait4`) and runner's own, apart.
    pub cpu: RunCpu,
}

/// How runner stopped a run whose deadline passed, as it measured it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeadlineStop {
    /// From the deadline to runner's SIGTERMs: how late the deadline was enforced.
    pub late_seconds: f64,
    /// Workers still running at the deadline, that got SIGTERM.
    pub terminated: u32,
    /// Of those, the ones still running after the grace, that got SIGKILL.
    pub killed: u32,
}

/// The run's start-up and tear-down, measured by runner, and the workers' context switches.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phases {
    /// From the start of the run to the first fork: the mapping, the backend, the pipes.
    pub setup_seconds: f64,
    /// From the first fork to the last one returning.
    pub fork_seconds: f64,
    /// From the last fork until every worker had arrived at the start barrier.
    pub arrive_seconds: f64,
    /// From the end of the work until every worker had been reaped.
    pub reap_seconds: f64,
    /// Context switches of the reaped workers and the channel's waker (each one's from `wait4`,
    /// summed): voluntary (a worker waited: the lock, a full pipe, the barrier) and involuntary
    /// (the scheduler preempted it; a preempted lock holder stalls every waiter).
    pub voluntary_switches: u64,
    pub involuntary_switches: u64,
}

impl Phases {
    /// From the start of the run to the barrier's release.
    pub fn startup_seconds(&self) -> f64 {
        self.setup_seconds + self.fork_seconds + self.arrive_seconds
    }
}

/// Latency of a timed sample of operations, merged across workers.
#[derive(Clone, Debug)]
pub struct Latency {
    /// One operation (channel: one message) in this many was timed.
    pub sample_every: u64,
    /// One operation (channel: a message's send time over its operations).
    pub op: Option<Percentiles>,
    /// Mutex: the wait for the lock.
    pub lock_wait: Option<Percentiles>,
    /// Every non-empty bucket of the merged histograms, when asked for (`--histogram`).
    pub histogram: Option<Histograms>,
}

/// The merged latency histograms in full: their non-empty buckets, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Histograms {
    pub op: Vec<Bin>,
    /// Mutex: the wait for the lock; `None` for the other backends.
    pub lock_wait: Option<Vec<Bin>>,
}

impl Outcome {
    /// Operations applied to the value: by the owner for channel, else as the workers counted.
    pub fn applied(&self) -> u64 {
        match &self.served {
            Some(s) => s.applied.iter().sum(),
            None => self.workers.iter().map(|w| w.ops).sum(),
        }
    }

    pub fn ops_per_second(&self) -> f64 {
        if self.elapsed_seconds > 0.0 { self.applied() as f64 / self.elapsed_seconds } else { 0.0 }
    }

    /// `n` operations over the work window, in ops/s (0 without a window).
    pub fn rate_of(&self, n: u64) -> f64 {
        if self.elapsed_seconds > 0.0 { n as f64 / self.elapsed_seconds } else { 0.0 }
    }

    /// Fairness over the measured workers' ops/s and finish times (a worker killed before it
    /// published a time is left out); `None` with fewer than two measured workers.
    pub fn fairness(&self) -> Option<Fairness> {
        let rates: Vec<(f64, f64)> =
            self.workers.iter().filter_map(|w| Some((w.ops_per_second()?, w.ended_seconds()?))).collect();
        fairness(&rates, self.workers.len())
    }

    pub fn failed_workers(&self) -> impl Iterator<Item = &WorkerOutcome> {
        self.workers.iter().filter(|w| !w.exit.success())
    }

    /// Stopped before every operation ran: interrupted, past its deadline.
    pub fn partial(&self) -> bool {
        self.interrupted.is_some() || self.deadline.is_some()
    }

    /// The fewest and most operations that can have been applied: exact for channel (the
    /// owner counts), otherwise the workers' published counts plus what a worker stopped
    /// mid-chunk may have done since its last count.
    pub fn applied_range(&self, plan: &Plan) -> (u64, u64) {
        partial::worker_ranges(plan, self).iter().fold((0, 0), |(a, b), (lo, hi)| (a + lo, b + hi))
    }
}

/// The verdict on the final value, as reports print it and JSON carries it (`within_bound`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The final value is the planner's, bit for bit (or, `set`, one of the operands), and the
    /// check would have seen one lost update.
    Correct,
    /// The final value is within the check's interval (the rounding bound of any order), or, for
    /// a run that stopped early, is the value of a count within the range of operations it
    /// can have applied (a range that can hide lost updates), or, over Redis, the value of the
    /// acknowledged operations plus some of the ambiguous ones: not shown to be the value of a
    /// correct run, only consistent with one.
    WithinBound,
    /// With `none` (or the mutex over Redis without fencing) only: another value, one that some
    /// interleaving of the updates gives.
    LostUpdates,
    /// Over Redis, with commands resent after a timeout and nothing to refuse a resend (no
    /// `exactly_once`): the value of more operations than were planned, up to one more per
    /// resend: operations applied twice.
    DuplicatedUpdates,
    /// With `none`: the check accepts the value, but it cannot detect the loss of one update,
    /// so the run may have lost some. With any backend, for a run that stopped early, or over
    /// Redis with ambiguous operations: the value could not be checked against the operations
    /// that can have been applied (the reason says why; ambiguous ones that cannot be bounded).
    Inconclusive,
    /// With `none` only: the workers' windows never overlapped, so no race could occur (the
    /// value passes the check).
    NoRace,
    /// A value no interleaving explains, or any mismatch with a synchronised backend.
    Wrong,
}

impl Verdict {
    pub const ALL: [Verdict; 7] = [
        Verdict::Correct,
        Verdict::WithinBound,
        Verdict::LostUpdates,
        Verdict::DuplicatedUpdates,
        Verdict::Inconclusive,
        Verdict::NoRace,
        Verdict::Wrong,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Correct => "correct",
            Verdict::WithinBound => "within_bound",
            Verdict::LostUpdates => "lost_updates",
            Verdict::DuplicatedUpdates => "duplicated_updates",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NoRace => "no_race",
            Verdict::Wrong => "wrong",
        }
    }

    pub fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.name() == name)
    }

    /// The value passed a check that holds it to a correct run's: `correct` or `within_bound`.
    pub fn passed(self) -> bool {
        matches!(self, Verdict::Correct | Verdict::WithinBound)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub verdict: Verdict,
    /// Why the verdict is `within_bound`, `inconclusive` or `no_race`: what the check could not
    /// detect, or that no race could occur.
    pub reason: Option<String>,
    /// How many updates did not survive; `None` when that cannot be counted, with the reason.
    pub lost_updates: Option<u64>,
    pub lost_updates_reason: Option<String>,
    /// How many operations were applied twice (`duplicated_updates`); `None` when none was
    /// shown or the count cannot be told, with the reason.
    pub duplicated_updates: Option<u64>,
    pub duplicated_updates_reason: Option<String>,
    /// Over Redis: the operations whose every send timed out, and how many of them the final
    /// value shows applied.
    pub ambiguous: Option<Ambiguity>,
    /// A run that did not apply every operation (a worker failed, a signal, the deadline): the
    /// operations applied (`min..=max`), and what the value was checked against.
    pub applied: Option<(u64, u64)>,
    pub partial_check: Option<String>,
    /// A partial run: what the value was held to instead of the planned check.
    pub partial_expected: Option<String>,
    /// A partial run with a synchronised backend: the number of applied operations the value
    /// shows, when exactly one count in the range gives it (more precise than the counts).
    pub established: Option<u64>,
    /// A partial run: what the check could not detect (lost updates hidden in the range).
    pub limits: Option<String>,
    /// How long at least two workers' windows (from a worker's first operation to its last)
    /// overlapped, in seconds; `None` when a worker's window is not known (it failed).
    pub overlap_seconds: Option<f64>,
}

impl Outcome {
    /// How long at least two workers' windows overlapped, in seconds: a race needs this to be
    /// more than zero, though an overlap does not prove that two workers ran at once.
    /// `None` when a worker's window is not known (it failed, or the run stopped early).
    pub fn window_overlap(&self) -> Option<f64> {
        if self.partial() || self.failed_workers().next().is_some() {
            return None;
        }
        let mut edges: Vec<(f64, i32)> = Vec::with_capacity(self.workers.len() * 2);
        for w in &self.workers {
            if w.ended < w.started {
                return None;
            }
            edges.push((w.started, 1));
            edges.push((w.ended, -1));
        }
        // Ends before starts at one instant: touching windows do not overlap.
        edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let (mut open, mut since, mut overlap) = (0, 0.0, 0.0);
        for (t, step) in edges {
            if open >= 2 {
                overlap += t - since;
            }
            open += step;
            since = t;
        }
        Some(overlap)
    }
}

/// Judges a run: a complete one against the planner's value; one that stopped early (a failed
/// worker, a signal, the deadline) against the values its applied operations can give.
pub fn judge_run(plan: &Plan, outcome: &Outcome) -> Judgement {
    let overlap = outcome.window_overlap();
    let complete = !outcome.partial() && outcome.failed_workers().next().is_none();
    let ambiguous: u64 = outcome.workers.iter().map(|w| w.ambiguous).sum();
    if complete && ambiguous > 0 {
        return ambiguous::judge_ambiguous(plan, outcome, ambiguous, overlap);
    }
    if complete {
        return judge_value(plan, outcome.final_value, overlap, ambiguous::unchecked_resends(plan, outcome));
    }
    let mut judgement = partial::judge_partial(plan, outcome, overlap);
    if ambiguous > 0 {
        judgement.ambiguous = Some(Ambiguity {
            operations: ambiguous,
            acknowledged: outcome.applied().saturating_sub(ambiguous),
            applied: None,
        });
    }
    judgement
}

/// Whether the backend keeps every update: a synchronised one, but not the mutex over Redis
/// without fencing, whose holder, paused past its lease, writes over the next holder's updates.
pub(crate) fn keeps_updates(plan: &Plan) -> bool {
    let unfenced =
        plan.engine.redis().is_some_and(|r| !r.fencing) && plan.backend.kind() == crate::names::BackendKind::Mutex;
    plan.backend.kind().synchronised() && !unfenced
}

/// Judges a final value without the run's windows (Python's side of `compare-python`).
pub fn judge(plan: &Plan, final_value: Value) -> Judgement {
    judge_value(plan, final_value, None, 0)
}

/// A value the check accepts: `correct`, unless the check is an interval (`within_bound`), or,
/// with `none`, the workers never overlapped (`no_race`) or the check could not have seen a
/// lost update (`inconclusive`).
fn accepted(plan: &Plan, overlap: Option<f64>) -> (Verdict, Option<String>) {
    let unsynchronised = !keeps_updates(plan);
    let blind = plan.check.blind.as_deref();
    if unsynchronised && overlap == Some(0.0) {
        let why = if plan.workers == 1 { "one worker" } else { "the workers' windows never overlapped" };
        return (Verdict::NoRace, Some(format!("{why}: no race could occur")));
    }
    if let (true, Some(blind)) = (unsynchronised, blind) {
        return (Verdict::Inconclusive, Some(format!("the check cannot detect a lost update: {blind}")));
    }
    if let Some((lo, hi)) = plan.check.interval() {
        let what = format!(
            "the value is within [{lo:?}, {hi:?}], the rounding bound of any order: the interval cannot tell one order's roundings from another's"
        );
        return (Verdict::WithinBound, Some(blind.map_or(what.clone(), |b| format!("{what}; {b}"))));
    }
    (Verdict::Correct, blind.map(|b| format!("the check cannot detect a lost update: {b}")))
}

/// Compares the final value with the planner's check and, when it fails, asks how many
/// updates would explain it: fewer (lost), or more, up to one more per unchecked resend
/// (duplicated; `resends`).
fn judge_value(plan: &Plan, final_value: Value, overlap: Option<f64>, resends: u64) -> Judgement {
    let judgement = |verdict, reason, lost_updates, lost_updates_reason| Judgement {
        verdict,
        reason,
        lost_updates,
        lost_updates_reason,
        duplicated_updates: None,
        duplicated_updates_reason: None,
        ambiguous: None,
        applied: None,
        partial_check: None,
        partial_expected: None,
        established: None,
        limits: None,
        overlap_seconds: overlap,
    };
    if plan.check.accepts(final_value, plan.expected) {
        let (verdict, reason) = accepted(plan, overlap);
        // No lost update: none could occur, or the check would have seen one.
        let none_lost = verdict == Verdict::NoRace || (verdict.passed() && plan.check.blind.is_none());
        return if none_lost {
            judgement(verdict, reason, Some(0), None)
        } else {
            judgement(verdict, reason.clone(), None, reason)
        };
    }
    if plan.operands.is_some() {
        // Different operands per worker: which updates were lost cannot be told from the value.
        let verdict = if keeps_updates(plan) { Verdict::Wrong } else { Verdict::LostUpdates };
        let reason = format!("the final value fails the check ({})", plan.check.describe());
        return judgement(verdict, None, None, Some(reason));
    }
    let synchronised = keeps_updates(plan);
    let doubled = || ambiguous::duplicated(plan, final_value, resends, &judgement(Verdict::Wrong, None, None, None));
    if synchronised && let Some(j) = doubled() {
        return j;
    }
    let total = plan.total_ops();
    let (low, high) = plan.reachable_depths();
    // With a synchronised backend any mismatch is wrong; still say how far off it is.
    let (kmin, reachable_by_race) = if keeps_updates(plan) { (0, false) } else { (low, true) };
    let found = depth(&plan.operation, plan.initial, final_value, kmin, high);
    let verdict = match found {
        Depth::Exactly(_) | Depth::Several if reachable_by_race => Verdict::LostUpdates,
        _ if !synchronised && let Some(j) = doubled() => return j,
        _ => Verdict::Wrong,
    };
    let (lost, reason) = match found {
        Depth::Exactly(k) => (Some(total - k), None),
        Depth::Several => (None, Some("several numbers of surviving updates give this value".to_string())),
        Depth::Unreachable => (None, Some(format!("no number of updates between {kmin} and {high} gives this value"))),
        Depth::Unknown => (None, Some("the search for the number of surviving updates was too long".to_string())),
    };
    judgement(verdict, None, lost, reason)
}
