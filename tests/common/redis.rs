//! [`RedisServer`]: a real redis-server of one test's own, on a free loopback port with
//! persistence off, stopped when dropped.
//!
//! ```ignore
//! let server = RedisServer::start();
//! let mut con = server.connection();
//! let n: i64 = redis::cmd("INCR").arg("k").query(&mut con).unwrap();
//! ```
//!
//! Debian's `redis-server` must be installed (`scripts/test` installs it as root): without it the
//! test fails with a message naming the package, it never skips.

use std::fs::File;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long the server may take to answer its first PING.
const READY_WITHIN: Duration = Duration::from_secs(10);
/// How long it may take to end after SIGTERM before it is killed.
const STOP_WITHIN: Duration = Duration::from_secs(10);
/// Ports tried before giving up (another process may take a free port before the server binds it).
const PORT_ATTEMPTS: usize = 20;
/// A bound on every command of a connection from [`RedisServer::connection`], so that no test hangs.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

const MISSING: &str = "redis-server not found: install Debian's redis-server (scripts/test does)";

/// A running redis-server, stopped (SIGTERM, then waited for) when dropped.
pub struct RedisServer {
    child: Child,
    port: u16,
    /// Its working directory (and log), removed after it stopped.
    dir: tempfile::TempDir,
}

/// Why one attempt to start a server failed.
enum Failure {
    /// Another process took the port first: try another.
    PortTaken,
    Other(String),
}

impl RedisServer {
    /// Starts a server on a free port of 127.0.0.1 and waits until it answers PING (at most
    /// 10 s). Panics, naming the package, when `redis-server` is not installed.
    #[track_caller]
    pub fn start() -> RedisServer {
        let mut last = String::new();
        for _ in 0..PORT_ATTEMPTS {
            match Self::try_start() {
                Ok(server) => return server,
                Err(Failure::PortTaken) => last = "the port was taken".into(),
                Err(Failure::Other(why)) => panic!("{why}"),
            }
        }
        panic!("redis-server did not start in {PORT_ATTEMPTS} attempts: {last}");
    }

    fn try_start() -> Result<RedisServer, Failure> {
        let port = free_port();
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("redis");
        std::fs::create_dir_all(&base).expect("redis temp dir");
        let dir = tempfile::Builder::new().prefix("server.").tempdir_in(&base).expect("redis temp dir");
        let log_path = dir.path().join("log");
        let log = File::create(&log_path).expect("redis log file");
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("redis log file"))
            .stderr(log)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(Failure::Other(MISSING.into())),
            Err(e) => return Err(Failure::Other(format!("redis-server did not start: {e}"))),
        };
        let mut server = RedisServer { child, port, dir };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait().expect("wait for redis-server") {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                if log.contains("Address already in use") {
                    return Err(Failure::PortTaken);
                }
                return Err(Failure::Other(format!(
                    "redis-server on port {port} ended ({status}) before it answered:\n{log}"
                )));
            }
            if server.ping() {
                return Ok(server);
            }
            if started.elapsed() > READY_WITHIN {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                // Dropping `server` stops it.
                return Err(Failure::Other(format!(
                    "redis-server on port {port} did not answer PING within {READY_WITHIN:?}:\n{log}"
                )));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the server answers PING now.
    fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else { return false };
        let Ok(mut con) = client.get_connection_with_timeout(Duration::from_millis(500)) else { return false };
        let _ = con.set_read_timeout(Some(Duration::from_millis(500)));
        redis::cmd("PING").query::<String>(&mut con).is_ok_and(|pong| pong == "PONG")
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory the server runs in (its `--dir`; its log is `log` there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A new sync connection to database 0, every command bounded at 10 s.
    #[track_caller]
    pub fn connection(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).expect("redis url");
        let con = client
            .get_connection_with_timeout(COMMAND_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to redis-server at {}: {e}", self.url()));
        con.set_read_timeout(Some(COMMAND_TIMEOUT)).expect("read timeout");
        con.set_write_timeout(Some(COMMAND_TIMEOUT)).expect("write timeout");
        con
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let pid = Pid::from_raw(self.child.id() as i32);
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = kill(pid, Signal::SIGTERM);
        let started = Instant::now();
        while started.elapsed() < STOP_WITHIN {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // It did not end on SIGTERM: do not leave it behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port of 127.0.0.1 that was free a moment ago (bound at port 0, then released).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Reads the run's stream `stream` on `con` from its start (it need not exist yet) until `ops`
/// operations were read or 60 s passed: each entry's worker, count and operand's raw bytes, in
/// the stream's order, as the owner applies them: an entry a worker sent again (after a reply
/// it did not get in time) holds operations already read, and is skipped, as the owner skips it.
pub fn read_stream(con: &mut redis::Connection, stream: &str, ops: u64) -> Vec<(u32, u64, Vec<u8>)> {
    let (mut last, mut entries, mut read) = ("0-0".to_string(), Vec::new(), 0u64);
    let mut done: std::collections::HashMap<u32, u64> = std::collections::HashMap::new();
    let until = Instant::now() + Duration::from_secs(60);
    while read < ops && Instant::now() < until {
        type Reply = Option<Vec<(String, Vec<(String, Vec<Vec<u8>>)>)>>;
        let reply: Reply =
            redis::cmd("XREAD").arg("BLOCK").arg(500).arg("STREAMS").arg(stream).arg(&last).query(con).expect("XREAD");
        for (id, fields) in reply.into_iter().flatten().flat_map(|s| s.1) {
            let get = |name: &[u8]| fields.chunks_exact(2).find(|kv| kv[0] == name).expect("a field")[1].clone();
            let number = |name: &[u8]| String::from_utf8(get(name)).expect("text").parse::<u64>().expect("a number");
            let (worker, offset, n) = (number(b"w") as u32, number(b"s"), number(b"n"));
            last = id;
            let applied = done.entry(worker).or_default();
            if offset + n <= *applied {
                continue;
            }
            assert_eq!(offset, *applied, "worker {worker}'s entry starts at {offset}, after {applied} operations");
            *applied += n;
            entries.push((worker, n, get(b"o")));
            read += n;
        }
    }
    entries
}
