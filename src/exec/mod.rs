//! Execution: a [`Plan`] becomes processes. Maps the shared memory, sets the backend up, forks
//! the workers, releases them together (or, with `start: forked`, lets each start as it is
//! forked), lets the backend's owner serve, reaps every worker and collects an [`Outcome`].
//!
//! Owns: forking (only in `fork.rs`), the start barrier, supervision with `waitpid`. Does not
//! own: the mechanisms (see `sync`), judging the value (see `outcome`) or printing anything but
//! a worker's own error.

pub mod barrier;
pub(crate) mod fork;
pub mod interrupt;
pub mod lifeline;
mod worker;

use std::sync::atomic::Ordering;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{Pid, getpid};

use crate::clock::now_ns;
use crate::error::Error;
use crate::host::allowed_cpus;
use crate::outcome::{Exit, Latency, Outcome, Phases, WorkerOutcome};
use crate::plan::Plan;
use crate::shm::Shared;
use crate::sync;
use crate::watch::Watch;
use crate::watch::{hist, ring, stats};
use barrier::Barrier;

/// How often runner looks at the workers' progress while it waits.
const PROGRESS_EVERY_MS: u16 = 100;

/// Runs the plan on forked workers and reports what happened. `progress` is told the
/// operations done so far, every tenth of a second or so while the workers run. `interrupts`
/// (made once for a whole sweep) carries SIGINT and SIGTERM.
pub fn execute(
    plan: &Plan,
    watch: &Watch,
    progress: &mut dyn FnMut(u64),
    interrupts: &interrupt::Interrupts,
) -> Result<Outcome, Error> {
    let begun = now_ns();
    let switches_before = child_switches();
    let setup = tracing::info_span!("set up the backend").entered();
    let workers = plan.workers as usize;
    let shared = Shared::new(workers, crate::watch::areas(plan, watch))
        .map_err(|e| Error::Setup(format!("cannot map shared memory: {e}")))?;
    let stride = crate::watch::stride(plan, watch);
    let trace_ops = watch.trace.is_some() && watch.ops;
    let applied_every = trace_ops.then(|| {
        let messages = plan.workers as u64 * plan.messages_per_worker();
        messages.div_ceil(crate::watch::TRACE_OPS_TOTAL).max(1)
    });
    let mut backend = sync::setup(plan, &shared, applied_every).map_err(Error::Setup)?;
    // The waker is forked first, before the barrier and the lifeline exist, so that it holds
    // neither (the lifeline's end of file must come when the last worker ends).
    let parent = getpid();
    let waker = match backend.waker() {
        Some(body) => {
            let ready = fork::prepare().map_err(Error::Setup)?;
            let spawned = fork::spawn(&ready, || {
                interrupts.in_child();
                if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || nix::unistd::getppid() != parent {
                    return worker::EXIT_ORPHAN;
                }
                body()
            });
            Waker(Some(spawned.map_err(|e| Error::Fork(format!("cannot fork the channel's waker: {e}")))?))
        }
        None => Waker(None),
    };
    // `start: forked` has no barrier and no exit gate: each worker starts as it is forked and
    // exits when it is done.
    let together = plan.start == crate::names::Start::Together;
    let mut barrier = together
        .then(Barrier::new)
        .transpose()
        .map_err(|e| Error::Setup(format!("cannot create the start barrier: {e}")))?;
    let mut lifeline = lifeline::Lifeline::new().map_err(|e| Error::Setup(format!("cannot create a pipe: {e}")))?;
    let per_ns = if plan.work.is_none() { 0.0 } else { sync::pace::calibrate() };
    let pacing = sync::pace::Pacing::new(plan.work, plan.schedule, plan.workers, per_ns);
    let cpus = pinned_cpus(plan).map_err(Error::Setup)?;
    drop(setup);

    // Workers never touch `tracing` after the fork: the span below lives on in their copy of
    // memory, unused, until they `_exit`.
    let forking = tracing::info_span!("fork").entered();
    let first_fork = now_ns();
    fork::default_sigchld().map_err(|e| Error::Setup(format!("cannot restore SIGCHLD: {e}")))?;
    let ready = fork::prepare().map_err(Error::Setup)?;
    let mut workers_of = Reaper::with_capacity(workers);
    for index in 0..plan.workers {
        // `fork_fail_at`: this fork fails as the system would refuse it (RLIMIT_NPROC does not
        // bind root, so tests could not make it fail otherwise).
        if plan.fork_fail_at == Some(index + 1) {
            workers_of.stop();
            return Err(Error::Fork(format!(
                "cannot fork worker {index} of {workers}: EAGAIN (injected by fork_fail_at: {}); the {index} workers already forked were stopped and reaped",
                index + 1
            )));
        }
        let spawned = fork::spawn(&ready, || {
            interrupts.in_child();
            let order = sync::Order {
                index,
                iterations: plan.iterations,
                done_before: 0,
                operand: plan.operand_of(index),
                pacing,
            };
            let cpu = cpus.as_ref().map(|c| c[index as usize % c.len()]);
            let fault = plan.faults.iter().find(|f| f.worker == index).copied();
            let idle = plan.idle_workers();
            let cx = worker::Context { order, cpu, idle, fault, stride, trace_ops, parent, shared: &shared };
            worker::main(cx, &mut *backend, barrier.as_mut(), &mut lifeline)
        });
        match spawned {
            Ok(pid) => workers_of.add(pid),
            Err(e) => {
                workers_of.stop();
                return Err(Error::Fork(format!("cannot fork worker {index} of {workers}: {e}")));
            }
        }
    }
    backend.after_fork();
    lifeline.after_fork();
    let forked = now_ns();
    drop(forking);
    // The machine's description for the report, read now that the workers are on their way
    // (a few CPUID instructions, each an exit to the hypervisor on a virtual machine), rather
    // than before the first fork.
    let _ = crate::host::host();
    tracing::info!(workers, backend = plan.backend.name(), "forked");

    // Every worker has arrived or died once this returns; a read error only loses the wait.
    if let Some(barrier) = &mut barrier {
        let releasing = tracing::info_span!("barrier release").entered();
        let _ = barrier.wait_arrivals();
        // The phase ends at the release: once it happens the woken workers may take both cores.
        drop(releasing);
    }
    let release = now_ns();
    if let Some(barrier) = &mut barrier {
        barrier.release();
    }
    let waiting = tracing::info_span!("wait").entered();
    let done = || (0..workers).map(|i| shared.slot(i).ops.load(Ordering::Relaxed)).sum::<u64>();
    let mut last_tick = now_ns();
    // Progress now and then; false once the run is interrupted.
    let ordered = plan.schedule != crate::names::Schedule::Concurrent;
    let reaper = std::cell::RefCell::new(workers_of);
    // Forked workers are at work from their fork on.
    let deadline = if together { release } else { first_fork }.saturating_add(plan.deadline.timeout_ns);
    let expired = std::cell::Cell::new(false);
    let mut tick = || {
        let now = now_ns();
        if now >= deadline {
            expired.set(true);
            return false;
        }
        if now - last_tick >= PROGRESS_EVERY_MS as u64 * 1_000_000 {
            last_tick = now;
            progress(done());
            // With an ordered schedule the others would wait for a failed worker's turn forever.
            if ordered && reaper.borrow_mut().any_failed() {
                shared.abort().store(1, Ordering::Relaxed);
            }
        }
        interrupts.caught().is_none()
    };
    // A worker whose work is over waits to be dismissed: "alive" here means still at work.
    let served = backend.serve(workers, &mut || lifeline.working(), &mut tick);
    // The channel's owner is done once it has applied everything: the window ends here or at a
    // later worker's end.
    let owner_end = now_ns();
    let served = match served {
        Ok(served) => served,
        Err(e) => {
            reaper.into_inner().stop();
            return Err(Error::Setup(format!("channel owner: {e}")));
        }
    };
    // Every worker's work is over (and its slot written) once the lifeline ends; a channel's
    // worker may still be on its way back from its last send when the owner is done.
    loop {
        match lifeline.wait(PROGRESS_EVERY_MS, interrupts.fd()) {
            lifeline::Wake::Ended => break,
            lifeline::Wake::Interrupted if interrupts.caught().is_some() => break,
            _ => {
                if !tick() {
                    break;
                }
            }
        }
    }
    if let Some(barrier) = &mut barrier {
        barrier.dismiss();
    }
    drop(waker);
    let workers_of = reaper.into_inner();
    let owner_end = if served.is_some() { owner_end } else { now_ns() };
    let interrupted = interrupts.caught();
    let mut workers_of = workers_of;
    if let Some(signal) = interrupted {
        tracing::warn!(signal = signal.name(), "interrupted: stopping the workers");
        workers_of.kill_all();
    } else if expired.get() {
        tracing::warn!(seconds = plan.deadline.timeout_ns as f64 / 1e9, "deadline: stopping the workers");
        workers_of.terminate(plan.deadline.grace_ns, &|| interrupts.caught().is_some());
    }
    // Once every worker's work is over and written down, its slot no longer changes: read them
    // while the dismissed workers exit (each exit is tens of microseconds of the kernel's time).
    // A stopped run's workers are reaped first: a killed worker's slot may have been mid-update.
    let stopped = interrupted.is_some() || expired.get();
    let early = (!stopped).then(|| Written::read(&shared));
    let (pids, exits) = workers_of.wait_all();
    let reaped = now_ns();
    let switches = child_switches();
    tracing::info!(failed = exits.iter().filter(|e| !e.success()).count(), "every worker reaped");
    drop(waiting);
    let written = early.unwrap_or_else(|| Written::read(&shared));

    backend.settle(&shared).map_err(Error::Setup)?;
    let final_value = backend.final_value(&shared);
    // A stopped run ends when runner stopped it (its killed workers wrote no end).
    // The window opens at the release, or (forked) at the first worker's start.
    let origin = if together {
        release
    } else {
        written.slots.iter().map(|s| s.start).filter(|&t| t > 0).min().unwrap_or(first_fork)
    };
    let mut last_end = if served.is_some() || stopped { owner_end } else { origin };
    let outcomes = pids
        .iter()
        .zip(exits)
        .zip(&written.slots)
        .enumerate()
        .map(|(index, ((pid, exit), slot))| {
            last_end = last_end.max(slot.end);
            WorkerOutcome {
                index: index as u32,
                pid: pid.as_raw(),
                ops: slot.ops,
                seconds: slot.end.saturating_sub(slot.start) as f64 / 1e9,
                started: slot.start.saturating_sub(origin) as f64 / 1e9,
                ended: slot.end.saturating_sub(origin) as f64 / 1e9,
                exit,
                retries: slot.retries,
                recoveries: slot.recoveries,
            }
        })
        .collect();
    let events = pids.iter().map(|pid| pid.as_raw()).zip(written.events).collect();
    let (op, wait) = (written.op, written.wait);
    Ok(Outcome {
        final_value,
        workers: outcomes,
        elapsed_seconds: last_end.saturating_sub(origin) as f64 / 1e9,
        memory_kib: peak_memory_kib(),
        served,
        latency: Latency {
            sample_every: stride,
            op: stats::percentiles(&op),
            lock_wait: if plan.backend.kind() == crate::names::BackendKind::Mutex {
                stats::percentiles(&wait)
            } else {
                None
            },
        },
        events,
        interrupted,
        deadline: (expired.get() && interrupted.is_none()).then_some(plan.deadline.timeout_ns as f64 / 1e9),
        recovery: match shared.recovery().load(Ordering::Relaxed) {
            0 => None,
            // `by` is -1 for runner itself (no worker locked after the death).
            r => Some((
                (r >> 32) as i64 - 1,
                match (r & 0xffff_ffff) as u32 - 1 {
                    sync::RUNNER_INDEX => -1,
                    by => by as i64,
                },
            )),
        },
        stride,
        phases: Phases {
            setup_seconds: first_fork.saturating_sub(begun) as f64 / 1e9,
            fork_seconds: forked.saturating_sub(first_fork) as f64 / 1e9,
            arrive_seconds: release.saturating_sub(forked) as f64 / 1e9,
            reap_seconds: reaped.saturating_sub(last_end) as f64 / 1e9,
            voluntary_switches: switches.0.saturating_sub(switches_before.0),
            involuntary_switches: switches.1.saturating_sub(switches_before.1),
        },
    })
}

/// What the workers wrote into the shared mapping: their slots, latency histograms and trace
/// events, by worker index.
struct Written {
    slots: Vec<SlotCopy>,
    op: hdrhistogram::Histogram<u32>,
    wait: hdrhistogram::Histogram<u32>,
    events: Vec<Vec<crate::watch::ring::Event>>,
}

/// A worker's slot as it ended.
struct SlotCopy {
    start: u64,
    end: u64,
    ops: u64,
    retries: u64,
    recoveries: u64,
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
                recoveries: slot.recoveries.load(Ordering::Relaxed),
            });
            hist::import(shared.hist(index), 0, &mut op);
            hist::import(shared.hist(index), 1, &mut wait);
            events.push(ring::read(shared.ring(index)));
        }
        Written { slots, op, wait, events }
    }
}

/// Voluntary and involuntary context switches of every child reaped so far.
fn child_switches() -> (u64, u64) {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_CHILDREN).map_or((0, 0), |u| {
        (u.voluntary_context_switches().max(0) as u64, u.involuntary_context_switches().max(0) as u64)
    })
}

/// Peak resident memory (KiB, as Linux counts `ru_maxrss`) of runner and of its largest
/// reaped child (the channel's waker included).
fn peak_memory_kib() -> (u64, u64) {
    use nix::sys::resource::{UsageWho, getrusage};
    let peak = |who| getrusage(who).map_or(0, |u| u.max_rss().max(0) as u64);
    (peak(UsageWho::RUSAGE_SELF), peak(UsageWho::RUSAGE_CHILDREN))
}

/// The CPUs workers are pinned to, in the order they take them; checked against the CPUs runner
/// may use, so that a bad list fails before any fork.
fn pinned_cpus(plan: &Plan) -> Result<Option<Vec<usize>>, String> {
    use crate::plan::PinPlan;
    let Some(pin) = &plan.pin else { return Ok(None) };
    let usable = allowed_cpus().map_err(|e| format!("pin: cannot read the CPUs runner may use: {e}"))?;
    match pin {
        PinPlan::Allowed => Ok(Some(usable)),
        PinPlan::Cpus(cpus) => {
            if let Some(bad) = cpus.iter().find(|c| !usable.contains(c)) {
                let list = usable.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
                return Err(format!("pin: CPU {bad} is not available to runner (it may use: {list})"));
            }
            Ok(Some(cpus.clone()))
        }
    }
}

/// The channel owner's waker process, killed and reaped when dropped (on every path out).
struct Waker(Option<Pid>);

impl Drop for Waker {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = waitpid(pid, None);
        }
    }
}

/// The workers forked so far, and how those already reaped ended.
#[derive(Default)]
struct Reaper {
    pids: Vec<Pid>,
    exits: Vec<Option<Exit>>,
}

impl Reaper {
    fn with_capacity(workers: usize) -> Reaper {
        Reaper { pids: Vec::with_capacity(workers), exits: Vec::with_capacity(workers) }
    }

    fn add(&mut self, pid: Pid) {
        self.pids.push(pid);
        self.exits.push(None);
    }

    /// Reaps the workers that have ended, without waiting; true while any still runs.
    fn any_alive(&mut self) -> bool {
        let mut alive = false;
        for (pid, exit) in self.pids.iter().zip(self.exits.iter_mut()) {
            if exit.is_none() {
                *exit = reap(*pid, WaitPidFlag::WNOHANG);
                alive |= exit.is_none();
            }
        }
        alive
    }

    /// Reaps the workers that have ended, without waiting; true when any of them failed.
    fn any_failed(&mut self) -> bool {
        self.any_alive();
        self.exits.iter().flatten().any(|e| !e.success())
    }

    /// Waits for every worker; returns the pids and how each ended.
    fn wait_all(mut self) -> (Vec<Pid>, Vec<Exit>) {
        let exits = self
            .pids
            .iter()
            .zip(self.exits.iter_mut())
            .map(|(pid, exit)| {
                exit.take().or_else(|| reap(*pid, WaitPidFlag::empty())).unwrap_or(Exit { code: None, signal: None })
            })
            .collect();
        (self.pids, exits)
    }

    /// SIGTERM to every worker still running, then SIGKILL to those still running after
    /// `grace_ns`, or at once when `hurry` says so (a Ctrl-C during the grace).
    fn terminate(&mut self, grace_ns: u64, hurry: &dyn Fn() -> bool) {
        for (pid, exit) in self.pids.iter().zip(&self.exits) {
            if exit.is_none() {
                let _ = kill(*pid, Signal::SIGTERM);
            }
        }
        let until = now_ns().saturating_add(grace_ns);
        while self.any_alive() && now_ns() < until && !hurry() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        self.kill_all();
    }

    /// Kills every worker still running.
    fn kill_all(&self) {
        for (pid, exit) in self.pids.iter().zip(&self.exits) {
            if exit.is_none() {
                let _ = kill(*pid, Signal::SIGKILL);
            }
        }
    }

    /// Kills and reaps every worker after a failure, so that none is left behind.
    fn stop(self) {
        self.kill_all();
        self.wait_all();
    }
}

/// Reaps a worker and says how it ended; `None` when `WNOHANG` finds it still running.
fn reap(pid: Pid, flags: WaitPidFlag) -> Option<Exit> {
    loop {
        match waitpid(pid, Some(flags)) {
            Ok(WaitStatus::Exited(_, code)) => return Some(Exit { code: Some(code), signal: None }),
            Ok(WaitStatus::Signaled(_, signal, _)) => {
                return Some(Exit { code: None, signal: Some(signal.as_str().to_string()) });
            }
            Ok(WaitStatus::StillAlive) => return None,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return Some(Exit { code: None, signal: None }),
        }
    }
}
