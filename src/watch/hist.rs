//! Latency histograms: each worker records a sample of its operations into an HDR histogram on
//! its own heap and, when it ends, exports the recorded buckets as `(value, count)` pairs into
//! its area of the shared mapping; the parent merges them.
//!
//! An area: the number of pairs of each histogram, then the pairs of the first, then those of
//! the second right after them, so that a short run's export writes one page.

use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;

/// Histograms a worker keeps: one operation, and (mutex) the wait for the lock.
pub(crate) const KINDS: usize = 2;
/// `(value, count)` pairs exported per histogram; with 2 significant digits a histogram from
/// 1 ns to an hour has fewer buckets than this.
pub(crate) const PAIRS: usize = 2048;
/// Words of a worker's histogram area with room for `pairs` pairs (at most [`PAIRS`]) in each
/// histogram: the counts of pairs, then every histogram's pairs.
pub(crate) const fn words(pairs: usize) -> usize {
    KINDS * (1 + 2 * pairs)
}

/// A worker's histogram of nanoseconds from 1 ns to an hour, 2 significant digits, with 32-bit
/// counts: half the memory of 64-bit ones after its fork (a count saturates at 2^32 - 1 samples:
/// 1.7 x 10^13 operations at one sample in 4096). Fixed bounds: recording never allocates.
pub(crate) fn new() -> Histogram<u32> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 2).expect("valid bounds")
}

/// The histogram runner merges the workers' into: the same precision, but sized to the largest
/// value merged so far rather than to an hour (a short run's merge then zeroes a few hundred
/// bytes, not 18 KB). Only runner's merge grows it, never a worker's timed loop.
pub(crate) fn merged() -> Histogram<u32> {
    let mut h = Histogram::new(2).expect("valid precision");
    h.auto(true);
    h
}

/// Samples a worker keeps as they are before it starts a histogram.
const FEW: usize = 64;

/// A worker's latency samples: the first `FEW` kept as they are, an HDR histogram from then
/// on, so that a short run (the tutorial: one sample a worker) never allocates and zeroes the
/// histogram's 18 KB, which after a fork is a handful of page faults.
pub(crate) struct Samples {
    few: [u64; FEW],
    n: usize,
    hist: Option<Histogram<u32>>,
}

impl Default for Samples {
    fn default() -> Samples {
        Samples { few: [0; FEW], n: 0, hist: None }
    }
}

impl Samples {
    #[inline]
    pub(crate) fn record(&mut self, ns: u64) {
        match &mut self.hist {
            Some(h) => h.saturating_record(ns),
            None if self.n < FEW => {
                self.few[self.n] = ns;
                self.n += 1;
            }
            None => self.spill(ns),
        }
    }

    #[cold]
    fn spill(&mut self, ns: u64) {
        let mut h = new();
        for &v in &self.few[..self.n] {
            h.saturating_record(v);
        }
        h.saturating_record(ns);
        self.hist = Some(h);
    }

    /// Writes the samples as histogram `which` of an area: `(value, count)` pairs. The
    /// histograms before `which` are exported first (their pairs come before its own).
    pub(crate) fn export(&self, which: usize, area: &[AtomicU64]) {
        match &self.hist {
            Some(h) => {
                write_pairs(h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value() as u64)), which, area)
            }
            None => write_pairs(self.few[..self.n].iter().map(|&v| (v, 1)), which, area),
        }
    }
}

/// Where histogram `which`'s pairs start in an area: after the counts and the pairs of the
/// histograms before it (written before it, their counts published with `Release`).
fn pairs_start(area: &[AtomicU64], which: usize) -> usize {
    KINDS + (0..which).map(|k| 2 * (area[k].load(Ordering::Acquire) as usize).min(PAIRS)).sum::<usize>()
}

/// Writes at most [`PAIRS`] `(value, count)` pairs as histogram `which` of an area, then their
/// number.
fn write_pairs(pairs: impl Iterator<Item = (u64, u64)>, which: usize, area: &[AtomicU64]) {
    let base = pairs_start(area, which);
    // An area sized for fewer pairs (a short run's) never holds more than it has room for.
    let room = PAIRS.min(area.len().saturating_sub(base) / 2);
    let mut n = 0;
    for (value, count) in pairs.take(room) {
        area[base + 2 * n].store(value, Ordering::Relaxed);
        area[base + 1 + 2 * n].store(count, Ordering::Relaxed);
        n += 1;
    }
    area[which].store(n as u64, Ordering::Release);
}

/// Adds histogram `which` of an area into `into`.
pub(crate) fn import(area: &[AtomicU64], which: usize, into: &mut Histogram<u32>) {
    let base = pairs_start(area, which);
    let n = (area[which].load(Ordering::Acquire) as usize).min(PAIRS);
    for i in 0..n {
        let value = area[base + 2 * i].load(Ordering::Relaxed);
        let count = area[base + 1 + 2 * i].load(Ordering::Relaxed);
        let _ = into.record_n(value.max(1), count.min(u32::MAX as u64) as u32);
    }
}
