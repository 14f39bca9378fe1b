use std::sync::atomic::{AtomicI32, AtomicU64};

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
