//! Literals read against the value's type: never truncated or coerced silently.

use super::planner::Planner;
use crate::spec::{At, Literal};
use crate::value::{Value, ValueType};

impl Planner<'_> {
    /// Reads a literal as a value of type `ty`; never truncates or coerces silently.
    pub(super) fn literal(&mut self, lit: &At<Literal>, ty: ValueType, field: &str) -> Option<Value> {
        match literal_value(&lit.value, ty) {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(lit.pos, field, message);
                None
            }
        }
    }
}

/// The value a literal denotes for type `ty`, or why it denotes none.
pub fn literal_value(lit: &Literal, ty: ValueType) -> Result<Value, String> {
    const EXACT: i128 = 1 << 53;
    match (ty, lit) {
        (ValueType::I, Literal::Int(i)) => i32::try_from(*i)
            .map(Value::I)
            .map_err(|_| format!("{i} is outside the range of type i (a C int: {} to {}); write a mask like 0xFFFF0000 as a negative number", i32::MIN, i32::MAX)),
        (ValueType::I, Literal::Float(f)) => Err(format!("expected an integer for type i, found the float {f:?}")),
        (ValueType::I | ValueType::D, Literal::Str(s)) => {
            Err(format!("expected a number for type {}, found the string {s:?} (strings are for type c)", ty.name()))
        }
        (ValueType::D, Literal::Int(i)) if i.abs() <= EXACT => Ok(Value::D(*i as f64)),
        (ValueType::D, Literal::Int(i)) => {
            Err(format!("{i} cannot be held exactly by a double (integers beyond 2^53 round); write it as a float if you mean the nearest double"))
        }
        (ValueType::D, Literal::Float(f)) if f.is_finite() => Ok(Value::D(*f)),
        (ValueType::D, Literal::Float(f)) => Err(format!("{f:?} is not allowed: literals must be finite")),
        (ValueType::C, Literal::Int(i)) => u8::try_from(*i)
            .map(Value::C)
            .map_err(|_| format!("{i} is outside the range of type c (a byte: 0 to 255)")),
        (ValueType::C, Literal::Float(f)) => Err(format!("expected an integer 0..=255 or a one-character string for type c, found the float {f:?}")),
        (ValueType::C, Literal::Str(s)) => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii() => Ok(Value::C(c as u8)),
                (Some(c), None) => Err(format!("{c:?} is not ASCII: a c value is one byte; give its code as an integer")),
                _ => Err(format!("{s:?} is not one character: a string for type c is one ASCII character")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_by_type() {
        assert_eq!(literal_value(&Literal::Str("a".into()), ValueType::C), Ok(Value::C(97)));
        assert_eq!(literal_value(&Literal::Str("5".into()), ValueType::C), Ok(Value::C(53)));
        assert!(literal_value(&Literal::Str("ab".into()), ValueType::C).is_err());
        assert!(literal_value(&Literal::Str("é".into()), ValueType::C).is_err());
        assert!(literal_value(&Literal::Int(300), ValueType::C).is_err());
        assert!(literal_value(&Literal::Int(-1), ValueType::C).is_err());
        assert!(literal_value(&Literal::Float(1.5), ValueType::I).is_err());
        assert!(literal_value(&Literal::Int(0xFFFF0000), ValueType::I).is_err());
        assert_eq!(literal_value(&Literal::Int(1 << 53), ValueType::D), Ok(Value::D(9007199254740992.0)));
        assert!(literal_value(&Literal::Int((1 << 53) + 1), ValueType::D).is_err());
        assert!(literal_value(&Literal::Float(f64::INFINITY), ValueType::D).is_err());
    }
}
