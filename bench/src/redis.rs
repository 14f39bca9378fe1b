//! The Redis rows: runner's engine over a server of the benchmark's own, against
//! `redis-benchmark` at the same client count and pipeline depth, measured back to back in each
//! round, and the server's own count of the commands each operation cost (`INFO commandstats`).

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value as Json;

use crate::measure::{Spread, Tools, number};

/// The operand of the scripted rows (bytes 01 01 01 01).
const OPERAND: i32 = 0x0101_0101;

/// The commands runner's workers send (not those the scripts call).
const SENT: [&str; 4] = ["evalsha", "eval", "incrby", "xadd"];

/// Clients (workers) in every row.
pub const CLIENTS: u32 = 8;

/// One row: runner's ops/s and the reference's, per round, and commands per operation.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Row {
    pub name: String,
    /// What the reference runs.
    pub reference: String,
    pub runner: Vec<f64>,
    pub reference_ops: Vec<f64>,
    /// Commands runner's workers sent per operation (round trips; median over the rounds).
    pub commands_per_op: Vec<f64>,
    /// The row's target.
    pub target: Target,
    /// Commands the reference sends before reading replies (`-P`).
    pub pipeline: u32,
    /// The owner's apply latency at its median, in ms, per round (the channel's row).
    pub apply_p50_ms: Vec<f64>,
}

/// What a row must reach.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub enum Target {
    /// No target: the figures are reported.
    #[default]
    None,
    /// runner / reference at least this.
    Ratio(f64),
    /// At most this many commands (round trips) a lock round.
    RoundTrips(f64),
    /// At least this many operations a second.
    Rate(f64),
    /// The owner's apply latency at its median under this many ms.
    ApplyMs(f64),
}

impl Row {
    pub fn ratio(&self) -> Spread {
        Spread::ratio(&self.runner, &self.reference_ops)
    }
}

/// A redis-server on a free loopback port, persistence off, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Server {
    fn start(scratch: &Path) -> Result<Server, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir = scratch.join(format!("redis-{port}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server ({e}): install Debian's redis-server"))?;
        let server = Server { child, port, dir };
        for _ in 0..100 {
            if server.cli(&["PING"]).is_ok_and(|o| o.trim() == "PONG") {
                return Ok(server);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Err("redis-server did not answer PING within 5 s".into())
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn cli(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .map_err(|e| format!("redis-cli: {e}"))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The commands clients sent since the last reset: the calls of the commands runner's
    /// workers send (a script's own `redis.call`s are counted by the server under their own
    /// names, and left out here).
    fn round_trips(&self) -> Result<f64, String> {
        let info = self.cli(&["INFO", "commandstats"])?;
        Ok(info
            .lines()
            .filter(|l| SENT.iter().any(|c| l.starts_with(&format!("cmdstat_{c}:"))))
            .filter_map(|l| l.split_once("calls=").and_then(|(_, r)| r.split(',').next()?.parse::<f64>().ok()))
            .sum())
    }

    /// `redis-benchmark`'s requests per second for `command`.
    fn benchmark(&self, requests: u64, pipeline: u32, command: &[&str]) -> Result<f64, String> {
        let out = Command::new("redis-benchmark")
            .args(["-p", &self.port.to_string(), "-c", &CLIENTS.to_string(), "-n", &requests.to_string()])
            .args(["-P", &pipeline.to_string(), "-r", "1000000000", "--csv"])
            .args(command)
            .output()
            .map_err(|e| format!("redis-benchmark: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        // "test","rps",...: the second line's second field.
        text.lines()
            .nth(1)
            .and_then(|l| l.split(',').nth(1))
            .and_then(|v| v.trim_matches('"').parse().ok())
            .ok_or_else(|| format!("redis-benchmark printed no rate: {text}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The job of a row.
fn job(tools: &Tools, name: &str, backend: &str, total: u64, engine: &str) -> Result<std::path::PathBuf, String> {
    let iterations = total / CLIENTS as u64;
    tools.job(
        &format!("redis-{name}"),
        &format!(
            "workers: {CLIENTS}\niterations: {iterations}\nvalue: {{type: i}}\noperation: add\nbackend: {backend}\nengine: {engine}\n"
        ),
    )
}

/// Measures every row, `rounds` times each, the two sides back to back.
pub fn measure(tools: &Tools, rounds: usize, quick: bool) -> Result<Vec<Row>, String> {
    let server = Server::start(&tools.scratch)?;
    let url = server.url();
    let total: u64 = if quick { 8_000 } else { 80_000 };
    // The very script runner's workers send: the exactly-once add, counting refused duplicates.
    let lua = runner::sync::redis_lua::atomic_script(runner::value::ValueType::I, runner::value::OpKind::Add, true);
    let sha = server.cli(&["SCRIPT", "LOAD", &lua])?.trim().to_string();
    // An operand whose four bytes hold no NUL, which a command line cannot carry: 0x01010101.
    let operand = String::from_utf8_lossy(&OPERAND.to_le_bytes()).into_owned();
    let mut rows = vec![
        (
            Row {
                name: "atomic, add on i, exactly_once off, one command per operation".into(),
                reference: "redis-benchmark INCRBY, 8 clients, no pipeline".into(),
                target: Target::Ratio(0.9),
                ..Row::default()
            },
            job(tools, "atomic", "atomic", total, &format!("{{redis: \"{url}\", exactly_once: false}}"))?,
            vec!["INCRBY".to_string(), "{bench}:n".to_string(), "1".to_string()],
        ),
        (
            Row {
                name: "atomic, add on i, exactly_once off, pipelines of 64".into(),
                reference: "redis-benchmark INCRBY, 8 clients, pipelines of 64 (-P 64)".into(),
                target: Target::Ratio(0.8),
                pipeline: 64,
                ..Row::default()
            },
            job(
                tools,
                "pipelined",
                "atomic",
                total * 10,
                &format!("{{redis: \"{url}\", exactly_once: false, pipeline: 64}}"),
            )?,
            vec!["INCRBY".to_string(), "{bench}:n".to_string(), "1".to_string()],
        ),
        (
            Row {
                name: "atomic, add on i, exactly_once (Lua with the sequence number)".into(),
                reference: "redis-benchmark EVALSHA of the script runner's workers send, 8 clients".into(),
                target: Target::Ratio(0.8),
                ..Row::default()
            },
            job(tools, "once", "atomic", total, &format!("{{redis: \"{url}\"}}\noperand: {OPERAND}"))?,
            vec![
                "EVALSHA".to_string(),
                sha.clone(),
                "3".to_string(),
                "{bench}:v".to_string(),
                "{bench}:s".to_string(),
                "{bench}:r".to_string(),
                operand.clone(),
                // A new worker each time (`-r`): the script's whole path, check, apply, record.
                "__rand_int__".to_string(),
                "1".to_string(),
            ],
        ),
        (
            Row {
                name: "mutex, add on i, fenced lock round per operation".into(),
                reference: "none: the target is round trips a lock round".into(),
                target: Target::RoundTrips(4.5),
                ..Row::default()
            },
            job(tools, "mutex", "mutex", total / 4, &format!("{{redis: \"{url}\"}}"))?,
            Vec::new(),
        ),
        (
            Row {
                name: "mutex, add on i, 64 operations a hold of the lock (`pipeline: 64`)".into(),
                reference: "none: the target is operations a second".into(),
                target: Target::Rate(100_000.0),
                ..Row::default()
            },
            job(tools, "mutex-held", "mutex", total * 10, &format!("{{redis: \"{url}\", pipeline: 64}}"))?,
            Vec::new(),
        ),
        (
            Row {
                name: "channel, add on i, batches of 64 on a stream".into(),
                reference: "none: the target is the owner's apply latency at its median".into(),
                target: Target::ApplyMs(1.0),
                ..Row::default()
            },
            job(tools, "channel", "channel", total * 10, &format!("{{redis: \"{url}\"}}\nbatch: 64"))?,
            Vec::new(),
        ),
    ];
    for _ in 0..rounds {
        for (row, job, reference) in &mut rows {
            server.cli(&["CONFIG", "RESETSTAT"])?;
            let report: Json = tools.runner(job)?;
            let ops = number(&report, &["applied_operations"]);
            row.runner.push(number(&report, &["ops_per_second"]));
            row.commands_per_op.push(server.round_trips()? / ops);
            let p50 = number(&report, &APPLY_P50_NS);
            if p50.is_finite() {
                row.apply_p50_ms.push(p50 / 1e6);
            }
            if !reference.is_empty() {
                let args: Vec<&str> = reference.iter().map(String::as_str).collect();
                let requests = if row.pipeline > 1 { total * 10 } else { total };
                // Each reference run starts from no keys, as runner's jobs do: the script's
                // hash of workers' sequence numbers would otherwise grow by one field per
                // request (a new worker each time) over all the rounds, and its reads slow down
                // (HGET 0.16 µs on a small hash, 0.79 µs on one of about half a million fields).
                server.cli(&["DEL", "{bench}:n", "{bench}:v", "{bench}:s", "{bench}:r"])?;
                row.reference_ops.push(server.benchmark(requests, row.pipeline.max(1), &args)?);
            }
        }
    }
    let mut rows: Vec<Row> = rows.into_iter().map(|(row, _, _)| row).collect();
    rows.push(across_hosts(tools, &server, rounds, quick)?);
    Ok(rows)
}

/// Where the JSON report gives the channel owner's apply latency at its median.
const APPLY_P50_NS: [&str; 3] = ["redis", "apply_latency", "p50_ns"];

/// Added to each direction of the link in the row across hosts: 5 ms more a round trip.
const ADDED: std::time::Duration = std::time::Duration::from_micros(2_500);

/// atomic on two hosts (`runner worker` on this machine, as `command: ""`), every connection
/// through a proxy that delays each direction: runner's ops/s against workers / round trip,
/// the round trip measured through the same proxy.
fn across_hosts(tools: &Tools, server: &Server, rounds: usize, quick: bool) -> Result<Row, String> {
    let proxy = crate::proxy::Proxy::start(server.port, ADDED)?;
    let url = format!("redis://127.0.0.1:{}/0", proxy.port);
    let rtt = proxy.round_trip()?.as_secs_f64();
    let total = if quick { 800 } else { 8 * 1_000 };
    let engine = format!(
        "{{redis: \"{url}\", exactly_once: false}}\nhosts:\n  - {{name: a, command: \"\"}}\n  - {{name: b, command: \"\"}}"
    );
    let job = job(tools, "hosts", "atomic", total, &engine)?;
    let mut row = Row {
        name: format!("atomic, add on i, INCRBY, {CLIENTS} workers on two hosts, link +5 ms a round trip"),
        reference: format!("{CLIENTS} workers / the measured round trip ({:.2} ms)", rtt * 1e3),
        target: Target::Ratio(0.9),
        ..Row::default()
    };
    for _ in 0..rounds {
        server.cli(&["CONFIG", "RESETSTAT"])?;
        let report: Json = tools.runner(&job)?;
        row.runner.push(number(&report, &["ops_per_second"]));
        row.commands_per_op.push(server.round_trips()? / number(&report, &["applied_operations"]));
        row.reference_ops.push(f64::from(CLIENTS) / rtt);
    }
    Ok(row)
}

/// The rows' lines in the targets table.
pub fn targets(s: &mut String, rows: &[Row]) {
    use crate::format::{mark, ratio};
    use std::fmt::Write;
    for row in rows {
        let per_op = Spread::of(&row.commands_per_op);
        let runner = Spread::of(&row.runner);
        let (goal, result, met) = match row.target {
            Target::Ratio(t) => {
                let r = row.ratio();
                let figure = format!("{} ({} commands an operation)", ratio(r), ratio(per_op));
                (format!("runner / {} >= {t}", row.reference), figure, (r.n > 0).then_some(r.median >= t))
            }
            Target::RoundTrips(most) => (
                format!("at most {most} round trips a lock round"),
                ratio(per_op),
                (per_op.n > 0).then_some(per_op.median <= most),
            ),
            Target::Rate(least) => (
                format!("at least {} ops/s", crate::format::rate(least)),
                format!("{} ops/s", crate::format::rate(runner.median)),
                (runner.n > 0).then_some(runner.median >= least),
            ),
            Target::ApplyMs(most) => {
                let p50 = Spread::of(&row.apply_p50_ms);
                let figure = format!("{} ms ({} ops/s)", ratio(p50), crate::format::rate(runner.median));
                (
                    format!("the owner's apply latency at its median under {most} ms"),
                    figure,
                    (p50.n > 0).then_some(p50.median < most),
                )
            }
            Target::None => (row.reference.clone(), format!("{} ops/s", crate::format::rate(runner.median)), None),
        };
        let mark = match (row.target, met) {
            (Target::None, _) => "reported",
            (_, None) => "not measured",
            (_, Some(met)) => mark(met),
        };
        let _ = writeln!(s, "| Redis, {}: {goal} | {result} | {mark} |", row.name);
    }
}

/// The Redis section: absolute figures per row.
pub fn section(s: &mut String, rows: &[Row]) {
    use crate::format::rate;
    use std::fmt::Write;
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(s, "\n## 5. The value in Redis\n");
    let _ = writeln!(
        s,
        "A redis-server of the benchmark's own on loopback (persistence off), {CLIENTS} workers against \
         `redis-benchmark` with {CLIENTS} clients, back to back in each round, each side starting from no keys \
         (runner deletes its run's keys; the benchmark deletes `redis-benchmark`'s before each of its runs); \
         commands an operation from the \
         server's `INFO commandstats` (reset before each run): the calls of the commands the workers send \
         (EVALSHA, INCRBY, XADD), failed attempts at a held lock included, over the operations.\n"
    );
    let _ = writeln!(
        s,
        "| row | runner ops/s | reference | reference ops/s | commands an operation (round trips, without a pipeline) |\n|---|---|---|---|---|"
    );
    for row in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.2} |",
            row.name,
            rate(Spread::of(&row.runner).median),
            row.reference,
            rate(Spread::of(&row.reference_ops).median),
            Spread::of(&row.commands_per_op).median
        );
    }
}
