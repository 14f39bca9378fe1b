//! The `ipc` transport: ipc-channel's bytes channel, a Unix socket made before forking.
//!
//! Owns its wire format and both ends. A message is an 8-byte header
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

use super::{Books, TICK_EVERY_MS, apply_operands};
use crate::sync::BackendError;
use crate::value::{OpKind, Scalar, Value, ValueType};

const HEADER: usize = 8;
const RECORD: usize = 8;
/// The worker index of a waker's tick (no worker has it: at most 1024 workers).
const TICK: u32 = u32::MAX;

/// The workers' end.
pub(super) struct IpcSender(IpcBytesSender);

/// The owner's end, and a sender for the waker until it is forked.
pub(super) struct IpcOwner {
    receiver: IpcBytesReceiver,
    waker: Option<IpcBytesSender>,
}

fn type_code(ty: ValueType) -> u8 {
    match ty {
        ValueType::I => 0,
        ValueType::D => 1,
        ValueType::C => 2,
    }
}

/// Makes the channel (a socket pair): the workers' end and the owner's.
pub(super) fn channel() -> Result<(IpcSender, IpcOwner), BackendError> {
    let (sender, receiver) =
        ipc::bytes_channel().map_err(|error| BackendError::Io { doing: "cannot create the ipc-channel", error })?;
    let waker = Some(sender.clone());
    Ok((IpcSender(sender), IpcOwner { receiver, waker }))
}

impl IpcSender {
    /// In a worker: what sends `n` operations (at most `batch`) in one message. The message of
    /// a whole batch is built here, once: every operand of a worker is the same, so its first
    /// `HEADER + n * RECORD` bytes are the message of `n` operations.
    pub(super) fn sender(
        &self,
        index: u32,
        kind: OpKind,
        operand: Value,
        batch: u32,
    ) -> impl FnMut(u64) -> Result<(), BackendError> + '_ {
        let mut msg = Vec::with_capacity(HEADER + batch as usize * RECORD);
        msg.extend_from_slice(&index.to_le_bytes());
        msg.extend_from_slice(&[kind.code(), type_code(operand.ty()), 0, 0]);
        let record = operand.bits().to_le_bytes();
        for _ in 0..batch {
            msg.extend_from_slice(&record);
        }
        move |n: u64| {
            self.0
                .send(&msg[..HEADER + n as usize * RECORD])
                .map_err(|error| BackendError::Io { doing: "cannot send to the owner", error })
        }
    }
}

impl IpcOwner {
    /// The waker's body, once: it takes the owner's copy of a sender with it (the parent's copy
    /// goes when the closure is dropped after the fork; the waker's dies with the waker).
    pub(super) fn waker(&mut self) -> Option<Box<dyn FnOnce() -> i32>> {
        let sender = self.waker.take()?;
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

    /// Checks a message's header and length; returns the worker and the operand bytes.
    fn check(msg: &[u8], kind: OpKind, ty: ValueType, workers: usize) -> Result<(usize, &[u8]), BackendError> {
        if msg.len() < HEADER + RECORD || !(msg.len() - HEADER).is_multiple_of(RECORD) {
            return Err(BackendError::Malformed { bytes: msg.len() });
        }
        let worker = u32::from_le_bytes([msg[0], msg[1], msg[2], msg[3]]) as usize;
        if worker >= workers {
            return Err(BackendError::UnknownWorker { worker });
        }
        if OpKind::from_code(msg[4]) != Some(kind) || msg[5] != type_code(ty) {
            return Err(BackendError::Mismatch { worker });
        }
        Ok((worker, &msg[HEADER..]))
    }

    /// The owner's loop: receives and applies messages to `x` until every operation is
    /// applied, every sender is gone, or `tick` says stop.
    pub(super) fn serve<T: Scalar, const K: u8>(
        &self,
        mut x: T,
        kind: OpKind,
        workers: usize,
        books: &mut Books,
        alive: &mut dyn FnMut() -> bool,
        tick: &mut dyn FnMut() -> bool,
    ) -> Result<T, BackendError> {
        let receiver = &self.receiver;
        // Once every worker has ended, what they sent is all in the socket: drain it without
        // blocking, then stop.
        let mut draining = false;
        loop {
            let received =
                if draining { receiver.try_recv().map_err(|_| IpcError::Disconnected) } else { receiver.recv() };
            let msg = match received {
                Ok(msg) => msg,
                Err(IpcError::Disconnected) if draining => break,
                // Every sender closed: the workers are done, or dying. A worker killed in the
                // middle of a large message (which ipc-channel sends in fragments over a second
                // socket) gives the same error while the others still send: go on receiving
                // while any worker runs.
                Err(IpcError::Disconnected) if alive() => {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    continue;
                }
                Err(IpcError::Disconnected) => break,
                Err(e) => return Err(BackendError::Receive(e)),
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
            let (worker, operands) = Self::check(&msg, kind, T::TYPE, workers)?;
            x = apply_operands::<T, K>(x, operands, RECORD);
            books.book(worker, (operands.len() / RECORD) as u64, msg.len());
            if books.all_applied() || (books.tick_due() && !tick()) {
                break;
            }
        }
        Ok(x)
    }
}
