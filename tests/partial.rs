//! Runs that stop before every operation ran (a killed worker, the deadline): judged against the
//! operations applied, reporting what they were checked against, and no figure for a worker
//! that was never measured.

mod common;

use common::{assert_valid, job_file, runner, validator};
use serde_json::Value;

/// 3 workers adding 1, 2 and 3; worker 1 killed inside the lock after 5000 operations.
const RECOVERY: &str = "workers: 3
iterations: 100000
value: {type: i}
operation: add
operand: [1, 2, 3]
backend: mutex
faults:
  - {worker: 1, at: 5000, action: kill, inside_lock: true}
expect_outcome: recovered
";

/// Far more work than a 10 ms deadline lets run.
fn endless(backend: &str, operand: &str) -> String {
    format!(
        "workers: 2\niterations: 500000000\nvalue: {{type: i}}\noperation: add\noperand: {operand}\nbackend: {backend}\n"
    )
}

fn json_run(name: &str, text: &str, extra: &[&str]) -> Value {
    let path = job_file(name, text);
    let mut args = vec![path.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    runner(&args).json()
}

/// Checked last, so that an older runner fails on what the test is about first.
fn valid(doc: &Value) {
    assert_valid(&validator(), doc);
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// The check a partial run reports is not the full plan's exact value.
fn assert_checked_against_applied(doc: &Value, planned: i64) {
    let expected = &doc["expected"];
    assert_eq!(expected["kind"], "applied", "{expected:#}");
    assert_ne!(expected.get("value").and_then(Value::as_i64), Some(planned), "{expected:#}");
    let (min, max) = (u(&expected["min_operations"]), u(&expected["max_operations"]));
    assert!(min <= max && max < u(&doc["total_operations"]), "{expected:#}");
    assert_eq!(doc["applied_range"]["min"], expected["min_operations"]);
}

#[test]
fn a_recovery_with_per_worker_operands_is_judged_against_the_applied_operations() {
    let doc = json_run("partial-recovery.yaml", RECOVERY, &[]);
    // 100000*1 + 5000*2 + 100000*3: the recovery undid the killed worker's update.
    assert_eq!(doc["final"], 410000);
    let verdict = doc["verdict"].as_str().unwrap();
    assert!(verdict == "correct" || verdict == "within_bound", "{verdict}: {doc:#}");
    assert_checked_against_applied(&doc, 600000);
    assert_eq!(doc["outcome_as_expected"], true);
    valid(&doc);
}

#[test]
fn a_stopped_mutex_run_with_per_worker_operands_is_not_wrong() {
    let doc = json_run("partial-slowop.yaml", &endless("mutex", "[1, 2]"), &["--timeout", "10ms"]);
    assert!(doc["deadline_seconds"].is_number(), "the deadline stopped it: {doc:#}");
    assert_ne!(doc["verdict"], "wrong", "{doc:#}");
    // Up to a chunk per stopped worker can hide lost updates: not `correct`.
    if doc["applied_range"]["min"] != doc["applied_range"]["max"] {
        assert_eq!(doc["correct"], false);
        assert!(doc["expected"]["blind"].as_str().is_some_and(|b| b.contains("undetected")), "{doc:#}");
    }
    assert_checked_against_applied(&doc, 1_500_000_000);
    valid(&doc);
}

#[test]
fn a_stopped_none_run_counts_lost_updates_against_the_applied_operations() {
    let path = job_file("partial-slown.yaml", endless("none", "1"));
    let doc = runner(&[&path, "--format", "json", "--timeout", "10ms"]).json();
    let applied_max = doc["applied_range"]["max"].as_u64().unwrap_or_else(|| u(&doc["applied_operations"]));
    assert!(applied_max < 1_000_000_000, "{doc:#}");
    if let Some(lost) = doc["lost_updates"].as_u64() {
        assert!(lost <= applied_max, "{lost} lost of at most {applied_max} applied");
    }
    assert_checked_against_applied(&doc, 1_000_000_000);
    let human = runner(&[&path, "--timeout", "10ms"]);
    let verdict = human.stdout.lines().find(|l| l.trim_start().starts_with("verdict")).unwrap();
    assert!(!verdict.contains("of 1000000000"), "{verdict}");
    valid(&doc);
}

#[test]
fn partial_catalog_runs_report_the_check_they_had() {
    for (file, planned) in [("jobs/fault-recovery.yaml", 300000), ("jobs/fault-deadline.yaml", 2000)] {
        let doc = runner(&[file, "--format", "json"]).json();
        assert_checked_against_applied(&doc, planned);
        let exact = doc["applied_range"]["min"] == doc["applied_range"]["max"];
        assert!(exact || doc["correct"] == false, "{file}: correct over a range: {doc:#}");
        // `runner plan` still shows the planned check.
        let plan = runner(&["plan", file]);
        assert!(plan.stdout.contains(&planned.to_string()), "{}", plan.stdout);
        valid(&doc);
    }
}

#[test]
fn a_killed_worker_has_no_speed_and_fairness_covers_the_measured_workers() {
    let doc = json_run("partial-killed.yaml", RECOVERY, &[]);
    let killed = &doc["workers"][1];
    for field in ["seconds", "ended_seconds", "ops_per_second"] {
        assert!(killed[field].is_null(), "{field}: {killed:#}");
    }
    let fairness = &doc["fairness"];
    assert_eq!(fairness["workers_measured"], 2, "{fairness:#}");
    assert_eq!(fairness["workers"], 3, "{fairness:#}");
    let rates: Vec<f64> = [0, 2].iter().map(|&i| doc["workers"][i]["ops_per_second"].as_f64().unwrap()).collect();
    let jain = rates.iter().sum::<f64>().powi(2) / (2.0 * rates.iter().map(|r| r * r).sum::<f64>());
    assert!((fairness["jain"].as_f64().unwrap() - jain).abs() < 1e-9, "{jain} vs {fairness:#}");
    let ends: Vec<f64> = [0, 2].iter().map(|&i| doc["workers"][i]["ended_seconds"].as_f64().unwrap()).collect();
    let spread = (ends[0] - ends[1]).abs();
    assert!((fairness["finish_spread_seconds"].as_f64().unwrap() - spread).abs() < 1e-9, "{fairness:#}");
    valid(&doc);
}

#[test]
fn a_run_stopped_before_any_worker_was_measured_has_no_fairness() {
    let path = job_file("partial-unmeasured.yaml", endless("mutex", "1"));
    let doc = runner(&[&path, "--format", "json", "--timeout", "10ms"]).json();
    assert!(doc["workers"].as_array().unwrap().iter().all(|w| w["ops_per_second"].is_null()), "{doc:#}");
    assert!(doc["fairness"].is_null(), "{doc:#}");
    let human = runner(&[&path, "--timeout", "10ms"]);
    assert!(!human.stdout.contains("fairness"), "{}", human.stdout);
    valid(&doc);
}

#[test]
fn the_speed_uses_the_count_the_check_established() {
    // One operand, add 1 from 0, mutex: the final value is the number of operations applied.
    let path = job_file("partial-speed.yaml", endless("mutex", "1"));
    let doc = runner(&[&path, "--format", "json", "--timeout", "10ms"]).json();
    let applied = u(&doc["final"]);
    assert_eq!(u(&doc["applied_operations"]), applied, "{doc:#}");
    assert_eq!(doc["expected"]["established_operations"], applied, "{doc:#}");
    let rate = applied as f64 / doc["elapsed_seconds"].as_f64().unwrap();
    assert!((doc["ops_per_second"].as_f64().unwrap() - rate).abs() <= rate * 1e-9, "{doc:#}");
    valid(&doc);
}

#[test]
fn one_stopped_worker_without_a_lock_loses_nothing() {
    let text = "workers: 1\niterations: 500000000\nvalue: {type: i}\noperation: add\nbackend: none\n";
    let path = job_file("partial-one-none.yaml", text);
    let doc = runner(&[&path, "--format", "json", "--timeout", "10ms"]).json();
    assert_eq!(doc["verdict"], "no_race", "{doc:#}");
    assert_eq!(doc["lost_updates"], 0, "{doc:#}");
    assert_eq!(doc["applied_operations"], doc["final"], "{doc:#}");
    assert!(doc["expected"]["blind"].is_null(), "nothing to hide: {doc:#}");
    valid(&doc);
}
