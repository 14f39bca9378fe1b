//! Which of the standard descriptors (0, 1, 2) were open when runner started. First thing in
//! `main` (`src/main.rs`, as Rust's runtime would), `/dev/null` is opened on any of them found
//! closed, so that `runner job.yaml >&-` would print its report into `/dev/null` and exit 0: the
//! report silently lost. A function in `.init_array`, which the dynamic loader (or the static
//! start-up code) runs before `main`, looks first and records what it saw here.
//!
//! Owns: that look and its record. Does not own: what runner does about a closed stream (see
//! `cli::main`). `unsafe` here: the `.init_array` entry and `fcntl` on a raw descriptor, each
//! with a `// SAFETY:` line.

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

#[cfg(test)]
mod tests {
    #[test]
    fn the_look_ran_before_main() {
        assert!(super::looked(), "the .init_array entry did not run");
    }
}
