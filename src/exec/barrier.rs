//! The start barrier and the exit gate: every worker sleeps until the parent releases them all
//! at once, so they really contend and the timing measures the work, not fork latency; and a
//! worker whose work is over waits at the gate until the parent dismisses them all, so that no
//! process's exit (unmapping its memory, a few tens of microseconds of CPU) runs inside another
//! worker's measured window.
//!
//! Three pipes. A worker writes one byte to `ready`, closes its copies of both write ends, then
//! blocks reading `go`. The parent, once it has forked every worker, closes its `ready` writer
//! and reads `ready` to its end: that end comes when every worker has either arrived or died
//! (a dead worker's descriptors close with it), so the parent never waits for a worker that
//! cannot come. Closing the parent's `go` writer, the last one, wakes every worker with
//! end-of-file. The gate works the same way: workers block reading `leave`, and closing the
//! parent's writer lets them go. Nobody spins.

use std::io::{PipeReader, PipeWriter, Read, Write};

pub struct Barrier {
    ready_r: PipeReader,
    ready_w: Option<PipeWriter>,
    go_r: PipeReader,
    go_w: Option<PipeWriter>,
    leave_r: PipeReader,
    leave_w: Option<PipeWriter>,
}

impl Barrier {
    pub fn new() -> std::io::Result<Barrier> {
        let (ready_r, ready_w) = std::io::pipe()?;
        let (go_r, go_w) = std::io::pipe()?;
        let (leave_r, leave_w) = std::io::pipe()?;
        Ok(Barrier { ready_r, ready_w: Some(ready_w), go_r, go_w: Some(go_w), leave_r, leave_w: Some(leave_w) })
    }

    /// In a worker: announce arrival, then sleep until the release.
    pub fn arrive_and_wait(&mut self) -> std::io::Result<()> {
        drop(self.go_w.take());
        drop(self.leave_w.take());
        if let Some(mut ready) = self.ready_w.take() {
            ready.write_all(&[1])?;
        }
        // Nobody writes to `go`: the read ends with end-of-file at the release.
        let mut rest = Vec::new();
        self.go_r.read_to_end(&mut rest)?;
        Ok(())
    }

    /// In the parent, after the last fork: waits until every worker has arrived or died, and
    /// returns how many arrived.
    pub fn wait_arrivals(&mut self) -> std::io::Result<usize> {
        drop(self.ready_w.take());
        let mut arrivals = Vec::new();
        self.ready_r.read_to_end(&mut arrivals)?;
        Ok(arrivals.len())
    }

    /// [`Barrier::wait_arrivals`], in runner (its signals blocked): a signal, or one caught
    /// before, ends the wait too, so that a worker that never arrives (blocked on a full
    /// standard error before the barrier, stopped) cannot hold runner with Ctrl-C ignored. The
    /// run goes on to its release, and its wait stops the workers at once.
    pub(crate) fn wait_arrivals_or_signal(
        &mut self,
        interrupts: &super::interrupt::Interrupts,
    ) -> std::io::Result<usize> {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;
        drop(self.ready_w.take());
        let mut arrived = 0;
        let mut buf = [0u8; 512];
        while interrupts.caught().is_none() {
            let mut fds =
                [PollFd::new(self.ready_r.as_fd(), PollFlags::POLLIN), PollFd::new(interrupts.fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
            if fds[0].revents().is_some_and(|r| !r.is_empty()) {
                match self.ready_r.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => arrived += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(arrived)
    }

    /// In the parent: lets every waiting worker go.
    pub fn release(&mut self) {
        drop(self.go_w.take());
    }

    /// In a worker whose work is over and written down: sleep until the parent dismisses
    /// everyone (or dies: the worker is killed with it).
    pub fn wait_dismissal(&mut self) {
        let mut rest = Vec::new();
        let _ = self.leave_r.read_to_end(&mut rest);
    }

    /// In the parent, once every worker's work is over: lets them exit.
    pub fn dismiss(&mut self) {
        drop(self.leave_w.take());
    }
}
