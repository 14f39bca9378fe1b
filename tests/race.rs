//! The race: 8 workers x 200k unsynchronised additions lose updates wherever two workers really
//! run at once. Its own test binary, so that `cargo test` runs it alone, without the other
//! tests' processes taking the second core.

mod common;

use common::{job, job_file, runner};

#[test]
fn none_loses_updates_on_two_cores() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let path = job_file("race-none.yaml", job(8, 200_000, "i", "0", "add", "1", "none"));
    // A loaded machine may still run the workers one after another; a few tries make that
    // unlikely, while a backend that never races would fail every one.
    let mut seen = Vec::new();
    for _ in 0..5 {
        let out = runner(&[&path, "--format", "json"]);
        assert_eq!(out.code, 0, "lost updates are not a failure: {}", out.stderr);
        let report = out.json();
        let lost = report["lost_updates"].as_u64().expect("a count of lost updates");
        assert_eq!(report["final"].as_u64().unwrap() + lost, 1_600_000, "every lost update is counted");
        let verdict = report["verdict"].as_str().unwrap().to_string();
        assert!(verdict == "lost_updates" || verdict == "correct", "{verdict}");
        if verdict == "lost_updates" {
            assert!(lost > 0);
            return;
        }
        seen.push(verdict);
        if cores < 2 {
            eprintln!("one core: updates may or may not be lost");
            return;
        }
    }
    panic!("no update was lost in 5 runs of 8 x 200k on {cores} cores: {seen:?}");
}
