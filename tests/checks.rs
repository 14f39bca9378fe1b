//! What a run was checked against, said the same way everywhere, and verdicts that claim no
//! more than the check could see: `runner plan` (human and JSON), the human report and the
//! JSON report carry one check (exact, one of a set, an interval); a check that cannot see a
//! lost update keeps a `none` run from `correct`; an interval is `within_bound`; a `none` run
//! whose workers never overlapped is `no_race`; every verdict is in the README's exit codes.

mod common;

use common::{assert_valid, job, job_file, runner, validator};
use serde_json::Value as Json;

fn schema(name: &str) -> jsonschema::Validator {
    let path = format!("{}/schemas/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    jsonschema::draft7::new(&serde_json::from_str(&text).unwrap()).expect("a valid draft-07 schema")
}

/// `runner plan FILE` in both formats, and a run in both formats, each checked against its
/// schema; the four must show one check. Returns the JSON check and the run's document.
fn agree(path: &str, code: i32) -> (Json, Json) {
    let plan = runner(&["plan", path, "--format", "json"]);
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    let plan = plan.json();
    let human_plan = runner(&["plan", path]).stdout;
    let run = runner(&[path, "--format", "json"]);
    assert_eq!(run.code, code, "{}", run.stderr);
    let run = run.json();
    let human = runner(&[path]).stdout;

    let expected = plan["expected"].clone();
    assert_eq!(run["expected"], expected, "plan and run report carry one check");
    let text = expected["text"].as_str().unwrap();
    assert!(human_plan.contains(&format!("\n  expected   {text}\n")), "{human_plan}");
    assert!(human.contains(&format!("\n  expected  {text}\n")), "{human}");
    if let Some(blind) = expected["blind"].as_str() {
        assert!(human_plan.contains(blind) && human.contains(blind), "{human_plan}\n{human}");
    }
    assert_valid(&schema("plan.schema.json"), &plan);
    assert_valid(&validator(), &run);
    (expected, run)
}

#[test]
fn set_in_any_order_is_one_of_its_operands_everywhere() {
    let text = "workers: 3\niterations: 1000\nvalue: {type: i}\noperation: set\noperand: [7, 8, 9]\nbackend: mutex\n";
    let (expected, run) = agree(&job_file("checks-set.yaml", text), 0);
    assert_eq!(expected["kind"], "one_of");
    assert_eq!(expected["values"], serde_json::json!([7, 8, 9]));
    assert_eq!(expected["text"], "one of 7, 8, 9 (the last writer wins)");
    // No number a tool could compare with `final ==`.
    assert!(expected.get("value").is_none());
    assert!(run["expected"]["values"].as_array().unwrap().contains(&run["final"]));
    assert_eq!(run["verdict"], "correct");
}

#[test]
fn a_float_sum_in_any_order_is_an_interval_everywhere() {
    // jobs/float-sum-order.yaml's concurrent cell.
    let text = "workers: 3\niterations: 1000\nvalue: {type: d}\noperation: add\noperand: [1.0e16, -1.0e16, 0.1]\nbackend: mutex\n";
    let (expected, run) = agree(&job_file("checks-float-order.yaml", text), 0);
    assert_eq!(expected["kind"], "interval");
    assert_eq!(expected["reference"], 100.0);
    assert_eq!(expected["reference_is"], "exact_sum");
    let (lo, hi) = (expected["lo"].as_f64().unwrap(), expected["hi"].as_f64().unwrap());
    assert!(lo < 100.0 && 100.0 < hi && hi - lo < 1e7, "{expected}");
    let last = run["final"].as_f64().unwrap();
    assert!(lo <= last && last <= hi);
    // A mutex within the interval: not `correct`, and the reason says what it cannot see.
    assert_eq!(run["verdict"], "within_bound");
    assert!(run["verdict_reason"].as_str().unwrap().contains("add 0.1"), "{run}");
    assert_eq!(run["correct"], false);

    // The catalog's matrix: the plan's concurrent cell is the sweep's.
    let plan = runner(&["plan", "jobs/float-sum-order.yaml", "--format", "json"]).json();
    assert_valid(&schema("plan.schema.json"), &plan);
    let cell = plan["cells"].as_array().unwrap().iter().find(|c| c["cell"] == "schedule=concurrent").unwrap();
    assert_eq!(cell["plan"]["expected"], expected);
}

/// The checks a document carries: a plan's (or each cell's), a run's, a sweep's cells' and
/// their runs'.
fn checks(doc: &Json) -> Vec<Json> {
    if let Some(cells) = doc["cells"].as_array() {
        return cells
            .iter()
            .flat_map(|c| {
                let plan = if c["plan"].is_object() { vec![c["plan"]["expected"].clone()] } else { vec![] };
                let own = if c["expected"].is_object() { vec![c["expected"].clone()] } else { vec![] };
                let runs: Vec<Json> =
                    // (A run that stopped early was checked against its applied operations.)
                    c["runs"].as_array().map_or(vec![], |r| {
                        r.iter().map(|r| r["expected"].clone()).filter(|e| e["kind"] != "applied").collect()
                    });
                let all: Vec<Json> = plan.into_iter().chain(own).chain(runs).collect();
                for x in &all {
                    assert_eq!(x, &all[0], "a cell's checks agree: {c:#}");
                }
                all.into_iter().take(1)
            })
            .collect();
    }
    if doc["expected"].is_object() { vec![doc["expected"].clone()] } else { vec![] }
}

#[test]
fn every_catalog_job_carries_the_same_check_in_its_plan_and_its_report() {
    let mut files: Vec<_> = std::fs::read_dir("jobs").unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut compared = 0;
    // The Redis jobs' server.
    let server = common::redis::RedisServer::start();
    for file in files {
        let path = file.to_string_lossy().into_owned();
        let plan = runner(&["plan", &path, "--format", "json"]);
        assert_eq!(plan.code, 0, "{path}: {}", plan.stderr);
        let plan = plan.json();
        let run = common::Test::new().args(&[&path, "--format", "json", "-q"]).env("RUNNER_REDIS", &server.url()).run();
        let run = run.json();
        if !run["error"].is_string() {
            // (A job that declares a failed fork has no run to check.)
            let (planned, reported) = (checks(&plan), checks(&run));
            assert!(!planned.is_empty(), "{path}: {plan:#}");
            // A run that stopped early was checked against its applied operations, and names
            // the planned check that replaced.
            let reported: Vec<Json> = reported
                .into_iter()
                .zip(&planned)
                .map(|(r, p)| {
                    if r["kind"] != "applied" {
                        return r;
                    }
                    assert_eq!(r["planned"], p["text"], "{path}");
                    p.clone()
                })
                .collect();
            assert_eq!(planned, reported, "{path}");
            compared += 1;
        }
        assert_valid(&schema("plan.schema.json"), &plan);
        assert_valid(&validator(), &run);
    }
    assert!(compared >= 10, "{compared}");
}

#[test]
fn sums_whose_partial_sums_are_all_exact_are_checked_exactly() {
    // [1.0, 2.0] in any order: every partial sum is a small integer, a double.
    let text = "workers: 2\niterations: 1000\nvalue: {type: d}\noperation: add\noperand: [1.0, 2.0]\nbackend: atomic\n";
    let (expected, run) = agree(&job_file("checks-dyadic.yaml", text), 0);
    assert_eq!(expected["kind"], "exact");
    assert_eq!(expected["value"], 3000.0);
    assert_eq!(run["order"]["depends_on_order"], false);
    assert_eq!(run["verdict"], "correct");
    let human = runner(&[&job_file("checks-dyadic.yaml", text)]).stdout;
    assert!(!human.contains("depends on the order"), "{human}");
}

#[test]
fn a_none_run_that_passes_a_check_blind_to_a_lost_update_is_not_correct() {
    // max 5 ends at 5 whatever is lost; set ends at one of the operands.
    for (name, text) in [
        ("checks-max.yaml", job(2, 200_000, "i", "0", "max", "5", "none")),
        (
            "checks-set-none.yaml",
            "workers: 3\niterations: 100000\nvalue: {type: i}\noperation: set\noperand: [7, 8, 9]\nbackend: none\n"
                .to_string(),
        ),
    ] {
        let path = job_file(name, text);
        let plan = runner(&["plan", &path, "--format", "json"]).json();
        assert!(plan["expected"]["blind"].is_string(), "{plan:#}");
        let out = runner(&[&path, "--format", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let run = out.json();
        assert_valid(&validator(), &run);
        let verdict = run["verdict"].as_str().unwrap();
        assert!(verdict == "inconclusive" || verdict == "no_race", "{name}: {verdict}");
        assert!(run["verdict_reason"].is_string());
        assert!(run["lost_updates"].is_null() || verdict == "no_race");
        let human = runner(&[&path]).stdout;
        assert!(human.contains("\n  limits    the check cannot detect every lost update: "), "{human}");
    }
}

#[test]
fn a_none_run_whose_workers_never_overlapped_is_no_race() {
    // One worker, and workers that take turns one after another: no window overlaps another.
    for (name, text) in [
        ("checks-alone.yaml", job(1, 100_000, "i", "0", "add", "1", "none")),
        ("checks-turns.yaml", job(3, 100_000, "i", "0", "add", "1", "none") + "schedule: sequential\n"),
    ] {
        let path = job_file(name, text);
        let out = runner(&[&path, "--format", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let run = out.json();
        assert_eq!(run["verdict"], "no_race", "{run:#}");
        assert_valid(&validator(), &run);
        assert_eq!(run["window_overlap_seconds"], 0.0);
        assert_eq!(run["lost_updates"], 0);
        assert!(run["verdict_reason"].as_str().unwrap().contains("no race could occur"));
    }
    let out = runner(&[&job_file(
        "checks-turns-human.yaml",
        job(2, 1000, "i", "0", "add", "1", "none") + "schedule: sequential\n",
    )]);
    assert!(
        out.stdout.contains("\n  verdict   no_race: the workers' windows never overlapped: no race could occur\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\n  overlap   none: the workers' windows (first operation to last) never overlapped\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn every_verdict_is_in_the_readmes_exit_codes() {
    let schema: Json = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/report.schema.json")).unwrap(),
    )
    .unwrap();
    let verdicts: Vec<String> = schema["definitions"]["Verdict"]["oneOf"]
        .as_array()
        .map(|all| {
            all.iter()
                .flat_map(|v| v["enum"].as_array().cloned().unwrap_or_else(|| vec![v["const"].clone()]))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    assert!(verdicts.len() >= 6, "{verdicts:?}: {:#}", schema["definitions"]["Verdict"]);
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = &readme[readme.find("## Exit codes").unwrap()..];
    let table = &table[..table[3..].find("\n## ").map_or(table.len(), |i| i + 3)];
    for verdict in verdicts {
        assert!(table.contains(&format!("`{verdict}`")), "{verdict} is not in the README's exit codes:\n{table}");
    }
}

#[test]
fn a_none_run_within_a_wide_interval_is_never_called_correct() {
    // 1e16 and -1e16 make the rounding bound of any order millions wide: a lost 0.1 passes it.
    let text = "workers: 3\niterations: 1000\nvalue: {type: d}\noperation: add\noperand: [1.0e16, -1.0e16, 0.1]\nbackend: none\n";
    let path = job_file("checks-wide-none.yaml", text);
    for _ in 0..3 {
        let out = runner(&[&path, "--format", "json"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let run = out.json();
        let verdict = run["verdict"].as_str().unwrap();
        assert!(["inconclusive", "lost_updates", "no_race"].contains(&verdict), "{verdict}: {run:#}");
        assert_valid(&validator(), &run);
        assert_eq!(run["correct"], false);
    }
}
