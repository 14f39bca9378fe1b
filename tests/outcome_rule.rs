//! One rule for whether a run came to the outcome its job declares (or, declaring none,
//! completed), the same in the single run's report, its JSON, a sweep's table, CSV, Markdown
//! and JSON cells, and the exit code: a declared outcome counts only with a value that checks
//! out, a cell shows it only when every run did, and a sweep whose runs failed never says just
//! `correct`.

mod common;

use std::path::PathBuf;

use common::{assert_valid, job_file, runner, validator};
use serde_json::Value;

/// A file under the test binary's temporary folder, named for one test.
fn temp(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("outcome_rule");
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name).to_string_lossy().into_owned()
}

/// Three mutex workers; worker 1 kills itself outside the lock: no lock is recovered.
const KILLED_OUTSIDE: &str = "workers: 3\niterations: 100000\nvalue: {type: i}\noperation: add\nbackend: mutex\nfaults:\n  - {worker: 1, at: 5000, action: kill, inside_lock: false}\n";

/// Runs `job` with `args` as a table (quiet) writing CSV and Markdown, then as JSON; returns
/// the table, the CSV, the Markdown, the JSON document (each test checks it against the schema
/// last, after what it says) and both exit codes.
fn sweep(job: &str, name: &str, args: &[&str]) -> (String, String, String, Value, (i32, i32)) {
    let (csv, md) = (temp(&format!("{name}.csv")), temp(&format!("{name}.md")));
    let table = runner(&[&[job, "-q", "--export-csv", &csv, "--export-markdown", &md], args].concat());
    let json = runner(&[&[job, "--format", "json"], args].concat());
    let doc = json.json();
    let (csv, md) = (std::fs::read_to_string(csv).unwrap(), std::fs::read_to_string(md).unwrap());
    (table.stdout, csv, md, doc, (table.code, json.code))
}

/// The CSV's rows as maps from its header's names.
fn csv_rows(csv: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = csv.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|line| {
            // The outcome may hold a comma, quoted: split on commas outside quotes.
            let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
            for ch in line.chars() {
                match ch {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(std::mem::take(&mut field)),
                    c => field.push(c),
                }
            }
            fields.push(field);
            assert_eq!(fields.len(), header.len(), "{csv}");
            header.iter().cloned().zip(fields).collect()
        })
        .collect()
}

#[test]
fn a_sweep_whose_declared_outcome_did_not_happen_does_not_say_just_correct() {
    let job = job_file("rule-rec2.yaml", format!("{KILLED_OUTSIDE}expect_outcome: recovered\n"));
    let (table, csv, md, doc, codes) = sweep(&job, "rec2", &["--repeat", "2"]);
    assert_eq!(codes, (3, 3), "{table}");
    let header = table.lines().next().unwrap();
    assert!(header.contains("RUN FAILED in 1 of 1 cell"), "{table}");
    let row = table.lines().nth(2).unwrap();
    assert!(row.contains("correct") && row.contains("FAILED 2/2 runs: worker_failed (expects recovered)"), "{table}");
    assert!(table.contains("  FAILED: the job: 2 of 2 runs did not come to the outcome the job declares"), "{table}");

    let rows = csv_rows(&csv);
    assert_eq!(rows[0]["outcome"], "FAILED 2/2 runs: worker_failed (expects recovered)", "{csv}");
    assert_eq!(rows[0]["runs_as_expected"], "0", "{csv}");
    let md_row = md.lines().last().unwrap();
    assert!(md_row.contains("| correct | FAILED 2/2 runs: worker_failed (expects recovered) |"), "{md}");

    let cell = &doc["cells"][0];
    assert_eq!(cell["outcome_as_expected"], false, "{cell}");
    assert_eq!(cell["runs_as_expected"], 0, "{cell}");
    assert_eq!(cell["exit_code"], 3, "{cell}");
    for run in cell["runs"].as_array().unwrap() {
        assert_eq!(run["outcome_as_expected"], false, "{run}");
    }
    assert_valid(&validator(), &doc);
}

#[test]
fn a_sweep_whose_runs_failed_without_a_declared_outcome_says_so() {
    // A worker lost in every run, no outcome declared: the runs did not complete.
    let job = job_file("rule-killed.yaml", KILLED_OUTSIDE);
    let (table, csv, md, doc, codes) = sweep(&job, "killed", &["--repeat", "2"]);
    assert_eq!(codes, (3, 3), "{table}");
    assert!(table.lines().next().unwrap().contains("RUN FAILED in 1 of 1 cell"), "{table}");
    assert!(table.contains("FAILED 2/2 runs: worker_failed  "), "{table}");
    assert!(table.contains("  FAILED: the job: 2 of 2 runs did not complete: worker_failed"), "{table}");
    assert_eq!(csv_rows(&csv)[0]["outcome"], "FAILED 2/2 runs: worker_failed", "{csv}");
    assert!(md.contains("| FAILED 2/2 runs: worker_failed |"), "{md}");
    assert_eq!(doc["cells"][0]["outcome_as_expected"], false, "{doc}");
    assert_valid(&validator(), &doc);

    // The deadline in every run: the same.
    let job = job_file(
        "rule-slow.yaml",
        "workers: 2\niterations: 1000000000\nvalue: {type: i}\noperation: add\nbackend: atomic\n",
    );
    let (table, csv, _, doc, codes) = sweep(&job, "slow", &["--repeat", "2", "--timeout", "5ms"]);
    assert_eq!(codes, (3, 3), "{table}");
    assert!(table.contains("FAILED 2/2 runs: deadline"), "{table}");
    assert_eq!(csv_rows(&csv)[0]["runs_as_expected"], "0", "{csv}");
    assert_eq!(doc["cells"][0]["outcome"], "FAILED 2/2 runs: deadline", "{doc}");
    assert_valid(&validator(), &doc);
}

#[test]
fn a_cell_whose_declared_outcome_surely_did_not_happen_fails_the_sweep() {
    // One iteration per worker cannot take a second; ten billion always do.
    let job = job_file(
        "rule-deadline-matrix.yaml",
        "workers: 2\niterations: 1\nvalue: {type: i}\noperation: add\nbackend: atomic\ntimeout: 1s\nexpect_outcome: deadline\nrepeat: 1\nmatrix:\n  iterations: [1, 10000000000]\n",
    );
    let (table, csv, _, doc, codes) = sweep(&job, "deadline-matrix", &[]);
    assert_eq!(codes, (3, 3), "{table}");
    assert!(table.lines().next().unwrap().contains("RUN FAILED in 1 of 2 cells"), "{table}");
    let row = |iterations: &str| table.lines().find(|l| l.trim_start().starts_with(iterations)).unwrap().to_string();
    assert!(row("1 ").contains("FAILED 1/1 runs: completed (expects deadline)"), "{table}");
    // A run the deadline stopped is judged against the operations it can have applied: a range
    // when a worker was stopped mid-chunk (within_bound), one count otherwise (correct).
    let long = row("10000000000");
    assert!(long.contains("within_bound  deadline") || long.contains("correct       deadline"), "{table}");
    let rows = csv_rows(&csv);
    assert_eq!(
        (rows[0]["outcome"].as_str(), rows[1]["outcome"].as_str()),
        ("FAILED 1/1 runs: completed (expects deadline)", "deadline"),
        "{csv}"
    );
    let cells = doc["cells"].as_array().unwrap();
    assert_eq!(
        (cells[0]["outcome_as_expected"].clone(), cells[0]["exit_code"].clone()),
        (false.into(), 3.into()),
        "{doc}"
    );
    assert_eq!(
        (cells[1]["outcome_as_expected"].clone(), cells[1]["exit_code"].clone()),
        (true.into(), 0.into()),
        "{doc}"
    );
    assert_eq!(cells[1]["runs_as_expected"], 1, "{doc}");
    assert_valid(&validator(), &doc);
}

#[test]
fn a_cell_of_repeats_shows_its_declared_outcome_only_if_every_run_showed_it() {
    // A deadline about as long as the job: some runs complete, some do not, varying from run to
    // run. Whatever the mix, the cell must say how many runs showed the outcome, and pass only
    // when every one did.
    let job = job_file(
        "rule-dl.yaml",
        "workers: 2\niterations: 2000000\nvalue: {type: i}\noperation: add\nbackend: mutex\nrepeat: 6\ntimeout: 20ms\nexpect_outcome: deadline\n",
    );
    let csv = temp("dl.csv");
    let out = runner(&[&job, "--format", "json", "--export-csv", &csv]);
    let doc = out.json();
    let cell = &doc["cells"][0];
    let runs = cell["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6, "{cell}");
    let shown = runs.iter().filter(|r| r["outcome_as_expected"] == true).count();
    for run in runs {
        let deadline = run["outcome"] == "deadline";
        assert_eq!(run["outcome_as_expected"], deadline && run["verdict"] != "wrong", "{run}");
    }
    assert_eq!(cell["runs_as_expected"], shown, "{cell}");
    assert_eq!(cell["outcome_as_expected"], shown == 6, "{cell}");
    let code = if shown == 6 { 0 } else { 3 };
    assert_eq!((out.code, cell["exit_code"].as_i64()), (code, Some(code as i64)), "{cell}");
    let row = &csv_rows(&std::fs::read_to_string(&csv).unwrap())[0];
    assert_eq!(row["runs_as_expected"], shown.to_string(), "{row:?}");
    let outcome = if shown == 6 {
        "deadline".to_string()
    } else {
        format!("FAILED {}/6 runs: completed (expects deadline)", 6 - shown)
    };
    assert_eq!(row["outcome"], outcome, "{row:?}");
    assert_valid(&validator(), &doc);
}

#[test]
fn a_recovery_counts_as_the_declared_outcome_only_with_a_value_that_checks_out() {
    // Worker 1 dies holding the lock: the lock is recovered. Whatever the verdict on the value,
    // the header, the outcome line, the JSON and the exit code say the same thing: the job's
    // declared outcome happened only if the value checks out.
    let job = job_file(
        "rule-rec.yaml",
        "workers: 3\niterations: 100000\nvalue: {type: i}\noperation: add\noperand: [1, 2, 3]\nbackend: mutex\nfaults:\n  - {worker: 1, at: 5000, action: kill, inside_lock: true}\nexpect_outcome: recovered\n",
    );
    let human = runner(&[&job]);
    let json = runner(&[&job, "--format", "json"]);
    let doc = json.json();
    assert_eq!(doc["outcome"], "recovered", "{doc}");
    let as_expected = doc["verdict"] != "wrong";
    assert_eq!(doc["outcome_as_expected"], as_expected, "{doc}");
    let code = if as_expected { 0 } else { 3 };
    assert_eq!((human.code, json.code), (code, code), "{}", human.stdout);
    let header = human.stdout.lines().next().unwrap();
    assert_eq!(header.contains("RUN FAILED"), !as_expected, "{}", human.stdout);
    let line = human.stdout.lines().find(|l| l.starts_with("  outcome")).unwrap();
    assert_eq!(line.contains("as the job expects") && !line.contains("NOT"), as_expected, "{}", human.stdout);
    assert_valid(&validator(), &doc);
}
