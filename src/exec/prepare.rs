//! The first phase of a run, before any worker is forked: the shared mapping, the backend (from
//! a `sync::Setup` made of the plan), the channel's waker process, the start barrier, the
//! lifeline, the pace's calibration and the CPUs to pin to. Everything that can fail without a
//! worker to clean up fails here.

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, getpid};

use super::barrier::Barrier;
use super::error::ExecError;
use super::interrupt::Interrupts;
use super::lifeline::Lifeline;
use super::{fork, worker};
use crate::host::allowed_cpus;
use crate::plan::{PinPlan, Plan};
use crate::shm::Shared;
use crate::sync::InsideLock;
use crate::sync::pace::{Pacing, calibrate};
use crate::sync::{self, Backend, Keeper};
use crate::watch::Watch;

/// A run ready to fork its workers.
pub(super) struct Prepared {
    /// The backend's workers' side: each worker takes it; the parent drops it after the forks.
    pub(super) workers: Option<Box<dyn Backend>>,
    pub(super) inside_lock: Option<InsideLock>,
    /// The backend's parent's side: each worker drops it right after its fork.
    pub(super) keeper: Option<Keeper>,
    pub(super) waker: Waker,
    /// `start: forked` has no barrier and no exit gate: each worker starts as it is forked
    /// and exits when it is done.
    pub(super) barrier: Option<Barrier>,
    pub(super) lifeline: Lifeline,
    pub(super) given: Given,
}

/// What every worker is given alike.
pub(super) struct Given {
    pub(super) shared: Shared,
    pub(super) pacing: Pacing,
    pub(super) cpus: Option<Vec<usize>>,
    /// Operations (channel: messages) from one timed sample to the next.
    pub(super) stride: u64,
    /// Whether timed samples become trace events.
    pub(super) trace_ops: bool,
    /// Runner's pid, which every child checks it still has as its parent.
    pub(super) parent: Pid,
}

/// Prepares the run of `plan`.
pub(super) fn prepare(plan: &Plan, watch: &Watch, interrupts: &Interrupts) -> Result<Prepared, ExecError> {
    let units = plan.iterations.max(plan.messages_per_worker());
    let shared =
        Shared::new(plan.workers as usize, crate::watch::areas(plan.workers, units, watch)).map_err(ExecError::Map)?;
    let stride = crate::watch::stride(plan.backend, plan.iterations, plan.workers, watch);
    let trace_ops = watch.trace.is_some() && watch.ops;
    // The channel's owner records the application of every send a worker times.
    let applied_every = trace_ops.then_some(stride);
    let setup = sync::Setup::of(plan, applied_every);
    let mut parts = sync::setup(&setup, &plan.engine, &shared).map_err(ExecError::Backend)?;
    // The waker is forked first, before the barrier and the lifeline exist, so that it holds
    // neither (the lifeline's end of file must come when the last worker ends).
    let parent = getpid();
    let waker = match &mut parts.keeper {
        Keeper::Owner(owner) => match owner.waker() {
            Some(body) => Waker::fork(body, parent, interrupts)?,
            None => Waker(None),
        },
        Keeper::InPlace { .. } | Keeper::Remote(_) | Keeper::Stream(_) => Waker(None),
    };
    let together = plan.start == crate::names::Start::Together;
    let barrier = together.then(Barrier::new).transpose().map_err(ExecError::Barrier)?;
    let lifeline = Lifeline::new().map_err(ExecError::Lifeline)?;
    let per_ns = if plan.work.is_none() { 0.0 } else { calibrate() };
    let pacing = Pacing::new(plan.work, plan.schedule, plan.workers, per_ns);
    let cpus = pinned_cpus(plan)?;
    Ok(Prepared {
        workers: Some(parts.workers),
        inside_lock: parts.inside_lock,
        keeper: Some(parts.keeper),
        waker,
        barrier,
        lifeline,
        given: Given { shared, pacing, cpus, stride, trace_ops, parent },
    })
}

/// The CPUs workers are pinned to, in the order they take them; checked against the CPUs runner
/// may use, so that a bad list fails before any fork.
fn pinned_cpus(plan: &Plan) -> Result<Option<Vec<usize>>, ExecError> {
    let Some(pin) = &plan.pin else { return Ok(None) };
    let usable = allowed_cpus().map_err(ExecError::PinRead)?;
    match pin {
        PinPlan::Allowed => Ok(Some(usable)),
        PinPlan::Cpus(cpus) => {
            if let Some(&bad) = cpus.iter().find(|c| !usable.contains(c)) {
                return Err(ExecError::PinCpu { bad, usable });
            }
            Ok(Some(cpus.clone()))
        }
    }
}

/// The channel owner's waker process, killed and reaped when dropped (on every path out).
pub(super) struct Waker(Option<Pid>);

impl Waker {
    fn fork(body: Box<dyn FnOnce() -> i32>, parent: Pid, interrupts: &Interrupts) -> Result<Waker, ExecError> {
        let ready = fork::prepare().map_err(ExecError::Prepare)?;
        let spawned = fork::spawn(&ready, || {
            interrupts.in_child();
            if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || nix::unistd::getppid() != parent {
                return worker::EXIT_ORPHAN;
            }
            // It dies with runner and holds nothing the report needs: the OOM killer's first
            // choice, like the workers (whose notice says what a refusal costs).
            let _ = fork::raise_oom_score(&ready.oom);
            body()
        });
        Ok(Waker(Some(spawned.map_err(ExecError::ForkWaker)?)))
    }
}

impl Waker {
    /// Whether a waker process runs (a child of runner's that is no worker).
    pub(super) fn is_some(&self) -> bool {
        self.0.is_some()
    }

    /// Kills and reaps the waker, if one runs; returns its CPU time and context switches (from
    /// the `wait4` that reaps it), which the run's switches count with the workers'.
    pub(super) fn reap(mut self) -> Option<crate::outcome::Cpu> {
        kill_and_reap(self.0.take()?)
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            let _ = kill_and_reap(pid);
        }
    }
}

/// SIGKILL to the waker, then its end and usage from the `wait4` that reaps it; `None` when
/// it cannot be reaped.
fn kill_and_reap(pid: Pid) -> Option<crate::outcome::Cpu> {
    let _ = kill(pid, Signal::SIGKILL);
    loop {
        match fork::wait(pid, true) {
            Ok(Some(reaped)) if reaped.status.pid().is_some() => return Some(reaped.cpu),
            Err(nix::errno::Errno::EINTR) | Ok(_) => continue,
            Err(_) => return None,
        }
    }
}
