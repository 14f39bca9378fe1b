//! The JSON documents: every schema in `schemas/` (except the job's) is generated from the
//! report's document types and held to them here (`RUNNER_BLESS=1 cargo test --test report`
//! rewrites them); every document runner prints validates against its schema (a run of every
//! backend, a sweep, a catalog, a plan, `validate` of a good and a bad file, `compare`,
//! `compare-python`, an invalid job, an error); and a run report carries what reproduces it.

mod common;

use common::{assert_valid, job, job_file, runner, validator};

/// The validator of `schemas/NAME`.
fn schema(name: &str) -> jsonschema::Validator {
    let path = format!("{}/schemas/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    jsonschema::draft7::new(&serde_json::from_str(&text).unwrap()).expect("a valid draft-07 schema")
}

fn temp(name: &str) -> String {
    std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name).to_string_lossy().into_owned()
}

#[test]
fn the_schemas_are_generated_from_the_document_types() {
    let mut drifted = Vec::new();
    for (name, generated) in runner::report::doc::schemas() {
        let path = format!("{}/schemas/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = serde_json::to_string_pretty(&generated).unwrap() + "\n";
        if std::fs::read_to_string(&path).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if std::env::var_os("RUNNER_BLESS").is_some() {
            std::fs::write(&path, text).unwrap();
        } else {
            drifted.push(name);
        }
    }
    assert!(
        drifted.is_empty(),
        "{drifted:?} drifted from the document types in src/report/doc/: regenerate with `RUNNER_BLESS=1 cargo test --test report`"
    );
}

#[test]
fn a_closed_document_refuses_an_unknown_field() {
    let mut doc = runner(&["jobs/increment.yaml", "--format", "json"]).json();
    assert_valid(&validator(), &doc);
    doc["colour"] = "blue".into();
    assert!(!validator().is_valid(&doc));
    let mut doc = runner(&["jobs/increment.yaml", "--format", "json"]).json();
    doc["workers"][0]["colour"] = "blue".into();
    assert!(!validator().is_valid(&doc));
}

#[test]
fn plans_validate() {
    let plan = schema("plan.schema.json");
    for args in [
        &["plan", "jobs/increment.yaml", "--format", "json"][..],
        &["plan", "jobs/channel-batch.yaml", "--format", "json"],
        &["plan", "jobs/backends-by-workers.yaml", "--format", "json"],
        &["plan", "jobs/fault-recovery.yaml", "--format", "json"],
    ] {
        let out = runner(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert_valid(&plan, &out.json());
    }
    let out = runner(&["plan", &job_file("plan-invalid.yaml", "workers: 0\n"), "--format", "json"]);
    assert_eq!(out.code, 2);
    assert_valid(&plan, &out.json());
    assert_valid(&schema("error.schema.json"), &out.json());
}

#[test]
fn validate_documents_validate() {
    let v = schema("validate.schema.json");
    let bad = job_file("validate-bad.yaml", "workers: 0\nbackend: mutx\ncolour: red\n");
    for (args, code) in [
        (vec!["validate", "jobs/increment.yaml", "jobs/race.yaml", "--format", "json"], 0),
        (vec!["validate", "jobs/increment.yaml", &bad, "no-such.yaml", "--format", "json"], 2),
    ] {
        let out = runner(&args);
        assert_eq!(out.code, code, "{}", out.stderr);
        let doc = out.json();
        assert_valid(&v, &doc);
        assert_eq!(doc["files"].as_array().unwrap().len(), args.len() - 3);
    }
}

#[test]
fn sweeps_catalogs_and_errors_validate() {
    let export = temp("report-sweep.json");
    let out = runner(&[
        "jobs/channel-batch.yaml",
        "--iterations",
        "500",
        "--repeat",
        "2",
        "--format",
        "json",
        "--export-json",
        &export,
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_valid(&validator(), &out.json());
    let exported: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    assert_valid(&schema("sweep.schema.json"), &exported);

    let out = runner(&["jobs/increment.yaml", "jobs/fault-fork.yaml", "jobs/fault-recovery.yaml", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert_valid(&validator(), &doc);
    assert_eq!(doc["jobs"].as_array().unwrap().len(), 3);

    // A run that cannot be set up, and an unreadable report: the error document.
    let out = runner(&["compare", "no-such.json", "no-such.json", "--format", "json"]);
    assert_eq!(out.code, 2);
    assert_valid(&schema("error.schema.json"), &out.json());
    assert_valid(&schema("compare.schema.json"), &out.json());
}

#[test]
fn compare_documents_validate() {
    let (old, new) = (temp("report-compare-old.json"), temp("report-compare-new.json"));
    for path in [&old, &new] {
        let out =
            runner(&["jobs/critical-section.yaml", "--iterations", "300", "--repeat", "4", "--export-json", path]);
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    let out = runner(&["compare", &old, &new, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert_valid(&schema("compare.schema.json"), &doc);
    assert!(!doc["cells"].as_array().unwrap().is_empty());
}

#[test]
fn compare_python_documents_validate() {
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found: compare-python's document is not checked");
        return;
    }
    let out = runner(&["compare-python", "jobs/increment.yaml", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_valid(&schema("compare-python.schema.json"), &out.json());
}

#[test]
fn reports_of_every_backend_validate() {
    let v = validator();
    for (backend, extra) in
        [("mutex", ""), ("atomic", ""), ("channel", ""), ("channel", "transport: ipc\n"), ("none", "")]
    {
        for (ty, operand) in [("i", "1"), ("d", "0.5"), ("c", "\"a\"")] {
            let text = job(3, 5000, ty, "0", "add", operand, backend) + extra;
            let path = job_file(&format!("report-{backend}-{}-{ty}.yaml", extra.len()), text);
            let out = runner(&[&path, "--format", "json"]);
            assert_eq!(out.code, 0, "{}", out.stderr);
            let doc = out.json();
            assert_valid(&v, &doc);
            // Percentiles, fairness and provenance are there.
            assert!(doc["latency"]["op"]["p99"].as_u64().is_some(), "{doc}");
            assert_eq!(doc["latency"]["lock_wait"].is_object(), backend == "mutex");
            assert!(doc["fairness"]["jain"].as_f64().unwrap() > 0.0);
            let text = std::fs::read(&path).unwrap();
            assert_eq!(doc["file_sha256"].as_str().unwrap().len(), 64);
            assert_ne!(text.len(), 0);
            assert!(doc["host"]["cores"].as_u64().unwrap() >= 1);
            assert!(doc["started_at"].as_str().unwrap().ends_with('Z'));
            if backend == "channel" {
                // No transport named: the default, a pipe.
                let transport = if extra.is_empty() { "pipe" } else { "ipc" };
                assert_eq!(
                    (&doc["job"]["transport"], &doc["channel"]["transport"]),
                    (&transport.into(), &transport.into())
                );
            }
        }
    }
}

#[test]
fn the_digest_is_the_files() {
    let doc = runner(&["jobs/increment.yaml", "--format", "json"]).json();
    let out = std::process::Command::new("sha256sum")
        .arg("jobs/increment.yaml")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    if let Ok(out) = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()) {
        assert_eq!(out.split_whitespace().next(), doc["file_sha256"].as_str());
    }
}

#[test]
fn an_invalid_job_still_gives_one_valid_document() {
    let out = runner(&[&job_file("report-invalid.yaml", "workers: 0\n"), "--format", "json"]);
    assert_eq!(out.code, 2);
    assert_valid(&validator(), &out.json());
}

#[test]
fn the_human_report_shows_percentiles_and_fairness() {
    let out = runner(&["jobs/increment.yaml"]);
    assert_eq!(out.code, 0);
    for needle in [
        "latency   op: p50 ",
        "p99.9 ",
        "lock wait p50 ",
        "fairness  Jain ",
        "run of    runner ",
        "job sha256 ",
        " cores, ",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
}

#[test]
fn the_human_report_names_the_channels_transport() {
    let text = job(2, 5000, "i", "0", "add", "1", "channel") + "batch: 5000\ntransport: pipe\n";
    let out = runner(&[&job_file("human-pipe.yaml", text)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // 5000 `i` operations need five writes of at most 4096 bytes each; with messages that large
    // the workers leave the CPU to the owner.
    assert!(
        out.stdout
            .contains("  channel   10 messages, 40080 bytes, batch 5000, transport pipe, workers at idle priority\n"),
        "{}",
        out.stdout
    );
}
