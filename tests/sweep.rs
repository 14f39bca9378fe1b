//! Sweeps: a matrix runs every cell on real processes, with repeats, a comparison table, JSON,
//! CSV and Markdown exports and an SVG chart; per-worker operands under each schedule; the
//! critical-section bound; `compare`; catalogs of job files.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_valid, job_file, runner, validator};
use serde_json::{Value, json};

/// The validator of `schemas/sweep.schema.json`: what `--export-json` writes.
fn sweep_schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/sweep.schema.json")).unwrap();
    jsonschema::draft7::new(&serde_json::from_str(&text).unwrap()).expect("a valid draft-07 schema")
}

fn temp(name: &str) -> String {
    std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name).to_string_lossy().into_owned()
}

#[test]
fn a_backend_by_workers_sweep_for_i_and_d_writes_every_export() {
    let (json, csv, md, svg) = (temp("sweep.json"), temp("sweep.csv"), temp("sweep.md"), temp("sweep.svg"));
    let out = runner(&[
        "jobs/backends-by-workers.yaml",
        "--iterations",
        "2000",
        "--repeat",
        "2",
        "--export-json",
        &json,
        "--export-csv",
        &csv,
        "--export-markdown",
        &md,
        "--plot",
        &svg,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The table: a row per cell, and comparisons in words.
    let rows: Vec<&str> = out.stdout.lines().filter(|l| l.contains("correct")).collect();
    assert_eq!(rows.len(), 24, "{}", out.stdout);
    assert!(out.stdout.contains("median ops/s") && out.stdout.contains("vs best"), "{}", out.stdout);
    assert!(out.stdout.contains("faster than"), "{}", out.stdout);

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_valid(&validator(), &doc);
    assert_valid(&sweep_schema(), &doc);
    let cells = doc["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 24);
    assert_eq!(doc["compared_by"], "backend");
    for ty in ["i", "d"] {
        for backend in ["mutex", "atomic", "channel"] {
            for workers in [1, 2, 4, 8] {
                let cell = cells.iter().find(|c| {
                    c["params"]["value.type"] == ty
                        && c["params"]["backend"] == backend
                        && c["params"]["workers"].as_str() == Some(workers.to_string().as_str())
                });
                let cell = cell.unwrap_or_else(|| panic!("cell {ty} {backend} {workers}"));
                assert_eq!(cell["verdict"], "correct");
                assert_eq!(cell["runs"].as_array().unwrap().len(), 2);
                assert_eq!(cell["job"]["workers"], workers);
                let stats = &cell["ops_per_second"];
                assert!(stats["min"].as_f64().unwrap() <= stats["median"].as_f64().unwrap());
                assert!(stats["median"].as_f64().unwrap() <= stats["max"].as_f64().unwrap());
            }
        }
    }

    let csv = std::fs::read_to_string(&csv).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for column in ["value.type", "backend", "workers", "runs", "ops_per_s_median", "ops_per_s_stddev", "verdict"] {
        assert!(header.contains(&column), "{header:?}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 24);
    assert!(rows.iter().all(|r| r.len() == header.len()));

    let md = std::fs::read_to_string(&md).unwrap();
    assert_eq!(md.lines().filter(|l| l.starts_with("| ") && l.contains("correct")).count(), 24, "{md}");

    let svg = std::fs::read_to_string(&svg).unwrap();
    let tree = roxmltree::Document::parse(&svg).expect("a well-formed SVG");
    let class = |c: &str| tree.descendants().filter(|n| n.attribute("class") == Some(c)).count();
    assert_eq!(class("axis x"), 1);
    assert_eq!(class("axis y"), 1);
    assert_eq!(class("axis-title x"), 1);
    assert_eq!(class("axis-title y"), 1);
    assert!(class("tick") >= 4);
    let lines: Vec<&str> = tree
        .descendants()
        .filter(|n| n.attribute("class") == Some("series"))
        .filter_map(|n| n.attribute("data-series"))
        .collect();
    // One line per backend and type.
    assert_eq!(lines.len(), 6, "{lines:?}");
    for backend in ["mutex", "atomic", "channel"] {
        assert_eq!(lines.iter().filter(|l| l.starts_with(backend)).count(), 2, "{lines:?}");
    }
    assert!(lines.contains(&"atomic type=d"), "{lines:?}");
    assert_eq!(class("legend-entry"), 6);
    let x_title = tree.descendants().find(|n| n.attribute("class") == Some("axis-title x")).unwrap();
    assert!(x_title.text().unwrap_or_default().contains("workers"));
}

#[test]
fn per_worker_operands_are_reproducible_under_ordered_schedules() {
    let out = runner(&["jobs/float-sum-order.yaml", "--repeat", "10", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert_valid(&validator(), &doc);
    let cell = |s: &str| doc["cells"].as_array().unwrap().iter().find(|c| c["schedule"] == s).unwrap().clone();
    for (schedule, expected) in [("sequential", 99.9999999999986), ("round-robin", 0.1)] {
        let c = cell(schedule);
        let finals = c["finals"].as_array().unwrap();
        assert_eq!(finals.len(), 10);
        // The same bits every time: JSON numbers print a double's shortest round-trip text.
        assert!(finals.iter().all(|f| f.as_f64() == Some(expected)), "{schedule}: {finals:?}");
        assert_eq!(c["verdict"], "correct");
        assert_eq!(c["order_dependent"], true);
        assert_eq!(c["expected"]["kind"], "exact");
    }
    let concurrent = cell("concurrent");
    assert_eq!(concurrent["order_dependent"], true);
    // Within the rounding bound of any order: consistent with a correct run, no more.
    assert_eq!(concurrent["verdict"], "within_bound");
    assert_eq!(concurrent["expected"]["kind"], "interval", "{concurrent}");
    // The human report says so too.
    let out = runner(&["jobs/float-sum-order.yaml", "-q"]);
    assert!(out.stdout.contains("the result depends on the order"), "{}", out.stdout);

    // A single concurrent run says it in its own report.
    let text = "workers: 3\niterations: 100\nvalue: {type: d}\noperation: add\noperand: [1.0e16, -1.0e16, 0.1]\nbackend: atomic\n";
    let out = runner(&[&job_file("order-single.yaml", text), "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["order"]["depends_on_order"], true);
}

#[test]
fn set_with_per_worker_operands_ends_at_one_of_them() {
    let text = "workers: 3\niterations: 1000\nvalue: {type: i}\noperation: set\noperand: [7, 8, 9]\nbackend: mutex\n";
    let path = job_file("set-order.yaml", text);
    let out = runner(&[&path, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert!([7, 8, 9].contains(&doc["final"].as_i64().unwrap()));
    assert_eq!(doc["expected"]["kind"], "one_of");
    // Round-robin: worker 2 writes last.
    let out = runner(&[&path, "--format", "json"]);
    assert_eq!(out.code, 0);
    let rr = job_file("set-rr.yaml", format!("{text}schedule: round-robin\n"));
    assert_eq!(runner(&[&rr, "--format", "json"]).json()["final"], 9);
    // Too few operands, and round-robin with batches, are refused where written.
    let short = job_file("set-short.yaml", text.replace("[7, 8, 9]", "[7, 8]"));
    let out = runner(&["validate", &short]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains(":5:10: operand: 2 operands for 3 workers"), "{}", out.stderr);
}

#[test]
fn a_lock_caps_a_critical_section_at_one_over_its_length() {
    let out = runner(&["jobs/critical-section.yaml", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    for cell in doc["cells"].as_array().unwrap() {
        assert_eq!(cell["verdict"], "correct");
        if cell["params"]["backend"] == "mutex" {
            // One critical section at a time: never above 1/inside (margin for the calibration).
            let bound = cell["lock_bound_ops_per_second"].as_f64().unwrap();
            let median = cell["ops_per_second"]["median"].as_f64().unwrap();
            assert!(median <= 1.3 * bound, "{}: {median} > 1/inside = {bound}", cell["cell"]);
        }
    }
    let out = runner(&["jobs/critical-section.yaml", "-q", "--repeat", "1"]);
    assert!(out.stdout.contains("caps mutex at 1/inside"), "{}", out.stdout);
}

#[test]
fn matrix_mistakes_are_pointed_at() {
    let text =
        "workers: 1\nvalue: {type: i}\noperation: add\nbackend: mutex\nmatrix:\n  backnd: [atomic]\n  workers: 4\n";
    let out = runner(&["validate", &job_file("matrix-bad.yaml", text)]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(":6:3: matrix.backnd: cannot vary this field; did you mean \"backend\"?"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains(":7:12: matrix.workers: expected a non-empty list"), "{}", out.stderr);
    // A value that is wrong in one cell names the cell, at the value's own position.
    let text = "workers: 1\nvalue: {type: i}\noperation: add\nbackend: mutex\nmatrix:\n  workers: [2, 5000]\n";
    let out = runner(&["validate", &job_file("matrix-cell.yaml", text)]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains(":6:16: workers: must be between 1 and 1024, found 5000 (in cell workers=5000)"),
        "{}",
        out.stderr
    );
    // include and exclude, as GitHub Actions reads them.
    let text = "workers: 1\nvalue: {type: i}\noperation: add\nbackend: mutex\nmatrix:\n  backend: [mutex, atomic]\n  workers: [1, 2]\n  exclude:\n    - {backend: atomic, workers: 2}\n  include:\n    - {backend: channel, workers: 3}\n";
    let out = runner(&["plan", &job_file("matrix-inc.yaml", text), "--format", "json"]);
    let cells: Vec<String> =
        out.json()["cells"].as_array().unwrap().iter().map(|c| c["cell"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        cells,
        ["backend=mutex workers=1", "backend=mutex workers=2", "backend=atomic workers=1", "backend=channel workers=3"]
    );
}

#[test]
fn a_trace_per_cell_named_after_it() {
    let text = "workers: 2\niterations: 100\nvalue: {type: i}\noperation: add\nbackend: mutex\nmatrix:\n  backend: [mutex, atomic]\n";
    let trace = temp("cells.json");
    let out = runner(&[&job_file("matrix-trace.yaml", text), "--trace", &trace, "-q"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for backend in ["mutex", "atomic"] {
        let path = temp(&format!("cells.backend-{backend}.json"));
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(doc["metadata"]["job"]["backend"], backend);
    }
}

#[test]
fn compare_tells_change_from_noise() {
    let (old, new) = (temp("old.json"), temp("new.json"));
    let text = "workers: 1\niterations: 2000\nvalue: {type: i}\noperation: add\nbackend: atomic\nrepeat: 5\nmatrix:\n  work.inside: [0ns, 2us]\n";
    let path = job_file("compare.yaml", text);
    assert_eq!(runner(&[&path, "-q", "--export-json", &old]).code, 0);
    // The same job in one cell; another busy work in the other (a cell of its own).
    let slower = job_file("compare-slow.yaml", text.replace("[0ns, 2us]", "[0ns, 20us]"));
    let out = runner(&[&slower, "-q", "--format", "json"]);
    std::fs::write(&new, &out.stdout).unwrap();
    let out = runner(&["compare", &old, &new, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let cells = doc["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 3, "{doc}");
    let by = |name: &str| cells.iter().find(|c| c["cell"] == name).unwrap().clone();
    assert_eq!(by("work.inside=2us")["comparison"], "only in old");
    assert_eq!(by("work.inside=20us")["comparison"], "only in new");
    assert!(by("work.inside=0ns")["p_value"].is_number());
    // Against itself nothing changed.
    let out = runner(&["compare", &old, &old]);
    assert!(out.stdout.contains("within noise") && !out.stdout.contains("faster"), "{}", out.stdout);
    let out = runner(&["compare", &old, "no-such.json"]);
    assert_eq!(out.code, 2);
}

#[test]
fn an_interrupted_sweep_keeps_the_cells_it_finished() {
    let text = "workers: 1\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: atomic\nrepeat: 1\nmatrix:\n  iterations: [1000, 2000, 100000000000]\n";
    let path = job_file("sweep-interrupted.yaml", text);
    let csv = temp("interrupted.csv");
    let _ = std::fs::remove_file(&csv);
    let child = Command::new(common::runner_bin())
        .args([&path, "--export-csv", &csv, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(&csv).map_or(0, |t| t.lines().count()) < 3 {
        assert!(started.elapsed() < Duration::from_secs(20), "the first cells never finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["partial"], true);
    assert_eq!(doc["cells"].as_array().unwrap().len(), 3);
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), 4, "header, two finished cells and the interrupted one:\n{csv}");
    assert!(csv.contains("partial (SIGINT)"), "{csv}");
}

/// A sweep runs in rounds: every cell once, then every cell again, so that a slow stretch of
/// the machine falls on all cells alike; warmups come just before a cell's first counted run,
/// and a signal in a later round keeps every cell with the runs it finished.
#[test]
fn a_sweep_interleaves_its_cells_runs_in_rounds() {
    let text = "workers: 1\niterations: 3000000\nvalue: {type: i}\noperation: add\nbackend: atomic\nrepeat: 3\nwarmup: 1\nmatrix:\n  operand: [1, 2]\n";
    let path = job_file("sweep-rounds.yaml", text);
    let out = runner(&[&path, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    let starts = |cell: usize| -> Vec<String> {
        let runs = doc["cells"][cell]["runs"].as_array().unwrap();
        runs.iter().map(|r| r["started_at"].as_str().unwrap().to_string()).collect()
    };
    let (first, second) = (starts(0), starts(1));
    assert_eq!((first.len(), second.len()), (3, 3), "{doc:#}");
    // RFC 3339 times of one zone sort as text; each run takes milliseconds.
    for round in 0..3 {
        assert!(first[round] <= second[round], "round {round}: {first:?} {second:?}");
        if round > 0 {
            assert!(second[round - 1] <= first[round], "round {round}: {first:?} {second:?}");
        }
    }
    assert!(first[2] > second[0], "the first cell's runs did not wait for the second's: {first:?} {second:?}");
    let out = runner(&[&path]);
    assert!(
        out.stderr.contains("runner: round 1/3 done") && out.stderr.contains("runner: round 2/3 done"),
        "{}",
        out.stderr
    );
    let cell_line = out.stderr.find("runner: [1/2]").unwrap();
    assert!(out.stderr.find("round 2/3 done").unwrap() < cell_line, "{}", out.stderr);

    // A signal in the first round, in the second cell's run: both cells, the first with the
    // one run it finished.
    let text = "workers: 1\niterations: 1000\nvalue: {type: i}\noperation: add\nbackend: atomic\nrepeat: 2\nmatrix:\n  iterations: [1000, 100000000000]\n";
    let path = job_file("sweep-rounds-interrupted.yaml", text);
    let child = Command::new(common::runner_bin())
        .args([&path, "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["partial"], true);
    let cells = doc["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 2, "{doc:#}");
    assert_eq!(cells[0]["runs"].as_array().unwrap().len(), 1, "{doc:#}");
    assert_eq!(cells[0]["runs"][0]["verdict"], "correct", "{doc:#}");
    assert_eq!((&cells[0]["outcome"], &cells[1]["outcome"]), (&json!("interrupted"), &json!("interrupted")), "{doc:#}");
}

#[test]
fn a_catalog_fails_when_any_job_fails() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("catalog");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a-good.yaml"), "workers: 2\nvalue: {type: i}\noperation: add\nbackend: atomic\n").unwrap();
    std::fs::write(dir.join("b-bad.yaml"), "workers: 0\nvalue: {type: i}\noperation: add\nbackend: atomic\n").unwrap();
    let out = runner(&[dir.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stdout.contains("catalog: 2 jobs, 1 failed") && out.stdout.contains("b-bad.yaml (exit 2)"),
        "{}",
        out.stdout
    );
    let out = runner(&[dir.to_str().unwrap(), "--format", "json"]);
    let doc = out.json();
    assert_eq!(doc["jobs"].as_array().unwrap().len(), 2);
    assert_eq!(doc["failed"], 1);
    std::fs::remove_file(dir.join("b-bad.yaml")).unwrap();
    assert_eq!(runner(&[dir.to_str().unwrap(), "-q"]).code, 0);
}

/// Every comparison says how sure it is: with 4 runs a side its interval and level (the
/// widest 4 runs give, 1 - 2/70 = 97.1%), with one run "one run: no uncertainty"; a matrix
/// with no `repeat` runs each cell 10 times and gets 95% (95.7%, the nearest above). The JSON and the Markdown say the same.
#[test]
fn every_comparison_says_its_uncertainty() {
    let text = "workers: 1\niterations: 2000\nvalue: {type: i}\noperation: add\nbackend: mutex\nmatrix:\n  backend: [mutex, atomic]\n";
    let job = job_file("uncertainty.yaml", text);
    let (json, md) = (temp("uncertainty.json"), temp("uncertainty.md"));
    let out = runner(&[&job, "--repeat", "4", "--export-json", &json, "--export-markdown", &md]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let line = out.stdout.lines().find(|l| l.contains("x faster than")).unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(line.contains("(97.1% CI ") && line.contains("x, 4 runs each"), "{}", out.stdout);
    assert!(out.stdout.contains("each interval: Hodges-Lehmann interval of the ratio"), "{}", out.stdout);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_valid(&sweep_schema(), &doc);
    let comparison = &doc["comparisons"][0];
    assert_eq!(comparison["runs"], serde_json::json!([4, 4]), "{doc:#}");
    let (low, high) =
        (comparison["interval"]["low"].as_f64().unwrap(), comparison["interval"]["high"].as_f64().unwrap());
    let ratio = comparison["ratio"].as_f64().unwrap();
    assert!(low <= ratio && ratio <= high, "{comparison}");
    assert!((comparison["interval"]["level"].as_f64().unwrap() - (1.0 - 2.0 / 70.0)).abs() < 1e-12, "{comparison}");
    assert!(line.trim() == comparison["words"].as_str().unwrap(), "{line} / {comparison}");
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.contains(&format!("- {}", line.trim())), "{markdown}");

    let out = runner(&[&job, "--repeat", "1", "--format", "json"]);
    let doc = out.json();
    assert_eq!(doc["comparisons"][0]["interval"], Value::Null, "{doc:#}");
    assert!(doc["comparisons"][0]["words"].as_str().unwrap().ends_with("(one run: no uncertainty)"), "{doc:#}");

    // No repeat: 10 runs a cell, a 95% interval (95.7%: the 24th ratio from each end of 100).
    let out = runner(&[&job, "-q"]);
    assert!(out.stdout.contains("(95.7% CI ") && out.stdout.contains("10 runs each"), "{}", out.stdout);
    // Without a matrix, one run.
    let single = job_file("uncertainty-single.yaml", text.split("matrix").next().unwrap());
    let doc = runner(&[&single, "--format", "json"]).json();
    assert!(doc["cells"].is_null() && doc["ops_per_second"].is_number(), "{doc:#}");
}
