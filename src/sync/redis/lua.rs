//! TEMPORARY stand-in for the helper's lua.rs (replaced at merge).
use crate::value::{OpKind, Value, ValueType};

pub(crate) fn encode(v: Value) -> Vec<u8> {
    match v {
        Value::I(x) => x.to_le_bytes().to_vec(),
        Value::D(x) => x.to_le_bytes().to_vec(),
        Value::C(x) => vec![x],
    }
}

pub(crate) fn decode(ty: ValueType, b: &[u8]) -> Option<Value> {
    Some(match ty {
        ValueType::I => Value::I(i32::from_le_bytes(b.try_into().ok()?)),
        ValueType::D => Value::D(f64::from_le_bytes(b.try_into().ok()?)),
        ValueType::C => Value::C(*b.first().filter(|_| b.len() == 1)?),
    })
}

pub(crate) fn apply_script(_ty: ValueType, _op: OpKind, once: bool) -> String {
    let check = if once {
        "local last = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')\nif tonumber(ARGV[3]) <= last then return 0 end\nredis.call('HSET', KEYS[2], ARGV[2], ARGV[3])\n"
    } else {
        ""
    };
    format!(
        "{check}local x = struct.unpack('<i4', redis.call('GET', KEYS[1]))\nlocal a = struct.unpack('<i4', ARGV[1])\nredis.call('SET', KEYS[1], struct.pack('<i4', x + a), 'KEEPTTL')\nreturn 1\n"
    )
}
