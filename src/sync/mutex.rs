//! A robust, process-shared pthread mutex living in shared memory: the `get_lock()` of Python's
//! `multiprocessing.Value`, minus its failure mode (a holder that dies leaves Python's lock
//! locked for good; here the next locker gets EOWNERDEAD, marks the lock consistent and goes on).
//!
//! Owns: the unsafe calls into libc for this lock. The caller repairs the protected data. It is
//! never destroyed: glibc's mutexes hold no resources, and a worker may still be unlocking it
//! when runner unmaps its own view.

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
// SAFETY: zeroed bytes are only ever a not-yet-initialised mutex, which `Shared::new` sets up
// before any fork. A locked robust mutex does hold pointers (glibc links it into its owner's
// robust list), but only the owner follows them, in its own address space, and the mapping is
// inherited at the same address by every process, so they are valid wherever they are used.
unsafe impl Shareable for RobustMutex {}

fn check(rc: libc::c_int) -> Result<(), Errno> {
    if rc == 0 { Ok(()) } else { Err(Errno::from_raw(rc)) }
}

impl RobustMutex {
    /// Initialises the mutex as PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST.
    ///
    /// # Safety
    /// No other thread or process may use the mutex during the call: call it once, on memory
    /// that nobody else can reach yet.
    pub unsafe fn init(&self) -> Result<(), Errno> {
        let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
        // SAFETY: `attr` is initialised by pthread_mutexattr_init before any other use and
        // destroyed after the mutex is initialised; `inner` points into live memory that, by the
        // caller's contract, nobody else uses yet.
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
}
