//! The `channel` backend, Python's Queue pattern: workers never touch the value; each sends its
//! operations to the parent, which owns the value and applies them in arrival order.
//!
//! Owns what both transports share: the worker's send loop (batches, with busy work and turns
//! around each, one batch in `probe.stride` timed, the count published after each), the owner's
//! books ([`Served`], the trace's sample of applications) and the application of a message's
//! operands. Its two sides are two types: the workers' [`Sender`] (the trait's `work`) and the
//! parent's [`Owner`] (`serve`, and the ipc owner's waker), so that a process drops the side it
//! must not hold. Each transport owns its wire format and both ends of its loop:
//!
//! - `pipe` (the default, the fastest): a plain pipe; every message is one `write` of at most
//!   `PIPE_BUF` bytes, atomic across writers; the owner reads large chunks without blocking and
//!   naps between them, so it needs no waker.
//! - `ipc`: ipc-channel's bytes channel over a Unix socket; the owner blocks in receive, so a
//!   waker process ticks it.
//!
//! Operands are the same for every operation of a worker, so a worker builds its message once
//! and its hot loop is the send and the publication of its count: nothing allocated or formatted.

mod ipc;
mod pipe;

use std::sync::atomic::Ordering;

use crate::clock::now_ns;
use crate::names::Transport;
use crate::shm::Shared;
use crate::sync::pace::{Pace, Paced};
use crate::sync::{Backend, BackendError, Order, Served, Setup, WorkerTally};
use crate::value::{Operation, Scalar, Value};
use crate::watch::probe::Probe;

/// How often the owner looks at signals, the deadline and progress while no message comes.
pub(crate) const TICK_EVERY_MS: u64 = 50;
/// ... and every this many messages while they do.
const TICK_EVERY_MESSAGES: u64 = 64;

/// Makes the channel: the workers' side and the owner's.
pub(crate) fn new(setup: &Setup, batch: u32, transport: Transport) -> Result<(Sender, Owner), BackendError> {
    let (tx, rx) = match transport {
        Transport::Ipc => {
            let (tx, rx) = ipc::channel()?;
            (Tx::Ipc(tx), Rx::Ipc(rx))
        }
        Transport::Pipe => {
            let (tx, rx) = pipe::channel()?;
            (Tx::Pipe(tx), Rx::Pipe(rx))
        }
        // The planner gives this transport only to the Redis engine, which sets up its own.
        Transport::RedisStream => {
            return Err(BackendError::Redis {
                doing: "setting up",
                error: "a Redis stream needs engine: redis".into(),
            });
        }
    };
    let sender = Sender { op: setup.operation, batch, tx };
    let owner = Owner {
        op: setup.operation,
        value: setup.initial,
        applied_every: setup.applied_every.map(|stride| timed_every(stride, batch)),
        total: setup.total_ops,
        rx,
    };
    Ok((sender, owner))
}

/// The workers' side: the sending end. The parent drops it after the last fork, and a worker
/// once its work is over, so that the owner's loop ends when the last worker's copy closes.
pub(crate) struct Sender {
    op: Operation,
    batch: u32,
    tx: Tx,
}

enum Tx {
    Ipc(ipc::IpcSender),
    Pipe(pipe::PipeSender),
}

impl Backend for Sender {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        match &self.tx {
            Tx::Ipc(ipc) => send_all(
                order,
                shared,
                probe,
                self.batch,
                ipc.sender(order.index, self.op.kind, order.operand, self.batch),
            ),
            Tx::Pipe(pipe) => {
                send_all(order, shared, probe, self.batch, pipe.sender(order.index, order.operand, self.batch))
            }
        }
    }
}

/// The parent's side: the receiving end and the value. A worker drops it right after its fork:
/// a worker holding the receiving end would keep it open for senders after the owner is gone.
pub(crate) struct Owner {
    op: Operation,
    /// The value as the owner holds it: the initial value until `serve` has run.
    value: Value,
    /// For the trace: the operations from one timed send's first to the next ([`timed_every`]);
    /// the owner records the application of the message holding each multiple.
    applied_every: Option<u64>,
    /// Operations the workers send in all: once they are applied the owner is done.
    total: u64,
    rx: Rx,
}

enum Rx {
    Ipc(ipc::IpcOwner),
    Pipe(pipe::PipeOwner),
}

impl Owner {
    /// The body of a waker process, for an owner that blocks (ipc): forked before the workers,
    /// it wakes the owner now and then. The pipe's owner never blocks (non-blocking reads,
    /// naps): nothing needs to wake it.
    pub(crate) fn waker(&mut self) -> Option<Box<dyn FnOnce() -> i32>> {
        match &mut self.rx {
            Rx::Ipc(ipc) => ipc.waker(),
            Rx::Pipe(_) => None,
        }
    }

    /// From the barrier's release until every worker is done sending: receives and applies.
    /// `alive` says whether any worker is still at work; `tick` is called now and then, for
    /// progress, and says false when the run must stop.
    pub(crate) fn serve(
        &mut self,
        workers: usize,
        alive: &mut dyn FnMut() -> bool,
        tick: &mut dyn FnMut() -> bool,
    ) -> Result<Served, BackendError> {
        let mut books = Books::new(workers, self.total, self.applied_every);
        let (value, kind, rx) = (self.value, self.op.kind, &self.rx);
        let end = with_scalar!(value, T, x0 => with_op!(kind, K => {
            let x: T = match rx {
                Rx::Ipc(ipc) => ipc.serve::<T, K>(x0, kind, workers, &mut books, alive, tick)?,
                Rx::Pipe(pipe) => pipe.serve::<T, K>(x0, workers, &mut books, tick)?,
            };
            x.to_value()
        }));
        self.value = end;
        Ok(books.served)
    }

    /// The value the owner holds: the final value once `serve` has returned.
    pub(crate) fn value(&self) -> Value {
        self.value
    }
}

/// Operations from one timed send to the next: `stride` batches of `batch`.
fn timed_every(stride: u64, batch: u32) -> u64 {
    stride.max(1).saturating_mul(batch.max(1) as u64)
}

/// Whether the operations `[before, before + n)` of a worker hold a multiple of `every`: the
/// rule by which a worker times a send and by which the owner, counting each worker's applied
/// operations, finds that send's application (without anything on the wire), whatever a fault
/// did to the batches and however the transport cut a batch into messages (`n <= every`: at
/// most one multiple). Without faults, one batch in `stride`, the first included.
#[inline(always)]
fn holds_timed(before: u64, n: u64, every: u64) -> bool {
    let r = before % every;
    r == 0 || r + n > every
}

/// The worker's side, whatever the transport: its operations `batch` at a time, each batch
/// sent by `send(n)`, with the busy work and turns around each (round-robin has batch 1: one
/// operation each), one batch in `probe.stride` timed ([`holds_timed`]), and the count
/// published after each.
#[inline(always)]
pub(in crate::sync) fn send_all(
    order: &Order,
    shared: &Shared,
    probe: &mut Probe<'_>,
    batch: u32,
    mut send: impl FnMut(u64) -> Result<(), BackendError>,
) -> Result<WorkerTally, BackendError> {
    let (index, iterations) = (order.index, order.iterations);
    let mut pace: Option<Paced<'_>> = (!order.pacing.is_free()).then(|| order.pacing.paced(index, shared));
    let slot = shared.slot(index as usize);
    let every = timed_every(probe.stride, batch);
    let batch = batch as u64;
    let mut sent = 0;
    while sent < iterations {
        let n = (iterations - sent).min(batch);
        if let Some(pace) = pace.as_mut() {
            pace.before()?;
            for _ in 0..n {
                pace.inside();
            }
        }
        let timed = holds_timed(order.done_before + sent, n, every);
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
        sent += n;
        slot.ops.store(order.done_before + sent, Ordering::Relaxed);
    }
    Ok(WorkerTally { ops: sent, retries: 0 })
}

/// The owner's books, whatever the transport: what it applied per worker, the messages and
/// bytes, and (with `--trace-ops`) the application of each timed send, for the trace's flows.
struct Books {
    served: Served,
    applied: u64,
    total: u64,
    /// With `--trace-ops`: the workers' [`timed_every`].
    timed_every: Option<u64>,
}

impl Books {
    fn new(workers: usize, total: u64, timed_every: Option<u64>) -> Books {
        Books {
            served: Served { applied: vec![0; workers], messages: 0, bytes: 0, events: Vec::new(), apply: None },
            applied: 0,
            total,
            timed_every: timed_every.map(|every| every.max(1)),
        }
    }

    /// A message of `ops` operations and `bytes` bytes from `worker`, applied just now.
    #[inline(always)]
    pub(super) fn book(&mut self, worker: usize, ops: u64, bytes: usize) {
        if let Some(every) = self.timed_every {
            self.timed(worker, ops, every);
        }
        self.served.applied[worker] += ops;
        self.served.messages += 1;
        self.served.bytes += bytes as u64;
        self.applied += ops;
    }

    /// With `--trace-ops`: records the application of a message that holds a worker's timed
    /// operation (as the worker chose it, [`holds_timed`]), while the total leaves room.
    #[cold]
    fn timed(&mut self, worker: usize, ops: u64, every: u64) {
        let events = &mut self.served.events;
        if holds_timed(self.served.applied[worker], ops, every) && (events.len() as u64) < crate::watch::TRACE_OPS_TOTAL
        {
            events.push((now_ns(), worker as u32));
        }
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
    fn books_record_the_application_of_each_timed_send() {
        // Every third operation of each worker is timed: worker 0's 0 and 3, worker 1's 0.
        let mut books = Books::new(2, 10, Some(3));
        for m in 0..7 {
            books.book(m % 2, 1, 12);
        }
        let workers: Vec<u32> = books.served.events.iter().map(|e| e.1).collect();
        assert_eq!(workers, [0, 1, 0], "each worker's operations 0 and 3 (worker 1 sent 3)");
        assert_eq!(books.served.applied, [4, 3]);
        assert_eq!((books.served.messages, books.served.bytes), (7, 84));
        assert!(!books.all_applied());
    }

    #[test]
    fn the_owner_finds_the_send_a_worker_timed_whatever_the_cut() {
        // A worker times the batches that hold a multiple of `every`; the owner, seeing the same
        // operations cut into other messages (or after a fault's odd split), finds one each.
        let every = timed_every(4, 3);
        for (batches, messages) in [(vec![3u64; 10], vec![1u64; 30]), (vec![2, 3, 3, 3, 3, 3, 3], vec![5, 5, 5, 5])] {
            let timed = |sizes: &[u64]| {
                let mut before = 0;
                let mut found = Vec::new();
                for &n in sizes {
                    if holds_timed(before, n, every) {
                        found.push((before + n - 1) / every);
                    }
                    before += n;
                }
                found
            };
            assert_eq!(timed(&batches), timed(&messages), "{batches:?} against {messages:?}");
        }
    }
}
