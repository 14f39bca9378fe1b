//! The run's keys, and runner's side of the engine: it stores the initial value before the
//! forks, and reads the final value and deletes the keys once every worker has ended.

use std::sync::atomic::{AtomicU64, Ordering};

use super::conn::Conn;
use super::lua;
use crate::plan::RedisPlan;
use crate::sync::BackendError;
use crate::value::Value;

/// How long a run's keys outlive a runner that could not delete them.
pub(crate) const EXPIRY_MS: u64 = 24 * 3600 * 1000;

/// Resends of runner's own commands after a timeout, at least, whatever the job's retries: they
/// are idempotent, and a run's result must not be lost for one late reply.
const RUNNER_RETRIES: u32 = 3;

/// The names of a run's keys, all under one hash tag.
#[derive(Clone, Debug)]
pub(crate) struct Keys {
    /// The value's raw bytes.
    pub(crate) value: String,
    /// Each worker's last applied sequence number.
    pub(crate) seqs: String,
    /// The mutex's lock, holding its fencing token.
    pub(crate) lock: String,
    /// The last fencing token handed out.
    pub(crate) fence: String,
    /// Each worker's last written token: a resent write of the same token does nothing.
    pub(crate) fenced: String,
    /// What the scripts refused: `duplicates`, `stale`.
    pub(crate) refused: String,
    /// atomic's INCRBY path: the sum of the workers' increments, added to the value at the end.
    pub(crate) count: String,
    /// channel: the workers' batches, in the order the owner applies them.
    pub(crate) stream: String,
}

impl Keys {
    /// The keys under `prefix`, or under one made for this run (`{runner:PID:N:NS}`).
    pub(crate) fn new(prefix: Option<&str>) -> Keys {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let prefix = match prefix {
            Some(p) => p.to_string(),
            // The pid and a count tell this runner's runs apart; the clock's nanoseconds, runners
            // on other machines with the same pid.
            None => format!(
                "{{runner:{}:{}:{}}}",
                std::process::id(),
                RUNS.fetch_add(1, Ordering::Relaxed),
                crate::clock::now_ns() % 1_000_000_000
            ),
        };
        let key = |name: &str| format!("{prefix}:{name}");
        Keys {
            value: key("value"),
            seqs: key("seqs"),
            lock: key("lock"),
            fence: key("fence"),
            fenced: key("fenced"),
            refused: key("refused"),
            count: key("count"),
            stream: key("stream"),
        }
    }

    fn all(&self) -> [&str; 8] {
        [&self.value, &self.seqs, &self.lock, &self.fence, &self.fenced, &self.refused, &self.count, &self.stream]
    }
}

/// runner's side of the Redis engine.
pub(crate) struct Remote {
    conn: Conn,
    keys: Keys,
    ty_of: Value,
}

pub(crate) use crate::sync::Refused;

impl Remote {
    /// Connects, clears the run's keys and stores `initial`.
    pub(super) fn start(plan: &RedisPlan, keys: Keys, initial: Value) -> Result<Remote, BackendError> {
        let mut conn = Conn::open(plan)?.at_least(RUNNER_RETRIES);
        conn.call::<()>("clearing the run's keys", redis::cmd("DEL").arg(&keys.all()[..]))?;
        let set = redis::cmd("SET").arg(&keys.value).arg(lua::encode(initial)).arg("PX").arg(EXPIRY_MS).clone();
        conn.call::<()>("storing the initial value", &set)?;
        Ok(Remote { conn, keys, ty_of: initial })
    }

    /// The final value and what the server refused; then deletes the run's keys.
    pub(crate) fn finish(mut self) -> Result<(Value, Refused), BackendError> {
        let bytes: Vec<u8> = self.conn.call("reading the final value", redis::cmd("GET").arg(&self.keys.value))?;
        let count: Option<i64> = self.conn.call("reading the count", redis::cmd("GET").arg(&self.keys.count))?;
        let counts: Vec<(String, u64)> =
            self.conn.call("reading the refusals", redis::cmd("HGETALL").arg(&self.keys.refused))?;
        self.conn.call::<()>("deleting the run's keys", redis::cmd("DEL").arg(&self.keys.all()[..]))?;
        let value = lua::decode(self.ty_of.ty(), &bytes).ok_or_else(|| BackendError::Redis {
            doing: "reading the final value",
            error: format!("{} bytes, not a {}", bytes.len(), self.ty_of.ty().name()),
        })?;
        // The INCRBY path's sum, reduced to the type: its wrapping is addition modulo 2^bits.
        let value = match (value, count) {
            (Value::I(x), Some(n)) => Value::I(x.wrapping_add(n as i32)),
            (Value::C(x), Some(n)) => Value::C(x.wrapping_add(n as u8)),
            (v, _) => v,
        };
        Ok((value, Refused::from_fields(&counts)))
    }
}
