//! What happens around each operation besides the operation itself: calibrated busy work
//! (`work: {inside, outside}`) and, for `schedule: round-robin`, waiting for one's turn.
//!
//! The hot loops are generic over [`Pace`]: [`Free`] does nothing and compiles away, so a job
//! without work or schedule runs the bare loop; [`Paced`] carries the loop counts and the turn.
//! Owns: the busy loop, its calibration and turn-taking. Does not own: the operations.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::clock::now_ns;
use crate::names::Schedule;
use crate::plan::Work;
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

    /// The pace of worker `index`; `pids` gives each worker's pid.
    pub(crate) fn paced<'a>(
        &self,
        index: u32,
        turn: &'a AtomicU64,
        abort: &'a AtomicU32,
        pids: &'a dyn Fn(usize) -> u32,
    ) -> Paced<'a> {
        Paced { pacing: *self, next: index as u64, turn, abort, pids }
    }
}

/// Busy work and, for round-robin, turn-taking.
pub(crate) struct Paced<'a> {
    pacing: Pacing,
    /// The number of this worker's next operation in the round-robin order.
    next: u64,
    turn: &'a AtomicU64,
    abort: &'a AtomicU32,
    /// Each worker's pid, by index (from the shared slots).
    pids: &'a dyn Fn(usize) -> u32,
}

impl Pace for Paced<'_> {
    #[inline]
    fn before(&mut self) -> Result<(), BackendError> {
        if self.pacing.schedule == Schedule::RoundRobin {
            let workers = self.pacing.workers as u64;
            let pids = self.pids;
            wait_turn(self.turn, self.next, self.abort, &|turn| pids((turn % workers) as usize))?;
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
            self.turn.store(self.next + 1, Ordering::Release);
            self.next += self.pacing.workers as u64;
        }
        spin(self.pacing.outside);
    }
}

/// Waits until `turn` reads `mine`: spins a little, then yields the CPU (a worker whose turn
/// it is may need this core). Gives up when runner sets `abort` (another worker failed), or
/// when the worker whose turn it is (`holder(turn)` gives its pid) has died: runner may be
/// blocked receiving from a channel and unable to say so.
pub(crate) fn wait_turn(
    turn: &AtomicU64,
    mine: u64,
    abort: &AtomicU32,
    holder: &dyn Fn(u64) -> u32,
) -> Result<(), BackendError> {
    let mut spins = 0u32;
    let mut last_look = 0;
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
        std::thread::yield_now();
        spins += 1;
        // Every few thousand yields (milliseconds), look whether the turn's holder still lives.
        if spins - last_look >= 4096 {
            last_look = spins;
            let pid = holder(now);
            if pid != 0 && !alive(pid) {
                return Err(BackendError::TurnHolderDied { pid });
            }
        }
    }
}

/// Whether worker `pid` runs: it exists, is no zombie (a dead child runner has not reaped yet
/// still answers `kill(pid, 0)`), and is a child of this process's parent, runner. Runner forks
/// nothing while workers run, so a worker's pid that runner has reaped early (ordered schedules
/// reap failed workers as they go) and the system has reused reads as dead, not as alive. When
/// `/proc` cannot tell (not mounted), only a pid that no longer exists reads as dead: the mutex's
/// waiters take a lock over on this answer, so "dead" must never be a guess.
pub(crate) fn alive(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        let gone =
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None) == Err(nix::errno::Errno::ESRCH);
        return !gone;
    };
    // After the command's closing parenthesis: the state, then the parent's pid.
    let mut fields = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_ascii_whitespace();
    let running = !matches!(fields.next(), None | Some("Z" | "X"));
    running && fields.next().and_then(|p| p.parse::<u32>().ok()) == Some(std::os::unix::process::parent_id())
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
        // At least 2 ms (minus slack for the calibration's best case); a slow machine may take longer.
        assert!(now_ns() - t0 >= 1_500_000);
    }
}
