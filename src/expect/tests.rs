use super::bounds::exact_sum;
use super::*;

fn run(kind: OpKind, x0: Value, ops: &[Value], n: u64, schedule: Schedule) -> (Value, Check) {
    expected(kind, x0, ops, n, schedule, &mut Steps::new()).unwrap().unwrap()
}

fn d(values: &[f64]) -> Vec<Value> {
    values.iter().map(|&x| Value::D(x)).collect()
}

#[test]
fn exact_sum_is_exact() {
    assert_eq!(exact_sum(&[0.1, 1e16, -1e16]), 0.1);
    assert_eq!(exact_sum(&[1e100, 1.0, -1e100]), 1.0);
}

#[test]
fn schedules_fix_the_order() {
    let ops = d(&[0.1, 1e16, -1e16]);
    let seq = run(OpKind::Add, Value::D(0.0), &ops, 1, Schedule::Sequential);
    assert_eq!(seq.0, Value::D(0.0));
    assert!(seq.1.is_exact());
    let rr = run(OpKind::Add, Value::D(0.0), &ops, 2, Schedule::RoundRobin);
    assert!(rr.1.is_exact());
    let (_, check) = run(OpKind::Add, Value::D(0.0), &ops, 1, Schedule::Concurrent);
    assert!(check.order_dependent());
    assert!(check.accepts(Value::D(0.0), Value::D(0.0)) && check.accepts(Value::D(0.1), Value::D(0.0)));
    assert!(!check.accepts(Value::D(1e10), Value::D(0.0)));
    // 0.1 is absorbed by 1e16 in some orders: the check cannot see it lost.
    assert!(check.blind.as_deref().unwrap().contains("add 0.1"), "{check:?}");
}

#[test]
fn out_of_range_orders_are_refused() {
    let huge = d(&[1e308, -1e308]);
    assert!(expected(OpKind::Add, Value::D(0.0), &huge, 2, Schedule::Concurrent, &mut Steps::new()).is_err());
    assert!(expected(OpKind::Add, Value::D(0.0), &huge, 2, Schedule::Sequential, &mut Steps::new()).is_ok());
    let tiny = d(&[1e-300, 1e300]);
    assert!(expected(OpKind::Mul, Value::D(1e-300), &tiny, 1, Schedule::Concurrent, &mut Steps::new()).is_err());
    let (_, check) = run(OpKind::Mul, Value::D(3.0), &d(&[1.1, 0.7]), 10, Schedule::Concurrent);
    assert!(matches!(check.rule, Rule::Interval { .. }));
    let from_zero = run(OpKind::Mul, Value::D(0.0), &d(&[1.5, 0.5]), 10, Schedule::Concurrent);
    assert!(from_zero.1.is_exact());
}

#[test]
fn fsum_rounds_half_way_cases_correctly() {
    // 1 + 2^-53 + 2^-106: the sum lies just above half-way, so it rounds up.
    assert_eq!(exact_sum(&[1.0, 2f64.powi(-53), 2f64.powi(-106)]), 1.0 + f64::EPSILON);
    assert_eq!(exact_sum(&[1.0, 2f64.powi(-53)]), 1.0);
}

#[test]
fn integers_commute() {
    let ops = [Value::I(1), Value::I(2), Value::I(3)];
    let (v, check) = run(OpKind::Add, Value::I(0), &ops, 10, Schedule::Concurrent);
    assert_eq!((v, check.rule, check.blind), (Value::I(60), Rule::Exact, None));
    let (_, check) = run(OpKind::Set, Value::I(0), &ops, 10, Schedule::Concurrent);
    assert_eq!(check.rule, Rule::OneOf(ops.to_vec()));
    assert!(check.blind.is_some());
}

#[test]
fn sums_whose_partial_sums_are_all_exact_do_not_depend_on_the_order() {
    // Small integers and dyadic fractions: every partial sum is a double.
    for ops in [d(&[1.0, 2.0]), d(&[0.5, -0.25, 3.0]), d(&[3.0, -5.0, 0.125]), d(&[2f64.powi(900), -(2f64.powi(901))])]
    {
        assert!(!order_matters(OpKind::Add, Value::D(0.0), &ops, 1000), "{ops:?}");
        let (_, check) = run(OpKind::Add, Value::D(0.0), &ops, 1000, Schedule::Concurrent);
        assert!(check.is_exact(), "{ops:?}");
    }
    // 2^53 is where the integers stop being doubles.
    let big = d(&[2f64.powi(43), 1.0]);
    assert!(!order_matters(OpKind::Add, Value::D(0.0), &big, 1000));
    assert!(order_matters(OpKind::Add, Value::D(0.0), &big, 1024));
    // 0.1 is not dyadic with 1.0 below 2^53 ulps of 2^-56.
    assert!(order_matters(OpKind::Add, Value::D(0.0), &d(&[0.1, 1.0]), 1 << 20));
    // Exact products: small odd parts, powers of two.
    assert!(!order_matters(OpKind::Mul, Value::D(3.0), &d(&[2.0, 0.5, 3.0]), 10));
    assert!(order_matters(OpKind::Mul, Value::D(3.0), &d(&[1.1, 0.5]), 10));
}

#[test]
fn every_order_of_an_exact_sum_gives_its_value() {
    // Reversed and interleaved orders of a sum the check calls exact end at the same bits.
    let ops = [0.75, -3.5, 1024.0, 0.125];
    let (v, check) = run(OpKind::Add, Value::D(-7.0), &d(&ops), 100, Schedule::Concurrent);
    assert!(check.is_exact());
    let mut x = -7.0;
    for _ in 0..100 {
        for a in ops.iter().rev() {
            x += a;
        }
    }
    assert_eq!(Value::D(x), v);
}

#[test]
fn the_sum_bound_holds_for_adversarial_orders_and_is_tighter_than_higham() {
    let ops = [1e16, -1e16, 0.1];
    let (_, check) = run(OpKind::Add, Value::D(0.0), &d(&ops), 1000, Schedule::Concurrent);
    let Rule::Interval { bound, .. } = check.rule else { panic!("{check:?}") };
    // Higham's gamma(3000) * sum |terms| = 6.66e6.
    assert!(bound < 5e6, "{bound}");
    // Every large term first, then the small ones; and the other way round.
    let orders: [&[f64]; 3] = [&[1e16, 0.1, -1e16], &[0.1, 1e16, -1e16], &[1e16, -1e16, 0.1]];
    for order in orders {
        let mut x = 0.0;
        for &a in order {
            for _ in 0..1000 {
                x += a;
            }
        }
        assert!(check.accepts(Value::D(x), Value::D(0.0)), "{x} {check:?}");
        let mut x = 0.0;
        for _ in 0..1000 {
            for &a in order {
                x += a;
            }
        }
        assert!(check.accepts(Value::D(x), Value::D(0.0)), "{x} {check:?}");
    }
}

#[test]
fn a_check_says_what_losing_one_update_would_leave() {
    // add 1 on i: one lost update changes the value.
    assert_eq!(run(OpKind::Add, Value::I(0), &[Value::I(1)], 100, Schedule::Concurrent).1.blind, None);
    // add 0, max: the same value.
    assert!(run(OpKind::Add, Value::I(0), &[Value::I(0)], 100, Schedule::Concurrent).1.blind.is_some());
    assert!(run(OpKind::Max, Value::I(0), &[Value::I(5)], 100, Schedule::Concurrent).1.blind.is_some());
    // Adding 1.0 to 2^53 is absorbed.
    let (_, check) = run(OpKind::Add, Value::D(2f64.powi(53)), &[Value::D(1.0)], 10, Schedule::Concurrent);
    assert!(check.blind.is_some(), "{check:?}");
    // 0.1 added 400000 times: each one counts.
    assert_eq!(run(OpKind::Add, Value::D(0.0), &[Value::D(0.1)], 400_000, Schedule::Concurrent).1.blind, None);
    // A tight interval sees every lost operand.
    let (_, check) = run(OpKind::Add, Value::D(0.0), &d(&[0.1, 0.2]), 1000, Schedule::Concurrent);
    assert!(matches!(check.rule, Rule::Interval { .. }) && check.blind.is_none(), "{check:?}");
}

#[test]
fn a_product_every_order_drives_to_zero_is_blind_to_lost_updates() {
    let blind =
        |x0: f64, ops: &[f64], n: u64, schedule: Schedule| run(OpKind::Mul, Value::D(x0), &d(ops), n, schedule).1;
    for schedule in [Schedule::Concurrent, Schedule::RoundRobin, Schedule::Sequential] {
        // From zero: every lost update leaves zero.
        let check = blind(0.0, &[2.0, 3.0], 1000, schedule);
        assert!(check.is_exact() && check.blind.as_deref().unwrap().contains("mul 2"), "{schedule:?} {check:?}");
        // Through a zero factor applied many times: the same.
        let check = blind(1.0, &[0.0, 0.5], 1000, schedule);
        assert!(check.blind.is_some(), "{schedule:?} {check:?}");
    }
    // From zero, a lost negative factor flips the sign, which the exact check sees; a
    // positive one does not.
    let check = blind(0.0, &[-2.0, -3.0], 10, Schedule::Concurrent);
    assert_eq!(check.blind, None, "{check:?}");
    let check = blind(0.0, &[-2.0, 3.0], 10, Schedule::Concurrent);
    assert!(check.blind.as_deref().unwrap().contains("mul 3"), "{check:?}");
    // The only zero factor, applied once: losing it leaves a nonzero value (seen), losing
    // the other factor leaves zero (not seen).
    let check = blind(1.0, &[0.0, 0.5], 1, Schedule::Concurrent);
    assert!(check.blind.as_deref().unwrap().contains("mul 0.5"), "{check:?}");
    let check = blind(1.0, &[0.0], 1, Schedule::Concurrent);
    assert_eq!(check.blind, None, "{check:?}");
}
