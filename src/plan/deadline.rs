//! When runner stops a run's workers: the deadline (stated, or the default scaled with the
//! work) and the grace between SIGTERM and SIGKILL. Plain arithmetic; no clock is read here.

use super::Work;
use crate::spec::limits::MAX_TIMEOUT_NS;

/// How long a run may take from the barrier's release, and the grace between SIGTERM and
/// SIGKILL when it takes longer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub timeout_ns: u64,
    /// Whether the job or the command line set it (else the default, scaled with the work).
    pub stated: bool,
    pub grace_ns: u64,
}

/// The grace between SIGTERM and SIGKILL, unless `--grace` says otherwise.
pub const DEFAULT_GRACE_NS: u64 = 2_000_000_000;

impl Deadline {
    /// The default: 30 s, plus 10 µs per operation, plus twice the busy work, at most the
    /// one-week limit a stated timeout has. Generous (the slowest backend does an operation in
    /// about 2 µs here), so that only a run that is stuck meets it, and finite, so that nothing
    /// waits for ever.
    pub(crate) fn default_for(total_ops: u64, work: Work) -> u64 {
        let per_op = 10_000u64.saturating_add(work.inside_ns.saturating_add(work.outside_ns).saturating_mul(2));
        30_000_000_000u64.saturating_add(total_ops.saturating_mul(per_op)).min(MAX_TIMEOUT_NS)
    }

    /// Whether this is the default held at the one-week limit (the formula gives more).
    pub fn capped(&self) -> bool {
        !self.stated && self.timeout_ns == MAX_TIMEOUT_NS
    }
}
