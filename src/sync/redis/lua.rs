//! The value in Redis as its raw bytes, and one Lua script per type and operation that applies
//! the operation to them bit for bit as [`crate::value::Operation::apply`] does.
//!
//! Storage: the value key holds the value's little-endian bytes, 4 for `i` (i32), 8 for `d`
//! (the f64's bits), 1 for `c` (u8); [`encode`] and [`decode`] are the Rust side. A missing key
//! reads as the type's zero. Never a decimal string: Redis's `INCRBYFLOAT` adds in a long double
//! and prints the sum, which is not IEEE double arithmetic.
//!
//! A script ([`apply_script`]) runs in Redis's Lua 5.1, whose numbers are C doubles, with the
//! `struct` and `bit` libraries:
//! - `KEYS[1]` the value key; `KEYS[2]` a hash of each worker's last applied sequence number
//!   (read and written only by an exactly-once script);
//! - `ARGV[1]` the operand's bytes, as stored; `ARGV[2]` the worker's index and `ARGV[3]` its
//!   sequence number (from 1), both decimal, read only by an exactly-once script;
//! - it returns 1 when it applied the operation, and an exactly-once script returns 0, writing
//!   nothing, when the sequence number is not above the worker's last (a refused duplicate).
//!   Sequence numbers are compared as doubles: exact below 2^53.
//!
//! How each type stays exact: `i` adds and subtracts in a double (exact below 2^53) and wraps
//! with `bit.tobit`; its multiply is done in 16-bit halves, since a 32 x 32-bit product is not
//! exact in a double; `and`/`or`/`xor` are `bit`'s, on signed 32-bit numbers as `i` is. `c`
//! wraps with `% 256`. `d` adds, subtracts and multiplies with Lua's C doubles, as Rust does;
//! its `min`/`max` follow [`crate::value::ieee_minimum`]/[`crate::value::ieee_maximum`] on the
//! bytes, writing `f64::NAN`'s own bytes when a NaN is involved; `set` stores the operand's bytes
//! as given. `and`/`or`/`xor` on `d` (refused by the planner) leave the value as it is, as the
//! model does. tests/redis_ops.rs holds every script to the model against a real server.
//!
//! Owns: the byte format and the scripts' text. Does not own: loading or calling them, keys'
//! names, retries, or which backend uses which script (the Redis backends do).

use crate::value::{OpKind, Value, ValueType};

/// The value's bytes as the value key holds them: little-endian, 4 for `i`, 8 for `d`, 1 for `c`.
pub fn encode(v: Value) -> Vec<u8> {
    match v {
        Value::I(x) => x.to_le_bytes().to_vec(),
        Value::D(x) => x.to_bits().to_le_bytes().to_vec(),
        Value::C(x) => vec![x],
    }
}

/// The value of type `ty` that `bytes` hold; `None` when their length is not the type's.
pub fn decode(ty: ValueType, bytes: &[u8]) -> Option<Value> {
    Some(match ty {
        ValueType::I => Value::I(i32::from_le_bytes(bytes.try_into().ok()?)),
        ValueType::D => Value::D(f64::from_bits(u64::from_le_bytes(bytes.try_into().ok()?))),
        ValueType::C => Value::C(u8::from_le_bytes(bytes.try_into().ok()?)),
    })
}

/// The width in bytes and the `struct` format of a type's stored value.
fn layout(ty: ValueType) -> (usize, &'static str) {
    match ty {
        ValueType::I => (4, "<i4"),
        ValueType::D => (8, "<d"),
        ValueType::C => (1, "<B"),
    }
}

/// The Lua source of the script that applies `op` to a value of type `ty` (see the module's
/// documentation for its keys, arguments and reply); with `once`, only when the worker's
/// sequence number is above the last one it applied.
pub fn apply_script(ty: ValueType, op: OpKind, once: bool) -> String {
    let (width, fmt) = layout(ty);
    let (helpers, result) = result(ty, op);
    let mut s = format!(
        "-- runner: {} {}{}\n\
         local w = {width}\n\
         local ab = ARGV[1]\n\
         if #ab ~= w then return redis.error_reply('runner: the operand is ' .. #ab .. ' bytes, not ' .. w) end\n",
        ty.name(),
        op.name(),
        if once { ", exactly once" } else { "" },
    );
    if once {
        s.push_str(
            "local seq = tonumber(ARGV[3])\n\
             if not seq then return redis.error_reply('runner: not a sequence number: ' .. tostring(ARGV[3])) end\n\
             local last = redis.call('HGET', KEYS[2], ARGV[2])\n\
             if last and seq <= tonumber(last) then return 0 end\n",
        );
    }
    s.push_str(&format!(
        "local xb = redis.call('GET', KEYS[1])\n\
         if not xb then xb = string.rep('\\0', w) end\n\
         if #xb ~= w then return redis.error_reply('runner: the value is ' .. #xb .. ' bytes, not ' .. w) end\n\
         local x = struct.unpack('{fmt}', xb)\n\
         local a = struct.unpack('{fmt}', ab)\n\
         {helpers}\
         local r = {result}\n\
         redis.call('SET', KEYS[1], r)\n"
    ));
    if once {
        s.push_str("redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])\n");
    }
    s.push_str("return 1\n");
    s
}

/// 32-bit wrapping multiply of two signed 32-bit numbers: unsigned 16-bit halves, so that every
/// partial product and sum stays below 2^53 and is exact in a double.
const MUL32: &str = "local function mul32(x, a)\n\
    local ux, ua = x % 4294967296, a % 4294967296\n\
    local xh, xl = math.floor(ux / 65536), ux % 65536\n\
    local ah, al = math.floor(ua / 65536), ua % 65536\n\
    return bit.tobit(xl * al + ((xh * al + xl * ah) % 65536) * 65536)\n\
    end\n";

/// `f64::NAN`'s bytes (0x7ff8000000000000; x86's 0/0 is 0xfff8...), and whether a double's
/// bytes have the sign bit set.
const DOUBLE_BYTES: &str = "local NAN = '\\0\\0\\0\\0\\0\\0\\248\\127'\n\
    local function negative(b) return b:byte(8) >= 128 end\n";

/// Helpers the result needs (each line ending in a newline), and the Lua expression of the new
/// value's bytes from `x`, `a` (numbers) and `xb`, `ab` (their bytes).
fn result(ty: ValueType, op: OpKind) -> (String, String) {
    let pack = |fmt: &str, e: &str| (String::new(), format!("struct.pack('{fmt}', {e})"));
    match (ty, op) {
        (_, OpKind::Set) => (String::new(), "ab".into()),
        (ValueType::I, OpKind::Add) => pack("<i4", "bit.tobit(x + a)"),
        (ValueType::I, OpKind::Sub) => pack("<i4", "bit.tobit(x - a)"),
        (ValueType::I, OpKind::Mul) => (MUL32.into(), "struct.pack('<i4', mul32(x, a))".into()),
        (ValueType::C, OpKind::Add) => pack("<B", "(x + a) % 256"),
        (ValueType::C, OpKind::Sub) => pack("<B", "(x - a) % 256"),
        (ValueType::C, OpKind::Mul) => pack("<B", "(x * a) % 256"),
        (ValueType::I | ValueType::C, OpKind::Min) => pack(layout(ty).1, "math.min(x, a)"),
        (ValueType::I | ValueType::C, OpKind::Max) => pack(layout(ty).1, "math.max(x, a)"),
        (ValueType::I | ValueType::C, OpKind::And) => pack(layout(ty).1, "bit.band(x, a)"),
        (ValueType::I | ValueType::C, OpKind::Or) => pack(layout(ty).1, "bit.bor(x, a)"),
        (ValueType::I | ValueType::C, OpKind::Xor) => pack(layout(ty).1, "bit.bxor(x, a)"),
        (ValueType::D, OpKind::Add) => pack("<d", "x + a"),
        (ValueType::D, OpKind::Sub) => pack("<d", "x - a"),
        (ValueType::D, OpKind::Mul) => pack("<d", "x * a"),
        // ieee_minimum: NaN propagates as f64::NAN; of equal values (two zeros at most differ)
        // the negative one; else the smaller.
        (ValueType::D, OpKind::Min) => (
            DOUBLE_BYTES.into(),
            "(x ~= x or a ~= a) and NAN or (x == a and (negative(xb) and xb or ab)) or (x < a and xb or ab)".into(),
        ),
        (ValueType::D, OpKind::Max) => (
            DOUBLE_BYTES.into(),
            "(x ~= x or a ~= a) and NAN or (x == a and (negative(xb) and ab or xb)) or (x > a and xb or ab)".into(),
        ),
        // Refused by the planner for `d`; the model leaves the value as it is.
        (ValueType::D, OpKind::And | OpKind::Or | OpKind::Xor) => (String::new(), "xb".into()),
    }
}
