//! The `channel` backend, Python's Queue pattern: workers never touch the value; each sends its
//! operations to the parent, which owns the value and applies them in arrival order.
//!
//! Owns what both transports share: the worker's send loop (batches, with busy work and turns
//! around each, one batch in `probe.stride` timed, the count published after each), the owner's
//! books ([`Served`], the trace's sample of applications) and the application of a message's
//! operands. Each transport owns its wire format and both ends of its loop:
//!
//! - `ipc` ([`ipc`]): ipc-channel's bytes channel over a Unix socket; the owner blocks in
//!   receive, so a waker process ticks it.
//! - `pipe` ([`pipe`]): a plain pipe; every message is one `write` of at most `PIPE_BUF` bytes,
//!   atomic across writers; the owner reads large chunks without blocking and polls with a
//!   timeout between them, so it needs no waker.
//!
//! Operands are the same for every operation of a worker, so a worker builds its message once
//! and its hot loop is the send and the publication of its count: nothing allocated or formatted.

mod ipc;
mod pipe;

use std::sync::atomic::Ordering;

use crate::clock::now_ns;
use crate::names::{BackendKind, Transport};
use crate::plan::Plan;
use crate::shm::Shared;
use crate::sync::pace::{Pace, Paced};
use crate::sync::{Backend, Order, Served, WorkerTally};
use crate::value::{Operation, Scalar, Value};
use crate::watch::probe::Probe;

/// How often the owner looks at signals, the deadline and progress while no message comes.
pub const TICK_EVERY_MS: u64 = 50;
/// ... and every this many messages while they do.
const TICK_EVERY_MESSAGES: u64 = 64;

pub struct Channel {
    op: Operation,
    batch: u32,
    link: Link,
    /// The value as the owner holds it: the initial value until `serve` has run.
    value: Value,
    /// For the trace: record one application in this many messages.
    applied_every: Option<u64>,
    /// Operations the workers send in all: once they are applied the owner is done.
    total: u64,
}

/// The transport's ends.
enum Link {
    Ipc(ipc::Ipc),
    Pipe(pipe::Pipe),
}

impl Channel {
    pub fn new(plan: &Plan, applied_every: Option<u64>) -> Result<Channel, String> {
        let link = match plan.backend.transport().unwrap_or_default() {
            Transport::Ipc => Link::Ipc(ipc::Ipc::new()?),
            Transport::Pipe => Link::Pipe(pipe::Pipe::new()?),
        };
        Ok(Channel {
            op: plan.operation,
            batch: plan.backend.batch(),
            link,
            value: plan.initial,
            applied_every,
            total: plan.total_ops(),
        })
    }

    fn drop_sender(&mut self) {
        match &mut self.link {
            Link::Ipc(ipc) => ipc.drop_sender(),
            Link::Pipe(pipe) => pipe.drop_sender(),
        }
    }
}

impl Backend for Channel {
    fn kind(&self) -> BackendKind {
        BackendKind::Channel
    }

    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, String> {
        match &self.link {
            Link::Ipc(ipc) => send_all(
                order,
                shared,
                probe,
                self.batch,
                ipc.sender(order.index, self.op.kind, order.operand, self.batch)?,
            ),
            Link::Pipe(pipe) => {
                send_all(order, shared, probe, self.batch, pipe.sender(order.index, order.operand, self.batch)?)
            }
        }
    }

    fn waker(&self) -> Option<Box<dyn FnOnce() -> i32 + '_>> {
        match &self.link {
            Link::Ipc(ipc) => ipc.waker(),
            // The owner never blocks on the pipe (non-blocking reads, naps): nothing needs to wake it.
            Link::Pipe(_) => None,
        }
    }

    fn after_fork(&mut self) {
        // Only workers send: with the parent's copy gone, the owner's loop ends when the last
        // worker's copy closes.
        self.drop_sender();
    }

    fn leave(&mut self) {
        // A worker waiting to be dismissed must not keep the owner waiting for more.
        self.drop_sender();
    }

    fn in_child(&mut self) {
        // Only the owner receives: a worker holding the receiving end would keep it open for
        // senders after the owner is gone.
        match &mut self.link {
            Link::Ipc(ipc) => ipc.in_child(),
            Link::Pipe(pipe) => pipe.in_child(),
        }
    }

    fn serve(
        &mut self,
        workers: usize,
        alive: &mut dyn FnMut() -> bool,
        tick: &mut dyn FnMut() -> bool,
    ) -> Result<Option<Served>, String> {
        let mut books = Books::new(workers, self.total, self.applied_every);
        let (value, kind, link) = (self.value, self.op.kind, &self.link);
        let end = with_scalar!(value, T, x0 => with_op!(kind, K => {
            let x: T = match link {
                Link::Ipc(ipc) => ipc.serve::<T, K>(x0, kind, workers, &mut books, alive, tick)?,
                Link::Pipe(pipe) => pipe.serve::<T, K>(x0, workers, &mut books, tick)?,
            };
            x.to_value()
        }));
        self.value = end;
        Ok(Some(books.served))
    }

    fn final_value(&self, _shared: &Shared) -> Value {
        self.value
    }
}

/// The worker's side, whatever the transport: its operations `batch` at a time, each batch
/// sent by `send(n)`, with the busy work and turns around each (round-robin has batch 1: one
/// operation each), one batch in `probe.stride` timed, and the count published after each.
#[inline(always)]
fn send_all(
    order: &Order,
    shared: &Shared,
    probe: &mut Probe<'_>,
    batch: u32,
    mut send: impl FnMut(u64) -> Result<(), String>,
) -> Result<WorkerTally, String> {
    let (index, iterations) = (order.index, order.iterations);
    let pids = |i: usize| shared.slot(i).pid.load(Ordering::Relaxed);
    let mut pace: Option<Paced<'_>> =
        (!order.pacing.is_free()).then(|| order.pacing.paced(index, shared.turn(), shared.abort(), &pids));
    let slot = shared.slot(index as usize);
    let batch = batch as u64;
    let mut sent = 0;
    let mut batches = 0u64;
    while sent < iterations {
        let n = (iterations - sent).min(batch);
        if let Some(pace) = pace.as_mut() {
            pace.before()?;
            for _ in 0..n {
                pace.inside();
            }
        }
        let timed = batches.is_multiple_of(probe.stride);
        let t0 = if timed { now_ns() } else { 0 };
        send(n)?;
        if timed {
            probe.send(t0, now_ns(), n);
        }
        if let Some(pace) = pace.as_mut() {
            pace.after();
            for _ in 1..n {
                crate::sync::pace::spin(order.pacing.outside);
            }
        }
        batches += 1;
        sent += n;
        slot.ops.store(order.done_before + sent, Ordering::Relaxed);
    }
    Ok(WorkerTally { ops: sent, retries: 0, recoveries: 0 })
}

/// The owner's books, whatever the transport: what it applied per worker, the messages and
/// bytes, and a sample of the applications for the trace.
struct Books {
    served: Served,
    applied: u64,
    total: u64,
    /// Record one application in this many messages.
    sample_every: u64,
    /// Messages until the next recorded application.
    sample_in: u64,
}

impl Books {
    fn new(workers: usize, total: u64, applied_every: Option<u64>) -> Books {
        Books {
            served: Served { applied: vec![0; workers], messages: 0, bytes: 0, events: Vec::new() },
            applied: 0,
            total,
            sample_every: applied_every.unwrap_or(u64::MAX).max(1),
            sample_in: 0,
        }
    }

    /// A message of `ops` operations and `bytes` bytes from `worker`, applied just now.
    #[inline(always)]
    fn book(&mut self, worker: usize, ops: u64, bytes: usize) {
        if self.sample_in == 0 {
            self.served.events.push((now_ns(), worker as u32));
            self.sample_in = self.sample_every;
        }
        self.sample_in -= 1;
        self.served.applied[worker] += ops;
        self.served.messages += 1;
        self.served.bytes += bytes as u64;
        self.applied += ops;
    }

    /// Every operation of the run is applied: the owner is done.
    #[inline(always)]
    fn all_applied(&self) -> bool {
        self.applied == self.total
    }

    /// Time to look at signals, the deadline and progress while messages flow.
    #[inline(always)]
    fn tick_due(&self) -> bool {
        self.served.messages.is_multiple_of(TICK_EVERY_MESSAGES)
    }
}

/// Applies a message's operands in order: each `width` bytes, the little-endian low bytes of
/// the value's bits.
#[inline(always)]
fn apply_operands<T: Scalar, const K: u8>(mut x: T, operands: &[u8], width: usize) -> T {
    let size = std::mem::size_of::<T>();
    if width == size {
        // The pipe's records hold exactly the value's bytes: with the width known at compile
        // time each record is one load, and the compiler vectorises what it may (an integer
        // sum; a double's additions stay in order).
        for record in operands.chunks_exact(size) {
            let mut bits = [0u8; 8];
            bits[..size].copy_from_slice(record);
            x = x.apply::<K>(T::from_bits(u64::from_le_bytes(bits)));
        }
        return x;
    }
    for record in operands.chunks_exact(width) {
        let mut bits = [0u8; 8];
        bits[..width].copy_from_slice(record);
        x = x.apply::<K>(T::from_bits(u64::from_le_bytes(bits)));
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn books_sample_one_application_in_every() {
        let mut books = Books::new(2, 10, Some(3));
        for m in 0..7 {
            books.book(m % 2, 1, 12);
        }
        assert_eq!(books.served.events.len(), 3, "messages 0, 3 and 6");
        assert_eq!(books.served.applied, [4, 3]);
        assert_eq!((books.served.messages, books.served.bytes), (7, 84));
        assert!(!books.all_applied());
    }
}
