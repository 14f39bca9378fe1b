//! What the benchmark's two bare programs (`raw pthread` and `tutorial`) share: glibc's robust
//! process-shared mutex in a page of shared memory, set up as the tutorial's C would; and what
//! `runner-bench` counts of a whole process ([`count`]).

use std::mem::MaybeUninit;

/// A zeroed `MAP_SHARED` page viewed as a `T`, inherited by every child forked afterwards and
/// never unmapped.
pub fn shared_page<T>() -> *mut T {
    const { assert!(size_of::<T>() <= 4096) };
    // SAFETY: an anonymous shared mapping of one page, checked for failure, zeroed by the
    // kernel and never unmapped.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert!(page != libc::MAP_FAILED, "mmap failed: {}", std::io::Error::last_os_error());
    page.cast()
}

/// Initialises `mutex` as a robust, process-shared pthread mutex.
///
/// # Safety
/// `mutex` points into a page of [`shared_page`] that no other process or thread uses yet.
pub unsafe fn init_robust(mutex: *mut libc::pthread_mutex_t) {
    let mut attr = MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
    // SAFETY: the attribute is initialised before use; `mutex` is valid and unused (the
    // caller's contract).
    unsafe {
        libc::pthread_mutexattr_init(attr.as_mut_ptr());
        libc::pthread_mutexattr_setpshared(attr.as_mut_ptr(), libc::PTHREAD_PROCESS_SHARED);
        libc::pthread_mutexattr_setrobust(attr.as_mut_ptr(), libc::PTHREAD_MUTEX_ROBUST);
        assert_eq!(libc::pthread_mutex_init(mutex, attr.as_ptr()), 0);
        libc::pthread_mutexattr_destroy(attr.as_mut_ptr());
    }
}

pub mod count;
