//! `runner compare OLD.json NEW.json`: only the same job is compared (a cell whose effective
//! job differs is named, with the fields, and the command exits 2), the verdicts are corrected
//! for the number of cells tested (Holm-Bonferroni), and `--fail-on-regression PCT` exits 1 on
//! a significant regression beyond PCT, so that CI can gate on it. And the wording of sweeps,
//! summaries and reports: one of a thing in the singular, no ratio over nothing.

mod common;

use common::{assert_valid, job_file, runner};
use serde_json::Value;

/// The validator of `schemas/compare.schema.json`.
fn compare_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/compare.schema.json")).unwrap();
    jsonschema::draft7::new(&serde_json::from_str(&text).unwrap()).expect("a valid draft-07 schema")
}

fn temp(name: &str) -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compare");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).to_string_lossy().into_owned()
}

/// Runs `job` (with `args`) and exports its sweep document to `name`; returns the path.
fn export(name: &str, job: &str, args: &[&str]) -> String {
    let path = temp(name);
    let mut all = vec![job, "-q", "--export-json", &path];
    all.extend(args);
    let out = runner(&all);
    assert_eq!(out.code, 0, "{}", out.stderr);
    path
}

/// A copy of the report at `from` whose runs' ops/s are 1 M, 1.001 M, 1.002 M, ..., times
/// `factor` in the cells `which` accepts: the same job, a known change, no timing in the test.
fn scaled(from: &str, to: &str, factor: f64, which: impl Fn(&str) -> bool) -> String {
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(from).unwrap()).unwrap();
    for cell in doc["cells"].as_array_mut().unwrap() {
        let factor = if which(cell["cell"].as_str().unwrap()) { factor } else { 1.0 };
        for (i, run) in cell["runs"].as_array_mut().unwrap().iter_mut().enumerate() {
            run["ops_per_second"] = Value::from(1e6 * (1.0 + 0.001 * i as f64) * factor);
        }
    }
    let path = temp(to);
    std::fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path
}

const JOB: &str = "workers: 2\niterations: 20000\nvalue: {type: i}\noperation: add\nbackend: atomic\nrepeat: 4\n";

#[test]
fn compare_refuses_cells_that_ran_different_jobs() {
    let job = job_file("compare-different.yaml", JOB);
    let old = export("different-old.json", &job, &[]);
    let new = export("different-new.json", &job, &["--iterations", "200"]);
    let out = runner(&["compare", &old, &new]);
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("different job, not compared: iterations 20000 -> 200"), "{}", out.stdout);
    assert!(!out.stdout.contains("slower"), "{}", out.stdout);
    assert!(out.stderr.contains("did not run the same job"), "{}", out.stderr);

    let out = runner(&["compare", &old, &new, "--format", "json"]);
    assert_eq!(out.code, 2);
    let doc = out.json();
    assert_valid(&compare_schema(), &doc);
    let cell = &doc["cells"][0];
    assert_eq!(cell["comparison"], "different job");
    assert_eq!(cell["change"], Value::Null);
    assert_eq!(cell["job_differences"][0]["field"], "iterations");
    assert_eq!(
        (cell["job_differences"][0]["old"].as_str(), cell["job_differences"][0]["new"].as_str()),
        (Some("20000"), Some("200"))
    );
    assert_eq!(doc["different_jobs"], serde_json::json!([""]));

    // More than one field, named each: the backend and its setting, the schedule, the workers.
    let other = export("different-other.json", &job, &["--backend", "channel", "--workers", "3"]);
    let out = runner(&["compare", &old, &other]);
    assert_eq!(out.code, 2);
    for field in ["workers 2 -> 3", "backend \"atomic\" -> \"channel\"", "batch default ->"] {
        assert!(out.stdout.contains(field), "{field}: {}", out.stdout);
    }

    // What does not change the work is not a different job: the name, repeat, warm-up.
    let renamed =
        job_file("compare-renamed.yaml", JOB.replace("repeat: 4", "repeat: 5\nwarmup: 1\ndescription: again"));
    let again = export("different-again.json", &renamed, &[]);
    let out = runner(&["compare", &old, &again]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("different job"), "{}", out.stdout);
}

#[test]
fn a_regression_beyond_the_threshold_fails_the_gate() {
    let job = job_file("compare-gate.yaml", JOB.replace("repeat: 4", "repeat: 5"));
    let run = export("gate-run.json", &job, &[]);
    let old = scaled(&run, "gate-old.json", 1.0, |_| true);
    let half = scaled(&run, "gate-half.json", 0.5, |_| true);

    let out = runner(&["compare", &old, &half, "--fail-on-regression", "10%"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    // The change with its interval: the 5 runs a side are 1 M to 1.004 M, halved; 5 runs a
    // side give 96.8% (the 3rd ratio from each end of 25: 1 - 2 P(U <= 2) = 1 - 8/252).
    assert!(out.stdout.contains("-50.0% (96.8% CI -50.1% to -49.9%)  slower"), "{}", out.stdout);
    assert!(out.stdout.contains("regression gate 10%: failed"), "{}", out.stdout);
    assert!(out.stderr.contains("regression beyond --fail-on-regression 10%"), "{}", out.stderr);
    let out = runner(&["compare", &old, &half, "--fail-on-regression", "10", "--format", "json"]);
    assert_eq!(out.code, 1);
    let doc = out.json();
    assert_valid(&compare_schema(), &doc);
    assert_eq!(doc["regressions"], serde_json::json!([""]));
    assert_eq!(doc["fail_on_regression"], 0.1);
    assert_eq!(doc["cells"][0]["regression"], true);
    let interval = &doc["cells"][0]["change_interval"];
    assert!(interval["low"].as_f64() < Some(-0.5) && interval["high"].as_f64() > Some(-0.5), "{interval}");
    assert_eq!(interval["level"].as_f64().map(|l| l >= 0.95), Some(true), "{interval}");
    assert!(doc["interval"].as_str().unwrap().starts_with("Hodges-Lehmann"), "{doc}");

    // A drop smaller than the threshold, an improvement, and no change pass.
    assert_eq!(runner(&["compare", &old, &half, "--fail-on-regression", "60"]).code, 0);
    assert_eq!(runner(&["compare", &half, &old, "--fail-on-regression", "10"]).code, 0);
    assert_eq!(runner(&["compare", &old, &old, "--fail-on-regression", "0"]).code, 0);
    // Without the option a regression is reported, not an error.
    assert_eq!(runner(&["compare", &old, &half]).code, 0);
    // A threshold that is not a percentage is a usage error.
    assert_eq!(runner(&["compare", &old, &half, "--fail-on-regression", "much"]).code, 2);
}

#[test]
fn the_verdicts_are_corrected_for_the_number_of_cells() {
    // Two cells of four runs: fully separated runs give p = 2/70 = 0.029 each, below 5% alone,
    // but not after Holm-Bonferroni over two cells (0.057).
    let text = "workers: 1\niterations: 2000\nvalue: {type: i}\noperation: add\nbackend: atomic\nrepeat: 4\nmatrix:\n  workers: [1, 2]\n";
    let job = job_file("compare-holm.yaml", text);
    let run = export("holm-run.json", &job, &[]);
    let old = scaled(&run, "holm-old.json", 1.0, |_| true);
    let half = scaled(&run, "holm-half.json", 0.5, |_| true);
    let out = runner(&["compare", &old, &half, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    for cell in doc["cells"].as_array().unwrap() {
        assert_eq!(cell["comparison"], "within noise", "{cell}");
        assert!((cell["p_value"].as_f64().unwrap() - 2.0 / 70.0).abs() < 1e-9, "{cell}");
        assert!((cell["p_adjusted"].as_f64().unwrap() - 4.0 / 70.0).abs() < 1e-9, "{cell}");
    }
    assert!(doc["correction"].as_str().unwrap().starts_with("Holm-Bonferroni over 2 tested cells"), "{doc}");
    assert_eq!(doc["tested"], 2);
    assert!(doc["notes"][0].as_str().unwrap().contains("no cell can come out faster or slower"), "{doc}");
    let out = runner(&["compare", &old, &half]);
    assert!(out.stdout.contains("Holm-Bonferroni over 2 tested cells"), "{}", out.stdout);
    // A gate that can detect nothing says so and fails: it did not check anything.
    let out = runner(&["compare", &old, &half, "--fail-on-regression", "10"]);
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stderr.contains("checked nothing"), "{}", out.stderr);

    // One changed cell among unchanged ones: with enough runs, it alone is slower.
    let text = text.replace("repeat: 4", "repeat: 8");
    let job = job_file("compare-holm-8.yaml", text);
    let run = export("holm8-run.json", &job, &[]);
    let old = scaled(&run, "holm8-old.json", 1.0, |_| true);
    let one = scaled(&run, "holm8-one.json", 0.5, |cell| cell == "workers=2");
    let out = runner(&["compare", &old, &one, "--format", "json"]);
    let doc = out.json();
    let verdict =
        |name: &str| doc["cells"].as_array().unwrap().iter().find(|c| c["cell"] == name).unwrap()["comparison"].clone();
    assert_eq!(verdict("workers=2"), "slower", "{doc}");
    assert_eq!(verdict("workers=1"), "within noise", "{doc}");
}

#[test]
fn compare_says_when_an_input_is_of_another_schema_version_or_machine() {
    let job = job_file("compare-version.yaml", JOB);
    let old = export("version-old.json", &job, &[]);
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&old).unwrap()).unwrap();
    doc["schema_version"] = Value::from(99);
    doc["host"]["cpu"] = Value::from("another CPU");
    let other = temp("version-99.json");
    std::fs::write(&other, doc.to_string()).unwrap();
    let out = runner(&["compare", &other, &old]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("is a schema version 99 document; this runner writes version"), "{}", out.stdout);
    assert!(out.stdout.contains("different machines"), "{}", out.stdout);
    // Against a report of its own version and machine, nothing to note.
    let out = runner(&["compare", &old, &old]);
    assert!(!out.stdout.contains("note:"), "{}", out.stdout);
}

/// Item 13's wording: one of a thing is singular, and no ratio divides by nothing.
#[test]
fn one_cell_one_run_and_one_sample_read_in_the_singular() {
    let text = "workers: 1\niterations: 1\nvalue: {type: i}\noperation: add\nbackend: mutex\nwork: {inside: 1us}\n";
    let job = job_file("compare-one.yaml", text);
    let out = runner(&[&job]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("(1 in 4096 timed, 1 sample)"), "{}", out.stdout);
    // No busy work outside is not "0.00 ns outside"; one worker has no fairness to report.
    assert!(out.stdout.contains("; busy work 1.00 µs inside\n"), "{}", out.stdout);
    assert!(!out.stdout.contains("outside") && !out.stdout.contains("fastest/slowest"), "{}", out.stdout);

    let out = runner(&[&job, "--repeat", "2", "-q"]);
    assert!(out.stdout.starts_with("compare-one (") && out.stdout.contains("): 1 cell\n"), "{}", out.stdout);

    let one = export("one-run.json", &job, &[]);
    let out = runner(&["compare", &one, &one]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("(1 run) -> ") && !out.stdout.contains("1 runs"), "{}", out.stdout);
    assert!(out.stdout.contains("+0.0% (one run on a side: no uncertainty)"), "{}", out.stdout);

    let dir = std::path::PathBuf::from(temp("catalog-of-one"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("one.yaml"), text).unwrap();
    let out = runner(&[dir.to_str().unwrap()]);
    assert!(out.stdout.contains("catalog: 1 job, "), "{}", out.stdout);
}

#[test]
fn a_worker_without_a_speed_gives_no_infinite_ratio() {
    // Worker 1 is killed: it has operations but no time, so no speed.
    let out = runner(&["jobs/fault-recovery.yaml"]);
    assert!(!out.stdout.contains("infx"), "{}", out.stdout);
    // Fairness covers the two measured workers only.
    assert!(out.stdout.contains("(2 of 3 workers measured)"), "{}", out.stdout);
}

/// A slowdown that is certain, from real runs: the new side's runs are of the job with 200 µs
/// of busy work outside each operation (a thousand times slower than the plain add at the
/// least), relabelled as the old job, so that compare takes them for the same job slowed from outside.
/// Every measured run of one side is slower than every run of the other whatever the machine
/// does: the gate fails, the interval lies wholly below 0, and the reverse is faster.
#[test]
fn a_real_slowdown_is_flagged_with_its_interval_and_fails_the_gate() {
    let text = "workers: 2\niterations: 2000\nvalue: {type: i}\noperation: add\nbackend: atomic\nrepeat: 5\n";
    let job = job_file("compare-real.yaml", text);
    let old = export("real-old.json", &job, &[]);
    // At most 2 x 5,000 ops/s: an old run would need a 400 ms stall to come as low.
    let slow_job =
        job_file("compare-real-slow.yaml", format!("{text}work: {{outside: 200us}}\n").replace("2000", "200"));
    let slow = export("real-slow-raw.json", &slow_job, &[]);
    let old_doc: Value = serde_json::from_str(&std::fs::read_to_string(&old).unwrap()).unwrap();
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&slow).unwrap()).unwrap();
    doc["cells"][0]["job"] = old_doc["cells"][0]["job"].clone();
    let new = temp("real-slow.json");
    std::fs::write(&new, doc.to_string()).unwrap();

    let out = runner(&["compare", &old, &new, "--fail-on-regression", "10"]);
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("slower (p = 0.008, 0.008 after the correction)"), "{}", out.stdout);
    assert!(out.stdout.contains("% (96.8% CI -"), "{}", out.stdout);
    let out = runner(&["compare", &old, &new, "--format", "json"]);
    let cell = &out.json()["cells"][0];
    assert_eq!(cell["comparison"], "slower", "{cell}");
    assert!(cell["change_interval"]["high"].as_f64().unwrap() < -0.5, "{cell}");
    let out = runner(&["compare", &new, &old, "--fail-on-regression", "10"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("  faster (p = 0.008"), "{}", out.stdout);
}
