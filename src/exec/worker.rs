//! A worker's life after the fork: make sure it cannot outlive runner, wait at the barrier, do
//! its operations, write what it did into its slot. Returns the exit code.

use std::sync::atomic::Ordering;

use nix::sys::signal::Signal;
use nix::unistd::{Pid, getppid};

use super::barrier::Barrier;
use super::now_ns;
use crate::sync::Backend;
use crate::sync::shm::Shared;

/// Exit codes of a worker, beyond 0 and the panic code.
pub const EXIT_ERROR: i32 = 70;
/// The parent was gone before the worker could ask to die with it.
pub const EXIT_ORPHAN: i32 = 71;

pub struct Context<'a> {
    pub index: u32,
    pub iterations: u64,
    pub parent: Pid,
    pub shared: &'a Shared,
}

pub fn main(cx: Context<'_>, backend: &mut dyn Backend, barrier: &mut Barrier) -> i32 {
    // Die with runner; the parent may have died before the request, so check it is still ours.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != cx.parent {
        return EXIT_ORPHAN;
    }
    backend.in_child();
    if let Err(e) = barrier.arrive_and_wait() {
        eprintln!("runner: worker {}: start barrier: {e}", cx.index);
        return EXIT_ERROR;
    }
    let slot = cx.shared.slot(cx.index as usize);
    slot.start_ns.store(now_ns(), Ordering::Relaxed);
    let result = backend.work(cx.index, cx.iterations, cx.shared);
    slot.end_ns.store(now_ns(), Ordering::Relaxed);
    match result {
        Ok(tally) => {
            slot.ops.store(tally.ops, Ordering::Relaxed);
            slot.done.store(1, Ordering::Release);
            0
        }
        Err(e) => {
            eprintln!("runner: worker {}: {e}", cx.index);
            EXIT_ERROR
        }
    }
}
