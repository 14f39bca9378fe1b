//! Synchronisation backends: four ways to keep one shared value consistent, behind one small
//! trait. The parent sets a backend up before forking; each worker calls [`Backend::work`]; the
//! parent may own the value meanwhile ([`Backend::serve`], the channel owner) and reads the final
//! value once every worker has ended.
//!
//! Owns: the mechanisms (`mutex`, `atomic`, `channel`, `none`) and the shared mapping they live
//! in. Does not own: forking, the start barrier or reaping (see `exec`), nor judging the result.

mod channel;
mod memory;
pub mod mutex;
pub mod pace;

use crate::plan::Plan;
use crate::shm::Shared;
use crate::value::{Scalar, Value};
use crate::watch::probe::Probe;

pub use crate::names::{BackendKind, Transport};

/// The index a recovery by runner itself is recorded under (no worker has it).
pub const RUNNER_INDEX: u32 = u32::MAX - 1;

/// What one worker is to do.
#[derive(Clone, Copy, Debug)]
pub struct Order {
    pub index: u32,
    pub iterations: u64,
    /// Operations this worker completed before this order (published counts add them).
    pub done_before: u64,
    /// The operand this worker applies.
    pub operand: Value,
    pub pacing: pace::Pacing,
}

/// What one worker did, beyond the operations it applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerTally {
    pub ops: u64,
    /// Failed compare-exchanges (atomic).
    pub retries: u64,
    /// Locks recovered from a dead owner (mutex).
    pub recoveries: u64,
}

/// What the channel owner received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Served {
    /// Operations applied, per worker.
    pub applied: Vec<u64>,
    pub messages: u64,
    pub bytes: u64,
    /// A sample of the applications: when, and which worker's message.
    pub events: Vec<(u64, u32)>,
}

/// A backend, set up in the parent and inherited by every worker.
pub trait Backend {
    fn kind(&self) -> BackendKind;

    /// In a worker: carries out its order, timing one chunk in `probe.stride`.
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, String>;

    /// The body of a waker process for owners that block (channel): forked before the workers,
    /// it wakes the owner now and then. `None` for backends without an owner.
    fn waker(&self) -> Option<Box<dyn FnOnce() -> i32 + '_>> {
        None
    }

    /// mutex: one operation whose holder runs `act` between its update and the unlock, with
    /// the update marked so that the next locker can repair it if `act` never returns.
    fn act_inside_lock(&self, _order: &Order, _shared: &Shared, _act: &mut dyn FnMut()) -> Result<(), String> {
        Err(format!("the {} backend has no lock to act inside", self.kind().name()))
    }

    /// In the parent, right after the last fork: drop what only workers may hold.
    fn after_fork(&mut self) {}

    /// In a worker, right after its fork: drop what only the parent may hold.
    fn in_child(&mut self) {}

    /// In a worker whose work is over, before it waits to be dismissed: drop what would keep
    /// the owner waiting for more (channel: the sending end).
    fn leave(&mut self) {}

    /// In the parent, from the barrier's release until every worker is done sending: the
    /// owner's part, for backends that have one. `alive` says whether any worker still runs;
    /// `tick` is called now and then, for progress, and says false when the run must stop.
    fn serve(
        &mut self,
        _workers: usize,
        _alive: &mut dyn FnMut() -> bool,
        _tick: &mut dyn FnMut() -> bool,
    ) -> Result<Option<Served>, String> {
        Ok(None)
    }

    /// In the parent, once every worker has ended: repair what a worker that died in the
    /// middle of an update left behind when no later locker did (mutex).
    fn settle(&self, _shared: &Shared) -> Result<(), String> {
        Ok(())
    }

    /// In the parent, once every worker has ended.
    fn final_value(&self, shared: &Shared) -> Value;
}

/// Sets up the plan's backend: the initial value stored, the channel made. `applied_every`:
/// the channel owner records one application in this many messages for the trace.
pub fn setup(plan: &Plan, shared: &Shared, applied_every: Option<u64>) -> Result<Box<dyn Backend>, String> {
    with_scalar!(plan.initial, T, v => T::store(shared.value::<<T as Scalar>::Atomic>(), v));
    Ok(match plan.backend.kind() {
        BackendKind::Mutex => {
            Box::new(memory::InMemory { kind: BackendKind::Mutex, op: plan.operation, ty_of: plan.initial })
        }
        BackendKind::Atomic => {
            Box::new(memory::InMemory { kind: BackendKind::Atomic, op: plan.operation, ty_of: plan.initial })
        }
        BackendKind::None => {
            Box::new(memory::InMemory { kind: BackendKind::None, op: plan.operation, ty_of: plan.initial })
        }
        BackendKind::Channel => Box::new(channel::Channel::new(plan, applied_every)?),
    })
}

/// Reads the value in shared memory as the plan's type.
fn read_shared(ty_of: Value, shared: &Shared) -> Value {
    with_scalar!(ty_of, T, _v => T::load(shared.value::<<T as Scalar>::Atomic>()).to_value())
}
