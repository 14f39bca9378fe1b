//! How a connection waits for its replies: it polls its socket for a short while, giving up the
//! CPU between polls, before it sleeps in the read.
//!
//! Why: a process asleep in a read is woken by the server's reply, and that wake-up is paid by
//! the server, inside its write. When the workers share the server's machine (8 workers on 2
//! cores here), each reply then wakes a process asleep on the other CPU, often an idle CPU
//! (an inter-processor interrupt; on a virtual machine, an exit to the hypervisor). Measured on
//! this project's 2-core machine with 8 clients of the exactly-once script: the server spent
//! about 11 µs a command against 9.4 under `redis-benchmark`, whose one process is mostly awake
//! when its replies arrive; polling for up to [`POLL_FOR`] took a C client of the same script
//! from 86-96 k to 107-116 k commands a second. Between polls the process yields
//! (`sched_yield`): a worker woken by its reply, or the server itself, runs first.
//!
//! A connection polls only while replies come back within [`POLL_FOR`]: one that came later
//! (a server across a slow link) makes the next wait sleep at once, so a remote job does not
//! spin through its round trips.
//!
//! The socket is found, not handed over (the `redis` crate does not lend its descriptor): it is
//! the lowest descriptor free when the connection is made, checked to be a socket once it is.
//! A wrong guess costs only time, never a reply: polling reads nothing, and the crate's read
//! that follows is the one that takes the reply, with its timeout.
//!
//! Owns: that wait. Does not own: sending, reading or timeouts (`conn` and the crate).

use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// The longest a connection polls before it sleeps: about one round trip of 8 clients' commands
/// through a server on the same machine (a command every 10 µs, 8 in flight).
pub(super) const POLL_FOR: Duration = Duration::from_micros(100);

/// A connection's way to wait for its replies.
#[derive(Debug)]
pub(super) struct Waiter {
    /// The connection's socket, when it was found.
    socket: Option<RawFd>,
    /// Whether the last reply came within [`POLL_FOR`].
    quick: bool,
}

impl Waiter {
    /// The descriptor the next socket will get (the lowest free one), to be given to
    /// [`Waiter::found`] once the connection is made.
    pub(super) fn guess() -> Option<RawFd> {
        std::fs::File::open("/dev/null").ok().map(|f| f.as_raw_fd())
    }

    /// A waiter that polls `guess` if it is a socket now, else one that only sleeps.
    pub(super) fn found(guess: Option<RawFd>) -> Waiter {
        let socket = guess.filter(|fd| {
            std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"))
        });
        Waiter { socket, quick: true }
    }

    /// Returns once the socket has bytes to read, or [`POLL_FOR`] has passed, or at once when
    /// the last reply was slow or there is no socket to poll. The caller then reads (and may
    /// sleep there).
    pub(super) fn wait(&mut self) {
        let Some(fd) = self.socket.filter(|_| self.quick) else {
            return;
        };
        let start = Instant::now();
        loop {
            if readable(fd) {
                return;
            }
            if start.elapsed() >= POLL_FOR {
                self.quick = false;
                return;
            }
            std::thread::yield_now();
        }
    }

    /// After a read: whether the reply came within [`POLL_FOR`] of the request, `sent` being
    /// when it was sent.
    pub(super) fn replied(&mut self, sent: Instant) {
        self.quick = sent.elapsed() < POLL_FOR;
    }
}

/// Whether `fd` has bytes to read (or an end or error to report) now.
fn readable(fd: RawFd) -> bool {
    let mut poll = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: `poll` reads and writes one `pollfd` that lives on this stack frame, for a count of
    // 1, and does not block (timeout 0); a descriptor that is not open is reported in `revents`
    // (POLLNVAL), not an error the caller must handle.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents != 0
}

#[cfg(test)]
mod tests {
    use super::{POLL_FOR, Waiter};
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::time::Instant;

    /// The guess is the descriptor the next socket gets. (Other tests' threads open files too:
    /// one of ten tries must see no descriptor opened in between.)
    #[test]
    fn the_guess_is_the_next_sockets_descriptor() {
        let right = (0..10).any(|_| {
            let guess = Waiter::guess();
            let (mine, _server) = UnixStream::pair().expect("a socket pair");
            guess == Some(mine.as_raw_fd()) && Waiter::found(guess).socket == guess
        });
        assert!(right, "no guess named the socket made next");
    }

    /// A waiter polls while replies are quick, returns as soon as there are bytes (reading
    /// none), and sleeps at once (no polling) after a slow reply.
    #[test]
    fn a_waiter_polls_until_a_reply_is_slow_and_reads_nothing() {
        let (mine, mut server) = UnixStream::pair().expect("a socket pair");
        let mut waiter = Waiter::found(Some(mine.as_raw_fd()));
        assert_eq!(waiter.socket, Some(mine.as_raw_fd()));
        // Nothing to read: it polls for POLL_FOR, then gives up, and the next wait does not poll.
        let start = Instant::now();
        waiter.wait();
        assert!(start.elapsed() >= POLL_FOR, "returned after {:?}", start.elapsed());
        assert!(!waiter.quick);
        // A quick reply turns polling back on; bytes to read end the wait.
        waiter.replied(Instant::now());
        assert!(waiter.quick);
        server.write_all(b"+OK\r\n").expect("a write");
        waiter.wait();
        assert!(waiter.quick, "the reply was there: the wait did not time out");
        let mut reply = [0u8; 5];
        (&mine).read_exact(&mut reply).expect("the wait left the reply to be read");
        assert_eq!(&reply, b"+OK\r\n");
    }

    /// A descriptor that is not a socket is not polled.
    #[test]
    fn a_descriptor_that_is_not_a_socket_is_not_polled() {
        let file = std::fs::File::open("/dev/null").expect("/dev/null");
        assert_eq!(Waiter::found(Some(file.as_raw_fd())).socket, None);
        assert_eq!(Waiter::found(None).socket, None);
    }
}
