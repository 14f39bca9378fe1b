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
//! spin through its round trips. It polls at most a tenth of the job's `timeout` (the read's
//! timeout starts after the polling: a command gives up after at most 1.1 times `timeout`).
//!
//! The socket is found, not handed over (the `redis` crate does not lend its descriptor): it is
//! the lowest descriptor free when the connection is made, checked once it is made to be a socket
//! connected to the server's port (or, for a Unix socket URL, a Unix socket). A wrong guess could
//! cost time, never a reply: polling reads nothing and closes nothing, and the crate's read that
//! follows is the one that takes the reply, with its timeout.
//!
//! Owns: that wait. Does not own: sending, reading or timeouts (`conn` and the crate).

use std::mem::size_of;
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
    /// The longest a wait polls: [`POLL_FOR`], or a tenth of the command timeout if less.
    limit: Duration,
    /// Whether the last reply came within [`POLL_FOR`].
    quick: bool,
}

impl Waiter {
    /// The descriptor the next socket will get (the lowest free one), to be given to
    /// [`Waiter::found`] once the connection is made.
    pub(super) fn guess() -> Option<RawFd> {
        std::fs::File::open("/dev/null").ok().map(|f| f.as_raw_fd())
    }

    /// A waiter that polls `guess` if it is now a socket connected to `server`, else one that
    /// only sleeps; `timeout` is the connection's command timeout.
    pub(super) fn found(guess: Option<RawFd>, server: &redis::ConnectionAddr, timeout: Duration) -> Waiter {
        let socket = guess.filter(|&fd| match (peer(fd), server) {
            (Some(Peer::Ip { port }), redis::ConnectionAddr::Tcp(_, want)) => port == *want,
            (Some(Peer::Unix), redis::ConnectionAddr::Unix(_)) => true,
            _ => false,
        });
        Waiter { socket, limit: POLL_FOR.min(timeout / 10), quick: true }
    }

    /// Returns once the socket has bytes to read, or the limit has passed, or at once when
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
            if start.elapsed() >= self.limit {
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
    // 1, and does not block (timeout 0); it neither reads from nor closes the descriptor, and one
    // that is not open is reported in `revents` (POLLNVAL).
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents != 0
}

/// What a socket is connected to, as far as the check needs.
#[derive(Debug, PartialEq, Eq)]
enum Peer {
    /// An IPv4 or IPv6 peer, on this port.
    Ip { port: u16 },
    /// A Unix socket's peer.
    Unix,
}

/// The peer of socket `fd`; `None` when `fd` is not a connected socket.
fn peer(fd: RawFd) -> Option<Peer> {
    /// Room and alignment for any socket address (`sockaddr_storage` is 128 bytes).
    #[repr(C, align(8))]
    struct Address([u8; 128]);
    let mut address = Address([0; 128]);
    let mut len = size_of::<Address>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes (the buffer's size) of the address into the
    // buffer, which lives on this stack frame, and the length into `len`; a descriptor that is
    // not an open, connected socket is an error return, not undefined behaviour.
    let rc = unsafe { libc::getpeername(fd, address.0.as_mut_ptr().cast::<libc::sockaddr>(), &mut len) };
    // An unnamed Unix socket's peer (a socket pair's) is its family alone: 2 bytes.
    if rc != 0 || (len as usize) < 2 {
        return None;
    }
    // Every family starts with its number (native order); IPv4's and IPv6's then with the port
    // (network order).
    let family = i32::from(u16::from_ne_bytes([address.0[0], address.0[1]]));
    match family {
        libc::AF_INET | libc::AF_INET6 if len >= 4 => {
            Some(Peer::Ip { port: u16::from_be_bytes([address.0[2], address.0[3]]) })
        }
        libc::AF_UNIX => Some(Peer::Unix),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{POLL_FOR, Peer, Waiter, peer};
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::time::{Duration, Instant};

    const LONG: Duration = Duration::from_secs(5);

    fn unix() -> redis::ConnectionAddr {
        redis::ConnectionAddr::Unix("/nowhere".into())
    }

    /// The guess is the descriptor the next socket gets. (Other tests' threads open files too:
    /// one of ten tries must see no descriptor opened in between.)
    #[test]
    fn the_guess_is_the_next_sockets_descriptor() {
        let right = (0..10).any(|_| {
            let guess = Waiter::guess();
            let (mine, _server) = UnixStream::pair().expect("a socket pair");
            guess == Some(mine.as_raw_fd()) && Waiter::found(guess, &unix(), LONG).socket == guess
        });
        assert!(right, "no guess named the socket made next");
    }

    /// Only a socket connected to the server's port (or a Unix socket for a Unix URL) is polled.
    #[test]
    fn only_a_socket_connected_to_the_server_is_polled() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a listener");
        let port = listener.local_addr().expect("its address").port();
        let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).expect("a connection");
        assert_eq!(peer(tcp.as_raw_fd()), Some(Peer::Ip { port }));
        let at = |port| redis::ConnectionAddr::Tcp("127.0.0.1".into(), port);
        assert!(Waiter::found(Some(tcp.as_raw_fd()), &at(port), LONG).socket.is_some());
        assert!(Waiter::found(Some(tcp.as_raw_fd()), &at(port.wrapping_add(1)), LONG).socket.is_none());
        assert!(Waiter::found(Some(tcp.as_raw_fd()), &unix(), LONG).socket.is_none());
        // A listening socket has no peer; a file is no socket.
        assert_eq!(peer(listener.as_raw_fd()), None);
        let file = std::fs::File::open("/dev/null").expect("/dev/null");
        assert!(Waiter::found(Some(file.as_raw_fd()), &at(port), LONG).socket.is_none());
        assert!(Waiter::found(None, &at(port), LONG).socket.is_none());
    }

    /// A waiter polls while replies are quick, returns as soon as there are bytes (reading
    /// none), and does not poll after a slow reply.
    #[test]
    fn a_waiter_polls_until_a_reply_is_slow_and_reads_nothing() {
        let (mine, mut server) = UnixStream::pair().expect("a socket pair");
        let mut waiter = Waiter::found(Some(mine.as_raw_fd()), &unix(), LONG);
        assert_eq!(waiter.socket, Some(mine.as_raw_fd()));
        assert_eq!(waiter.limit, POLL_FOR);
        // Nothing to read: it polls for POLL_FOR, then gives up, and the next wait does not poll.
        let start = Instant::now();
        waiter.wait();
        assert!(start.elapsed() >= POLL_FOR, "returned after {:?}", start.elapsed());
        assert!(!waiter.quick);
        // A reply long after its request keeps polling off.
        waiter.replied(Instant::now() - POLL_FOR);
        assert!(!waiter.quick);
        // Bytes to read end the wait, and leave them to be read.
        waiter.quick = true;
        server.write_all(b"+OK\r\n").expect("a write");
        waiter.wait();
        assert!(waiter.quick, "the reply was there: the wait did not time out");
        let mut reply = [0u8; 5];
        (&mine).read_exact(&mut reply).expect("the wait left the reply to be read");
        assert_eq!(&reply, b"+OK\r\n");
    }

    /// Polling lasts at most a tenth of a short command timeout.
    #[test]
    fn polling_lasts_at_most_a_tenth_of_the_timeout() {
        let (mine, _server) = UnixStream::pair().expect("a socket pair");
        let short = Waiter::found(Some(mine.as_raw_fd()), &unix(), Duration::from_micros(500));
        assert_eq!(short.limit, Duration::from_micros(50));
    }
}
