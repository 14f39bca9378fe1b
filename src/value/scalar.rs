//! [`Scalar`]: a value type as the hot loops see it (plain arithmetic, its atomic cell in shared
//! memory, one read-modify-write), implemented for `i32`, `u8` and `f64`; and IEEE 754-2019
//! `minimum`/`maximum`, which `f64::min`/`max` are not.

use std::sync::atomic::{AtomicI32, AtomicU8, AtomicU64, Ordering};

use super::{ADD, AND, MAX, MIN, MUL, OR, SET, SUB, Value, ValueType, XOR};

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
