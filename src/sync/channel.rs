//! The `channel` backend, Python's Queue pattern: workers never touch the value; each sends its
//! operations over an ipc-channel (a Unix socket made before forking) to the parent, which owns
//! the value and applies them in arrival order.
//!
//! Owns: the wire format and both ends of the loop. A message is an 8-byte header
//! `[worker u32 LE][operation code u8][type code u8][0u8; 2]` followed by one 8-byte
//! little-endian operand per operation (the value's bits): `batch` operations per message, the
//! last batch possibly shorter. The owner checks every message before applying it.
//!
//! The owner blocks in ipc-channel's receive (it has no timeout for raw bytes), so a small
//! waker process, forked first, sends it a tick every [`TICK_EVERY_MS`]: at each tick the owner
//! looks at signals, the deadline and progress, and once every worker has ended it drains what
//! they sent and stops. (The parent drops its own copy of the sender after forking; the
//! waker's copy dies with the waker.)

use ipc_channel::IpcError;
use ipc_channel::ipc::{self, IpcBytesReceiver, IpcBytesSender};
use std::sync::atomic::Ordering;

use crate::exec::now_ns;
use crate::plan::Plan;
use crate::sync::pace::{Pace, Paced};
use crate::sync::shm::Shared;
use crate::sync::{Backend, BackendKind, Order, Served, WorkerTally};
use crate::value::{OpKind, Operation, Scalar, Value, ValueType};
use crate::watch::probe::Probe;

const HEADER: usize = 8;
const RECORD: usize = 8;
/// The worker index of a waker's tick (no worker has it: at most 1024 workers).
const TICK: u32 = u32::MAX;
/// How often the waker ticks.
pub const TICK_EVERY_MS: u64 = 50;

pub struct Channel {
    op: Operation,
    batch: u32,
    sender: Option<IpcBytesSender>,
    /// The owner's end; `None` in workers.
    receiver: Option<IpcBytesReceiver>,
    /// The value as the owner holds it: the initial value until `serve` has run.
    value: Value,
    /// For the trace: record one application in this many messages.
    applied_every: Option<u64>,
    /// Operations the workers send in all: once they are applied the owner is done.
    total: u64,
}

fn type_code(ty: ValueType) -> u8 {
    match ty {
        ValueType::I => 0,
        ValueType::D => 1,
        ValueType::C => 2,
    }
}

impl Channel {
    pub fn new(plan: &Plan, applied_every: Option<u64>) -> Result<Channel, String> {
        let (sender, receiver) = ipc::bytes_channel().map_err(|e| format!("cannot create the ipc-channel: {e}"))?;
        Ok(Channel {
            op: plan.operation,
            batch: plan.batch,
            sender: Some(sender),
            receiver: Some(receiver),
            value: plan.initial,
            applied_every,
            total: plan.total_ops(),
        })
    }

    /// Checks a message's header and length; returns the worker and the operand bytes.
    fn check<'m>(&self, msg: &'m [u8], workers: usize) -> Result<(usize, &'m [u8]), String> {
        if msg.len() < HEADER + RECORD || !(msg.len() - HEADER).is_multiple_of(RECORD) {
            return Err(format!("malformed message of {} bytes", msg.len()));
        }
        let worker = u32::from_le_bytes([msg[0], msg[1], msg[2], msg[3]]) as usize;
        if worker >= workers {
            return Err(format!("message from unknown worker {worker}"));
        }
        if OpKind::from_code(msg[4]) != Some(self.op.kind) || msg[5] != type_code(self.value.ty()) {
            return Err(format!("message from worker {worker} carries another operation or type"));
        }
        Ok((worker, &msg[HEADER..]))
    }
}

impl Backend for Channel {
    fn kind(&self) -> BackendKind {
        BackendKind::Channel
    }

    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, String> {
        let (index, iterations) = (order.index, order.iterations);
        // Busy work and turns around each message (round-robin has batch 1: one operation each).
        let pids = |i: usize| shared.slot(i).pid.load(Ordering::Relaxed);
        let mut pace: Option<Paced<'_>> =
            (!order.pacing.is_free()).then(|| order.pacing.paced(index, shared.turn(), shared.abort(), &pids));
        let sender = self.sender.as_ref().ok_or("the channel's sender is gone")?;
        let slot = shared.slot(index as usize);
        let batch = self.batch as u64;
        let mut msg = Vec::with_capacity(HEADER + self.batch as usize * RECORD);
        msg.extend_from_slice(&index.to_le_bytes());
        msg.extend_from_slice(&[self.op.kind.code(), type_code(self.value.ty()), 0, 0]);
        let operand = order.operand.bits().to_le_bytes();
        let mut sent = 0;
        let mut messages = 0u64;
        while sent < iterations {
            let n = (iterations - sent).min(batch);
            msg.truncate(HEADER);
            for _ in 0..n {
                msg.extend_from_slice(&operand);
            }
            if let Some(pace) = pace.as_mut() {
                pace.before()?;
                for _ in 0..n {
                    pace.inside();
                }
            }
            let timed = messages.is_multiple_of(probe.stride);
            let t0 = if timed { now_ns() } else { 0 };
            sender.send(&msg).map_err(|e| format!("cannot send to the owner: {e}"))?;
            if timed {
                probe.send(t0, now_ns(), n);
            }
            if let Some(pace) = pace.as_mut() {
                pace.after();
                for _ in 1..n {
                    crate::sync::pace::spin(order.pacing.outside);
                }
            }
            messages += 1;
            sent += n;
            slot.ops.store(order.done_before + sent, Ordering::Relaxed);
        }
        Ok(WorkerTally { ops: sent, retries: 0, recoveries: 0 })
    }

    fn waker(&self) -> Option<Box<dyn FnOnce() -> i32 + '_>> {
        let sender = self.sender.as_ref()?;
        Some(Box::new(move || {
            let mut tick = [0u8; HEADER];
            tick[..4].copy_from_slice(&TICK.to_le_bytes());
            // Ends when the owner is gone (the send fails) or runner kills it.
            while sender.send(&tick).is_ok() {
                std::thread::sleep(std::time::Duration::from_millis(TICK_EVERY_MS));
            }
            0
        }))
    }

    fn after_fork(&mut self) {
        // Only workers send: with the parent's copy gone, the receive loop ends when the last
        // worker's copy closes.
        self.sender = None;
    }

    fn leave(&mut self) {
        self.sender = None;
    }

    fn in_child(&mut self) {
        // Only the owner receives: a worker holding the receiving end would keep the socket
        // open for senders after the owner is gone.
        self.receiver = None;
    }

    fn serve(
        &mut self,
        workers: usize,
        alive: &mut dyn FnMut() -> bool,
        tick: &mut dyn FnMut() -> bool,
    ) -> Result<Option<Served>, String> {
        let receiver = self.receiver.as_ref().ok_or("the channel's receiver is gone")?;
        let mut served = Served { applied: vec![0; workers], messages: 0, bytes: 0, events: Vec::new() };
        let applied_every = self.applied_every.unwrap_or(u64::MAX);
        let value = self.value;
        let kind = self.op.kind;
        let mut applied = 0u64;
        let end = with_scalar!(value, T, x0 => with_op!(kind, K => {
            let mut x: T = x0;
            // Once every worker has ended, what they sent is all in the socket: drain it
            // without blocking, then stop.
            let mut draining = false;
            loop {
                let received = if draining { receiver.try_recv().map_err(|_| IpcError::Disconnected) } else { receiver.recv() };
                let msg = match received {
                    Ok(msg) => msg,
                    Err(IpcError::Disconnected) if draining => break,
                    // Every sender closed: the workers are done, or dying. A worker killed in the
                    // middle of a large message (which ipc-channel sends in fragments over a
                    // second socket) gives the same error while the others still send: go on
                    // receiving while any worker runs.
                    Err(IpcError::Disconnected) if alive() => {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                        continue;
                    }
                    Err(IpcError::Disconnected) => break,
                    Err(e) => return Err(format!("cannot receive from the workers: {e:?}")),
                };
                // The waker's tick: nothing to apply; a moment to look around.
                if msg.len() == HEADER && msg[..4] == TICK.to_le_bytes() {
                    if draining {
                        continue;
                    }
                    if !tick() {
                        break;
                    }
                    draining = !alive();
                    continue;
                }
                let (worker, operands) = self.check(&msg, workers)?;
                for record in operands.chunks_exact(RECORD) {
                    let bits = u64::from_le_bytes(record.try_into().expect("chunks_exact gives 8 bytes"));
                    x = x.apply::<K>(T::from_bits(bits));
                }
                served.applied[worker] += (operands.len() / RECORD) as u64;
                if served.messages.is_multiple_of(64) && !tick() {
                    break;
                }
                if served.messages.is_multiple_of(applied_every) {
                    served.events.push((now_ns(), worker as u32));
                }
                served.messages += 1;
                served.bytes += msg.len() as u64;
                applied += (operands.len() / RECORD) as u64;
                if applied == self.total {
                    break;
                }
            }
            x.to_value()
        }));
        self.value = end;
        Ok(Some(served))
    }

    fn final_value(&self, _shared: &Shared) -> Value {
        self.value
    }
}
