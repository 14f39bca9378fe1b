//! The limits a job file's values must keep, and the units of its durations, in one place: the
//! planner checks the limits, the reader (and the command line's `--timeout` and `--grace`, and
//! the overrides read back from words) reads durations in these units and checks them, and the
//! job schema (`schema.rs`) states the same numbers and units, so that an editor flags what
//! runner refuses.

/// Workers a job may fork, at most.
pub(crate) const MAX_WORKERS: u64 = 1024;
/// A channel message's operations, at most.
pub(crate) const MAX_BATCH: u64 = 65536;
/// Counted runs of a job (or of each matrix cell), at most.
pub(crate) const MAX_REPEAT: u64 = 1000;
/// Warm-up runs, at most.
pub(crate) const MAX_WARMUP: u64 = 100;
/// `pin` takes CPU numbers below this.
pub(crate) const CPU_LIMIT: u64 = 4096;
/// The exit codes a fault may exit with.
pub(crate) const EXIT_CODES: std::ops::RangeInclusive<u64> = 1..=255;
/// Busy work per operation (`work.inside`, `work.outside`), at most, in nanoseconds.
pub(crate) const MAX_WORK_NS: u64 = 1_000_000_000;
/// A timeout (and a stall), at most, in nanoseconds: a week.
pub(crate) const MAX_TIMEOUT_NS: u64 = 7 * 24 * 3600 * 1_000_000_000;
/// The units of busy work (`work.inside`, `work.outside`) and their length in nanoseconds.
pub(crate) const DURATION_UNITS: [(&str, u64); 5] =
    [("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)];
/// The units of a timeout (and a stall, `--timeout`, `--grace`): [`DURATION_UNITS`], then
/// minutes and hours. A bare number is seconds.
pub(crate) const TIMEOUT_UNITS: [(&str, u64); 7] = {
    let mut units = [("", 0); 7];
    let mut i = 0;
    while i < DURATION_UNITS.len() {
        units[i] = DURATION_UNITS[i];
        i += 1;
    }
    units[DURATION_UNITS.len()] = ("m", 60_000_000_000);
    units[DURATION_UNITS.len() + 1] = ("h", 3_600_000_000_000);
    units
};
/// The units, listed for a message: `ns, us, µs, ms, s, m, h`.
pub(crate) fn unit_list(units: &[(&str, u64)]) -> String {
    units.iter().map(|(u, _)| *u).collect::<Vec<_>>().join(", ")
}
