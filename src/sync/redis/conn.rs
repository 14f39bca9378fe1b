//! A worker's or runner's connection to the server: opened with the plan's timeout on
//! connecting, reading and writing, and one way to send a command with the retry policy.
//!
//! A command that timed out may or may not have been applied: it is sent again while retries
//! are left ([`Conn::resent`] counts them), and once none are left its fate is unknown:
//! [`Reply::Ambiguous`], not an error. The connection stays usable: the client skips the late
//! reply of every command it gave up on (each request gets exactly one reply), so the next
//! command reads its own.

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

    /// The same connection with at least `n` retries: for runner's own commands, each of which
    /// may be sent twice (they store, read or delete; none adds to anything).
    pub(super) fn at_least(mut self, n: u32) -> Conn {
        self.retries = self.retries.max(n);
        self
    }

    /// Sends `cmd`, sending it again after a timeout up to the plan's retries; an error when the
    /// last one timed out too (runner's own commands, which must not be left unknown).
    pub(super) fn call<T: redis::FromRedisValue>(
        &mut self,
        doing: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<T, BackendError> {
        match self.send(doing, cmd)? {
            Reply::Done(v) => Ok(v),
            Reply::Ambiguous => Err(BackendError::Redis {
                doing,
                error: format!("timed out {} in a row", crate::words::plural(self.retries as u64 + 1, "time")),
            }),
        }
    }

    /// Sends `cmd`, sending it again after a timeout up to the plan's retries: its reply, or
    /// [`Reply::Ambiguous`] when the last send timed out too.
    pub(super) fn send<T: redis::FromRedisValue>(
        &mut self,
        doing: &'static str,
        cmd: &redis::Cmd,
    ) -> Result<Reply<T>, BackendError> {
        self.retrying(doing, |con| cmd.query::<T>(con))
    }

    /// Runs `attempt` until it answers, resending after a timeout while retries are left.
    fn retrying<T>(
        &mut self,
        doing: &'static str,
        mut attempt: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Result<Reply<T>, BackendError> {
        let mut left = self.retries;
        loop {
            match attempt(&mut self.con) {
                Ok(v) => return Ok(Reply::Done(v)),
                Err(e) if e.is_timeout() && left > 0 => {
                    left -= 1;
                    self.resent += 1;
                }
                Err(e) if e.is_timeout() => return Ok(Reply::Ambiguous),
                Err(e) => return Err(BackendError::Redis { doing, error: describe(&e) }),
            }
        }
    }

    /// Sends `count` commands packed into `bytes` (a pipeline), as [`Conn::send`]: every reply,
    /// or [`Reply::Ambiguous`] for all of them when the last send timed out too. A command the
    /// server answered with an error is an error.
    pub(super) fn packed(
        &mut self,
        doing: &'static str,
        bytes: &[u8],
        count: usize,
    ) -> Result<Reply<Vec<redis::Value>>, BackendError> {
        let replies = self.retrying(doing, |con| redis::ConnectionLike::req_packed_commands(con, bytes, 0, count))?;
        if let Reply::Done(values) = &replies
            && let Some(redis::Value::ServerError(e)) =
                values.iter().find(|v| matches!(v, redis::Value::ServerError(_)))
        {
            return Err(BackendError::Redis { doing, error: format!("{e:?}") });
        }
        Ok(replies)
    }

    /// Runs `script` on `keys` with `args`, as [`Conn::send`] (EVALSHA, loading it once).
    pub(super) fn script<T: redis::FromRedisValue>(
        &mut self,
        doing: &'static str,
        script: &redis::Script,
        keys: &[&str],
        args: &[&[u8]],
    ) -> Result<Reply<T>, BackendError> {
        self.retrying(doing, |con| {
            let mut invocation = script.prepare_invoke();
            for k in keys {
                invocation.key(*k);
            }
            for a in args {
                invocation.arg(*a);
            }
            invocation.invoke::<T>(con)
        })
    }
}

/// What became of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reply<T> {
    /// Its reply.
    Done(T),
    /// Every send timed out: it may or may not have been applied.
    Ambiguous,
}

/// The error as one line.
fn describe(e: &redis::RedisError) -> String {
    e.to_string().replace('\n', " ")
}
