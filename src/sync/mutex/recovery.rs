//! The record of a lock taken over from a dead holder: who died holding it, who recovered it.
//! Encoded into the engine's recovery word by the recoverer and decoded by exec after the run,
//! both here: `(died + 1) << 32 | (recoverer + 1)`, 0 while nothing was recovered, with runner's
//! own mark in the low half when runner recovered after the run.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Serialize, Serializer};

/// The low half of the word when runner itself recovered (no worker has this index + 1).
const RUNNER: u64 = u32::MAX as u64;

/// A party to a recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    Worker(u32),
    /// Runner itself, after every worker had ended (no worker locked after the death).
    Runner,
    /// Not known (the holder died before it marked an update).
    Unknown,
}

/// The first recovery of a run. In JSON (the report and the trace alike) a worker is its
/// index, runner is `"runner"` and an unknown holder is `null`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Recovery {
    pub died_holding_lock: Holder,
    pub recovered_by: Holder,
}

impl Serialize for Holder {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Holder::Worker(index) => s.serialize_u32(*index),
            Holder::Runner => s.serialize_str("runner"),
            Holder::Unknown => s.serialize_none(),
        }
    }
}

/// The half-word of a holder: its index + 1, runner's mark, or 0 for unknown.
fn encode(holder: Holder) -> u64 {
    match holder {
        Holder::Worker(index) => index as u64 + 1,
        Holder::Runner => RUNNER,
        Holder::Unknown => 0,
    }
}

fn decode(half: u64) -> Holder {
    match half {
        0 => Holder::Unknown,
        RUNNER => Holder::Runner,
        n => Holder::Worker((n - 1) as u32),
    }
}

/// The holder named in the update marker's high half (`(worker + 1) << 32 | state`).
pub(super) fn marked(marker_state: u64) -> Holder {
    decode(marker_state >> 32)
}

/// Records a recovery unless one was recorded already: only the first is reported.
pub(super) fn record(word: &AtomicU64, recovery: Recovery) {
    let bits = encode(recovery.died_holding_lock) << 32 | encode(recovery.recovered_by);
    let _ = word.compare_exchange(0, bits, Ordering::Relaxed, Ordering::Relaxed);
}

/// The recovery recorded in `word`, if any.
pub(crate) fn read(word: &AtomicU64) -> Option<Recovery> {
    match word.load(Ordering::Relaxed) {
        0 => None,
        bits => Some(Recovery { died_holding_lock: decode(bits >> 32), recovered_by: decode(bits & 0xffff_ffff) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recovery_reads_back_as_recorded_and_only_the_first() {
        let word = AtomicU64::new(0);
        assert_eq!(read(&word), None);
        let first = Recovery { died_holding_lock: Holder::Worker(3), recovered_by: Holder::Runner };
        record(&word, first);
        record(&word, Recovery { died_holding_lock: Holder::Unknown, recovered_by: Holder::Worker(0) });
        assert_eq!(read(&word), Some(first));
        let json = serde_json::to_value(first).unwrap();
        assert_eq!(json, serde_json::json!({ "died_holding_lock": 3, "recovered_by": "runner" }));
        let unknown = Recovery { died_holding_lock: Holder::Unknown, recovered_by: Holder::Worker(0) };
        let json = serde_json::to_value(unknown).unwrap();
        assert_eq!(json, serde_json::json!({ "died_holding_lock": null, "recovered_by": 0 }));
        assert_eq!(marked(5 << 32 | 1), Holder::Worker(4));
    }
}
