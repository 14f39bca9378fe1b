//! runner's executable: enters [`runner::cli::main`] straight from the C start-up code.
//!
//! Rust's own entry (`fn main`) first runs the runtime's set-up, which for runner's one thread
//! costs more than it gives: it reads `/proc/self/maps` (through `pthread_getattr_np`) to find
//! the main thread's stack guard, maps an alternate signal stack and installs SIGSEGV and SIGBUS
//! handlers, only to print "thread 'main' has overflowed its stack" before the abort a stack
//! overflow is anyway: 15 system calls and 40,000 instructions of a tutorial run's 850,000.
//! Entered here (`#![no_main]`, C's `main`), runner does itself the two parts it needs:
//! - a standard descriptor closed at start (seen by `runner::stdio`'s look before `main`)
//!   gets `/dev/null`, as the runtime would do, so that no file runner opens takes its number;
//! - SIGPIPE is ignored, as the runtime would do: a write to a closed pipe is an error runner
//!   reports (exit 2), not a signal that kills it; forked workers inherit it, a program runner
//!   starts gets SIGPIPE back (`std::process::Command` restores it).
//!
//! What is lost: that message (a stack overflow is a plain SIGSEGV), and the main thread's name
//! in a panic message (`thread '<unnamed>' panicked`); a panic still exits 101. The arguments
//! still reach `std::env::args_os`: on glibc the standard library takes them from the loader's
//! call of its `.init_array` entry, not from `main`.
//!
//! `unsafe` here (the fifth of the files ARCHITECTURE.md names for it): exporting `main` under its C
//! name, which only this crate can do (the library is also linked into the test harnesses,
//! which have a `main` of their own), and SIGPIPE's disposition, which no safe API sets.
#![cfg_attr(not(test), no_main)]

/// The executable's entry: not in its unit-test harness (which has no tests and keeps the
/// harness's own `main`).
#[cfg(not(test))]
mod entry {
    use nix::fcntl::{FcntlArg, FdFlag, fcntl};
    use std::ffi::{c_char, c_int};
    use std::fs::OpenOptions;
    use std::os::fd::IntoRawFd;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    // SAFETY: `main` is the one symbol of that name in the executable (`#![no_main]` keeps the
    // standard library's out), and its signature is the one C's start-up code calls it with.
    #[unsafe(no_mangle)]
    extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
        reopen_closed_standard_descriptors();
        // SAFETY: setting a signal's disposition to SIG_IGN installs no handler, so nothing can run
        // at an awkward time; runner has no other thread yet.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
        // A panic that escapes is a bug: the default hook has printed it; exit as Rust's `main`
        // would (101) rather than abort at this function's edge.
        let code = catch_unwind(AssertUnwindSafe(runner::cli::main)).unwrap_or(101);
        std::process::exit(code)
    }

    /// The descriptors among 0, 1, 2 found closed before `main` get `/dev/null`, lowest first: an
    /// open file takes the lowest free number, so each lands where it is missing. If the look did
    /// not run, nothing is known and nothing is opened.
    fn reopen_closed_standard_descriptors() {
        let at = runner::stdio::at_start();
        for (fd, closed) in [(0, at.stdin_closed), (1, at.stdout_closed), (2, at.stderr_closed)] {
            if !closed {
                continue;
            }
            // Without close-on-exec, as the runtime opens it: a program runner starts inherits it.
            let opened = OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")
                .and_then(|file| Ok(fcntl(&file, FcntlArg::F_SETFD(FdFlag::empty())).map(|_| file)?))
                .map(IntoRawFd::into_raw_fd);
            // The runtime aborts here too: without its standard descriptors runner could write its
            // report into a file it opened.
            if opened.ok() != Some(fd) {
                std::process::abort();
            }
        }
    }
}
