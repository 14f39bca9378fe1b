//! One conformance suite that every backend runs: every type x operation, on real forked
//! workers, must end exactly at the value a naive step-by-step model computes (bit equality).

mod common;

use common::redis::RedisServer;
use common::{job, job_file, runner};

/// A plain model of the three types, independent of runner's closed forms.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Model {
    I(i32),
    D(f64),
    C(u8),
}

/// One step of an integer operation, on either integer type.
macro_rules! int_step {
    ($x:expr, $a:expr, $op:expr) => {
        match $op {
            "add" => $x.wrapping_add($a),
            "sub" => $x.wrapping_sub($a),
            "mul" => $x.wrapping_mul($a),
            "min" => $x.min($a),
            "max" => $x.max($a),
            "and" => $x & $a,
            "or" => $x | $a,
            "xor" => $x ^ $a,
            "set" => $a,
            _ => unreachable!(),
        }
    };
}

impl Model {
    fn step(self, op: &str, a: Model) -> Model {
        match (self, a) {
            (Model::I(x), Model::I(a)) => Model::I(int_step!(x, a, op)),
            (Model::C(x), Model::C(a)) => Model::C(int_step!(x, a, op)),
            (Model::D(x), Model::D(a)) => Model::D(match op {
                "add" => x + a,
                "sub" => x - a,
                "mul" => x * a,
                // Operands here are never NaN or signed zeros, where minimum/maximum differ.
                "min" => x.min(a),
                "max" => x.max(a),
                "set" => a,
                _ => unreachable!(),
            }),
            _ => unreachable!(),
        }
    }

    fn matches(self, json: &serde_json::Value) -> bool {
        match self {
            Model::I(v) => json.as_i64() == Some(v as i64),
            Model::C(v) => json.as_u64() == Some(v as u64),
            Model::D(v) => json.as_f64().is_some_and(|j| j.to_bits() == v.to_bits()),
        }
    }
}

/// An operation, its operand as written, and the operand.
type Op = (&'static str, &'static str, Model);

/// (type, initial as written, initial, operations).
fn cases() -> Vec<(&'static str, &'static str, Model, Vec<Op>)> {
    use Model::{C, D, I};
    vec![
        (
            "i",
            "1000",
            I(1000),
            vec![
                ("add", "3", I(3)),
                ("sub", "5", I(5)),
                ("mul", "3", I(3)),
                ("min", "-20", I(-20)),
                ("max", "2000000", I(2_000_000)),
                ("and", "0x0F0F", I(0x0F0F)),
                ("or", "0x1010", I(0x1010)),
                ("xor", "0x55", I(0x55)),
                ("set", "-42", I(-42)),
            ],
        ),
        (
            "c",
            "\"a\"",
            C(b'a'),
            vec![
                ("add", "3", C(3)),
                ("sub", "5", C(5)),
                ("mul", "3", C(3)),
                ("min", "9", C(9)),
                ("max", "200", C(200)),
                ("and", "0x3C", C(0x3C)),
                ("or", "0x81", C(0x81)),
                ("xor", "0x55", C(0x55)),
                ("set", "\"z\"", C(b'z')),
            ],
        ),
        (
            "d",
            "1.5",
            D(1.5),
            vec![
                ("add", "0.1", D(0.1)),
                ("sub", "0.25", D(0.25)),
                ("mul", "1.01", D(1.01)),
                ("min", "-2.5", D(-2.5)),
                ("max", "1e10", D(1e10)),
                ("set", "0.3", D(0.3)),
            ],
        ),
    ]
}

const WORKERS: u64 = 3;
const ITERATIONS: u64 = 300;

/// Every type x operation on `backend`, with `extra` lines added to each job (a transport), the
/// files named after the last word of `extra`.
fn conformance(backend: &str, extra: &str) {
    let tag = extra.split_whitespace().last().map_or(String::new(), |t| format!("-{t}"));
    conformance_tagged(backend, &tag, extra);
}

/// As [`conformance`], the job files named with `tag`: parallel tests that add different lines
/// must not write the same file.
fn conformance_tagged(backend: &str, tag: &str, extra: &str) {
    let mut failures = Vec::new();
    let mut ran = 0;
    for (ty, initial_text, initial, ops) in cases() {
        for (op, operand_text, operand) in ops {
            // `none` is unsynchronised: one worker is its exact case; races are tested apart.
            let workers = if backend == "none" { 1 } else { WORKERS };
            let mut expected = initial;
            for _ in 0..workers * ITERATIONS {
                expected = expected.step(op, operand);
            }
            let name = format!("conformance-{backend}{tag}-{ty}-{op}.yaml");
            let text = job(workers, ITERATIONS, ty, initial_text, op, operand_text, backend) + extra;
            let path = job_file(&name, text);
            let out = runner(&[&path, "--format", "json"]);
            ran += 1;
            if out.code != 0 {
                failures.push(format!("{name}: exit {}: {}", out.code, out.stderr));
                continue;
            }
            let report = out.json();
            let ops: u64 = report["workers"].as_array().unwrap().iter().map(|w| w["ops"].as_u64().unwrap()).sum();
            let exits_ok = report["workers"].as_array().unwrap().iter().all(|w| w["exit"]["code"] == 0);
            // Each worker's end is written before runner reads it, a channel's too (its owner is
            // done as soon as the last message arrives, before the sender has returned).
            let ends_ok = report["workers"].as_array().unwrap().iter().all(|w| {
                let (start, end) = (w["started_seconds"].as_f64().unwrap(), w["ended_seconds"].as_f64().unwrap());
                end > 0.0 && end >= start
            });
            // The transport the job names, else the default: a pipe (over Redis, a Redis stream).
            let transport = if extra.contains("engine:") {
                "redis-stream"
            } else if extra.contains("transport: ipc") {
                "ipc"
            } else {
                "pipe"
            };
            let channel_ok = backend != "channel"
                || (report["channel"]["applied"] == serde_json::json!(vec![ITERATIONS; workers as usize])
                    && report["channel"]["transport"] == transport
                    && report["job"]["transport"] == transport);
            if !expected.matches(&report["final"])
                || report["expected"]["kind"] != "exact"
                || !expected.matches(&report["expected"]["value"])
                // One worker alone: no race could occur.
                || report["verdict"] != if backend == "none" { "no_race" } else { "correct" }
                || ops != workers * ITERATIONS
                || !exits_ok
                || !ends_ok
                || !channel_ok
            {
                failures.push(format!("{name}: model {expected:?}, report {}", out.stdout));
            }
        }
    }
    assert_eq!(ran, 24, "every type x operation runs");
    assert!(failures.is_empty(), "{} of {ran} failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn mutex_conforms() {
    conformance("mutex", "");
}

#[test]
fn atomic_conforms() {
    conformance("atomic", "");
}

/// The channel with no `transport`: over the default, a pipe.
#[test]
fn channel_conforms() {
    conformance("channel", "");
}

#[test]
fn channel_over_ipc_conforms() {
    conformance("channel", "transport: ipc\n");
}

/// Each worker starting as it is forked (no barrier, no exit gate) changes nothing of the result.
#[test]
fn every_synchronised_backend_conforms_with_a_forked_start() {
    conformance("mutex", "start: forked\n");
    conformance("atomic", "start: forked\n");
    conformance("channel", "start: forked\n");
    conformance("channel", "start: forked\ntransport: ipc\n");
}

#[test]
fn none_conforms_with_one_worker() {
    conformance("none", "");
}

/// With several workers and no synchronisation the value may lose updates, but it is never
/// judged `wrong`: every outcome is one that some interleaving produces.
#[test]
fn none_with_several_workers_is_never_wrong() {
    for (op, operand) in [("add", "1"), ("xor", "0x55"), ("mul", "3"), ("max", "7")] {
        let path = job_file(&format!("none-several-{op}.yaml"), job(4, 20_000, "i", "1", op, operand, "none"));
        let out = runner(&[&path, "--format", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let verdict = out.json()["verdict"].as_str().unwrap().to_string();
        // `max 7` ends at 7 whatever is lost: its check cannot see a lost update.
        let fine = ["correct", "lost_updates", "no_race", "inconclusive"];
        assert!(fine.contains(&verdict.as_str()), "{op}: {verdict}");
        assert_eq!(verdict == "inconclusive", op == "max" && verdict != "no_race", "{op}: {verdict}");
    }
}

/// Messages one worker sends for `ops` operations, `batch` to a message; over a pipe a message
/// holds at most 4096 bytes (an 8-byte header, then `width`-byte operands), so a larger batch
/// is split.
fn messages(transport: &str, width: u64, batch: u64, ops: u64) -> u64 {
    let fit = if transport == "pipe" { (4096 - 8) / width } else { u64::MAX };
    let (mut left, mut messages) = (ops, 0);
    while left > 0 {
        let n = left.min(batch);
        messages += n.div_ceil(fit);
        left -= n;
    }
    messages
}

#[test]
fn channel_batches_deliver_every_operation() {
    const ITERATIONS: u64 = 6007;
    for transport in ["ipc", "pipe"] {
        // (type, operand, final value, operand bytes over a pipe)
        for (ty, operand, end, width) in [
            ("i", "1", serde_json::json!(3 * ITERATIONS), 4),
            ("d", "0.5", serde_json::json!(1.5 * ITERATIONS as f64), 8),
            ("c", "1", serde_json::json!(3 * ITERATIONS % 256), 1),
        ] {
            for batch in [1, 7, 1000, 5000] {
                let text = job(3, ITERATIONS, ty, "0", "add", operand, "channel")
                    + &format!("batch: {batch}\ntransport: {transport}\n");
                let path = job_file(&format!("channel-batch-{transport}-{ty}-{batch}.yaml"), text);
                let out = runner(&[&path, "--format", "json"]);
                assert_eq!(out.code, 0, "{}", out.stderr);
                let report = out.json();
                let case = format!("{transport} {ty} batch {batch}");
                assert_eq!(report["final"], end, "{case}");
                assert_eq!(report["channel"]["transport"], transport, "{case}");
                assert_eq!(report["channel"]["applied"], serde_json::json!(vec![ITERATIONS; 3]), "{case}");
                let per_worker = messages(transport, width, batch, ITERATIONS);
                assert_eq!(report["channel"]["messages"], 3 * per_worker, "{case}");
                let record = if transport == "pipe" { width } else { 8 };
                assert_eq!(report["channel"]["bytes"], 3 * (per_worker * 8 + ITERATIONS * record), "{case}");
            }
        }
    }
    // Over a pipe, a batch of 5000 `i` operands is five messages (4 x 1022 + 912), not one.
    assert_eq!(messages("pipe", 4, 5000, 5000), 5);
}

/// A channel job that names no transport goes over a pipe, the fastest transport: the plan and
/// the report say so, and what the owner received is the pipe's wire format (an `i` operand in
/// 4 bytes after each 8-byte header; over ipc-channel it took 8). On bdc76e9 it went over ipc.
#[test]
fn a_channel_without_a_transport_goes_over_a_pipe() {
    const ITERATIONS: u64 = 1000;
    for batch in [1, 100] {
        let text = job(3, ITERATIONS, "i", "0", "add", "1", "channel") + &format!("batch: {batch}\n");
        assert!(!text.contains("transport"));
        let path = job_file(&format!("channel-default-transport-{batch}.yaml"), text);
        let plan = runner(&["plan", &path]);
        assert_eq!(plan.code, 0, "{}", plan.stderr);
        let messages = ITERATIONS.div_ceil(batch);
        let said = format!("messages   {messages} per worker over the pipe transport (the default; ");
        assert!(plan.stdout.contains(&said), "{}", plan.stdout);
        assert!(plan.stdout.contains("channel: a pipe from every worker to runner"), "{}", plan.stdout);
        let out = runner(&[&path, "--format", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let report = out.json();
        assert_eq!(
            (report["job"]["transport"].as_str(), report["channel"]["transport"].as_str()),
            (Some("pipe"), Some("pipe"))
        );
        assert_eq!(report["final"], 3 * ITERATIONS);
        assert_eq!(report["channel"]["messages"], 3 * messages, "batch {batch}");
        assert_eq!(report["channel"]["bytes"], 3 * (messages * 8 + ITERATIONS * 4), "batch {batch}");
    }
}

/// The value in Redis: the same suite, bit-exact against the same model; no key is left behind.
fn over_redis(backend: &str) {
    over_redis_with(backend, "");
}

/// As [`over_redis`], with more of the engine's settings (`, pipeline: 64`).
fn over_redis_with(backend: &str, settings: &str) {
    over_redis_job(backend, settings, "");
}

/// As [`over_redis_with`], with `lines` added to each job (`work: ...`).
fn over_redis_job(backend: &str, settings: &str, lines: &str) {
    let server = RedisServer::start();
    // The settings and lines name the files: `-redis-pipeline64`, `-redis-workoutside1us`.
    let named: String = format!("{settings}{lines}").chars().filter(char::is_ascii_alphanumeric).collect();
    let tag = if named.is_empty() { "-redis".to_string() } else { format!("-redis-{named}") };
    conformance_tagged(backend, &tag, &format!("engine: {{redis: \"{}\"{settings}}}\n{lines}", server.url()));
    let keys: u64 = redis::cmd("DBSIZE").query(&mut server.connection()).expect("DBSIZE");
    assert_eq!(keys, 0, "every run deletes its keys");
}

#[test]
fn atomic_over_redis_conforms() {
    over_redis("atomic");
}

/// Pipelines of scripts with sequence numbers; and without them, BITFIELD for add and sub.
#[test]
fn atomic_over_redis_pipelined_or_native_conforms() {
    over_redis_with("atomic", ", pipeline: 64");
    over_redis_with("atomic", ", exactly_once: false");
    over_redis_with("atomic", ", pipeline: 7, exactly_once: false");
}

/// Paced jobs (here busy work outside each operation) send one script at a time through the
/// paced loop; the others go through the packed loop, pipelined or not.
#[test]
fn atomic_over_redis_paced_conforms() {
    over_redis_job("atomic", "", "work: {outside: 1us}\n");
}

#[test]
fn mutex_over_redis_conforms() {
    over_redis("mutex");
    // Operations grouped per hold of the lock, with a last group shorter than the others.
    over_redis_with("mutex", ", pipeline: 3");
}

#[test]
fn channel_over_redis_conforms() {
    over_redis("channel");
}

#[test]
fn none_over_redis_conforms() {
    over_redis("none");
}
