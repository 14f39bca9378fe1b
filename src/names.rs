//! The names that spec, plan, sync and the reports share: the backends ([`BackendKind`]), the
//! channel's transports ([`Transport`]), the schedules ([`Schedule`]) and the starts
//! ([`Start`]), with what the planner must know of a transport without setting one up (how
//! many messages a worker sends, the size of a pipe message).
//!
//! Each enum's names are written once, in a `named_enum!` list (its `ALL` and `name()` come
//! from it; a test holds them to the serde names).
//!
//! Owns: names, descriptions and the pipe's message sizes ([`wire`]). Does not own: any
//! mechanism (see `sync`), nor what a job chooses (see `plan`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::value::{ValueType, named_enum};

named_enum! {
    /// The mechanism that keeps the value consistent.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum BackendKind {
        /// A process-shared futex lock in shared memory around each read-modify-write; a lock whose
        /// holder died is taken over by the next locker.
        Mutex => "mutex",
        /// A lock-free atomic read-modify-write on the value in shared memory.
        Atomic => "atomic",
        /// Workers send their operations to the parent, which applies them (over a pipe, or
        /// ipc-channel: see `transport`).
        Channel => "channel",
        /// No synchronisation: a load, then a store. Shows lost updates.
        None => "none",
    }
}

impl BackendKind {
    /// What the backend sets up, for `runner plan`.
    pub fn describe(self) -> &'static str {
        match self {
            BackendKind::Mutex => {
                "the value and a process-shared futex lock in a shared memfd mapping; each operation locks, reads, writes, unlocks; once runner has reaped a holder that died (waitpid, no pid or /proc looked at), it marks the lock and the next locker takes it over"
            }
            BackendKind::Atomic => {
                "the value as a lock-free atomic in a shared memfd mapping; each operation is one atomic read-modify-write (compare-exchange loop where the hardware has no instruction)"
            }
            BackendKind::Channel => {
                "a channel (a pipe, or ipc-channel: see transport) from every worker to runner, which owns the value and applies operations in arrival order"
            }
            BackendKind::None => {
                "the value in a shared memfd mapping with no synchronisation: a relaxed load, then a relaxed store"
            }
        }
    }

    /// Whether the backend promises that no update is lost.
    pub fn synchronised(self) -> bool {
        self != BackendKind::None
    }
}

named_enum! {
    /// Where the value lives, beneath every backend.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum EngineKind {
        /// In this machine's shared memory (the default).
        #[default]
        Local => "local",
        /// In a Redis server (`RUNNER_REDIS`, default `redis://127.0.0.1:6379`).
        Redis => "redis",
    }
}

named_enum! {
    /// How the channel's messages travel from the workers to the owner.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Transport {
        /// ipc-channel's bytes channel over a Unix socket.
        Ipc => "ipc",
        /// A plain pipe (the default, the fastest): each message is one atomic write of at most
        /// 4096 bytes; a batch that does not fit is split.
        #[default]
        Pipe => "pipe",
        /// A Redis stream (with `engine: redis`, the channel's only transport): one entry per
        /// batch, applied by runner in the stream's order.
        #[serde(rename = "redis-stream")]
        RedisStream => "redis-stream",
    }
}

impl Transport {
    /// What the channel backend sets up with this transport, for `runner plan`.
    pub fn describe(self) -> &'static str {
        match self {
            Transport::Ipc => {
                "an ipc-channel (Unix socket) from every worker to runner, which owns the value and applies operations in arrival order"
            }
            Transport::Pipe => {
                "a pipe from every worker to runner (each message one atomic write of at most 4096 bytes), which owns the value and applies operations in arrival order"
            }
            Transport::RedisStream => {
                "a Redis stream from every worker to runner (one entry per batch, each worker's offsets checked), which owns the value and applies operations in the stream's order"
            }
        }
    }

    /// Whether the workers run at idle priority, so that the owner keeps a core: with the pipe,
    /// when a message carries at least `wire::IDLE_MESSAGE_BYTES` (see the pipe's module).
    pub fn idle_workers(self, ty: ValueType, batch: u32) -> bool {
        self == Transport::Pipe && wire::message_bytes(ty, batch) >= wire::IDLE_MESSAGE_BYTES
    }

    /// Messages one worker sends for `ops` operations, `batch` to a message (the pipe splits a
    /// batch that does not fit in one write).
    pub fn messages(self, ty: ValueType, batch: u32, ops: u64) -> u64 {
        let batch = batch.max(1) as u64;
        match self {
            Transport::Ipc | Transport::RedisStream => ops.div_ceil(batch),
            Transport::Pipe => {
                let fit = wire::records_per_message(ty) as u64;
                (ops / batch) * batch.div_ceil(fit) + (ops % batch).div_ceil(fit)
            }
        }
    }
}

named_enum! {
    /// The order of the workers' operations.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    pub enum Schedule {
        /// All workers at once; the order is the machine's.
        #[default]
        Concurrent => "concurrent",
        /// Worker 0 runs all its operations, then worker 1, and so on.
        Sequential => "sequential",
        /// One operation per worker in turn: 0, 1, ..., n-1, 0, 1, ...
        RoundRobin => "round-robin",
    }
}

named_enum! {
    /// When the workers start.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
    #[serde(rename_all = "kebab-case")]
    pub enum Start {
        /// At a barrier, once every worker is forked; exits wait until every worker is done.
        #[default]
        Together => "together",
        /// Each as soon as it is forked, exiting when done (Python's `Process.start()`).
        Forked => "forked",
    }
}

/// The sizes of the pipe transport's messages (`sync/channel/pipe.rs` owns the format itself).
pub mod wire {
    use crate::value::ValueType;

    pub const HEADER: usize = 8;
    /// The largest message: a write of at most `PIPE_BUF` bytes is atomic (POSIX; 4096 on Linux).
    pub const MESSAGE_MAX: usize = 4096;
    // POSIX keeps a write of at most PIPE_BUF bytes to a pipe whole, whoever else writes.
    const _: () = assert!(MESSAGE_MAX <= libc::PIPE_BUF);
    /// Workers whose messages are at least this large run at idle priority. 4 KiB messages at 1024
    /// workers: 760 instead of 600 M ops/s, at 8 workers 1100 instead of 1000; 1 KiB messages
    /// are even.
    pub const IDLE_MESSAGE_BYTES: usize = 2048;

    /// The bytes of one operand of type `ty`.
    pub fn width(ty: ValueType) -> usize {
        match ty {
            ValueType::I => 4,
            ValueType::D => 8,
            ValueType::C => 1,
        }
    }

    /// Operands that fit in one message with its header.
    pub fn records_per_message(ty: ValueType) -> usize {
        (MESSAGE_MAX - HEADER) / width(ty)
    }

    /// The bytes of a worker's largest message with batches of `batch` operands of type `ty`.
    pub fn message_bytes(ty: ValueType, batch: u32) -> usize {
        HEADER + (batch.max(1) as usize).min(records_per_message(ty)) * width(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::wire::*;
    use super::*;

    /// Each `name()` is the serde name, so a job file, a report and the messages agree (the
    /// spec's own named enums are checked in `spec/job.rs`).
    #[test]
    fn names_are_the_serde_names() {
        fn check<T: Serialize>(all: &[T], name: fn(&T) -> &'static str) {
            for v in all {
                assert_eq!(serde_json::to_value(v).expect("serialises"), name(v));
            }
        }
        check(&BackendKind::ALL, |v| v.name());
        check(&Transport::ALL, |v| v.name());
        check(&Schedule::ALL, |v| v.name());
        check(&Start::ALL, |v| v.name());
        check(&ValueType::ALL, |v| v.name());
        check(&crate::value::OpKind::ALL, |v| v.name());
        assert_eq!(crate::value::OpKind::ALL.map(|k| k.code()), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn a_full_message_is_one_atomic_write() {
        for ty in ValueType::ALL {
            let most = records_per_message(ty);
            assert!(HEADER + most * width(ty) <= MESSAGE_MAX);
            assert!(HEADER + (most + 1) * width(ty) > MESSAGE_MAX);
        }
        assert_eq!(records_per_message(ValueType::I), 1022);
        assert_eq!(records_per_message(ValueType::D), 511);
        assert_eq!(records_per_message(ValueType::C), 4088);
    }

    #[test]
    fn a_pipe_splits_a_batch_that_does_not_fit_in_one_write() {
        // i: 1022 operands of 4 bytes after the 8-byte header fill 4096 bytes.
        assert_eq!(Transport::Pipe.messages(ValueType::I, 1022, 1022), 1);
        assert_eq!(Transport::Pipe.messages(ValueType::I, 1023, 1023), 2);
        assert_eq!(Transport::Pipe.messages(ValueType::I, 5000, 6007), 5 + 1);
        assert_eq!(Transport::Pipe.messages(ValueType::D, 5000, 5000), 10);
        assert_eq!(Transport::Pipe.messages(ValueType::C, 5000, 5000), 2);
        assert_eq!(Transport::Pipe.messages(ValueType::I, 1, 7), 7);
        assert_eq!(Transport::Ipc.messages(ValueType::I, 5000, 6007), 2);
        assert_eq!(Transport::Ipc.messages(ValueType::D, 7, 1001), 143);
    }
}
