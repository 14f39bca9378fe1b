//! Which of the standard descriptors (0, 1, 2) were open when runner started, and a write to
//! one that never waits ([`write_now`]). First thing in `main` (`src/main.rs`, as Rust's runtime
//! would), `/dev/null` is opened on any of them found closed, so that `runner job.yaml >&-`
//! would print its report into `/dev/null` and exit 0: the report silently lost. A function in
//! `.init_array`, which the dynamic loader (or the static start-up code) runs before `main`,
//! looks first and records what it saw here.
//!
//! Owns: that look and its record, and [`write_now`]. Does not own: what runner does about a
//! closed stream (see `cli::main`) or when it waits for one to take a write (see
//! `exec::interrupt`). `unsafe` here: the `.init_array` entry, `fcntl` on a raw descriptor and
//! the `pwritev2` system call, each with a `// SAFETY:` line.

use std::sync::atomic::{AtomicU8, Ordering};

/// Bit `n` set: descriptor `n` was closed at start. `LOOKED` set once the look ran.
static CLOSED: AtomicU8 = AtomicU8::new(0);
const LOOKED: u8 = 1 << 7;

/// Runs before Rust's runtime reopens closed standard descriptors.
extern "C" fn look() {
    let mut closed = LOOKED;
    for fd in 0..3 {
        // SAFETY: F_GETFD on a descriptor number only asks whether it is open (EBADF if not);
        // it reads no memory of ours and changes nothing.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            closed |= 1 << fd;
        }
    }
    CLOSED.store(closed, Ordering::Relaxed);
}

// SAFETY: `.init_array` holds pointers to functions the start-up code calls, with no arguments
// they need, before `main`; `look` is such a function, takes nothing, touches only an atomic,
// and cannot unwind (it calls no Rust code that panics).
#[used]
#[unsafe(link_section = ".init_array")]
static LOOK: extern "C" fn() = look;

/// The standard descriptors as runner found them at start.
#[derive(Debug, Clone, Copy)]
pub struct AtStart {
    pub stdin_closed: bool,
    pub stdout_closed: bool,
    pub stderr_closed: bool,
}

/// What the look before `main` saw; all open if it did not run (then nothing is known).
pub fn at_start() -> AtStart {
    let closed = CLOSED.load(Ordering::Relaxed);
    let was = |fd: u8| closed & LOOKED != 0 && closed & (1 << fd) != 0;
    AtStart { stdin_closed: was(0), stdout_closed: was(1), stderr_closed: was(2) }
}

/// Whether the look before `main` ran (it does wherever `.init_array` is honoured: glibc and
/// musl, dynamic or static).
pub fn looked() -> bool {
    CLOSED.load(Ordering::Relaxed) & LOOKED != 0
}

/// Writes what `out` takes of `bytes` now, without ever waiting (`pwritev2` with `RWF_NOWAIT`,
/// at the descriptor's position, as `write` would): `Ok(n)` with `n` bytes written; an error of
/// kind `WouldBlock` when it takes nothing now; `EOPNOTSUPP` (or `EINVAL`, `ENOSYS` before Linux
/// 4.14) where the file cannot say: a FIFO, a terminal, a regular file on most file systems.
/// Anonymous pipes (Linux 5.8 and later) and sockets can: a report written to a pipe goes in
/// one system call, and a wait (`poll`) only where the pipe is full.
pub fn write_now(out: std::os::fd::BorrowedFd<'_>, bytes: &[u8]) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let iov = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
    // The raw system call, not libc's wrapper, which not every C library has. Offset -1 (its
    // low half; the high half 0) is the descriptor's own position, as `write`'s.
    // SAFETY: `iov` describes `bytes`, valid for reads of its length for the whole call; the
    // kernel only reads through it, and writes nothing of ours.
    let n = unsafe {
        libc::syscall(libc::SYS_pwritev2, out.as_raw_fd(), &iov as *const libc::iovec, 1, -1i64, 0i64, libc::RWF_NOWAIT)
    };
    if n >= 0 { Ok(n as usize) } else { Err(std::io::Error::last_os_error()) }
}

/// Whether an error of [`write_now`] says that the file cannot tell (write as before, then).
pub fn cannot_write_now(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EINVAL | libc::ENOSYS))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_look_ran_before_main() {
        assert!(super::looked(), "the .init_array entry did not run");
    }

    #[test]
    fn a_write_now_to_a_full_pipe_takes_nothing_and_waits_for_nothing() {
        use std::os::fd::AsFd;
        let (reader, writer) = std::io::pipe().unwrap();
        let mut written = 0;
        let full = loop {
            match super::write_now(writer.as_fd(), &[7u8; 4096]) {
                Ok(n) => written += n,
                Err(e) => break e,
            }
            assert!(written <= 64 << 20, "a pipe that never fills");
        };
        if super::cannot_write_now(&full) {
            // A kernel before 5.8: pipes cannot say (the writer polls instead).
            return;
        }
        assert_eq!(full.kind(), std::io::ErrorKind::WouldBlock, "{full}");
        assert!(written >= 4096, "{written} bytes");
        drop(reader);
        let gone = super::write_now(writer.as_fd(), b"x").unwrap_err();
        assert_eq!(gone.raw_os_error(), Some(libc::EPIPE), "{gone}");
    }
}
