//! The one clock of a run: CLOCK_MONOTONIC in nanoseconds, read the same way by runner and by
//! every worker, so that their timestamps compare, and which machine's clock it is (a process
//! on another host reads another clock). Owns nothing else.

use nix::time::{ClockId, clock_gettime};

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process of a run.
pub fn now_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(0, |t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
}

/// Which CLOCK_MONOTONIC [`now_ns`] reads: this boot's id (`/proc/sys/kernel/random/boot_id`)
/// and the process's time namespace (which may offset the clock). Two processes whose `machine`
/// is the same read the same clock, so that a time one sent and one the other read subtract;
/// empty when the boot id cannot be read (nothing is then known to share it).
pub fn machine() -> String {
    let Ok(boot) = std::fs::read_to_string("/proc/sys/kernel/random/boot_id") else { return String::new() };
    let time_ns =
        std::fs::read_link("/proc/self/ns/time").map(|p| p.to_string_lossy().into_owned()).unwrap_or_default();
    format!("{} {time_ns}", boot.trim())
}
