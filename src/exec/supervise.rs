//! The third phase: the run itself, from the barrier's release until every worker's work is
//! over (or the run is stopped). Runner waits on the lifeline (or serves, as the channel's
//! owner), and now and then ([`Watchman::tick`]) shows progress, lets an ordered schedule's
//! workers stop waiting for a failed one, and looks at the deadline and at signals. A worker's
//! death wakes the wait at once (`deaths.rs`): runner reaps it and tells the backends, so that
//! a lock it held is taken over by the next locker without delay (the channel's owner looks
//! when it ticks). The wait on
//! the lifeline ends at the next progress tick or at the deadline, whichever comes first, so a
//! deadline is enforced when it passes, not at the next tick (the channel's owner looks at it
//! when it ticks: every few messages, or every `TICK_EVERY_MS` when none come). A stopped run's
//! workers are killed (a signal) or terminated with a grace (the deadline); how late the
//! SIGTERMs went out, and how many workers needed the SIGKILL after the grace, are measured.

use std::sync::atomic::Ordering;

use super::deaths::Deaths;
use super::error::ExecError;
use super::interrupt::Interrupts;
use super::lifeline::Wake;
use super::reaper::{Gone, Reaper, Terminated};
use super::spawn::Running;
use crate::clock::now_ns;
use crate::error::Interrupt;
use crate::plan::Plan;
use crate::shm::Shared;
use crate::sync::{Keeper, Served};
use crate::watch::trace::{Moment, What};

/// How often runner looks at the workers' progress while it waits.
pub(super) const PROGRESS_EVERY_MS: u16 = 100;

/// A run whose work is over, or stopped; its workers not yet all reaped.
pub(super) struct Ended {
    pub(super) shared: Shared,
    pub(super) keeper: Keeper,
    pub(super) reaper: Reaper,
    pub(super) stride: u64,
    /// What the channel owner received.
    pub(super) served: Option<Served>,
    pub(super) first_fork: u64,
    pub(super) forked: u64,
    /// What runner held (KiB) just before the first fork.
    pub(super) held_kib: u64,
    /// The barrier's release (`start: forked`: when the forks were over).
    pub(super) release: u64,
    /// When the channel's owner was done, or (other backends) the work was over.
    pub(super) owner_end: u64,
    pub(super) interrupted: Option<Interrupt>,
    /// The deadline stopped the run.
    pub(super) expired: bool,
    /// When the deadline passed, and how runner stopped the workers then.
    pub(super) deadline: u64,
    pub(super) terminated: Option<Terminated>,
    /// The trace's "wait" phase, which ends once every worker is reaped.
    pub(super) waiting: tracing::span::EnteredSpan,
    /// The channel's waker's CPU time and switches, when one ran (reaped by now).
    pub(super) waker_cpu: Option<crate::outcome::Cpu>,
    /// For the trace: when the signal was read, the deadline passed, the SIGTERMs went out.
    pub(super) moments: Vec<Moment>,
}

/// What runner does now and then while the workers run.
struct Watchman<'a> {
    shared: &'a Shared,
    reaper: Reaper,
    progress: &'a mut dyn FnMut(u64),
    interrupts: &'a Interrupts,
    deaths: &'a Deaths,
    /// With an ordered schedule the others would wait for a failed worker's turn forever.
    ordered: bool,
    deadline: u64,
    last_tick: u64,
    expired: bool,
}

/// [`PROGRESS_EVERY_MS`] in nanoseconds.
const PROGRESS_EVERY_NS: u64 = PROGRESS_EVERY_MS as u64 * 1_000_000;

impl Watchman<'_> {
    /// How long to wait from now before the next look: until the next progress tick or the
    /// deadline, whichever comes first.
    fn until_next(&self) -> u64 {
        let next = self.last_tick.saturating_add(PROGRESS_EVERY_NS).min(self.deadline);
        next.saturating_sub(now_ns())
    }

    /// Reaps the workers that died since the last look and tells the backends.
    fn mourn(&mut self) {
        self.deaths.mourn(&mut self.reaper, self.shared);
    }

    /// Progress now and then; false once the run must stop (the deadline, a signal).
    fn tick(&mut self) -> bool {
        let now = now_ns();
        if now >= self.deadline {
            self.expired = true;
            return false;
        }
        if now - self.last_tick >= PROGRESS_EVERY_NS {
            self.last_tick = now;
            self.mourn();
            let shared = self.shared;
            (self.progress)((0..shared.workers()).map(|i| shared.slot(i).ops.load(Ordering::Relaxed)).sum());
            if self.ordered && self.reaper.any_failed() {
                shared.abort().store(1, Ordering::Relaxed);
            }
        }
        self.interrupts.caught().is_none()
    }
}

/// Releases the workers and waits for their work to be over.
pub(super) fn supervise(
    plan: &Plan,
    run: Running,
    progress: &mut dyn FnMut(u64),
    interrupts: &Interrupts,
) -> Result<Ended, ExecError> {
    let held_kib = run.held_kib;
    let Running {
        shared, mut keeper, waker, mut barrier, lifeline, reaper, deaths, stride, first_fork, forked, ..
    } = run;
    // Every worker has arrived or died once this returns, or a signal came; a read error only
    // loses the wait.
    if let Some(barrier) = &mut barrier {
        let releasing = tracing::info_span!("barrier release").entered();
        let _ = barrier.wait_arrivals_or_signal(interrupts);
        // The phase ends at the release: once it happens the woken workers may take both cores.
        drop(releasing);
    }
    let release = now_ns();
    if let Some(barrier) = &mut barrier {
        barrier.release();
    }
    let waiting = tracing::info_span!("wait").entered();
    // Forked workers are at work from their fork on.
    let start = if barrier.is_some() { release } else { first_fork };
    let mut watch = Watchman {
        shared: &shared,
        reaper,
        progress,
        interrupts,
        deaths: &deaths,
        ordered: plan.schedule != crate::names::Schedule::Concurrent,
        deadline: start.saturating_add(plan.deadline.timeout_ns),
        last_tick: now_ns(),
        expired: false,
    };
    // A worker whose work is over waits to be dismissed: "alive" here means still at work.
    let served = match &mut keeper {
        Keeper::Owner(owner) => Some(owner.serve(shared.workers(), &mut || lifeline.working(), &mut || watch.tick())),
        Keeper::Stream(owner) => Some(owner.serve(shared.workers(), &mut || lifeline.working(), &mut || watch.tick())),
        Keeper::InPlace { .. } | Keeper::Remote(_) => None,
    };
    // The channel's owner is done once it has applied everything: the window ends here or at a
    // later worker's end.
    let owner_end = now_ns();
    let served = match served.transpose() {
        Ok(served) => served,
        Err(e) => {
            watch.reaper.stop();
            return Err(ExecError::Owner(e));
        }
    };
    // Every worker's work is over (and its slot written) once the lifeline ends; a channel's
    // worker may still be on its way back from its last send when the owner is done.
    watch.mourn();
    loop {
        match lifeline.wait(watch.until_next(), interrupts.fd(), deaths.fd()) {
            Wake::Ended => break,
            Wake::Interrupted if interrupts.caught().is_some() => break,
            Wake::Died => watch.mourn(),
            _ => {}
        }
        if !watch.tick() {
            break;
        }
    }
    if let Some(barrier) = &mut barrier {
        barrier.dismiss();
    }
    let waker_cpu = waker.reap();
    let owner_end = if served.is_some() { owner_end } else { now_ns() };
    let Watchman { mut reaper, expired, deadline, .. } = watch;
    let interrupted = interrupts.caught();
    let (terminated, moments) = stop(plan, &mut reaper, interrupted, expired.then_some(deadline), interrupts);
    Ok(Ended {
        shared,
        keeper,
        reaper,
        stride,
        served,
        first_fork,
        forked,
        held_kib,
        release,
        owner_end,
        interrupted,
        expired,
        deadline,
        terminated,
        waiting,
        waker_cpu,
        moments,
    })
}

/// Stops a run that a signal (killed) or its deadline (terminated, with a grace) stopped: how
/// runner terminated it, and the moments for the trace.
fn stop(
    plan: &Plan,
    reaper: &mut Reaper,
    interrupted: Option<Interrupt>,
    expired: Option<u64>,
    interrupts: &Interrupts,
) -> (Option<Terminated>, Vec<Moment>) {
    let mut moments = Vec::new();
    if let Some(signal) = interrupted {
        tracing::warn!(signal = signal.name(), "interrupted: stopping the workers");
        let at = interrupts.caught_ns().unwrap_or_else(now_ns);
        moments.push(Moment { at, what: What::Signal { name: signal.name() } });
        reaper.kill_all();
    } else if let Some(deadline) = expired {
        let seconds = plan.deadline.timeout_ns as f64 / 1e9;
        tracing::warn!(seconds, "deadline: stopping the workers");
        moments.push(Moment { at: deadline, what: What::Deadline { seconds } });
        let t = reaper.terminate(plan.deadline.grace_ns, &|| interrupts.caught().is_some());
        moments.push(Moment { at: t.at, what: What::Terminated { workers: t.termed, killed: t.killed } });
        return (Some(t), moments);
    }
    (None, moments)
}

/// The run's moments for the trace: `moments` and each failed worker's death (`died`: by
/// index, when runner reaped it; `exits`: how each worker ended), in time order.
pub(super) fn with_deaths(mut moments: Vec<Moment>, died: &[(usize, u64)], exits: &[Gone]) -> Vec<Moment> {
    for &(index, at) in died {
        let how = exits.get(index).map_or_else(String::new, |Gone { exit, .. }| match (&exit.code, &exit.signal) {
            (Some(code), None) => format!("exited with code {code}"),
            _ => exit.to_string(),
        });
        moments.push(Moment { at, what: What::Died { worker: index as u32, how } });
    }
    moments.sort_by_key(|m| m.at);
    moments
}
