//! SIGINT, SIGTERM, SIGHUP and SIGQUIT (SIGHUP and SIGQUIT taken as SIGTERM is): runner's one
//! watcher of them, from just before its first fork to its exit.
//!
//! Owns: when the signals are blocked, the signalfd they are read from, the first of them
//! (which names the partial report and the exit code: 130 SIGINT, 143 SIGTERM, 129 SIGHUP,
//! 131 SIGQUIT, whatever came after it), and the waits that must still end at a signal.
//!
//! [`Interrupts::arm`] blocks the four signals before the first fork (for a whole sweep, and
//! a whole catalog, so that a signal between two runs is not lost either) and opens a signalfd
//! for them; runner reads it in its wait loops, so it reacts wherever it waits: it stops the
//! workers at once (SIGKILL; a deadline's grace is cut short), reaps them and reports what they
//! did (a partial run). Workers unblock the signals right after the fork, so a Ctrl-C on the
//! terminal (sent to the whole process group) stops them as it would any program.
//!
//! The signals stay blocked until runner exits: a second signal, or a storm of them, can no
//! longer kill runner between the runs' end and its report, so the report (in JSON one
//! document) is always printed and the exit code is the first signal's. Blocked signals must
//! not leave runner waiting for ever with Ctrl-C ignored, so what runner may wait on after
//! arming waits here, with the signalfd beside it: a write to anything but a regular file (the
//! report on standard output, a trace or an export to a pipe, a FIFO, a terminal) goes through
//! [`Interruptible`], whose wait ([`Interrupts::wait_writable`]) a signal that comes while
//! nothing is taken ends within [`GIVE_UP_MS`]. Standard error too, through `exec::stderr`
//! (every diagnostic, notice, failed worker, cell line, the progress bar, the logs), with
//! [`Interruptible::impatient`]: there a signal caught even before the write ends the wait
//! within [`GIVE_UP_MS`], and nothing more is written there afterwards, so that a standard
//! error nobody reads never holds the report back. The wait for the workers' arrival at the
//! start barrier polls the signalfd too (`Barrier::wait_arrivals_or_signal`: a worker blocked
//! before it cannot hold runner). A catalog's later job file read from standard input or a
//! FIFO is read waiting on it and on the signalfd together ([`Interrupts::read_to_end`]), so
//! that a signal ends the catalog with its report. Before arming, and in any command that runs
//! nothing, the signals keep their default dispositions.
//!
//! Two signals that are both pending when runner reads them are read lowest number first, as
//! the kernel hands them out (SIGHUP, SIGINT, SIGQUIT, SIGTERM): "first" is the first read.

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::Instant;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::error::Interrupt;

/// How long a write (to standard output or error, a trace, an export) may still wait once a
/// signal came while it waited (on standard error: once a signal came at all).
pub const GIVE_UP_MS: u16 = 1000;

/// Between two looks for a writer of a FIFO whose poll says at once that it has none.
pub const NO_WRITER_MS: u16 = 20;

/// The signals and the signalfd they are read from, once armed (runner starts no thread: the
/// mask is the main thread's).
pub struct Interrupts {
    mask: SigSet,
    fd: SignalFd,
    /// The first signal read, by number; 0 before.
    first: AtomicI32,
    /// When runner read the first signal (CLOCK_MONOTONIC ns; 0 before): the trace's moment.
    first_ns: AtomicU64,
}

static ARMED: OnceLock<Interrupts> = OnceLock::new();

impl Interrupts {
    /// Blocks the four signals in runner (for the rest of its life) and opens the signalfd the
    /// first time; the same watcher afterwards.
    pub fn arm() -> nix::Result<&'static Interrupts> {
        let mut mask = SigSet::empty();
        for signal in Interrupt::ALL {
            mask.add(Signal::try_from(signal.number())?);
        }
        mask.thread_block()?;
        if let Some(armed) = ARMED.get() {
            return Ok(armed);
        }
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(ARMED.get_or_init(|| Interrupts { mask, fd, first: AtomicI32::new(0), first_ns: AtomicU64::new(0) }))
    }

    /// The watcher, once armed.
    pub fn armed() -> Option<&'static Interrupts> {
        ARMED.get()
    }

    /// The four signals and `more`: what a worker unblocks right after its fork.
    pub fn with(&self, more: Signal) -> SigSet {
        let mut mask = self.mask;
        mask.add(more);
        mask
    }

    /// In a child, right after the fork: the default dispositions again.
    pub fn in_child(&self) {
        let _ = self.mask.thread_unblock();
    }

    /// The first signal that came, if one did (reads every pending one: later ones change
    /// nothing).
    pub fn caught(&self) -> Option<Interrupt> {
        while let Ok(Some(info)) = self.fd.read_signal() {
            if self.first.compare_exchange(0, info.ssi_signo as i32, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
                self.first_ns.store(crate::clock::now_ns(), Ordering::Relaxed);
            }
        }
        Interrupt::from_number(self.first.load(Ordering::Relaxed))
    }

    /// When runner read the first signal (CLOCK_MONOTONIC ns), once one came.
    pub fn caught_ns(&self) -> Option<u64> {
        Some(self.first_ns.load(Ordering::Relaxed)).filter(|&at| at > 0)
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Reads `input` to its end (at most `limit` bytes and one more, to tell a larger input),
    /// waiting on it and on the signalfd together: a signal, or one that came before, ends the
    /// read with the first signal (`Err`); otherwise the read's outcome.
    ///
    /// `fifo`: `input` is a FIFO this process opened without waiting for a writer (`O_NONBLOCK`,
    /// which succeeds without one). Its end before any byte means that no writer came yet (or
    /// that one came and wrote nothing): the read waits on for a writer that writes. Linux's
    /// poll blocks until a writer comes, but other kernels report `POLLHUP` at once for a FIFO
    /// with no writer yet, as Linux does once an empty writer left: then the signalfd alone is
    /// waited on for [`NO_WRITER_MS`] between two looks. Otherwise (standard input, a blocking
    /// descriptor) the end is the end, and the input is read only when poll says it has
    /// something.
    pub fn read_to_end(
        &self,
        input: BorrowedFd<'_>,
        limit: u64,
        fifo: bool,
    ) -> Result<std::io::Result<Vec<u8>>, Interrupt> {
        let mut bytes = Vec::new();
        let mut piece = vec![0u8; 64 * 1024];
        // A non-blocking FIFO is read before any wait; a blocking input only once it has something.
        let mut ready = fifo;
        loop {
            if let Some(signal) = self.caught() {
                return Err(signal);
            }
            if ready {
                match nix::unistd::read(input, &mut piece) {
                    // No writer yet: wait for one.
                    Ok(0) if fifo && bytes.is_empty() => {
                        let events = self.wait_readable(Some(input), PollTimeout::NONE)?;
                        if !events.contains(PollFlags::POLLIN) {
                            self.wait_readable(None, PollTimeout::from(NO_WRITER_MS))?;
                        }
                        continue;
                    }
                    Ok(0) => return Ok(Ok(bytes)),
                    Ok(n) => {
                        bytes.extend_from_slice(&piece[..n]);
                        if bytes.len() as u64 > limit {
                            return Ok(Ok(bytes));
                        }
                        continue;
                    }
                    Err(nix::errno::Errno::EAGAIN) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Ok(Err(e.into())),
                }
            }
            self.wait_readable(Some(input), PollTimeout::NONE)?;
            ready = true;
        }
    }

    /// Waits until `input` has something to read, its end or an error (its poll events), or
    /// until `timeout` passed (no events); `Err` with the first signal when one came.
    fn wait_readable(&self, input: Option<BorrowedFd<'_>>, timeout: PollTimeout) -> Result<PollFlags, Interrupt> {
        let mut fds = vec![PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
        fds.extend(input.map(|input| PollFd::new(input, PollFlags::POLLIN)));
        let polled = loop {
            match poll(&mut fds, timeout) {
                Err(nix::errno::Errno::EINTR) => continue,
                polled => break polled,
            }
        };
        if let Some(signal) = self.caught() {
            return Err(signal);
        }
        // A poll that failed: the read says why.
        let events = fds.get(1).and_then(PollFd::revents).unwrap_or(PollFlags::empty());
        Ok(if polled.is_err() { PollFlags::POLLERR } else { events })
    }

    /// Waits until `out` can take a write without blocking for ever: true when it can (or
    /// polling fails: the write says why), false when a signal came while it took nothing and
    /// it still took nothing [`GIVE_UP_MS`] later. With `after_any`, a signal caught before the
    /// wait counts as one that came at its start (standard error's wait: once runner is asked to
    /// stop, a diagnostic nobody reads must not hold the report back until a second signal).
    pub fn wait_writable(&self, out: BorrowedFd<'_>, after_any: bool) -> bool {
        let mut signalled: Option<Instant> = (after_any && self.caught().is_some()).then(Instant::now);
        loop {
            let timeout = match signalled {
                None => PollTimeout::NONE,
                Some(at) => {
                    let left = u128::from(GIVE_UP_MS).saturating_sub(at.elapsed().as_millis());
                    if left == 0 {
                        return false;
                    }
                    PollTimeout::from(left as u16)
                }
            };
            let mut fds = [PollFd::new(out, PollFlags::POLLOUT), PollFd::new(self.fd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, timeout) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return true,
            }
            if fds[0].revents().is_some_and(|r| !r.is_empty()) {
                return true;
            }
            if fds[1].revents().is_some_and(|r| !r.is_empty()) {
                self.caught();
                signalled.get_or_insert_with(Instant::now);
            }
        }
    }
}

/// A terminal with room for a write of this many bytes says so (Linux's WAKEUP_CHARS).
const PIECE: usize = 256;

/// A FIFO with room has a page (`PIPE_BUF`): a write of that much after its `poll` cannot block.
const FIFO_PIECE: usize = 4096;

/// How [`Interruptible`] writes to its stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    /// Straight, whatever the signals: a write to a regular file or a memory device
    /// (`/dev/null`, `/dev/full`) never waits for a reader; so before arming.
    Straight,
    /// What the stream takes now, without waiting ([`crate::stdio::write_now`]), and a wait only
    /// when it takes nothing: pipes and sockets, where the kernel can say.
    Now,
    /// A piece of at most this many bytes after a wait that says there is room: FIFOs and
    /// terminals, which cannot say.
    Pieces(usize),
}

/// A writer that a signal can still stop once runner watches for signals (they are blocked
/// then): to anything but a regular file or a memory device (a pipe, a FIFO, a terminal, a
/// socket), a write never blocks for ever: it writes what the stream takes at once (one system
/// call for a whole report to a pipe with room) and waits ([`Interrupts::wait_writable`]) only
/// when the stream takes nothing; where the kernel cannot write without waiting (a FIFO, a
/// terminal), each write is a piece that the stream has room for, after a wait. A write fails
/// when a signal came while it waited and the stream took nothing. Before arming, or to a
/// regular file or a memory device, writes go straight through.
pub struct Interruptible<W> {
    inner: W,
    waits: Option<&'static Interrupts>,
    way: Way,
    /// Gives up [`GIVE_UP_MS`] after a signal caught even before the write (standard error).
    after_any: bool,
    /// A signal ended a wait: every later write fails at once (a buffered writer's drop would
    /// otherwise wait again).
    gave_up: bool,
}

impl<W: std::io::Write + AsFd> Interruptible<W> {
    pub fn new(inner: W) -> Interruptible<W> {
        let waits = Interrupts::armed();
        let way = match (waits, nix::sys::stat::fstat(inner.as_fd())) {
            (None, _) => Way::Straight,
            (Some(_), Ok(st)) => match st.st_mode & nix::libc::S_IFMT {
                nix::libc::S_IFREG => Way::Straight,
                // Major 1: the memory devices, which take (or refuse) a write at once.
                nix::libc::S_IFCHR if nix::libc::major(st.st_rdev) == 1 => Way::Straight,
                nix::libc::S_IFIFO | nix::libc::S_IFSOCK => Way::Now,
                _ => Way::Pieces(PIECE),
            },
            (Some(_), Err(_)) => Way::Pieces(PIECE),
        };
        let waits = if way == Way::Straight { None } else { waits };
        Interruptible { inner, waits, way, after_any: false, gave_up: false }
    }

    /// For standard error: as [`Interruptible::new`], but once a signal was caught (even before
    /// this write), a write that nothing takes gives up [`GIVE_UP_MS`] later, without waiting
    /// for another signal.
    pub fn impatient(inner: W) -> Interruptible<W> {
        Interruptible { after_any: true, ..Interruptible::new(inner) }
    }

    /// Whether a signal ended a wait (every later write fails at once).
    pub fn gave_up(&self) -> bool {
        self.gave_up
    }

    /// What the stream takes of `buf` now, if the kernel can say ([`Way::Now`]): `None` when it
    /// takes nothing now (wait, then try again), or when it cannot say (from now on, pieces).
    fn now(&mut self, buf: &[u8]) -> Option<std::io::Result<usize>> {
        // A buffered writer (standard output's) writes what it holds first, in order.
        if let Err(e) = self.inner.flush() {
            return Some(Err(e));
        }
        match crate::stdio::write_now(self.inner.as_fd(), buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(e) if crate::stdio::cannot_write_now(&e) => {
                let fifo = nix::sys::stat::fstat(self.inner.as_fd())
                    .is_ok_and(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFIFO);
                self.way = Way::Pieces(if fifo { FIFO_PIECE } else { PIECE });
                None
            }
            written => Some(written),
        }
    }
}

impl<W: std::io::Write + AsFd> std::io::Write for Interruptible<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(interrupts) = self.waits else {
            return self.inner.write(buf);
        };
        if self.gave_up {
            return Err(gave_up());
        }
        if self.way == Way::Now
            && let Some(written) = self.now(buf)
        {
            return written;
        }
        loop {
            if self.gave_up || !interrupts.wait_writable(self.inner.as_fd(), self.after_any) {
                self.gave_up = true;
                return Err(gave_up());
            }
            let piece = match self.way {
                Way::Pieces(piece) => piece,
                _ => match self.now(buf) {
                    Some(written) => return written,
                    None => continue,
                },
            };
            match self.inner.write(&buf[..buf.len().min(piece)]) {
                // A non-blocking stream (a FIFO opened in place) with less room than the piece:
                // wait again.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
                Ok(written) => {
                    // A buffered writer (standard output's) writes its piece now.
                    self.inner.flush()?;
                    return Ok(written);
                }
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What a write says once a signal ended its wait.
fn gave_up() -> std::io::Error {
    std::io::Error::other("nothing took what was left to write, and a signal came")
}
