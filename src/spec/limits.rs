//! The limits a job file's values must keep, in one place: the planner checks them, the reader
//! checks the durations against them, and the job schema (`schema.rs`) states the same numbers
//! and units, so that an editor flags what runner refuses.

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
/// The units of a duration and their length in nanoseconds.
pub(crate) const DURATION_UNITS: [(&str, u64); 5] =
    [("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)];
/// The unit a timeout may use beyond [`DURATION_UNITS`], and its length in nanoseconds.
pub(crate) const MINUTE: (&str, u64) = ("m", 60_000_000_000);
