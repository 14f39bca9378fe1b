//! The limit runner is measured against: one primitive in a minimal loop in forked processes,
//! with runner's own shared layout (`Shared`) and start barrier, no timing inside the loop and
//! nothing else around it: no job file, plan, probe, progress count, pacing or report.
//!
//! ```text
//! raw PRIMITIVE TYPE WORKERS ITERATIONS
//!   atomic      fetch_add (d: a compare-exchange loop on the bits)
//!   mutex       runner's process-shared futex lock (src/sync/mutex.rs): lock, read, write, unlock
//!   pthread     glibc's robust process-shared pthread mutex instead (the lock runner replaced)
//!   pipe        one write(2) per operation of the operand's bytes (4, 8 or 1)
//!   pipe-batch  writes of 4 KiB of operands
//! raw fork WORKERS
//!   forks WORKERS children that exit at once and reaps them: the cost of a fork on its own
//! ```
//!
//! Prints one JSON line. The window is runner's: from the parent's release of the barrier to the
//! last worker's end (pipes: to the parent's application of the last operation, as runner's
//! channel owner does); as in runner, a worker whose work is over waits at the exit gate until
//! every worker is done. The final value is checked: a wrong one exits 1.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicI32, AtomicU8, AtomicU64, Ordering};

use runner::clock::now_ns;
use runner::exec::barrier::Barrier;
use runner::exec::lifeline::Lifeline;
use runner::shm::{Areas, Shareable, Shared};

/// A value type as the loops see it: the atomic it lives in and its wire form.
trait Num: Copy + PartialEq + std::fmt::Debug {
    type Atomic: Shareable;
    const SIZE: usize;
    const ONE: Self;
    fn atomic_add(cell: &Self::Atomic, a: Self);
    fn load(cell: &Self::Atomic) -> Self;
    fn store(cell: &Self::Atomic, v: Self);
    fn add(self, a: Self) -> Self;
    fn write_le(self, out: &mut [u8]);
    fn read_le(bytes: &[u8]) -> Self;
    /// `ONE` added `n` times to zero.
    fn times(n: u64) -> Self;
    fn json(self) -> serde_json::Value;
}

impl Num for i32 {
    type Atomic = AtomicI32;
    const SIZE: usize = 4;
    const ONE: i32 = 1;
    #[inline(always)]
    fn atomic_add(cell: &AtomicI32, a: i32) {
        cell.fetch_add(a, Ordering::Relaxed);
    }
    #[inline(always)]
    fn load(cell: &AtomicI32) -> i32 {
        cell.load(Ordering::Relaxed)
    }
    #[inline(always)]
    fn store(cell: &AtomicI32, v: i32) {
        cell.store(v, Ordering::Relaxed)
    }
    #[inline(always)]
    fn add(self, a: i32) -> i32 {
        self.wrapping_add(a)
    }
    fn write_le(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_le_bytes())
    }
    #[inline(always)]
    fn read_le(b: &[u8]) -> i32 {
        i32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }
    fn times(n: u64) -> i32 {
        n as u32 as i32
    }
    fn json(self) -> serde_json::Value {
        self.into()
    }
}

impl Num for u8 {
    type Atomic = AtomicU8;
    const SIZE: usize = 1;
    const ONE: u8 = 1;
    #[inline(always)]
    fn atomic_add(cell: &AtomicU8, a: u8) {
        cell.fetch_add(a, Ordering::Relaxed);
    }
    #[inline(always)]
    fn load(cell: &AtomicU8) -> u8 {
        cell.load(Ordering::Relaxed)
    }
    #[inline(always)]
    fn store(cell: &AtomicU8, v: u8) {
        cell.store(v, Ordering::Relaxed)
    }
    #[inline(always)]
    fn add(self, a: u8) -> u8 {
        self.wrapping_add(a)
    }
    fn write_le(self, out: &mut [u8]) {
        out[0] = self
    }
    #[inline(always)]
    fn read_le(b: &[u8]) -> u8 {
        b[0]
    }
    fn times(n: u64) -> u8 {
        n as u8
    }
    fn json(self) -> serde_json::Value {
        self.into()
    }
}

impl Num for f64 {
    type Atomic = AtomicU64;
    const SIZE: usize = 8;
    const ONE: f64 = 1.0;
    #[inline(always)]
    fn atomic_add(cell: &AtomicU64, a: f64) {
        let mut old = cell.load(Ordering::Relaxed);
        while let Err(now) =
            cell.compare_exchange_weak(old, (f64::from_bits(old) + a).to_bits(), Ordering::Relaxed, Ordering::Relaxed)
        {
            old = now;
        }
    }
    #[inline(always)]
    fn load(cell: &AtomicU64) -> f64 {
        f64::from_bits(cell.load(Ordering::Relaxed))
    }
    #[inline(always)]
    fn store(cell: &AtomicU64, v: f64) {
        cell.store(v.to_bits(), Ordering::Relaxed)
    }
    #[inline(always)]
    fn add(self, a: f64) -> f64 {
        self + a
    }
    fn write_le(self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_le_bytes())
    }
    #[inline(always)]
    fn read_le(b: &[u8]) -> f64 {
        f64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
    }
    fn times(n: u64) -> f64 {
        n as f64
    }
    fn json(self) -> serde_json::Value {
        self.into()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Primitive {
    Atomic,
    Mutex,
    Pthread,
    Pipe,
    PipeBatch,
}

/// The batch of the batched pipe loop: one atomic write.
const BATCH_BYTES: usize = 4096;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fail = |message: &str| -> ! {
        eprintln!("raw: {message}");
        eprintln!("usage: raw atomic|mutex|pthread|pipe|pipe-batch i|d|c WORKERS ITERATIONS | raw fork WORKERS");
        std::process::exit(2)
    };
    let number = |i: usize| -> u64 {
        args.get(i)
            .and_then(|s| s.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| fail("expected a positive number"))
    };
    if args.first().map(String::as_str) == Some("fork") {
        return fork_only(number(1) as usize);
    }
    let primitive = match args.first().map(String::as_str) {
        Some("atomic") => Primitive::Atomic,
        Some("mutex") => Primitive::Mutex,
        Some("pthread") => Primitive::Pthread,
        Some("pipe") => Primitive::Pipe,
        Some("pipe-batch") => Primitive::PipeBatch,
        _ => fail("unknown primitive"),
    };
    let (workers, iterations) = (number(2) as usize, number(3));
    match args.get(1).map(String::as_str) {
        Some("i") => run::<i32>(primitive, workers, iterations),
        Some("d") => run::<f64>(primitive, workers, iterations),
        Some("c") => run::<u8>(primitive, workers, iterations),
        _ => fail("unknown type"),
    }
}

/// Forks a child that runs `body` and leaves through `_exit`.
fn fork(body: impl FnOnce() -> i32) -> libc::pid_t {
    let _ = std::io::stdout().flush();
    // SAFETY: the process is single-threaded; the child runs `body` and `_exit`s, never returning
    // into the parent's code.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(101);
        // SAFETY: ends the child at once, skipping the parent's destructors and atexit handlers.
        unsafe { libc::_exit(code) }
    }
    assert!(pid > 0, "fork failed: {}", std::io::Error::last_os_error());
    pid
}

/// Waits for every child; true when all exited 0.
fn reap(pids: &[libc::pid_t]) -> bool {
    pids.iter().all(|&pid| {
        let mut status = 0;
        // SAFETY: waits for a child of ours, writing its status into a local.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        rc == pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    })
}

/// glibc's robust process-shared mutex and the value it guards, on one cache line of a shared
/// page, as runner's lock and value share one (`shm::Guarded`), for `raw pthread`: the lock
/// against the lock, not a layout against another.
#[repr(C, align(64))]
struct PthreadLine {
    value: std::sync::atomic::AtomicU64,
    mutex: libc::pthread_mutex_t,
}

/// A [`PthreadLine`] in a shared page of its own, its mutex initialised (the lock runner used
/// before its futex lock).
fn robust_pthread_mutex() -> *mut PthreadLine {
    const { assert!(size_of::<PthreadLine>() == 64) };
    let line = runner_bench::shared_page::<PthreadLine>();
    // SAFETY: a fresh zeroed page that no other process can reach yet, mapped for the process's
    // life.
    unsafe { runner_bench::init_robust(std::ptr::addr_of_mut!((*line).mutex)) };
    line
}

/// The value of a [`PthreadLine`] as the loop's atomic type (at most 8 bytes, at the line's
/// start: aligned for any of them).
fn pthread_cell<'a, T: Num>(line: *mut PthreadLine) -> &'a T::Atomic {
    const { assert!(size_of::<T::Atomic>() <= 8) };
    // SAFETY: the page stays mapped for the process's life; the value's 8 bytes, zeroed and
    // 64-byte aligned, are only ever reached through atomics.
    unsafe { &*std::ptr::addr_of!((*line).value).cast::<T::Atomic>() }
}

fn fork_only(workers: usize) {
    let t0 = now_ns();
    let pids: Vec<_> = (0..workers).map(|_| fork(|| 0)).collect();
    let forked = now_ns();
    let ok = reap(&pids);
    let t1 = now_ns();
    let json = serde_json::json!({
        "primitive": "fork",
        "workers": workers,
        "fork_seconds": (forked - t0) as f64 / 1e9,
        "seconds": (t1 - t0) as f64 / 1e9,
        "per_fork_seconds": (t1 - t0) as f64 / 1e9 / workers as f64,
    });
    println!("{json}");
    std::process::exit(if ok { 0 } else { 1 });
}

fn run<T: Num>(primitive: Primitive, workers: usize, iterations: u64) {
    // runner's layout for a measured cell: the header on a page of its own and each worker's
    // block starting on a page, as runner lays out a long run's blocks (their latency histograms
    // make them a page or more). The loop uses no histogram; the room only keeps the layout.
    let areas = Areas { hist_words: 4096 / 8, ring_words: 0 };
    let shared = Shared::new(workers, areas).expect("cannot map shared memory");
    let mut barrier = Barrier::new().expect("cannot create the barrier");
    let mut lifeline = Lifeline::new().expect("cannot create a pipe");
    let pipe = matches!(primitive, Primitive::Pipe | Primitive::PipeBatch)
        .then(|| std::io::pipe().expect("cannot create a pipe"));
    let (reader, writer) = match pipe {
        Some((r, w)) => (Some(r), Some(w)),
        None => (None, None),
    };
    let pthread = (primitive == Primitive::Pthread).then(robust_pthread_mutex);
    let mut pids = Vec::with_capacity(workers);
    for index in 0..workers {
        let writer = writer.as_ref();
        pids.push(fork(|| {
            if barrier.arrive_and_wait().is_err() {
                return 70;
            }
            let slot = shared.slot(index);
            slot.start_ns.store(now_ns(), Ordering::Relaxed);
            let cell = match pthread {
                Some(line) => pthread_cell::<T>(line),
                None => shared.value::<T::Atomic>(),
            };
            match primitive {
                Primitive::Atomic => {
                    for _ in 0..iterations {
                        T::atomic_add(cell, T::ONE);
                    }
                }
                Primitive::Mutex => {
                    let mutex = shared.mutex().locker(index as u32);
                    for _ in 0..iterations {
                        if mutex.lock().is_err() {
                            return 70;
                        }
                        T::store(cell, T::load(cell).add(T::ONE));
                        mutex.unlock();
                    }
                }
                Primitive::Pthread => {
                    // SAFETY: a pointer into the page, which stays mapped for the process's life.
                    let mutex = unsafe { std::ptr::addr_of_mut!((*pthread.expect("a pthread mutex")).mutex) };
                    for _ in 0..iterations {
                        // SAFETY: the mutex was initialised before the fork, in a shared page
                        // that stays mapped for the process's life.
                        if unsafe { libc::pthread_mutex_lock(mutex) } != 0 {
                            return 70;
                        }
                        T::store(cell, T::load(cell).add(T::ONE));
                        // SAFETY: as above; this process holds the mutex.
                        unsafe { libc::pthread_mutex_unlock(mutex) };
                    }
                }
                Primitive::Pipe => {
                    let mut w = writer.expect("a pipe");
                    let mut record = [0u8; 8];
                    T::ONE.write_le(&mut record[..T::SIZE]);
                    for _ in 0..iterations {
                        if w.write_all(&record[..T::SIZE]).is_err() {
                            return 70;
                        }
                    }
                }
                Primitive::PipeBatch => {
                    let mut w = writer.expect("a pipe");
                    let per = (BATCH_BYTES / T::SIZE) as u64;
                    let mut batch = vec![0u8; BATCH_BYTES];
                    for record in batch.chunks_exact_mut(T::SIZE) {
                        T::ONE.write_le(record);
                    }
                    let mut left = iterations;
                    while left > 0 {
                        let n = left.min(per);
                        if w.write_all(&batch[..n as usize * T::SIZE]).is_err() {
                            return 70;
                        }
                        left -= n;
                    }
                }
            }
            slot.end_ns.store(now_ns(), Ordering::Relaxed);
            lifeline.finish();
            barrier.wait_dismissal();
            0
        }));
    }
    drop(writer);
    lifeline.after_fork();
    let _ = barrier.wait_arrivals();
    let release = now_ns();
    barrier.release();
    let total = workers as u64 * iterations;
    let mut owner_end = release;
    let final_value = match reader {
        // The owner: reads what the workers write and applies it, in arrival order.
        Some(mut r) => {
            let mut x = T::times(0);
            let mut buf = vec![0u8; 1 << 16];
            let (mut have, mut applied) = (0usize, 0u64);
            while applied < total {
                let n = match r.read(&mut buf[have..]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                have += n;
                let whole = have / T::SIZE * T::SIZE;
                for record in buf[..whole].chunks_exact(T::SIZE) {
                    x = x.add(T::read_le(record));
                }
                applied += (whole / T::SIZE) as u64;
                buf.copy_within(whole..have, 0);
                have -= whole;
            }
            owner_end = now_ns();
            x
        }
        None => T::times(0),
    };
    lifeline.wait_end();
    barrier.dismiss();
    let ok = reap(&pids);
    let final_value = if let Some(line) = pthread {
        T::load(pthread_cell::<T>(line))
    } else if !matches!(primitive, Primitive::Pipe | Primitive::PipeBatch) {
        T::load(shared.value::<T::Atomic>())
    } else {
        final_value
    };
    let last_end = (0..workers).map(|i| shared.slot(i).end_ns.load(Ordering::Relaxed)).max().unwrap_or(release);
    let seconds = last_end.max(owner_end).saturating_sub(release) as f64 / 1e9;
    let expected = T::times(total);
    let json = serde_json::json!({
        "workers": workers,
        "ops": total,
        "seconds": seconds,
        "ops_per_second": if seconds > 0.0 { total as f64 / seconds } else { 0.0 },
        "final": final_value.json(),
        "expected": expected.json(),
    });
    println!("{json}");
    std::process::exit(if ok && final_value == expected { 0 } else { 1 });
}
