//! The JSON report validates against `schemas/report.schema.json`, for every backend, for a
//! failed worker's run and for an invalid job; and it carries what reproduces the run.

mod common;

use common::{assert_valid, job, job_file, runner, validator};

#[test]
fn reports_of_every_backend_validate() {
    let v = validator();
    for (backend, extra) in
        [("mutex", ""), ("atomic", ""), ("channel", ""), ("channel", "transport: pipe\n"), ("none", "")]
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
                let transport = if extra.is_empty() { "ipc" } else { "pipe" };
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
