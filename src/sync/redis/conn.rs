//! A worker's or runner's connection to the server: opened with the plan's timeout on
//! connecting, reading and writing, and one way to send a command with the retry policy.

use std::time::Duration;

use crate::plan::RedisPlan;
use crate::sync::BackendError;

/// A connection, with the commands it resent after a timeout.
pub(super) struct Conn {
    pub(super) con: redis::Connection,
    retries: u32,
    /// Commands sent again after a timeout.
    pub(super) resent: u64,
}

impl Conn {
    pub(super) fn open(plan: &RedisPlan) -> Result<Conn, BackendError> {
        let failed = |doing| move |e: redis::RedisError| BackendError::Redis { doing, error: describe(&e) };
        let client = redis::Client::open(plan.url.as_str()).map_err(failed("reading the server's address"))?;
        let timeout = Duration::from_nanos(plan.timeout_ns.max(1_000));
        let con = client.get_connection_with_timeout(timeout).map_err(|e| BackendError::Redis {
            doing: "connecting",
            error: format!(
                "{} at {} (is a server running there? start one with `redis-server --port 6379`, or name yours in RUNNER_REDIS)",
                describe(&e),
                plan.url
            ),
        })?;
        con.set_read_timeout(Some(timeout)).map_err(failed("setting the read timeout"))?;
        con.set_write_timeout(Some(timeout)).map_err(failed("setting the write timeout"))?;
        Ok(Conn { con, retries: plan.retries, resent: 0 })
    }

    /// Sends `cmd`, sending it again after a timeout up to the plan's retries.
    pub(super) fn call<T: redis::FromRedisValue>(
        &mut self,
        doing: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<T, BackendError> {
        let mut left = self.retries;
        loop {
            match cmd.query::<T>(&mut self.con) {
                Ok(v) => return Ok(v),
                Err(e) if e.is_timeout() && left > 0 => {
                    left -= 1;
                    self.resent += 1;
                }
                Err(e) => return Err(BackendError::Redis { doing, error: describe(&e) }),
            }
        }
    }

    /// Runs `script` on `keys` with `args`, as [`Conn::call`] (EVALSHA, loading it once).
    pub(super) fn script<T: redis::FromRedisValue>(
        &mut self,
        doing: &'static str,
        script: &redis::Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<T, BackendError> {
        let mut left = self.retries;
        loop {
            let mut invocation = script.prepare_invoke();
            for k in keys {
                invocation.key(*k);
            }
            for a in args {
                invocation.arg(*a);
            }
            match invocation.invoke::<T>(&mut self.con) {
                Ok(v) => return Ok(v),
                Err(e) if e.is_timeout() && left > 0 => {
                    left -= 1;
                    self.resent += 1;
                }
                Err(e) => return Err(BackendError::Redis { doing, error: describe(&e) }),
            }
        }
    }
}

/// The error as one line.
fn describe(e: &redis::RedisError) -> String {
    e.to_string().replace('\n', " ")
}
