//! The three hot loops over Redis, one per backend: what a worker does after its fork,
//! connected on its own connection, and the mutex's round with a fault's action inside the
//! lock ([`LockedRound`]).
//!
//! What became of each operation is written into the worker's slot as it happens: commands
//! resent after a timeout (`resent`), and operations whose every send timed out (`ambiguous`:
//! applied or not, nobody can tell; the worker counts it and goes on). A read that timed out
//! (the value, the lock) changes nothing and is simply made again. What the server refused
//! (duplicates, stale writes) the scripts count on the server, where runner reads them.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::conn::{Conn, Reply};
use super::keeper::Keys;
use super::lua;
use crate::plan::RedisPlan;
use crate::shm::{Shared, Slot};
use crate::sync::hot::chunked;
use crate::sync::pace::Pace;
use crate::sync::{Backend, BackendError, Order, WorkerTally};
use crate::value::{OpKind, Operation, Value, ValueType};
use crate::watch::probe::Probe;

/// mutex: takes the lock if it is free, with a new fencing token (from INCR) as its holder and
/// the lease as its lifetime; returns the token and the value, or 0 when the lock is held.
pub(crate) const ACQUIRE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, false} end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return {token, redis.call('GET', KEYS[3])}
";

/// mutex: writes the new value when the lock still holds this worker's token (with fencing),
/// counting a refused write as stale, in all and for the worker (`stale:W`); without fencing,
/// a write whose lease ran out goes through and is counted for the worker (`late:W`). Releases
/// the lock if it is still this worker's. Each worker's last written token (`KEYS[4]`, field
/// `ARGV[4]`) makes a resent write idempotent: the write of a token already written returns 2
/// and does nothing (tokens only grow).
pub(crate) const WRITE_RELEASE: &str = r"
if redis.call('HGET', KEYS[4], ARGV[4]) == ARGV[2] then return 2 end
local mine = redis.call('GET', KEYS[2]) == ARGV[2]
if not mine and ARGV[3] == '1' then
  redis.call('HINCRBY', KEYS[3], 'stale', 1)
  redis.call('HINCRBY', KEYS[3], 'stale:' .. ARGV[4], 1)
  return 0
end
if not mine then redis.call('HINCRBY', KEYS[3], 'late:' .. ARGV[4], 1) end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
redis.call('HSET', KEYS[4], ARGV[4], ARGV[2])
if mine then redis.call('DEL', KEYS[2]) end
return 1
";

/// atomic's script of a type and operation: with sequence numbers, one that also counts each
/// duplicate it refused, on the server (`KEYS[3]`), so that a refusal whose reply was lost counts.
pub fn atomic_script(ty: ValueType, kind: OpKind, once: bool) -> String {
    let text = lua::apply_script(ty, kind, once);
    if once { counting_refusals(&text) } else { text }
}

/// An exactly-once script (`KEYS[1]`, `KEYS[2]`, see [`lua`]) that also counts, on the server,
/// each duplicate it refused (`KEYS[3]`, field `duplicates`, and the worker's `duplicates:W`,
/// `ARGV[2]` being the worker): one count per refused execution.
fn counting_refusals(script: &str) -> String {
    format!(
        "local applied = (function()\n{script}end)()\n\
         if applied == 0 then\n\
         redis.call('HINCRBY', KEYS[3], 'duplicates', 1)\n\
         redis.call('HINCRBY', KEYS[3], 'duplicates:' .. ARGV[2], 1)\n\
         end\n\
         return applied\n"
    )
}

/// What a worker writes into its slot as it goes: the resends of its connection (published as
/// they grow) and its ambiguous operations.
pub(super) struct Books<'a> {
    slot: &'a Slot,
    published: u64,
}

impl<'a> Books<'a> {
    pub(super) fn new(shared: &'a Shared, order: &Order) -> Books<'a> {
        Books { slot: shared.slot(order.index as usize), published: 0 }
    }

    /// Publishes the resends `conn` made since the last call.
    pub(super) fn resent(&mut self, conn: &Conn) {
        if conn.resent > self.published {
            add(&self.slot.resent, conn.resent - self.published);
            self.published = conn.resent;
        }
    }

    fn ambiguous(&self) {
        add(&self.slot.ambiguous, 1);
    }

    /// `n` operations whose pipeline got no reply.
    pub(super) fn ambiguous_many(&self, n: u64) {
        add(&self.slot.ambiguous, n);
    }
}

/// Adds `n` to a slot's 32-bit count, saturating: only after a timeout, never in the hot path.
fn add(count: &AtomicU32, n: u64) {
    let _ = count
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| Some(u32::try_from(c as u64 + n).unwrap_or(u32::MAX)));
}

/// atomic, paced (busy work, turns): the script of the run's type and operation, one at a time.
pub(super) struct Scripted {
    pub(super) plan: RedisPlan,
    pub(super) keys: Keys,
    pub(super) op: Operation,
}

impl Backend for Scripted {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let mut conn = Conn::open(&self.plan)?;
        let mut books = Books::new(shared, order);
        let script = redis::Script::new(&atomic_script(order.operand.ty(), self.op.kind, self.plan.exactly_once));
        let operand = lua::encode(order.operand);
        let worker = order.index.to_string();
        let keys = [self.keys.value.as_str(), self.keys.seqs.as_str(), self.keys.refused.as_str()];
        let mut seq = order.done_before;
        with_pace!(order, shared, pace => run(order, shared, probe, pace, |_| {
            seq += 1;
            let seq = seq.to_string();
            let reply = conn.script::<i64>("applying an operation", &script, &keys, &[&operand, worker.as_bytes(), seq.as_bytes()])?;
            books.resent(&conn);
            if reply == Reply::Ambiguous {
                books.ambiguous();
            }
            Ok(())
        }))
        .map(|ops| WorkerTally { ops, retries: 0 })
    }
}

/// mutex: a lock round per operation (take the lock with the value, write and release), or
/// per `pipeline` operations when the job is not paced.
pub(super) struct Locked {
    pub(super) plan: RedisPlan,
    pub(super) keys: Keys,
    pub(super) op: Operation,
}

/// One worker's lock rounds: its connection, scripts and settings.
struct Rounds<'a> {
    conn: Conn,
    acquire: redis::Script,
    write: redis::Script,
    op: Operation,
    lease: String,
    fencing: &'static [u8],
    keys: &'a Keys,
    worker: String,
}

impl<'a> Rounds<'a> {
    fn new(plan: &RedisPlan, keys: &'a Keys, op: Operation, order: &Order) -> Result<Rounds<'a>, BackendError> {
        Ok(Rounds {
            conn: Conn::open(plan)?,
            acquire: redis::Script::new(ACQUIRE),
            write: redis::Script::new(WRITE_RELEASE),
            op: Operation { kind: op.kind, operand: order.operand },
            lease: (plan.lease_ns / 1_000_000).max(1).to_string(),
            fencing: if plan.fencing { b"1" } else { b"0" },
            keys,
            worker: order.index.to_string(),
        })
    }

    /// Takes the lock (waiting while it is held, or while taking it timed out): its token and
    /// the value's bytes.
    fn take(&mut self) -> Result<(i64, Vec<u8>), BackendError> {
        let k = self.keys;
        let mut wait = Duration::from_micros(20);
        loop {
            let reply = self.conn.script::<(i64, Option<Vec<u8>>)>(
                "taking the lock",
                &self.acquire,
                &[&k.lock, &k.fence, &k.value],
                &[self.lease.as_bytes()],
            )?;
            if let Reply::Done((token, bytes)) = reply
                && token > 0
            {
                return Ok((token, bytes.unwrap_or_default()));
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(Duration::from_millis(1));
        }
    }

    /// One operation under the lock, `inside` run between reading and writing the value; a
    /// write refused as stale (the lease ran out) is done again under a new token.
    fn one(&mut self, books: &mut Books<'_>, inside: &mut dyn FnMut()) -> Result<(), BackendError> {
        self.held(1, books, inside)
    }

    /// `n` operations in one hold of the lock (one read and one write of the value), as
    /// [`Rounds::one`]: a refused write does all `n` again under a new token.
    fn held(&mut self, n: u64, books: &mut Books<'_>, inside: &mut dyn FnMut()) -> Result<(), BackendError> {
        let k = self.keys;
        loop {
            let (token, bytes) = self.take()?;
            let mut x = lua::decode(self.op.operand.ty(), &bytes).ok_or_else(|| malformed(bytes.len()))?;
            for _ in 0..n {
                x = self.op.apply(x);
            }
            let new = lua::encode(x);
            inside();
            let token = token.to_string();
            let written = self.conn.script::<i64>(
                "writing under the lock",
                &self.write,
                &[&k.value, &k.lock, &k.refused, &k.fenced],
                &[&new, token.as_bytes(), self.fencing, self.worker.as_bytes()],
            )?;
            books.resent(&self.conn);
            match written {
                Reply::Done(0) => continue,
                Reply::Done(_) => return Ok(()),
                Reply::Ambiguous => {
                    books.ambiguous_many(n);
                    return Ok(());
                }
            }
        }
    }
}

impl Backend for Locked {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let mut rounds = Rounds::new(&self.plan, &self.keys, self.op, order)?;
        let mut books = Books::new(shared, order);
        let hold = u64::from(self.plan.pipeline);
        if hold > 1 && order.pacing.is_free() {
            // Operations grouped per hold: the first group of each chunk timed.
            let slot = shared.slot(order.index as usize);
            let ops = chunked::<BackendError>(order, probe.stride.max(hold), slot, |n| {
                let mut left = n;
                while left > 0 {
                    let k = left.min(hold);
                    let t0 = crate::clock::now_ns();
                    rounds.held(k, &mut books, &mut || ())?;
                    if left == n {
                        probe.update(t0, crate::clock::now_ns());
                    }
                    left -= k;
                }
                Ok(())
            })?;
            return Ok(WorkerTally { ops, retries: 0 });
        }
        with_pace!(order, shared, pace => run_locked(order, shared, probe, pace, |inside: &dyn Fn()| {
            rounds.one(&mut books, &mut || inside())
        }))
        .map(|ops| WorkerTally { ops, retries: 0 })
    }
}

/// mutex over Redis: one lock round with a fault's action between reading the value and
/// writing it (a stall past the lease makes the write stale).
#[derive(Clone)]
pub(crate) struct LockedRound {
    pub(super) plan: RedisPlan,
    pub(super) keys: Keys,
    pub(super) op: Operation,
}

impl LockedRound {
    pub(crate) fn run(&self, order: &Order, shared: &Shared, act: &mut dyn FnMut()) -> Result<(), BackendError> {
        let mut rounds = Rounds::new(&self.plan, &self.keys, self.op, order)?;
        let mut books = Books::new(shared, order);
        let mut acted = false;
        // The action once: a write refused as stale is done again without it.
        rounds.one(&mut books, &mut || {
            if !std::mem::replace(&mut acted, true) {
                act();
            }
        })?;
        shared.slot(order.index as usize).ops.store(order.done_before + 1, Ordering::Relaxed);
        Ok(())
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
        let mut books = Books::new(shared, order);
        let op = Operation { kind: self.op.kind, operand: order.operand };
        let key = &self.keys.value;
        let ty_of: Value = order.operand;
        with_pace!(order, shared, pace => run_locked(order, shared, probe, pace, |inside: &dyn Fn()| {
            let bytes: Vec<u8> = loop {
                if let Reply::Done(bytes) = conn.send("reading the value", redis::cmd("GET").arg(key))? {
                    break bytes;
                }
            };
            let x = lua::decode(ty_of.ty(), &bytes).ok_or_else(|| malformed(bytes.len()))?;
            let new = lua::encode(op.apply(x));
            inside();
            let written = conn.send::<()>("writing the value", redis::cmd("SET").arg(key).arg(new).arg("KEEPTTL"))?;
            books.resent(&conn);
            if written == Reply::Ambiguous {
                books.ambiguous();
            }
            Ok(())
        }))
        .map(|ops| WorkerTally { ops, retries: 0 })
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
