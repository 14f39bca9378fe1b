//! Workers on several hosts, with the value in Redis: runner (the coordinator, `coordinate.rs`)
//! starts one `runner worker` per host through the host's command prefix (`ssh HOST`,
//! `ip netns exec NS`), and each (`host.rs`) forks its share of the workers through the same
//! worker code as a local run. They meet only in Redis, under the run's key prefix (a hash
//! tag): the run's description for each host, the start barrier (arrivals in a set, `SADD`; an
//! arrival that finds it full pushes one token per worker, each worker `BLPOP`s one), each host's heartbeat (a key
//! with a short expiry), the stop key every host polls, and each worker's result. Every key
//! carries an expiry, and the coordinator deletes them all at the end, on every path.
//!
//! Owns: those keys, the description and the result's encoding, and the two sides. Does not
//! own: the value's keys and scripts (see `sync::redis`), forking (see `fork.rs`) or judging
//! the value (see `outcome`).

pub(crate) mod clock;
pub(crate) mod coordinate;
pub(crate) mod heartbeat;
pub(crate) mod host;

use std::time::Duration;

use serde_json::{Value as Json, json};

/// How long any of these keys outlives a runner that could not delete it.
const EXPIRY_MS: u64 = 3_600_000;
/// The command of a host that another launcher starts.
const EXTERNAL: &str = "-";
/// A host's heartbeat lasts this long unless refreshed: long enough for a link down 2 s (TCP's
/// resends back off to 1.6 s between tries) or a run of lost packets to pass. Under 20% loss a
/// beat that missed 10 s happened (one run in about seven of `tests/redis_netfaults.rs`): one
/// connection's segment lost again and again waits out TCP's doubling timer. The beats come
/// from a process of the host's own (`heartbeat.rs`), so the host's slow commands do not delay
/// them. A host whose `command` process ends is lost at once; only a silent one waits this
/// long.
const BEAT_MS: u64 = 30_000;
/// How often a `runner worker` refreshes its heartbeat and polls the stop key; a stop reaches
/// every host's workers within this and one round trip.
const POLL: Duration = Duration::from_millis(100);
/// A command's time on these keys before it counts as failed: long enough for TCP's resends,
/// which back off (0.2, 0.4, 0.8, 1.6, 3.2, 6.4 s), to get one through under 20% packet loss
/// (5 s was once too short for a worker's arrival at the start barrier; 15 s once was too, and
/// the barrier's steps are now sent again on a new connection after a failure).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(15);

/// The names of the keys a run over several hosts adds under its prefix.
#[derive(Clone, Debug)]
pub(crate) struct RunKeys {
    prefix: String,
}

impl RunKeys {
    pub(crate) fn new(prefix: &str) -> RunKeys {
        RunKeys { prefix: prefix.to_string() }
    }

    fn key(&self, name: &str) -> String {
        format!("{}:hosts:{name}", self.prefix)
    }

    /// Host `h`'s description of the run.
    pub(crate) fn description(&self, h: usize) -> String {
        self.key(&format!("description:{h}"))
    }

    pub(crate) fn arrived(&self) -> String {
        self.key("arrived")
    }

    pub(crate) fn go(&self) -> String {
        self.key("go")
    }

    pub(crate) fn stop(&self) -> String {
        self.key("stop")
    }

    pub(crate) fn beat(&self, h: usize) -> String {
        self.key(&format!("beat:{h}"))
    }

    /// Host `h` is done: its results are written (or its error, as the value).
    pub(crate) fn done(&self, h: usize) -> String {
        self.key(&format!("done:{h}"))
    }

    /// Host `h`'s round trip and clock offset, measured before its workers' barrier and after
    /// they ended (see `clock.rs`).
    pub(crate) fn clock(&self, h: usize) -> String {
        self.key(&format!("clock:{h}"))
    }

    pub(crate) fn result(&self, index: u32) -> String {
        self.key(&format!("result:{index}"))
    }

    /// Every key of a run of `hosts` hosts and `workers` workers.
    pub(crate) fn all(&self, hosts: usize, workers: u32) -> Vec<String> {
        let mut keys = vec![self.arrived(), self.go(), self.stop()];
        for h in 0..hosts {
            keys.extend([self.description(h), self.beat(h), self.done(h), self.clock(h)]);
        }
        keys.extend((0..workers).map(|i| self.result(i)));
        keys
    }
}

/// What a host is told of the run: the job file's text and its sha256, runner's version, which
/// cell of the file, and its share of the workers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Description {
    pub(crate) version: String,
    pub(crate) sha256: String,
    pub(crate) label: String,
    pub(crate) text: String,
    /// The cell of the file's matrix (0 without one).
    pub(crate) cell: usize,
    pub(crate) host: String,
    pub(crate) first: u32,
    pub(crate) count: u32,
    /// What the host's own plan must agree on.
    pub(crate) workers: u32,
    pub(crate) iterations: u64,
}

impl Description {
    pub(crate) fn to_json(&self) -> String {
        json!({
            "version": self.version, "sha256": self.sha256, "label": self.label, "text": self.text,
            "cell": self.cell, "host": self.host, "first": self.first, "count": self.count,
            "workers": self.workers, "iterations": self.iterations,
        })
        .to_string()
    }

    pub(crate) fn from_json(text: &str) -> Option<Description> {
        let j: Json = serde_json::from_str(text).ok()?;
        let s = |k: &str| j.get(k).and_then(Json::as_str).map(str::to_string);
        let n = |k: &str| j.get(k).and_then(Json::as_u64);
        Some(Description {
            version: s("version")?,
            sha256: s("sha256")?,
            label: s("label")?,
            text: s("text")?,
            cell: n("cell")? as usize,
            host: s("host")?,
            first: u32::try_from(n("first")?).ok()?,
            count: u32::try_from(n("count")?).ok()?,
            workers: u32::try_from(n("workers")?).ok()?,
            iterations: n("iterations")?,
        })
    }
}

/// What one worker left: its count, retries, times on its host's clock, pid, how it ended, and
/// its peak memory and CPU usage from the `wait4` that reaped it (0 when it was not reaped).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Result {
    pub(crate) ops: u64,
    pub(crate) retries: u64,
    /// Commands resent after a timeout, and operations left ambiguous (Redis).
    pub(crate) resent: u64,
    pub(crate) ambiguous: u64,
    pub(crate) start_ns: u64,
    pub(crate) end_ns: u64,
    pub(crate) pid: i32,
    /// The exit code, or -1.
    pub(crate) code: i32,
    /// The signal's name, or `-`.
    pub(crate) signal: String,
    pub(crate) peak_kib: u64,
    pub(crate) cpu: crate::outcome::Cpu,
}

impl Result {
    pub(crate) fn encode(&self) -> String {
        let Result { ops, retries, resent, ambiguous, start_ns, end_ns, pid, code, signal, peak_kib, cpu } = self;
        let (user, system, voluntary, involuntary) =
            (cpu.user_us, cpu.system_us, cpu.voluntary_switches, cpu.involuntary_switches);
        format!(
            "{ops} {retries} {resent} {ambiguous} {start_ns} {end_ns} {pid} {code} {signal} {peak_kib} {user} {system} {voluntary} {involuntary}"
        )
    }

    pub(crate) fn decode(text: &str) -> Option<Result> {
        let w: Vec<&str> = text.split(' ').collect();
        let [
            ops,
            retries,
            resent,
            ambiguous,
            start_ns,
            end_ns,
            pid,
            code,
            signal,
            peak_kib,
            user,
            system,
            voluntary,
            involuntary,
        ] = w[..]
        else {
            return None;
        };
        let cpu = crate::outcome::Cpu {
            user_us: user.parse().ok()?,
            system_us: system.parse().ok()?,
            voluntary_switches: voluntary.parse().ok()?,
            involuntary_switches: involuntary.parse().ok()?,
        };
        Some(Result {
            peak_kib: peak_kib.parse().ok()?,
            cpu,
            ops: ops.parse().ok()?,
            retries: retries.parse().ok()?,
            resent: resent.parse().ok()?,
            ambiguous: ambiguous.parse().ok()?,
            start_ns: start_ns.parse().ok()?,
            end_ns: end_ns.parse().ok()?,
            pid: pid.parse().ok()?,
            code: code.parse().ok()?,
            signal: signal.to_string(),
        })
    }

    pub(crate) fn exit(&self) -> crate::outcome::Exit {
        match (self.code, self.signal.as_str()) {
            (_, s) if s != "-" => crate::outcome::Exit { code: None, signal: Some(s.to_string()) },
            (c, _) if c >= 0 => crate::outcome::Exit { code: Some(c), signal: None },
            _ => crate::outcome::Exit { code: None, signal: None },
        }
    }
}

/// A connection for these keys, with timeouts on connecting, reading and writing.
pub(crate) fn connect(url: &str) -> std::result::Result<redis::Connection, String> {
    let client = redis::Client::open(url).map_err(|e| format!("{url}: {e}"))?;
    let con = crate::sync::connect_patiently(&client, COMMAND_TIMEOUT)
        .map_err(|e| format!("cannot connect to {url}: {e} (is a server running there?)"))?;
    con.set_read_timeout(Some(COMMAND_TIMEOUT)).map_err(|e| e.to_string())?;
    con.set_write_timeout(Some(COMMAND_TIMEOUT)).map_err(|e| e.to_string())?;
    Ok(con)
}

/// A new connection for a beat or a poll, one try: a few polls at most to connect and for
/// each reply (a connection whose segments were lost again and again waits out TCP's doubling
/// resend timer; a new one starts afresh).
pub(crate) fn quick_connection(url: &str) -> Option<redis::Connection> {
    let con = redis::Client::open(url).and_then(|c| c.get_connection_with_timeout(POLL * 5)).ok()?;
    let _ = con.set_read_timeout(Some(POLL * 5));
    let _ = con.set_write_timeout(Some(POLL * 5));
    Some(con)
}

/// Sends `cmd`; the error as one line, saying what was being done.
pub(crate) fn call<T: redis::FromRedisValue>(
    con: &mut redis::Connection,
    doing: &str,
    cmd: &redis::Cmd,
) -> std::result::Result<T, String> {
    cmd.query(con).map_err(|e| format!("{doing}: {}", e.to_string().replace('\n', " ")))
}

/// `SET key value PX expiry`.
pub(crate) fn set(
    con: &mut redis::Connection,
    doing: &str,
    key: &str,
    value: &str,
    ms: u64,
) -> std::result::Result<(), String> {
    call(con, doing, redis::cmd("SET").arg(key).arg(value).arg("PX").arg(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_and_description_round_trip() {
        let cpu = crate::outcome::Cpu { user_us: 5, system_us: 6, voluntary_switches: 7, involuntary_switches: 8 };
        let r = Result {
            ops: 7,
            retries: 1,
            resent: 4,
            ambiguous: 5,
            start_ns: 2,
            end_ns: 3,
            pid: 40,
            code: 0,
            signal: "-".into(),
            peak_kib: 9,
            cpu,
        };
        assert_eq!(Result::decode(&r.encode()), Some(r));
        let d = Description {
            version: "0.1".into(),
            sha256: "ab".into(),
            label: "x.yaml".into(),
            text: "workers: 2\n".into(),
            cell: 0,
            host: "a".into(),
            first: 1,
            count: 1,
            workers: 2,
            iterations: 5,
        };
        assert_eq!(Description::from_json(&d.to_json()), Some(d));
    }
}
