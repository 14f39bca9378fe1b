//! What a file's cells say they are: overrides on a matrix (the labels say what ran, duplicated
//! cells are dropped), what `runner plan` shows of a job's runs, and a single job's report kept
//! when exports are asked for.

mod common;

use common::{Test, assert_valid, validator};
use serde_json::Value;

/// `--backend atomic` on a matrix over backend: every cell ran atomic, so every label says
/// atomic, the cells that became the same job are dropped, and the summary compares no
/// backend with another.
#[test]
fn an_override_on_a_matrix_axis_relabels_its_cells_and_drops_the_duplicates() {
    let out = Test::new()
        .args(&["jobs/critical-section.yaml", "--backend", "atomic", "--iterations", "200", "--repeat", "1"])
        .status(0)
        .run();
    assert!(!out.stdout.contains("mutex"), "a cell ran atomic but is labelled mutex:\n{}", out.stdout);
    assert!(
        out.stderr.contains("backend axis") && out.stderr.contains("4 of 8 cells"),
        "the notice says which axis collapsed and how many cells were dropped:\n{}",
        out.stderr
    );

    let out = Test::new()
        .args(&["jobs/critical-section.yaml", "--backend", "atomic", "--iterations", "200", "--repeat", "1"])
        .args(&["--format", "json"])
        .status(0)
        .run();
    let doc = out.json();
    assert_valid(&validator(), &doc);
    let cells = doc["cells"].as_array().expect("a sweep");
    assert_eq!(cells.len(), 4, "{doc:#}");
    for cell in cells {
        assert_eq!(cell["params"]["backend"], "atomic", "{cell:#}");
        assert_eq!(cell["job"]["backend"], "atomic", "{cell:#}");
    }
}

/// With a matrix over backend, workers and type, `--backend mutex --workers 2` leaves a cell
/// per type, whose params say what its job ran; a setting the run no longer has (a channel's
/// batch) leaves the label. Overrides on every axis leave one cell: export-python takes it.
#[test]
fn overrides_on_matrix_axes_leave_cells_whose_params_are_their_jobs() {
    let matrix =
        "  backend: [none, mutex, channel]\n  workers: [1, 4]\n  include:\n    - {backend: channel, batch: 8}\n";
    let text = format!(
        "value: {{type: i}}\niterations: 100\noperation: add\nbackend: none\nworkers: 1\nmatrix:\n{matrix}  value.type: [i, c]\n"
    );
    let out = Test::new()
        .job("m.yaml", &text)
        .args(&["{job}", "--backend", "mutex", "--workers", "2", "--format", "json"])
        .status(0)
        .run();
    let doc = out.json();
    assert_valid(&validator(), &doc);
    let cells = doc["cells"].as_array().expect("a sweep");
    assert_eq!(cells.len(), 2, "{doc:#}");
    for cell in cells {
        assert_eq!(cell["params"]["backend"], cell["job"]["backend"], "{cell:#}");
        assert_eq!(cell["job"]["backend"], "mutex", "{cell:#}");
        assert_eq!(cell["params"]["workers"], "2", "{cell:#}");
        assert_eq!(cell["params"]["value.type"], cell["job"]["value"]["type"], "{cell:#}");
        assert!(cell["params"].get("batch").is_none(), "{cell:#}");
    }

    // Overrides on every axis leave one cell: export-python takes it, as its refusal says.
    let text =
        format!("value: {{type: i}}\niterations: 100\noperation: add\nbackend: none\nworkers: 1\nmatrix:\n{matrix}");
    let one = ["{job}", "--backend", "mutex", "--workers", "2"];
    let out = Test::new().job("m.yaml", &text).args(&one).args(&["--format", "json"]).status(0).run();
    assert_eq!(out.json()["job"]["backend"], "mutex");
    Test::new().job("m.yaml", &text).arg("export-python").args(&one).status(0).run();
    let out = Test::new().job("m.yaml", &text).args(&["export-python", "{job}"]).status(2).run();
    assert!(out.stderr.contains("--backend"), "the refusal says which overrides pick one cell:\n{}", out.stderr);
}

/// `runner plan` says how the job runs: its faults, the failing fork, the outcome it expects,
/// the deadline (and that it is the default when the job states none), the grace, and the runs.
#[test]
fn plan_shows_faults_outcome_deadline_and_runs() {
    let out = Test::new().args(&["plan", "jobs/fault-recovery.yaml"]).status(0).run();
    for needle in ["fault ", "kills itself", "expect_outcome", "recovered", "timeout", "default", "grace", "runs"] {
        assert!(out.stdout.contains(needle), "plan lacks {needle:?}:\n{}", out.stdout);
    }
    let text = "workers: 3\niterations: 10\nvalue: {type: i}\noperation: add\nbackend: mutex\nfork_fail_at: 2\nexpect_outcome: fork_failed\ntimeout: 5s\nrepeat: 3\nwarmup: 2\n";
    let out = Test::new().job("f.yaml", text).args(&["plan", "{job}", "--grace", "3s"]).status(0).run();
    for needle in ["fork 2", "fork_failed", "5.00 s", "3.00 s", "3 counted", "2 warm-up"] {
        assert!(out.stdout.contains(needle), "plan lacks {needle:?}:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("default"), "a stated timeout is not the default:\n{}", out.stdout);

    let out = Test::new().args(&["plan", "jobs/fault-recovery.yaml", "--format", "json"]).status(0).run();
    let doc = out.json();
    let deadline = &doc["deadline"];
    assert_eq!(deadline["default"], true, "{doc:#}");
    assert!(deadline["timeout_ns"].as_u64().is_some_and(|t| t >= 30_000_000_000), "{doc:#}");
    assert_eq!(deadline["grace_ns"], 2_000_000_000u64, "{doc:#}");
    assert_eq!(doc["runs"]["repeat"], 1, "{doc:#}");
    assert_eq!(doc["runs"]["warmup"], 0, "{doc:#}");
    assert!(doc["job"]["faults"].is_array() && doc["job"]["expect_outcome"] == "recovered", "{doc:#}");
}

/// A single job with exports keeps its own report (final and expected values, verdict) and
/// writes the files besides.
#[test]
fn exports_of_a_single_job_keep_its_report() {
    let dir = tempdir();
    let (json, csv, svg) = (dir.join("r.json"), dir.join("r.csv"), dir.join("r.svg"));
    let out = Test::new()
        .args(&["jobs/increment.yaml", "--export-json", &s(&json), "--export-csv", &s(&csv), "--plot", &s(&svg)])
        .status(0)
        .run();
    for needle in ["final", "expected", "correct"] {
        assert!(out.stdout.contains(needle), "the report lacks {needle:?}:\n{}", out.stdout);
    }
    assert!(!out.stdout.contains("1 cells") && !out.stdout.contains("median ops/s"), "{}", out.stdout);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["cells"].as_array().map(Vec::len), Some(1), "{doc:#}");
    assert!(std::fs::read_to_string(&csv).unwrap().lines().count() == 2);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));

    // In JSON the run's own document, with its final and expected values.
    let out = Test::new()
        .args(&["jobs/increment.yaml", "--format", "json", "--export-csv", &s(&dir.join("r2.csv"))])
        .status(0)
        .run();
    let doc = out.json();
    assert_valid(&validator(), &doc);
    assert_eq!(doc["final"], 5, "{doc:#}");
    assert!(doc.get("cells").is_none(), "{doc:#}");
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cells-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}
