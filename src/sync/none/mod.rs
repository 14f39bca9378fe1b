//! The `none` backend: a relaxed load, then a relaxed store, on the engine's cell. Defined
//! behaviour that loses updates under contention: the race the other backends prevent.
//!
//! Owns: its hot loop. Does not own: the cell (`sync::engine`) or the pace (`sync::pace`).

use crate::shm::{Shared, Slot};
use crate::sync::engine::Local;
use crate::sync::hot::chunked;
use crate::sync::pace::Pace;
use crate::sync::{Backend, BackendError, Order, WorkerTally};
use crate::value::{Operation, Scalar};
use crate::watch::probe::Probe;

pub(crate) struct Unsynchronised {
    pub(crate) op: Operation,
}

impl Backend for Unsynchronised {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let slot = shared.slot(order.index as usize);
        with_pace!(order, shared, pace => with_scalar!(order.operand, T, a => with_op!(self.op.kind, K =>
            unsynchronised::<T, K, _>(Local::of(shared), a, order, slot, probe, pace))))
    }
}

fn unsynchronised<T: Scalar, const K: u8, P: Pace>(
    engine: Local<'_>,
    a: T,
    order: &Order,
    slot: &Slot,
    probe: &mut Probe<'_>,
    mut pace: P,
) -> Result<WorkerTally, BackendError> {
    let cell = engine.cell::<T>();
    let stride = probe.stride;
    let ops = chunked::<BackendError>(order, stride, slot, |n| {
        pace.before()?;
        let t0 = crate::clock::now_ns();
        let x = T::load(cell).apply::<K>(a);
        pace.inside();
        T::store(cell, x);
        probe.update(t0, crate::clock::now_ns());
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
    Ok(WorkerTally { ops, retries: 0 })
}
