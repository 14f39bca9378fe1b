//! Latency histograms: each worker records a sample of its operations into an HDR histogram on
//! its own heap and, when it ends, exports the recorded buckets as `(value, count)` pairs into
//! its area of the shared mapping; the parent merges them.

use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;

/// Histograms a worker keeps: one operation, and (mutex) the wait for the lock.
pub const KINDS: usize = 2;
/// `(value, count)` pairs exported per histogram; with 2 significant digits a histogram from
/// 1 ns to an hour has fewer buckets than this.
pub const PAIRS: usize = 2048;
/// Words of a worker's histogram area: per histogram a count of pairs, then the pairs.
pub const WORDS: usize = KINDS * (1 + 2 * PAIRS);

/// A histogram of nanoseconds from 1 ns to an hour, 2 significant digits.
pub fn new() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 2).expect("valid bounds")
}

/// A worker's histogram: the same buckets with 32-bit counts, half the memory a worker touches
/// after its fork (a count saturates at 2^32 - 1 samples, 4 x 10^12 operations at one sample in
/// 1024).
pub fn new_worker() -> Histogram<u32> {
    Histogram::new_with_bounds(1, 3_600_000_000_000, 2).expect("valid bounds")
}

/// Writes `h` as histogram `which` of an area.
pub fn export<C: hdrhistogram::Counter>(h: &Histogram<C>, which: usize, area: &[AtomicU64]) {
    let base = which * (1 + 2 * PAIRS);
    let mut n = 0;
    for v in h.iter_recorded() {
        if n == PAIRS {
            break;
        }
        area[base + 1 + 2 * n].store(v.value_iterated_to(), Ordering::Relaxed);
        area[base + 2 + 2 * n].store(v.count_at_value().as_u64(), Ordering::Relaxed);
        n += 1;
    }
    area[base].store(n as u64, Ordering::Release);
}

/// Adds histogram `which` of an area into `into`.
pub fn import(area: &[AtomicU64], which: usize, into: &mut Histogram<u64>) {
    let base = which * (1 + 2 * PAIRS);
    let n = (area[base].load(Ordering::Acquire) as usize).min(PAIRS);
    for i in 0..n {
        let value = area[base + 1 + 2 * i].load(Ordering::Relaxed);
        let count = area[base + 2 + 2 * i].load(Ordering::Relaxed);
        let _ = into.record_n(value.max(1), count);
    }
}
