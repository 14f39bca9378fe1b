//! The `channel` backend over Redis: a Redis stream (`PREFIX:stream`) in place of the pipe.
//! Each worker, on a connection of its own, sends its operations a batch at a time, one entry
//! per batch (`XADD PREFIX:stream * w WORKER s OFFSET n COUNT o OPERAND t SENT c CLOCK`: the
//! worker's index, the offset of the batch's first operation among the worker's, how many, the
//! operand's raw bytes, [`lua::encode`], when it was sent on the sender's CLOCK_MONOTONIC and
//! which machine's clock that is, [`crate::clock::machine`]). The workers may be on several
//! hosts (`runner worker`, whose share of the run joins it through `join`). runner, the owner
//! (in `supervise`, or the coordinator of a run over several hosts), reads the stream in order
//! (`XREAD BLOCK`, a short block so that it still looks at the workers, the deadline and
//! signals) and applies each entry to its own copy of the value: the final value is the replay
//! of the stream.
//!
//! The apply latency: for each entry whose sender reads the owner's clock (same boot, same time
//! namespace), the owner records the time from the send to the entry's application in a
//! histogram made before the run (recording never allocates); an entry from another machine's
//! clock is applied but not measured, and when none shares it the latency is not measured.
//!
//! The offset makes each worker's entries a sequence the owner checks: an entry whose offset
//! was applied already (a batch sent again after a timeout) is refused and counted as a
//! duplicate; one past the next expected offset (a lost batch) is an error. At the end the
//! owner stores the value it holds and the duplicates it refused under the run's keys, where
//! [`Remote::finish`] reads them like any backend's over Redis, and deletes the keys.
//!
//! Owns: the entries' format, the workers' sending side and the owner's loop. Does not own:
//! the batches, pacing and timing of a worker's sends (the channel's `send_all`), the books of
//! what the owner applied (`Served`), nor the keys' lifetime ([`Remote`]).

use super::conn::Conn;
use super::keeper::{Keys, Remote};
use super::lua;
use crate::plan::RedisPlan;
use crate::shm::Shared;
use crate::sync::{Backend, BackendError, Order, Served, Setup, WorkerTally};
use crate::value::{Operation, Scalar, Value};
use crate::watch::probe::Probe;

/// The longest the owner blocks in one read: it looks at the workers, the deadline and signals
/// between two reads.
const BLOCK_MS: u64 = 10;
/// Entries the owner reads at most at once.
const READ_COUNT: usize = 4096;
/// The owner trims the stream of what it applied once this many entries accumulated, so that
/// a long run's stream stays bounded (a shorter run's stays whole until runner deletes it).
const TRIM_EVERY: u64 = 100_000;

/// The workers' side: the stream's key and a batch's size.
pub(super) struct Producer {
    pub(super) plan: RedisPlan,
    pub(super) keys: Keys,
    pub(super) batch: u32,
}

impl Backend for Producer {
    fn work(&self, order: &Order, shared: &Shared, probe: &mut Probe<'_>) -> Result<WorkerTally, BackendError> {
        let mut conn = Conn::open(&self.plan)?;
        let worker = order.index.to_string();
        let operand = lua::encode(order.operand);
        let clock = crate::clock::machine();
        let mut offset = order.done_before;
        let sent = crate::sync::channel::send_all(order, shared, probe, self.batch, |n| {
            let xadd = redis::cmd("XADD")
                .arg(&self.keys.stream)
                .arg("NOMKSTREAM")
                .arg("*")
                .arg("w")
                .arg(&worker)
                .arg("s")
                .arg(offset)
                .arg("n")
                .arg(n)
                .arg("o")
                .arg(&operand)
                .arg("t")
                .arg(crate::clock::now_ns())
                .arg("c")
                .arg(&clock)
                .clone();
            // Never makes the stream: a batch sent after runner deleted it is an error, not a key left behind.
            let id: Option<String> = conn.call("sending a batch", &xadd)?;
            if id.is_none() {
                let error = "the run's stream is gone (runner stopped the run)".to_string();
                return Err(BackendError::Redis { doing: "sending a batch", error });
            }
            offset += n;
            Ok(())
        })?;
        Ok(WorkerTally { ops: sent.ops, retries: conn.resent })
    }
}

/// runner's side: a connection of its own reading the stream, the value it applies to, and
/// the run's keys ([`Remote`]) to store the result in and delete.
pub(crate) struct Owner {
    conn: Conn,
    keys: Keys,
    remote: Remote,
    op: Operation,
    value: Value,
    total: u64,
    block_ms: u64,
    /// Which machine's clock the owner reads: an entry sent on the same one is measured.
    clock: Vec<u8>,
    /// Send to application, in nanoseconds, of each measured entry.
    latency: hdrhistogram::Histogram<u32>,
}

/// One entry as the owner reads it: its id and its fields and values in turn.
type Entry = (String, Vec<Vec<u8>>);
/// `XREAD`'s reply for one stream: its name and its entries; nil when the block timed out.
type Reply = Option<Vec<(String, Vec<Entry>)>>;

impl Owner {
    /// Makes the (empty) stream with the run's expiry; the owner's connection is its own.
    pub(super) fn new(plan: &RedisPlan, keys: Keys, remote: Remote, setup: &Setup) -> Result<Owner, BackendError> {
        let mut conn = Conn::open(plan)?;
        let create =
            redis::cmd("XGROUP").arg("CREATE").arg(&keys.stream).arg("runner").arg("$").arg("MKSTREAM").clone();
        conn.call::<()>("making the stream", &create)?;
        conn.call::<()>(
            "setting the stream's expiry",
            redis::cmd("PEXPIRE").arg(&keys.stream).arg(super::keeper::EXPIRY_MS),
        )?;
        let block_ms = (plan.timeout_ns / 2_000_000).clamp(1, BLOCK_MS);
        Ok(Owner {
            conn,
            keys,
            remote,
            op: setup.operation,
            value: setup.initial,
            total: setup.total_ops,
            block_ms,
            clock: crate::clock::machine().into_bytes(),
            latency: crate::watch::hist::new(),
        })
    }

    /// From the barrier's release until every operation is applied (or no worker is at work
    /// and the stream is read to its end, or `tick` says stop): reads and applies in the
    /// stream's order, then stores the value and the duplicates refused.
    pub(crate) fn serve(
        &mut self,
        workers: usize,
        alive: &mut dyn FnMut() -> bool,
        tick: &mut dyn FnMut() -> bool,
    ) -> Result<Served, BackendError> {
        let mut books = Served { applied: vec![0; workers], ..Served::default() };
        let (mut applied, mut duplicates, mut since_trim) = (0u64, 0u64, 0u64);
        let mut last = "0-0".to_string();
        while applied < self.total && tick() {
            let was_alive = alive();
            let read = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(READ_COUNT)
                .arg("BLOCK")
                .arg(self.block_ms)
                .arg("STREAMS")
                .arg(&self.keys.stream)
                .arg(&last)
                .clone();
            let reply: Reply = self.conn.call("reading the stream", &read)?;
            let entries = reply.and_then(|mut s| s.pop()).map(|s| s.1).unwrap_or_default();
            if entries.is_empty() && !was_alive {
                break;
            }
            for (id, fields) in &entries {
                let batch = Batch::parse(fields, self.value, workers)?;
                let done = &mut books.applied[batch.worker];
                if batch.offset + batch.count <= *done {
                    duplicates += 1;
                    continue;
                }
                if batch.offset != *done {
                    let why = if batch.offset > *done { "a batch is missing" } else { "it overlaps an applied batch" };
                    return Err(BackendError::Redis {
                        doing: "applying the stream",
                        error: format!(
                            "worker {}'s entry {id} starts at its operation {}, but {} were applied: {why}",
                            batch.worker, batch.offset, *done
                        ),
                    });
                }
                let op = Operation { kind: self.op.kind, operand: batch.operand };
                self.value = apply_n(op, self.value, batch.count);
                *done += batch.count;
                applied += batch.count;
                books.messages += 1;
                books.bytes += fields.iter().map(|f| f.len() as u64).sum::<u64>();
                if let Some(sent) = sent_on(fields, &self.clock) {
                    self.latency.saturating_record(crate::clock::now_ns().saturating_sub(sent).max(1));
                }
            }
            if let Some((id, _)) = entries.last() {
                last.clone_from(id);
            }
            since_trim += entries.len() as u64;
            if since_trim >= TRIM_EVERY {
                since_trim = 0;
                let trim = redis::cmd("XTRIM").arg(&self.keys.stream).arg("MINID").arg("~").arg(&last).clone();
                self.conn.call::<()>("trimming the stream", &trim)?;
            }
        }
        self.store(duplicates)?;
        let measured = self.latency.len();
        let at = |q: f64| if measured == 0 { 0 } else { self.latency.value_at_quantile(q) };
        books.apply =
            Some(crate::sync::ApplyLatency { entries: books.messages, measured, p50_ns: at(0.5), p99_ns: at(0.99) });
        Ok(books)
    }

    /// Stores the value the owner holds and the duplicates it refused, for [`Remote::finish`].
    fn store(&mut self, duplicates: u64) -> Result<(), BackendError> {
        let set = redis::cmd("SET").arg(&self.keys.value).arg(lua::encode(self.value)).arg("KEEPTTL").clone();
        self.conn.call::<()>("storing the final value", &set)?;
        if duplicates > 0 {
            let count = redis::cmd("HINCRBY").arg(&self.keys.refused).arg("duplicates").arg(duplicates).clone();
            self.conn.call::<()>("counting the refused duplicates", &count)?;
        }
        Ok(())
    }

    /// The value the owner holds, as the server stored it, and what it refused; then deletes
    /// the run's keys.
    pub(crate) fn finish(self) -> Result<(Value, super::keeper::Refused), BackendError> {
        self.remote.finish()
    }
}

/// `x` after `n` applications of `op`.
fn apply_n(op: Operation, x: Value, n: u64) -> Value {
    with_scalar!(x, T, x0 => with_op!(op.kind, K => {
        let Some(a) = T::from_value(op.operand) else { return x };
        let mut y: T = x0;
        for _ in 0..n {
            y = y.apply::<K>(a);
        }
        y.to_value()
    }))
}

/// When an entry was sent, if its sender reads the clock `clock` names (and `clock` is known).
fn sent_on(fields: &[Vec<u8>], clock: &[u8]) -> Option<u64> {
    let field = |name: &[u8]| fields.chunks_exact(2).find(|kv| kv[0] == name).map(|kv| kv[1].as_slice());
    if clock.is_empty() || field(b"c")? != clock {
        return None;
    }
    std::str::from_utf8(field(b"t")?).ok()?.parse().ok()
}

/// An entry's fields, read and checked.
struct Batch {
    worker: usize,
    offset: u64,
    count: u64,
    operand: Value,
}

impl Batch {
    fn parse(fields: &[Vec<u8>], ty_of: Value, workers: usize) -> Result<Batch, BackendError> {
        let bad =
            |what: &str| BackendError::Redis { doing: "reading the stream", error: format!("an entry with {what}") };
        let field = |name: &[u8]| -> Option<&[u8]> {
            fields.chunks_exact(2).find(|kv| kv[0] == name).map(|kv| kv[1].as_slice())
        };
        let number = |name: &[u8]| field(name).and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok());
        let worker = number(b"w").filter(|&w| (w as usize) < workers).ok_or_else(|| bad("no worker of this run"))?;
        let offset = number(b"s").ok_or_else(|| bad("no offset"))?;
        let count = number(b"n").filter(|&n| n > 0).ok_or_else(|| bad("no count"))?;
        let operand =
            field(b"o").and_then(|o| lua::decode(ty_of.ty(), o)).ok_or_else(|| bad("no operand of the run's type"))?;
        Ok(Batch { worker: worker as usize, offset, count, operand })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::OpKind;

    fn fields(pairs: &[(&str, &[u8])]) -> Vec<Vec<u8>> {
        pairs.iter().flat_map(|(k, v)| [k.as_bytes().to_vec(), v.to_vec()]).collect()
    }

    #[test]
    fn an_entry_is_read_back_as_a_worker_sent_it() {
        let operand = lua::encode(Value::D(0.1));
        let entry = fields(&[("w", b"2"), ("s", b"128"), ("n", b"64"), ("o", &operand)]);
        let batch = Batch::parse(&entry, Value::D(0.0), 3).expect("a batch");
        assert_eq!((batch.worker, batch.offset, batch.count), (2, 128, 64));
        assert_eq!(batch.operand, Value::D(0.1));
    }

    #[test]
    fn an_entry_of_another_run_or_type_is_refused() {
        let four = lua::encode(Value::I(7));
        for (entry, why) in [
            (fields(&[("w", b"3"), ("s", b"0"), ("n", b"1"), ("o", &four)]), "no worker of this run"),
            (fields(&[("w", b"0"), ("s", b"0"), ("n", b"0"), ("o", &four)]), "no count"),
            (fields(&[("w", b"0"), ("n", b"1"), ("o", &four)]), "no offset"),
            (fields(&[("w", b"0"), ("s", b"0"), ("n", b"1"), ("o", b"x")]), "no operand"),
        ] {
            let error = Batch::parse(&entry, Value::I(0), 3).err().expect("refused").to_string();
            assert!(error.contains(why), "{error}");
        }
    }

    #[test]
    fn only_an_entry_sent_on_the_owners_clock_is_measured() {
        let entry = fields(&[("w", b"0"), ("t", b"1234"), ("c", b"boot ns")]);
        assert_eq!(sent_on(&entry, b"boot ns"), Some(1234));
        assert_eq!(sent_on(&entry, b"other ns"), None, "another machine's clock");
        assert_eq!(sent_on(&entry, b""), None, "an owner that does not know its clock measures nothing");
        assert_eq!(sent_on(&fields(&[("t", b"1234")]), b"boot ns"), None, "an entry without its clock");
        assert!(!crate::clock::machine().is_empty(), "this machine's boot id");
    }

    #[test]
    fn a_batch_applies_its_operand_count_times() {
        let op = Operation { kind: OpKind::Mul, operand: Value::I(3) };
        let mut x = Value::I(5);
        for _ in 0..40 {
            x = op.apply(x);
        }
        assert_eq!(apply_n(op, Value::I(5), 40), x);
        let add = Operation { kind: OpKind::Add, operand: Value::D(0.1) };
        assert_eq!(apply_n(add, Value::D(0.0), 10), Value::D(0.9999999999999999));
    }
}
