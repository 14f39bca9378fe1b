//! What happens around each operation besides the operation itself: calibrated busy work
//! (`work: {inside, outside}`) and, for `schedule: round-robin`, waiting for one's turn.
//!
//! The hot loops are generic over [`Pace`]: [`Free`] does nothing and compiles away, so a job
//! without work or schedule runs the bare loop; [`Paced`] carries the loop counts and the turn.
//! Owns: the busy loop, its calibration and turn-taking. Does not own: the operations.

use std::sync::atomic::Ordering;

use crate::clock::now_ns;
use crate::names::Schedule;
use crate::plan::Work;
use crate::shm::Shared;
use crate::sync::BackendError;

/// Around each operation: `before` (wait for the turn), `inside` (in the critical section),
/// `after` (pass the turn, then the work between operations).
pub(crate) trait Pace {
    fn before(&mut self) -> Result<(), BackendError>;
    fn inside(&self);
    fn after(&mut self);
}

/// Nothing around the operations.
pub(crate) struct Free;

impl Pace for Free {
    #[inline(always)]
    fn before(&mut self) -> Result<(), BackendError> {
        Ok(())
    }
    #[inline(always)]
    fn inside(&self) {}
    #[inline(always)]
    fn after(&mut self) {}
}

/// The loop counts and the schedule a worker is paced by; the same for every worker.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Pacing {
    pub(crate) schedule: Schedule,
    pub(crate) workers: u32,
    /// Busy-loop iterations inside the critical section and between operations.
    pub(crate) inside: u64,
    pub(crate) outside: u64,
}

impl Pacing {
    /// Converts the plan's nanoseconds with a calibration (busy-loop iterations per ns).
    pub(crate) fn new(work: Work, schedule: Schedule, workers: u32, per_ns: f64) -> Pacing {
        let loops = |ns: u64| (ns as f64 * per_ns).round() as u64;
        Pacing { schedule, workers, inside: loops(work.inside_ns), outside: loops(work.outside_ns) }
    }

    /// Whether every operation runs bare (sequential takes its turn once, outside the loop).
    pub(crate) fn is_free(&self) -> bool {
        self.inside == 0 && self.outside == 0 && self.schedule != Schedule::RoundRobin
    }

    /// The pace of worker `index`, whose turns are in `shared`.
    pub(crate) fn paced<'a>(&self, index: u32, shared: &'a Shared) -> Paced<'a> {
        Paced { pacing: *self, next: index as u64, shared }
    }
}

/// Busy work and, for round-robin, turn-taking.
pub(crate) struct Paced<'a> {
    pacing: Pacing,
    /// The number of this worker's next operation in the round-robin order.
    next: u64,
    /// The turn, the abort word, and each worker's slot (whether runner saw it end).
    shared: &'a Shared,
}

impl Pace for Paced<'_> {
    #[inline]
    fn before(&mut self) -> Result<(), BackendError> {
        if self.pacing.schedule == Schedule::RoundRobin {
            let workers = self.pacing.workers as u64;
            wait_turn(self.shared, self.next, &|turn| (turn % workers) as usize)?;
        }
        Ok(())
    }
    #[inline]
    fn inside(&self) {
        spin(self.pacing.inside);
    }
    #[inline]
    fn after(&mut self) {
        if self.pacing.schedule == Schedule::RoundRobin {
            self.shared.turn().store(self.next + 1, Ordering::Release);
            self.next += self.pacing.workers as u64;
        }
        spin(self.pacing.outside);
    }
}

/// Waits until the turn reads `mine`: spins a little, then yields the CPU (a worker whose turn
/// it is may need this core). Gives up when runner sets the abort word (another worker failed),
/// or when runner has marked the worker whose turn it is (`whose(turn)`, an index) as ended:
/// runner may be blocked receiving from a channel and unable to set the abort word at once. No
/// pid is read: runner, which reaps every worker, says which have ended.
pub(crate) fn wait_turn(shared: &Shared, mine: u64, whose: &dyn Fn(u64) -> usize) -> Result<(), BackendError> {
    let (turn, abort) = (shared.turn(), shared.abort());
    let mut spins = 0u32;
    loop {
        let now = turn.load(Ordering::Acquire);
        if now == mine {
            return Ok(());
        }
        if abort.load(Ordering::Relaxed) != 0 {
            return Err(BackendError::TurnAborted);
        }
        if spins < 200 {
            std::hint::spin_loop();
            spins += 1;
            continue;
        }
        let worker = whose(now);
        // A worker marks its turn passed before it ends; a turn that stays with one that ended
        // never comes.
        if shared.slot(worker).ended.load(Ordering::Acquire) != 0 && turn.load(Ordering::Acquire) == now {
            return Err(BackendError::TurnHolderDied { worker });
        }
        std::thread::yield_now();
    }
}

/// `n` iterations of a loop the compiler cannot remove.
#[inline(never)]
pub(crate) fn spin(n: u64) {
    for i in 0..n {
        std::hint::black_box(i);
    }
}

/// Busy-loop iterations per nanosecond on this machine: the fastest of a few timed runs (the
/// slower ones were interrupted).
pub(crate) fn calibrate() -> f64 {
    const N: u64 = 200_000;
    spin(N / 10);
    let best = (0..5)
        .map(|_| {
            let t0 = now_ns();
            spin(N);
            now_ns().saturating_sub(t0).max(1)
        })
        .min()
        .unwrap_or(1);
    N as f64 / best as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibrated_spin_takes_about_its_time() {
        let per_ns = calibrate();
        assert!(per_ns > 0.01, "{per_ns}");
        let n = (2_000_000.0 * per_ns) as u64;
        let t0 = now_ns();
        spin(n);
        // 2 ms as calibrated; a busy machine may take longer. A calibration whose five timed
        // runs were all slowed (other tests on both cores) makes it shorter: 1.5 ms once failed
        // in CI. A tenth of it still catches a calibration off by an order of magnitude.
        let took = now_ns() - t0;
        assert!(took >= 200_000, "{n} iterations at {per_ns} a ns took {took} ns");
    }
}
