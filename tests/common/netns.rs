//! Hosts made of real network namespaces, for the tests that run one job's workers on several
//! hosts with the value in Redis: a bridge namespace, and three namespaces joined to it by veth
//! pairs (198.51.100.0/24): the server's (redis-server bound to its address, protected mode off:
//! it is reachable only inside the namespaces the test made), and two hosts, `a` and `b`, each
//! running a `runner worker` through `ip netns exec`. runner itself (the coordinator) runs in
//! host a's namespace. The faults a test can make: packet loss in a host's namespace
//! (nftables), a host's link down and up again (`ip link`).
//!
//! Every namespace is removed when the [`Net`] is dropped, on failure too. Needs root and
//! iproute2 (CI has both): without them a test fails with a message naming them, it never
//! skips. Owns the namespaces and their server (and `follow`, reading the run's stream from
//! inside the server's namespace); does not own the jobs' assertions. The job helpers and
//! `follow` are also those of main's tests/redis_hosts.rs (channel on two hosts), so that its
//! `impl Net` can move here at the merge.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{job_file, runner_bin, wait_at_most};

pub const SERVER_ADDR: &str = "198.51.100.1";

/// Three namespaces on a bridge (a fourth namespace) and a redis-server in the first; all
/// removed when dropped.
pub struct Net {
    /// bridge, server, host a, host b.
    pub names: [String; 4],
    server: Option<Child>,
    dir: tempfile::TempDir,
}

/// Runs `ip ARGS`, failing the test when it fails.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| panic!("cannot run `ip` (iproute2): {e}"));
    assert!(
        out.status.success(),
        "`ip {}` failed: {} (these tests make network namespaces: they need root and iproute2, as CI has)",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr).trim()
    );
}

impl Net {
    pub fn new() -> Net {
        static N: AtomicUsize = AtomicUsize::new(0);
        let tag = format!("rh{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let names = ["br", "srv", "a", "b"].map(|n| format!("{tag}-{n}"));
        let dir = tempfile::tempdir().expect("temp dir");
        let mut net = Net { names, server: None, dir };
        for name in &net.names {
            ip(&["netns", "add", name]);
        }
        let br = net.names[0].clone();
        ip(&["-n", &br, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &br, "link", "set", "br0", "up"]);
        for (i, ns) in net.names[1..].iter().enumerate() {
            let end = format!("v{i}");
            ip(&["-n", &br, "link", "add", &end, "type", "veth", "peer", "name", "eth0", "netns", ns]);
            ip(&["-n", &br, "link", "set", &end, "master", "br0"]);
            ip(&["-n", &br, "link", "set", &end, "up"]);
            ip(&["-n", ns, "addr", "add", &format!("198.51.100.{}/24", i + 1), "dev", "eth0"]);
            ip(&["-n", ns, "link", "set", "eth0", "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        net.start_server();
        net
    }

    fn start_server(&mut self) {
        let log = std::fs::File::create(self.dir.path().join("log")).expect("log");
        let child = Command::new("ip")
            .args(["netns", "exec", &self.names[1], "redis-server", "--port", "6379", "--bind", SERVER_ADDR])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no", "--dir"])
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start redis-server (install Debian's redis-server): {e}"));
        self.server = Some(child);
        let started = Instant::now();
        while self.cli(&["ping"]) != "PONG" {
            assert!(started.elapsed() < Duration::from_secs(10), "redis-server did not answer in its namespace");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `redis-cli` inside the server's namespace; its output, trimmed.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.names[1], "redis-cli", "-h", SERVER_ADDR])
            .args(args)
            .output()
            .expect("redis-cli (Debian's redis-tools)");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn url(&self) -> String {
        format!("redis://{SERVER_ADDR}:6379")
    }

    /// Host `h`'s namespace (0: a, 1: b).
    pub fn host(&self, h: usize) -> &str {
        &self.names[2 + h]
    }

    /// A job over the two hosts: 8 workers adding 1 to an `i`, `iterations` each.
    pub fn job(&self, name: &str, backend: &str, iterations: u64, key: &str) -> String {
        self.job_within(name, backend, iterations, key, "60s")
    }

    /// A job over the two hosts, with a deadline.
    pub fn job_within(&self, name: &str, backend: &str, iterations: u64, key: &str, timeout: &str) -> String {
        let work = format!(
            "workers: 8\niterations: {iterations}\nvalue: {{type: i}}\noperation: add\noperand: 1\nbackend: {backend}\ntimeout: {timeout}\n"
        );
        self.job_of(name, &work, key)
    }

    /// A job over the two hosts: `work` (workers, value, operation, backend...), then the engine
    /// and the hosts.
    pub fn job_of(&self, name: &str, work: &str, key: &str) -> String {
        self.job_wrapped(name, work, key, ["", ""])
    }

    /// As `job_of`, the engine with more fields (`settings`: `, retries: 3`...).
    pub fn job_with(&self, name: &str, work: &str, key: &str, settings: &str) -> String {
        self.job_full(name, work, key, settings, ["", ""])
    }

    /// As `job_of`, each host's command followed by `wrap` (e.g. `unshare --time --fork`).
    pub fn job_wrapped(&self, name: &str, work: &str, key: &str, wrap: [&str; 2]) -> String {
        self.job_full(name, work, key, "", wrap)
    }

    fn job_full(&self, name: &str, work: &str, key: &str, settings: &str, wrap: [&str; 2]) -> String {
        let text = format!(
            "{work}engine: {{redis: \"{}\", key: \"{key}\"{settings}}}\nhosts:\n  - {{name: a, command: \"ip netns exec {} {}\"}}\n  - {{name: b, command: \"ip netns exec {} {}\"}}\n",
            self.url(),
            self.host(0),
            wrap[0],
            self.host(1),
            wrap[1]
        );
        job_file(name, text)
    }

    /// Follows the run's stream (`{key}:stream`) from inside the server's namespace (only the
    /// thread joins it) until it has read `ops` operations or 60 s passed: each entry's worker,
    /// count and operand's raw bytes, in the stream's order. The stream need not exist yet.
    pub fn follow(&self, key: &str, ops: u64) -> std::thread::JoinHandle<Vec<(u32, u64, Vec<u8>)>> {
        let (ns, url, stream) = (format!("/run/netns/{}", self.names[1]), self.url(), format!("{key}:stream"));
        std::thread::spawn(move || {
            let file = std::fs::File::open(&ns).expect("the server's namespace");
            nix::sched::setns(&file, nix::sched::CloneFlags::CLONE_NEWNET).expect("joining the server's namespace");
            let client = redis::Client::open(url).expect("url");
            let mut con = client.get_connection_with_timeout(Duration::from_secs(5)).expect("a connection");
            super::redis::read_stream(&mut con, &stream, ops)
        })
    }

    /// runner, the coordinator, in host a's namespace.
    pub fn runner(&self, job: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", self.host(0)]).arg(runner_bin()).arg(job);
        cmd
    }

    /// Drops about `percent`% of the packets between host `h` and the server, each way
    /// (nftables in the host's namespace: the kernel here has no netem).
    pub fn lose(&self, h: usize, percent: u32) {
        let rules = format!(
            "table inet netfaults {{\n  chain out {{ type filter hook output priority 0; ip daddr {SERVER_ADDR} numgen random mod 100 < {percent} drop; }}\n  chain in {{ type filter hook input priority 0; ip saddr {SERVER_ADDR} numgen random mod 100 < {percent} drop; }}\n}}\n"
        );
        let mut child = Command::new("ip")
            .args(["netns", "exec", self.host(h), "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run `ip netns exec .. nft` (install iproute2 and nftables): {e}"));
        std::io::Write::write_all(child.stdin.as_mut().expect("nft's stdin"), rules.as_bytes()).expect("nft's rules");
        drop(child.stdin.take());
        let out = child.wait_with_output().expect("nft");
        assert!(
            out.status.success(),
            "nft refused the loss rules (install Debian's nftables; needs root): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }

    /// Host `h`'s cable: its veth's end in the bridge, set down or up.
    pub fn link(&self, h: usize, up: bool) {
        ip(&["-n", &self.names[0], "link", "set", &format!("v{}", h + 1), if up { "up" } else { "down" }]);
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(server.id() as i32), nix::sys::signal::SIGTERM);
            let _ = wait_at_most(&mut server, Duration::from_secs(10), "redis-server");
        }
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// A host's `runner worker`'s children: its workers, and its heartbeat processes (named
/// `runner-beat`) apart.
pub fn host_children(pid: u32) -> (Vec<i32>, Vec<i32>) {
    super::children(pid).into_iter().partition(|child| {
        std::fs::read_to_string(format!("/proc/{child}/comm")).map_or(true, |comm| comm.trim() != "runner-beat")
    })
}

/// The processes whose command line holds `text`: their pid and command line.
pub fn processes_with(text: &str) -> Vec<(i32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let line = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if line.contains(text) {
            found.push((pid, line));
        }
    }
    found
}
