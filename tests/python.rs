//! `runner export-python` and `runner compare-python`: the exported program, run by python3,
//! ends at the same value as runner's own run of the job, bit for bit, for every backend Python
//! has (mutex, none, channel), every type and every operation; atomic is refused.
//!
//! Needs `python3` on PATH. Iteration counts are small: each program costs a Python start-up and
//! a few forks.

mod common;

use std::process::Command;

use common::{job, job_file, runner};

/// Writes the job, exports its program and runs it with python3; returns the text of `final` in
/// the program's `RESULT` line and its whole output.
fn python_final(name: &str, yaml: &str) -> (String, String) {
    let path = job_file(&format!("python-{name}.yaml"), yaml);
    let out = runner(&["export-python", &path]);
    assert_eq!(out.code, 0, "{name}: export-python failed: {}", out.stderr);
    let program = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("python-{name}.py"));
    std::fs::write(&program, &out.stdout).expect("write program");
    let run = Command::new("python3").arg(&program).output().expect("python3 on PATH runs");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{name}: python3 failed:\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let line = stdout.lines().last().and_then(|l| l.strip_prefix("RESULT ")).unwrap_or_else(|| panic!("{stdout}"));
    let result: serde_json::Value = serde_json::from_str(line).expect("RESULT is JSON");
    for key in ["work_seconds", "ops", "ops_per_second"] {
        assert!(result[key].is_number(), "{name}: {key} in {line}");
    }
    // The number's own text: serde_json's float parsing is not always correctly rounded.
    let rest = &line[line.find("\"final\": ").expect("final") + 9..];
    let text = rest[..rest.find(',').expect("more keys")].trim_matches('"').to_string();
    (text, stdout)
}

/// runner's final value (a double as its shortest text) and verdict for the job at `yaml`.
fn runner_final(name: &str, yaml: &str) -> (String, String) {
    let path = job_file(&format!("python-{name}.yaml"), yaml);
    let out = runner(&["-q", "--format", "json", &path]);
    assert_eq!(out.code, 0, "{name}: {}", out.stderr);
    let report = out.json();
    let text = match report["job"]["value"]["type"].as_str() {
        Some("d") => report["final_display"].as_str().unwrap().to_string(),
        _ => report["final"].to_string(),
    };
    (text, report["verdict"].as_str().unwrap().to_string())
}

/// The bits a final value's text stands for (`NaN`, `nan`, `inf`, `-inf` included).
fn bits(text: &str) -> u64 {
    match text.to_ascii_lowercase().as_str() {
        "nan" => f64::NAN.to_bits(),
        "inf" => f64::INFINITY.to_bits(),
        "-inf" => f64::NEG_INFINITY.to_bits(),
        t => t.parse::<f64>().unwrap_or_else(|_| panic!("{text} is a number")).to_bits(),
    }
}

/// Python's program and runner end at the same value, bit for bit; returns it.
fn agree(name: &str, yaml: &str) -> String {
    let (python, output) = python_final(name, yaml);
    let (ours, verdict) = runner_final(name, yaml);
    // `none` with one worker: no race could occur.
    assert!(verdict == "correct" || verdict == "no_race", "{name}: runner's verdict {verdict}");
    assert_eq!(bits(&python), bits(&ours), "{name}: python3 gave {python}, runner {ours}\n{yaml}\n{output}");
    ours
}

/// (type, initial, operation, operand): every operation of every type, with wrapping, the sign
/// of zero and an overflow to infinity among them.
const CASES: [(&str, &str, &str, &str); 25] = [
    ("i", "2147483600", "add", "7"),
    ("i", "-2147483600", "sub", "9"),
    ("i", "3", "mul", "7"),
    ("i", "5", "min", "-5"),
    ("i", "5", "max", "9"),
    ("i", "-1", "and", "-65536"),
    ("i", "0", "or", "255"),
    ("i", "3855", "xor", "255"),
    ("i", "0", "set", "-42"),
    ("d", "0.0", "add", "0.1"),
    ("d", "1.0", "sub", "0.3"),
    ("d", "1.0", "mul", "1.01"),
    ("d", "0.0", "min", "-0.0"),
    ("d", "-0.0", "max", "0.0"),
    ("d", "1e300", "mul", "10.0"),
    ("d", "0.0", "set", "2.5"),
    ("c", "\"a\"", "add", "100"),
    ("c", "3", "sub", "5"),
    ("c", "7", "mul", "3"),
    ("c", "200", "min", "100"),
    ("c", "100", "max", "200"),
    ("c", "255", "and", "15"),
    ("c", "\"'\"", "or", "128"),
    ("c", "170", "xor", "255"),
    ("c", "0", "set", "65"),
];

#[test]
fn mutex_agrees_with_runner_on_every_operation() {
    for (ty, initial, op, operand) in CASES {
        agree(&format!("mutex-{ty}-{op}"), &job(2, 20, ty, initial, op, operand, "mutex"));
    }
    assert_eq!(agree("mutex-overflow", &job(2, 20, "d", "1e300", "mul", "10.0", "mutex")), "inf");
    assert_eq!(agree("mutex-zero", &job(2, 20, "d", "0.0", "min", "-0.0", "mutex")), "-0.0");
}

#[test]
fn mutex_with_work_and_pinning() {
    let work = job(2, 20, "i", "0", "add", "3", "mutex") + "work: {inside: 2us, outside: 1us}\npin: true\n";
    assert_eq!(agree("mutex-work", &work), "120");
}

#[test]
fn none_with_one_worker_agrees() {
    // One worker loses nothing, so the value is certain.
    for (ty, initial, op, operand) in CASES.iter().step_by(4) {
        agree(&format!("none-{ty}-{op}"), &job(1, 20, ty, initial, op, operand, "none"));
    }
}

#[test]
fn channel_agrees_with_runner() {
    for (ty, initial, op, operand) in CASES.iter().skip(1).step_by(3) {
        // Batches of 3: 20 operations make six full messages and one of 2.
        let yaml = job(2, 20, ty, initial, op, operand, "channel") + "batch: 3\n";
        agree(&format!("channel-{ty}-{op}"), &yaml);
    }
}

#[test]
fn ordered_schedules_agree_bit_for_bit() {
    // The order decides the result: 3 + 1e16 rounds, so sequential and round-robin differ.
    let per_worker = |operands: &str, schedule: &str, backend: &str| {
        format!(
            "workers: 3\niterations: 5\nvalue:\n  type: d\noperation: add\noperand: {operands}\nschedule: {schedule}\nbackend: {backend}\n"
        )
    };
    let mut finals = Vec::new();
    for backend in ["mutex", "channel"] {
        for schedule in ["sequential", "round-robin"] {
            for (tag, operands) in [("tenth", "[0.1, 1e16, -1e16]"), ("three", "[3.0, 1e16, -1e16]")] {
                let name = format!("{backend}-{schedule}-{tag}");
                finals.push((name.clone(), agree(&name, &per_worker(operands, schedule, backend))));
            }
        }
    }
    let of = |name: &str| finals.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap();
    assert_eq!((of("mutex-sequential-three"), of("mutex-round-robin-three")), ("16.0", "20.0"));
    assert_eq!(of("channel-sequential-three"), "16.0");
}

#[test]
fn atomic_has_no_python_equivalent() {
    let out = runner(&["export-python", "jobs/atomic-counter.yaml"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains(
            "atomic has no Python equivalent: multiprocessing offers no lock-free atomic; use mutex (get_lock) to compare"
        ),
        "{}",
        out.stderr
    );
    let out = runner(&["compare-python", "jobs/atomic-counter.yaml"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn the_tutorial_as_a_program() {
    let out = runner(&["export-python", "jobs/increment.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in [
        "multiprocessing.set_start_method('fork')",
        "v = Value('i', 0)",
        "for p in workers:\n        p.start()",
        "with v.get_lock():\n            v.value = apply(v.value, a)",
    ] {
        assert!(out.stdout.contains(needle), "{needle:?} in:\n{}", out.stdout);
    }
    // As the tutorial: each process starts as it is forked; `--start together` adds the barrier.
    assert!(!out.stdout.contains("Barrier"), "{}", out.stdout);
    let together = runner(&["export-python", "jobs/increment.yaml", "--start", "together"]);
    assert!(together.stdout.contains("start = Barrier(WORKERS)"), "{}", together.stdout);
}

#[test]
fn compare_python_on_the_tutorial() {
    let out = runner(&["compare-python", "jobs/increment.yaml"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let row = |name: &str| -> Vec<String> {
        let line = out.stdout.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("{name}"));
        line.split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(row("final"), ["final", "5", "5"]);
    assert_eq!(row("verdict"), ["verdict", "correct", "correct"]);
    assert!(out.stdout.contains("faster as a whole process"), "{}", out.stdout);
    assert!(out.stdout.contains("faster in the work window"), "{}", out.stdout);

    let out = runner(&["compare-python", "jobs/increment.yaml", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert_eq!(doc["schema_version"], 2);
    assert_eq!(doc["file"], "jobs/increment.yaml");
    for side in ["runner", "python"] {
        assert_eq!(doc[side]["final"], 5, "{doc:#}");
        assert_eq!(doc[side]["verdict"], "correct", "{doc:#}");
        assert!(doc[side]["wall_seconds"].as_f64().unwrap() > 0.0, "{doc:#}");
        assert!(doc[side]["ops_per_second"].as_f64().unwrap() > 0.0, "{doc:#}");
    }
    for ratio in ["whole_process", "ops_per_second"] {
        assert!(doc["ratios"][ratio].as_f64().unwrap() > 0.0, "{doc:#}");
    }
}

#[test]
fn compare_python_judges_races_and_orders() {
    // Without the lock Python's value may lose updates: a verdict the job allows.
    let race = job_file("python-race.yaml", job(2, 3000, "i", "0", "add", "1", "none"));
    let out = runner(&["compare-python", &race, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    for side in ["runner", "python"] {
        let verdict = doc[side]["verdict"].as_str().unwrap();
        assert!(["correct", "lost_updates", "no_race"].contains(&verdict), "{side}: {doc:#}");
    }
    // Concurrent per-worker doubles: any order passes runner's rounding bound (and no more).
    let sums = job_file(
        "python-sums.yaml",
        "workers: 3\niterations: 5\nvalue:\n  type: d\noperation: add\noperand: [0.1, 1e16, -1e16]\nbackend: mutex\n",
    );
    let out = runner(&["compare-python", &sums, "--format", "json", "--workers", "3"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["python"]["verdict"], "within_bound");
}

/// A job whose faults, failing fork or expected outcome the Python program cannot carry is not
/// compared (runner's side would run another job): refused, with the fields named; its
/// program is still printed, with a notice naming what it leaves out.
#[test]
fn compare_python_refuses_a_job_python_cannot_run_as_runner_does() {
    let out = runner(&["compare-python", "jobs/fault-recovery.yaml"]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.is_empty(), "no comparison of two different jobs:\n{}", out.stdout);
    assert!(out.stderr.contains("faults") && out.stderr.contains("expect_outcome"), "{}", out.stderr);
    let text = "workers: 3\niterations: 10\nvalue: {type: i}\noperation: add\nbackend: mutex\nfork_fail_at: 2\nexpect_outcome: fork_failed\n";
    let path = job_file("python-fork-fail.yaml", text);
    let out = runner(&["compare-python", &path]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("fork_fail_at"), "{}", out.stderr);

    let out = runner(&["export-python", "jobs/fault-recovery.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("not carried over") && out.stderr.contains("faults"), "{}", out.stderr);
    assert!(out.stdout.contains("Not carried over"), "the program's header names it:\n{}", out.stdout);
}

/// compare-python hands its overrides to runner's own run (`--start`, `--grace`, the
/// deadline), so both sides run the job the document names; what the program does not carry
/// (the deadline, the transport, the runs) is in a notice.
#[test]
fn compare_python_runs_the_same_job_on_both_sides() {
    let text = "workers: 2\niterations: 20\nvalue: {type: i}\noperation: add\nbackend: mutex\nstart: together\nrepeat: 2\ntimeout: 20s\n";
    let path = job_file("python-same-job.yaml", text);
    let out = runner(&["compare-python", &path, "--start", "forked", "--grace", "3s", "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc = out.json();
    assert_eq!(doc["job"]["start"], "forked", "runner's own run must start as the program does: {doc:#}");
    assert_eq!(doc["job"]["timeout"], "20000ms", "{doc:#}");
    let notices = doc["notices"].to_string();
    for field in ["timeout", "grace", "repeat"] {
        assert!(notices.contains(field), "{field} not named: {notices}");
    }
    assert!(out.stderr.contains("not carried over"), "{}", out.stderr);
}

/// A NaN is judged on Python's side as on runner's: both NaN is the expected NaN (JSON's text
/// of a NaN has no sign or payload).
#[test]
fn compare_python_judges_a_nan_as_runner_does() {
    let text = "workers: 2\niterations: 2\nvalue: {type: d, initial: 1e308}\noperation: mul\noperand: [10, 0]\nschedule: sequential\nbackend: mutex\n";
    let path = job_file("python-nan.yaml", text);
    let out = runner(&["compare-python", &path, "--format", "json"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc = out.json();
    assert_eq!(doc["runner"]["verdict"], "correct", "{doc:#}");
    assert_eq!(doc["python"]["verdict"], "correct", "{doc:#}");
}
