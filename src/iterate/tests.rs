use super::*;

/// `iterate`, for cases well within the step budget.
fn it(op: &Operation, x: Value, n: u64) -> Value {
    iterate(op, x, n, &mut Steps::new()).expect("within the step budget")
}

fn literal(op: &Operation, mut x: Value, n: u64) -> Value {
    for _ in 0..n {
        x = op.apply(x);
    }
    x
}

fn d(kind: OpKind, a: f64) -> Operation {
    Operation { kind, operand: Value::D(a) }
}

#[test]
fn double_addition_matches_literal_steps() {
    let cases = [
        (0.0, 0.1),
        (0.1, 0.1),
        (1.0, 1e-16),
        (1.0, 1.1102230246251565e-16), // exactly half an ulp of 1.0: ties
        (3.0, 1.1102230246251565e-16),
        (-5.5, 0.3),
        (-1e-310, 3e-320),
        (1e308, 1e292),
        (9007199254740990.0, 1.0),
        (-1.0, 0.7),
        (-0.0, 0.0),
        (0.5, -0.125),
    ];
    for (x, a) in cases {
        for kind in [OpKind::Add, OpKind::Sub] {
            let op = d(kind, a);
            for n in [0, 1, 2, 3, 10, 1000, 123_457] {
                assert_eq!(it(&op, Value::D(x), n), literal(&op, Value::D(x), n), "{kind:?} x={x} a={a} n={n}");
            }
        }
    }
}

#[test]
fn double_multiplication_matches_literal_steps() {
    for (x, a) in [(1.0, 1.5), (3.0, -0.5), (-2.0, 1.0000001), (1e-300, 1e-10), (7.0, -1.0), (5.0, 0.0)] {
        let op = d(OpKind::Mul, a);
        for n in [0, 1, 2, 3, 17, 5000, 100_001] {
            assert_eq!(it(&op, Value::D(x), n), literal(&op, Value::D(x), n), "x={x} a={a} n={n}");
        }
    }
}

#[test]
fn double_multiplication_near_one_matches_literal_steps() {
    let near = [
        1.0 + f64::EPSILON,
        1.0 - f64::EPSILON / 2.0,
        -(1.0 + f64::EPSILON),
        1.0 + 3.0 * f64::EPSILON,
        1.0 - 2f64.powi(-20),
        -(1.0 - 2f64.powi(-9)),
        1.0 + 2f64.powi(-12),
        0.75,
        1.9,
    ];
    for a in near {
        for x in [1.0, -3.3, 1.9999999999999998, 1e-310, 5e-324, 2.5e-308, 1.7e308] {
            let op = d(OpKind::Mul, a);
            for n in [2, 3, 1000, 250_001, 2_000_003] {
                assert_eq!(it(&op, Value::D(x), n), literal(&op, Value::D(x), n), "x={x} a={a} n={n}");
            }
        }
    }
}

#[test]
fn double_multiplication_walks_to_its_end() {
    // Far beyond any literal walk: overflow, and the subnormal fixed point whatever the start.
    let n = 1024 * 1_000_000_000_000u64;
    assert_eq!(it(&d(OpKind::Mul, 1.0000001), Value::D(1.0), n), Value::D(f64::INFINITY));
    assert_eq!(it(&d(OpKind::Mul, -1.0000001), Value::D(1.0), n), Value::D(f64::INFINITY));
    let sink = d(OpKind::Mul, 1.0 - 2f64.powi(-10));
    let from_far = it(&sink, Value::D(1e300), n);
    let walked = literal(&sink, Value::D(3e-320), 100_000);
    assert_eq!(from_far, walked);
    let tiny_step = d(OpKind::Mul, 1.0 + f64::EPSILON);
    assert!(matches!(it(&tiny_step, Value::D(1.0), n), Value::D(v) if v > 1.0 && v.is_finite()));
}

#[test]
fn integers_match_literal_steps() {
    for kind in OpKind::ALL {
        for (x, a) in [(0, 1), (i32::MAX - 3, 7), (-5, -3), (12345, 65536), (3, 0)] {
            let op = Operation { kind, operand: Value::I(a) };
            for n in [0, 1, 2, 5, 1000, 77_777] {
                assert_eq!(it(&op, Value::I(x), n), literal(&op, Value::I(x), n));
            }
            let op = Operation { kind, operand: Value::C(a as u8) };
            assert_eq!(it(&op, Value::C(x as u8), 777), literal(&op, Value::C(x as u8), 777));
        }
    }
}

#[test]
fn long_double_sums_match_literal_steps() {
    for (x, a) in [(0.0, 0.1), (1.0, 3e-9), (-1e6, 0.01)] {
        let op = d(OpKind::Add, a);
        let n = 20_000_000;
        assert_eq!(it(&op, Value::D(x), n), literal(&op, Value::D(x), n), "x={x} a={a}");
    }
}

#[test]
fn huge_counts_are_fast() {
    let n = 1024 * 1_000_000_000_000u64;
    let t = std::time::Instant::now();
    let sum = it(&d(OpKind::Add, 0.1), Value::D(0.0), n);
    // The rounding drifts: the sum lands near, not at, n / 10.
    assert!(matches!(sum, Value::D(v) if (v / (n as f64 / 10.0) - 1.0).abs() < 0.02), "{sum}");
    assert_eq!(it(&d(OpKind::Mul, 1.5), Value::D(1.0), n), Value::D(f64::INFINITY));
    assert_eq!(
        it(&Operation { kind: OpKind::Add, operand: Value::I(1) }, Value::I(0), n),
        Value::I((n % (1 << 32)) as u32 as i32)
    );
    assert!(t.elapsed().as_secs_f64() < 1.0);
}

#[test]
fn depth_finds_surviving_updates() {
    let add1 = Operation { kind: OpKind::Add, operand: Value::I(1) };
    assert_eq!(depth(&add1, Value::I(0), Value::I(1234), 2, 1_600_000), Depth::Exactly(1234));
    assert_eq!(depth(&add1, Value::I(0), Value::I(1), 2, 1_600_000), Depth::Unreachable);
    let add_c = Operation { kind: OpKind::Add, operand: Value::C(1) };
    assert_eq!(depth(&add_c, Value::C(0), Value::C(7), 2, 1000), Depth::Several);
    let addd = d(OpKind::Add, 0.1);
    let final_ = it(&addd, Value::D(0.0), 777);
    assert_eq!(depth(&addd, Value::D(0.0), final_, 2, 5000), Depth::Exactly(777));
    assert_eq!(depth(&addd, Value::D(0.0), Value::D(0.15), 2, 5000), Depth::Unreachable);
    let mul = Operation { kind: OpKind::Mul, operand: Value::I(3) };
    let final_ = it(&mul, Value::I(1), 40);
    assert_eq!(depth(&mul, Value::I(1), final_, 2, 100), Depth::Exactly(40));
    let set = Operation { kind: OpKind::Set, operand: Value::I(9) };
    assert_eq!(depth(&set, Value::I(0), Value::I(9), 1, 10), Depth::Several);
}
