//! The Redis engine end to end, against a server each test starts: the tutorial ends at 5, the
//! unsynchronised backend loses updates across processes, a server that is not there fails at
//! once with its address, and the planner refuses what does not run over Redis. (Every type x
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
    let channel = job_file(
        "redis-channel.yaml",
        "workers: 2\nvalue: {type: i}\noperation: add\nbackend: channel\nengine: redis\n",
    );
    let out = Test::new().args(&["validate", &channel]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("channel backend does not run over Redis yet"), "{}", out.stderr);
    let typo = job_file(
        "redis-typo.yaml",
        "workers: 2\nvalue: {type: i}\noperation: add\nbackend: atomic\nengine: {redis: null, fencng: false}\n",
    );
    let out = Test::new().args(&["validate", &typo]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("engine.fencng") && out.stderr.contains("fencing"), "{}", out.stderr);
}
