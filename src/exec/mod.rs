//! Execution: a [`Plan`] becomes processes. Maps the shared memory, sets the backend up, forks
//! the workers, releases them together, lets the backend's owner serve, reaps every worker and
//! collects an [`Outcome`].
//!
//! Owns: forking (only in `fork.rs`), the start barrier, supervision with `waitpid`. Does not
//! own: the mechanisms (see `sync`), judging the value (see `outcome`) or printing anything but
//! a worker's own error.

mod barrier;
mod fork;
mod worker;

use std::sync::atomic::Ordering;

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::time::{ClockId, clock_gettime};
use nix::unistd::{Pid, getpid};

use crate::error::Error;
use crate::outcome::{Exit, Outcome, WorkerOutcome};
use crate::plan::Plan;
use crate::sync::{self, BackendKind, shm::Shared};
use barrier::Barrier;

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process of a run.
pub fn now_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(0, |t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
}

/// Runs the plan on forked workers and reports what happened.
pub fn execute(plan: &Plan) -> Result<Outcome, Error> {
    fork::ensure_single_threaded().map_err(Error::Setup)?;
    let workers = plan.workers as usize;
    let shared = Shared::new(workers).map_err(|e| Error::Setup(format!("cannot map shared memory: {e}")))?;
    let mut backend = sync::setup(plan, &shared).map_err(Error::Setup)?;
    let mut barrier = Barrier::new().map_err(|e| Error::Setup(format!("cannot create the start barrier: {e}")))?;

    let parent = getpid();
    let mut pids = Vec::with_capacity(workers);
    for index in 0..plan.workers {
        let cx = worker::Context { index, iterations: plan.iterations, parent, backend: &*backend, shared: &shared };
        match fork::spawn(|| worker::main(cx, &mut barrier)) {
            Ok(pid) => pids.push(pid),
            Err(e) => {
                stop(&pids);
                return Err(Error::Setup(format!("cannot fork worker {index} of {workers}: {e}")));
            }
        }
    }
    backend.after_fork();

    // Every worker has arrived or died once this returns; a read error only loses the wait.
    let _ = barrier.wait_arrivals();
    let release = now_ns();
    barrier.release();
    let served = match backend.serve(workers) {
        Ok(served) => served,
        Err(e) => {
            stop(&pids);
            return Err(Error::Setup(format!("channel owner: {e}")));
        }
    };
    let owner_end = now_ns();
    let exits: Vec<Exit> = pids.iter().map(|&pid| reap(pid)).collect();

    let final_value = backend.final_value(&shared);
    if plan.backend == BackendKind::Mutex {
        shared.mutex().destroy();
    }
    let mut last_end = if served.is_some() { owner_end } else { release };
    let outcomes = pids
        .iter()
        .zip(exits)
        .enumerate()
        .map(|(index, (pid, exit))| {
            let slot = shared.slot(index);
            let (start, end) = (slot.start_ns.load(Ordering::Relaxed), slot.end_ns.load(Ordering::Relaxed));
            last_end = last_end.max(end);
            WorkerOutcome {
                index: index as u32,
                pid: pid.as_raw(),
                ops: slot.ops.load(Ordering::Relaxed),
                seconds: end.saturating_sub(start) as f64 / 1e9,
                started: start.saturating_sub(release) as f64 / 1e9,
                ended: end.saturating_sub(release) as f64 / 1e9,
                exit,
                retries: slot.retries.load(Ordering::Relaxed),
                recoveries: slot.recoveries.load(Ordering::Relaxed),
            }
        })
        .collect();
    Ok(Outcome {
        final_value,
        workers: outcomes,
        elapsed_seconds: last_end.saturating_sub(release) as f64 / 1e9,
        served,
    })
}

/// Waits for a worker to end and says how.
fn reap(pid: Pid) -> Exit {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Exit { code: Some(code), signal: None },
            Ok(WaitStatus::Signaled(_, signal, _)) => {
                return Exit { code: None, signal: Some(signal.as_str().to_string()) };
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return Exit { code: None, signal: None },
        }
    }
}

/// Kills and reaps workers after a failure, so that none is left behind.
fn stop(pids: &[Pid]) {
    for &pid in pids {
        let _ = kill(pid, Signal::SIGKILL);
    }
    for &pid in pids {
        reap(pid);
    }
}
