//! The race: the catalog's race job (4 workers x 200M unsynchronised additions, pinned two to a
//! CPU) loses updates wherever two workers really run at once, and its report says how long
//! the workers' windows overlapped. Its own test binary, so that `cargo test` runs it alone,
//! without the other tests' processes taking the second core.

mod common;

use common::{assert_valid, runner, validator};

/// What is certain of any run of the race job, however loaded the machine: every lost update
/// counted, the windows' overlap reported, and a verdict that follows from both.
fn race() -> serde_json::Value {
    let out = runner(&["jobs/race.yaml", "--format", "json"]);
    assert_eq!(out.code, 0, "lost updates are not a failure: {}", out.stderr);
    let report = out.json();
    let total = report["total_operations"].as_u64().unwrap();
    let overlap = report["window_overlap_seconds"].as_f64().expect("the windows' overlap");
    assert!((0.0..=report["elapsed_seconds"].as_f64().unwrap()).contains(&overlap), "{report}");
    let lost = report["lost_updates"].as_u64().expect("a count of lost updates");
    assert_eq!(report["final"].as_u64().unwrap() + lost, total, "every lost update is counted");
    let verdict = report["verdict"].as_str().unwrap();
    match verdict {
        "lost_updates" => assert!(lost > 0),
        // A check that sees one lost update, and windows that never overlapped.
        "no_race" => assert_eq!((lost, overlap), (0, 0.0)),
        // Overlapping windows are no proof that two workers ran at once: no loss is possible.
        "correct" => assert!(lost == 0 && overlap > 0.0),
        other => panic!("{other}: {report}"),
    }
    assert_valid(&validator(), &report);
    report
}

#[test]
fn the_race_reports_its_overlap_and_a_verdict_that_follows_from_it() {
    let report = race();
    let out = runner(&["jobs/race.yaml"]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("\n  overlap   "), "{}", out.stdout);
    assert!(
        out.stdout.contains("window overlap, not proof that they ran at once")
            || out.stdout.contains("never overlapped"),
        "{}",
        out.stdout
    );
    assert!(report["expected"]["blind"].is_null(), "one lost addition of 1 changes the value");
}

#[test]
fn none_loses_updates_on_two_cores() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        eprintln!("one core: updates may or may not be lost");
        return;
    }
    // Pinned two to a CPU, the workers overlap for most of a second; a few tries
    // make a machine that ran them one at a time all along unlikely, while a backend that never
    // races fails every one.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let report = race();
        if report["verdict"] == "lost_updates" {
            return;
        }
        seen.push((report["verdict"].clone(), report["window_overlap_seconds"].clone()));
    }
    panic!("no update was lost in 5 runs of jobs/race.yaml on {cores} cores: {seen:?}");
}
