//! The three backends whose workers update the value in shared memory themselves: `mutex`
//! (lock, read, write, unlock), `atomic` (one lock-free read-modify-write) and `none` (a relaxed
//! load, then a relaxed store: defined behaviour that loses updates under contention).
//!
//! Owns: the hot loops. Each is instantiated per value type and operation (`with_scalar!`,
//! `with_op!`), so the loop body is straight-line code with no dispatch, allocation or
//! formatting; and per [`Pace`], so that busy work and turn-taking cost nothing when a job has
//! neither. The loops run in chunks of `probe.stride` operations (at most 1024): the first
//! operation of a chunk is timed for the probe, and progress is published after each chunk.

use std::sync::atomic::Ordering;

use crate::exec::now_ns;
use crate::sync::mutex::Acquired;
use crate::sync::pace::{Free, Pace};
use crate::sync::shm::{Shared, Slot};
use crate::sync::{Backend, BackendKind, Order, WorkerTally};
use crate::value::{Operation, Scalar, Value};
use crate::watch::probe::Probe;

/// `mutex`, `atomic` or `none`: the value lives in the shared mapping.
pub struct InMemory {
    pub kind: BackendKind,
    pub op: Operation,
    /// The type the value has (the operand's type, which the planner made the same).
    pub ty_of: Value,
}

impl Backend for InMemory {
    fn kind(&self) -> BackendKind {
        self.kind
    }

    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, String> {
        if order.pacing.is_free() {
            self.paced(order, shared, probe, Free)
        } else {
            let pids = |i: usize| shared.slot(i).pid.load(Ordering::Relaxed);
            self.paced(order, shared, probe, order.pacing.paced(order.index, shared.turn(), shared.abort(), &pids))
        }
    }

    fn final_value(&self, shared: &Shared) -> Value {
        super::read_shared(self.ty_of, shared)
    }
}

impl InMemory {
    /// The loop for this kind, type, operation and pace: straight-line code, chosen once.
    fn paced<P: Pace>(
        &self,
        order: &Order,
        shared: &Shared,
        probe: &mut Probe<'_>,
        pace: P,
    ) -> Result<WorkerTally, String> {
        let slot = shared.slot(order.index as usize);
        let (kind, iterations) = (self.kind, order.iterations);
        with_scalar!(order.operand, T, a => with_op!(self.op.kind, K => match kind {
            BackendKind::Mutex => locked::<T, K, P>(shared, a, iterations, slot, probe, pace),
            BackendKind::Atomic => lock_free::<T, K, P>(shared, a, iterations, slot, probe, pace),
            BackendKind::None => unsynchronised::<T, K, P>(shared, a, iterations, slot, probe, pace),
            BackendKind::Channel => Err("the channel backend does not update shared memory".to_string()),
        }))
    }
}

/// Runs `iterations` operations in chunks of `stride`: `chunk(n)` runs `n`, the first timed.
/// Publishes the count after each chunk.
#[inline(always)]
fn chunked<E>(
    iterations: u64,
    stride: u64,
    slot: &Slot,
    mut chunk: impl FnMut(u64) -> Result<(), E>,
) -> Result<u64, E> {
    let mut done = 0;
    while done < iterations {
        let n = (iterations - done).min(stride);
        chunk(n)?;
        done += n;
        slot.ops.store(done, Ordering::Relaxed);
    }
    Ok(done)
}

fn locked<T: Scalar, const K: u8, P: Pace>(
    shared: &Shared,
    a: T,
    iterations: u64,
    slot: &Slot,
    probe: &mut Probe<'_>,
    mut pace: P,
) -> Result<WorkerTally, String> {
    let cell = shared.value::<T::Atomic>();
    let mutex = shared.mutex();
    let mut recoveries = 0;
    let mut lock = || {
        match mutex.lock() {
            Ok(Acquired::Clean) => {}
            Ok(Acquired::Recovered) => {
                recoveries += 1;
                slot.recoveries.store(recoveries, Ordering::Relaxed);
            }
            Err(e) => return Err(format!("cannot lock the robust mutex: {e}")),
        }
        Ok(())
    };
    // Relaxed is enough inside the lock: lock and unlock order the accesses.
    let update = || T::store(cell, T::load(cell).apply::<K>(a));
    let stride = probe.stride;
    let ops = chunked::<String>(iterations, stride, slot, |n| {
        pace.before()?;
        let t0 = now_ns();
        lock()?;
        let t1 = now_ns();
        update();
        pace.inside();
        mutex.unlock();
        probe.locked(t0, t1, now_ns());
        pace.after();
        for _ in 1..n {
            pace.before()?;
            lock()?;
            update();
            pace.inside();
            mutex.unlock();
            pace.after();
        }
        Ok(())
    })?;
    Ok(WorkerTally { ops, retries: 0, recoveries })
}

fn lock_free<T: Scalar, const K: u8, P: Pace>(
    shared: &Shared,
    a: T,
    iterations: u64,
    slot: &Slot,
    probe: &mut Probe<'_>,
    mut pace: P,
) -> Result<WorkerTally, String> {
    let cell = shared.value::<T::Atomic>();
    let mut retries = 0;
    let stride = probe.stride;
    let ops = chunked::<String>(iterations, stride, slot, |n| {
        pace.before()?;
        pace.inside();
        let t0 = now_ns();
        let first = T::rmw::<K>(cell, a);
        probe.rmw(t0, now_ns(), first);
        pace.after();
        retries += first;
        for _ in 1..n {
            pace.before()?;
            pace.inside();
            retries += T::rmw::<K>(cell, a);
            pace.after();
        }
        slot.retries.store(retries, Ordering::Relaxed);
        Ok(())
    })?;
    Ok(WorkerTally { ops, retries, recoveries: 0 })
}

fn unsynchronised<T: Scalar, const K: u8, P: Pace>(
    shared: &Shared,
    a: T,
    iterations: u64,
    slot: &Slot,
    probe: &mut Probe<'_>,
    mut pace: P,
) -> Result<WorkerTally, String> {
    let cell = shared.value::<T::Atomic>();
    let stride = probe.stride;
    let ops = chunked::<String>(iterations, stride, slot, |n| {
        pace.before()?;
        let t0 = now_ns();
        let x = T::load(cell).apply::<K>(a);
        pace.inside();
        T::store(cell, x);
        probe.update(t0, now_ns());
        pace.after();
        for _ in 1..n {
            pace.before()?;
            let x = T::load(cell).apply::<K>(a);
            pace.inside();
            T::store(cell, x);
            pace.after();
        }
        Ok(())
    })?;
    Ok(WorkerTally { ops, retries: 0, recoveries: 0 })
}
