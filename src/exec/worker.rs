//! A worker's life after the fork: make sure it cannot outlive runner, wait at the barrier, do
//! its operations, write what it did into its slot. Returns the exit code.

use std::sync::atomic::Ordering;

use nix::sys::signal::Signal;
use nix::unistd::{Pid, getppid};

use super::barrier::Barrier;
use super::now_ns;
use crate::sync::Backend;
use crate::sync::shm::Shared;
use crate::watch::probe::Probe;
use crate::watch::ring::Kind;

/// Exit codes of a worker, beyond 0 and the panic code.
pub const EXIT_ERROR: i32 = 70;
/// The parent was gone before the worker could ask to die with it.
pub const EXIT_ORPHAN: i32 = 71;

pub struct Context<'a> {
    pub index: u32,
    pub iterations: u64,
    /// Operations (channel: messages) from one timed sample to the next.
    pub stride: u64,
    /// Whether timed samples become trace events.
    pub trace_ops: bool,
    pub parent: Pid,
    pub shared: &'a Shared,
}

pub fn main(cx: Context<'_>, backend: &mut dyn Backend, barrier: &mut Barrier) -> i32 {
    // Die with runner; the parent may have died before the request, so check it is still ours.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != cx.parent {
        return EXIT_ORPHAN;
    }
    backend.in_child();
    let index = cx.index as usize;
    let mut probe = Probe::new(cx.stride, cx.trace_ops, cx.shared.ring(index));
    let arrived = now_ns();
    probe.event(arrived, 0, Kind::Attach);
    if let Err(e) = barrier.arrive_and_wait() {
        eprintln!("runner: worker {}: start barrier: {e}", cx.index);
        return EXIT_ERROR;
    }
    let slot = cx.shared.slot(index);
    let start = now_ns();
    probe.event(arrived, start - arrived, Kind::Barrier);
    slot.start_ns.store(start, Ordering::Relaxed);
    let result = backend.work(cx.index, cx.iterations, cx.shared, &mut probe);
    let end = now_ns();
    slot.end_ns.store(end, Ordering::Relaxed);
    probe.event(start, end - start, Kind::Run);
    probe.finish(cx.shared.hist(index));
    match result {
        Ok(tally) => {
            slot.ops.store(tally.ops, Ordering::Relaxed);
            slot.done.store(1, Ordering::Release);
            probe.event(now_ns(), 0, Kind::End);
            0
        }
        Err(e) => {
            eprintln!("runner: worker {}: {e}", cx.index);
            EXIT_ERROR
        }
    }
}
