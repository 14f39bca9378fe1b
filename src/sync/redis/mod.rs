//! The Redis engine: the value in a Redis server instead of this machine's shared memory,
//! under three of the four backends, each keeping its meaning and its verification.
//!
//! - `atomic`: one cached Lua script per type and operation on the value's raw bytes
//!   ([`lua`]), which also checks each worker's sequence number so that a resent operation
//!   applies once (`exactly_once`, the default).
//! - `mutex`: a lock with a lifetime (`SET NX PX`) that hands out a fencing token (`INCR`);
//!   the write checks the token server-side and refuses a stale one (`fencing`, the default),
//!   then releases the lock in the same script: 3 round trips a lock round.
//! - `none`: `GET`, then `SET`, without a lock, to show the updates lost across processes.
//!
//! Every key of a run shares one prefix, a Redis Cluster hash tag (`{runner:PID:N}`), and
//! carries an expiry; runner deletes them once it has read the final value. Each worker
//! connects after its fork; the parent's connection is made before the forks and is never
//! used by a worker (each drops the parent's side at once).
//!
//! Owns: the connection, the keys, the scripts' use and the three hot loops. Does not own:
//! the scripts' arithmetic ([`lua`]), forking, or judging the result.

mod conn;
mod keeper;
pub(crate) mod lua;
mod work;

pub(crate) use keeper::Remote;
pub(crate) use work::LockedRound;

use crate::names::BackendKind;
use crate::plan::RedisPlan;
use crate::sync::{BackendError, Parts, Setup};

/// Sets the backend up over Redis: connects, makes the run's keys, stores the initial value.
pub(crate) fn setup(setup: &Setup, plan: &RedisPlan) -> Result<Parts, BackendError> {
    let keys = keeper::Keys::new(plan.key.as_deref());
    let remote = keeper::Remote::start(plan, keys.clone(), setup.initial)?;
    let op = setup.operation;
    let inside_lock = (setup.backend.kind() == BackendKind::Mutex).then(|| {
        crate::sync::InsideLock::Redis(Box::new(work::LockedRound { plan: plan.clone(), keys: keys.clone(), op }))
    });
    let workers: Box<dyn crate::sync::Backend> = match setup.backend.kind() {
        BackendKind::Atomic => Box::new(work::Scripted { plan: plan.clone(), keys, op }),
        BackendKind::Mutex => Box::new(work::Locked { plan: plan.clone(), keys, op }),
        BackendKind::None => Box::new(work::Unlocked { plan: plan.clone(), keys, op }),
        BackendKind::Channel => {
            return Err(BackendError::Redis {
                doing: "setting up",
                error: "the channel backend does not run over Redis yet".to_string(),
            });
        }
    };
    Ok(Parts { workers, inside_lock, keeper: crate::sync::Keeper::Remote(remote) })
}
