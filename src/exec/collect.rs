//! The last phase: reaping every worker, reading what they wrote into the shared mapping (their
//! slots, histograms and trace events), the backend's final value, and the window arithmetic:
//! when the run began and ended, for the rates, and each worker's times within it. Also the
//! run's memory: runner's own peak during the run (`VmHWM`, its high-water mark reset when the
//! run began) and each worker's (from `wait4`), never `ru_maxrss` of runner itself, which Linux
//! carries over `exec` from whatever started runner, nor `RUSAGE_CHILDREN`, which accumulates
//! over every child runner ever reaped. And the run's CPU: each worker's time and context
//! switches from the `wait4` that reaped it (summed for the run, with the channel's waker's for
//! the run's switches), and runner's own from two readings of `getrusage(RUSAGE_SELF)`, when
//! the run began and once its workers are reaped.

use super::error::ExecError;
use std::sync::atomic::{AtomicBool, Ordering};

use super::supervise::Ended;
use crate::clock::now_ns;
use crate::outcome::{Cpu, DeadlineStop, Exit, Histograms, Latency, Outcome, Phases, RunCpu, WorkerOutcome};
use crate::plan::Plan;
use crate::shm::Shared;
use crate::sync::mutex;
use crate::watch::{hist, ring, stats};

/// What the run keeps of its start for its collection: when it began, runner's own usage then,
/// and whether the report asks for the histograms in full.
pub(super) struct Begun {
    pub(super) at: u64,
    pub(super) runner_cpu: Option<Cpu>,
    pub(super) histogram: bool,
}

/// Reaps the workers of an ended run and makes its outcome.
pub(super) fn collect(plan: &Plan, ended: Ended, begun: Begun) -> Result<Outcome, ExecError> {
    // Once every worker's work is over and written down, its slot no longer changes: read them
    // while the dismissed workers exit (each exit is tens of microseconds of the kernel's time).
    // A stopped run's workers are reaped first: a killed worker's slot may have been mid-update.
    let stopped = ended.interrupted.is_some() || ended.expired;
    let early = (!stopped).then(|| Written::read(&ended.shared));
    let (pids, exits, died) = ended.reaper.wait_all();
    let moments = super::supervise::with_deaths(ended.moments, &died, &exits);
    let reaped = now_ns();
    let runner_cpu = runner_usage().zip(begun.runner_cpu).map(|(now, then)| now.since(then));
    tracing::info!(failed = exits.iter().filter(|g| !g.exit.success()).count(), "every worker reaped");
    drop(ended.waiting);
    let written = early.unwrap_or_else(|| Written::read(&ended.shared));
    let (final_value, refused) = ended.keeper.finish(&ended.shared).map_err(ExecError::Backend)?;
    let hosts = super::remote::clock::this_machine(plan);
    let together = plan.start == crate::names::Start::Together;
    // The window opens at the release, or (forked) at the first worker's start.
    let origin = if together {
        ended.release
    } else {
        written.slots.iter().map(|s| s.start).filter(|&t| t > 0).min().unwrap_or(ended.first_fork)
    };
    // A stopped run ends when runner stopped it (its killed workers wrote no end).
    let last_end = written
        .slots
        .iter()
        .map(|s| s.end)
        .fold(if ended.served.is_some() || stopped { ended.owner_end } else { origin }, u64::max);
    let largest_worker = exits.iter().map(|g| g.peak_kib).max().unwrap_or(0);
    let cpus: Vec<Cpu> = exits.iter().filter_map(|g| g.cpu).collect();
    let workers_cpu = cpus.iter().copied().reduce(Cpu::plus);
    let children = workers_cpu.into_iter().chain(ended.waker_cpu).fold(Cpu::default(), Cpu::plus);
    // After `finish`: runner's own recovery, if it made one, is in the list.
    let recoveries = mutex::recoveries(&ended.shared);
    let recovered_by = |index: usize| {
        recoveries.iter().filter(|r| r.recovered_by == crate::sync::Holder::Worker(index as u32)).count() as u64
    };
    let workers = pids
        .iter()
        .zip(exits)
        .zip(&written.slots)
        .enumerate()
        .map(|(index, ((pid, gone), slot))| WorkerOutcome {
            peak_kib: gone.peak_kib,
            cpu: gone.cpu,
            recoveries: recovered_by(index),
            ..slot.outcome(index as u32, pid.as_raw(), gone.exit, origin)
        })
        .collect();
    let events = pids.iter().map(|pid| pid.as_raw()).zip(written.events).collect();
    let seconds = |from: u64, to: u64| to.saturating_sub(from) as f64 / 1e9;
    let mutex = plan.backend == crate::plan::BackendPlan::Mutex;
    Ok(Outcome {
        final_value,
        refused,
        workers,
        elapsed_seconds: seconds(origin, last_end),
        memory_kib: (runner_peak_kib(), largest_worker),
        memory_start_kib: ended.held_kib,
        served: ended.served,
        latency: Latency {
            sample_every: ended.stride,
            op: stats::percentiles(&written.op),
            lock_wait: if mutex { stats::percentiles(&written.wait) } else { None },
            histogram: begun.histogram.then(|| Histograms {
                op: stats::bins(&written.op),
                lock_wait: mutex.then(|| stats::bins(&written.wait)),
            }),
        },
        events,
        events_lost: written.events_lost,
        interrupted: ended.interrupted,
        deadline: (ended.expired && ended.interrupted.is_none()).then_some(plan.deadline.timeout_ns as f64 / 1e9),
        deadline_stop: ended.terminated.filter(|_| ended.interrupted.is_none()).map(|t| DeadlineStop {
            late_seconds: t.at.saturating_sub(ended.deadline) as f64 / 1e9,
            terminated: t.termed,
            killed: t.killed,
        }),
        recoveries,
        moments,
        stride: ended.stride,
        phases: Phases {
            setup_seconds: seconds(begun.at, ended.first_fork),
            fork_seconds: seconds(ended.first_fork, ended.forked),
            arrive_seconds: seconds(ended.forked, ended.release),
            reap_seconds: seconds(last_end, reaped),
            voluntary_switches: children.voluntary_switches,
            involuntary_switches: children.involuntary_switches,
        },
        cpu: RunCpu { workers: workers_cpu, workers_reaped: cpus.len() as u32, runner: runner_cpu },
        hosts,
        window_clock: crate::outcome::WindowClock::Local,
    })
}

/// What the workers wrote into the shared mapping: their slots, latency histograms and trace
/// events, by worker index.
struct Written {
    slots: Vec<SlotCopy>,
    op: hdrhistogram::Histogram<u32>,
    wait: hdrhistogram::Histogram<u32>,
    events: Vec<Vec<crate::watch::ring::Event>>,
    /// Why the events were dropped (a copy that did not fit in memory).
    events_lost: Option<String>,
}

/// A worker's slot as it ended.
struct SlotCopy {
    start: u64,
    end: u64,
    ops: u64,
    retries: u64,
    resent: u64,
    ambiguous: u64,
}

impl Written {
    fn read(shared: &Shared) -> Written {
        let workers = shared.workers();
        let (mut op, mut wait) = (hist::merged(), hist::merged());
        let mut slots = Vec::with_capacity(workers);
        let mut events = Vec::with_capacity(workers);
        for index in 0..workers {
            let slot = shared.slot(index);
            slots.push(SlotCopy {
                start: slot.start_ns.load(Ordering::Relaxed),
                end: slot.end_ns.load(Ordering::Relaxed),
                ops: slot.ops.load(Ordering::Relaxed),
                retries: slot.retries.load(Ordering::Relaxed),
                resent: slot.resent.load(Ordering::Relaxed).into(),
                ambiguous: slot.ambiguous.load(Ordering::Relaxed).into(),
            });
            hist::import(shared.hist(index), 0, &mut op);
            hist::import(shared.hist(index), 1, &mut wait);
            events.push(ring::read(shared.ring(index)));
        }
        // Events that did not fit are dropped, all of them (a trace without some workers' events
        // would claim they did nothing), which frees what the others took: the report goes on.
        let events_lost = events.iter().find_map(|e| e.as_ref().err().cloned());
        let events = match events_lost {
            None => events.into_iter().map(Result::unwrap_or_default).collect(),
            Some(_) => vec![Vec::new(); workers],
        };
        Written { slots, op, wait, events, events_lost }
    }
}

/// runner's own CPU time and context switches so far (`getrusage(RUSAGE_SELF)`: its own, none
/// of its children's); `None` when the call fails.
pub(super) fn runner_usage() -> Option<Cpu> {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_SELF).ok().map(|u| Cpu::of(u.as_ref()))
}

/// Makes runner's high-water mark of resident memory start from what it holds now (Linux 4.0
/// and later), so that [`runner_peak_kib`] is the peak of this run, not of an earlier run in
/// the same process. `VmHWM` starts afresh at `exec`, so the first run of a process needs no
/// reset (its peak then counts from runner's start, the job file's reading included), which
/// saves the tutorial a page-table walk. Where it cannot be reset, the peak is the process's so
/// far. What runner holds when the run begins is read just before the first fork, in the same
/// read as the thread count (`fork::prepare`).
pub(super) fn reset_peak() {
    static RAN_BEFORE: AtomicBool = AtomicBool::new(false);
    if RAN_BEFORE.swap(true, Ordering::Relaxed) {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
}

/// runner's own peak resident memory (KiB) since [`reset_peak`]: `VmHWM` of its address space,
/// which starts afresh at `exec` (unlike `ru_maxrss`, which keeps the peak of the process that
/// ran runner: `cargo run`, a shell, Python holding 500 MB). 0 where /proc cannot say.
fn runner_peak_kib() -> u64 {
    super::status::read().map_or(0, |s| s.hwm_kib)
}

impl SlotCopy {
    /// Worker `index`'s outcome, its times from `origin`.
    fn outcome(&self, index: u32, pid: i32, exit: Exit, origin: u64) -> WorkerOutcome {
        WorkerOutcome {
            index,
            pid,
            ops: self.ops,
            seconds: self.end.saturating_sub(self.start) as f64 / 1e9,
            started: self.start.saturating_sub(origin) as f64 / 1e9,
            ended: self.end.saturating_sub(origin) as f64 / 1e9,
            exit,
            retries: self.retries,
            resent: self.resent,
            ambiguous: self.ambiguous,
            recoveries: 0,
            peak_kib: 0,
            cpu: None,
        }
    }
}
