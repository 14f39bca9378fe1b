//! The three backends whose workers update the value in shared memory themselves: `mutex`
//! (lock, read, write, unlock), `atomic` (one lock-free read-modify-write) and `none` (a relaxed
//! load, then a relaxed store: defined behaviour that loses updates under contention).
//!
//! Owns: the hot loops. Each is instantiated per value type and operation (`with_scalar!`,
//! `with_op!`), so the loop body is straight-line code with no dispatch, allocation or
//! formatting; and per [`Pace`], so that busy work and turn-taking cost nothing when a job has
//! neither. The loops run in chunks of `probe.stride` operations (at most `SAMPLE_EVERY`, 4096): the first
//! operation of a chunk is timed for the probe, and progress is published after each chunk.

use std::sync::atomic::Ordering;

use crate::clock::now_ns;
use crate::names::BackendKind;
use crate::shm::{Shared, Slot};
use crate::sync::mutex::Acquired;
use crate::sync::pace::{Free, Pace};
use crate::sync::{Backend, Order, WorkerTally};
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

    fn settle(&self, shared: &Shared) -> Result<(), String> {
        if self.kind != BackendKind::Mutex {
            return Ok(());
        }
        // Every worker has ended: a lock still held belongs to a dead one, and runner repairs
        // the value as a worker would.
        if shared.mutex().take_after_the_run() == Acquired::Recovered {
            with_scalar!(self.ty_of, T, _v => repair::<T>(shared, super::RUNNER_INDEX));
        }
        shared.mutex().unlock();
        Ok(())
    }

    fn act_inside_lock(&self, order: &Order, shared: &Shared, act: &mut dyn FnMut()) -> Result<(), String> {
        if self.kind != BackendKind::Mutex {
            return Err(format!("the {} backend has no lock to act inside", self.kind.name()));
        }
        with_scalar!(order.operand, T, a => with_op!(self.op.kind, K => marked_update::<T, K>(shared, a, order, act)))
    }
}

/// Marker states: an update under way (its fate unknown if the holder dies), or none.
const MARK_UPDATING: u64 = 1;

/// One locked update, marked, with `act` run between the update and the unlock. A panic in
/// `act` unwinds through a guard that undoes the update, clears the marker and unlocks (so a
/// panic is not an owner death); a death in `act` leaves the marker for the next locker.
fn marked_update<T: Scalar, const K: u8>(
    shared: &Shared,
    a: T,
    order: &Order,
    act: &mut dyn FnMut(),
) -> Result<(), String> {
    let (cell, marker) = (shared.value::<T::Atomic>(), shared.marker());
    let pid_of = |i: usize| shared.slot(i).pid.load(Ordering::Relaxed);
    let mutex = shared.mutex().locker(order.index, &pid_of);
    if mutex.lock().map_err(|e| format!("cannot lock the mutex: {e}"))? == Acquired::Recovered {
        repair::<T>(shared, order.index);
    }
    let old = T::load(cell);
    marker[1].store(old.to_bits(), Ordering::Relaxed);
    marker[0].store((order.index as u64 + 1) << 32 | MARK_UPDATING, Ordering::Release);
    T::store(cell, old.apply::<K>(a));
    struct Undo<'a, T: Scalar>(&'a Shared, T);
    impl<T: Scalar> Drop for Undo<'_, T> {
        fn drop(&mut self) {
            T::store(self.0.value::<T::Atomic>(), self.1);
            self.0.marker()[0].store(0, Ordering::Release);
            self.0.mutex().unlock();
        }
    }
    let undo = Undo(shared, old);
    act();
    // `act` returned (a stall): the update stands.
    std::mem::forget(undo);
    marker[0].store(0, Ordering::Release);
    mutex.unlock();
    let slot = shared.slot(order.index as usize);
    slot.ops.store(order.done_before + 1, Ordering::Relaxed);
    Ok(())
}

/// After a dead holder's lock was taken over: an update it had marked may or may not have been
/// written, so the value goes back to what the marker saved (that operation is not applied); the
/// first recovery is recorded for the report.
fn repair<T: Scalar>(shared: &Shared, me: u32) {
    let marker = shared.marker();
    let state = marker[0].load(Ordering::Acquire);
    let dead = state >> 32;
    if state & MARK_UPDATING != 0 {
        T::store(shared.value::<T::Atomic>(), T::from_bits(marker[1].load(Ordering::Relaxed)));
        marker[0].store(0, Ordering::Release);
    }
    let _ = shared.recovery().compare_exchange(0, dead << 32 | (me as u64 + 1), Ordering::Relaxed, Ordering::Relaxed);
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
        let kind = self.kind;
        with_scalar!(order.operand, T, a => with_op!(self.op.kind, K => match kind {
            BackendKind::Mutex => locked::<T, K, P>(shared, a, order, slot, probe, pace),
            BackendKind::Atomic => lock_free::<T, K, P>(shared, a, order, slot, probe, pace),
            BackendKind::None => unsynchronised::<T, K, P>(shared, a, order, slot, probe, pace),
            BackendKind::Channel => Err("the channel backend does not update shared memory".to_string()),
        }))
    }
}

/// Runs `iterations` operations in chunks of `stride`: `chunk(n)` runs `n`, the first timed.
/// Publishes the count after each chunk.
#[inline(always)]
fn chunked<E>(order: &Order, stride: u64, slot: &Slot, mut chunk: impl FnMut(u64) -> Result<(), E>) -> Result<u64, E> {
    let mut done = 0;
    while done < order.iterations {
        let n = (order.iterations - done).min(stride);
        chunk(n)?;
        done += n;
        slot.ops.store(order.done_before + done, Ordering::Relaxed);
    }
    Ok(done)
}

fn locked<T: Scalar, const K: u8, P: Pace>(
    shared: &Shared,
    a: T,
    order: &Order,
    slot: &Slot,
    probe: &mut Probe<'_>,
    mut pace: P,
) -> Result<WorkerTally, String> {
    let cell = shared.value::<T::Atomic>();
    let pid_of = |i: usize| shared.slot(i).pid.load(Ordering::Relaxed);
    let mutex = shared.mutex().locker(order.index, &pid_of);
    let mut recoveries = 0;
    let mut lock = || {
        match mutex.lock() {
            Ok(Acquired::Clean) => {}
            Ok(Acquired::Recovered) => {
                repair::<T>(shared, order.index);
                recoveries += 1;
                slot.recoveries.store(recoveries, Ordering::Relaxed);
            }
            Err(e) => return Err(format!("cannot lock the mutex: {e}")),
        }
        Ok(())
    };
    // Relaxed is enough inside the lock: lock and unlock order the accesses.
    let update = || T::store(cell, T::load(cell).apply::<K>(a));
    let stride = probe.stride;
    let ops = chunked::<String>(order, stride, slot, |n| {
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
    order: &Order,
    slot: &Slot,
    probe: &mut Probe<'_>,
    mut pace: P,
) -> Result<WorkerTally, String> {
    let cell = shared.value::<T::Atomic>();
    let mut retries = 0;
    let stride = probe.stride;
    let ops = chunked::<String>(order, stride, slot, |n| {
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
    order: &Order,
    slot: &Slot,
    probe: &mut Probe<'_>,
    mut pace: P,
) -> Result<WorkerTally, String> {
    let cell = shared.value::<T::Atomic>();
    let stride = probe.stride;
    let ops = chunked::<String>(order, stride, slot, |n| {
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
