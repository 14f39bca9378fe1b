//! The `mutex` backend's lock: a futex-based process-shared lock in shared memory, robust to
//! its holder's death: the `get_lock()` of Python's `multiprocessing.Value`, minus its failure
//! mode (a holder that dies leaves Python's lock locked for good; here, once runner has reaped
//! the dead holder, a waiter takes the lock over and reports it as `Recovered`).
//!
//! The lock is one 32-bit word: 0 when free, else the holder (`index + 1`, or runner's own
//! mark) in the low 30 bits, [`DIED`] once runner has reaped that holder, and [`CONTENDED`]
//! once someone may be asleep on it (Drepper's "mutex2", "Futexes Are Tricky", with the
//! holder's identity in place of the 1). Locking is one compare-exchange when the lock is free;
//! otherwise a short spin, then `FUTEX_WAIT` on the word (process-shared: no
//! `FUTEX_PRIVATE_FLAG`). Unlocking swaps 0 in
//! and wakes one sleeper if the word was contended. A waiter that acquires after contention
//! keeps the bit, so that no sleeper is forgotten.
//!
//! Owner death: the kernel's robust list belongs to glibc (one per thread), so this lock cannot
//! use it, and no pid is looked at either (a pid means one thing to runner and another to a
//! `/proc` mounted for another PID namespace). Runner learns of every worker's end from
//! `waitpid` as it happens (`exec/deaths.rs`); once it has reaped a worker that the word names
//! as its holder, it sets [`DIED`] in the word ([`RobustLock::holder_ended`]) and wakes one
//! waiter. Since the word changed, no waiter can sleep through it: one about to sleep finds the
//! word changed (`FUTEX_WAIT` returns at once), one asleep is woken, and a locker that comes
//! later sees the mark. A locker that sees [`DIED`] swaps the dead holder's word for its own
//! with a compare-exchange (so only one wins) and reports `Recovered`, naming the dead holder.
//! Runner wakes one waiter at every worker's end, holder or not: a worker killed just after an
//! unlock woke it would otherwise take that wake-up with it.
//! Only runner sets [`DIED`], and only once the holder is reaped, so a live holder, however
//! long it stalls, is never taken for dead. A waiter sleeps until the word changes (an unlock,
//! or runner's mark), with no timeout: nothing else could change its answer. Runner, once
//! every worker has ended, takes the lock without waiting ([`RobustLock::take_after_the_run`]):
//! a word still held then belongs to a dead worker.
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
    /// Worker `from` died holding it; the lock is now the caller's.
    Recovered {
        from: u32,
    },
}

/// Set in the word when a locker may be asleep on it: the unlock must wake one.
pub(crate) const CONTENDED: u32 = 1 << 31;
/// Set in the word by runner once it has reaped the holder the word names: the lock is the next
/// locker's to take over.
pub(crate) const DIED: u32 = 1 << 30;
/// The holder's part of the word.
const HOLDER: u32 = DIED - 1;
/// Runner's own mark in the word (after the run, in `settle`).
const RUNNER: u32 = HOLDER;
/// Compare-exchanges tried, with a pause between them, before sleeping: a few microseconds,
/// longer than most critical sections, shorter than a futex round trip.
const SPINS: u32 = 100;

/// A worker's handle on the lock: who it is.
pub struct Locker<'a> {
    lock: &'a RobustLock,
    /// This worker in the word: its index + 1.
    me: u32,
}

/// The worker a held word names (`None` for runner's own mark).
fn holder(word: u32) -> Option<u32> {
    match word & HOLDER {
        0 | RUNNER => None,
        h => Some(h - 1),
    }
}

impl RobustLock {
    /// Worker `index`'s handle.
    pub fn locker(&self, index: u32) -> Locker<'_> {
        assert!(index < RUNNER - 1, "worker index {index} does not fit the lock word");
        Locker { lock: self, me: index + 1 }
    }

    /// In runner, once every worker has ended: takes the lock at once. A word still held then
    /// belongs to a dead worker, which it names.
    pub(crate) fn take_after_the_run(&self) -> Acquired {
        match holder(self.word.swap(RUNNER, Ordering::Acquire)) {
            None => Acquired::Clean,
            Some(from) => Acquired::Recovered { from },
        }
    }

    /// In runner, once it has reaped worker `index` (however it ended): if the word names it as
    /// the holder, marks the holder dead and wakes one waiter to take the lock over; true then.
    /// Otherwise it still wakes one waiter: the dead worker may have been the sleeper an unlock
    /// woke (`FUTEX_WAKE` of one), killed before it took the lock. The unlock had cleared the
    /// word, so no later unlock would wake the others, and they slept for good while the rest of
    /// the run went on without them (seen in CI: a waiter asleep on a free word, the victim of
    /// tests/faults.rs's SIGKILL the one woken). A waiter woken for nothing looks at the word
    /// and sleeps again.
    pub(crate) fn holder_ended(&self, index: u32) -> bool {
        let mut word = self.word.load(Ordering::Acquire);
        loop {
            if holder(word) == Some(index) && word & DIED == 0 {
                match self.word.compare_exchange(word, word | DIED, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => {
                        wake_one(&self.word);
                        return true;
                    }
                    // A waiter marked the word contended meanwhile: the holder is the same.
                    Err(now) => word = now,
                }
            } else {
                wake_one(&self.word);
                return false;
            }
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
        wake_one(&self.word);
    }
}

impl Locker<'_> {
    /// Locks; a lock whose holder died (runner says so in the word) is taken over and reported
    /// as `Recovered`.
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
        // unless others already sleep (then the lock will be handed to them first) or runner
        // says the holder died.
        for _ in 0..SPINS {
            std::hint::spin_loop();
            let held = word.load(Ordering::Relaxed);
            if held == 0 && word.compare_exchange(0, self.me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                return Ok(Acquired::Clean);
            }
            if held & (CONTENDED | DIED) != 0 {
                break;
            }
        }
        // From here on this locker may sleep: it marks the word contended, and keeps the mark
        // when it acquires (mutex2's rule), since others may sleep too.
        let mine = self.me | CONTENDED;
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
            if seen & DIED != 0 {
                // Runner reaped the holder: take its lock over (one waiter wins).
                match word.compare_exchange(seen, mine, Ordering::AcqRel, Ordering::Relaxed) {
                    Ok(_) => return Ok(Acquired::Recovered { from: holder(seen).unwrap_or(0) }),
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
            // Until the word changes: an unlock, or runner's mark of a dead holder.
            match wait(word, seen) {
                Ok(()) | Err(Errno::EAGAIN | Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
            seen = word.load(Ordering::Relaxed);
        }
    }
}

/// `FUTEX_WAIT` on `word` while it holds `expected`, without a timeout.
fn wait(word: &AtomicU32, expected: u32) -> Result<(), Errno> {
    // SAFETY: `word` is a live, aligned 32-bit atomic in a mapping every locker shares; the
    // kernel reads it during the call and keeps nothing; a null timeout means none. FUTEX_WAIT
    // only compares and sleeps; it writes no memory of ours.
    let rc = unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAIT, expected, std::ptr::null::<libc::timespec>())
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
    use std::time::Duration;

    use super::*;

    fn free() -> RobustLock {
        RobustLock { word: AtomicU32::new(0) }
    }

    #[test]
    fn a_free_lock_is_taken_and_released() {
        let lock = free();
        let locker = lock.locker(3);
        assert_eq!(locker.lock(), Ok(Acquired::Clean));
        assert_eq!(lock.word.load(Ordering::Relaxed), 4, "the holder is index + 1");
        locker.unlock();
        assert_eq!(lock.word.load(Ordering::Relaxed), 0);
        assert_eq!(lock.take_after_the_run(), Acquired::Clean);
        lock.unlock();
    }

    #[test]
    fn a_waiter_takes_the_lock_over_once_runner_says_its_holder_ended() {
        let lock = free();
        // Worker 0 holds the lock (and will never unlock it: it "died").
        assert_eq!(lock.locker(0).lock(), Ok(Acquired::Clean));
        std::thread::scope(|s| {
            let waiter = s.spawn(|| lock.locker(1).lock());
            // Whether the waiter sleeps already or not, runner's mark reaches it.
            std::thread::sleep(Duration::from_millis(20));
            assert!(!waiter.is_finished(), "a live holder's lock is not taken");
            assert!(!lock.holder_ended(1), "worker 1 holds nothing");
            assert!(lock.holder_ended(0));
            assert_eq!(waiter.join().unwrap(), Ok(Acquired::Recovered { from: 0 }));
        });
        assert_eq!(lock.word.load(Ordering::Relaxed) & !CONTENDED, 2, "held by worker 1, the mark gone");
        lock.unlock();
        assert_eq!(lock.word.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_wake_up_lost_with_a_dead_waiter_is_given_again_when_runner_reaps_it() {
        let lock = free();
        assert_eq!(lock.locker(0).lock(), Ok(Acquired::Clean));
        let lock = &lock;
        std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            s.spawn(move || tx.send(lock.locker(1).lock()));
            // Worker 1 sleeps on the contended word.
            while lock.word.load(Ordering::Relaxed) & CONTENDED == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(20));
            // Worker 0 unlocks, and its wake-up goes to worker 2, which is killed before it
            // takes the lock: the word is free, and worker 1 still sleeps.
            lock.word.store(0, Ordering::Release);
            assert!(rx.recv_timeout(Duration::from_millis(50)).is_err(), "worker 1 sleeps through a free word");
            // Runner reaps worker 2, which held nothing.
            assert!(!lock.holder_ended(2));
            // 10 s: far beyond a wake-up (microseconds); without it worker 1 would never wake.
            let got = rx.recv_timeout(Duration::from_secs(10));
            if got.is_err() {
                // Let the thread end, so that the test fails rather than hangs.
                wake_one(&lock.word);
            }
            assert_eq!(got.expect("worker 1 woken when runner reaped worker 2"), Ok(Acquired::Clean));
        });
        lock.unlock();
    }

    #[test]
    fn a_locker_that_comes_after_the_mark_takes_the_lock_over() {
        let lock = free();
        lock.word.store(6, Ordering::Relaxed);
        assert!(lock.holder_ended(5));
        assert_eq!(lock.word.load(Ordering::Relaxed), 6 | DIED);
        assert_eq!(lock.locker(2).lock(), Ok(Acquired::Recovered { from: 5 }));
        lock.unlock();
    }

    #[test]
    fn runner_takes_a_held_lock_after_the_run_and_names_its_holder() {
        let lock = free();
        lock.word.store(7 | CONTENDED, Ordering::Relaxed);
        assert_eq!(lock.take_after_the_run(), Acquired::Recovered { from: 6 });
        lock.unlock();
        assert_eq!(lock.word.load(Ordering::Relaxed), 0);
        assert!(!lock.holder_ended(0), "a free lock has no holder to mark");
        assert_eq!(lock.word.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn threads_contending_lose_no_update() {
        // The futex calls are the same between threads as between processes (no private flag).
        let lock = free();
        let count = AtomicU32::new(0);
        std::thread::scope(|s| {
            for index in 0..4 {
                let (lock, count) = (&lock, &count);
                s.spawn(move || {
                    let locker = lock.locker(index);
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
