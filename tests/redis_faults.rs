//! What became of every operation over Redis under real faults, on one host: each test starts
//! its own redis-server and, where it needs one, a TCP proxy of its own between runner's workers
//! and the server ([`Proxy`]) that holds some of the server's replies past the job's timeout.
//!
//! - Replies delayed past the timeout, retries on, exactly-once on: the duplicates the resends
//!   made are refused by the server and counted, the value is exact, the verdict `correct`.
//! - The same without exactly-once: the value is above the total, `duplicated_updates`.
//! - Retries off: every delayed operation is ambiguous, counted, and the value lies in the range
//!   the report gives (`[acknowledged, acknowledged + ambiguous]` for `add` on `i`).
//! - Retries off where the operations do not commute (`d` add, per-worker operands): the
//!   ambiguous operations are counted and the verdict says they cannot be bounded.
//! - The mutex's holder stalled inside the lock past its lease: with fencing its stale write is
//!   refused and the value is exact; without, updates are lost.
//!
//! Every loop here is bounded in count and time: the proxy's threads stop at a flag or after
//! [`PROXY_LIFETIME`], and every job carries a deadline (`timeout`).

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::redis::RedisServer;
use common::{Test, job_file};

/// How long a proxy may run at most, whatever the test does.
const PROXY_LIFETIME: Duration = Duration::from_secs(120);
/// How often a proxy's blocked read looks at its stop flag.
const POLL: Duration = Duration::from_millis(50);

/// Which of the server's replies a proxy holds, and for how long.
#[derive(Clone, Copy)]
struct Delay {
    /// On each connection, the replies (chunks read from the server) before this one pass at
    /// once: a connection's set-up and runner's own few commands are never delayed.
    after: u64,
    /// From then on, one reply in `every` is held.
    every: u64,
    hold: Duration,
}

/// A TCP proxy on a free loopback port that forwards bytes between clients and the server,
/// holding some of the server's replies ([`Delay`]); stopped (every thread joined) when dropped.
struct Proxy {
    port: u16,
    stop: Arc<AtomicBool>,
    held: Arc<AtomicU64>,
    accept: Option<JoinHandle<()>>,
}

impl Proxy {
    fn start(server: &RedisServer, delay: Delay) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("the proxy's port");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let port = listener.local_addr().unwrap().port();
        let upstream = server.port();
        let stop = Arc::new(AtomicBool::new(false));
        let held = Arc::new(AtomicU64::new(0));
        let (flag, count) = (stop.clone(), held.clone());
        let accept = std::thread::spawn(move || {
            let started = Instant::now();
            let mut pipes = Vec::new();
            while !flag.load(Ordering::Relaxed) && started.elapsed() < PROXY_LIFETIME {
                match listener.accept() {
                    Ok((client, _)) => {
                        let server = TcpStream::connect(("127.0.0.1", upstream)).expect("the server behind the proxy");
                        pipes.push(pipe(client.try_clone().unwrap(), server.try_clone().unwrap(), None, &flag, &count));
                        pipes.push(pipe(server, client, Some(delay), &flag, &count));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(2)),
                    Err(e) => panic!("the proxy's accept: {e}"),
                }
            }
            flag.store(true, Ordering::Relaxed);
            for p in pipes {
                let _ = p.join();
            }
        });
        Proxy { port, stop, held, accept: Some(accept) }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Replies held so far.
    fn held(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// Forwards `from` to `to` until either end closes, the flag is set or the proxy's lifetime is
/// over; with `delay`, holds the chosen chunks (each read is one reply: a client waits for each).
fn pipe(
    mut from: TcpStream,
    mut to: TcpStream,
    delay: Option<Delay>,
    stop: &Arc<AtomicBool>,
    held: &Arc<AtomicU64>,
) -> JoinHandle<()> {
    let (stop, held) = (stop.clone(), held.clone());
    std::thread::spawn(move || {
        let started = Instant::now();
        from.set_read_timeout(Some(POLL)).unwrap();
        let mut buf = vec![0u8; 64 * 1024];
        let mut chunk = 0u64;
        while !stop.load(Ordering::Relaxed) && started.elapsed() < PROXY_LIFETIME {
            let n = match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
                Err(_) => break,
            };
            if let Some(d) = delay
                && chunk >= d.after
                && (chunk - d.after).is_multiple_of(d.every)
            {
                held.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(d.hold);
            }
            chunk += 1;
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    })
}

/// Replies held 80 ms, past a 50 ms timeout and within two: one resend each.
const HOLD: Delay = Delay { after: 4, every: 16, hold: Duration::from_millis(80) };

const WORKERS: u64 = 4;
const ITERATIONS: u64 = 200;

/// The job: `WORKERS` x `ITERATIONS` adds of 1 on `i`, atomic, through `url`.
fn atomic_job(name: &str, url: &str, retries: u32, exactly_once: bool) -> String {
    job_file(
        name,
        format!(
            "workers: {WORKERS}\niterations: {ITERATIONS}\nvalue: {{type: i}}\noperation: add\nbackend: atomic\ntimeout: 60s\n\
             engine: {{redis: \"{url}\", timeout: 50ms, retries: {retries}, exactly_once: {exactly_once}}}\n"
        ),
    )
}

/// Runs `path` as JSON; the document.
fn run_json(path: &str) -> serde_json::Value {
    let out = Test::new().args(&[path, "--format", "json"]).run();
    assert!(!out.stdout.is_empty(), "no report: {}", out.stderr);
    let doc = out.json();
    common::assert_valid(&common::validator(), &doc);
    // The figures, for `cargo test --test redis_faults -- --nocapture`.
    println!("{path}: final {}, verdict {}, exit {}, redis {}", doc["final"], doc["verdict"], out.code, doc["redis"]);
    doc
}

fn count(doc: &serde_json::Value, field: &str) -> u64 {
    doc["redis"][field].as_u64().unwrap_or_else(|| panic!("redis.{field} in {doc:#}"))
}

/// What the workers' rows add up to, for `field`.
fn per_worker(doc: &serde_json::Value, field: &str) -> u64 {
    doc["redis"]["workers"].as_array().expect("redis.workers").iter().map(|w| w[field].as_u64().unwrap()).sum()
}

fn no_key_left(server: &RedisServer) {
    let keys: u64 = redis::cmd("DBSIZE").query(&mut server.connection()).expect("DBSIZE");
    assert_eq!(keys, 0, "keys left behind");
}

#[test]
fn delayed_replies_with_retries_and_exactly_once_end_exact_with_the_duplicates_refused() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server, HOLD);
    let doc = run_json(&atomic_job("redis-faults-a.yaml", &proxy.url(), 3, true));
    let total = (WORKERS * ITERATIONS) as i64;
    assert!(proxy.held() > 0, "the proxy held no reply");
    assert_eq!((doc["final"].as_i64(), doc["verdict"].as_str()), (Some(total), Some("correct")), "{doc:#}");
    let (resent, refused) = (count(&doc, "resent"), count(&doc, "refused_duplicates"));
    assert!(resent > 0 && refused > 0, "resent {resent}, refused {refused}: {doc:#}");
    // Each held reply's operation had been applied: its resend was refused, once each.
    assert!(refused <= resent, "{doc:#}");
    assert_eq!(count(&doc, "ambiguous_operations"), 0, "{doc:#}");
    assert_eq!(per_worker(&doc, "resent"), resent, "{doc:#}");
    // The server counted each refusal for its worker too: this machine's row has them all.
    let host = &doc["hosts"][0];
    assert_eq!((host["name"].as_str(), host["refused_duplicates"].as_u64()), (Some("this machine"), Some(refused)));
    assert_eq!(host["resent"].as_u64(), Some(resent), "{doc:#}");
    let human = Test::new().args(&[&atomic_job("redis-faults-a2.yaml", &proxy.url(), 3, true)]).run();
    assert!(
        human.stdout.contains("resent after a timeout") && human.stdout.contains("refused by the server"),
        "{}",
        human.stdout
    );
    drop(proxy);
    no_key_left(&server);
}

#[test]
fn delayed_replies_resent_without_exactly_once_are_duplicated_updates() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server, HOLD);
    let doc = run_json(&atomic_job("redis-faults-b.yaml", &proxy.url(), 3, false));
    let total = WORKERS * ITERATIONS;
    let resent = count(&doc, "resent");
    let value = doc["final"].as_i64().unwrap() as u64;
    assert_eq!(doc["verdict"], "duplicated_updates", "{doc:#}");
    assert!(value > total && value <= total + resent, "final {value}, total {total}, resent {resent}: {doc:#}");
    assert_eq!(count(&doc, "refused_duplicates"), 0, "{doc:#}");
    assert_eq!(doc["redis"]["duplicated_updates"].as_u64(), Some(value - total), "{doc:#}");
    drop(proxy);
    no_key_left(&server);
}

#[test]
fn retries_off_counts_ambiguous_operations_and_the_value_lies_in_the_range() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server, HOLD);
    let doc = run_json(&atomic_job("redis-faults-c.yaml", &proxy.url(), 0, true));
    let total = WORKERS * ITERATIONS;
    let ambiguous = count(&doc, "ambiguous_operations");
    let acked = count(&doc, "acknowledged_operations");
    assert!(ambiguous > 0, "{doc:#}");
    assert_eq!((acked + ambiguous, count(&doc, "resent")), (total, 0), "{doc:#}");
    assert_eq!(per_worker(&doc, "ambiguous"), ambiguous, "{doc:#}");
    // The range the value is held to: the acknowledged operations plus any of the ambiguous.
    assert_eq!(doc["expected"]["min_operations"].as_u64(), Some(acked), "{doc:#}");
    assert_eq!(doc["expected"]["max_operations"].as_u64(), Some(acked + ambiguous), "{doc:#}");
    let value = doc["final"].as_i64().unwrap() as u64;
    assert!((acked..=acked + ambiguous).contains(&value), "final {value}: {doc:#}");
    // A held reply's operation was applied: the value shows every ambiguous one applied.
    let applied = &doc["redis"]["ambiguous_applied"];
    assert_eq!(
        (applied["min"].as_u64(), applied["max"].as_u64()),
        (Some(value - acked), Some(value - acked)),
        "{doc:#}"
    );
    assert!(matches!(doc["verdict"].as_str(), Some("correct" | "within_bound")), "{doc:#}");
    drop(proxy);
    no_key_left(&server);
}

#[test]
fn ambiguous_operations_that_do_not_commute_are_counted_and_not_bounded() {
    let server = RedisServer::start();
    let proxy = Proxy::start(&server, HOLD);
    let path = job_file(
        "redis-faults-e.yaml",
        format!(
            "workers: {WORKERS}\niterations: {ITERATIONS}\nvalue: {{type: d}}\noperation: add\noperand: [0.1, 0.2, 0.3, 0.7]\n\
             backend: atomic\ntimeout: 60s\nengine: {{redis: \"{}\", timeout: 50ms, retries: 0}}\n",
            proxy.url()
        ),
    );
    let doc = run_json(&path);
    assert!(count(&doc, "ambiguous_operations") > 0, "{doc:#}");
    assert_eq!(doc["verdict"], "inconclusive", "{doc:#}");
    assert!(doc["verdict_reason"].as_str().unwrap().contains("cannot be bounded"), "{doc:#}");
    assert!(doc["redis"]["ambiguous_applied"].is_null(), "{doc:#}");
    drop(proxy);
    no_key_left(&server);
}

/// The mutex with worker 0 stalled 700 ms inside the lock, past a 200 ms lease, after 5
/// operations: worker 1 takes the lock while worker 0 still means to write.
fn paused_holder(name: &str, url: &str, fencing: bool) -> String {
    job_file(
        name,
        format!(
            "workers: 2\niterations: 3000\nvalue: {{type: i}}\noperation: add\nbackend: mutex\ntimeout: 60s\n\
             faults: [{{worker: 0, at: 5, action: stall, for: 700ms, inside_lock: true}}]\n\
             engine: {{redis: \"{url}\", lease: 200ms, fencing: {fencing}}}\n"
        ),
    )
}

#[test]
fn a_holder_paused_past_its_lease_is_refused_with_fencing_and_loses_updates_without() {
    let server = RedisServer::start();
    let fenced = run_json(&paused_holder("redis-faults-d.yaml", &server.url(), true));
    assert_eq!((fenced["final"].as_i64(), fenced["verdict"].as_str()), (Some(6000), Some("correct")), "{fenced:#}");
    let stale = count(&fenced, "stale_writes");
    assert!(stale > 0, "{fenced:#}");
    // Reported as a takeover: worker 0 was alive when its lease ran out; every stale write of
    // the run was its own, refused; the one host (this machine) counts them too.
    assert_eq!(
        fenced["redis"]["lease_takeovers"],
        serde_json::json!([{"lease_ran_out": 0, "holder_alive": true, "stale_writes_refused": stale, "late_writes": 0}]),
        "{fenced:#}"
    );
    assert_eq!(fenced["hosts"][0]["stale_writes"].as_u64(), Some(stale), "{fenced:#}");
    let human = Test::new().args(&[&paused_holder("redis-faults-d3.yaml", &server.url(), true)]).run();
    assert!(
        human.stdout.contains("takeover  worker 0 was alive holding the lock when its lease ran out; the lock could be taken over; fencing refused its"),
        "{}",
        human.stdout
    );
    no_key_left(&server);
    let unfenced = run_json(&paused_holder("redis-faults-d2.yaml", &server.url(), false));
    assert_eq!(unfenced["verdict"], "lost_updates", "{unfenced:#}");
    assert!(unfenced["final"].as_i64().unwrap() < 6000, "{unfenced:#}");
    assert_eq!(count(&unfenced, "stale_writes"), 0, "{unfenced:#}");
    // Without fencing the server saw the late write and let it through.
    let late = count(&unfenced, "late_writes");
    assert!(late > 0, "{unfenced:#}");
    assert_eq!(
        unfenced["redis"]["lease_takeovers"],
        serde_json::json!([{"lease_ran_out": 0, "holder_alive": true, "stale_writes_refused": 0, "late_writes": late}]),
        "{unfenced:#}"
    );
    let human = Test::new().args(&[&paused_holder("redis-faults-d4.yaml", &server.url(), false)]).run();
    assert!(
        human.stdout.contains("without fencing nothing refused its ") && human.stdout.contains("late write"),
        "{}",
        human.stdout
    );
    no_key_left(&server);
}
