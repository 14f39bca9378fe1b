//! The three hot loops over Redis, one per backend: what a worker does after its fork,
//! connected on its own connection.

use std::time::Duration;

use super::conn::Conn;
use super::keeper::Keys;
use super::lua;
use crate::plan::RedisPlan;
use crate::shm::Shared;
use crate::sync::hot::chunked;
use crate::sync::pace::Pace;
use crate::sync::{Backend, BackendError, Order, WorkerTally};
use crate::value::Operation;
use crate::watch::probe::Probe;

/// mutex: takes the lock if it is free, with a new fencing token (from INCR) as its holder and
/// the lease as its lifetime; returns the token and the value, or 0 when the lock is held.
const ACQUIRE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, false} end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return {token, redis.call('GET', KEYS[3])}
";

/// mutex: writes the new value when the lock still holds this worker's token (with fencing),
/// counting a refused write as stale; releases the lock if it is still this worker's.
const WRITE_RELEASE: &str = r"
local mine = redis.call('GET', KEYS[2]) == ARGV[2]
if ARGV[3] == '1' and not mine then
  redis.call('HINCRBY', KEYS[3], 'stale', 1)
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
if mine then redis.call('DEL', KEYS[2]) end
return 1
";

/// atomic: the script of the run's type and operation.
pub(super) struct Scripted {
    pub(super) plan: RedisPlan,
    pub(super) keys: Keys,
    pub(super) op: Operation,
}

impl Backend for Scripted {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let mut conn = Conn::open(&self.plan)?;
        let script = redis::Script::new(&lua::apply_script(order.operand.ty(), self.op.kind, self.plan.exactly_once));
        let operand = lua::encode(order.operand);
        let worker = order.index.to_string();
        let keys = [self.keys.value.as_str(), self.keys.seqs.as_str()];
        let mut seq = order.done_before;
        with_pace!(order, shared, pace => run(order, shared, probe, pace, |_| {
            seq += 1;
            let applied: i64 = conn.script("applying an operation", &script, &keys, &[&operand, worker.as_bytes(), seq.to_string().as_bytes()])?;
            if applied == 0 {
                conn.call::<()>("counting a refused duplicate", redis::cmd("HINCRBY").arg(&self.keys.refused).arg("duplicates").arg(1))?;
            }
            Ok(())
        }))
        .map(|ops| WorkerTally { ops, retries: conn.resent })
    }
}

/// mutex: a lock round per operation (take the lock with the value, write and release).
pub(super) struct Locked {
    pub(super) plan: RedisPlan,
    pub(super) keys: Keys,
    pub(super) op: Operation,
}

impl Backend for Locked {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let mut conn = Conn::open(&self.plan)?;
        let acquire = redis::Script::new(ACQUIRE);
        let write = redis::Script::new(WRITE_RELEASE);
        let op = Operation { kind: self.op.kind, operand: order.operand };
        let lease = (self.plan.lease_ns / 1_000_000).max(1).to_string();
        let fencing: &[u8] = if self.plan.fencing { b"1" } else { b"0" };
        let k = &self.keys;
        let ty_of = order.operand;
        with_pace!(order, shared, pace => run_locked(order, shared, probe, pace, |inside: &dyn Fn()| {
            loop {
                let mut wait = Duration::from_micros(20);
                let (token, bytes) = loop {
                    let (token, bytes): (i64, Option<Vec<u8>>) =
                        conn.script("taking the lock", &acquire, &[&k.lock, &k.fence, &k.value], &[lease.as_bytes()])?;
                    if token > 0 {
                        break (token, bytes.unwrap_or_default());
                    }
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_millis(1));
                };
                let x = lua::decode(ty_of.ty(), &bytes).ok_or_else(|| malformed(bytes.len()))?;
                let new = lua::encode(op.apply(x));
                inside();
                let token = token.to_string();
                let written: i64 = conn.script("writing under the lock", &write, &[&k.value, &k.lock, &k.refused], &[&new, token.as_bytes(), fencing])?;
                // A stale token (the lease ran out): the operation is done again under a new one.
                if written == 1 {
                    return Ok(());
                }
            }
        }))
        .map(|ops| WorkerTally { ops, retries: conn.resent })
    }
}

/// none: GET, then SET, with nothing between two workers' updates.
pub(super) struct Unlocked {
    pub(super) plan: RedisPlan,
    pub(super) keys: Keys,
    pub(super) op: Operation,
}

impl Backend for Unlocked {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let mut conn = Conn::open(&self.plan)?;
        let op = Operation { kind: self.op.kind, operand: order.operand };
        let key = &self.keys.value;
        let ty_of = order.operand;
        with_pace!(order, shared, pace => run_locked(order, shared, probe, pace, |inside: &dyn Fn()| {
            let bytes: Vec<u8> = conn.call("reading the value", redis::cmd("GET").arg(key))?;
            let x = lua::decode(ty_of.ty(), &bytes).ok_or_else(|| malformed(bytes.len()))?;
            let new = lua::encode(op.apply(x));
            inside();
            conn.call::<()>("writing the value", redis::cmd("SET").arg(key).arg(new).arg("KEEPTTL"))
        }))
        .map(|ops| WorkerTally { ops, retries: conn.resent })
    }
}

fn malformed(bytes: usize) -> BackendError {
    BackendError::Redis { doing: "reading the value", error: format!("{bytes} bytes: not the run's type") }
}

/// Runs the order's operations, `one` each, paced, the first of each chunk timed.
fn run<P: Pace>(
    order: &Order,
    shared: &Shared,
    probe: &mut Probe<'_>,
    mut pace: P,
    mut one: impl FnMut(u64) -> Result<(), BackendError>,
) -> Result<u64, BackendError> {
    let slot = shared.slot(order.index as usize);
    let stride = probe.stride;
    chunked::<BackendError>(order, stride, slot, |n| {
        for i in 0..n {
            pace.before()?;
            pace.inside();
            let t0 = crate::clock::now_ns();
            one(i)?;
            if i == 0 {
                probe.rmw(t0, crate::clock::now_ns(), 0);
            }
            pace.after();
        }
        Ok(())
    })
}

/// As [`run`], for loops with a critical section: `one` calls `inside` within it.
fn run_locked<P: Pace>(
    order: &Order,
    shared: &Shared,
    probe: &mut Probe<'_>,
    mut pace: P,
    mut one: impl FnMut(&dyn Fn()) -> Result<(), BackendError>,
) -> Result<u64, BackendError> {
    let slot = shared.slot(order.index as usize);
    let stride = probe.stride;
    chunked::<BackendError>(order, stride, slot, |n| {
        for i in 0..n {
            pace.before()?;
            let t0 = crate::clock::now_ns();
            one(&|| pace.inside())?;
            if i == 0 {
                probe.update(t0, crate::clock::now_ns());
            }
            pace.after();
        }
        Ok(())
    })
}
