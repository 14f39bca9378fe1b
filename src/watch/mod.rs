//! Watching a run: timed samples of operations in HDR histograms, the trace of every process,
//! and the statistics the report shows (percentiles, fairness).
//!
//! Owns: what workers record about themselves (`probe`, `ring`, `hist`), how the parent
//! reads it back and writes the Chrome trace ([`trace`]), the parent's own phases ([`layer`],
//! a `tracing` layer), and the statistics ([`stats`]). Does not own: the hot loops (see `sync`),
//! which only call the probe once per chunk.
//!
//! Costs, by design: one operation in [`SAMPLE_EVERY`] is timed (two or three clock reads);
//! per-operation trace events are kept for at most [`TRACE_OPS_TOTAL`] events across all
//! workers, sampled evenly beyond that.

pub(crate) mod hist;
pub mod layer;
pub(crate) mod probe;
pub mod ring;
pub mod stats;
pub mod trace;

use crate::plan::BackendPlan;
use crate::shm::Areas;

/// Operations from one timed sample to the next when operations are not traced, and the
/// chunk after which a worker publishes its count. An atomic add takes about 2 ns here, so a
/// chunk lasts about 8 µs, against which its two clock reads and one published count (about
/// 60 ns) stay under 1%; at 1024 they cost a measured 2-4% of the raw loop's speed.
pub const SAMPLE_EVERY: u64 = 4096;
/// Per-operation trace events kept across all workers of a run.
pub const TRACE_OPS_TOTAL: u64 = 1 << 17;
/// Room for a worker's lifecycle events (attach, barrier, run, end).
pub const LIFECYCLE_EVENTS: u64 = 8;

/// What to watch besides the always-on measurements.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Watch {
    /// Write a Chrome trace to this file.
    pub trace: Option<String>,
    /// Per-operation events in the trace.
    pub ops: bool,
    /// Keep every non-empty bucket of the latency histograms for the report (`--histogram`).
    pub histogram: bool,
}

/// Per-operation events one worker of `workers` may keep.
fn op_events(workers: u32, watch: &Watch) -> u64 {
    if watch.trace.is_some() && watch.ops { (TRACE_OPS_TOTAL / workers as u64).max(16) } else { 0 }
}

/// The shared areas a run of `workers` needs, each doing at most `units` operations (channel:
/// messages): a worker records at most one sample of each kind per unit, so its histograms hold
/// at most `units` pairs each, and a short run's block stays small (the tutorial's five blocks
/// and the header share one page: `shm`).
pub(crate) fn areas(workers: u32, units: u64, watch: &Watch) -> Areas {
    let pairs = units.saturating_add(1).min(hist::PAIRS as u64) as usize;
    Areas {
        hist_words: hist::words(pairs),
        ring_words: ring::words((LIFECYCLE_EVENTS + op_events(workers, watch)) as usize),
    }
}

/// Operations (channel: messages) from one timed sample to the next, so that the samples of a
/// traced run fill its event budget evenly: `iterations` per worker of `workers`, on `backend`.
pub(crate) fn stride(backend: BackendPlan, iterations: u64, workers: u32, watch: &Watch) -> u64 {
    let (units, untraced) = match backend {
        BackendPlan::Channel { batch, .. } => (iterations.div_ceil(batch as u64), (SAMPLE_EVERY / batch as u64).max(1)),
        _ => (iterations, SAMPLE_EVERY),
    };
    // The mutex times two events per sample: the wait and the operation.
    let per_sample = if backend == BackendPlan::Mutex { 2 } else { 1 };
    match op_events(workers, watch) / per_sample {
        0 => untraced,
        room => units.div_ceil(room).clamp(1, untraced),
    }
}
