//! The generated program, read as text: literals, comments, and each backend's shape.

use super::*;
use crate::value::Value;
use literal::WIDTH;

/// A plan through the real reader and planner.
fn plan(yaml: &str) -> Plan {
    crate::plan_text("t.yaml", yaml).unwrap().remove(0)
}

const TUTORIAL: &str = "description: A test job.\nworkers: 2\nvalue: {type: i}\noperation: add\nbackend: mutex\n";

#[test]
fn doubles_are_literals_that_read_back() {
    assert_eq!(literal(Value::D(0.1)), "0.1");
    assert_eq!(literal(Value::D(1e16)), "1e16");
    assert_eq!(literal(Value::D(-0.0)), "-0.0");
    assert_eq!(literal(Value::D(1.0)), "1.0");
    assert_eq!(literal(Value::D(f64::INFINITY)), "float('inf')");
    assert_eq!(literal(Value::D(f64::NAN)), "float('nan')");
    for x in [0.1, 1e16, 5e-324, f64::MAX, -1.5e-300, 39999.99999969842] {
        let text = literal(Value::D(x));
        assert!(text.contains('.') || text.contains('e'), "{text} is a float in Python");
        assert_eq!(text.parse::<f64>().unwrap().to_bits(), x.to_bits());
    }
}

#[test]
fn bytes_are_bytes_literals() {
    assert_eq!(initial_literal(Value::C(b'a')), "b'a'");
    assert_eq!(initial_literal(Value::C(b'\'')), "b'\\''");
    assert_eq!(initial_literal(Value::C(b'\\')), "b'\\\\'");
    assert_eq!(initial_literal(Value::C(0)), "b'\\x00'");
    assert_eq!(initial_literal(Value::C(255)), "b'\\xff'");
    assert_eq!(literal(Value::C(255)), "255");
}

#[test]
fn comments_wrap() {
    let text = comment(&"word ".repeat(60));
    assert!(text.lines().all(|l| l.starts_with("# ") && l.len() <= WIDTH), "{text}");
}

#[test]
fn atomic_is_refused() {
    let p = plan(&TUTORIAL.replace("mutex", "atomic"));
    assert_eq!(program(&p), Err(NO_ATOMIC.to_string()));
}

#[test]
fn mutex_is_the_tutorial() {
    let text = program(&plan(TUTORIAL)).unwrap();
    for needle in [
        "#!/usr/bin/env python3\n# t: the Python equivalent of runner's job t.yaml",
        "# A test job.",
        "if __name__ == '__main__':\n    multiprocessing.set_start_method('fork')",
        "v = Value('i', 0)",
        "start = Barrier(WORKERS)",
        "        with v.get_lock():\n            v.value = apply(v.value, a)\n",
        "return to_int(x + a)",
        "OPERAND = 1\n",
        "print(\"RESULT \" + json.dumps(result))",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(!text.contains("Queue") && !text.contains("busy(") && !text.contains("turn_changed"), "{text}");
}

#[test]
fn a_forked_start_has_no_barrier() {
    let text = program(&plan(&format!("{TUTORIAL}start: forked\n"))).unwrap();
    assert!(!text.contains("Barrier") && !text.contains("start.wait()"), "{text}");
    for needle in [
        "def worker(index, v, started, ended):",
        "shared = (v, started, ended)",
        "from the first worker's start to the last worker's end",
        "as in Python's tutorial (start: forked)",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[test]
fn none_has_no_lock() {
    let text = program(&plan("workers: 2\nvalue: {type: c}\noperation: add\nbackend: none\n")).unwrap();
    assert!(text.contains("v = Value('c', b'\\x00', lock=False)"), "{text}");
    assert!(text.contains("v.value = bytes([apply(ord(v.value), a)])  # no lock"), "{text}");
    assert!(!text.contains("get_lock():"), "{text}");
}

#[test]
fn channel_sends_batches_to_the_owner() {
    let yaml = "workers: 2\nvalue: {type: d}\noperation: min\noperand: [0.1, 1e16]\nbackend: channel\nbatch: 64\n";
    let text = program(&plan(yaml)).unwrap();
    for needle in [
        "queue = Queue()",
        "BATCH = 64",
        "OPERANDS = [0.1, 1e16]",
        "a = OPERANDS[index]",
        "queue.put((a,) * n)",
        "def minimum(x, y):",
        "return minimum(x, a)",
        "ops = received",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
}

#[test]
fn schedules_take_turns() {
    let yaml = "workers: 2\nvalue: {type: d}\noperation: add\noperand: [0.1, 1e16]\nbackend: channel\nschedule: round-robin\nwork: {inside: 100ns, outside: 200ns}\n";
    let text = program(&plan(yaml)).unwrap();
    for needle in ["SimpleQueue()", "wait_turn(turn, turn_changed, m * WORKERS + index)", "busy(INSIDE_NS * n)"] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let yaml = yaml.replace("channel", "mutex").replace("round-robin", "sequential");
    let text = program(&plan(&yaml)).unwrap();
    assert!(text.contains("    wait_turn(turn, turn_changed, index)  # worker k runs after worker k-1"), "{text}");
    assert!(text.contains("            busy(INSIDE_NS)\n"), "{text}");
}
