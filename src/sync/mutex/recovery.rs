//! The record of every lock taken over from a dead holder: who died holding it, who took it
//! over, and whether the value was restored from the update marker. Each worker dies at most
//! once, so the record lives in the dead worker's own slot (`shm::Slot::recovered_by` and
//! `recovered_ns`): the slots are a list sized by the worker count, written by the recoverer
//! and read by exec after the run, both here. `recovered_by` is 0 while nothing was recovered,
//! else the recoverer (`index + 1`, or runner's mark when runner recovered after the run) with
//! [`RESTORED`] when the value was restored.

use std::sync::atomic::Ordering;

use serde::{Serialize, Serializer};

use crate::clock::now_ns;
use crate::shm::Shared;

/// The recoverer's part when runner itself recovered (no worker has this index + 1).
const RUNNER: u32 = (1 << 31) - 1;
/// Set when the recoverer restored the value from the update marker.
const RESTORED: u32 = 1 << 31;

/// A party to a recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    Worker(u32),
    /// Runner itself, after every worker had ended (no worker locked after the death).
    Runner,
}

/// One recovery of the run. In JSON (the report and the trace alike) a worker is its index and
/// runner is `"runner"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Recovery {
    pub died_holding_lock: u32,
    pub recovered_by: Holder,
    /// The dead holder had marked an update (a fault inside the lock), and the recoverer put
    /// the value back as it was before it: that operation is not applied. False when no update
    /// was marked (a holder killed between its lock and unlock otherwise, whose update may or
    /// may not have been written).
    pub restored: bool,
    /// When the lock was taken over (CLOCK_MONOTONIC ns): the trace's moment of it. Not in
    /// the JSON, which says who and whether, not when.
    #[serde(skip)]
    pub at_ns: u64,
}

impl Serialize for Holder {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Holder::Worker(index) => s.serialize_u32(*index),
            Holder::Runner => s.serialize_str("runner"),
        }
    }
}

/// Records that the lock worker `dead` died holding was taken over by `by`.
pub(super) fn record(shared: &Shared, dead: u32, by: Holder, restored: bool) {
    let slot = shared.slot(dead as usize);
    let by = match by {
        Holder::Worker(index) => index + 1,
        Holder::Runner => RUNNER,
    };
    slot.recovered_ns.store(now_ns(), Ordering::Relaxed);
    slot.recovered_by.store(by | if restored { RESTORED } else { 0 }, Ordering::Release);
}

/// Every recovery recorded in `shared`, in the order they happened.
pub(crate) fn read(shared: &Shared) -> Vec<Recovery> {
    let mut found: Vec<Recovery> = (0..shared.workers())
        .filter_map(|index| {
            let slot = shared.slot(index);
            let bits = slot.recovered_by.load(Ordering::Acquire);
            let recovered_by = match bits & !RESTORED {
                0 => return None,
                RUNNER => Holder::Runner,
                n => Holder::Worker(n - 1),
            };
            let at_ns = slot.recovered_ns.load(Ordering::Relaxed);
            Some(Recovery { died_holding_lock: index as u32, recovered_by, restored: bits & RESTORED != 0, at_ns })
        })
        .collect();
    found.sort_by_key(|r| (r.at_ns, r.died_holding_lock));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shm::Areas;

    #[test]
    fn every_recovery_reads_back_as_recorded_in_order() {
        let shared = Shared::new(4, Areas { hist_words: 0, ring_words: 0 }).unwrap();
        assert_eq!(read(&shared), vec![]);
        record(&shared, 3, Holder::Worker(0), true);
        record(&shared, 1, Holder::Runner, false);
        let all = read(&shared);
        assert!(all[0].at_ns > 0 && all[0].at_ns <= all[1].at_ns, "{all:?}");
        let at = |i: usize| all[i].at_ns;
        assert_eq!(
            all,
            vec![
                Recovery { died_holding_lock: 3, recovered_by: Holder::Worker(0), restored: true, at_ns: at(0) },
                Recovery { died_holding_lock: 1, recovered_by: Holder::Runner, restored: false, at_ns: at(1) },
            ]
        );
        let json = serde_json::to_value(all[1]).unwrap();
        assert_eq!(json, serde_json::json!({ "died_holding_lock": 1, "recovered_by": "runner", "restored": false }));
    }
}
