//! A TCP proxy on loopback that delays every byte by a fixed time in each direction, without
//! limiting how many are in flight: a link with a longer round trip, for the Redis row across
//! hosts (this kernel has no `tc netem`). Threads are fine here: the benchmark never forks.
//!
//! Owns: the forwarding and its delay. Does not own: what runs through it.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A delaying proxy in front of a server; stops accepting when dropped.
pub struct Proxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Forwards a free loopback port to `upstream`, each direction `delay` late.
    pub fn start(upstream: u16, delay: Duration) -> Result<Proxy, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("the proxy's port: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                if let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) {
                    forward(client, server, delay);
                    forward(s2, c2, delay);
                }
            }
        });
        Ok(Proxy { port, stop })
    }

    /// The round trip through the proxy: the median of 32 inline PINGs on one connection.
    pub fn round_trip(&self) -> Result<Duration, String> {
        let mut con = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| format!("the proxy: {e}"))?;
        con.set_nodelay(true).map_err(|e| e.to_string())?;
        con.set_read_timeout(Some(Duration::from_secs(5))).map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        let mut reply = [0u8; 7];
        for _ in 0..32 {
            let t0 = Instant::now();
            con.write_all(b"PING\r\n").map_err(|e| e.to_string())?;
            con.read_exact(&mut reply).map_err(|e| format!("no PONG through the proxy: {e}"))?;
            times.push(t0.elapsed());
        }
        times.sort();
        Ok(times[times.len() / 2])
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copies `from` to `to`, each chunk written `delay` after it was read, until `from` closes.
fn forward(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (send, receive) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || send.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        for (due, bytes) in receive {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
