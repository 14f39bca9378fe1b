//! A worker's instruments: a timed sample of its operations (one in `stride`) goes into its
//! latency histograms and, with per-operation tracing, into its trace ring. The loops call the
//! probe once per chunk of `stride` operations, so the untimed operations pay nothing.

use std::sync::atomic::AtomicU64;

use super::hist;
use super::ring::{Kind, Ring};

pub(crate) struct Probe<'a> {
    /// Operations (channel: messages) from one timed sample to the next.
    pub(crate) stride: u64,
    /// Whether timed samples also become trace events.
    trace_ops: bool,
    ring: Ring<'a>,
    op: hist::Samples,
    wait: hist::Samples,
}

impl<'a> Probe<'a> {
    pub(crate) fn new(stride: u64, trace_ops: bool, ring: &'a [AtomicU64]) -> Probe<'a> {
        Probe {
            stride: stride.max(1),
            trace_ops,
            ring: Ring::new(ring),
            op: hist::Samples::default(),
            wait: hist::Samples::default(),
        }
    }

    /// A lifecycle event of the worker (always traced: a handful per worker).
    pub(crate) fn event(&mut self, ts: u64, dur: u64, kind: Kind) {
        self.ring.push(ts, dur, kind, 0);
    }

    /// Mutex: asked for the lock at `t0`, got it at `t1`, released it at `t2`.
    #[inline]
    pub(crate) fn locked(&mut self, t0: u64, t1: u64, t2: u64) {
        self.op.record(t2.saturating_sub(t0).max(1));
        self.wait.record(t1.saturating_sub(t0).max(1));
        if self.trace_ops {
            self.ring.push(t0, t1.saturating_sub(t0), Kind::LockWait, 0);
            self.ring.push(t1, t2.saturating_sub(t1), Kind::LockHeld, 0);
        }
    }

    /// Atomic: one read-modify-write from `t0` to `t1` with `retries` failed compare-exchanges.
    #[inline]
    pub(crate) fn rmw(&mut self, t0: u64, t1: u64, retries: u64) {
        self.op.record(t1.saturating_sub(t0).max(1));
        if self.trace_ops {
            self.ring.push(t0, t1.saturating_sub(t0), Kind::Rmw, retries.min(u32::MAX as u64) as u32);
        }
    }

    /// None: one load and store from `t0` to `t1`.
    #[inline]
    pub(crate) fn update(&mut self, t0: u64, t1: u64) {
        self.op.record(t1.saturating_sub(t0).max(1));
        if self.trace_ops {
            self.ring.push(t0, t1.saturating_sub(t0), Kind::Update, 0);
        }
    }

    /// Channel: a message of `ops` operations sent from `t0` to `t1`; one operation's latency is
    /// the send's time divided by its operations.
    #[inline]
    pub(crate) fn send(&mut self, t0: u64, t1: u64, ops: u64) {
        self.op.record((t1.saturating_sub(t0) / ops.max(1)).max(1));
        if self.trace_ops {
            self.ring.push(t0, t1.saturating_sub(t0), Kind::Send, ops.min(u32::MAX as u64) as u32);
        }
    }

    /// Writes the histograms into the worker's shared area.
    pub(crate) fn finish(&self, area: &[AtomicU64]) {
        self.op.export(0, area);
        self.wait.export(1, area);
    }
}
