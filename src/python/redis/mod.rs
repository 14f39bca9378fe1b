//! The Python program of a job whose value lives in Redis (`engine: redis`), with redis-py
//! (Debian's python3-redis): the same server (the job's URL, else `RUNNER_REDIS`, else the
//! default, read when the program runs), the value as runner stores it (its little-endian
//! bytes), and per backend runner's own way: atomic with runner's Lua script (its text, bit for
//! bit) or, where runner takes it, `INCRBY` on a count added at the end; mutex with runner's
//! lock scripts (a lease and a fencing token); none with `GET` then `SET`; channel with a Redis
//! stream, one entry per batch, that the parent reads and applies in order. The program deletes
//! its keys at the end.
//!
//! Owns: that program's text (`body.rs` the worker and `__main__`) and what of a Redis job it
//! refuses ([`refused`]). Does not own: the arithmetic and helpers it shares with the local
//! program (`prelude.rs`), the scripts' text (`sync::redis_python`), or what is not carried
//! (`carried.rs`).

mod body;

use super::backend::Rendering;
use super::{Py, comment, literal, string};
use crate::names::{BackendKind, Schedule};
use crate::plan::{Plan, RedisPlan};
use crate::sync::redis_python as runner_redis;
use crate::value::ValueType;

/// Why a Redis job has no faithful program, when it has none.
pub(crate) fn refused(r: &RedisPlan) -> Option<String> {
    (r.retries > 0).then(|| {
        format!(
            "engine.retries: {}: runner resends a command that timed out (sequence numbers and tokens make a resend apply once), and redis-py's program would not do the same; not exported (set engine.retries: 0 to export the job)",
            r.retries
        )
    })
}

/// The Python 3 program of `plan`, whose value lives in Redis as `r` says.
pub(super) fn program(plan: &Plan, r: &RedisPlan) -> Result<String, String> {
    if let Some(why) = refused(r) {
        return Err(format!("export-python cannot render this Redis job: {why}"));
    }
    let kind = plan.backend.kind();
    let backend = Rendering {
        queue: kind == BackendKind::Channel,
        locked: kind == BackendKind::Mutex,
        words: "",
        value_line: "",
        how: "",
        work_inside: "",
        verdict_note: if kind == BackendKind::None {
            " Without the lock a different value means lost updates."
        } else {
            ""
        },
    };
    let py = Py { plan, ty: plan.value_type(), backend };
    let redis = Redis { py, r, kind, fast: fast(plan, r) };
    let top = [redis.header(), redis.imports(), redis.py.constants(), redis.constants()].join("\n\n");
    let mut defs = redis.py.arithmetic();
    defs.push(redis.storage());
    defs.extend(redis.py.helpers());
    defs.push(redis.worker());
    defs.push(redis.main());
    Ok(format!("{top}\n\n\n{}\n", defs.join("\n\n\n")))
}

/// atomic's INCRBY path, when runner takes it: unpaced, and `add` or `sub` on `i` or `c`
/// without sequence numbers within 64 bits (`sync::redis_python::increment`).
fn fast(plan: &Plan, r: &RedisPlan) -> bool {
    let paced = !plan.work.is_none() || plan.schedule != Schedule::Concurrent;
    plan.backend.kind() == BackendKind::Atomic
        && !paced
        && runner_redis::increment(r, plan.operation.operand, plan.operation.kind, plan.total_ops()).is_some()
}

struct Redis<'a> {
    py: Py<'a>,
    r: &'a RedisPlan,
    kind: BackendKind,
    /// atomic by INCRBY on a count (else by runner's script).
    fast: bool,
}

impl Redis<'_> {
    /// Operations per pipeline: atomic's, unpaced, as runner sends them; else 1.
    fn pipeline(&self) -> u32 {
        let paced = !self.py.plan.work.is_none() || self.py.ordered();
        if self.kind == BackendKind::Atomic && !paced { self.r.pipeline.max(1) } else { 1 }
    }

    fn backend_words(&self) -> String {
        let r = self.r;
        let depth = match self.pipeline() {
            1 => String::new(),
            n => format!(", {n} operations sent per pipeline before their replies are read"),
        };
        match self.kind {
            BackendKind::Atomic if self.fast => format!(
                "with INCRBY on a 64-bit count (runner's own path for add and sub on i and c), which the parent adds to the value at the end, wrapping as the type does{depth}"
            ),
            BackendKind::Atomic => format!(
                "atomically, with runner's own Lua script on the value's bytes (EVALSHA){}{depth}",
                if r.exactly_once { ", each with the worker's sequence number (exactly once)" } else { "" }
            ),
            BackendKind::Mutex => format!(
                "under a Redis lock with a lease of {} ms that hands out a fencing token (runner's ACQUIRE and WRITE_RELEASE scripts); {}",
                (r.lease_ns / 1_000_000).max(1),
                if r.fencing {
                    "a write whose token is no longer the lock's is refused and done again under a new token"
                } else {
                    "fencing is off: a write is not checked against the lock's token"
                }
            ),
            BackendKind::None => "with GET, then SET, and no lock, so concurrent updates can be lost".to_string(),
            BackendKind::Channel => format!(
                "without touching the value: each worker adds its operations to a Redis stream, {} to an entry (XADD), and the parent reads the stream and applies them in its order",
                self.py.plan.backend.batch()
            ),
        }
    }

    fn header(&self) -> String {
        let p = self.py.plan;
        let mut parts = vec![
            "#!/usr/bin/env python3".to_string(),
            comment(&format!(
                "{}: the Python equivalent of runner's job {}, written by `runner export-python`, with redis-py (Debian's python3-redis).",
                p.name, p.file
            )),
        ];
        if let Some(d) = &p.description {
            parts.push("#".to_string());
            parts.push(comment(d));
        }
        let server = match self.r.url_from {
            "job" => format!("the job's server {}", self.r.url),
            _ => "the server RUNNER_REDIS names, else redis://127.0.0.1:6379 (as runner)".to_string(),
        };
        let times = if p.iterations == 1 { "once".to_string() } else { format!("{} times", p.iterations) };
        let mut what = format!(
            "{} worker processes share one {} kept in Redis, at {server}, as its little-endian bytes (as runner stores it), starting at {}. Each applies {} {times}, {}.",
            p.workers,
            self.py.type_words(),
            p.initial,
            self.py.operation_words(),
            self.backend_words(),
        );
        what.push_str(match (p.schedule, self.py.together()) {
            (Schedule::Concurrent, true) => " The workers start together at a barrier and run at once.",
            (Schedule::Concurrent, false) => " Each worker starts as soon as it is forked (start: forked).",
            (Schedule::Sequential, _) => {
                " The workers run one after another: worker k waits for worker k-1 (schedule: sequential)."
            }
            (Schedule::RoundRobin, _) => {
                " The workers take turns, one operation (channel: one entry) each (schedule: round-robin)."
            }
        });
        if !p.work.is_none() {
            what.push_str(&format!(
                " Busy work: {} ns inside each operation, {} ns after it.",
                p.work.inside_ns, p.work.outside_ns
            ));
        }
        if p.pin.is_some() {
            what.push_str(" Each worker runs on its own CPU (pin).");
        }
        parts.push("#".to_string());
        parts.push(comment(&what));
        self.py.verdict_and_missing(
            &mut parts,
            "The fork start method, as runner forks its workers; each worker connects after its fork. The run's keys share one prefix and are deleted at the end, as runner deletes its own. The last line printed is `RESULT {json}` (final, work_seconds, ops, ops_per_second): what `runner compare-python` reads.",
        );
        parts.join("\n")
    }

    fn imports(&self) -> String {
        let mut modules = vec!["json", "multiprocessing", "os", "struct", "sys", "time"];
        if self.py.ty == ValueType::D {
            modules.push("math");
        }
        modules.sort();
        let mut names = vec!["Array", "Process"];
        if self.py.together() {
            names.push("Barrier");
        }
        if self.py.ordered() {
            names.extend(["Condition", "Value"]);
        }
        names.sort();
        let mut text: Vec<String> = modules.iter().map(|m| format!("import {m}")).collect();
        text.push(format!("from multiprocessing import {}", names.join(", ")));
        text.push(String::new());
        text.push("import redis  # redis-py: Debian's python3-redis".to_string());
        text.join("\n")
    }

    /// The server, the keys, the byte format and the backend's settings and scripts.
    fn constants(&self) -> String {
        let (p, r) = (self.py.plan, self.r);
        let mut lines = vec![format!("INITIAL = {}", literal(p.initial))];
        lines.push(match r.url_from {
            "job" => format!("URL = {}  # the job's engine.url", string(&r.url)),
            _ => format!(
                "URL = os.environ.get(\"RUNNER_REDIS\") or {}  # as runner: RUNNER_REDIS, else the default",
                string(crate::plan::engine::DEFAULT_REDIS_URL)
            ),
        });
        lines.push(format!(
            "TIMEOUT_S = {}  # a command's time before it fails (engine.timeout)",
            r.timeout_ns as f64 / 1e9
        ));
        lines.push(match &r.key {
            Some(k) => format!("PREFIX = {}  # the job's engine.key", string(k)),
            None => "PREFIX = f\"{{runner-python:{os.getpid()}:{time.time_ns() % 10**9}}}\"  # one Redis Cluster hash tag per run".to_string(),
        });
        lines.push(
            "VALUE, SEQS, LOCK, FENCE, FENCED, REFUSED, COUNT, STREAM = KEYS = [\n    PREFIX + \":\" + name for name in (\"value\", \"seqs\", \"lock\", \"fence\", \"fenced\", \"refused\", \"count\", \"stream\")\n]  # runner's key names"
                .to_string(),
        );
        lines.push(format!(
            "EXPIRY_MS = {}  # the keys outlive a program that could not delete them",
            runner_redis::EXPIRY_MS
        ));
        let (format, words) = match self.py.ty {
            ValueType::I => ("<i", "a little-endian 32-bit int"),
            ValueType::D => ("<d", "a little-endian IEEE double"),
            ValueType::C => ("<B", "one unsigned byte"),
        };
        lines.push(format!("FORMAT = \"{format}\"  # the value's bytes in Redis: {words}"));
        if self.pipeline() > 1 {
            lines.push(format!("PIPELINE = {}  # operations per pipeline (engine.pipeline)", self.pipeline()));
        }
        match self.kind {
            BackendKind::Atomic if !self.fast => {
                let script = runner_redis::atomic_script(self.py.ty, p.operation.kind, r.exactly_once);
                lines.push(format!(
                    "# runner's own script of the type and operation, bit for bit.\nSCRIPT = r\"\"\"{script}\"\"\""
                ));
            }
            BackendKind::Mutex => {
                lines.push(format!(
                    "LEASE_MS = {}  # the lock's lifetime (engine.lease)",
                    (r.lease_ns / 1_000_000).max(1)
                ));
                lines.push(format!("FENCING = \"{}\"  # engine.fencing", if r.fencing { 1 } else { 0 }));
                lines.push(format!(
                    "# runner's own lock scripts, bit for bit.\nACQUIRE = r\"\"\"{}\"\"\"\nWRITE_RELEASE = r\"\"\"{}\"\"\"",
                    runner_redis::ACQUIRE,
                    runner_redis::WRITE_RELEASE
                ));
            }
            _ => {}
        }
        lines.join("\n")
    }

    /// The value's bytes and the connection.
    fn storage(&self) -> String {
        "def encode(x):\n    \"\"\"The value's bytes, as runner stores them.\"\"\"\n    return struct.pack(FORMAT, x)\n\n\ndef decode(b):\n    \"\"\"The value the bytes hold.\"\"\"\n    return struct.unpack(FORMAT, b)[0]\n\n\ndef connect():\n    \"\"\"A connection of this process's own (each worker makes one after its fork).\"\"\"\n    return redis.Redis.from_url(URL, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)"
            .to_string()
    }
}
