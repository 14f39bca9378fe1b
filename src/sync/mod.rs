//! Synchronisation backends: four ways to keep one shared value consistent.
//!
//! A backend is one folder behind one small trait, `Backend`: what a worker runs (`work`).
//! The parent sets it up before forking through the one factory, `setup`, from a `Setup`
//! (exec builds it from the plan: the backend's own plan, the operation, the initial value),
//! and gets back a `Parts`: the workers' side, and the parent's side (`Keeper`), which is
//! either the value left in place (`mutex`, `atomic`, `none`; the mutex's `mutex::Settle`
//! repairs it after the run) or the channel's `channel::Owner`, which serves while the
//! workers run. What only one backend has lives in its folder and is reached through its own
//! type: the channel's owner (and its waker), the mutex's `InsideLock` (on either engine:
//! `mutex::InsideLock`, `redis::LockedRound`) and `mutex::Settle`. Which process holds what is said by ownership: a worker drops the
//! parent's side right after its fork and its own side once its work is over; the parent drops
//! the workers' side after the last fork (for the channel, each drop closes a sending or
//! receiving end).
//!
//! Where the value lives is a seam of its own, `engine`: today the run's shared mapping.
//! When runner reaps a worker while the others run, it tells the backends through
//! `worker_ended`: a turn that worker holds never comes, a lock it holds is the next locker's.
//!
//! Owns: the mechanisms (`mutex/`, `atomic/`, `none/`, `channel/`), the hot loops' shared
//! parts (`hot.rs`, `pace.rs`), the engine. Does not own: the plan (exec hands over a
//! `Setup`), forking, the start barrier or reaping (see `exec`), nor judging the result.

#[macro_use]
mod hot;
mod atomic;
mod channel;
pub(crate) mod engine;
mod error;
pub(crate) mod mutex;
mod none;
pub(crate) mod pace;
mod redis;

pub(crate) use redis::connect_patiently;

/// The Redis engine's byte format and Lua scripts, for tests/redis_ops.rs and the bench's reference
/// (redis-benchmark running the script the workers send): not runner's API.
#[doc(hidden)]
pub mod redis_lua {
    pub use super::redis::atomic_script;
    pub use super::redis::lua::{apply_script, decode, encode};
}

/// What `runner export-python` writes into a Redis job's Python program: runner's own scripts,
/// the keys' expiry, and when atomic takes the INCRBY path.
pub(crate) mod redis_python {
    pub(crate) use super::redis::{ACQUIRE, EXPIRY_MS, WRITE_RELEASE, atomic_script, increment};
}

use crate::plan::{BackendPlan, EnginePlan};
use crate::shm::Shared;
use crate::value::{Operation, Value};
use crate::watch::probe::Probe;

pub(crate) use channel::Owner;
pub(crate) use error::BackendError;
pub use mutex::recovery::{Holder, Recovery};

/// What a backend is set up from: the plan's parts that the backends need, and nothing else.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setup {
    pub(crate) backend: BackendPlan,
    pub(crate) operation: Operation,
    pub(crate) initial: Value,
    /// Operations the workers do in all: the channel's owner is done once it applied them.
    pub(crate) total_ops: u64,
    /// With `--trace-ops`, the channel's sampling stride (batches from one timed send to the
    /// next): the owner records the application of each timed send, for the trace's flows.
    pub(crate) applied_every: Option<u64>,
    /// The workers run paced (busy work, or an ordered schedule's turns).
    pub(crate) paced: bool,
}

impl Setup {
    /// The setup of `plan`'s backend; `applied_every`: see the field.
    pub(crate) fn of(plan: &crate::plan::Plan, applied_every: Option<u64>) -> Setup {
        Setup {
            backend: plan.backend,
            operation: plan.operation,
            initial: plan.initial,
            total_ops: plan.total_ops(),
            applied_every,
            paced: !plan.work.is_none() || plan.schedule != crate::names::Schedule::Concurrent,
        }
    }
}

/// What one worker is to do.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Order {
    pub(crate) index: u32,
    pub(crate) iterations: u64,
    /// Operations this worker completed before this order (published counts add them).
    pub(crate) done_before: u64,
    /// The operand this worker applies.
    pub(crate) operand: Value,
    pub(crate) pacing: pace::Pacing,
}

/// What one worker did, beyond the operations it applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WorkerTally {
    pub(crate) ops: u64,
    /// Failed compare-exchanges (atomic).
    pub(crate) retries: u64,
}

/// What a Redis server refused during a run, as its scripts counted it (one count per refused
/// execution).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refused {
    /// Resent operations whose sequence number had been applied (exactly once).
    pub duplicates: u64,
    /// mutex: writes whose fencing token was stale (done again under a new token): the writer's
    /// lease had run out while it lived.
    pub stale: u64,
    /// mutex without fencing: writes made after their writer's lease had run out (nothing
    /// refused them).
    pub late: u64,
    /// What the scripts counted for each worker (by index; a worker absent had none). The
    /// channel's owner counts its refused duplicates in all only: compare the sums.
    pub by_worker: Vec<(u32, WorkerRefused)>,
}

/// One worker's refusals, as the server's scripts counted them (see [`Refused`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerRefused {
    pub duplicates: u64,
    pub stale: u64,
    pub late: u64,
}

impl Refused {
    /// From the counts' hash as the server holds it: `duplicates`, `stale`, and per worker
    /// `duplicates:W`, `stale:W`, `late:W`.
    pub(crate) fn from_fields(fields: &[(String, u64)]) -> Refused {
        let mut r = Refused::default();
        for (name, n) in fields {
            match name.split_once(':') {
                None if name == "duplicates" => r.duplicates = *n,
                None if name == "stale" => r.stale = *n,
                Some((what, w)) => {
                    let Ok(w) = w.parse::<u32>() else { continue };
                    let at = match r.by_worker.iter().position(|(i, _)| *i == w) {
                        Some(at) => at,
                        None => {
                            r.by_worker.push((w, WorkerRefused::default()));
                            r.by_worker.len() - 1
                        }
                    };
                    let one = &mut r.by_worker[at].1;
                    match what {
                        "duplicates" => one.duplicates = *n,
                        "stale" => one.stale = *n,
                        "late" => one.late = *n,
                        _ => {}
                    }
                }
                None => {}
            }
        }
        r.by_worker.sort_by_key(|(i, _)| *i);
        r.late = r.by_worker.iter().map(|(_, w)| w.late).sum();
        r
    }

    /// What the scripts counted for worker `index`.
    pub fn of_worker(&self, index: u32) -> WorkerRefused {
        self.by_worker.iter().find(|(i, _)| *i == index).map_or_else(WorkerRefused::default, |(_, w)| *w)
    }

    /// Whether the per-worker counts add up to the totals (else some were counted in all only,
    /// as the channel's owner counts its duplicates): (duplicates, stale).
    pub fn attributed(&self) -> (bool, bool) {
        let sum = |f: fn(&WorkerRefused) -> u64| self.by_worker.iter().map(|(_, w)| f(w)).sum::<u64>();
        (sum(|w| w.duplicates) == self.duplicates, sum(|w| w.stale) == self.stale)
    }
}

/// mutex: one operation with a fault's action inside the lock, where the value lives.
#[derive(Clone)]
pub(crate) enum InsideLock {
    Local(mutex::InsideLock),
    Redis(Box<redis::LockedRound>),
}

impl InsideLock {
    /// One locked update with `act` run inside the lock (see each engine's `run`).
    pub(crate) fn run(&self, order: &Order, shared: &Shared, act: &mut dyn FnMut()) -> Result<(), BackendError> {
        match self {
            InsideLock::Local(inside) => inside.run(order, shared, act),
            InsideLock::Redis(round) => round.run(order, shared, act),
        }
    }
}

/// What the channel owner received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Served {
    /// Operations applied, per worker.
    pub applied: Vec<u64>,
    pub messages: u64,
    pub bytes: u64,
    /// With `--trace-ops`, the application of each timed send (the message holding the
    /// worker's operation number `k * batch * stride`): when, and which worker's. Per worker in
    /// the order of its timed sends, so that the trace pairs them; at most
    /// [`crate::watch::TRACE_OPS_TOTAL`] in all.
    pub events: Vec<(u64, u32)>,
    /// Over Redis: how long the owner's stream entries took from their send to their
    /// application; `None` for the local channel.
    pub apply: Option<ApplyLatency>,
}

/// The channel over Redis: from each entry's send (its sender's CLOCK_MONOTONIC, in the entry)
/// to its application by the owner, for the entries whose sender reads the owner's clock (the
/// same boot of the same machine, [`crate::clock::machine`]); the others cannot be measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApplyLatency {
    /// Entries the owner applied.
    pub entries: u64,
    /// Of them, those whose sender shares the owner's clock: the ones measured.
    pub measured: u64,
    /// The median and 99th percentile, in nanoseconds (2 significant digits, the highest value
    /// of the histogram's bucket); 0 when nothing was measured.
    pub p50_ns: u64,
    pub p99_ns: u64,
}

/// A backend's workers' side: set up in the parent, inherited by every worker.
pub(crate) trait Backend {
    /// In a worker: carries out its order, timing one chunk in `probe.stride`.
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError>;
}

/// The parent's side of a backend.
pub(crate) enum Keeper {
    /// The workers update the value where the engine keeps it; `settle` (mutex) repairs what a
    /// worker that died mid-update left behind before it is read.
    InPlace { ty_of: Value, settle: Option<mutex::Settle> },
    /// The channel: the parent owns the value and applies what the workers send.
    Owner(Owner),
    /// The value in a Redis server: runner reads it, then deletes the run's keys.
    Remote(Box<redis::Remote>),
    /// The channel over Redis: runner owns the value and applies the stream's entries, then
    /// stores the value and deletes the run's keys.
    Stream(Box<redis::StreamOwner>),
}

impl Keeper {
    /// In the parent, once every worker has ended: the final value, and (Redis) what the
    /// server refused.
    pub(crate) fn finish(self, shared: &Shared) -> Result<(Value, Option<Refused>), BackendError> {
        Ok(match self {
            Keeper::InPlace { ty_of, settle } => {
                if let Some(settle) = settle {
                    settle.run(shared);
                }
                (engine::Local::of(shared).load(ty_of), None)
            }
            Keeper::Owner(owner) => (owner.value(), None),
            Keeper::Remote(remote) => {
                let (value, refused) = remote.finish()?;
                (value, Some(refused))
            }
            Keeper::Stream(owner) => {
                let (value, refused) = owner.finish()?;
                (value, Some(refused))
            }
        })
    }
}

/// A backend once set up.
pub(crate) struct Parts {
    /// What every worker runs.
    pub(crate) workers: Box<dyn Backend>,
    /// mutex: one operation with a fault's action inside the lock.
    pub(crate) inside_lock: Option<InsideLock>,
    pub(crate) keeper: Keeper,
}

/// The one registration point: sets up the backend `setup` names, with the initial value
/// stored in the engine (the channel's owner keeps its own copy).
pub(crate) fn setup(setup: &Setup, on: &EnginePlan, shared: &Shared) -> Result<Parts, BackendError> {
    engine::Local::of(shared).store(setup.initial);
    if let EnginePlan::Redis(plan) = on {
        return redis::setup(setup, plan, setup.paced);
    }
    let op = setup.operation;
    let in_place = |settle| Keeper::InPlace { ty_of: setup.initial, settle };
    Ok(match setup.backend {
        BackendPlan::Mutex => Parts {
            workers: Box::new(mutex::Mutex { op }),
            inside_lock: Some(InsideLock::Local(mutex::InsideLock { op })),
            keeper: in_place(Some(mutex::Settle { ty_of: setup.initial })),
        },
        BackendPlan::Atomic => {
            Parts { workers: Box::new(atomic::Atomic { op }), inside_lock: None, keeper: in_place(None) }
        }
        BackendPlan::None => {
            Parts { workers: Box::new(none::Unsynchronised { op }), inside_lock: None, keeper: in_place(None) }
        }
        BackendPlan::Channel { batch, transport } => {
            let (sender, owner) = channel::new(setup, batch, transport)?;
            Parts { workers: Box::new(sender), inside_lock: None, keeper: Keeper::Owner(owner) }
        }
    })
}

/// A joined run's workers' side, and with the mutex the lock round a fault acts inside of.
pub(crate) type Joined = (Box<dyn Backend>, Option<InsideLock>);

/// The workers' side of a Redis run whose keys another runner made and holds (`runner worker`
/// on another host), with the mutex's lock round for faults inside the lock; `None` for the
/// local engine, which no other host can join.
pub(crate) fn join(setup: &Setup, on: &EnginePlan) -> Option<Result<Joined, BackendError>> {
    on.redis().map(|plan| redis::join(setup, plan))
}

/// In runner, once it has reaped worker `index` (however it ended), while the others may still
/// run: marks it ended in its slot (an ordered schedule's waiters stop waiting for its turn)
/// and, if it held the mutex's lock, marks the lock's holder dead and wakes a waiter to take it
/// over; if not, wakes a waiter all the same, in case it took an unlock's wake-up with it
/// (`mutex/lock.rs`). Nothing here reads a pid.
pub(crate) fn worker_ended(shared: &Shared, index: usize) {
    shared.slot(index).ended.store(1, std::sync::atomic::Ordering::Release);
    engine::Local::of(shared).lock().holder_ended(index as u32);
}
