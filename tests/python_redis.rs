//! `runner export-python` on jobs whose value lives in Redis: the program (redis-py, Debian's
//! python3-redis), run by python3 against a redis-server the test starts, prints the same final
//! value as runner's own run of the job, checks it the same way and leaves no key behind; a job
//! it cannot render faithfully (engine.retries) is refused.
//!
//! Needs a python3 that imports `redis`: python3 on PATH, else Debian's /usr/bin/python3 (which
//! python3-redis serves; `scripts/test` installs it as root). Without one the test fails, naming
//! the package.

mod common;

use std::process::Command;

use common::redis::RedisServer;
use common::{Test, job_file};

/// A python3 that imports redis-py.
fn python() -> String {
    for candidate in ["python3", "/usr/bin/python3"] {
        let ok = Command::new(candidate).args(["-c", "import redis"]).output().is_ok_and(|o| o.status.success());
        if ok {
            return candidate.to_string();
        }
    }
    panic!("no python3 imports redis: install Debian's python3-redis (scripts/test does, as root)");
}

fn keys(server: &RedisServer) -> u64 {
    redis::cmd("DBSIZE").query(&mut server.connection()).expect("DBSIZE")
}

/// The text of a final value in a `RESULT` line.
fn result_final(stdout: &str) -> String {
    let line = stdout.lines().last().and_then(|l| l.strip_prefix("RESULT ")).unwrap_or_else(|| panic!("{stdout}"));
    let rest = &line[line.find("\"final\": ").expect("final") + 9..];
    rest[..rest.find(',').expect("more keys")].trim_matches('"').to_string()
}

/// Exports the job at `path`, runs the program and runner against `server`; returns the final
/// value both printed (the same, checked), and the program's output.
fn agree(server: &RedisServer, path: &str) -> (String, String) {
    let url = server.url();
    let out = Test::new().args(&["export-python", path]).env("RUNNER_REDIS", &url).run();
    assert_eq!(out.code, 0, "{path}: export-python failed: {}", out.stderr);
    assert!(out.stdout.contains("import redis"), "{}", out.stdout);
    let name = std::path::Path::new(path).file_stem().unwrap().to_string_lossy().into_owned();
    let program = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("python-redis-{name}.py"));
    std::fs::write(&program, &out.stdout).expect("write program");
    let run = Command::new(python()).arg(&program).env("RUNNER_REDIS", &url).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{name}: python3 failed:\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(keys(server), 0, "{name}: the program left keys behind");
    let python = result_final(&stdout);

    let ours = Test::new().args(&["-q", "--format", "json", path]).env("RUNNER_REDIS", &url).run();
    assert_eq!(ours.code, 0, "{name}: {}", ours.stderr);
    let report = ours.json();
    let theirs = match report["job"]["value"]["type"].as_str() {
        Some("d") => report["final_display"].as_str().unwrap().to_string(),
        _ => report["final"].to_string(),
    };
    assert_eq!(python, theirs, "{name}: python3 gave {python}, runner {theirs}\n{stdout}");
    assert_eq!(keys(server), 0, "{name}: runner left keys behind");
    (python, stdout)
}

#[test]
fn the_tutorial_over_redis_as_a_program() {
    let server = RedisServer::start();
    let (fin, stdout) = agree(&server, "jobs/redis-increment.yaml");
    assert_eq!(fin, "5");
    for line in ["  final     5", "  expected  5: the same"] {
        assert!(stdout.lines().any(|l| l == line), "{line:?} in:\n{stdout}");
    }
    let program = Test::new().args(&["export-python", "jobs/redis-increment.yaml"]).run().stdout;
    for needle in
        ["ACQUIRE = r\"\"\"\nif redis.call('EXISTS', KEYS[1])", "os.environ.get(\"RUNNER_REDIS\")", "FENCING = \"1\""]
    {
        assert!(program.contains(needle), "{needle:?} in:\n{program}");
    }
}

#[test]
fn atomic_doubles_run_runners_own_script() {
    let server = RedisServer::start();
    let sum = job_file(
        "python-redis-d-sum.yaml",
        "workers: 4\niterations: 300\nvalue: {type: d, initial: 0.0}\noperation: add\noperand: 0.1\nbackend: atomic\nengine: redis\n",
    );
    let (fin, stdout) = agree(&server, &sum);
    assert_eq!(fin, "119.99999999999746");
    assert!(stdout.contains("expected  119.99999999999746: the same"), "{stdout}");
    // The job's own URL, a pipeline, and the sign of zero.
    let min = job_file(
        "python-redis-d-min.yaml",
        format!(
            "workers: 3\niterations: 20\nvalue: {{type: d, initial: 0.0}}\noperation: min\noperand: -0.0\nbackend: atomic\nengine: {{redis: \"{}\", pipeline: 4}}\n",
            server.url()
        ),
    );
    assert_eq!(agree(&server, &min).0, "-0.0");
}

#[test]
fn atomic_takes_incrby_where_runner_does() {
    let server = RedisServer::start();
    let path = job_file(
        "python-redis-incrby.yaml",
        "workers: 3\niterations: 200\nvalue: {type: i, initial: 2147483600}\noperation: add\noperand: 7\nbackend: atomic\nengine: {redis: null, exactly_once: false, pipeline: 8}\n",
    );
    let program = Test::new().args(&["export-python", &path]).run().stdout;
    assert!(program.contains("pipe.incrby(COUNT, delta)") && !program.contains("SCRIPT ="), "{program}");
    assert_eq!(agree(&server, &path).0, "-2147479496");
    let byte = job_file(
        "python-redis-incrby-c.yaml",
        "workers: 3\niterations: 20\nvalue: {type: c, initial: 3}\noperation: sub\noperand: 5\nbackend: atomic\nengine: {redis: null, exactly_once: false}\n",
    );
    assert_eq!(agree(&server, &byte).0, "215");
}

#[test]
fn the_channel_over_a_stream_and_none_agree() {
    let server = RedisServer::start();
    let channel = job_file(
        "python-redis-channel.yaml",
        "workers: 3\niterations: 200\nvalue: {type: c, initial: 7}\noperation: mul\noperand: 3\nbackend: channel\nbatch: 16\nengine: redis\n",
    );
    let (fin, stdout) = agree(&server, &channel);
    assert_eq!(fin, "39");
    assert!(stdout.contains("(600 operations applied)"), "{stdout}");
    // The order decides the result: the turns put the entries in the stream in runner's order.
    let ordered = job_file(
        "python-redis-channel-rr.yaml",
        "workers: 3\niterations: 5\nvalue: {type: d}\noperation: add\noperand: [3.0, 1e16, -1e16]\nschedule: round-robin\nbackend: channel\nengine: redis\n",
    );
    agree(&server, &ordered);
    let none = job_file(
        "python-redis-none.yaml",
        "workers: 1\niterations: 50\nvalue: {type: i, initial: 5}\noperation: mul\noperand: 3\nbackend: none\nengine: redis\n",
    );
    agree(&server, &none);
}

#[test]
fn a_job_it_cannot_render_faithfully_is_refused() {
    let path = job_file(
        "python-redis-retries.yaml",
        "workers: 2\nvalue: {type: i}\noperation: add\nbackend: atomic\nengine: {redis: null, retries: 2}\n",
    );
    let out = Test::new().args(&["export-python", &path]).run();
    assert_eq!(out.code, 2, "{}", out.stdout);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(
        out.stderr.contains("export-python cannot render this Redis job: engine.retries: 2: runner resends"),
        "{}",
        out.stderr
    );
}

#[test]
fn compare_python_runs_a_redis_job_on_both_sides() {
    let server = RedisServer::start();
    let out = Test::new()
        .args(&["compare-python", "--format", "json", "jobs/redis-increment.yaml"])
        .env("RUNNER_REDIS", &server.url())
        .run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let doc = out.json();
    assert_eq!((doc["runner"]["final"].as_i64(), doc["python"]["final"].as_i64()), (Some(5), Some(5)), "{doc:#}");
    assert_eq!(doc["python"]["verdict"], "correct", "{doc:#}");
    assert_eq!(keys(&server), 0);
}

#[test]
fn paced_jobs_take_turns_as_runner_does() {
    let server = RedisServer::start();
    // The order decides the result: 3 + 1e16 rounds, so sequential and round-robin differ.
    let per_worker = |schedule: &str, backend: &str| {
        format!(
            "workers: 3\niterations: 5\nvalue: {{type: d}}\noperation: add\noperand: [3.0, 1e16, -1e16]\nschedule: {schedule}\nbackend: {backend}\nwork: {{inside: 2us, outside: 1us}}\nstart: together\nengine: redis\n"
        )
    };
    let mutex = job_file("python-redis-mutex-seq.yaml", per_worker("sequential", "mutex") + "pin: true\n");
    assert_eq!(agree(&server, &mutex).0, "16.0");
    let atomic = job_file("python-redis-atomic-rr.yaml", per_worker("round-robin", "atomic"));
    assert_eq!(agree(&server, &atomic).0, "20.0");
}
