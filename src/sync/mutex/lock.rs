//! The `mutex` backend's lock: a futex-based process-shared lock in shared memory, robust to
//! its holder's death: the `get_lock()` of Python's `multiprocessing.Value`, minus its failure
//! mode (a holder that dies leaves Python's lock locked for good; here a waiter that finds the
//! holder dead takes the lock over and reports it as `Recovered`).
//!
//! The lock is one 32-bit word: 0 when free, else the holder (`index + 1`, or runner's own
//! mark) in the low 30 bits and [`CONTENDED`] once someone may be asleep on it (Drepper's
//! "mutex2", "Futexes Are Tricky", with the holder's identity in place of the 1). Locking is one
//! compare-exchange when the lock is free; otherwise a short spin, then `FUTEX_WAIT` on the word
//! (process-shared: no `FUTEX_PRIVATE_FLAG`) with a timeout of [`WAIT_MS`]. Unlocking swaps 0 in
//! and wakes one sleeper if the word was contended. A waiter that acquires after contention
//! keeps the bit, so that no sleeper is forgotten.
//!
//! Owner death: the kernel's robust list belongs to glibc (one per thread), so this lock cannot
//! use it. A waiter whose sleep times out while the lock has not changed hands (a count of
//! contended unlocks beside the word tells) reads the holder's pid from its slot and looks at
//! `/proc` (`sync::pace::alive`): gone, a zombie, or no longer runner's child means
//! dead, and the waiter swaps the dead holder's word for its own with a compare-exchange (so
//! only one waiter wins) and reports `Recovered`. A waiter that sees the lock change hands
//! while it sleeps doubles its next sleep, up to [`WAIT_MAX_MS`]: a thousand waiters would
//! otherwise wake a hundred thousand times a second between them. A dead worker stays a zombie
//! until runner reaps it, and runner forks nothing while workers run, so a worker's pid cannot
//! pass for a live worker even once reaped and reused. Runner, once every worker has ended,
//! takes the lock without looking at any pid ([`RobustLock::take_after_the_run`]): a word still
//! held then belongs to a dead worker.
//!
//! `RobustLock::locker`, `Locker` and `Acquired` are public for the benchmark's raw loop, which
//! measures this lock bare.
//!
//! Owns: the lock word's protocol and the futex calls (the only unsafe code of `sync`). Does not
//! own: repairing the protected data (`mutex/mod.rs`), nor the layout (`shm.rs`).

use std::sync::atomic::{AtomicU32, Ordering};

use nix::errno::Errno;

use crate::shm::RobustLock;

/// How a lock was acquired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquired {
    Clean,
    /// The previous holder died holding it; the lock is now the caller's.
    Recovered,
}

/// Set in the word when a locker may be asleep on it: the unlock must wake one.
pub(crate) const CONTENDED: u32 = 1 << 31;
/// The holder's part of the word.
const HOLDER: u32 = (1 << 30) - 1;
/// Runner's own mark in the word (after the run, in `settle`).
const RUNNER: u32 = HOLDER;
/// Compare-exchanges tried, with a pause between them, before sleeping: a few microseconds,
/// longer than most critical sections, shorter than a futex round trip.
const SPINS: u32 = 100;
/// How long a waiter first sleeps before it looks whether the holder still lives.
pub(crate) const WAIT_MS: u64 = 10;
/// The longest sleep: a waiter that saw the lock change hands while it slept doubles its sleep
/// up to this, so that a thousand waiters do not wake a hundred times a second each.
pub(crate) const WAIT_MAX_MS: u64 = 160;

/// A worker's handle on the lock: who it is, and how to find a holder's pid.
pub struct Locker<'a> {
    lock: &'a RobustLock,
    /// This worker in the word: its index + 1.
    me: u32,
    /// A worker's pid by index, from the shared slots (0 until the worker wrote it).
    pid_of: &'a dyn Fn(usize) -> u32,
}

impl RobustLock {
    /// Worker `index`'s handle; `pid_of` gives each worker's pid.
    pub fn locker<'a>(&'a self, index: u32, pid_of: &'a dyn Fn(usize) -> u32) -> Locker<'a> {
        assert!(index < RUNNER - 1, "worker index {index} does not fit the lock word");
        Locker { lock: self, me: index + 1, pid_of }
    }

    /// In runner, once every worker has ended: takes the lock at once. A word still held then
    /// belongs to a dead worker (`Recovered`); no pid is looked at, so a reaped and reused pid
    /// cannot mislead it.
    pub(crate) fn take_after_the_run(&self) -> Acquired {
        match self.word.swap(RUNNER, Ordering::Acquire) {
            0 => Acquired::Clean,
            _ => Acquired::Recovered,
        }
    }

    /// Unlocks; wakes one sleeper if the word says some may sleep.
    #[inline]
    pub(crate) fn unlock(&self) {
        if self.word.swap(0, Ordering::Release) & CONTENDED != 0 {
            self.hand_off();
        }
    }

    #[inline(never)]
    fn hand_off(&self) {
        self.handoffs.fetch_add(1, Ordering::Relaxed);
        wake_one(&self.word);
    }
}

impl Locker<'_> {
    /// Locks; a lock whose holder died is taken over and reported as `Recovered`.
    #[inline]
    pub fn lock(&self) -> Result<Acquired, Errno> {
        if self.lock.word.compare_exchange(0, self.me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            return Ok(Acquired::Clean);
        }
        self.lock_contended()
    }

    /// Unlocks a lock this worker holds.
    #[inline]
    pub fn unlock(&self) {
        self.lock.unlock();
    }

    #[inline(never)]
    fn lock_contended(&self) -> Result<Acquired, Errno> {
        let word = &self.lock.word;
        // The holder is likely running on another core and about to unlock: spin a little,
        // unless others already sleep (then the lock will be handed to them first).
        for _ in 0..SPINS {
            std::hint::spin_loop();
            let held = word.load(Ordering::Relaxed);
            if held == 0 && word.compare_exchange(0, self.me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                return Ok(Acquired::Clean);
            }
            if held & CONTENDED != 0 {
                break;
            }
        }
        // From here on this locker may sleep: it marks the word contended, and keeps the mark
        // when it acquires (mutex2's rule), since others may sleep too.
        let mine = self.me | CONTENDED;
        let mut sleep_ms = WAIT_MS;
        let mut seen = word.load(Ordering::Relaxed);
        loop {
            if seen == 0 {
                match word.compare_exchange(0, mine, Ordering::Acquire, Ordering::Relaxed) {
                    Ok(_) => return Ok(Acquired::Clean),
                    Err(now) => {
                        seen = now;
                        continue;
                    }
                }
            }
            if seen & CONTENDED == 0 {
                if let Err(now) = word.compare_exchange(seen, seen | CONTENDED, Ordering::Relaxed, Ordering::Relaxed) {
                    seen = now;
                    continue;
                }
                seen |= CONTENDED;
            }
            // Read before the sleep: the word is contended from before the sleep on, so every
            // unlock from then on counts a handoff.
            let handoffs = self.lock.handoffs.load(Ordering::Relaxed);
            match wait(word, seen, sleep_ms) {
                Ok(()) | Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(Errno::ETIMEDOUT) if self.lock.handoffs.load(Ordering::Relaxed) != handoffs => {
                    // The lock changes hands, only not to this waiter: sleep longer.
                    sleep_ms = (sleep_ms * 2).min(WAIT_MAX_MS);
                }
                Err(Errno::ETIMEDOUT) => {
                    // Held by one holder all along: is it still alive?
                    let now = word.load(Ordering::Relaxed);
                    if now != 0 && self.holder_died(now) {
                        match word.compare_exchange(now, mine, Ordering::AcqRel, Ordering::Relaxed) {
                            Ok(_) => return Ok(Acquired::Recovered),
                            Err(later) => {
                                seen = later;
                                continue;
                            }
                        }
                    }
                }
                Err(e) => return Err(e),
            }
            seen = word.load(Ordering::Relaxed);
        }
    }

    /// Whether the holder named in `word` has died (a pid not yet written counts as alive).
    fn holder_died(&self, word: u32) -> bool {
        let holder = word & HOLDER;
        if holder == 0 || holder == RUNNER {
            return false;
        }
        let pid = (self.pid_of)(holder as usize - 1);
        pid != 0 && !crate::sync::pace::alive(pid)
    }
}

/// `FUTEX_WAIT` on `word` while it holds `expected`, for at most `ms` milliseconds.
fn wait(word: &AtomicU32, expected: u32, ms: u64) -> Result<(), Errno> {
    let timeout = libc::timespec { tv_sec: (ms / 1000) as libc::time_t, tv_nsec: ((ms % 1000) * 1_000_000) as _ };
    // SAFETY: `word` is a live, aligned 32-bit atomic in a mapping every locker shares, and
    // `timeout` a live timespec: the kernel reads both during the call and keeps neither.
    // FUTEX_WAIT only compares and sleeps; it writes no memory of ours.
    let rc = unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAIT, expected, &timeout as *const libc::timespec)
    };
    if rc == 0 { Ok(()) } else { Err(Errno::last()) }
}

/// `FUTEX_WAKE` of one sleeper on `word`.
fn wake_one(word: &AtomicU32) {
    // SAFETY: `word` is a live, aligned 32-bit atomic; FUTEX_WAKE reads no memory of ours beyond
    // using its address as the key. Its result (how many woke) is not needed.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, 1) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free() -> RobustLock {
        RobustLock { word: AtomicU32::new(0), handoffs: AtomicU32::new(0) }
    }

    /// A pid no process has: above any `pid_max` (at most 2^22).
    const NO_SUCH_PID: u32 = 1 << 30;

    #[test]
    fn a_free_lock_is_taken_and_released() {
        let lock = free();
        let me = std::process::id();
        let pid_of = |_: usize| me;
        let locker = lock.locker(3, &pid_of);
        assert_eq!(locker.lock(), Ok(Acquired::Clean));
        assert_eq!(lock.word.load(Ordering::Relaxed), 4, "the holder is index + 1");
        locker.unlock();
        assert_eq!(lock.word.load(Ordering::Relaxed), 0);
        assert_eq!(lock.take_after_the_run(), Acquired::Clean);
        lock.unlock();
    }

    #[test]
    fn a_lock_whose_holder_is_gone_is_taken_over() {
        let lock = free();
        let pid_of = |i: usize| if i == 0 { NO_SUCH_PID } else { std::process::id() };
        // Worker 0 "died" holding the lock.
        lock.word.store(1, Ordering::Relaxed);
        let started = std::time::Instant::now();
        assert_eq!(lock.locker(1, &pid_of).lock(), Ok(Acquired::Recovered));
        assert!(started.elapsed() >= std::time::Duration::from_millis(WAIT_MS), "looked only after a sleep");
        assert_eq!(lock.word.load(Ordering::Relaxed), 2 | CONTENDED, "held by worker 1, still marked contended");
        lock.unlock();
        assert_eq!(lock.handoffs.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn runner_takes_a_held_lock_after_the_run_without_asking_whose() {
        let lock = free();
        lock.word.store(7 | CONTENDED, Ordering::Relaxed);
        assert_eq!(lock.take_after_the_run(), Acquired::Recovered);
        lock.unlock();
        assert_eq!(lock.word.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_live_holder_is_not_taken_for_dead() {
        let lock = free();
        let me = std::process::id();
        let pid_of = |i: usize| if i == 0 { me } else { 0 };
        let locker = lock.locker(5, &pid_of);
        assert!(!locker.holder_died(1 | CONTENDED), "this process is alive");
        assert!(!locker.holder_died(2), "a pid not yet written counts as alive");
        assert!(!locker.holder_died(RUNNER | CONTENDED));
        assert!(crate::sync::pace::alive(me));
        assert!(!crate::sync::pace::alive(NO_SUCH_PID));
    }

    #[test]
    fn threads_contending_lose_no_update() {
        // The futex calls are the same between threads as between processes (no private flag).
        let lock = free();
        let count = AtomicU32::new(0);
        let me = std::process::id();
        let pid_of = |_: usize| me;
        std::thread::scope(|s| {
            for index in 0..4 {
                let (lock, count, pid_of) = (&lock, &count, &pid_of);
                s.spawn(move || {
                    let locker = lock.locker(index, pid_of);
                    for _ in 0..50_000 {
                        assert_eq!(locker.lock(), Ok(Acquired::Clean));
                        count.store(count.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                        locker.unlock();
                    }
                });
            }
        });
        assert_eq!(count.load(Ordering::Relaxed), 200_000);
        assert_eq!(lock.word.load(Ordering::Relaxed), 0);
    }
}
