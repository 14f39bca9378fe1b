//! The Redis engine end to end, against a server each test starts: the tutorial ends at 5, the
//! workers ask for batch scheduling (the local engine's keep theirs), the unsynchronised backend
//! loses updates across processes, a server that is not there fails at
//! once with its address, the planner refuses what does not run over Redis, and the channel
//! over a Redis stream is exact, replays its stream and refuses an entry sent twice. (Every type x
//! operation per backend: tests/conformance.rs; the scripts' arithmetic: tests/redis_ops.rs.)

mod common;

use std::time::{Duration, Instant};

use common::redis::RedisServer;
use common::{Test, job_file};

#[test]
fn the_tutorial_over_redis_ends_at_5_and_leaves_no_key() {
    let server = RedisServer::start();
    let out =
        Test::new().args(&["jobs/redis-increment.yaml", "--format", "json"]).env("RUNNER_REDIS", &server.url()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert_eq!((doc["final"].as_i64(), doc["verdict"].as_str()), (Some(5), Some("correct")), "{doc:#}");
    assert_eq!(doc["job"]["engine"]["redis"], server.url(), "{doc:#}");
    let human = Test::new().args(&["jobs/redis-increment.yaml"]).env("RUNNER_REDIS", &server.url()).run();
    assert!(human.stdout.contains(&format!("engine    redis at {}", server.url())), "{}", human.stdout);
    let keys: u64 = redis::cmd("DBSIZE").query(&mut server.connection()).expect("DBSIZE");
    assert_eq!(keys, 0);
}

#[test]
fn workers_over_redis_ask_for_batch_scheduling_and_local_ones_keep_their_policy() {
    // SCHED_BATCH (3) over Redis, for atomic and the channel (each its own loop and the channel
    // its owner); the inherited policy on the local engine. A worker asks only from the default
    // policy (0): under another, every worker keeps the one the tests were started with. Busy
    // work outside each operation keeps the workers alive while their policy is read.
    let server = RedisServer::start();
    let own = common::own_policy();
    let batch = if own == 0 { 3 } else { own };
    for (backend, engine, policy) in [
        ("atomic", format!("engine: {{redis: \"{}\"}}\n", server.url()), batch),
        ("channel", format!("engine: {{redis: \"{}\"}}\n", server.url()), batch),
        ("atomic", String::new(), own),
    ] {
        let text = common::job(2, 20_000, "i", "0", "add", "1", backend) + &engine + "work:\n  outside: 20us\n";
        let path = job_file(&format!("redis-policy-{backend}-{policy}.yaml"), text);
        let (policies, report) = common::run_reading_policies(&path, 2);
        assert_eq!(policies, [policy, policy], "{backend} {engine}");
        assert_eq!(report["verdict"], "correct", "{report:#}");
        let batch = if engine.is_empty() { serde_json::Value::Null } else { true.into() };
        assert_eq!(report["redis"]["batch_workers"], batch, "{backend} {engine}");
    }
}

#[test]
fn none_over_redis_loses_updates_across_processes() {
    let server = RedisServer::start();
    let text = format!(
        "workers: 4\niterations: 3000\nvalue: {{type: i}}\noperation: add\nbackend: none\nengine: {{redis: \"{}\"}}\n",
        server.url()
    );
    let path = job_file("redis-none.yaml", text);
    let out = Test::new().args(&[&path, "--format", "json"]).run();
    let doc = out.json();
    assert_eq!(doc["verdict"], "lost_updates", "{doc:#}");
    assert!(doc["final"].as_i64().unwrap() < 12_000, "{doc:#}");
}

#[test]
fn a_server_that_is_not_there_fails_at_once_naming_it() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let started = Instant::now();
    let out = Test::new().args(&["jobs/redis-increment.yaml"]).env("RUNNER_REDIS", &url).run();
    assert!(started.elapsed() < Duration::from_secs(30), "it took {:?}", started.elapsed());
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains(&url) && out.stderr.contains("redis-server --port"), "{}", out.stderr);
}

#[test]
fn the_planner_refuses_what_does_not_run_over_redis() {
    let bad_url = job_file(
        "redis-bad-url.yaml",
        "workers: 2\nvalue: {type: i}\noperation: add\nbackend: atomic\nengine: {redis: \"localhost:6379\"}\n",
    );
    let out = Test::new().args(&["validate", &bad_url]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("engine.redis") && out.stderr.contains("expected redis://HOST:PORT/DB"),
        "{}",
        out.stderr
    );
    // Over Redis the channel's only transport is a Redis stream; a stream needs Redis.
    let channel = "workers: 2\nvalue: {type: i}\noperation: add\nbackend: channel\n";
    let pipe = job_file("redis-channel-pipe.yaml", format!("{channel}engine: redis\ntransport: pipe\n"));
    let out = Test::new().args(&["validate", &pipe]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("(transport: redis-stream), not pipe"), "{}", out.stderr);
    let local = job_file("local-channel-stream.yaml", format!("{channel}transport: redis-stream\n"));
    let out = Test::new().args(&["validate", &local]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("transport redis-stream needs engine: redis"), "{}", out.stderr);
    for ok in [format!("{channel}engine: redis\n"), format!("{channel}engine: redis\ntransport: redis-stream\n")] {
        let path = job_file("redis-channel.yaml", ok);
        let out = Test::new().args(&["plan", &path]).run();
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert!(out.stdout.contains("a Redis stream from every worker to runner"), "{}", out.stdout);
    }
    let typo = job_file(
        "redis-typo.yaml",
        "workers: 2\nvalue: {type: i}\noperation: add\nbackend: atomic\nengine: {redis: null, fencng: false}\n",
    );
    let out = Test::new().args(&["validate", &typo]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("engine.fencng") && out.stderr.contains("fencing"), "{}", out.stderr);
}

/// The channel over a Redis stream: 8 producers, batches of 64, every operation applied once
/// by runner in the stream's order; every key deleted after.
#[test]
fn the_channel_over_redis_is_exact_and_leaves_no_key() {
    let server = RedisServer::start();
    let text = format!(
        "workers: 8\niterations: 5000\nvalue: {{type: i}}\noperation: add\noperand: 3\nbackend: channel\nbatch: 64\nengine: {{redis: \"{}\"}}\n",
        server.url()
    );
    let path = job_file("redis-channel-8.yaml", text);
    let out = Test::new().args(&[&path, "--format", "json"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert_eq!((doc["final"].as_i64(), doc["verdict"].as_str()), (Some(8 * 5000 * 3), Some("correct")), "{doc:#}");
    assert_eq!(doc["channel"]["transport"], "redis-stream", "{doc:#}");
    assert_eq!(doc["channel"]["applied"], serde_json::json!(vec![5000; 8]), "{doc:#}");
    // 78 full batches and one of 8, per worker: one entry each.
    assert_eq!(doc["channel"]["messages"], 8 * 79, "{doc:#}");
    // runner and its workers read one clock: every entry's send-to-apply time is measured.
    let latency = &doc["redis"]["apply_latency"];
    assert_eq!(
        (latency["entries"].as_u64(), latency["measured_entries"].as_u64()),
        (Some(8 * 79), Some(8 * 79)),
        "{doc:#}"
    );
    let (p50, p99) = (latency["p50_ns"].as_u64().expect("p50"), latency["p99_ns"].as_u64().expect("p99"));
    assert!(0 < p50 && p50 <= p99, "{doc:#}");
    assert!(latency["not_measured"].is_null(), "{doc:#}");
    let keys: u64 = redis::cmd("DBSIZE").query(&mut server.connection()).expect("DBSIZE");
    assert_eq!(keys, 0, "every key of the run deleted");
}

/// An order-dependent job (per-worker operands whose sums round differently in each order):
/// the final value is the replay of the stream, read entry by entry while the run goes on.
#[test]
fn an_order_dependent_channel_over_redis_ends_at_the_replay_of_its_stream() {
    const WORKERS: u64 = 4;
    const ITERATIONS: u64 = 400;
    let server = RedisServer::start();
    let prefix = "{stream-order}";
    let stream = format!("{prefix}:stream");
    // The reader follows the stream from its creation (XREAD blocks on a key not yet there).
    let mut con = server.connection();
    let reader = std::thread::spawn(move || {
        let entries = common::redis::read_stream(&mut con, &stream, WORKERS * ITERATIONS);
        entries.into_iter().map(|(_, n, o)| (n, f64::from_le_bytes(o.try_into().expect("8 bytes")))).collect::<Vec<_>>()
    });
    let text = format!(
        "workers: {WORKERS}\niterations: {ITERATIONS}\nvalue: {{type: d, initial: 0.5}}\noperation: add\noperand: [1.0e16, -1.0e16, 0.1, 3.0]\nbackend: channel\nbatch: 3\nengine: {{redis: \"{}\", key: \"{prefix}\"}}\n",
        server.url()
    );
    let path = job_file("redis-channel-order.yaml", text);
    let out = Test::new().args(&[&path, "--format", "json"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert_eq!(doc["order"]["depends_on_order"], true, "{doc:#}");
    let entries = reader.join().expect("the reader");
    assert_eq!(doc["channel"]["messages"], entries.len() as u64, "{doc:#}");
    let mut model = 0.5f64;
    for (n, operand) in &entries {
        for _ in 0..*n {
            model += operand;
        }
    }
    let fin = doc["final"].as_f64().expect("a double");
    assert_eq!(fin.to_bits(), model.to_bits(), "runner {fin:e}, the stream's replay {model:e}");
    // The planner knows an interval of every order's rounding, not which order the stream had.
    assert!(["correct", "within_bound"].contains(&doc["verdict"].as_str().unwrap()), "{doc:#}");
}

/// Entries added to the stream a second time (as a resend after a timeout would) are refused
/// by their offsets: the value stays exact.
#[test]
fn the_channel_over_redis_refuses_an_entry_sent_twice() {
    let server = RedisServer::start();
    let prefix = "{stream-twice}";
    let stream = format!("{prefix}:stream");
    let mut con = server.connection();
    // The first five entries, added again as soon as they are seen, while the workers still send.
    let resender = std::thread::spawn(move || {
        let (mut last, mut copied) = ("0-0".to_string(), 0);
        let until = Instant::now() + Duration::from_secs(60);
        while copied < 5 && Instant::now() < until {
            type Reply = Option<Vec<(String, Vec<(String, Vec<Vec<u8>>)>)>>;
            let reply: Reply = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(5 - copied)
                .arg("BLOCK")
                .arg(1000)
                .arg("STREAMS")
                .arg(&stream)
                .arg(&last)
                .query(&mut con)
                .expect("XREAD");
            for (id, fields) in reply.into_iter().flatten().flat_map(|s| s.1) {
                let _: String = redis::cmd("XADD").arg(&stream).arg("*").arg(&fields).query(&mut con).expect("XADD");
                copied += 1;
                last = id;
            }
        }
        copied
    });
    let text = format!(
        "workers: 2\niterations: 2000\nvalue: {{type: i}}\noperation: add\noperand: 3\nbackend: channel\nbatch: 10\nwork: {{outside: 20us}}\nengine: {{redis: \"{}\", key: \"{prefix}\"}}\n",
        server.url()
    );
    let path = job_file("redis-channel-twice.yaml", text);
    let out = Test::new().args(&[&path, "--format", "json"]).run();
    assert_eq!(resender.join().expect("the resender"), 5, "five entries sent twice");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = out.json();
    assert_eq!((doc["final"].as_i64(), doc["verdict"].as_str()), (Some(2 * 2000 * 3), Some("correct")), "{doc:#}");
    assert_eq!(doc["channel"]["applied"], serde_json::json!([2000, 2000]), "{doc:#}");
    assert_eq!(doc["channel"]["messages"], 2 * 200, "the copies are not applied: {doc:#}");
}
