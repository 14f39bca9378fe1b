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

/// The Trace Event Format's rules that viewers rely on, checked on one trace: every event has
/// the fields its phase requires (name, ph, pid, tid, ts; dur for `X`; id for flows; the scope
/// for instants), every phase is a known one, and on each track (pid, tid) the slices nest or
/// are disjoint (`B`/`E` balanced in order, `X` never overlapping partly, their ends computed
/// as a viewer does, `ts + dur` in floating point), and every flow has one start and one finish,
/// the finish not before the start. Returns what breaks a rule.
fn broken_rules(trace: &Value) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut broken = Vec::new();
    let Some(events) = trace["traceEvents"].as_array() else { return vec!["no traceEvents array".into()] };
    // Per track: its complete slices (start, end, name) and its B/E stack.
    let mut slices: BTreeMap<(i64, i64), Vec<Slice>> = BTreeMap::new();
    let mut stacks: BTreeMap<(i64, i64), Vec<(f64, String)>> = BTreeMap::new();
    let mut flows: BTreeMap<u64, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for (n, e) in events.iter().enumerate() {
        let ph = e["ph"].as_str().unwrap_or("");
        let name = e["name"].as_str();
        let (pid, tid) = (e["pid"].as_i64(), e["tid"].as_i64());
        let ts = e["ts"].as_f64();
        let mut fail = |what: &str| broken.push(format!("event {n} ({ph} {name:?}): {what}: {e}"));
        if !["B", "E", "X", "i", "I", "s", "t", "f", "M", "C"].contains(&ph) {
            fail("unknown phase");
            continue;
        }
        let (Some(name), Some(pid), Some(tid)) = (name, pid, tid) else {
            fail("name, pid and tid are required");
            continue;
        };
        if ph == "M" {
            if e["args"].as_object().is_none() {
                fail("a metadata event has args");
            }
            continue;
        }
        let Some(ts) = ts.filter(|ts| ts.is_finite() && *ts >= 0.0) else {
            fail("ts is required (a number, not negative)");
            continue;
        };
        let track = (pid, tid);
        match ph {
            "X" => match e["dur"].as_f64().filter(|d| d.is_finite() && *d >= 0.0) {
                Some(dur) => slices.entry(track).or_default().push((ts, ts + dur, name.to_string())),
                None => fail("a complete event has dur (a number, not negative)"),
            },
            "B" => stacks.entry(track).or_default().push((ts, name.to_string())),
            "E" => match stacks.entry(track).or_default().pop() {
                Some((begun, _)) if begun <= ts => {}
                _ => fail("an end without its begin before it"),
            },
            "i" | "I" if !matches!(e["s"].as_str(), Some("t" | "p" | "g")) => fail("an instant has a scope: t, p or g"),
            "s" | "t" | "f" => match e["id"].as_u64() {
                Some(id) => {
                    let (starts, finishes) = flows.entry(id).or_default();
                    match ph {
                        "s" => starts.push(ts),
                        "f" if e["bp"] == "e" => finishes.push(ts),
                        "f" => fail("a flow's finish binds to its enclosing slice (bp: e)"),
                        _ => {}
                    }
                }
                None => fail("a flow event has an id"),
            },
            _ => {}
        }
    }
    for (track, stack) in &stacks {
        if !stack.is_empty() {
            broken.push(format!("track {track:?}: {} begins never ended", stack.len()));
        }
    }
    for (track, list) in &mut slices {
        crossed(*track, list, &mut broken);
    }
    for (id, (starts, finishes)) in &flows {
        match (starts.as_slice(), finishes.as_slice()) {
            ([s], [f]) if f >= s => {}
            _ => broken.push(format!("flow {id}: starts {starts:?}, finishes {finishes:?}")),
        }
    }
    broken
}

/// A complete slice: its start, its end (`ts + dur`) and its name.
type Slice = (f64, f64, String);

/// On one track, a slice that overlaps another partly (as viewers order them: by start, the
/// longer first).
fn crossed(track: (i64, i64), list: &mut [Slice], broken: &mut Vec<String>) {
    list.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut open: Vec<&Slice> = Vec::new();
    for s in list.iter() {
        while open.last().is_some_and(|top| top.1 <= s.0) {
            open.pop();
        }
        if let Some(top) = open.last()
            && s.1 > top.1
        {
            broken.push(format!("track {track:?}: {s:?} overlaps {top:?} partly"));
        }
        open.push(s);
    }
}

fn assert_rules(label: &str, trace: &Value) {
    let broken = broken_rules(trace);
    assert!(
        broken.is_empty(),
        "{label}: {} broken rules, the first: {:#?}",
        broken.len(),
        &broken[..broken.len().min(5)]
    );
}

#[test]
fn the_rules_checker_sees_slices_that_overlap_partly_and_flows_without_a_finish() {
    let trace = serde_json::json!({ "traceEvents": [
        { "ph": "X", "name": "lock wait", "pid": 1, "tid": 1, "ts": 0.1, "dur": 0.2 },
        // Ends where the wait ends in exact arithmetic, after it in floating point.
        { "ph": "X", "name": "lock held", "pid": 1, "tid": 1, "ts": 0.30000000000000004, "dur": 1.0 },
        { "ph": "X", "name": "run", "pid": 1, "tid": 1, "ts": 0.0, "dur": 1.2 },
        { "ph": "s", "name": "message", "pid": 1, "tid": 1, "ts": 0.5, "id": 7 },
        { "ph": "i", "name": "died", "pid": 1, "tid": 1, "ts": 2.0 },
        { "ph": "Q", "name": "what", "pid": 1, "tid": 1, "ts": 2.0 },
    ]});
    let broken = broken_rules(&trace);
    assert_eq!(broken.len(), 4, "{broken:#?}");
    assert!(broken.iter().any(|b| b.contains("overlaps") && b.contains("lock held")), "{broken:#?}");
    assert!(broken.iter().any(|b| b.starts_with("flow 7")), "{broken:#?}");
    assert!(broken.iter().any(|b| b.contains("scope")), "{broken:#?}");
    assert!(broken.iter().any(|b| b.contains("unknown phase")), "{broken:#?}");
}

/// Real traces of every backend (the channel over both transports), with and without
/// per-operation events, contended enough that lock waits end where locks are held.
#[test]
fn every_backend_writes_a_trace_that_keeps_the_format_rules() {
    let backends = [
        ("mutex", ""),
        ("atomic", ""),
        ("none", ""),
        ("channel", "transport: pipe\n"),
        ("channel", "transport: ipc\nbatch: 4\n"),
    ];
    for (backend, extra) in backends {
        for ops in [false, true] {
            let label = format!("{backend} {extra:?} ops={ops}");
            let name = format!("rules-{backend}-{}-{ops}", extra.len());
            let path = trace_path(&format!("{name}.json"));
            let text = job(4, 20_000, "i", "0", "add", "1", backend) + extra;
            let job = job_file(&format!("{name}.yaml"), text);
            let mut args = vec![job.as_str(), "-q", "--trace", &path];
            if ops {
                args.push("--trace-ops");
            }
            let out = runner(&args);
            assert_eq!(out.code, 0, "{label}: {}", out.stderr);
            let trace = read_trace(&path);
            assert_rules(&label, &trace);
            let slices = events(&trace).iter().filter(|e| e["ph"] == "X" && e["cat"] == "op").count();
            assert_eq!(slices > 0, ops, "{label}: {slices} per-operation slices");
            if backend == "channel" && ops {
                // A flow from each timed send to its application on runner's track.
                let runner_pid = tracks(&trace).into_iter().find(|(_, n)| n == "runner").unwrap().0;
                let sends = events(&trace).iter().filter(|e| e["name"] == "send").count();
                let starts: Vec<&Value> = events(&trace).iter().filter(|e| e["ph"] == "s").collect();
                let finishes: Vec<&Value> = events(&trace).iter().filter(|e| e["ph"] == "f").collect();
                assert_eq!(starts.len(), sends, "{label}: every timed send has its flow");
                assert!(starts.iter().all(|s| s["pid"] != runner_pid), "{label}: flows start on the workers' tracks");
                assert!(finishes.iter().all(|f| f["pid"] == runner_pid), "{label}: and end on the owner's");
            }
        }
    }
}

/// The instant events named `name`, by the name of their track.
fn instants<'a>(trace: &'a Value, name: &str) -> Vec<(String, &'a Value)> {
    let tracks = tracks(trace);
    events(trace)
        .iter()
        .filter(|e| e["ph"] == "i" && e["name"] == name)
        .map(|e| (tracks.get(&e["pid"].as_i64().unwrap()).cloned().unwrap_or_default(), e))
        .collect()
}

#[test]
fn a_death_and_the_lock_taken_over_are_on_the_timeline_of_the_workers_they_concern() {
    // Worker 1 dies inside the lock; worker 0, still at work, takes the lock over.
    let file = trace_path("takeover.json");
    let text = "workers: 2\niterations: 200000\nvalue: {type: i}\noperation: add\nbackend: mutex\nfaults:\n  - {worker: 1, at: 1000, action: kill, inside_lock: true}\nexpect_outcome: recovered\n";
    let path = job_file("trace-takeover.yaml", text);
    let out = runner(&[&path, "--format", "json", "--trace", &file, "--trace-ops"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let trace = read_trace(&file);
    assert_rules("takeover", &trace);
    let died = instants(&trace, "died");
    assert_eq!(died.len(), 1, "{died:?}");
    assert_eq!(died[0].0, "worker 1");
    assert_eq!((died[0].1["s"].as_str(), died[0].1["args"]["how"].as_str()), (Some("t"), Some("killed by SIGKILL")));
    let taken = instants(&trace, "lock taken over");
    assert_eq!(taken.len(), 1, "{taken:?}");
    let recovered_by = out.json()["recovery"]["recovered_by"].clone();
    let on = if recovered_by == "runner" { "runner".to_string() } else { format!("worker {recovered_by}") };
    assert_eq!(taken[0].0, on, "on the recoverer's track");
    assert_eq!(taken[0].1["args"]["died_holding_lock"], 1);
    let at = |e: &Value| e["ts"].as_f64().unwrap();
    assert!(at(died[0].1) <= at(taken[0].1), "runner saw the death, then the lock was taken over");
    // Runner's clock: both within the run's wait, after the release.
    assert!(at(died[0].1) >= phase_end(&trace, "barrier release") && at(taken[0].1) <= phase_end(&trace, "wait"));
}

#[test]
fn the_deadline_and_the_sigterms_are_moments_of_runners_track() {
    let file = trace_path("deadline.json");
    let out = runner(&["jobs/fault-deadline.yaml", "--format", "json", "--trace", &file, "--trace-ops"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let trace = read_trace(&file);
    assert_rules("deadline", &trace);
    let deadline = instants(&trace, "deadline");
    assert_eq!(deadline.len(), 1, "{deadline:?}");
    assert_eq!((deadline[0].0.as_str(), deadline[0].1["s"].as_str()), ("runner", Some("g")));
    let sigterm = instants(&trace, "SIGTERM to the workers");
    assert_eq!(sigterm.len(), 1);
    let at = |e: &Value| e["ts"].as_f64().unwrap();
    // The deadline is 500 ms after the release, on the run's clock.
    let after = at(deadline[0].1) - phase_end(&trace, "barrier release");
    assert!((500_000.0..5_000_000.0).contains(&after), "the deadline {after} µs after the release");
    assert!(at(sigterm[0].1) >= at(deadline[0].1));
    // The stalled worker, terminated, died; its death is on its own track.
    let died = instants(&trace, "died");
    assert!(died.iter().any(|(track, e)| track == "worker 0" && at(e) >= at(sigterm[0].1)), "{died:?}");
}

#[test]
fn a_signal_is_a_moment_of_the_whole_trace() {
    let file = trace_path("signal.json");
    let text = job(2, 2_000_000_000, "i", "0", "add", "1", "atomic");
    let job = job_file("trace-signal.yaml", text);
    let child = Command::new(common::runner_bin())
        .args([&job, "-q", "--trace", &file])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runner starts");
    let started = Instant::now();
    while common::children(child.id()).len() < 2 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let trace = read_trace(&file);
    assert_rules("signal", &trace);
    let signal = instants(&trace, "SIGINT received");
    assert_eq!(signal.len(), 1, "{signal:?}");
    assert_eq!((signal[0].0.as_str(), signal[0].1["s"].as_str()), ("runner", Some("g")));
    // The workers it stopped died after it.
    let at = signal[0].1["ts"].as_f64().unwrap();
    let died = instants(&trace, "died");
    assert_eq!(died.len(), 2, "{died:?}");
    assert!(died.iter().all(|(_, e)| e["ts"].as_f64().unwrap() >= at));
}
