//! The `atomic` backend: each worker applies its operation with one lock-free
//! read-modify-write on the engine's cell (a hardware add where the type has one, else a
//! compare-exchange loop whose failures are counted as retries).
//!
//! Owns: its hot loop. Does not own: the cell (`sync::engine`) or the pace (`sync::pace`).

use std::sync::atomic::Ordering;

use crate::shm::{Shared, Slot};
use crate::sync::engine::Local;
use crate::sync::hot::chunked;
use crate::sync::pace::Pace;
use crate::sync::{Backend, BackendError, Order, WorkerTally};
use crate::value::{Operation, Scalar};
use crate::watch::probe::Probe;

pub(crate) struct Atomic {
    pub(crate) op: Operation,
}

impl Backend for Atomic {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let slot = shared.slot(order.index as usize);
        with_pace!(order, shared, pace => with_scalar!(order.operand, T, a => with_op!(self.op.kind, K =>
            lock_free::<T, K, _>(Local::of(shared), a, order, slot, probe, pace))))
    }
}

fn lock_free<T: Scalar, const K: u8, P: Pace>(
    engine: Local<'_>,
    a: T,
    order: &Order,
    slot: &Slot,
    probe: &mut Probe<'_>,
    mut pace: P,
) -> Result<WorkerTally, BackendError> {
    let cell = engine.cell::<T>();
    let mut retries = 0;
    let stride = probe.stride;
    let ops = chunked::<BackendError>(order, stride, slot, |n| {
        pace.before()?;
        pace.inside();
        let t0 = crate::clock::now_ns();
        let first = T::rmw::<K>(cell, a);
        probe.rmw(t0, crate::clock::now_ns(), first);
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
    Ok(WorkerTally { ops, retries })
}
