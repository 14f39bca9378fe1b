//! The three value types (`i`, `d`, `c`) and what each operation does to them.
//!
//! Owns: the runtime [`Value`] and [`Operation`] used by the planner, the channel owner and the
//! reports, and the [`Scalar`] trait through which the workers' hot loops are monomorphised per
//! type and per operation (the operation is a const generic, so the loop contains no dispatch).
//! Also `named_enum!`, the one list of names that value's, names' and spec's enums
//! are written with. Beside it: `scalar.rs` (the [`Scalar`] trait and its three types, IEEE
//! `minimum`/`maximum`), `named.rs` (the macro), `tests.rs`.
//! Does not own: how often an operation is applied (see `iterate`) or how it is synchronised
//! (see `sync`).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

mod named;
mod scalar;

pub(crate) use named::named_enum;
pub use scalar::{Scalar, ieee_maximum, ieee_minimum};

named_enum! {
    /// The type of the shared value, as in Python's `multiprocessing.Value` typecodes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    pub enum ValueType {
        /// A C int: 32-bit two's complement, arithmetic wraps.
        #[serde(rename = "i")]
        I => "i",
        /// A C double: IEEE 754 binary64.
        #[serde(rename = "d")]
        D => "d",
        /// One unsigned byte: arithmetic wraps modulo 256.
        #[serde(rename = "c")]
        C => "c",
    }
}

impl ValueType {
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

named_enum! {
    /// The operation every worker applies.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum OpKind {
        Add => "add",
        Sub => "sub",
        Mul => "mul",
        Min => "min",
        Max => "max",
        And => "and",
        Or => "or",
        Xor => "xor",
        Set => "set",
    }
}

impl OpKind {
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

// After the macros, which it uses.
#[cfg(test)]
mod tests;
