//! The Chrome trace: one named track per worker pid plus runner's, in an order that proves the
//! barrier (every attach before the release, every operation after it, all before verify), and
//! a worker killed mid-run still leaves its events up to its death.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{job, job_file, runner};
use serde_json::Value;

fn trace_path(name: &str) -> String {
    format!("{}/{name}", env!("CARGO_TARGET_TMPDIR"))
}

fn read_trace(path: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("trace written")).expect("trace is JSON")
}

fn events(trace: &Value) -> &Vec<Value> {
    trace["traceEvents"].as_array().expect("traceEvents")
}

/// The named tracks: pid -> name.
fn tracks(trace: &Value) -> std::collections::BTreeMap<i64, String> {
    events(trace)
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "process_name")
        .map(|e| (e["pid"].as_i64().unwrap(), e["args"]["name"].as_str().unwrap().to_string()))
        .collect()
}

fn phase_end(trace: &Value, name: &str) -> f64 {
    let e = events(trace)
        .iter()
        .find(|e| e["cat"] == "phase" && e["name"] == name)
        .unwrap_or_else(|| panic!("phase {name}"));
    e["ts"].as_f64().unwrap() + e["dur"].as_f64().unwrap()
}

fn phase_start(trace: &Value, name: &str) -> f64 {
    events(trace).iter().find(|e| e["cat"] == "phase" && e["name"] == name).unwrap()["ts"].as_f64().unwrap()
}

/// A worker's attach, the start of its first traced operation and the end of its last.
fn worker_window(trace: &Value, pid: i64) -> (f64, f64, f64) {
    let mine: Vec<&Value> = events(trace).iter().filter(|e| e["pid"] == pid && e["ph"] != "M").collect();
    let attach = mine.iter().find(|e| e["name"] == "attach").expect("attach")["ts"].as_f64().unwrap();
    let ops: Vec<&&Value> = mine.iter().filter(|e| e["cat"] == "op").collect();
    assert!(!ops.is_empty(), "worker {pid} traced its operations");
    let first = ops.iter().map(|e| e["ts"].as_f64().unwrap()).fold(f64::INFINITY, f64::min);
    let last_end = ops.iter().map(|e| e["ts"].as_f64().unwrap() + e["dur"].as_f64().unwrap_or(0.0)).fold(0.0, f64::max);
    (attach, first, last_end)
}

#[test]
fn the_tutorial_trace_shows_every_process_in_order() {
    let path = trace_path("increment-trace.json");
    let out =
        runner(&["jobs/increment.yaml", "--start", "together", "--trace", &path, "--trace-ops", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    let trace = read_trace(&path);
    let tracks = tracks(&trace);
    assert_eq!(tracks.len(), 6, "runner and five workers: {tracks:?}");
    for (i, w) in report["workers"].as_array().unwrap().iter().enumerate() {
        assert_eq!(tracks.get(&w["pid"].as_i64().unwrap()), Some(&format!("worker {i}")), "{tracks:?}");
    }
    assert_eq!(tracks.get(&(report["runner_pid"].as_i64().unwrap())), Some(&"runner".to_string()));
    for phase in ["load", "plan", "set up the backend", "fork", "barrier release", "wait", "verify", "report"] {
        assert!(events(&trace).iter().any(|e| e["cat"] == "phase" && e["name"] == phase), "phase {phase}");
    }
    let release = phase_end(&trace, "barrier release");
    let verify = phase_start(&trace, "verify");
    let worker_pids: Vec<i64> =
        report["workers"].as_array().unwrap().iter().map(|w| w["pid"].as_i64().unwrap()).collect();
    for pid in worker_pids {
        let (attach, first, last_end) = worker_window(&trace, pid);
        assert!(attach < release, "worker {pid} attached at {attach} after the release at {release}");
        assert!(first >= release, "worker {pid}'s first operation at {first} before the release at {release}");
        assert!(last_end <= verify, "worker {pid}'s operations end at {last_end}, after verify at {verify}");
    }
    assert_eq!(trace["metadata"]["sampled"], false);
}

/// `start: forked` (the tutorial job's start, as Python's): no barrier phase, and each worker's
/// operation still comes after its attach and before runner verifies.
#[test]
fn a_forked_start_has_no_barrier_and_every_operation_in_the_window() {
    let path = trace_path("increment-forked-trace.json");
    let out =
        runner(&["jobs/increment.yaml", "--start", "forked", "--trace", &path, "--trace-ops", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    assert_eq!(report["order"]["start"], "forked");
    let trace = read_trace(&path);
    assert!(!events(&trace).iter().any(|e| e["cat"] == "phase" && e["name"] == "barrier release"));
    let fork = phase_start(&trace, "fork");
    let verify = phase_start(&trace, "verify");
    for w in report["workers"].as_array().unwrap() {
        let pid = w["pid"].as_i64().unwrap();
        let (attach, start, end) = worker_window(&trace, pid);
        assert!(
            fork <= attach && attach <= start && end <= verify,
            "worker {pid}: {fork} {attach} {start} {end} {verify}"
        );
    }
    // The window opens at the first worker's start and holds every worker.
    let started: Vec<f64> =
        report["workers"].as_array().unwrap().iter().map(|w| w["started_seconds"].as_f64().unwrap()).collect();
    let ended: Vec<f64> =
        report["workers"].as_array().unwrap().iter().map(|w| w["ended_seconds"].as_f64().unwrap()).collect();
    assert_eq!(started.iter().cloned().fold(f64::INFINITY, f64::min), 0.0);
    let last = ended.iter().cloned().fold(0.0, f64::max);
    assert!(
        (last - report["elapsed_seconds"].as_f64().unwrap()).abs() < 1e-9,
        "{last} vs {}",
        report["elapsed_seconds"]
    );
}

#[test]
fn per_operation_events_stay_within_their_total_and_say_they_are_sampled() {
    let path = trace_path("sampled-trace.json");
    let text = job(4, 200_000, "i", "0", "add", "1", "atomic");
    let out = runner(&[&job_file("sampled.yaml", text), "--trace", &path, "--trace-ops"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let trace = read_trace(&path);
    let ops = events(&trace).iter().filter(|e| e["cat"] == "op").count() as u64;
    let total = trace["metadata"]["op_events_total"].as_u64().unwrap();
    assert!(ops <= total && ops > total / 2, "{ops} per-operation events for a total of {total}");
    assert_eq!(trace["metadata"]["sampled"], true);
    assert!(trace["metadata"]["sample_every"].as_u64().unwrap() > 1);
}

#[test]
fn verbose_logs_go_to_standard_error_only() {
    let out = runner(&["jobs/increment.yaml", "-v", "--format", "json"]);
    assert_eq!(out.code, 0);
    assert!(out.stderr.contains("forked") && out.stderr.contains("every worker reaped"), "{}", out.stderr);
    let _: Value = serde_json::from_str(&out.stdout).expect("stdout stays one JSON document");
}

#[test]
fn an_unwritable_trace_file_is_refused_before_running() {
    let out = runner(&["jobs/increment.yaml", "--trace", "/nonexistent-dir/t.json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "nothing ran: {}", out.stdout);
}

#[test]
fn a_killed_worker_leaves_its_events_up_to_its_death() {
    let path = trace_path("killed-trace.json");
    let text = job(2, 30_000_000, "i", "0", "add", "1", "mutex");
    let job = job_file("killed-trace.yaml", text);
    let child = Command::new(common::runner_bin())
        .args([&job, "--trace", &path, "--trace-ops", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let started = Instant::now();
    let children = loop {
        let found: Vec<i32> = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", child.id()))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if found.len() == 2 || started.elapsed() > Duration::from_secs(10) {
            break found;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(children.len(), 2);
    std::thread::sleep(Duration::from_millis(200));
    let victim = children[0];
    Command::new("kill").args(["-KILL", &victim.to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let trace = read_trace(&path);
    let mine: Vec<&Value> = events(&trace).iter().filter(|e| e["pid"] == victim && e["ph"] != "M").collect();
    assert!(mine.iter().any(|e| e["name"] == "attach"), "its attach survives");
    assert!(mine.iter().any(|e| e["name"] == "barrier wait"), "its barrier wait survives");
    assert!(mine.iter().filter(|e| e["cat"] == "op").count() > 10, "its operations up to its death survive");
    assert!(!mine.iter().any(|e| e["name"] == "end"), "it never ended");
    let other = children[1];
    assert!(events(&trace).iter().any(|e| e["pid"] == other && e["name"] == "end"), "the other worker ended");
}

#[test]
fn the_job_file_can_ask_for_a_trace_and_the_flag_wins() {
    let from_job = trace_path("from-job.json");
    let from_flag = trace_path("from-flag.json");
    let _ = std::fs::remove_file(&from_job);
    let text = job(2, 1000, "i", "0", "add", "1", "atomic") + &format!("trace: {{file: {from_job}, ops: true}}\n");
    let path = job_file("trace-in-job.yaml", text);
    assert_eq!(runner(&[&path]).code, 0);
    let trace = read_trace(&from_job);
    assert_eq!(trace["metadata"]["ops"], true);
    assert!(events(&trace).iter().any(|e| e["cat"] == "op"));

    std::fs::remove_file(&from_job).unwrap();
    assert_eq!(runner(&[&path, "--trace", &from_flag]).code, 0);
    assert!(!std::path::Path::new(&from_job).exists(), "the flag's file replaces the job's");
    assert_eq!(read_trace(&from_flag)["metadata"]["ops"], false, "the flag without --trace-ops wins");
}

#[test]
fn a_trace_that_cannot_be_written_keeps_the_json_report() {
    let out = runner(&["jobs/increment.yaml", "--trace", "/dev/full", "--format", "json"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(out.json()["final"], 5, "the report is still the one document on stdout");
    assert!(out.stderr.contains("/dev/full"), "{}", out.stderr);
}

#[test]
fn the_trace_names_a_recovery_as_the_json_report_does() {
    // One worker dies holding the lock: runner recovers it, and both documents say "runner".
    let file = trace_path("recovery.json");
    let text = "workers: 1\niterations: 100\nvalue: {type: i}\noperation: add\nbackend: mutex\nfaults:\n  - {worker: 0, at: 40, action: kill, inside_lock: true}\nexpect_outcome: recovered\n";
    let path = job_file("trace-recovery.yaml", text);
    let out = runner(&[&path, "--format", "json", "--trace", &file]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let trace = read_trace(&file);
    let recovery = serde_json::json!({ "died_holding_lock": 0, "recovered_by": "runner", "restored": true });
    assert_eq!(report["recovery"], recovery);
    assert_eq!(report["recoveries"], serde_json::json!([recovery]));
    assert_eq!(trace["metadata"]["recovery"], report["recovery"]);
    assert_eq!(trace["metadata"]["recoveries"], report["recoveries"]);
}
