//! A worker's life after the fork: make sure it cannot outlive runner, make itself the OOM
//! killer's first choice (before runner), wait at the barrier (if the workers start together),
//! do its operations, write what it did into its slot, wait at the exit gate (the same).
//! Returns the exit code; a declared fault's `exit` leaves at once through `fork::leave`
//! (`_exit`), like every other way out of a child.

use std::sync::atomic::Ordering;

use nix::sys::signal::Signal;
use nix::unistd::{Pid, getppid};

use super::barrier::Barrier;
use super::lifeline::Lifeline;
use crate::clock::now_ns;
use crate::names::Schedule;
use crate::plan::Fault;
use crate::shm::Shared;
use crate::spec::FaultAction;
use crate::sync::InsideLock;
use crate::sync::{Backend, BackendError, Order, WorkerTally, pace};
use crate::watch::probe::Probe;
use crate::watch::ring::Kind;

/// Exit codes of a worker, beyond 0 and the panic code.
pub(crate) const EXIT_ERROR: i32 = 70;
/// The parent was gone before the worker could ask to die with it.
pub(crate) const EXIT_ORPHAN: i32 = 71;

pub(crate) struct Context<'a> {
    pub(crate) order: Order,
    /// The fault this worker injects, if the job declares one.
    pub(crate) fault: Option<Fault>,
    /// The CPU to run on, when the job pins its workers.
    pub(crate) cpu: Option<usize>,
    /// The scheduling policy to ask for (the plan decides, `Plan::worker_policy`). A system that
    /// refuses it only makes the run slower.
    pub(crate) policy: crate::plan::WorkerPolicy,
    /// Operations (channel: messages) from one timed sample to the next.
    pub(crate) stride: u64,
    /// Whether timed samples become trace events.
    pub(crate) trace_ops: bool,
    pub(crate) parent: Pid,
    pub(crate) shared: &'a Shared,
    /// The backend's name, for a worker's own error.
    pub(crate) backend: &'static str,
    /// What raises this worker's OOM score (the parent's copy, `fork::OomScore`).
    pub(crate) oom: &'a super::fork::OomScore,
}

/// What a worker holds of the backend: its side (dropped once its work is over, so that a
/// channel's owner does not wait for more) and, for the mutex, the way to act inside the lock.
pub(crate) struct Hands {
    pub(crate) backend: Box<dyn Backend>,
    pub(crate) inside_lock: Option<InsideLock>,
}

/// Makes this worker the OOM killer's first choice (see `fork::raise_oom_score`). A system that
/// refuses (no `/proc`, a read-only one) still runs the job: worker 0 says once per run what is
/// at stake, so that a lost report under memory pressure is explained.
fn first_to_go(index: usize, oom: &super::fork::OomScore) {
    if let Err(e) = super::fork::raise_oom_score(oom)
        && index == 0
    {
        super::fork::child_line(format_args!(
            "runner: notice: worker 0 cannot raise its oom_score_adj (/proc/self/oom_score_adj: {e}): under memory pressure the kernel may kill runner before the workers, and the report with it"
        ));
    }
}

pub(crate) fn main(cx: Context<'_>, hands: Hands, mut barrier: Option<&mut Barrier>, lifeline: &mut Lifeline) -> i32 {
    // Die with runner; the parent may have died before the request, so check it is still ours.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != cx.parent {
        return EXIT_ORPHAN;
    }
    let index = cx.order.index as usize;
    first_to_go(index, cx.oom);
    let _ = super::fork::apply_policy(cx.policy);
    cx.shared.attach();
    if let Some(cpu) = cx.cpu {
        let mut set = nix::sched::CpuSet::new();
        if let Err(e) = set.set(cpu).and_then(|()| nix::sched::sched_setaffinity(Pid::from_raw(0), &set)) {
            super::fork::child_line(format_args!("runner: worker {index}: cannot pin to CPU {cpu}: {e}"));
            return EXIT_ERROR;
        }
    }
    let mut probe = Probe::new(cx.stride, cx.trace_ops, cx.shared.ring(index));
    let arrived = now_ns();
    probe.event(arrived, 0, Kind::Attach);
    if let Some(barrier) = barrier.as_mut()
        && let Err(e) = barrier.arrive_and_wait()
    {
        super::fork::child_line(format_args!("runner: worker {index}: start barrier: {e}"));
        return EXIT_ERROR;
    }
    let slot = cx.shared.slot(index);
    let sequential = cx.order.pacing.schedule == Schedule::Sequential;
    let whose = |turn: u64| (turn as usize).min(cx.shared.workers() - 1);
    if sequential && let Err(e) = pace::wait_turn(cx.shared, index as u64, &whose) {
        super::fork::child_line(format_args!("runner: worker {index}: {e}"));
        return EXIT_ERROR;
    }
    let start = now_ns();
    probe.event(arrived, start - arrived, Kind::Barrier);
    slot.start_ns.store(start, Ordering::Relaxed);
    let result = match cx.fault {
        None => hands.backend.work(&cx.order, cx.shared, &mut probe),
        Some(fault) => with_fault(&cx, fault, &hands, &mut probe),
    };
    let end = now_ns();
    if sequential {
        cx.shared.turn().store(index as u64 + 1, Ordering::Release);
    }
    slot.end_ns.store(end, Ordering::Relaxed);
    probe.event(start, end - start, Kind::Run);
    probe.finish(cx.shared.hist(index));
    match result {
        Ok(tally) => {
            slot.ops.store(tally.ops, Ordering::Relaxed);
            slot.done.store(1, Ordering::Release);
            probe.event(now_ns(), 0, Kind::End);
            match barrier {
                // Done: tell runner, then wait to be dismissed together, so that this process's
                // exit does not take CPU from workers still at work.
                Some(barrier) => {
                    drop(hands);
                    lifeline.finish();
                    barrier.wait_dismissal();
                }
                // Done, and this process exits now: the exit closes the backend's descriptors
                // (a channel's sending end) and the lifeline's end as `drop` and `finish` would,
                // without writing (copying) the heap's pages that freeing `hands` would.
                None => std::mem::forget(hands),
            }
            0
        }
        Err(e) => {
            super::fork::child_line(format_args!("runner: worker {index}: {e}"));
            EXIT_ERROR
        }
    }
}

/// The worker's order in two parts with the fault between them: `fault.at` operations, the
/// fault (inside the lock: during the next operation), then the rest if the worker still lives.
fn with_fault(
    cx: &Context<'_>,
    fault: Fault,
    hands: &Hands,
    probe: &mut Probe<'_>,
) -> Result<WorkerTally, BackendError> {
    let backend = &hands.backend;
    let slot = cx.shared.slot(cx.order.index as usize);
    let before = Order { iterations: fault.at, ..cx.order };
    let mut tally = if fault.at > 0 { backend.work(&before, cx.shared, probe)? } else { WorkerTally::default() };
    // The exact count before the fault, whatever the chunking.
    slot.ops.store(fault.at, Ordering::Relaxed);
    let mut act = || match fault.action {
        FaultAction::Kill => {
            let _ = nix::sys::signal::raise(Signal::SIGKILL);
        }
        FaultAction::Panic => {
            panic!(
                "injected fault: worker {} panics after {}",
                fault.worker,
                crate::words::plural(fault.at, "operation")
            )
        }
        // Straight out, as a process calling exit() mid-update would: through fork's `_exit`.
        FaultAction::Exit => super::fork::leave(fault.code),
        FaultAction::Stall => std::thread::sleep(std::time::Duration::from_nanos(fault.stall_ns)),
    };
    let mut done = fault.at;
    if fault.inside_lock {
        let one = Order { iterations: 1, done_before: fault.at, ..cx.order };
        match &hands.inside_lock {
            Some(inside) => inside.run(&one, cx.shared, &mut act)?,
            // The planner lets only the mutex act inside the lock.
            None => return Err(BackendError::NoLock { backend: cx.backend }),
        }
        done += 1;
        tally.ops += 1;
    } else {
        act();
    }
    let after = Order { iterations: cx.order.iterations - done, done_before: done, ..cx.order };
    if after.iterations > 0 {
        let rest = backend.work(&after, cx.shared, probe)?;
        tally.ops += rest.ops;
        tally.retries += rest.retries;
    }
    Ok(tally)
}
