//! The one clock of a run: CLOCK_MONOTONIC in nanoseconds, read the same way by runner and by
//! every worker, so that their timestamps compare. Owns nothing else.

use nix::time::{ClockId, clock_gettime};

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process of a run.
pub fn now_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(0, |t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
}
