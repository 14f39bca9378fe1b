//! atomic over Redis for every job that is not paced: commands packed into bytes by runner and
//! sent `pipeline` at a time (one at a time without a pipeline) before their replies are read,
//! and `INCRBY` (one native command, no script) for `add` and `sub` on `i` and
//! `c` without sequence numbers: the workers add to a 64-bit count, which runner adds to the
//! value once they are done, wrapping as the type does (`i` and `c` wrap modulo 2^32 and 2^8,
//! so adding the sum is adding each operand in turn). Only when the count cannot leave 64 bits.
//!
//! Owns: that loop. Does not own: which jobs it runs (`mod`, by pacing), the scripts
//! (`lua`), the connection's retry policy for single commands (`conn`).

use super::conn::{Conn, Reply};
use super::keeper::Keys;
use super::lua;
use super::work::{Books, atomic_script};
use crate::plan::RedisPlan;
use crate::shm::Shared;
use crate::sync::hot::chunked;
use crate::sync::{Backend, BackendError, Order, WorkerTally};
use crate::value::{OpKind, Operation, Value};
use crate::watch::probe::Probe;

/// atomic: operations sent `pipeline` at a time, each an INCRBY or the type's script.
pub(super) struct Pipelined {
    pub(super) plan: RedisPlan,
    pub(super) keys: Keys,
    pub(super) op: Operation,
    /// Operations of the whole run (the count's bound).
    pub(super) total_ops: u64,
}

/// The increment of one operation on the count, when INCRBY does the job exactly: `add` or
/// `sub` on `i` or `c`, no sequence numbers, and every operation's increment summed stays
/// within 64 bits (a per-worker operand is at most 255 or 2^31 in size, the same bound).
pub(crate) fn increment(plan: &RedisPlan, operand: Value, kind: OpKind, total_ops: u64) -> Option<i64> {
    if plan.exactly_once {
        return None;
    }
    let a = match operand {
        Value::I(_) => 1i64 << 31,
        Value::C(_) => 255,
        Value::D(_) => return None,
    };
    (total_ops as i128 * a as i128 <= i64::MAX as i128).then_some(())?;
    let a = match operand {
        Value::I(a) => a as i64,
        Value::C(a) => a as i64,
        Value::D(_) => return None,
    };
    match kind {
        OpKind::Add => Some(a),
        OpKind::Sub => Some(-a),
        _ => None,
    }
}

impl Backend for Pipelined {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let mut conn = Conn::open(&self.plan)?;
        let fast = increment(&self.plan, order.operand, self.op.kind, self.total_ops);
        let sha = match fast {
            Some(_) => String::new(),
            None => {
                let source = atomic_script(order.operand.ty(), self.op.kind, self.plan.exactly_once);
                conn.call::<String>("loading the script", redis::cmd("SCRIPT").arg("LOAD").arg(source))?
            }
        };
        let operand = lua::encode(order.operand);
        let worker = order.index;
        let depth = u64::from(self.plan.pipeline.max(1));
        let slot = shared.slot(order.index as usize);
        let mut seq = order.done_before;
        let mut books = Books::new(shared, order);
        // The commands, packed once per pipeline into `bytes`: INCRBY's never change, so a full
        // pipeline of them is packed once for the whole run.
        let mut command = redis::Cmd::new();
        let mut pack = |bytes: &mut Vec<u8>, k: u64, seq: u64| {
            bytes.clear();
            for i in 0..k {
                command.clear();
                match fast {
                    Some(delta) => command.arg("INCRBY").arg(&self.keys.count).arg(delta),
                    None => command
                        .arg("EVALSHA")
                        .arg(&sha)
                        .arg(3)
                        .arg(&self.keys.value)
                        .arg(&self.keys.seqs)
                        .arg(&self.keys.refused)
                        .arg(&operand)
                        .arg(worker)
                        .arg(seq + i + 1),
                };
                command.write_packed_command(bytes);
            }
        };
        let mut full = Vec::new();
        if fast.is_some() {
            pack(&mut full, depth, 0);
        }
        let mut bytes = Vec::new();
        let ops = chunked::<BackendError>(order, probe.stride.max(depth), slot, |n| {
            let mut left = n;
            let mut first = true;
            while left > 0 {
                let k = left.min(depth);
                let packed = if fast.is_some() && k == depth {
                    &full
                } else {
                    pack(&mut bytes, k, seq);
                    &bytes
                };
                let t0 = crate::clock::now_ns();
                let reply = conn.packed("applying a pipeline of operations", packed, k as usize)?;
                books.resent(&conn);
                // No reply: each of the pipeline's operations may or may not have been applied.
                if reply == Reply::Ambiguous {
                    books.ambiguous_many(k);
                }
                if first {
                    probe.rmw(t0, crate::clock::now_ns(), 0);
                    first = false;
                }
                seq += k;
                left -= k;
            }
            Ok(())
        })?;
        Ok(WorkerTally { ops, retries: 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::increment;
    use crate::plan::RedisPlan;
    use crate::value::{OpKind, Value};

    fn plan(exactly_once: bool) -> RedisPlan {
        RedisPlan {
            url: String::new(),
            url_from: "job",
            key: None,
            timeout_ns: 1,
            retries: 0,
            exactly_once,
            fencing: true,
            lease_ns: 1,
            pipeline: 1,
        }
    }

    /// INCRBY only where it is the same arithmetic and the count stays within 64 bits.
    #[test]
    fn the_count_takes_add_and_sub_on_integers_within_64_bits() {
        let off = plan(false);
        assert_eq!(increment(&off, Value::I(3), OpKind::Add, 100), Some(3));
        assert_eq!(increment(&off, Value::I(i32::MIN), OpKind::Sub, 100), Some(1 << 31));
        assert_eq!(increment(&off, Value::C(200), OpKind::Sub, 100), Some(-200));
        assert_eq!(increment(&off, Value::I(3), OpKind::Mul, 100), None);
        assert_eq!(increment(&off, Value::D(1.0), OpKind::Add, 100), None);
        assert_eq!(increment(&plan(true), Value::I(3), OpKind::Add, 100), None);
        // 2^32 operations of up to 2^31 each reach 2^63: the script instead.
        assert_eq!(increment(&off, Value::I(1), OpKind::Add, 1 << 32), None);
        assert_eq!(increment(&off, Value::I(1), OpKind::Add, (1 << 32) - 1), Some(1));
    }
}
