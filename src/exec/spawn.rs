//! The second phase: forking the workers, one after another, each with its order. A failed fork
//! (or `fork_fail_at`'s) stops and reaps those already forked. After the last fork the parent
//! drops what only workers may hold: the backend's workers' side and the lifeline's write end.

use nix::sys::signal::Signal;

use super::barrier::Barrier;
use super::deaths::Deaths;
use super::error::ExecError;
use super::interrupt::Interrupts;
use super::lifeline::Lifeline;
use super::prepare::{Given, Prepared, Waker};
use super::reaper::Reaper;
use super::{fork, worker};
use crate::clock::now_ns;
use crate::plan::Plan;
use crate::shm::Shared;
use crate::sync::{Keeper, Order};

/// A run whose workers are forked.
pub(super) struct Running {
    pub(super) shared: Shared,
    pub(super) keeper: Keeper,
    pub(super) waker: Waker,
    pub(super) barrier: Option<Barrier>,
    pub(super) lifeline: Lifeline,
    pub(super) reaper: Reaper,
    /// Says when a worker ends while the others run.
    pub(super) deaths: Deaths,
    pub(super) stride: u64,
    /// When the first fork began and the last one returned.
    pub(super) first_fork: u64,
    pub(super) forked: u64,
    /// What runner held (KiB) just before the first fork.
    pub(super) held_kib: u64,
}

/// Forks every worker of `plan`.
pub(super) fn spawn(plan: &Plan, mut p: Prepared, interrupts: &Interrupts) -> Result<Running, ExecError> {
    let first_fork = now_ns();
    fork::default_sigchld().map_err(ExecError::Sigchld)?;
    let deaths = Deaths::new().map_err(ExecError::Deaths)?;
    let ready = fork::prepare().map_err(ExecError::Prepare)?;
    let mut reaper = Reaper::with_capacity(plan.workers as usize);
    if !p.waker.is_some() {
        reaper.workers_only();
    }
    // A worker takes the signals as every process has them, in one system call: the four that
    // runner watches and SIGCHLD.
    let unblock = interrupts.with(Signal::SIGCHLD);
    for index in 0..plan.workers {
        // `fork_fail_at`: this fork fails as the system would refuse it (RLIMIT_NPROC does not
        // bind root, so tests could not make it fail otherwise).
        if plan.fork_fail_at == Some(index + 1) {
            reaper.stop();
            return Err(ExecError::ForkInjected { index, workers: plan.workers });
        }
        let spawned = fork::spawn(&ready, || {
            let _ = unblock.thread_unblock();
            // Only the parent owns the value's side (channel: the receiving end).
            drop(p.keeper.take());
            let Some(backend) = p.workers.take() else { return worker::EXIT_ERROR };
            let hands = worker::Hands { backend, inside_lock: p.inside_lock.take() };
            worker::main(context(plan, &p.given, index, &ready.oom), hands, p.barrier.as_mut(), &mut p.lifeline)
        });
        match spawned {
            Ok(pid) => reaper.add(pid),
            Err(errno) => {
                reaper.stop();
                return Err(ExecError::ForkWorker { index, workers: plan.workers, errno });
            }
        }
    }
    // Only workers send: with the parent's copy gone, a channel owner's loop ends when the last
    // worker's copy closes; the lifeline's, when the last worker's work is over.
    drop(p.workers.take());
    p.lifeline.after_fork();
    let forked = now_ns();
    let Prepared { keeper, waker, barrier, lifeline, given, .. } = p;
    let (shared, stride) = (given.shared, given.stride);
    let keeper = keeper.expect("the parent keeps the backend's parent side");
    Ok(Running {
        shared,
        keeper,
        waker,
        barrier,
        lifeline,
        reaper,
        deaths,
        stride,
        first_fork,
        forked,
        held_kib: ready.held_kib,
    })
}

/// What worker `index` is to do, and with what.
fn context<'a>(plan: &Plan, p: &'a Given, index: u32, oom: &'a fork::OomScore) -> worker::Context<'a> {
    let order =
        Order { index, iterations: plan.iterations, done_before: 0, operand: plan.operand_of(index), pacing: p.pacing };
    worker::Context {
        order,
        cpu: p.cpus.as_ref().map(|c| c[index as usize % c.len()]),
        policy: plan.worker_policy(),
        fault: plan.faults.iter().find(|f| f.worker == index).copied(),
        stride: p.stride,
        trace_ops: p.trace_ops,
        parent: p.parent,
        shared: &p.shared,
        backend: plan.backend.name(),
        oom,
    }
}
