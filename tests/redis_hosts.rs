//! One job's workers on several hosts, with the value in Redis, over real network namespaces:
//! a bridge namespace, and three namespaces joined to it by veth pairs (198.51.100.0/24): the
//! server's (redis-server bound to its address), and two hosts, each running a `runner worker`
//! through `ip netns exec`. The server runs with protected mode off: it is reachable only inside
//! the namespaces the test made. runner itself (the coordinator) runs in the first host's
//! namespace. 8 workers on 2 hosts end exact for atomic and mutex; SIGINT during a long run leaves
//! no `runner worker` process and no key, and so does a deadline. Every namespace is removed at
//! the end, on failure too (a guard; the namespaces are `common::netns`'s, shared with
//! tests/redis_netfaults.rs). Needs root (CI runs as root): without it the tests fail,
//! they never skip. Without namespaces: the planner's refusals of `hosts`, and `runner worker`
//! refusing another version or a job whose sha256 differs.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

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

#[test]
fn sigint_during_a_run_on_two_hosts_leaves_no_process_and_no_key() {
    let net = Net::new();
    let key = format!("{{rh:{}:sigint}}", std::process::id());
    let job = net.job("hosts-sigint.yaml", "atomic", 50_000_000, &key);
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
    let key = format!("{{rh:{}:deadline}}", std::process::id());
    let job = net.job_within("hosts-deadline.yaml", "atomic", 50_000_000, &key, "1s");
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
