//! The Redis engine: the value in a Redis server instead of this machine's shared memory,
//! under every backend, each keeping its meaning and its verification.
//!
//! - `atomic`: one cached Lua script per type and operation on the value's raw bytes
//!   ([`lua`]), which also checks each worker's sequence number so that a resent operation
//!   applies once (`exactly_once`, the default).
//! - `mutex`: a lock with a lifetime (`SET NX PX`) that hands out a fencing token (`INCR`);
//!   the write checks the token server-side and refuses a stale one (`fencing`, the default),
//!   then releases the lock in the same script: 3 round trips a lock round.
//! - `none`: `GET`, then `SET`, without a lock, to show the updates lost across processes.
//! - `channel`: a Redis stream in place of the pipe ([`stream`]): each worker adds its batches
//!   to it, runner reads and applies them in the stream's order, checking each worker's offsets
//!   (on several hosts too: the coordinator is the owner).
//!
//! Every key of a run shares one prefix, a Redis Cluster hash tag (`{runner:PID:N:NS}`), and
//! carries an expiry; runner deletes them once it has read the final value. Each worker
//! connects after its fork; the parent's connection is made before the forks and is never
//! used by a worker (each drops the parent's side at once).
//!
//! Owns: the connection, the keys, the scripts' use, the three hot loops and the stream. Does not own:
//! the scripts' arithmetic ([`lua`]), forking, or judging the result.

mod conn;
mod fast;
mod keeper;
pub(crate) mod lua;
mod stream;
mod wait;
mod work;

pub(crate) use conn::connect_patiently;
pub(crate) use fast::increment;
pub(crate) use keeper::EXPIRY_MS;
pub(crate) use keeper::Remote;
pub(crate) use stream::Owner as StreamOwner;
pub(crate) use work::LockedRound;
pub use work::atomic_script;
pub(crate) use work::{ACQUIRE, WRITE_RELEASE};

use crate::names::BackendKind;
use crate::plan::RedisPlan;
use crate::sync::{BackendError, Parts, Setup};

/// Sets the backend up over Redis: connects, makes the run's keys, stores the initial value.
pub(crate) fn setup(setup: &Setup, plan: &RedisPlan, paced: bool) -> Result<Parts, BackendError> {
    let keys = keeper::Keys::new(plan.key.as_deref());
    let remote = keeper::Remote::start(plan, keys.clone(), setup.initial)?;
    if setup.backend.kind() == BackendKind::Channel {
        let batch = setup.backend.batch();
        let workers = Box::new(stream::Producer { plan: plan.clone(), keys: keys.clone(), batch });
        let owner = stream::Owner::new(plan, keys, remote, setup)?;
        return Ok(Parts { workers, inside_lock: None, keeper: crate::sync::Keeper::Stream(Box::new(owner)) });
    }
    let inside_lock = locked_round(setup, plan, &keys);
    let workers = workers_side(setup, plan, keys, paced)?;
    Ok(Parts { workers, inside_lock, keeper: crate::sync::Keeper::Remote(Box::new(remote)) })
}

/// The workers' side alone, on keys another runner made (a `runner worker` on another host
/// joins a run whose value the coordinator stored): connects nothing until a worker works.
/// With the mutex, also the lock round a fault acts inside of, as on one host.
pub(crate) fn join(setup: &Setup, plan: &RedisPlan) -> Result<crate::sync::Joined, BackendError> {
    let keys = keeper::Keys::new(plan.key.as_deref());
    let inside_lock = locked_round(setup, plan, &keys);
    Ok((workers_side(setup, plan, keys, setup.paced)?, inside_lock))
}

/// mutex: one lock round with a fault's action between reading the value and writing it.
fn locked_round(setup: &Setup, plan: &RedisPlan, keys: &keeper::Keys) -> Option<crate::sync::InsideLock> {
    (setup.backend.kind() == BackendKind::Mutex).then(|| {
        crate::sync::InsideLock::Redis(Box::new(work::LockedRound {
            plan: plan.clone(),
            keys: keys.clone(),
            op: setup.operation,
        }))
    })
}

/// What every worker runs (in a local run the channel's is made with its owner; a host's
/// `runner worker` makes only the producers, the coordinator owns the stream).
fn workers_side(
    setup: &Setup,
    plan: &RedisPlan,
    keys: keeper::Keys,
    paced: bool,
) -> Result<Box<dyn crate::sync::Backend>, BackendError> {
    let op = setup.operation;
    Ok(match setup.backend.kind() {
        // Paced jobs (busy work, turns) keep the one-by-one loop, which paces each operation.
        BackendKind::Atomic if !paced => {
            Box::new(fast::Pipelined { plan: plan.clone(), keys, op, total_ops: setup.total_ops })
        }
        BackendKind::Atomic => Box::new(work::Scripted { plan: plan.clone(), keys, op }),
        BackendKind::Mutex => Box::new(work::Locked { plan: plan.clone(), keys, op }),
        BackendKind::None => Box::new(work::Unlocked { plan: plan.clone(), keys, op }),
        BackendKind::Channel => Box::new(stream::Producer { plan: plan.clone(), keys, batch: setup.backend.batch() }),
    })
}
