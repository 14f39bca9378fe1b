//! The Redis engine's Lua scripts against the model, on a real redis-server this test starts:
//! for every type and operation, on edge cases and on a few hundred random values, the bytes
//! a script stores are the bytes of `Operation::apply`'s value, bit for bit (NaN's bits and
//! the sign of zero included). And a script with a sequence number applies each worker's
//! operation once: a repeated or older number is refused and writes nothing.
//!
//! One place where the model has no one answer: a `d` add, sub or mul of two NaNs with
//! different bits. Rust leaves it to the compiler which input's NaN comes out (quieted): x86's
//! `addsd` returns its first register's, and LLVM may swap the operands of a commutative add or
//! multiply (the same `x + a` gave `a`'s NaN at one call site of a test program and `x`'s at
//! another). There the test requires one of the two inputs' NaNs, quieted, and nothing else.

mod common;

use common::redis::RedisServer;
use runner::sync::redis_lua::{apply_script, decode, encode};
use runner::value::{OpKind, Operation, Value, ValueType};

/// One hash tag, as a Redis Cluster needs for keys one script uses.
const KEY: &str = "{t}:value";
const SEQS: &str = "{t}:seqs";

/// Random values drawn per type and operation, beside every pair of edge cases.
const RANDOM_CASES: usize = 300;

/// xorshift64: the same values in every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn edges(ty: ValueType) -> Vec<Value> {
    match ty {
        ValueType::I => {
            [0, 1, -1, 2, -2, 255, 46341, 65535, 65536, -65536, 0x1234_5678, i32::MIN, i32::MIN + 1, i32::MAX]
                .into_iter()
                .map(Value::I)
                .collect()
        }
        ValueType::C => [0, 1, 2, 15, 16, 127, 128, 129, 254, 255].into_iter().map(Value::C).collect(),
        ValueType::D => [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            -0.1,
            3.0,
            1e308,
            -1e308,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
            f64::from_bits(1), // the smallest subnormal
            -f64::from_bits(1),
            f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::from_bits(0xfff8_0000_0000_0000), // x86's default NaN (0/0, inf - inf)
            f64::from_bits(0x7ff0_0000_0000_0001), // a signalling NaN
        ]
        .into_iter()
        .map(Value::D)
        .collect(),
    }
}

fn random(ty: ValueType, rng: &mut XorShift) -> Value {
    let r = rng.next();
    match ty {
        ValueType::I => Value::I(match r % 4 {
            0 => (r >> 8) as i32,
            1 => ((r >> 8) % 65) as i32 - 32,
            2 => (1i32 << ((r >> 8) % 31)).wrapping_add(((r >> 16) % 3) as i32 - 1),
            _ => ((r >> 8) as i32) >> ((r >> 48) % 31),
        }),
        ValueType::C => Value::C((r >> 8) as u8),
        ValueType::D => Value::D(match r % 4 {
            0 => f64::from_bits(rng.next()),
            1 => ((r >> 8) % 2001) as f64 / 10.0 - 100.0,
            2 => ((r >> 4) as i64 as f64) * 2f64.powi(((r >> 56) % 200) as i32 - 100),
            _ => ((r >> 8) % 17) as f64 - 8.0,
        }),
    }
}

/// Every (start, operand) pair the test runs for a type: each pair of edge cases, then random
/// pairs; `None` as the start is the missing key (the type's zero).
fn cases(ty: ValueType, rng: &mut XorShift) -> Vec<(Option<Value>, Value)> {
    let edges = edges(ty);
    let mut out: Vec<(Option<Value>, Value)> = edges.iter().map(|&a| (None, a)).collect();
    for &x in &edges {
        out.extend(edges.iter().map(|&a| (Some(x), a)));
    }
    out.extend((0..RANDOM_CASES).map(|_| (Some(random(ty, rng)), random(ty, rng))));
    out
}

fn load(con: &mut redis::Connection, source: &str) -> String {
    redis::cmd("SCRIPT").arg("LOAD").arg(source).query(con).expect("SCRIPT LOAD")
}

/// Runs the script `sha` once per case, in one pipeline: sets (or deletes) the value key,
/// calls the script as worker 0 with sequence numbers 1, 2, ..., reads the key back. Returns
/// each call's reply and the stored bytes.
fn run(con: &mut redis::Connection, sha: &str, cases: &[(Option<Value>, Value)]) -> Vec<(i64, Vec<u8>)> {
    let mut pipe = redis::pipe();
    pipe.cmd("DEL").arg(KEY).arg(SEQS).ignore();
    for (seq, (start, operand)) in (1u64..).zip(cases) {
        match start {
            Some(x) => pipe.cmd("SET").arg(KEY).arg(encode(*x)).ignore(),
            None => pipe.cmd("DEL").arg(KEY).ignore(),
        };
        pipe.cmd("EVALSHA").arg(sha).arg(2).arg(KEY).arg(SEQS).arg(encode(*operand)).arg(0).arg(seq);
        pipe.cmd("GET").arg(KEY);
    }
    let replies: Vec<redis::Value> = pipe.query(con).expect("the pipeline");
    assert_eq!(replies.len(), 2 * cases.len());
    replies
        .chunks(2)
        .map(|pair| {
            let reply: i64 = redis::from_redis_value_ref(&pair[0]).unwrap_or_else(|e| panic!("script reply: {e}"));
            let bytes: Vec<u8> = redis::from_redis_value_ref(&pair[1]).expect("the stored bytes");
            (reply, bytes)
        })
        .collect()
}

/// Whether `stored` is what the model allows: its value's bytes; or, for a `d` add, sub or mul
/// of two NaNs, either input's NaN quieted (see the module's documentation).
fn allowed(kind: OpKind, x: Value, operand: Value, expected: Value, stored: &[u8]) -> bool {
    if stored == encode(expected) {
        return true;
    }
    let quiet = |v: Value| encode(Value::D(f64::from_bits(v.bits() | 1 << 51)));
    match (x, operand) {
        (Value::D(x), Value::D(a)) if x.is_nan() && a.is_nan() => {
            matches!(kind, OpKind::Add | OpKind::Sub | OpKind::Mul)
                && (stored == quiet(Value::D(x)) || stored == quiet(Value::D(a)))
        }
        _ => false,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn every_script_stores_the_models_bytes() {
    let server = RedisServer::start();
    let mut con = server.connection();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for ty in ValueType::ALL {
        for kind in OpKind::ALL {
            let cases = cases(ty, &mut rng);
            for once in [false, true] {
                let sha = load(&mut con, &apply_script(ty, kind, once));
                for ((start, operand), (reply, stored)) in cases.iter().zip(run(&mut con, &sha, &cases)) {
                    let x = start.unwrap_or(ty.zero());
                    let expected = Operation { kind, operand: *operand }.apply(x);
                    checked += 1;
                    if reply != 1 || !allowed(kind, x, *operand, expected, &stored) {
                        mismatches.push(format!(
                            "{} {} (once: {once}) on {x} ({}) with {operand} ({}): reply {reply}, stored {}, model {} ({})",
                            ty.name(),
                            kind.name(),
                            hex(&encode(x)),
                            hex(&encode(*operand)),
                            hex(&stored),
                            hex(&encode(expected)),
                            expected
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 10_000, "only {checked} cases ran");
    assert!(
        mismatches.is_empty(),
        "{} of {checked} cases differ from the model; the first:\n{}",
        mismatches.len(),
        mismatches[..mismatches.len().min(20)].join("\n")
    );
}

/// Calls the script as worker `worker` with sequence number `seq`; the reply.
fn call(con: &mut redis::Connection, script: &redis::Script, operand: Value, worker: u32, seq: u64) -> i64 {
    script.key(KEY).key(SEQS).arg(encode(operand)).arg(worker).arg(seq).invoke(con).expect("the script")
}

fn stored(con: &mut redis::Connection, ty: ValueType) -> Value {
    let bytes: Vec<u8> = redis::cmd("GET").arg(KEY).query(con).expect("GET");
    decode(ty, &bytes).unwrap_or_else(|| panic!("{} bytes stored for {}", bytes.len(), ty.name()))
}

#[test]
fn a_repeated_or_older_sequence_number_is_refused_and_writes_nothing() {
    let server = RedisServer::start();
    let mut con = server.connection();
    let add = redis::Script::new(&apply_script(ValueType::I, OpKind::Add, true));
    let one = Value::I(1);
    assert_eq!(call(&mut con, &add, one, 0, 1), 1);
    assert_eq!(call(&mut con, &add, one, 0, 1), 0, "the same sequence number again");
    assert_eq!(stored(&mut con, ValueType::I), Value::I(1));
    assert_eq!(call(&mut con, &add, one, 0, 2), 1);
    assert_eq!(call(&mut con, &add, one, 0, 1), 0, "an older sequence number");
    assert_eq!(call(&mut con, &add, one, 1, 1), 1, "another worker's numbers are its own");
    assert_eq!(stored(&mut con, ValueType::I), Value::I(3));
    let seqs: Vec<(String, String)> = redis::cmd("HGETALL").arg(SEQS).query(&mut con).expect("HGETALL");
    assert_eq!(seqs, [("0".to_string(), "2".to_string()), ("1".to_string(), "1".to_string())]);

    // A refused double add leaves every bit as it was.
    let add = redis::Script::new(&apply_script(ValueType::D, OpKind::Add, true));
    redis::cmd("DEL").arg(KEY).arg(SEQS).exec(&mut con).expect("DEL");
    assert_eq!(call(&mut con, &add, Value::D(0.1), 3, 7), 1);
    assert_eq!(call(&mut con, &add, Value::D(0.2), 3, 7), 0);
    assert_eq!(stored(&mut con, ValueType::D), Value::D(0.1));
    assert_eq!(call(&mut con, &add, Value::D(0.2), 3, 8), 1);
    assert_eq!(stored(&mut con, ValueType::D), Value::D(0.1 + 0.2));
}

#[test]
fn without_a_sequence_number_every_call_applies_and_no_hash_is_written() {
    let server = RedisServer::start();
    let mut con = server.connection();
    let add = redis::Script::new(&apply_script(ValueType::I, OpKind::Add, false));
    assert_eq!(call(&mut con, &add, Value::I(1), 0, 1), 1);
    assert_eq!(call(&mut con, &add, Value::I(1), 0, 1), 1);
    assert_eq!(stored(&mut con, ValueType::I), Value::I(2));
    let exists: i64 = redis::cmd("EXISTS").arg(SEQS).query(&mut con).expect("EXISTS");
    assert_eq!(exists, 0);
}

#[test]
fn five_adds_of_one_on_a_missing_i_give_five() {
    let server = RedisServer::start();
    let mut con = server.connection();
    for once in [false, true] {
        redis::cmd("DEL").arg(KEY).arg(SEQS).exec(&mut con).expect("DEL");
        let add = redis::Script::new(&apply_script(ValueType::I, OpKind::Add, once));
        for seq in 1..=5 {
            assert_eq!(call(&mut con, &add, Value::I(1), 0, seq), 1);
        }
        assert_eq!(stored(&mut con, ValueType::I), Value::I(5), "once: {once}");
        let bytes: Vec<u8> = redis::cmd("GET").arg(KEY).query(&mut con).expect("GET");
        assert_eq!(bytes, [5, 0, 0, 0]);
    }
}

#[test]
fn bytes_of_the_wrong_length_are_an_error_and_change_nothing() {
    let server = RedisServer::start();
    let mut con = server.connection();
    let add = redis::Script::new(&apply_script(ValueType::I, OpKind::Add, true));
    let short: redis::RedisResult<i64> = add.key(KEY).key(SEQS).arg(&[1u8, 0][..]).arg(0).arg(1).invoke(&mut con);
    let err = short.expect_err("a 2-byte operand for i");
    assert!(err.to_string().contains("the operand is 2 bytes, not 4"), "{err}");
    redis::cmd("SET").arg(KEY).arg("12345").exec(&mut con).expect("SET");
    let long: redis::RedisResult<i64> = add.key(KEY).key(SEQS).arg(encode(Value::I(1))).arg(0).arg(1).invoke(&mut con);
    let err = long.expect_err("a 5-byte value for i");
    assert!(err.to_string().contains("the value is 5 bytes, not 4"), "{err}");
    let value: String = redis::cmd("GET").arg(KEY).query(&mut con).expect("GET");
    assert_eq!(value, "12345");
    let exists: i64 = redis::cmd("EXISTS").arg(SEQS).query(&mut con).expect("EXISTS");
    assert_eq!(exists, 0, "no sequence number recorded for a refused call");
}

#[test]
fn the_codec_round_trips_and_refuses_a_wrong_length() {
    let mut rng = XorShift(7);
    for ty in ValueType::ALL {
        let width = encode(ty.zero()).len();
        assert_eq!(width, [4, 8, 1][ty as usize]);
        for v in edges(ty).into_iter().chain((0..100).map(|_| random(ty, &mut rng))) {
            let bytes = encode(v);
            assert_eq!(bytes.len(), width);
            assert_eq!(bytes, v.bits().to_le_bytes()[..width]);
            assert_eq!(decode(ty, &bytes), Some(v));
        }
        assert_eq!(decode(ty, &vec![0; width + 1]), None);
        assert_eq!(decode(ty, &vec![0; width - 1]), None);
    }
    assert_eq!(encode(Value::I(-2)), [0xfe, 0xff, 0xff, 0xff]);
    assert_eq!(encode(Value::D(f64::NAN)), [0, 0, 0, 0, 0, 0, 0xf8, 0x7f]);
}
