//! A robust, process-shared pthread mutex living in shared memory: the `get_lock()` of Python's
//! `multiprocessing.Value`, minus its failure mode (a holder that dies leaves Python's lock
//! locked for good; here the next locker gets EOWNERDEAD, marks the lock consistent and goes on).
//!
//! Owns: the unsafe calls into libc for this lock. The caller repairs the protected data.

use std::cell::UnsafeCell;

use nix::errno::Errno;

use crate::sync::shm::Shareable;

/// How a lock was acquired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquired {
    Clean,
    /// The previous owner died holding it; the lock is consistent again.
    Recovered,
}

#[repr(C)]
pub struct RobustMutex {
    inner: UnsafeCell<libc::pthread_mutex_t>,
}

// SAFETY: the pthread mutex is designed for concurrent use; all access goes through its API.
unsafe impl Sync for RobustMutex {}
// SAFETY: zeroed bytes are only ever a not-yet-initialised mutex, which `init` sets up in the
// parent before any fork; it holds no pointers (glibc's robust list links live in the owner's
// thread descriptor and are address-based), so it works at the same address in every process.
unsafe impl Shareable for RobustMutex {}

fn check(rc: libc::c_int) -> Result<(), Errno> {
    if rc == 0 { Ok(()) } else { Err(Errno::from_raw(rc)) }
}

impl RobustMutex {
    /// Initialises the mutex as PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST. Call once, in the
    /// parent, before forking.
    pub fn init(&self) -> Result<(), Errno> {
        let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: `attr` is initialised by pthread_mutexattr_init before any other use and
        // destroyed after the mutex is initialised; `inner` points into the live mapping and no
        // other process exists yet.
        unsafe {
            check(libc::pthread_mutexattr_init(attr.as_mut_ptr()))?;
            let result = check(libc::pthread_mutexattr_setpshared(attr.as_mut_ptr(), libc::PTHREAD_PROCESS_SHARED))
                .and_then(|()| check(libc::pthread_mutexattr_setrobust(attr.as_mut_ptr(), libc::PTHREAD_MUTEX_ROBUST)))
                .and_then(|()| check(libc::pthread_mutex_init(self.inner.get(), attr.as_ptr())));
            libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
            result
        }
    }

    /// Locks; a lock whose owner died is made consistent and reported as `Recovered`.
    #[inline]
    pub fn lock(&self) -> Result<Acquired, Errno> {
        // SAFETY: the mutex was initialised by `init` before the fork that made this process.
        match unsafe { libc::pthread_mutex_lock(self.inner.get()) } {
            0 => Ok(Acquired::Clean),
            libc::EOWNERDEAD => {
                // SAFETY: we hold the lock (EOWNERDEAD means acquired); marking it consistent is
                // the documented recovery.
                check(unsafe { libc::pthread_mutex_consistent(self.inner.get()) })?;
                Ok(Acquired::Recovered)
            }
            rc => Err(Errno::from_raw(rc)),
        }
    }

    /// Unlocks a mutex this thread holds.
    #[inline]
    pub fn unlock(&self) {
        // SAFETY: called only after a successful `lock` by this thread. An error (EPERM) is not
        // possible for a held robust mutex, so the result is ignored.
        unsafe { libc::pthread_mutex_unlock(self.inner.get()) };
    }

    /// Releases the mutex's resources; call once, in the parent, after every worker has ended.
    pub fn destroy(&self) {
        // SAFETY: no process uses the mutex any more.
        unsafe { libc::pthread_mutex_destroy(self.inner.get()) };
    }
}
