//! SIGINT and SIGTERM while runs are under way. runner blocks both before its first fork (for
//! a whole sweep, so that a signal between two runs is not lost either) and reads them from a
//! signalfd in its wait loop, so it reacts wherever it waits: it stops the workers, reaps them
//! and reports what they did (a partial run). Workers unblock both right after the fork, so a
//! Ctrl-C on the terminal (sent to the whole process group) stops them as it would any
//! program. Once the runs are over the signals are unblocked again, so a second Ctrl-C kills
//! runner at once.

use std::cell::Cell;
use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use crate::error::Interrupt;

pub struct Interrupts {
    mask: SigSet,
    fd: SignalFd,
    caught: Cell<Option<Interrupt>>,
}

impl Interrupts {
    /// Blocks SIGINT and SIGTERM in runner and opens a signalfd for them.
    pub fn new() -> nix::Result<Interrupts> {
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGINT);
        mask.add(Signal::SIGTERM);
        mask.thread_block()?;
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
        Ok(Interrupts { mask, fd, caught: Cell::new(None) })
    }

    /// In a worker, right after the fork: the default dispositions again.
    pub fn in_child(&self) {
        let _ = self.mask.thread_unblock();
    }

    /// The signal that interrupted the run, if one came (reads any pending one).
    pub fn caught(&self) -> Option<Interrupt> {
        if self.caught.get().is_none()
            && let Ok(Some(info)) = self.fd.read_signal()
        {
            self.caught.set(match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGINT) => Some(Interrupt::Sigint),
                Ok(_) => Some(Interrupt::Sigterm),
                Err(_) => None,
            });
        }
        self.caught.get()
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        let _ = self.mask.thread_unblock();
    }
}
