//! The benchmark's bare programs over real forks: every raw loop ends at the value its
//! operations make (a loop that lost updates would make every ratio against it a lie), and the
//! native tutorial prints 5.

use std::process::Command;

fn run(program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program).args(args).output().expect("the program runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn every_raw_loop_reaches_its_value() {
    for primitive in ["atomic", "mutex", "pthread", "pipe", "pipe-batch"] {
        for ty in ["i", "d", "c"] {
            let (ok, out) = run(env!("CARGO_BIN_EXE_raw"), &[primitive, ty, "3", "5000"]);
            assert!(ok, "raw {primitive} {ty}: {out}");
            let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON line");
            assert_eq!(report["final"], report["expected"], "raw {primitive} {ty}: {out}");
            assert_eq!(report["ops"], 15000);
            assert!(report["ops_per_second"].as_f64().unwrap() > 0.0);
        }
    }
}

#[test]
fn a_wrong_usage_is_refused() {
    let (ok, _) = run(env!("CARGO_BIN_EXE_raw"), &["spin", "i", "2", "10"]);
    assert!(!ok);
    let (ok, _) = run(env!("CARGO_BIN_EXE_raw"), &["atomic", "i", "0", "10"]);
    assert!(!ok);
}

#[test]
fn forks_are_timed_and_reaped() {
    let (ok, out) = run(env!("CARGO_BIN_EXE_raw"), &["fork", "4"]);
    assert!(ok, "{out}");
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(report["workers"], 4);
    assert!(report["fork_seconds"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_native_tutorial_ends_at_five() {
    let (ok, out) = run(env!("CARGO_BIN_EXE_tutorial"), &[]);
    assert!(ok);
    assert_eq!(out.trim(), "5");
}
