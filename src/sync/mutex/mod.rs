//! The `mutex` backend: lock, read, write, unlock, on the engine's cell, with a futex lock that
//! survives its holder's death ([`lock`]).
//!
//! Owns: its hot loop; the two things only this backend has, each reached by exec through its
//! own type rather than a hook every backend carries: [`InsideLock`] (a fault's action run
//! while holding the lock, mid-update, with the update marked so that the next locker can
//! repair it) and [`Settle`] (runner's repair after the run, when the dead holder's lock was
//! never taken over); the record of every recovery ([`recovery`]). Does not own: the cell and the
//! lock word's place (`sync::engine`), the pace (`sync::pace`).

pub(crate) mod lock;
pub(crate) mod recovery;

use std::sync::atomic::Ordering;

use crate::clock::now_ns;
use crate::shm::{Shared, Slot};
use crate::sync::engine::Local;
use crate::sync::hot::chunked;
use crate::sync::pace::Pace;
use crate::sync::{Backend, BackendError, Order, WorkerTally};
use crate::value::{Operation, Scalar, Value};
use crate::watch::probe::Probe;
use lock::Acquired;
use recovery::{Holder, Recovery};

pub(crate) struct Mutex {
    pub(crate) op: Operation,
}

impl Backend for Mutex {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let slot = shared.slot(order.index as usize);
        with_pace!(order, shared, pace => with_scalar!(order.operand, T, a => with_op!(self.op.kind, K =>
            locked::<T, K, _>(shared, a, order, slot, probe, pace))))
    }
}

/// Marker states: an update under way (its fate unknown if the holder dies), or none.
const MARK_UPDATING: u64 = 1;

/// mutex only: one operation whose holder runs an action between its update and the unlock.
#[derive(Clone, Copy)]
pub(crate) struct InsideLock {
    pub(crate) op: Operation,
}

impl InsideLock {
    /// One locked update, marked, with `act` run between the update and the unlock. A panic in
    /// `act` unwinds through a guard that undoes the update, clears the marker and unlocks (so
    /// a panic is not an owner death); a death in `act` leaves the marker for the next locker.
    pub(crate) fn run(&self, order: &Order, shared: &Shared, act: &mut dyn FnMut()) -> Result<(), BackendError> {
        with_scalar!(order.operand, T, a => with_op!(self.op.kind, K => marked_update::<T, K>(shared, a, order, act)))
    }
}

fn marked_update<T: Scalar, const K: u8>(
    shared: &Shared,
    a: T,
    order: &Order,
    act: &mut dyn FnMut(),
) -> Result<(), BackendError> {
    let engine = Local::of(shared);
    let (cell, marker) = (engine.cell::<T>(), engine.marker());
    let mutex = engine.lock().locker(order.index);
    if let Acquired::Recovered { from } = mutex.lock().map_err(BackendError::Lock)? {
        repair::<T>(shared, from, Holder::Worker(order.index));
    }
    let old = T::load(cell);
    marker[1].store(old.to_bits(), Ordering::Relaxed);
    marker[0].store((order.index as u64 + 1) << 32 | MARK_UPDATING, Ordering::Release);
    T::store(cell, old.apply::<K>(a));
    struct Undo<'a, T: Scalar>(Local<'a>, T);
    impl<T: Scalar> Drop for Undo<'_, T> {
        fn drop(&mut self) {
            T::store(self.0.cell::<T>(), self.1);
            self.0.marker()[0].store(0, Ordering::Release);
            self.0.lock().unlock();
        }
    }
    let undo = Undo(engine, old);
    act();
    // `act` returned (a stall): the update stands.
    std::mem::forget(undo);
    marker[0].store(0, Ordering::Release);
    mutex.unlock();
    let slot = shared.slot(order.index as usize);
    slot.ops.store(order.done_before + 1, Ordering::Relaxed);
    Ok(())
}

/// mutex only: runner's repair once every worker has ended.
#[derive(Clone, Copy)]
pub(crate) struct Settle {
    /// The type the value has.
    pub(crate) ty_of: Value,
}

impl Settle {
    /// A lock still held belongs to a dead worker: runner repairs the value as a worker would.
    pub(crate) fn run(&self, shared: &Shared) {
        let engine = Local::of(shared);
        if let Acquired::Recovered { from } = engine.lock().take_after_the_run() {
            with_scalar!(self.ty_of, T, _v => repair::<T>(shared, from, Holder::Runner));
        }
        engine.lock().unlock();
    }
}

/// Every recovery of the run, in the order they happened.
pub(crate) fn recoveries(shared: &Shared) -> Vec<Recovery> {
    recovery::read(shared)
}

/// The hot loop's way to [`repair`], out of line.
#[cold]
#[inline(never)]
fn recovered<T: Scalar>(shared: &Shared, dead: u32, me: u32) {
    repair::<T>(shared, dead, Holder::Worker(me));
}

/// After the lock worker `dead` died holding was taken over: an update it had marked may or may
/// not have been written, so the value goes back to what the marker saved (that operation is
/// not applied); the recovery is recorded for the report.
fn repair<T: Scalar>(shared: &Shared, dead: u32, me: Holder) {
    let engine = Local::of(shared);
    let marker = engine.marker();
    // Only the lock's holder marks, and a recovery clears the mark: a mark is the dead holder's.
    let restored = marker[0].load(Ordering::Acquire) & MARK_UPDATING != 0;
    if restored {
        T::store(engine.cell::<T>(), T::from_bits(marker[1].load(Ordering::Relaxed)));
        marker[0].store(0, Ordering::Release);
    }
    recovery::record(shared, dead, me, restored);
}

fn locked<T: Scalar, const K: u8, P: Pace>(
    shared: &Shared,
    a: T,
    order: &Order,
    slot: &Slot,
    probe: &mut Probe<'_>,
    mut pace: P,
) -> Result<WorkerTally, BackendError> {
    let engine = Local::of(shared);
    let cell = engine.cell::<T>();
    let mutex = engine.lock().locker(order.index);
    // The recovery stays out of line, so that the loop's lock is the compare-exchange alone.
    let lock = || match mutex.lock() {
        Ok(Acquired::Clean) => Ok(()),
        Ok(Acquired::Recovered { from }) => {
            recovered::<T>(shared, from, order.index);
            Ok(())
        }
        Err(e) => Err(BackendError::Lock(e)),
    };
    // Relaxed is enough inside the lock: lock and unlock order the accesses.
    let update = || T::store(cell, T::load(cell).apply::<K>(a));
    let stride = probe.stride;
    let ops = chunked::<BackendError>(order, stride, slot, |n| {
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
    Ok(WorkerTally { ops, retries: 0 })
}
