//! The checked-in catalog: every job validates against the schema and with runner, and runs to
//! the verdict it describes. The schema file is what `runner schema` prints.

mod common;

use common::runner;

fn jobs() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/jobs"))
        .expect("jobs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| format!("jobs/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
}

fn schema_file() -> serde_json::Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/job.schema.json")).expect("schema file");
    serde_json::from_str(&text).expect("schema is JSON")
}

/// `runner schema` prints the checked-in file (`spec::SCHEMA_TEXT`), so the file must be what
/// the generator makes of the types: `RUNNER_BLESS=1 cargo test --test jobs schema_file`
/// rewrites it.
#[test]
fn schema_file_is_what_the_generator_writes_and_runner_prints() {
    let generated = serde_json::to_string_pretty(&runner::spec::schema()).expect("JSON") + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/job.schema.json");
    if std::env::var_os("RUNNER_BLESS").is_some() {
        std::fs::write(path, &generated).expect("write the schema file");
    }
    let file = std::fs::read_to_string(path).expect("schema file");
    assert!(
        generated == file,
        "schemas/job.schema.json drifted from the types: rewrite it with `RUNNER_BLESS=1 cargo test --test jobs schema_file`"
    );
    let out = runner(&["schema"]);
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout, file, "runner schema prints the file");
    let printed: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(printed, schema_file());
    assert_eq!(printed["$schema"], "http://json-schema.org/draft-07/schema#");
}

/// What an editor shows and inserts: no `default: null` (the YAML language server would insert
/// `batch: null`, which runner refuses) and descriptions without hard line wraps (hover text
/// must not break mid-sentence).
#[test]
fn the_schema_inserts_no_null_and_wraps_no_line() {
    fn walk(node: &serde_json::Value, path: &str, problems: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(map) => {
                if map.get("default").is_some_and(serde_json::Value::is_null) {
                    problems.push(format!("{path}: default null"));
                }
                if let Some(text) = map.get("description").and_then(|d| d.as_str())
                    && text.replace("\n\n", "").contains('\n')
                {
                    problems.push(format!("{path}: a line break inside a paragraph: {text:?}"));
                }
                for (k, v) in map {
                    walk(v, &format!("{path}/{k}"), problems);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{path}/{i}"), problems);
                }
            }
            _ => {}
        }
    }
    let out = runner(&["schema"]);
    assert_eq!(out.code, 0);
    let mut problems = Vec::new();
    walk(&out.json(), "", &mut problems);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_job_validates_against_the_schema() {
    let validator = jsonschema::draft7::new(&schema_file()).expect("a valid draft-07 schema");
    let files = jobs();
    assert!(files.len() >= 7, "the catalog has a job per backend and per type");
    for file in files {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + &file).unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
        assert!(doc["description"].is_string(), "{file} says what it shows");
    }
}

#[test]
fn the_schema_refuses_what_runner_refuses() {
    let validator = jsonschema::draft7::new(&schema_file()).unwrap();
    for bad in [
        serde_json::json!({"workers": 5, "value": {"type": "i"}, "operation": "add", "backend": "mutx"}),
        serde_json::json!({"workers": 0, "value": {"type": "i"}, "operation": "add", "backend": "mutex"}),
        serde_json::json!({"workers": 5, "value": {"type": "i"}, "operation": "add", "backend": "mutex", "colour": 1}),
        serde_json::json!({"workers": 5, "operation": "add", "backend": "mutex"}),
    ] {
        assert!(!validator.is_valid(&bad), "{bad}");
    }
}

#[test]
fn every_job_validates_and_runs() {
    for file in jobs() {
        let out = runner(&["validate", &file]);
        assert_eq!((out.code, out.stdout.trim()), (0, format!("{file}: ok").as_str()), "{}", out.stderr);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("description:"), "{file}: every job says which question it answers");
    }
    // The whole catalog in one run, as CI runs it: one JSON document, every job passing.
    // The Redis jobs' server: RUNNER_REDIS names it, as it would anywhere.
    let server = common::redis::RedisServer::start();
    let out = common::Test::new()
        .args(&["jobs", "--format", "json", "--repeat", "1"])
        .env("RUNNER_REDIS", &server.url())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    common::assert_valid(&common::validator(), &doc);
    assert_eq!(doc["jobs"].as_array().unwrap().len(), jobs().len());
    for job in doc["jobs"].as_array().unwrap() {
        let file = job["file"].as_str().unwrap();
        let report = &job["report"];
        assert_eq!(job["exit_code"], 0, "{file}");
        if report["error"].is_string() {
            // A declared fork failure: the error is the outcome the job expects.
            assert_eq!(report["outcome_as_expected"], true, "{file}: {report}");
            continue;
        }
        // A single run, or a sweep whose every run is judged.
        let runs: Vec<&serde_json::Value> = match report["cells"].as_array() {
            Some(cells) => cells.iter().flat_map(|c| c["runs"].as_array().unwrap()).collect(),
            None => vec![report],
        };
        assert!(!runs.is_empty(), "{file}");
        for run in runs {
            let verdict = run["verdict"].as_str().unwrap();
            if run["job"]["backend"] == "none" {
                assert!(["lost_updates", "correct", "no_race"].contains(&verdict), "{file}: {verdict}");
            } else if run["expected"]["kind"] == "interval" {
                assert_eq!(verdict, "within_bound", "{file}");
            } else {
                assert_eq!(verdict, "correct", "{file}");
            }
        }
    }
}

#[test]
fn the_tutorial_ends_at_five() {
    let out = runner(&["jobs/increment.yaml"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("final     5\n"), "{}", out.stdout);
    assert!(out.stdout.contains("verdict   correct"), "{}", out.stdout);
    let report = runner(&["jobs/increment.yaml", "--format", "json"]).json();
    assert_eq!(report["schema_version"], 2);
    assert_eq!(report["final"], 5);
    assert_eq!(report["correct"], true);
    let workers = report["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 5);
    let mut pids: Vec<i64> = workers.iter().map(|w| w["pid"].as_i64().unwrap()).collect();
    pids.sort();
    pids.dedup();
    assert_eq!(pids.len(), 5, "five distinct processes");
    for (i, w) in workers.iter().enumerate() {
        assert_eq!(w["index"], i);
        assert_eq!(w["ops"], 1);
        assert_eq!(w["exit"], serde_json::json!({"code": 0, "signal": null}));
    }
}
