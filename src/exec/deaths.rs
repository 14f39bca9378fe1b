//! How runner learns of a worker's death while the run is under way, at once and without a pid
//! meaning anything to anyone but runner itself: SIGCHLD, blocked from before the first worker's
//! fork (so none is lost) and read from a signalfd of its own in runner's wait loop, says that
//! a child ended; runner then reaps the workers that ended (`waitpid`, in the reaper) and tells
//! the backends each one's end (`sync::worker_ended`: its slot marked ended, its lock, if it
//! held the mutex's, marked for the next locker to take over). Workers never look for each
//! other's deaths in `/proc`, whose pids, in a PID namespace, may belong to another namespace's
//! processes. The signalfd is one descriptor whatever the worker count (a pidfd per worker
//! would need 1,024 of them). SIGINT and SIGTERM are another file's (`interrupt.rs`); this one
//! blocks only SIGCHLD, for the run, and unblocks it when dropped (a worker unblocks it with the
//! others, `spawn.rs`).

use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::reaper::Reaper;
use crate::shm::Shared;

pub(super) struct Deaths {
    mask: SigSet,
    fd: SignalFd,
    /// SIGCHLD was blocked already when the run began (inherited): it stays so.
    was_blocked: bool,
}

impl Deaths {
    /// Blocks SIGCHLD in runner and opens a signalfd for it: a child that ends from now on is
    /// seen.
    pub(super) fn new() -> nix::Result<Deaths> {
        let mut mask = SigSet::empty();
        mask.add(Signal::SIGCHLD);
        let before = mask.thread_swap_mask(SigmaskHow::SIG_BLOCK)?;
        let was_blocked = before.contains(Signal::SIGCHLD);
        let fd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC);
        let deaths = Deaths { mask, fd: fd.inspect_err(|_| restore(&mask, was_blocked))?, was_blocked };
        Ok(deaths)
    }

    /// Readable once a child has ended since the last [`Deaths::mourn`].
    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// If a child ended since the last look: reaps the workers that ended and tells the
    /// backends of each (`sync::worker_ended`). Also tells them of any worker the reaper reaped
    /// elsewhere since the last look.
    pub(super) fn mourn(&self, reaper: &mut Reaper, shared: &Shared) {
        // Signals of the same kind merge while pending: one read may stand for many deaths.
        let mut came = false;
        while let Ok(Some(_)) = self.fd.read_signal() {
            came = true;
        }
        if came {
            reaper.reap_ended();
        }
        for index in reaper.take_ended() {
            crate::sync::worker_ended(shared, index);
        }
    }
}

impl Drop for Deaths {
    fn drop(&mut self) {
        restore(&self.mask, self.was_blocked);
    }
}

/// SIGCHLD as it was before the run: a SIGCHLD still pending when it is unblocked is discarded
/// (its default action is to ignore it).
fn restore(mask: &SigSet, was_blocked: bool) {
    if !was_blocked {
        let _ = mask.thread_unblock();
    }
}
