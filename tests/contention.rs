//! Contention at scale: 8 workers x 200k operations. Synchronised backends lose nothing; with
//! `none` updates are lost wherever two workers really run at once.

mod common;

use common::{job, job_file, runner};

fn run(backend: &str, ty: &str, extra: &str) -> serde_json::Value {
    let text = job(8, 200_000, ty, "0", "add", "1", backend) + extra;
    let path = job_file(&format!("contention-{backend}-{ty}.yaml"), text);
    let out = runner(&[&path, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

fn assert_nothing_lost(report: &serde_json::Value) {
    assert_eq!(report["verdict"], "correct", "{report}");
    assert_eq!(report["lost_updates"], 0);
    assert_eq!(report["final"].as_f64(), Some(1_600_000.0));
    assert_eq!(report["applied_operations"], 1_600_000);
}

#[test]
fn mutex_loses_nothing() {
    assert_nothing_lost(&run("mutex", "i", ""));
}

#[test]
fn atomic_loses_nothing() {
    assert_nothing_lost(&run("atomic", "i", ""));
}

#[test]
fn atomic_double_cas_loses_nothing() {
    assert_nothing_lost(&run("atomic", "d", ""));
}

#[test]
fn channel_loses_nothing() {
    assert_nothing_lost(&run("channel", "i", ""));
}

#[test]
fn pipe_workers_with_large_messages_leave_the_cpu_to_the_owner() {
    // 4 KiB messages: idle workers; one operation a message: normal ones. Busy work outside each
    // operation keeps the workers alive while their policy is read.
    for (batch, policy) in [(1022, 5), (1, 0)] {
        let text = job(2, 100_000, "i", "0", "add", "1", "channel")
            + &format!("transport: pipe\nbatch: {batch}\nwork:\n  outside: 5us\n");
        let path = job_file(&format!("contention-idle-{batch}.yaml"), text);
        let (policies, report) = common::run_reading_policies(&path, 2);
        assert_eq!(policies, [policy, policy], "batch {batch}");
        assert_eq!(report["channel"]["idle_workers"], policy == 5, "batch {batch}");
        assert_eq!(report["verdict"], "correct");
    }
}
