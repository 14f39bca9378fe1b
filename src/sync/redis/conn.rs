//! A worker's or runner's connection to the server: opened with the plan's timeout on reading
//! and writing (connecting gets at least [`CONNECT_AT_LEAST`], trying again after a timeout),
//! and one way to send a command with the retry policy.
//!
//! A command that timed out (or whose wait a SIGSTOP and SIGCONT cut short) may or may not have
//! been applied: it is sent again while retries are left ([`Conn::resent`] counts them), and
//! once none are left its fate is unknown: [`Reply::Ambiguous`], not an error. The connection stays usable: the client skips the late
//! reply of every command it gave up on (each request gets exactly one reply), so the next
//! command reads its own.

use std::time::{Duration, Instant};

use super::wait::Waiter;
use crate::plan::RedisPlan;
use crate::sync::BackendError;

/// The least time a connection gets to be made (TCP's handshake and the client's set-up
/// commands), whatever the job's per-command timeout: making one applies nothing, so waiting
/// longer costs no certainty, and TCP sends a lost SYN again only after a second.
const CONNECT_AT_LEAST: Duration = Duration::from_secs(10);

/// One try at connecting, at most: a new try starts TCP's handshake again at once, where the
/// kernel's own retransmissions of a lost SYN wait 1 s, then 2 s, then 4 s.
const CONNECT_TRY: Duration = Duration::from_millis(1_500);

/// Connects to `client`'s server, trying again after a timeout (or a stop and a continue,
/// which end a connecting socket's wait with EINTR) until `patience` has passed
/// (under 20% packet loss each way, about one SYN or SYN-ACK in three is lost). Bounded: every try
/// lasts at most [`CONNECT_TRY`], and none starts after `patience`.
pub(crate) fn connect_patiently(client: &redis::Client, patience: Duration) -> redis::RedisResult<redis::Connection> {
    let started = std::time::Instant::now();
    loop {
        let left = patience.saturating_sub(started.elapsed());
        match client.get_connection_with_timeout(left.clamp(Duration::from_millis(1), CONNECT_TRY)) {
            Err(e) if (e.is_timeout() || interrupted(&e)) && started.elapsed() < patience => continue,
            other => return other,
        }
    }
}

/// A connection, with the commands it resent after a timeout.
pub(super) struct Conn {
    con: redis::Connection,
    /// How it waits for each reply (polling, then reading).
    waiter: Waiter,
    retries: u32,
    /// Commands sent again after a timeout.
    pub(super) resent: u64,
}

impl Conn {
    pub(super) fn open(plan: &RedisPlan) -> Result<Conn, BackendError> {
        let failed = |doing| move |e: redis::RedisError| BackendError::Redis { doing, error: describe(&e) };
        let client = redis::Client::open(plan.url.as_str()).map_err(failed("reading the server's address"))?;
        let timeout = Duration::from_nanos(plan.timeout_ns.max(1_000));
        let socket = Waiter::guess();
        let con = connect_patiently(&client, timeout.max(CONNECT_AT_LEAST)).map_err(|e| BackendError::Redis {
            doing: "connecting",
            error: format!(
                "{} at {} (is a server running there? start one with `redis-server --port 6379`, or name yours in RUNNER_REDIS)",
                describe(&e),
                plan.url
            ),
        })?;
        con.set_read_timeout(Some(timeout)).map_err(failed("setting the read timeout"))?;
        con.set_write_timeout(Some(timeout)).map_err(failed("setting the write timeout"))?;
        let waiter = Waiter::found(socket, client.get_connection_info().addr(), timeout);
        Ok(Conn { con, waiter, retries: plan.retries, resent: 0 })
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
        mut attempt: impl FnMut(&mut dyn redis::ConnectionLike) -> redis::RedisResult<T>,
    ) -> Result<Reply<T>, BackendError> {
        let mut left = self.retries;
        loop {
            match attempt(&mut Waiting { con: &mut self.con, waiter: &mut self.waiter }) {
                Ok(v) => return Ok(Reply::Done(v)),
                Err(e) if reply_lost(&e) && left > 0 => {
                    left -= 1;
                    self.resent += 1;
                }
                Err(e) if reply_lost(&e) => return Ok(Reply::Ambiguous),
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
        let replies = self.retrying(doing, |con| con.req_packed_commands(bytes, 0, count))?;
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

/// The connection as the crate's commands see it: each request sent, then its replies awaited
/// through the waiter before they are read. The reads are the crate's own, so a reply that
/// timed out is skipped when it comes late, as in the crate's `req_packed_command(s)`. Not
/// carried over from those: leaving pub/sub mode first (runner never subscribes).
struct Waiting<'a> {
    con: &'a mut redis::Connection,
    waiter: &'a mut Waiter,
}

impl Waiting<'_> {
    /// The next reply that is not a push message (RESP3 may put one between replies).
    fn reply(&mut self) -> redis::RedisResult<redis::Value> {
        loop {
            match self.con.recv_response() {
                Ok(redis::Value::Push { .. }) => continue,
                other => return other,
            }
        }
    }
}

impl redis::ConnectionLike for Waiting<'_> {
    /// A command that gets no reply is the crate's own (runner sends none).
    fn req_command(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<redis::Value> {
        if cmd.is_no_response() {
            return self.con.req_command(cmd);
        }
        self.req_packed_command(&cmd.get_packed_command())
    }

    /// One command: the pipeline of one below.
    fn req_packed_command(&mut self, cmd: &[u8]) -> redis::RedisResult<redis::Value> {
        Ok(self.req_packed_commands(cmd, 0, 1)?.pop().unwrap_or(redis::Value::Nil))
    }

    /// As the crate's: `count` replies, each an error reply kept as a value, and the first
    /// failed read the error; a transaction (`offset` above 0, which runner never sends) is the
    /// crate's own.
    fn req_packed_commands(
        &mut self,
        cmd: &[u8],
        offset: usize,
        count: usize,
    ) -> redis::RedisResult<Vec<redis::Value>> {
        if offset > 0 {
            return self.con.req_packed_commands(cmd, offset, count);
        }
        let sent = Instant::now();
        self.con.send_packed_command(cmd)?;
        self.waiter.wait();
        let mut replies = Vec::with_capacity(count);
        let mut failed = None;
        for _ in 0..count {
            match self.reply() {
                Ok(v) => replies.push(v),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        self.waiter.replied(sent);
        failed.map_or(Ok(replies), Err)
    }

    fn get_db(&self) -> i64 {
        self.con.get_db()
    }

    fn check_connection(&mut self) -> bool {
        self.con.check_connection()
    }

    fn is_open(&self) -> bool {
        self.con.is_open()
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

/// The command's reply will not be read: its read timed out, or was cut short by a stop and a
/// continue (SIGSTOP, then SIGCONT: the kernel ends a socket read that has a timeout with EINTR,
/// whatever the signal handlers). Either way the client skips the late reply and the connection
/// stays usable; whether the command was applied is unknown.
fn reply_lost(e: &redis::RedisError) -> bool {
    e.is_timeout() || interrupted(e)
}

/// A socket call cut short by a stop and a continue (EINTR).
fn interrupted(e: &redis::RedisError) -> bool {
    e.is_io_error() && e.to_string().contains(&std::io::Error::from_raw_os_error(libc::EINTR).to_string())
}

/// The error as one line.
fn describe(e: &redis::RedisError) -> String {
    e.to_string().replace('\n', " ")
}
