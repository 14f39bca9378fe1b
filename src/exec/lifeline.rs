//! How runner learns, without blocking for good, that every worker's work is over: a pipe whose
//! write end every worker inherits and holds until its work is over and written down, or until
//! it dies (however it dies: the kernel closes a dead process's descriptors). Once the parent
//! has dropped its own copy, the read end reports hang-up exactly when the last worker is done,
//! so the parent can wait with a timeout and do something useful (show progress) in between.

use std::io::{PipeReader, PipeWriter};
use std::os::fd::{AsFd, BorrowedFd};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll, ppoll};
use nix::sys::time::TimeSpec;

pub struct Lifeline {
    read: PipeReader,
    write: Option<PipeWriter>,
}

impl Lifeline {
    pub fn new() -> std::io::Result<Lifeline> {
        let (read, write) = std::io::pipe()?;
        Ok(Lifeline { read, write: Some(write) })
    }

    /// In the parent, after the last fork: only the workers hold the write end now.
    pub fn after_fork(&mut self) {
        self.write = None;
    }

    /// In a worker: its work is over.
    pub fn finish(&mut self) {
        self.write = None;
    }

    /// In the parent: whether any worker is still at work (or not yet started).
    pub fn working(&self) -> bool {
        let mut fds = [PollFd::new(self.read.as_fd(), PollFlags::POLLIN)];
        !matches!(poll(&mut fds, PollTimeout::ZERO), Ok(1))
    }

    /// In the parent: blocks until every worker's work is over.
    pub fn wait_end(&self) {
        let mut rest = Vec::new();
        let _ = std::io::Read::read_to_end(&mut &self.read, &mut rest);
    }

    /// Waits up to `nanos` ns (to the kernel's timer slack, not rounded to milliseconds) for
    /// every worker to end, for `interrupt` to become readable, or for `died` to (a worker
    /// ended while the others run).
    pub fn wait(&self, nanos: u64, interrupt: BorrowedFd<'_>, died: BorrowedFd<'_>) -> Wake {
        let mut fds = [
            PollFd::new(self.read.as_fd(), PollFlags::POLLIN),
            PollFd::new(interrupt, PollFlags::POLLIN),
            PollFd::new(died, PollFlags::POLLIN),
        ];
        let timeout = TimeSpec::from_duration(std::time::Duration::from_nanos(nanos));
        let ready = |fd: &PollFd<'_>| fd.revents().is_some_and(|r| !r.is_empty());
        match ppoll(&mut fds, Some(timeout), None) {
            Ok(0) | Err(_) => Wake::Timeout,
            Ok(_) if ready(&fds[1]) => Wake::Interrupted,
            Ok(_) if fds[0].revents().is_some_and(|r| r.intersects(PollFlags::POLLHUP | PollFlags::POLLIN)) => {
                Wake::Ended
            }
            Ok(_) if ready(&fds[2]) => Wake::Died,
            Ok(_) => Wake::Timeout,
        }
    }
}

/// Why [`Lifeline::wait`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// Every worker's work is over (or it died).
    Ended,
    /// The interrupt descriptor is readable.
    Interrupted,
    /// A worker ended while others may still work.
    Died,
    /// Time to look at progress.
    Timeout,
}
