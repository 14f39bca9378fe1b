//! What a file's cells say they are: overrides on a matrix (the labels say what ran, duplicated
//! cells are dropped), axes given with `--matrix`, what `runner plan` shows of a job's runs, and
//! a single job's report kept when exports are asked for.

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

const ONE_JOB: &str = "workers: 3\niterations: 50\nvalue: {type: i}\noperation: add\nbackend: mutex\nexpect: 150\n";
const SWEPT: &str = "workers: 1\niterations: 50\nvalue: {type: i}\noperation: add\nbackend: none\nmatrix:\n  backend: [mutex, atomic, channel]\n  workers: [1, 2]\n  include:\n    - {backend: channel, batch: 4}\n";

/// The cells' labels and the jobs they ran, from a JSON sweep.
fn cells_of(doc: &Value) -> Vec<(String, u64, String)> {
    let cells = doc["cells"].as_array().unwrap_or_else(|| panic!("a sweep: {doc:#}"));
    cells
        .iter()
        .map(|c| {
            let job = &c["job"];
            (
                c["cell"].as_str().unwrap_or("").to_string(),
                job["workers"].as_u64().unwrap_or(0),
                job["backend"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// `--matrix workers=1,2` makes a job without a matrix a sweep whose cells say the value they
/// ran; the file's `expect` was for 3 workers, so it is not checked (a notice says so), as with
/// `--workers`.
#[test]
fn a_matrix_flag_adds_an_axis() {
    let out = Test::new()
        .job("one.yaml", ONE_JOB)
        .args(&["{job}", "--matrix", "workers=1,2", "--matrix", "backend=atomic,mutex", "-q", "--format", "json"])
        .status(0)
        .run();
    let doc = out.json();
    assert_valid(&validator(), &doc);
    let cells: Vec<(String, u64, String)> = cells_of(&doc);
    let want = [
        ("workers=1 backend=atomic", 1, "atomic"),
        ("workers=1 backend=mutex", 1, "mutex"),
        ("workers=2 backend=atomic", 2, "atomic"),
        ("workers=2 backend=mutex", 2, "mutex"),
    ];
    assert_eq!(cells, want.map(|(c, w, b)| (c.to_string(), w, b.to_string())), "{doc:#}");
    for cell in doc["cells"].as_array().unwrap() {
        assert_eq!(cell["verdict"], "correct", "{cell:#}");
    }
    assert!(out.stderr.contains("expect: not checked, since --matrix workers=1,2"), "{}", out.stderr);
    // An axis that does not change the result keeps the file's `expect` checked.
    let out = Test::new()
        .job("one.yaml", ONE_JOB)
        .args(&["plan", "{job}", "--matrix", "backend=atomic,mutex"])
        .status(0)
        .run();
    assert!(!out.stdout.contains("not checked") && out.stdout.contains("cell backend=atomic"), "{}", out.stdout);
}

/// `--matrix backend=...` replaces the file's axis in its place: only the values listed run,
/// and the file's include about a backend no longer listed goes with it.
#[test]
fn a_matrix_flag_replaces_the_files_axis() {
    let out = Test::new()
        .job("m.yaml", SWEPT)
        .args(&["{job}", "--matrix", "backend=none,atomic", "-q", "--format", "json"])
        .status(0)
        .run();
    let doc = out.json();
    assert_valid(&validator(), &doc);
    let want = [
        ("backend=none workers=1", 1, "none"),
        ("backend=none workers=2", 2, "none"),
        ("backend=atomic workers=1", 1, "atomic"),
        ("backend=atomic workers=2", 2, "atomic"),
    ];
    assert_eq!(cells_of(&doc), want.map(|(c, w, b)| (c.to_string(), w, b.to_string())), "{doc:#}");
    // A listed backend keeps its include.
    let out = Test::new()
        .job("m.yaml", SWEPT)
        .args(&["plan", "{job}", "--matrix", "backend=channel", "--format", "json"])
        .status(0)
        .run();
    let doc = out.json();
    let labels: Vec<&str> =
        doc["cells"].as_array().expect("cells").iter().map(|c| c["cell"].as_str().unwrap()).collect();
    assert_eq!(labels, ["backend=channel workers=1 batch=4", "backend=channel workers=2 batch=4"], "{doc:#}");
}

/// A key no matrix takes is refused with a did-you-mean; a value the field does not take gets
/// the job file's own message, naming the flag instead of a line; a plain override of the same
/// key is a usage error naming both flags. All exit 2, before anything runs.
#[test]
fn a_matrix_flag_is_checked_as_the_file_would_be() {
    let out =
        Test::new().job("one.yaml", ONE_JOB).args(&["{job}", "--matrix", "wrokers=1,2"]).status(2).stdout("").run();
    assert!(
        out.stderr.contains("'--matrix <KEY=V1,V2,...>'") && out.stderr.contains("did you mean \"workers\"?"),
        "{}",
        out.stderr
    );

    let out =
        Test::new().job("one.yaml", ONE_JOB).args(&["{job}", "--matrix", "workers=1,x"]).status(2).stdout("").run();
    assert_eq!(
        out.without_tmp(&out.stderr),
        "[tmp]/one.yaml: workers: --matrix workers=1,x: expected an integer, found the string \"x\" (in cell workers=x)\n"
    );
    let out = Test::new()
        .job("one.yaml", ONE_JOB)
        .args(&["plan", "{job}", "--matrix", "workers=0,2", "--format", "json"])
        .status(2)
        .run();
    let diag = &out.json()["diagnostics"][0];
    assert_eq!(diag["field"], "workers", "{diag:#}");
    assert!(diag.get("line").is_none(), "no line of the file: {diag:#}");
    assert_eq!(diag["message"], "--matrix workers=0,2: must be between 1 and 1024, found 0 (in cell workers=0)");

    for args in [["--workers", "4", "--matrix", "workers=1,2"], ["--matrix", "workers=1,2", "--workers", "4"]] {
        let out = Test::new().job("one.yaml", ONE_JOB).arg("{job}").args(&args).status(2).stdout("").run();
        assert_eq!(
            out.stderr,
            "error: --workers 4 and --matrix workers=1,2 both set `workers`: --workers runs one value on every cell, --matrix sweeps it; give one of them\n"
        );
    }
    let out = Test::new()
        .job("m.yaml", SWEPT)
        .args(&["plan", "{job}", "--backend", "mutex", "--matrix", "backend=atomic"])
        .status(2)
        .run();
    assert!(out.stderr.contains("--backend mutex and --matrix backend=atomic"), "{}", out.stderr);
    let out = Test::new()
        .job("m.yaml", SWEPT)
        .args(&["plan", "{job}", "--matrix", "workers=1", "--matrix", "workers=2"])
        .status(2)
        .run();
    assert!(out.stderr.contains("give each matrix key once"), "{}", out.stderr);
}

/// `-r` and `-w` are hyperfine's letters for `--repeat` and `--warmup`: the same plan, and a
/// run of that many counted runs.
#[test]
fn short_repeat_and_warmup_are_the_long_ones() {
    let plan = |args: &[&str]| {
        Test::new().args(&["plan", "jobs/increment.yaml", "--format", "json"]).args(args).status(0).run().json()
    };
    let short = plan(&["-r", "3", "-w", "1"]);
    assert_eq!(short, plan(&["--repeat", "3", "--warmup", "1"]));
    assert_eq!((short["runs"]["repeat"].as_u64(), short["runs"]["warmup"].as_u64()), (Some(3), Some(1)), "{short:#}");
    let out =
        Test::new().args(&["jobs/increment.yaml", "-q", "-r", "3", "-w", "1", "--format", "json"]).status(0).run();
    let doc = out.json();
    assert_eq!(doc["cells"][0]["runs"].as_array().map(Vec::len), Some(3), "{doc:#}");
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
