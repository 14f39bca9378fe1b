//! One job's workers on several hosts, with the value in Redis, over real network namespaces:
//! a bridge namespace, and three namespaces joined to it by veth pairs (198.51.100.0/24): the
//! server's (redis-server bound to its address), and two hosts, each running a `runner worker`
//! through `ip netns exec`. The server runs with protected mode off: it is reachable only inside
//! the namespaces the test made. runner itself (the coordinator) runs in the first host's
//! namespace. 8 workers on 2 hosts end exact for atomic, mutex and channel (runner owning the
//! stream, order-dependent jobs ending at its replay); SIGINT during a long run leaves
//! no `runner worker` process and no key, and so does a deadline; a worker killed at the
//! barrier, or one its host cannot fork, does not hold the others there. Every namespace is removed at
//! the end, on failure too (a guard; the namespaces are `common::netns`'s, shared with
//! tests/redis_netfaults.rs). Needs root (CI runs as root): without it the tests fail,
//! they never skip. Without namespaces: the planner's refusals of `hosts`, and `runner worker`
//! refusing another version or a job whose sha256 differs.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::cgroup::Cgroup;
use common::netns::{Net, processes_with};
use common::redis::RedisServer;
use common::{Test, job_file, wait_at_most};

#[test]
fn eight_workers_on_two_hosts_end_exact_for_atomic_and_mutex() {
    let net = Net::new();
    for (backend, iterations) in [("atomic", 500), ("mutex", 150)] {
        let key = format!("{{rh:{}:{backend}}}", std::process::id());
        let job = net.job(&format!("hosts-{backend}.yaml"), backend, iterations, &key);
        let out = net.runner(&job).output().expect("runner");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{backend}:\n{stdout}\n{stderr}");
        let total = 8 * iterations;
        assert!(stdout.contains(&format!("final     {total}\n")), "{backend}:\n{stdout}");
        assert!(stdout.contains("verdict   correct"), "{backend}:\n{stdout}");
        assert!(stderr.contains("host a (`ip netns exec"), "{stderr}");
        assert!(stderr.contains(&format!("workers 4..=7, {} operations, 4 of 4 exited 0", 4 * iterations)), "{stderr}");
        assert_eq!(net.cli(&["dbsize"]), "0", "keys left after {backend}: {}", net.cli(&["keys", "*"]));
        assert!(processes_with(&key).is_empty(), "{:?}", processes_with(&key));
    }
}

/// The channel on two hosts: every host's workers add their batches to the run's stream, runner
/// (on host a) owns the value and applies the stream in order. An `i` sum ends exact; an
/// order-dependent job (`d` products of per-worker factors, and `set` of per-worker operands)
/// ends bit for bit at the replay of the stream as a reader in the server's namespace saw it.
#[test]
fn eight_workers_on_two_hosts_end_exact_for_the_channel() {
    let net = Net::new();
    let key = format!("{{rh:{}:channel-add}}", std::process::id());
    let work = "workers: 8\niterations: 2000\nvalue: {type: i}\noperation: add\noperand: 3\nbackend: channel\nbatch: 64\ntimeout: 60s\n";
    let job = net.job_of("hosts-channel-add.yaml", work, &key);
    let out = net.runner(&job).args(["--format", "json"]).output().expect("runner");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!((doc["final"].as_i64(), doc["verdict"].as_str()), (Some(8 * 2000 * 3), Some("correct")), "{doc:#}");
    assert_eq!(doc["channel"]["applied"], serde_json::json!(vec![2000; 8]), "{doc:#}");
    assert!(stderr.contains("workers 4..=7, 8000 operations, 4 of 4 exited 0"), "{stderr}");
    // Network namespaces share the machine's clock: every entry is measured.
    let latency = &doc["redis"]["apply_latency"];
    assert_eq!(latency["measured_entries"], doc["channel"]["messages"], "{doc:#}");
    assert!(latency["p50_ns"].as_u64() <= latency["p99_ns"].as_u64(), "{doc:#}");
    assert_eq!(net.cli(&["dbsize"]), "0", "keys left: {}", net.cli(&["keys", "*"]));
    assert!(processes_with(&key).is_empty(), "{:?}", processes_with(&key));

    let factors = "[1.1, 0.9, 1.3, 0.7, 1.000001, 0.999999, 1.7, 0.6]";
    for (name, work) in [
        ("mul", format!("workers: 8\niterations: 300\nvalue: {{type: d, initial: 1.0}}\noperation: mul\noperand: {factors}\nbackend: channel\nbatch: 7\ntimeout: 60s\n")),
        ("set", "workers: 8\niterations: 300\nvalue: {type: d}\noperation: set\noperand: [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5]\nbackend: channel\nbatch: 7\ntimeout: 60s\n".to_string()),
    ] {
        let key = format!("{{rh:{}:channel-{name}}}", std::process::id());
        let reader = net.follow(&key, 8 * 300);
        let job = net.job_of(&format!("hosts-channel-{name}.yaml"), &work, &key);
        let out = net.runner(&job).args(["--format", "json"]).output().expect("runner");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        assert_eq!(doc["order"]["depends_on_order"], true, "{doc:#}");
        let entries = reader.join().expect("the reader");
        assert_eq!(doc["channel"]["messages"], entries.len() as u64, "{doc:#}");
        let mut model = if name == "mul" { 1.0f64 } else { 0.0 };
        for (_, n, operand) in &entries {
            let a = f64::from_le_bytes(operand.as_slice().try_into().expect("8 bytes"));
            for _ in 0..*n {
                model = if name == "mul" { model * a } else { a };
            }
        }
        // The display's text, read by Rust's correctly rounded parser (serde_json's default
        // float parsing may be an ulp off).
        let display = doc["final_display"].as_str().expect("the final value's text");
        let fin: f64 = display.parse().unwrap_or_else(|_| panic!("{name}: a double: {display}"));
        assert_eq!(fin.to_bits(), model.to_bits(), "{name}: runner {fin:e}, the stream's replay {model:e}");
        let expected: &[&str] = if name == "set" { &["correct"] } else { &["correct", "within_bound"] };
        assert!(expected.contains(&doc["verdict"].as_str().unwrap_or("")), "{doc:#}");
        assert_eq!(net.cli(&["dbsize"]), "0", "keys left: {}", net.cli(&["keys", "*"]));
        assert!(processes_with(&key).is_empty(), "{:?}", processes_with(&key));
    }
}

/// The apply latency is measured only for entries sent on runner's clock: a host whose workers
/// run in a time namespace of their own (`unshare --time`: its CLOCK_MONOTONIC may be offset)
/// is not measured, and when neither host shares runner's clock the report says so, with no
/// figure.
#[test]
fn the_apply_latency_is_measured_only_on_runners_clock() {
    let net = Net::new();
    let work =
        "workers: 8\niterations: 640\nvalue: {type: i}\noperation: add\noperand: 1\nbackend: channel\nbatch: 64\n";
    let key = format!("{{rh:{}:clock-half}}", std::process::id());
    let job = net.job_wrapped("hosts-clock-half.yaml", work, &key, ["", "unshare --time --fork"]);
    let out = net.runner(&job).args(["--format", "json"]).output().expect("runner");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    assert_eq!(doc["verdict"], "correct", "{doc:#}");
    // 10 entries per worker; host a's 4 workers share runner's clock, host b's do not.
    let latency = &doc["redis"]["apply_latency"];
    assert_eq!((latency["entries"].as_u64(), latency["measured_entries"].as_u64()), (Some(80), Some(40)), "{doc:#}");
    assert!(latency["p50_ns"].as_u64().is_some_and(|p| p > 0), "{doc:#}");

    let key = format!("{{rh:{}:clock-none}}", std::process::id());
    let wrap = "unshare --time --fork";
    let job = net.job_wrapped("hosts-clock-none.yaml", work, &key, [wrap, wrap]);
    let out = net.runner(&job).output().expect("runner");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("  apply     latency not measured: no entry came from a process on runner's clock"),
        "{stdout}"
    );
    assert_eq!(net.cli(&["dbsize"]), "0", "keys left: {}", net.cli(&["keys", "*"]));
    assert!(processes_with(&key).is_empty(), "{:?}", processes_with(&key));
}

/// A host lost mid-run (its `runner worker` and its workers killed, as when the machine dies)
/// while runner owns the channel's stream: runner stops the other host and ends at once, with
/// no process and no key left.
#[test]
fn a_lost_host_stops_the_channel_and_leaves_no_key() {
    let net = Net::new();
    let key = format!("{{rh:{}:lost-channel}}", std::process::id());
    let job = net.job("hosts-lost-channel.yaml", "channel", 50_000_000, &key);
    let mut child = net.runner(&job).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("runner");
    let started = Instant::now();
    while processes_with(&key).len() < 10 {
        assert!(started.elapsed() < Duration::from_secs(30), "never all started: {:?}", processes_with(&key));
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    for (pid, _) in processes_with(&key).iter().filter(|(_, line)| line.contains("--host 1")) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), nix::sys::signal::SIGKILL);
    }
    let killed = Instant::now();
    let status = wait_at_most(&mut child, Duration::from_secs(20), "runner after a lost host");
    assert!(killed.elapsed() < Duration::from_secs(3), "runner took {:?} to stop", killed.elapsed());
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("host b was lost"), "{stderr}");
    assert!(processes_with(&key).is_empty(), "left behind: {:?}", processes_with(&key));
    assert_eq!(net.cli(&["dbsize"]), "0", "keys left: {}", net.cli(&["keys", "*"]));
}

/// A worker killed while it waits at the start barrier (host b not there yet: its cable is
/// down): the other 7 start once host b is back, and the run is reported as a failed worker,
/// with no process and no key left.
#[test]
fn a_worker_killed_at_the_barrier_is_reported_and_the_others_run() {
    let net = Net::new();
    let key = format!("{{rh:{}:dead-at-barrier}}", std::process::id());
    let job = net.job("hosts-dead-at-barrier.yaml", "atomic", 1000, &key);
    net.link(1, false);
    let mut child = net.runner(&job).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("runner");
    let started = Instant::now();
    let host_a = loop {
        let found = processes_with(&key).into_iter().find(|(_, line)| line.contains("--host 0"));
        if let Some((pid, _)) = found
            && common::netns::host_children(pid as u32).0.len() == 4
        {
            break pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "host a's workers never started: {:?}",
            processes_with(&key)
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // Host a's workers have forked; give them time to arrive and wait at the barrier.
    std::thread::sleep(Duration::from_millis(500));
    let victim = common::netns::host_children(host_a as u32).0[1];
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim), nix::sys::signal::SIGKILL).expect("SIGKILL");
    std::thread::sleep(Duration::from_millis(500));
    net.link(1, true);
    let back = Instant::now();
    let status = wait_at_most(&mut child, Duration::from_secs(90), "runner after a worker died at the barrier");
    let out = child.wait_with_output().expect("output");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // Host b connects again within a few of TCP's resends; the barrier's bound is 60 s.
    assert!(back.elapsed() < Duration::from_secs(30), "took {:?} after the link came back\n{stderr}", back.elapsed());
    assert_eq!(status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("RUN FAILED: worker") && stdout.contains("was killed by SIGKILL"), "{stdout}");
    let row = stdout.lines().find(|l| l.split_whitespace().nth(1) == Some(&victim.to_string()));
    assert!(row.is_some_and(|row| row.ends_with("killed by SIGKILL")), "no row for pid {victim}: {stdout}");
    // The other 7 did all their work.
    assert!(stdout.contains("final     7000\n"), "{stdout}");
    assert!(processes_with(&key).is_empty(), "left behind: {:?}", processes_with(&key));
    assert_eq!(net.cli(&["dbsize"]), "0", "keys left: {}", net.cli(&["keys", "*"]));
}

/// A host that cannot fork all its workers (a pids cgroup of 4 tasks: `runner worker`, its
/// heartbeat and 2 workers) arrives at the barrier for the 2 it could not fork: the 6 others run
/// at once instead of waiting out the barrier's 60 s, and the run is reported as failed.
#[test]
fn a_host_that_cannot_fork_every_worker_arrives_for_them() {
    let group = Cgroup::new("pids", "pids").and_then(|g| g.set("pids.max", "4").map(|()| g));
    let group = group.unwrap_or_else(|e| panic!("this test needs root and a pids cgroup (v2 or v1): {e}"));
    // `ip netns exec` mounts a /sys of its own: the group is reached through this process's root.
    let procs = format!("/proc/{}/root{}/cgroup.procs", std::process::id(), group.dir.display());
    let join = job_file("hosts-join-pids.sh", format!("#!/bin/sh\necho $$ > '{procs}' && exec \"$@\"\n"));
    std::fs::set_permissions(&join, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let net = Net::new();
    let key = format!("{{rh:{}:unforked}}", std::process::id());
    let work =
        "workers: 8\niterations: 1000\nvalue: {type: i}\noperation: add\noperand: 1\nbackend: atomic\ntimeout: 60s\n";
    let job = net.job_wrapped("hosts-unforked.yaml", work, &key, [join.as_str(), ""]);
    let started = Instant::now();
    let out = net.runner(&job).output().expect("runner");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}\n{stdout}\n{stderr}", started.elapsed());
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stderr.contains("host a: cannot fork worker 2"), "{stderr}");
    assert!(stdout.contains("RUN FAILED: worker 2"), "{stdout}");
    assert!(stdout.contains("final     6000\n"), "{stdout}");
    assert!(processes_with(&key).is_empty(), "left behind: {:?}", processes_with(&key));
    assert_eq!(net.cli(&["dbsize"]), "0", "keys left: {}", net.cli(&["keys", "*"]));
}

#[test]
fn the_report_gives_each_host_its_workers_round_trip_and_clock_and_the_window_on_one_clock() {
    let net = Net::new();
    let key = format!("{{rh:{}:report}}", std::process::id());
    let job = net.job("hosts-report.yaml", "atomic", 300, &key);
    let out = net.runner(&job).args(["--format", "json"]).output().expect("runner");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
    common::assert_valid(&common::validator(), &doc);
    let hosts = doc["hosts"].as_array().unwrap_or_else(|| panic!("hosts in {doc:#}"));
    assert_eq!(hosts.len(), 2, "{doc:#}");
    let (mut window_bound, mut widest) = (0.0, 0.0f64);
    for (host, (name, workers)) in hosts.iter().zip([("a", [0, 1, 2, 3]), ("b", [4, 5, 6, 7])]) {
        assert_eq!(host["name"], name, "{host:#}");
        assert!(host["on"].as_str().unwrap().starts_with("ip netns exec"), "{host:#}");
        assert_eq!(host["workers"], serde_json::json!(workers), "{host:#}");
        let trip = &host["round_trip"];
        let (min, median, max) =
            (trip["min_seconds"].as_f64(), trip["median_seconds"].as_f64(), trip["max_seconds"].as_f64());
        let (min, median, max) = (min.unwrap(), median.unwrap(), max.unwrap());
        assert!(0.0 < min && min <= median && median <= max && max < 1.0, "{host:#}");
        assert_eq!(trip["samples"], 16, "{host:#}");
        let clock = &host["clock"];
        let uncertainty = clock["uncertainty_seconds"].as_f64().unwrap_or_else(|| panic!("{host:#}"));
        // Half the shortest round trip at least, and the drift measured after the run.
        assert!(uncertainty >= min / 2.0 && uncertainty < 1.0, "{host:#}");
        assert!(clock["offset_seconds"].as_f64().is_some() && clock["drift_seconds"].as_f64().is_some(), "{host:#}");
        window_bound += uncertainty;
        widest = widest.max(uncertainty);
        assert_eq!(host["ops"], 4 * 300, "{host:#}");
        for field in ["resent", "refused_duplicates", "stale_writes", "ambiguous_operations"] {
            assert_eq!(host[field], 0, "{field}: {host:#}");
        }
    }
    // Both namespaces share this kernel's clock: their offsets agree within their uncertainties.
    let offset = |h: &serde_json::Value| h["clock"]["offset_seconds"].as_f64().unwrap();
    let apart = (offset(&hosts[0]) - offset(&hosts[1])).abs();
    assert!(apart <= window_bound, "offsets {apart} s apart, more than their uncertainties {window_bound}: {doc:#}");
    assert_eq!(doc["window_clock"]["clock"], "server", "{doc:#}");
    let window = doc["window_clock"]["uncertainty_seconds"].as_f64().unwrap();
    // The uncertainties of the hosts of the first start and of the last end (perhaps one host).
    assert!(window > 0.0 && window <= 2.0 * widest + 1e-9, "{doc:#}");
    assert!(doc["elapsed_seconds"].as_f64().unwrap() > 0.0, "{doc:#}");
    // The human report: one line per host, and the window's clock.
    let job = net.job("hosts-report-human.yaml", "mutex", 50, &key);
    let out = net.runner(&job).output().expect("runner");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // The report, for `cargo test --test redis_hosts -- --nocapture`.
    println!("{stdout}");
    for (name, workers) in [("a", "workers 0-3"), ("b", "workers 4-7")] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("  host      {name} (ip netns exec")))
            .unwrap_or_else(|| panic!("{stdout}"));
        assert!(line.contains(workers) && line.contains("round trip ") && line.contains("clock ±"), "{stdout}");
        assert!(line.contains("200 ops, 0 resent, 0 refused duplicates, 0 stale writes, 0 ambiguous"), "{stdout}");
    }
    assert!(stdout.contains("  clock     the window is on the Redis server's clock"), "{stdout}");
    assert_eq!(net.cli(&["dbsize"]), "0", "keys left: {}", net.cli(&["keys", "*"]));
}

#[test]
fn one_machine_over_redis_reports_its_round_trip_and_no_clock() {
    let server = RedisServer::start();
    let text =
        "workers: 3\niterations: 20\nvalue: {type: i}\noperation: add\noperand: 1\nbackend: mutex\nengine: redis\n";
    let job = job_file("one-machine.yaml", text);
    let out = Test::new().args(&[&job, "--format", "json"]).env("RUNNER_REDIS", &server.url()).status(0).run();
    let doc = out.json();
    common::assert_valid(&common::validator(), &doc);
    let hosts = doc["hosts"].as_array().unwrap_or_else(|| panic!("hosts in {doc:#}"));
    assert_eq!(hosts.len(), 1, "{doc:#}");
    let host = &hosts[0];
    assert_eq!((host["name"].as_str(), host["on"].as_str()), (Some("this machine"), Some("this machine")));
    assert_eq!(host["workers"], serde_json::json!([0, 1, 2]), "{host:#}");
    assert!(host["round_trip"]["median_seconds"].as_f64().unwrap() > 0.0, "{host:#}");
    assert_eq!(host["ops"], 60, "{host:#}");
    // One clock: no offset, and the window is runner's own.
    assert!(host["clock"].is_null(), "{host:#}");
    assert!(doc.get("window_clock").is_none(), "{doc:#}");
    // The trace's metadata carries the same hosts.
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("t.json").to_string_lossy().into_owned();
    Test::new().args(&[&job, "--trace", &trace]).env("RUNNER_REDIS", &server.url()).status(0).run();
    let trace: serde_json::Value = serde_json::from_slice(&std::fs::read(&trace).expect("trace")).expect("JSON");
    assert_eq!(trace["metadata"]["hosts"][0]["name"], "this machine", "{:#}", trace["metadata"]);
    assert!(trace["metadata"]["hosts"][0]["round_trip"]["median_seconds"].as_f64().unwrap() > 0.0);
    let human = Test::new().args(&[&job]).env("RUNNER_REDIS", &server.url()).status(0).run();
    assert!(human.stdout.contains("  host      this machine  workers 0-2  round trip "), "{}", human.stdout);
    assert!(!human.stdout.contains("  clock "), "{}", human.stdout);
    // The local engine has no hosts.
    let local = Test::new()
        .args(&[&job_file("one-local.yaml", text.replace("engine: redis\n", "")), "--format", "json"])
        .status(0)
        .run();
    assert!(local.json().get("hosts").is_none(), "{}", local.stdout);
}

#[test]
fn sigint_during_a_run_on_two_hosts_leaves_no_process_and_no_key() {
    let net = Net::new();
    for backend in ["atomic", "channel"] {
        sigint_leaves_nothing(&net, backend);
    }
}

fn sigint_leaves_nothing(net: &Net, backend: &str) {
    let key = format!("{{rh:{}:sigint-{backend}}}", std::process::id());
    let job = net.job(&format!("hosts-sigint-{backend}.yaml"), backend, 50_000_000, &key);
    let mut child = net.runner(&job).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("runner");
    // Both hosts' `runner worker`s, and their 8 workers, are up.
    let started = Instant::now();
    while processes_with(&key).len() < 10 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the workers never all started: {:?}",
            processes_with(&key)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::SIGINT).expect("SIGINT");
    let sent = Instant::now();
    let status = wait_at_most(&mut child, Duration::from_secs(20), "runner after SIGINT");
    // The stop key reaches every host within a poll (100 ms) and a round trip; runner waits for
    // its children before it reports.
    assert!(sent.elapsed() < Duration::from_secs(3), "runner took {:?} to stop the hosts", sent.elapsed());
    let out = child.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(processes_with(&key).is_empty(), "left behind: {:?}", processes_with(&key));
    assert_eq!(net.cli(&["dbsize"]), "0", "keys left: {}", net.cli(&["keys", "*"]));
}

#[test]
fn a_deadline_on_two_hosts_stops_every_worker_and_leaves_no_key() {
    let net = Net::new();
    for backend in ["atomic", "channel"] {
        deadline_leaves_nothing(&net, backend);
    }
}

fn deadline_leaves_nothing(net: &Net, backend: &str) {
    let key = format!("{{rh:{}:deadline-{backend}}}", std::process::id());
    let job = net.job_within(&format!("hosts-deadline-{backend}.yaml"), backend, 50_000_000, &key, "1s");
    let started = Instant::now();
    let out = net.runner(&job).output().expect("runner");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("the deadline of 1.00 s passed"), "{stdout}");
    assert!(processes_with(&key).is_empty(), "left behind: {:?}", processes_with(&key));
    assert_eq!(net.cli(&["dbsize"]), "0", "keys left: {}", net.cli(&["keys", "*"]));
}

#[test]
fn the_planner_refuses_hosts_without_redis_and_a_host_without_a_worker() {
    let local = "workers: 2\nhosts:\n  - {name: a, command: \"\"}\n";
    let out = Test::new().args(&["validate", &job_file("hosts-local.yaml", local)]).status(2).run();
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("hosts need `engine: redis`"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    // Every backend runs on several hosts, the channel too (runner owns its stream).
    let channel = "workers: 2\nvalue: {type: i}\noperation: add\nbackend: channel\nengine: redis\nhosts:\n  - {name: a, command: \"\"}\n  - {name: b, command: \"ssh b\"}\n";
    Test::new().args(&["validate", &job_file("hosts-channel.yaml", channel)]).status(0).run();
    let empty = "workers: 1\nengine: redis\nhosts:\n  - {name: a, command: \"\"}\n  - {name: b, command: \"ssh b\"}\n";
    let out = Test::new().args(&["validate", &job_file("hosts-empty.yaml", empty)]).status(2).run();
    assert!(
        format!("{}{}", out.stdout, out.stderr).contains("host \"b\" would have no worker"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn runner_worker_refuses_another_version_and_another_text() {
    let server = RedisServer::start();
    let text = "workers: 2\nengine: redis\nhosts:\n  - {name: a, command: \"\"}\n  - {name: b, command: \"\"}\n";
    let sha = "0".repeat(64);
    for (version, sha256, expected) in [
        ("0.0.0-other", sha.as_str(), "on the coordinator: run the same build"),
        (env!("CARGO_PKG_VERSION"), &sha, "the job's text has sha256"),
    ] {
        let description = serde_json::json!({
            "version": version, "sha256": sha256, "label": "x.yaml", "text": text, "cell": 0,
            "host": "a", "first": 0, "count": 1, "workers": 2, "iterations": 1,
        });
        let _: () = redis::cmd("SET")
            .arg("{rh-refuse}:hosts:description:0")
            .arg(description.to_string())
            .query(&mut server.connection())
            .expect("SET");
        let out = Test::new()
            .args(&["worker", "--url", &server.url(), "--prefix", "{rh-refuse}", "--host", "0"])
            .status(3)
            .run();
        assert!(out.stderr.contains(expected), "{}", out.stderr);
        let done: Option<String> =
            redis::cmd("GET").arg("{rh-refuse}:hosts:done:0").query(&mut server.connection()).expect("GET");
        assert!(done.is_some_and(|d| d.contains(expected)));
    }
}
