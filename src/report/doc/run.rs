//! The run report: what `runner JOB --format json` prints for one run, and each counted run of
//! a sweep's cell.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Serialize, Serializer};

use super::{AppliedRange, Host, Job, Num, RunnerHeader, SchemaVersion, constant};
use crate::error::Interrupt;
use crate::names::{Schedule, Start, Transport};
use crate::outcome::Verdict;
use crate::report::RunReport;
use crate::spec::ExpectOutcome;

constant!(Nanoseconds, "ns");
constant!(Kibibytes, "KiB");

/// One run of a job.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields, title = "A run of a job")]
pub(crate) struct Run {
    pub schema_version: SchemaVersion,
    pub runner: RunnerHeader,
    /// runner's own pid: the parent's track in the trace.
    pub runner_pid: u32,
    /// The job file as named on the command line (`-` for standard input).
    pub file: String,
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub file_sha256: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub host: Host,
    pub job: Job,
    #[serde(rename = "final")]
    pub final_value: Num,
    pub final_display: String,
    /// How the final value was checked: exactly one value, one of a set, an interval, or, for
    /// a run that stopped early, the values of the operations it applied (`applied`).
    pub expected: super::Expected,
    /// True when a signal or the deadline stopped the run before its end.
    pub partial: bool,
    pub interrupted_by: Option<Signal>,
    /// The deadline, in seconds, that stopped the run.
    pub deadline_seconds: Option<f64>,
    /// How runner stopped the run at its deadline, as it measured it.
    pub deadline_stop: Option<DeadlineStop>,
    /// A run that did not apply every operation: how many it applied.
    pub applied_range: Option<AppliedRange>,
    /// A run that did not apply every operation: what the value was checked against.
    pub partial_check: Option<String>,
    /// mutex: a worker died holding the lock: the first such recovery (all of them are in
    /// `recoveries`).
    pub recovery: Option<Recovery>,
    /// mutex: every lock taken over from a worker that died holding it, in the order they
    /// happened (at most one per worker: each dies once). Empty for the other backends.
    pub recoveries: Vec<Recovery>,
    pub expect_outcome: Option<ExpectOutcome>,
    /// What the run came to, in the terms of `expect_outcome`.
    pub outcome: Happened,
    /// Whether `outcome` is the one the job declares in `expect_outcome` with a value that
    /// checks out (a `wrong` verdict makes it false), or, declaring none, `completed` (a wrong
    /// value then is the verdict's to say): false means the run failed (a worker was lost, the
    /// deadline passed, the declared outcome did not happen or its value is wrong). Null only
    /// when a signal interrupted the run (`interrupted_by`): no outcome to compare.
    pub outcome_as_expected: Option<bool>,
    pub verdict: Verdict,
    /// Why the verdict is `within_bound`, `inconclusive`, `no_race` or `duplicated_updates` (or
    /// what a `correct` check could not detect); null otherwise.
    pub verdict_reason: Option<String>,
    /// The verdict is `correct`.
    pub correct: bool,
    /// How long at least two workers' windows (from a worker's first operation to its last)
    /// overlapped, in seconds: window overlap, not proof that they ran at once on two CPUs.
    /// Null when a worker's window is not known (it failed, or the run stopped early).
    pub window_overlap_seconds: Option<f64>,
    pub lost_updates: Option<u64>,
    pub lost_updates_reason: Option<String>,
    #[schemars(range(min = 1))]
    pub total_operations: u64,
    /// Operations applied: the count the check established when it is more precise than the
    /// workers' published counts (a partial run: see `applied_range`).
    pub applied_operations: u64,
    pub ops_per_second: f64,
    /// From the barrier's release (`start: forked`: the first worker's start) to the last
    /// worker's end (channel: the owner's).
    pub elapsed_seconds: f64,
    /// Several hosts: the clock the workers' times (`elapsed_seconds`) are on; absent on one
    /// machine (runner's own clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_clock: Option<super::hosts::WindowClock>,
    /// The whole run, from runner's start to the report.
    pub wall_seconds: f64,
    #[schemars(length(min = 1))]
    pub workers: Vec<Worker>,
    pub latency: Latency,
    pub fairness: Option<Fairness>,
    /// Failed compare-exchanges of every worker (atomic).
    pub retries: u64,
    pub memory: Memory,
    pub phases: Phases,
    pub context_switches: ContextSwitches,
    pub cpu: super::measures::RunCpu,
    /// Things the user should know that are not errors.
    pub notices: Vec<String>,
    pub order: Order,
    /// channel only: what the owner received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Redis only: what became of the operations (resent, refused, ambiguous, applied twice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis: Option<super::redis::Redis>,
    /// Redis only: each host, its workers, its round trip and clock (one, this machine, without
    /// `hosts:`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<super::hosts::RunHost>,
    /// A single run's outputs (its trace, its exports) that could not be written: the report
    /// stands, and the exit code is at least 2. Absent when every output was written (and in a
    /// sweep's runs: the sweep's document says it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unwritten: Vec<super::sweep::Unwritten>,
}

/// The signal that stopped a run.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
pub(crate) enum Signal {
    #[serde(rename = "SIGHUP")]
    Sighup,
    #[serde(rename = "SIGINT")]
    Sigint,
    #[serde(rename = "SIGQUIT")]
    Sigquit,
    #[serde(rename = "SIGTERM")]
    Sigterm,
}

impl From<Interrupt> for Signal {
    fn from(i: Interrupt) -> Signal {
        match i {
            Interrupt::Sighup => Signal::Sighup,
            Interrupt::Sigint => Signal::Sigint,
            Interrupt::Sigquit => Signal::Sigquit,
            Interrupt::Sigterm => Signal::Sigterm,
        }
    }
}

/// What a run came to.
#[derive(Clone, Copy, Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Happened {
    /// Every worker ended well and nothing stopped the run.
    Completed,
    /// A worker died holding the lock, and the lock and the value were recovered.
    Recovered,
    /// A worker failed (killed, panicked, exited non-zero) and no lock was recovered.
    WorkerFailed,
    /// The deadline stopped the run.
    Deadline,
    /// A signal stopped the run.
    Interrupted,
}

impl From<crate::outcome::Happened> for Happened {
    fn from(h: crate::outcome::Happened) -> Happened {
        use crate::outcome::Happened as H;
        match h {
            H::Completed => Happened::Completed,
            H::Recovered => Happened::Recovered,
            H::WorkerFailed => Happened::WorkerFailed,
            H::Deadline => Happened::Deadline,
            H::Interrupted => Happened::Interrupted,
        }
    }
}

/// How runner stopped a run at its deadline, as it measured it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct DeadlineStop {
    /// From the deadline to runner's SIGTERMs: how late the deadline was enforced (runner waits
    /// for the deadline itself; the rest is how soon the system ran runner again).
    pub late_seconds: f64,
    /// Workers still running at the deadline, which got SIGTERM.
    pub terminated: u32,
    /// Of those, the ones still running after the grace, which got SIGKILL (0: none needed it).
    pub killed: u32,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Recovery {
    /// The worker that died holding the lock; null when unknown.
    pub died_holding_lock: Option<i64>,
    pub recovered_by: Recoverer,
    /// Whether the dead holder had marked an update (a fault inside the lock) and the
    /// recoverer put the value back as it was before it (that operation is not applied).
    /// False: no update was marked, and the holder's last update may or may not have been
    /// written.
    pub restored: bool,
}

/// Who took a dead holder's lock over: a worker's index, or `"runner"` after every worker had
/// ended.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Recoverer {
    Worker(i64),
    Runner,
}

impl Serialize for Recoverer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Recoverer::Worker(index) => s.serialize_i64(*index),
            Recoverer::Runner => s.serialize_str("runner"),
        }
    }
}

impl JsonSchema for Recoverer {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Recoverer".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The worker (its index) that took the lock over, or runner after every worker had ended.",
            "oneOf": [{ "type": "integer", "minimum": 0 }, { "const": "runner" }]
        })
    }
}

/// One worker process.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Worker {
    pub index: u32,
    pub pid: i32,
    /// Operations completed (channel: sent).
    pub ops: u64,
    /// From its first operation to its last; null when it was never measured (killed before it
    /// published its end), as are `ended_seconds` and `ops_per_second`.
    pub seconds: Option<f64>,
    /// When it started, in seconds after the barrier's release.
    pub started_seconds: f64,
    pub ended_seconds: Option<f64>,
    pub ops_per_second: Option<f64>,
    /// Failed compare-exchanges (atomic).
    pub retries: u64,
    /// Locks taken over from a dead owner (mutex).
    pub recoveries: u64,
    pub exit: Exit,
    /// Its peak resident memory (KiB, from `wait4`), which counts the pages it shared with
    /// runner from the fork on; 0 when it could not be reaped.
    pub peak_memory_kib: u64,
    /// Its CPU time and context switches from its fork to its exit (from `wait4`, whether
    /// runner reaped it mid-run or at the end, killed or not); null when it could not be reaped.
    pub cpu: Option<super::measures::Cpu>,
}

/// How a worker ended: its exit status, or the signal that killed it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Exit {
    pub code: Option<i32>,
    /// `SIGKILL`.
    pub signal: Option<String>,
}

#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Latency {
    pub unit: Nanoseconds,
    /// One operation (channel: one message) in this many is timed.
    #[schemars(range(min = 1))]
    pub sample_every: u64,
    /// One operation; for channel a message's send time over its operations.
    pub op: Option<crate::watch::stats::Percentiles>,
    /// mutex: the wait for the lock.
    pub lock_wait: Option<crate::watch::stats::Percentiles>,
    /// With `--histogram` only: the histograms in full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub histogram: Option<super::measures::Histograms>,
}

/// How evenly the measured workers (the ones that published a time) shared the work; null with
/// fewer than two measured workers.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Fairness {
    /// Jain's index over the measured workers' ops/s: 1 when all are equal, 1/n when one did
    /// everything.
    #[schemars(range(min = 0.0, max = 1.000001))]
    pub jain: f64,
    /// Fastest over slowest worker's ops/s; null when the slowest did nothing.
    #[schemars(with = "Option<f64>")]
    pub max_min_ratio: f64,
    /// From the first measured worker's end to the last's.
    pub finish_spread_seconds: f64,
    /// The workers these figures cover, of `workers`.
    #[schemars(range(min = 2))]
    pub workers_measured: u32,
    pub workers: u32,
}

/// Peak resident memory (KiB): runner's own during this run (its `VmHWM`, which starts afresh
/// at exec and is reset before each later run of the same process: not inherited from whatever
/// started runner, nor from earlier runs), and the largest
/// of this run's workers' own peaks (each from `wait4`, counting the pages it shared with
/// runner from the fork on).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Memory {
    pub unit: Kibibytes,
    pub runner_peak: u64,
    pub worker_peak: u64,
    /// runner's resident memory when the run began: part of `runner_peak`, and shared by
    /// every worker from its fork on (part of `worker_peak`).
    pub runner_at_start: u64,
}

/// Where the run's time went, measured by runner: start-up (setup, fork, arrival at the
/// barrier: 0 with start forked), the work window, and reaping after the last worker's end.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Phases {
    pub startup_seconds: f64,
    pub setup_seconds: f64,
    pub fork_seconds: f64,
    pub arrive_seconds: f64,
    pub work_seconds: f64,
    pub reap_seconds: f64,
}

/// Context switches of the run's reaped workers and the channel's waker, from the kernel (each
/// one's `wait4`, summed): voluntary (waiting) and involuntary (preempted).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct ContextSwitches {
    pub voluntary: u64,
    pub involuntary: u64,
}

/// Whether the order of the operations matters, and how the final value was checked.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Order {
    /// Whether another order of the operations could give another result (per-worker
    /// operands, an operation that does not commute).
    pub depends_on_order: bool,
    pub schedule: Schedule,
    pub start: Start,
}

/// What the channel's owner received.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub(crate) struct Channel {
    pub transport: Transport,
    /// Whether the workers ran at idle priority (SCHED_IDLE) so that the owner kept a core: the
    /// pipe transport with messages of 2 KiB or more.
    pub idle_workers: bool,
    pub messages: u64,
    pub bytes: u64,
    /// Operations applied, per worker.
    pub applied: Vec<u64>,
}

impl Run {
    pub fn new(r: &RunReport<'_>) -> Run {
        let (plan, outcome, judgement) = (r.plan, r.outcome, r.judgement);
        let expectation = crate::outcome::Expectation::of(plan, outcome, judgement.verdict);
        Run {
            schema_version: SchemaVersion,
            runner: RunnerHeader::this(),
            runner_pid: std::process::id(),
            file: plan.file.clone(),
            file_sha256: r.provenance.file_sha256.clone(),
            started_at: r.provenance.started_at.clone(),
            host: Host::this(),
            job: Job::new(plan),
            final_value: Num(outcome.final_value),
            final_display: outcome.final_value.to_string(),
            expected: super::Expected::of_run(plan, judgement),
            partial: outcome.partial(),
            interrupted_by: outcome.interrupted.map(Signal::from),
            deadline_seconds: outcome.deadline,
            deadline_stop: outcome.deadline_stop.map(|d| DeadlineStop {
                late_seconds: d.late_seconds,
                terminated: d.terminated,
                killed: d.killed,
            }),
            applied_range: judgement.applied.map(|(min, max)| AppliedRange { min, max }),
            partial_check: judgement.partial_check.clone(),
            recovery: outcome.recoveries.first().copied().map(recovery),
            recoveries: outcome.recoveries.iter().copied().map(recovery).collect(),
            expect_outcome: plan.expect_outcome,
            outcome: expectation.happened.into(),
            outcome_as_expected: expectation.as_expected,
            verdict: judgement.verdict,
            verdict_reason: judgement.reason.clone(),
            window_overlap_seconds: judgement.overlap_seconds,
            correct: judgement.verdict == Verdict::Correct,
            lost_updates: judgement.lost_updates,
            lost_updates_reason: judgement.lost_updates_reason.clone(),
            total_operations: plan.total_ops(),
            applied_operations: judgement.established.unwrap_or(outcome.applied()),
            ops_per_second: outcome.rate_of(judgement.established.unwrap_or(outcome.applied())),
            elapsed_seconds: outcome.elapsed_seconds,
            window_clock: super::hosts::window_clock(outcome),
            wall_seconds: r.wall_seconds,
            workers: outcome.workers.iter().map(worker).collect(),
            latency: Latency {
                unit: Nanoseconds,
                sample_every: outcome.latency.sample_every,
                op: outcome.latency.op.clone(),
                lock_wait: outcome.latency.lock_wait.clone(),
                histogram: outcome.latency.histogram.as_ref().map(Into::into),
            },
            fairness: outcome.fairness().map(|f| Fairness {
                jain: f.jain,
                max_min_ratio: f.max_min_ratio,
                finish_spread_seconds: f.finish_spread_seconds,
                workers_measured: f.measured as u32,
                workers: f.workers as u32,
            }),
            retries: outcome.workers.iter().map(|w| w.retries).sum(),
            memory: Memory {
                unit: Kibibytes,
                runner_peak: outcome.memory_kib.0,
                worker_peak: outcome.memory_kib.1,
                runner_at_start: outcome.memory_start_kib,
            },
            phases: phases(outcome),
            context_switches: ContextSwitches {
                voluntary: outcome.phases.voluntary_switches,
                involuntary: outcome.phases.involuntary_switches,
            },
            cpu: super::measures::RunCpu::of(outcome),
            notices: plan.notices.clone(),
            order: Order { depends_on_order: plan.order_matters, schedule: plan.schedule, start: plan.start },
            channel: outcome.served.as_ref().map(|served| Channel {
                transport: plan.backend.transport().unwrap_or_default(),
                idle_workers: plan.idle_workers(),
                messages: served.messages,
                bytes: served.bytes,
                applied: served.applied.clone(),
            }),
            redis: super::redis::Redis::of(plan, outcome, judgement),
            hosts: super::hosts::hosts(outcome),
            unwritten: Vec::new(),
        }
    }
}

/// The outcome's typed recovery, as the documents write it.
pub(crate) fn recovery(r: crate::sync::Recovery) -> Recovery {
    use crate::sync::Holder;
    Recovery {
        died_holding_lock: Some(r.died_holding_lock as i64),
        recovered_by: match r.recovered_by {
            Holder::Worker(i) => Recoverer::Worker(i as i64),
            Holder::Runner => Recoverer::Runner,
        },
        restored: r.restored,
    }
}

fn worker(w: &crate::outcome::WorkerOutcome) -> Worker {
    Worker {
        index: w.index,
        pid: w.pid,
        ops: w.ops,
        seconds: w.measured().then_some(w.seconds),
        started_seconds: w.started,
        ended_seconds: w.ended_seconds(),
        ops_per_second: w.ops_per_second(),
        retries: w.retries,
        recoveries: w.recoveries,
        exit: Exit { code: w.exit.code, signal: w.exit.signal.clone() },
        peak_memory_kib: w.peak_kib,
        cpu: w.cpu.map(Into::into),
    }
}

fn phases(outcome: &crate::outcome::Outcome) -> Phases {
    let p = &outcome.phases;
    Phases {
        startup_seconds: p.startup_seconds(),
        setup_seconds: p.setup_seconds,
        fork_seconds: p.fork_seconds,
        arrive_seconds: p.arrive_seconds,
        work_seconds: outcome.elapsed_seconds,
        reap_seconds: p.reap_seconds,
    }
}
