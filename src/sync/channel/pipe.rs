//! The `pipe` transport: one plain pipe from every worker to the owner.
//!
//! Owns its wire format and both ends. Every message is one `write` of at most `PIPE_BUF`
//! (4096) bytes, which the kernel keeps whole however many workers write at once: an 8-byte
//! header `[worker u32 LE][records u32 LE]` followed by `records` operands, each the value's
//! size (`i`: 4 bytes, `d`: 8, `c`: 1; little-endian, the value's bits). A batch that does not
//! fit in one message is sent as several. A worker builds its message once; the owner reads
//! large chunks, carries a message cut by a chunk's end over to the next read, checks every
//! header and applies the operands in arrival order.
//!
//! The read end is non-blocking, and the owner looks at signals, the deadline and progress at
//! least every [`TICK_EVERY_MS`]: no waker process. The pipe is enlarged to 1 MiB (or
//! `/proc/sys/fs/pipe-max-size`), and when it is empty the owner naps, from [`NAP_MIN_US`]
//! doubling while it stays empty up to a microsecond per KiB of the pipe, so that the workers
//! rarely fill it meanwhile. It does not `poll` the pipe: once a pipe has been polled, Linux
//! wakes its readers' queue on every write (for epoll's edge-triggered users), which took a
//! quarter of the throughput of one-operation messages here. Only a pipe the system would not
//! enlarge to [`NAP_PIPE_MIN`] is polled instead (a small pipe fills during a nap: batches ran
//! 3 to 5 times slower on a 64 KiB pipe with naps). The parent drops its write end after
//! forking, so end-of-file comes when the last worker's copy closes (by finishing or dying).
//!
//! Workers whose messages are large (`names::wire::IDLE_MESSAGE_BYTES` or more) run at the idle
//! scheduling policy, so the owner keeps a core. Such a message costs the owner what it costs
//! the worker (one copy in the pipe, one out), so the owner alone needs as much CPU as all the
//! workers together; a fair scheduler gives it one share in `workers + 1` whenever the workers
//! are runnable, and with 1024 of them the owner waited, runnable, a third of its time. With
//! small messages the workers' system calls are the cost and the owner's fair share is enough:
//! there, idle workers lost to an owner that woke up to read a few bytes (one-operation
//! messages at 8 workers: 2.3 instead of 4.0 M ops/s).

use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::{pipe2, read, write};

use super::{Books, TICK_EVERY_MS, apply_operands};
use crate::clock::now_ns;
use crate::names::wire::{HEADER, MESSAGE_MAX, records_per_message, width};
use crate::sync::BackendError;
use crate::value::{Scalar, Value};

/// The owner reads this much at a time at most: enough for many messages per read, little
/// enough to stay in the cache while they are applied (1 MiB reads were slower for `d`).
const READ_BYTES: usize = 1 << 16;
/// The pipe's capacity runner asks for (capped by `/proc/sys/fs/pipe-max-size`); Linux's
/// default is 64 KiB.
const PIPE_BYTES: usize = 1 << 20;
/// The owner's first nap when it finds the pipe empty (microseconds), doubled while it stays
/// empty up to one microsecond per KiB of the pipe.
const NAP_MIN_US: u64 = 50;
/// The smallest pipe the owner naps on; it polls a smaller one.
const NAP_PIPE_MIN: usize = 256 << 10;
/// The workers' end (blocking writes).
pub(super) struct PipeSender {
    write: OwnedFd,
}

/// The owner's end, non-blocking.
pub(super) struct PipeOwner {
    read: OwnedFd,
    /// The owner's longest nap (microseconds) on an empty pipe; `None`: poll it.
    nap_max_us: Option<u64>,
}

/// Makes the pipe: the workers' end and the owner's.
pub(super) fn channel() -> Result<(PipeSender, PipeOwner), BackendError> {
    let sys = |doing| move |errno| BackendError::Sys { doing, errno };
    let (read, write) = pipe2(OFlag::O_CLOEXEC).map_err(sys("cannot create the channel's pipe"))?;
    // Only the owner's end: the workers' writes block while the pipe is full.
    fcntl(&read, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).map_err(sys("cannot make the channel's pipe non-blocking"))?;
    // A larger pipe is only faster: without it (refused by a user's pipe quota) it still works.
    let most = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map_or(PIPE_BYTES, |max| max.min(PIPE_BYTES));
    if let Err(e) = fcntl(&read, FcntlArg::F_SETPIPE_SZ(most as i32)) {
        tracing::debug!(bytes = most, error = %e, "the channel's pipe keeps its default size");
    }
    let capacity = fcntl(&read, FcntlArg::F_GETPIPE_SZ).map_or(0, |c| c.max(0) as usize);
    let nap_max_us = (capacity >= NAP_PIPE_MIN).then_some(capacity as u64 >> 10);
    Ok((PipeSender { write }, PipeOwner { read, nap_max_us }))
}

impl PipeSender {
    /// In a worker: what sends `n` operations (at most `batch`), in as many messages as they
    /// need. The largest message is built here, once: every operand of a worker is the same,
    /// so a message of `k` operations is its first `HEADER + k * width` bytes with `k` in the
    /// header.
    pub(super) fn sender(
        &self,
        index: u32,
        operand: Value,
        batch: u32,
    ) -> impl FnMut(u64) -> Result<(), BackendError> + '_ {
        let fd = &self.write;
        let width = width(operand.ty());
        let most = (batch as usize).min(records_per_message(operand.ty()));
        let mut msg = Vec::with_capacity(HEADER + most * width);
        msg.extend_from_slice(&index.to_le_bytes());
        msg.extend_from_slice(&(most as u32).to_le_bytes());
        let record = operand.bits().to_le_bytes();
        for _ in 0..most {
            msg.extend_from_slice(&record[..width]);
        }
        let most = most as u64;
        move |n: u64| {
            let mut left = n;
            while left > 0 {
                let k = left.min(most);
                msg[4..HEADER].copy_from_slice(&(k as u32).to_le_bytes());
                write_message(fd, &msg[..HEADER + k as usize * width])?;
                left -= k;
            }
            Ok(())
        }
    }
}

impl PipeOwner {
    /// The owner's loop: reads and applies messages to `x` until every operation is applied,
    /// every worker's end is closed, or `tick` says stop.
    pub(super) fn serve<T: Scalar, const K: u8>(
        &self,
        mut x: T,
        workers: usize,
        books: &mut Books,
        tick: &mut dyn FnMut() -> bool,
    ) -> Result<T, BackendError> {
        let fd = &self.read;
        let mut buf = vec![0u8; READ_BYTES];
        // `buf[..kept]`: the start of a message the last read cut off.
        let mut kept = 0;
        let mut last_tick = now_ns();
        let mut nap = NAP_MIN_US;
        loop {
            // Every TICK_EVERY_MS at least, whether messages flow or not.
            let now = now_ns();
            if now.saturating_sub(last_tick) >= TICK_EVERY_MS * 1_000_000 {
                last_tick = now;
                if !tick() {
                    break;
                }
            }
            let got = match read(fd, &mut buf[kept..]) {
                // Every worker's end is closed: all they sent has been read.
                Ok(0) if kept == 0 => break,
                Ok(0) => return Err(BackendError::Cut { kept }),
                Ok(got) => {
                    nap = NAP_MIN_US;
                    got
                }
                Err(Errno::EAGAIN) => {
                    match self.nap_max_us {
                        // Empty: let messages gather.
                        Some(longest) => {
                            std::thread::sleep(Duration::from_micros(nap));
                            nap = (nap * 2).min(longest);
                        }
                        // A pipe too small to nap on: wait for a message, or the next look around.
                        None => {
                            let timeout = PollTimeout::from(TICK_EVERY_MS as u16);
                            let _ = poll(&mut [PollFd::new(fd.as_fd(), PollFlags::POLLIN)], timeout);
                        }
                    }
                    continue;
                }
                Err(Errno::EINTR) => continue,
                Err(errno) => return Err(BackendError::Sys { doing: "cannot read the workers' pipe", errno }),
            };
            let end = kept + got;
            let (y, used, done) = apply_messages::<T, K>(x, &buf[..end], workers, books, tick)?;
            x = y;
            if done {
                break;
            }
            buf.copy_within(used..end, 0);
            kept = end - used;
        }
        Ok(x)
    }
}

/// Applies the whole messages at the start of `bytes` to `x`, in order, booking each and
/// looking around every few (`tick`). Returns the value, the bytes used (a message cut off at
/// the end is left for the next read) and whether the owner is done: every operation applied,
/// or `tick` said stop.
fn apply_messages<T: Scalar, const K: u8>(
    mut x: T,
    bytes: &[u8],
    workers: usize,
    books: &mut Books,
    tick: &mut dyn FnMut() -> bool,
) -> Result<(T, usize, bool), BackendError> {
    let width = width(T::TYPE);
    let mut at = 0;
    while bytes.len() - at >= HEADER {
        let (worker, records) = check(&bytes[at..at + HEADER], width, workers)?;
        let len = HEADER + records * width;
        if bytes.len() - at < len {
            break;
        }
        x = apply_operands::<T, K>(x, &bytes[at + HEADER..at + len], width);
        books.book(worker, records as u64, len);
        at += len;
        if books.all_applied() || (books.tick_due() && !tick()) {
            return Ok((x, at, true));
        }
    }
    Ok((x, at, false))
}

/// Writes one message whole: a write of at most `PIPE_BUF` bytes to a blocking pipe writes
/// everything or nothing.
fn write_message(fd: &OwnedFd, msg: &[u8]) -> Result<(), BackendError> {
    loop {
        match write(fd, msg) {
            Ok(n) if n == msg.len() => return Ok(()),
            Ok(wrote) => return Err(BackendError::ShortWrite { wrote, len: msg.len() }),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(BackendError::Sys { doing: "cannot send to the owner", errno }),
        }
    }
}

/// Checks a message's header: a known worker, at least one operand, and a message that fits
/// in one write. Returns the worker and the number of operands.
fn check(header: &[u8], width: usize, workers: usize) -> Result<(usize, usize), BackendError> {
    let worker = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let records = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if worker >= workers {
        return Err(BackendError::UnknownWorker { worker });
    }
    if records == 0 || records > (MESSAGE_MAX - HEADER) / width {
        return Err(BackendError::BadRecords { worker, records, width });
    }
    Ok((worker, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_messages_are_applied_and_a_cut_one_is_kept() {
        let message = |worker: u32, operands: &[i32]| {
            let mut m = [worker.to_le_bytes(), (operands.len() as u32).to_le_bytes()].concat();
            operands.iter().for_each(|o| m.extend_from_slice(&o.to_le_bytes()));
            m
        };
        let mut bytes = [message(1, &[5, 6]), message(0, &[-1]), message(1, &[7, 8, 9])].concat();
        let whole = bytes.len() - 20;
        let mut books = Books::new(2, 100, None);
        let mut ticks = 0;
        let (x, used, done) = apply_messages::<i32, { crate::value::ADD }>(10, &bytes, 2, &mut books, &mut || {
            ticks += 1;
            true
        })
        .unwrap();
        assert_eq!((x, used, done), (10 + 5 + 6 - 1 + 7 + 8 + 9, bytes.len(), false));
        assert_eq!(books.served.applied, [1, 5]);
        assert_eq!(books.served.messages, 3);
        // The last message cut after its header and one operand: the first two are applied.
        let mut books = Books::new(2, 100, None);
        let cut = &bytes[..whole + 12];
        let (x, used, _) = apply_messages::<i32, { crate::value::ADD }>(0, cut, 2, &mut books, &mut || true).unwrap();
        assert_eq!((x, used), (10, whole));
        // Once every operation is applied the owner is done, whatever follows.
        let mut books = Books::new(2, 2, None);
        let (_, used, done) =
            apply_messages::<i32, { crate::value::ADD }>(0, &bytes, 2, &mut books, &mut || true).unwrap();
        assert_eq!((used, done), (16, true));
        // A message from no worker of the run is an error, not a guess.
        bytes[..4].copy_from_slice(&7u32.to_le_bytes());
        let mut books = Books::new(2, 100, None);
        assert!(apply_messages::<i32, { crate::value::ADD }>(0, &bytes, 2, &mut books, &mut || true).is_err());
    }

    #[test]
    fn the_owner_reads_to_the_end_napping_or_polling() {
        for nap in [true, false] {
            let (tx, mut pipe) = channel().unwrap();
            if !nap {
                pipe.nap_max_us = None;
            }
            {
                // Worker 1 sends a batch of 5000 `i` operands (five messages), worker 0 ten alone.
                let mut batch = tx.sender(1, Value::I(3), 5000);
                batch(5000).unwrap();
                let mut one = tx.sender(0, Value::I(-1), 1);
                for _ in 0..10 {
                    one(1).unwrap();
                }
            }
            drop(tx);
            // More operations than were sent: only the end of the file stops the owner.
            let mut books = Books::new(2, u64::MAX, None);
            let x = pipe.serve::<i32, { crate::value::ADD }>(0, 2, &mut books, &mut || true).unwrap();
            assert_eq!(x, 5000 * 3 - 10, "nap: {nap}");
            assert_eq!(books.served.applied, [10, 5000]);
            assert_eq!(books.served.messages, 15);
        }
    }

    #[test]
    fn the_owner_of_a_silent_pipe_still_looks_around() {
        for nap in [true, false] {
            let (_tx, mut pipe) = channel().unwrap();
            if !nap {
                pipe.nap_max_us = None;
            }
            // The write end stays open and nothing comes: only `tick` can stop the owner.
            let started = now_ns();
            let mut ticks = 0;
            let mut books = Books::new(1, 10, None);
            let x = pipe
                .serve::<i32, { crate::value::ADD }>(7, 1, &mut books, &mut || {
                    ticks += 1;
                    ticks < 3
                })
                .unwrap();
            let waited = (now_ns() - started) / 1_000_000;
            assert_eq!((x, ticks), (7, 3));
            assert!((2 * TICK_EVERY_MS..20 * TICK_EVERY_MS).contains(&waited), "nap: {nap}, {waited} ms");
        }
    }

    #[test]
    fn headers_are_checked() {
        let header = |w: u32, r: u32| [w.to_le_bytes(), r.to_le_bytes()].concat();
        assert_eq!(check(&header(2, 5), 4, 3).ok(), Some((2, 5)));
        assert!(check(&header(3, 5), 4, 3).is_err(), "unknown worker");
        assert!(check(&header(0, 0), 4, 3).is_err(), "no operand");
        assert_eq!(check(&header(0, 1022), 4, 3).ok(), Some((0, 1022)));
        assert!(check(&header(0, 1023), 4, 3).is_err(), "over 4096 bytes");
    }
}
