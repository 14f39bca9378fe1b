//! A worker's trace events, kept in its area of the shared mapping so that they outlive the
//! worker: a SIGKILL loses at most the event being written.
//!
//! Layout in 64-bit words: `[count][ts, dur, kind << 32 | arg] * capacity`. An event's words
//! are written before the count that publishes it (release), so the parent, reading the count
//! first (acquire), never sees a torn event.

use std::sync::atomic::{AtomicU64, Ordering};

pub(crate) const WORDS_PER_EVENT: usize = 3;

/// What an event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// The worker runs, attached to the backend (instant).
    Attach = 1,
    /// Waiting at the start barrier (from arrival to release).
    Barrier = 2,
    /// All its operations.
    Run = 3,
    /// Its results are written; it exits next (instant).
    End = 4,
    /// Mutex: waiting for the lock.
    LockWait = 5,
    /// Mutex: holding the lock.
    LockHeld = 6,
    /// Atomic: one operation; `arg` is its failed compare-exchanges.
    Rmw = 7,
    /// Channel: one message sent; `arg` is its operations.
    Send = 8,
    /// None: one unsynchronised load and store.
    Update = 9,
}

impl Kind {
    pub fn from_u32(v: u32) -> Option<Kind> {
        use Kind::*;
        [Attach, Barrier, Run, End, LockWait, LockHeld, Rmw, Send, Update].into_iter().find(|k| *k as u32 == v)
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Attach => "attach",
            Kind::Barrier => "barrier wait",
            Kind::Run => "run",
            Kind::End => "end",
            Kind::LockWait => "lock wait",
            Kind::LockHeld => "lock held",
            Kind::Rmw => "atomic rmw",
            Kind::Send => "send",
            Kind::Update => "update",
        }
    }
}

/// One event: CLOCK_MONOTONIC nanoseconds, a duration (0 for an instant), its kind and argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    pub ts: u64,
    pub dur: u64,
    pub kind: Kind,
    pub arg: u32,
}

/// The words a ring of `capacity` events takes.
pub(crate) fn words(capacity: usize) -> usize {
    1 + capacity * WORDS_PER_EVENT
}

/// A worker's writer; events beyond the capacity are dropped (and counted by the parent as the
/// difference between what was sampled and what fits).
pub(crate) struct Ring<'a> {
    words: &'a [AtomicU64],
    len: usize,
    capacity: usize,
}

impl<'a> Ring<'a> {
    pub(crate) fn new(words: &'a [AtomicU64]) -> Ring<'a> {
        let capacity = words.len().saturating_sub(1) / WORDS_PER_EVENT;
        Ring { words, len: 0, capacity }
    }

    #[inline]
    pub(crate) fn push(&mut self, ts: u64, dur: u64, kind: Kind, arg: u32) {
        if self.len >= self.capacity {
            return;
        }
        let at = 1 + self.len * WORDS_PER_EVENT;
        self.words[at].store(ts, Ordering::Relaxed);
        self.words[at + 1].store(dur, Ordering::Relaxed);
        self.words[at + 2].store(((kind as u64) << 32) | arg as u64, Ordering::Relaxed);
        self.len += 1;
        self.words[0].store(self.len as u64, Ordering::Release);
    }
}

/// Reads the events a worker published, into memory taken at once and fallibly: when it cannot
/// be had (`ulimit -v`), an error that says so rather than an abort of runner.
pub(crate) fn read(words: &[AtomicU64]) -> Result<Vec<Event>, String> {
    let Some(count) = words.first() else { return Ok(Vec::new()) };
    let capacity = (words.len() - 1) / WORDS_PER_EVENT;
    let len = (count.load(Ordering::Acquire) as usize).min(capacity);
    let mut events = Vec::new();
    events.try_reserve_exact(len).map_err(|_| {
        let bytes = len * std::mem::size_of::<Event>();
        format!("a worker's {len} trace events ({bytes} bytes) did not fit in memory: not written")
    })?;
    events.extend((0..len).filter_map(|i| {
        let at = 1 + i * WORDS_PER_EVENT;
        let packed = words[at + 2].load(Ordering::Relaxed);
        Some(Event {
            ts: words[at].load(Ordering::Relaxed),
            dur: words[at + 1].load(Ordering::Relaxed),
            kind: Kind::from_u32((packed >> 32) as u32)?,
            arg: packed as u32,
        })
    }));
    Ok(events)
}
