//! The native floor for the tutorial job: Python's multiprocessing tutorial with nothing around
//! it. Maps a shared page, initialises a robust process-shared mutex in it, forks 5 processes
//! that each lock, add 1 and unlock, reaps them and prints the value (5). No job file, no plan,
//! no report: whatever runner spends beyond this is its own overhead.

#[repr(C)]
struct Page {
    mutex: libc::pthread_mutex_t,
    value: libc::c_int,
}

const WORKERS: usize = 5;

fn main() {
    let page = runner_bench::shared_page::<Page>();
    // SAFETY: the page is ours alone until the forks.
    unsafe { runner_bench::init_robust(&raw mut (*page).mutex) };
    let mut pids = [0; WORKERS];
    for pid in &mut pids {
        // SAFETY: single-threaded; the child only locks, adds, unlocks and leaves through _exit.
        *pid = unsafe { libc::fork() };
        assert!(*pid >= 0, "fork failed");
        if *pid == 0 {
            // SAFETY: the mutex was initialised before the fork and lives in the shared page.
            unsafe {
                if libc::pthread_mutex_lock(&raw mut (*page).mutex) == libc::EOWNERDEAD {
                    libc::pthread_mutex_consistent(&raw mut (*page).mutex);
                }
                (*page).value += 1;
                libc::pthread_mutex_unlock(&raw mut (*page).mutex);
                libc::_exit(0);
            }
        }
    }
    for pid in pids {
        let mut status = 0;
        // SAFETY: waits for a child of ours.
        unsafe { libc::waitpid(pid, &mut status, 0) };
    }
    // SAFETY: every child has ended; the page is still mapped.
    let value = unsafe { (*page).value };
    println!("{value}");
    std::process::exit(if value == WORKERS as i32 { 0 } else { 1 });
}
