//! The job file exactly as written: every field optional here (a broken file still yields what
//! it got right), each with the position it was written at. The JSON Schema is derived from
//! these types, so the doc comments below are what editors show.

use crate::value::named_enum;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

use super::limits::{EXIT_CODES, MAX_BATCH, MAX_REPEAT, MAX_WARMUP, MAX_WORKERS};
use super::schema::{Duration, MatrixSchema, Timeout};
use crate::error::Pos;
use crate::names::{BackendKind, EngineKind, Schedule, Start, Transport};
use crate::value::{OpKind, ValueType};

/// A value and where it was written.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct At<T> {
    pub value: T,
    #[serde(skip)]
    pub pos: Pos,
}

impl<T: JsonSchema> JsonSchema for At<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// A literal as written: its meaning depends on `value.type`, so the planner reads it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Literal {
    Int(i128),
    Float(f64),
    Str(String),
}

/// A runner job: how many worker processes share one value, what each applies to it, and which
/// synchronisation backend keeps it consistent.
#[derive(Clone, Debug, Default, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "runner job")]
pub struct JobSpec {
    /// The job's name; defaults to the file's stem.
    #[serde(default)]
    #[schemars(with = "String")]
    pub name: Option<At<String>>,
    /// What the job shows or which question it answers.
    #[serde(default)]
    #[schemars(with = "String")]
    pub description: Option<At<String>>,
    /// How many worker processes to fork (1..=1024); required, unless the matrix gives it.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1, max = MAX_WORKERS))]
    pub workers: Option<At<i128>>,
    /// Operations per worker (default 1); workers x iterations must fit in 64 bits.
    #[serde(default)]
    #[schemars(with = "u64", range(min = 1, max = u64::MAX))]
    pub iterations: Option<At<i128>>,
    /// The shared value; required, unless the matrix gives `value.type`.
    #[serde(default)]
    #[schemars(with = "ValueSpec")]
    pub value: Option<At<ValueSpec>>,
    /// The operation every worker applies; required, unless the matrix gives it.
    #[serde(default)]
    #[schemars(with = "OpKind")]
    pub operation: Option<At<OpKind>>,
    /// The operand; optional for add and sub (default 1), required for the others. A list gives
    /// one operand per worker (as many as `workers`), so that order can matter.
    #[serde(default)]
    #[schemars(with = "Operand")]
    pub operand: Option<At<Operand>>,
    /// The mechanism that keeps the value consistent; required, unless the matrix gives it.
    #[serde(default)]
    #[schemars(with = "BackendKind")]
    pub backend: Option<At<BackendKind>>,
    /// Channel only: operations per message (1..=65536, default 1); a last partial batch is sent.
    /// The pipe transport sends a batch over 4096 bytes as several messages.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1, max = MAX_BATCH))]
    pub batch: Option<At<i128>>,
    /// Channel only: how messages travel to the owner: `pipe` (default, the fastest; a plain
    /// pipe, each message one atomic write of at most 4096 bytes) or `ipc` (ipc-channel over a
    /// Unix socket).
    #[serde(default)]
    #[schemars(with = "Transport")]
    pub transport: Option<At<Transport>>,
    /// The final value the job states it ends with; checked against the planner's value.
    #[serde(default)]
    #[schemars(with = "Literal")]
    pub expect: Option<At<Literal>>,
    /// In which order the workers' operations happen: `concurrent` (default: all at once),
    /// `sequential` (worker 0 does all its operations, then worker 1, ...) or `round-robin`
    /// (one operation per worker in turn). The last two make order-dependent results exact.
    #[serde(default)]
    #[schemars(with = "Schedule")]
    pub schedule: Option<At<Schedule>>,
    /// When each worker starts: `together` (default: every worker waits at a barrier until all
    /// are forked, then they start at once and really contend; a finished worker waits until all
    /// are done before it exits) or `forked` (each worker starts as soon as it is forked and exits
    /// when it is done, as Python's `Process.start()` does; the window then runs from the first
    /// worker's start).
    #[serde(default)]
    #[schemars(with = "Start")]
    pub start: Option<At<Start>>,
    /// Busy work of a calibrated length around each operation.
    #[serde(default)]
    #[schemars(with = "WorkSpec")]
    pub work: Option<At<WorkSpec>>,
    /// Pin workers to CPUs: `true` (worker k on the k-th allowed CPU, cycling) or a list of CPU
    /// numbers (worker k on the (k mod n)-th).
    #[serde(default)]
    #[schemars(with = "Pin")]
    pub pin: Option<At<Pin>>,
    /// How long a run may take from the start barrier: seconds (a positive number), or a
    /// duration with a unit: ns, us, µs, ms, s, m or h (`500ms`, `30s`, `2m`, `1h`); more than
    /// 0, at most a week (168h). Then the workers get SIGTERM, and SIGKILL after a grace.
    /// Default: 30 s plus 10 µs per operation plus twice the busy work, at most a week.
    #[serde(default)]
    #[schemars(with = "Timeout")]
    pub timeout: Option<At<u64>>,
    /// Faults to inject, one entry per worker at most: an experiment in how runner copes.
    #[serde(default)]
    #[schemars(with = "Vec<FaultSpec>")]
    pub faults: Option<At<Vec<At<FaultSpec>>>>,
    /// Make the K-th fork (1-based) fail, as if the system refused it.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1, max = MAX_WORKERS))]
    pub fork_fail_at: Option<At<i128>>,
    /// The outcome a job with faults means to show; runner passes the job when it happens.
    #[serde(default)]
    #[schemars(with = "ExpectOutcome")]
    pub expect_outcome: Option<At<ExpectOutcome>>,
    /// Runs of the job (or of every matrix cell) that count (1..=1000); default 10 with a
    /// matrix (enough for each comparison's interval), 1 without.
    #[serde(default)]
    #[schemars(with = "u32", range(min = 1, max = MAX_REPEAT))]
    pub repeat: Option<At<i128>>,
    /// Runs before those, not counted (0..=100, default 0).
    #[serde(default)]
    #[schemars(with = "u32", range(min = 0, max = MAX_WARMUP))]
    pub warmup: Option<At<i128>>,
    /// Run the job once per combination of these fields' values (a cross product), like
    /// GitHub Actions' matrix; keys are the job's field paths (`value.type`).
    #[serde(default)]
    #[schemars(with = "MatrixSchema")]
    pub matrix: Option<At<()>>,
    /// Where the value lives: `local` (default: this machine's shared memory) or `redis`
    /// (`RUNNER_REDIS`, default `redis://127.0.0.1:6379`), or a mapping with `redis: URL` and
    /// the engine's settings.
    #[serde(default)]
    #[schemars(with = "EngineSchema")]
    pub engine: Option<At<EngineSpec>>,
    /// `engine: redis` only: the hosts the workers run on, split across them as evenly as
    /// possible, in order; each entry names a host and the command prefix that starts a
    /// process there (`ssh HOST`, `ip netns exec NS`; `""` for this machine; `-` for another
    /// launcher).
    #[serde(default)]
    #[schemars(with = "Vec<HostSpec>")]
    pub hosts: Option<At<Vec<At<HostSpec>>>>,
    /// Write a Chrome trace of the run (`--trace` and `--trace-ops` win over this).
    #[serde(default)]
    #[schemars(with = "TraceSpec")]
    pub trace: Option<At<TraceSpec>>,
    /// Where the job's mapping starts (for fields that are missing).
    #[serde(skip)]
    #[schemars(skip)]
    pub pos: Pos,
}

/// The shared value: its type and where it starts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueSpec {
    /// `i` (C int), `d` (C double) or `c` (one byte), as in Python's `multiprocessing.Value`;
    /// required, unless the matrix gives it.
    #[serde(rename = "type", default)]
    #[schemars(with = "ValueType")]
    pub ty: Option<At<ValueType>>,
    /// The starting value (default 0).
    #[serde(default)]
    #[schemars(with = "Literal")]
    pub initial: Option<At<Literal>>,
    #[serde(skip)]
    #[schemars(skip)]
    pub pos: Pos,
}

// `default` on a field only tells the schema which fields may be left out (those not marked
// `required`); the spec is read by `read.rs`, never deserialised.

/// Where and how much to trace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    /// The trace file (Chrome trace-event JSON, for Perfetto or chrome://tracing), relative to
    /// the working directory.
    #[schemars(required, with = "String")]
    pub file: Option<At<String>>,
    /// Per-operation events (default false), sampled evenly beyond a fixed total.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub ops: Option<At<bool>>,
    #[serde(skip)]
    #[schemars(skip)]
    pub pos: Pos,
}

/// An operand: one for every worker, or one per worker.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Operand {
    One(Literal),
    PerWorker(Vec<At<Literal>>),
}

/// Busy work: a duration with a unit (`200ns`, `1us`, `1.5ms`), or 0.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkSpec {
    /// Inside the critical section (mutex: while holding the lock; atomic and channel: around
    /// the operation).
    #[serde(default)]
    #[schemars(with = "Duration")]
    pub inside: Option<At<u64>>,
    /// Between one operation and the next.
    #[serde(default)]
    #[schemars(with = "Duration")]
    pub outside: Option<At<u64>>,
    #[serde(skip)]
    #[schemars(skip)]
    pub pos: Pos,
}

/// One injected fault.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// The worker's index (0-based, below `workers`).
    #[schemars(required, with = "u32", range(max = MAX_WORKERS - 1))]
    pub worker: Option<At<i128>>,
    /// After how many of its completed operations (0..=iterations).
    #[schemars(required, with = "u64")]
    pub at: Option<At<i128>>,
    /// kill (SIGKILL to itself), panic, exit (with `code`), stall (for `for`).
    #[schemars(required, with = "FaultAction")]
    pub action: Option<At<FaultAction>>,
    /// mutex only: act while holding the lock, in the middle of an update.
    #[serde(default)]
    #[schemars(with = "bool")]
    pub inside_lock: Option<At<bool>>,
    /// exit only: the exit code (1..=255, default 1).
    #[serde(default)]
    #[schemars(with = "u8", range(min = *EXIT_CODES.start(), max = *EXIT_CODES.end()))]
    pub code: Option<At<i128>>,
    /// stall only: how long the worker stalls: seconds, or a number with ns, us, µs, ms, s, m
    /// or h; more than 0, at most a week; default 1s.
    #[serde(default, rename = "for")]
    #[schemars(with = "Timeout")]
    pub stall: Option<At<u64>>,
    #[serde(skip)]
    #[schemars(skip)]
    pub pos: Pos,
}

named_enum! {
    /// What an injected fault does.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum FaultAction {
        Kill => "kill",
        Panic => "panic",
        Exit => "exit",
        Stall => "stall",
    }
}

named_enum! {
    /// The outcome a job with faults expects.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum ExpectOutcome {
        /// A lock holder died; the next locker recovered the lock and the value; the rest finished.
        Recovered => "recovered",
        /// The deadline stopped the run.
        Deadline => "deadline",
        /// A worker failed (killed, panicked, exited non-zero); the others finished.
        WorkerFailed => "worker_failed",
        /// A fork failed; the workers already forked were stopped.
        ForkFailed => "fork_failed",
    }
}

/// The fields of a fault.
pub const FAULT_FIELDS: [&str; 6] = ["worker", "at", "action", "inside_lock", "code", "for"];

/// Which CPUs the workers run on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Pin {
    All(bool),
    Cpus(Vec<At<i128>>),
}

/// Where the value lives, as the job gives it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EngineSpec {
    pub kind: EngineKind,
    /// The server's address (`redis: URL`).
    pub url: Option<At<String>>,
    pub key: Option<At<String>>,
    pub timeout: Option<At<u64>>,
    pub retries: Option<At<i128>>,
    pub exactly_once: Option<At<bool>>,
    pub fencing: Option<At<bool>>,
    pub lease: Option<At<u64>>,
    pub pipeline: Option<At<i128>>,
}

/// `engine`: a name, or a mapping with `redis`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum EngineSchema {
    Named(EngineKind),
    Redis(RedisSchema),
}

/// The Redis engine and its settings.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct RedisSchema {
    /// The server: `redis://HOST:PORT/DB` (or `rediss://`, `unix:///path`); null for
    /// `RUNNER_REDIS`, default `redis://127.0.0.1:6379`.
    #[schemars(required)]
    redis: Option<String>,
    /// The prefix of the run's keys, a Redis Cluster hash tag such as `{runner}` (default: one
    /// made for each run, `{runner:PID:N:NS}`).
    #[serde(default)]
    key: Option<String>,
    /// How long one command may take before it counts as timed out: a duration (`100ms`,
    /// `2s`), default 5s.
    #[serde(default)]
    #[schemars(with = "Timeout")]
    timeout: Option<u64>,
    /// How many times a timed-out command is sent again (0..=100, default 0: a timed-out
    /// operation is ambiguous).
    #[serde(default)]
    #[schemars(range(min = 0, max = 100))]
    retries: Option<u32>,
    /// Every operation carries its worker's sequence number, checked by the server, so that a
    /// resent one applies once (default true).
    #[serde(default)]
    exactly_once: Option<bool>,
    /// mutex: every write carries the lock's fencing token and a stale one is refused (default
    /// true; false shows the updates a paused holder loses).
    #[serde(default)]
    fencing: Option<bool>,
    /// mutex: the lock's lifetime, after which another worker may take it (default 10s).
    #[serde(default)]
    #[schemars(with = "Timeout")]
    lease: Option<u64>,
    /// atomic: operations a worker sends before it reads their replies; mutex: operations a
    /// worker applies in one hold of the lock (1..=65536, default 1: one round trip an
    /// operation, or one lock round).
    #[serde(default)]
    #[schemars(range(min = 1, max = 65536))]
    pipeline: Option<u32>,
}

/// One entry of `hosts`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    /// The host's name in reports.
    #[schemars(with = "String")]
    pub name: Option<At<String>>,
    /// The command prefix that starts a process on the host: `ssh HOST`, `ip netns exec NS`,
    /// or `""` for this machine; runner appends its own path and `worker ...`. `-`: another
    /// launcher (a Slurm or Kubernetes job) starts it, with the command runner prints.
    #[schemars(with = "String")]
    pub command: Option<At<String>>,
}

/// The fields of a `hosts` entry.
pub const HOST_FIELDS: [&str; 2] = ["name", "command"];

/// The fields of `engine` as a mapping.
pub const ENGINE_FIELDS: [&str; 8] =
    ["redis", "key", "timeout", "retries", "exactly_once", "fencing", "lease", "pipeline"];

/// The fields of `work`.
pub const WORK_FIELDS: [&str; 2] = ["inside", "outside"];

/// The fields of `trace`.
pub const TRACE_FIELDS: [&str; 2] = ["file", "ops"];

/// The fields of a job, in the order the reader reports them.
pub const JOB_FIELDS: [&str; 25] = [
    "name",
    "description",
    "workers",
    "iterations",
    "value",
    "operation",
    "operand",
    "backend",
    "batch",
    "transport",
    "expect",
    "schedule",
    "start",
    "work",
    "pin",
    "timeout",
    "faults",
    "fork_fail_at",
    "expect_outcome",
    "repeat",
    "warmup",
    "matrix",
    "engine",
    "hosts",
    "trace",
];
/// The fields of `value`.
pub const VALUE_FIELDS: [&str; 2] = ["type", "initial"];

#[cfg(test)]
mod tests {
    use super::*;

    /// Each `name()` is the serde name a job file writes.
    #[test]
    fn names_are_the_serde_names() {
        for v in FaultAction::ALL {
            assert_eq!(serde_json::to_value(v).expect("serialises"), v.name());
        }
        for v in ExpectOutcome::ALL {
            assert_eq!(serde_json::to_value(v).expect("serialises"), v.name());
        }
    }
}
