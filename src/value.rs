//! The three value types (`i`, `d`, `c`) and what each operation does to them.
//!
//! Owns: the runtime [`Value`] and [`Operation`] used by the planner, the channel owner and the
//! reports, and the [`Scalar`] trait through which the workers' hot loops are monomorphised per
//! type and per operation (the operation is a const generic, so the loop contains no dispatch).
//! Does not own: how often an operation is applied (see `iterate`) or how it is synchronised
//! (see `sync`).

use std::fmt;
use std::sync::atomic::{AtomicI32, AtomicU8, AtomicU64, Ordering};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The type of the shared value, as in Python's `multiprocessing.Value` typecodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ValueType {
    /// A C int: 32-bit two's complement, arithmetic wraps.
    #[serde(rename = "i")]
    I,
    /// A C double: IEEE 754 binary64.
    #[serde(rename = "d")]
    D,
    /// One unsigned byte: arithmetic wraps modulo 256.
    #[serde(rename = "c")]
    C,
}

impl ValueType {
    pub const ALL: [ValueType; 3] = [ValueType::I, ValueType::D, ValueType::C];

    pub fn name(self) -> &'static str {
        match self {
            ValueType::I => "i",
            ValueType::D => "d",
            ValueType::C => "c",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ValueType::I => "C int (i32, wrapping)",
            ValueType::D => "C double (IEEE binary64)",
            ValueType::C => "byte (u8, wrapping)",
        }
    }

    pub fn zero(self) -> Value {
        match self {
            ValueType::I => Value::I(0),
            ValueType::D => Value::D(0.0),
            ValueType::C => Value::C(0),
        }
    }
}

/// The operation every worker applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Add,
    Sub,
    Mul,
    Min,
    Max,
    And,
    Or,
    Xor,
    Set,
}

impl OpKind {
    pub const ALL: [OpKind; 9] = [
        OpKind::Add,
        OpKind::Sub,
        OpKind::Mul,
        OpKind::Min,
        OpKind::Max,
        OpKind::And,
        OpKind::Or,
        OpKind::Xor,
        OpKind::Set,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Sub => "sub",
            OpKind::Mul => "mul",
            OpKind::Min => "min",
            OpKind::Max => "max",
            OpKind::And => "and",
            OpKind::Or => "or",
            OpKind::Xor => "xor",
            OpKind::Set => "set",
        }
    }

    /// The code used as the const generic `K` of the hot loops and on the channel's wire.
    pub const fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<OpKind> {
        OpKind::ALL.get(code as usize).copied()
    }

    /// Whether the operand may be left out (it defaults to 1).
    pub fn operand_optional(self) -> bool {
        matches!(self, OpKind::Add | OpKind::Sub)
    }

    /// Whether the operation is defined for the type.
    pub fn supports(self, ty: ValueType) -> bool {
        !(ty == ValueType::D && matches!(self, OpKind::And | OpKind::Or | OpKind::Xor))
    }

    /// `f(f(x)) == f(x)`: applying it once or many times gives the same value.
    pub fn idempotent(self) -> bool {
        matches!(self, OpKind::Min | OpKind::Max | OpKind::And | OpKind::Or | OpKind::Set)
    }
}

pub const ADD: u8 = OpKind::Add.code();
pub const SUB: u8 = OpKind::Sub.code();
pub const MUL: u8 = OpKind::Mul.code();
pub const MIN: u8 = OpKind::Min.code();
pub const MAX: u8 = OpKind::Max.code();
pub const AND: u8 = OpKind::And.code();
pub const OR: u8 = OpKind::Or.code();
pub const XOR: u8 = OpKind::Xor.code();
pub const SET: u8 = OpKind::Set.code();

/// Calls `$body` with `$k` bound to the const code of the runtime `OpKind`, so that generic code
/// taking `<const K: u8>` is instantiated once per operation and the match happens once.
#[macro_export]
macro_rules! with_op {
    ($kind:expr, $k:ident => $body:expr) => {{
        use $crate::value::OpKind as __Op;
        match $kind {
            __Op::Add => {
                const $k: u8 = $crate::value::ADD;
                $body
            }
            __Op::Sub => {
                const $k: u8 = $crate::value::SUB;
                $body
            }
            __Op::Mul => {
                const $k: u8 = $crate::value::MUL;
                $body
            }
            __Op::Min => {
                const $k: u8 = $crate::value::MIN;
                $body
            }
            __Op::Max => {
                const $k: u8 = $crate::value::MAX;
                $body
            }
            __Op::And => {
                const $k: u8 = $crate::value::AND;
                $body
            }
            __Op::Or => {
                const $k: u8 = $crate::value::OR;
                $body
            }
            __Op::Xor => {
                const $k: u8 = $crate::value::XOR;
                $body
            }
            __Op::Set => {
                const $k: u8 = $crate::value::SET;
                $body
            }
        }
    }};
}

/// Calls `$body` with `$t` the Rust type of a runtime [`Value`] and `$a` its payload, so that
/// generic code over [`Scalar`] is instantiated once per type.
#[macro_export]
macro_rules! with_scalar {
    ($value:expr, $t:ident, $a:ident => $body:expr) => {{
        match $value {
            $crate::value::Value::I($a) => {
                type $t = i32;
                $body
            }
            $crate::value::Value::D($a) => {
                type $t = f64;
                $body
            }
            $crate::value::Value::C($a) => {
                type $t = u8;
                $body
            }
        }
    }};
}

/// A value of one of the three types. Equality is bit equality (`-0.0 != 0.0`), which is what
/// the verifier needs: a tolerance would hide a lost `+0.1`.
#[derive(Clone, Copy, Debug)]
pub enum Value {
    I(i32),
    D(f64),
    C(u8),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.ty() == other.ty() && self.bits() == other.bits()
    }
}
impl Eq for Value {}

impl Value {
    pub fn ty(self) -> ValueType {
        match self {
            Value::I(_) => ValueType::I,
            Value::D(_) => ValueType::D,
            Value::C(_) => ValueType::C,
        }
    }

    /// The raw bits, zero-extended (i32 as its two's complement pattern).
    pub fn bits(self) -> u64 {
        match self {
            Value::I(v) => v as u32 as u64,
            Value::D(v) => v.to_bits(),
            Value::C(v) => v as u64,
        }
    }

    pub fn from_bits(ty: ValueType, bits: u64) -> Value {
        match ty {
            ValueType::I => Value::I(bits as u32 as i32),
            ValueType::D => Value::D(f64::from_bits(bits)),
            ValueType::C => Value::C(bits as u8),
        }
    }

    /// The value as a JSON number; a non-finite double as the string "inf", "-inf" or "nan".
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Value::I(v) => v.into(),
            Value::C(v) => v.into(),
            Value::D(v) if v.is_finite() => v.into(),
            Value::D(v) if v.is_nan() => "nan".into(),
            Value::D(v) if v > 0.0 => "inf".into(),
            Value::D(_) => "-inf".into(),
        }
    }
}

impl fmt::Display for Value {
    /// Doubles print the shortest text that reads back to the same bits; a byte prints as its
    /// character and its code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Value::I(v) => write!(f, "{v}"),
            Value::D(v) => write!(f, "{v:?}"),
            Value::C(v) => write!(f, "'{}' ({v})", std::ascii::escape_default(v)),
        }
    }
}

/// One operation with its operand: the function every worker applies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Operation {
    pub kind: OpKind,
    pub operand: Value,
}

impl Operation {
    /// Applies the operation once. The operand and `x` have the same type (the planner
    /// guarantees it); a mismatch returns `x` unchanged rather than panicking.
    pub fn apply(&self, x: Value) -> Value {
        match (x, self.operand) {
            (Value::I(x), Value::I(a)) => Value::I(with_op!(self.kind, K => x.apply::<K>(a))),
            (Value::D(x), Value::D(a)) => Value::D(with_op!(self.kind, K => x.apply::<K>(a))),
            (Value::C(x), Value::C(a)) => Value::C(with_op!(self.kind, K => x.apply::<K>(a))),
            _ => x,
        }
    }
}

/// A value type as the hot loops see it: plain arithmetic plus its lock-free cell in shared
/// memory. `K` is an operation code (`ADD`, ...); every `match K` folds away at compile time.
pub trait Scalar: Copy + PartialEq + Send + Sync + 'static {
    /// The atomic cell that holds the value in shared memory.
    type Atomic: crate::shm::Shareable;
    const TYPE: ValueType;

    fn to_value(self) -> Value;
    /// `None` when the value has another type.
    fn from_value(v: Value) -> Option<Self>;

    fn apply<const K: u8>(self, operand: Self) -> Self;

    /// The value's bits, zero-extended (as [`Value::bits`]); `from_bits` reads them back.
    fn to_bits(self) -> u64;
    fn from_bits(bits: u64) -> Self;

    fn load(cell: &Self::Atomic) -> Self;
    fn store(cell: &Self::Atomic, v: Self);
    /// One atomic read-modify-write: a native instruction where the hardware has one, a
    /// compare-exchange loop otherwise. Returns the number of failed compare-exchanges.
    fn rmw<const K: u8>(cell: &Self::Atomic, operand: Self) -> u64;
}

/// A compare-exchange loop applying `f`; returns the number of retries.
#[inline(always)]
fn cas_loop<A, T: Copy>(
    cell: &A,
    load: impl Fn(&A) -> T,
    cas: impl Fn(&A, T, T) -> Result<T, T>,
    f: impl Fn(T) -> T,
) -> u64 {
    let mut retries = 0;
    let mut cur = load(cell);
    loop {
        match cas(cell, cur, f(cur)) {
            Ok(_) => return retries,
            Err(seen) => {
                cur = seen;
                retries += 1;
            }
        }
    }
}

macro_rules! integer_scalar {
    ($t:ty, $atomic:ty, $variant:ident) => {
        impl Scalar for $t {
            type Atomic = $atomic;
            const TYPE: ValueType = ValueType::$variant;

            fn to_value(self) -> Value {
                Value::$variant(self)
            }

            fn from_value(v: Value) -> Option<Self> {
                match v {
                    Value::$variant(x) => Some(x),
                    _ => None,
                }
            }

            #[inline(always)]
            fn to_bits(self) -> u64 {
                self.to_value().bits()
            }

            #[inline(always)]
            fn from_bits(bits: u64) -> Self {
                bits as $t
            }

            #[inline(always)]
            fn apply<const K: u8>(self, a: Self) -> Self {
                match K {
                    ADD => self.wrapping_add(a),
                    SUB => self.wrapping_sub(a),
                    MUL => self.wrapping_mul(a),
                    MIN => self.min(a),
                    MAX => self.max(a),
                    AND => self & a,
                    OR => self | a,
                    XOR => self ^ a,
                    _ => a,
                }
            }

            #[inline(always)]
            fn load(cell: &$atomic) -> Self {
                cell.load(Ordering::Relaxed)
            }

            #[inline(always)]
            fn store(cell: &$atomic, v: Self) {
                cell.store(v, Ordering::Relaxed)
            }

            #[inline(always)]
            fn rmw<const K: u8>(cell: &$atomic, a: Self) -> u64 {
                let o = Ordering::AcqRel;
                match K {
                    ADD => {
                        cell.fetch_add(a, o);
                        0
                    }
                    SUB => {
                        cell.fetch_sub(a, o);
                        0
                    }
                    MIN => {
                        cell.fetch_min(a, o);
                        0
                    }
                    MAX => {
                        cell.fetch_max(a, o);
                        0
                    }
                    AND => {
                        cell.fetch_and(a, o);
                        0
                    }
                    OR => {
                        cell.fetch_or(a, o);
                        0
                    }
                    XOR => {
                        cell.fetch_xor(a, o);
                        0
                    }
                    SET => {
                        cell.swap(a, o);
                        0
                    }
                    _ => cas_loop(
                        cell,
                        |c| c.load(Ordering::Relaxed),
                        |c, cur, new| c.compare_exchange_weak(cur, new, o, Ordering::Relaxed),
                        |x: Self| x.apply::<K>(a),
                    ),
                }
            }
        }
    };
}

integer_scalar!(i32, AtomicI32, I);
integer_scalar!(u8, AtomicU8, C);

impl Scalar for f64 {
    /// Doubles live in shared memory as their 64-bit pattern.
    type Atomic = AtomicU64;
    const TYPE: ValueType = ValueType::D;

    fn to_value(self) -> Value {
        Value::D(self)
    }

    fn from_value(v: Value) -> Option<Self> {
        match v {
            Value::D(x) => Some(x),
            _ => None,
        }
    }

    #[inline(always)]
    fn to_bits(self) -> u64 {
        f64::to_bits(self)
    }

    #[inline(always)]
    fn from_bits(bits: u64) -> f64 {
        f64::from_bits(bits)
    }

    #[inline(always)]
    fn apply<const K: u8>(self, a: f64) -> f64 {
        match K {
            ADD => self + a,
            SUB => self - a,
            MUL => self * a,
            MIN => ieee_minimum(self, a),
            MAX => ieee_maximum(self, a),
            SET => a,
            // and/or/xor are refused for `d` by the planner; keep the value unchanged.
            _ => self,
        }
    }

    #[inline(always)]
    fn load(cell: &AtomicU64) -> f64 {
        f64::from_bits(cell.load(Ordering::Relaxed))
    }

    #[inline(always)]
    fn store(cell: &AtomicU64, v: f64) {
        cell.store(v.to_bits(), Ordering::Relaxed)
    }

    #[inline(always)]
    fn rmw<const K: u8>(cell: &AtomicU64, a: f64) -> u64 {
        if K == SET {
            cell.swap(a.to_bits(), Ordering::AcqRel);
            return 0;
        }
        cas_loop(
            cell,
            |c| c.load(Ordering::Relaxed),
            |c, cur, new| c.compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Relaxed),
            |bits: u64| f64::from_bits(bits).apply::<K>(a).to_bits(),
        )
    }
}

/// IEEE 754-2019 `minimum`: -0.0 is below +0.0 and NaN propagates.
#[inline(always)]
pub fn ieee_minimum(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == y {
        // Equal values differ at most in the sign of zero: pick the negative one.
        if x.is_sign_negative() { x } else { y }
    } else if x < y {
        x
    } else {
        y
    }
}

/// IEEE 754-2019 `maximum`: +0.0 is above -0.0 and NaN propagates.
#[inline(always)]
pub fn ieee_maximum(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else if x == y {
        if x.is_sign_positive() { x } else { y }
    } else if x > y {
        x
    } else {
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: OpKind, operand: Value) -> Operation {
        Operation { kind, operand }
    }

    #[test]
    fn int_wraps_like_c() {
        assert_eq!(op(OpKind::Add, Value::I(1)).apply(Value::I(i32::MAX)), Value::I(i32::MIN));
        assert_eq!(op(OpKind::Mul, Value::I(65536)).apply(Value::I(65536)), Value::I(0));
        assert_eq!(op(OpKind::Min, Value::I(-3)).apply(Value::I(2)), Value::I(-3));
        assert_eq!(op(OpKind::And, Value::I(-65536)).apply(Value::I(-1)), Value::I(-65536));
    }

    #[test]
    fn byte_wraps_and_compares_unsigned() {
        assert_eq!(op(OpKind::Add, Value::C(1)).apply(Value::C(255)), Value::C(0));
        assert_eq!(op(OpKind::Sub, Value::C(1)).apply(Value::C(0)), Value::C(255));
        assert_eq!(op(OpKind::Max, Value::C(200)).apply(Value::C(100)), Value::C(200));
    }

    #[test]
    fn double_minimum_orders_zeros() {
        assert!(ieee_minimum(0.0, -0.0).is_sign_negative());
        assert!(ieee_minimum(-0.0, 0.0).is_sign_negative());
        assert!(ieee_maximum(-0.0, 0.0).is_sign_positive());
        assert_ne!(Value::D(0.0), Value::D(-0.0));
    }

    #[test]
    fn displays() {
        assert_eq!(Value::C(b'a').to_string(), "'a' (97)");
        assert_eq!(Value::C(5).to_string(), "'\\x05' (5)");
        assert_eq!(Value::D(0.1 + 0.2).to_string(), "0.30000000000000004");
        assert_eq!(Value::D(f64::NEG_INFINITY).to_json(), serde_json::json!("-inf"));
    }

    #[test]
    fn atomic_rmw_matches_apply() {
        for kind in OpKind::ALL {
            let cell = AtomicI32::new(7);
            with_op!(kind, K => { i32::rmw::<K>(&cell, 3); });
            assert_eq!(Value::I(cell.into_inner()), op(kind, Value::I(3)).apply(Value::I(7)));
            let cell = AtomicU64::new(7.5f64.to_bits());
            if kind.supports(ValueType::D) {
                with_op!(kind, K => { f64::rmw::<K>(&cell, 3.0); });
                let got = Value::D(f64::from_bits(cell.into_inner()));
                assert_eq!(got, op(kind, Value::D(3.0)).apply(Value::D(7.5)));
            }
        }
    }
}
