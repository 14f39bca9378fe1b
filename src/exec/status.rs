//! runner's own `/proc/self/status`, opened once per process and read again from its start
//! each time it is asked (`pread` at offset 0: a fresh snapshot, without walking the path or
//! opening the file again): the thread count that every fork checks (`fork::prepare`), what
//! runner holds when its workers are forked (`VmRSS`) and its peak after the run (`VmHWM`).
//! The descriptor is the parent's: `/proc/self` is resolved once, when it is opened, so a
//! forked child inherits a view of runner, not of itself (children never read it).
//!
//! Owns: that descriptor and the reading of its lines. Does not own: what the figures mean
//! (see `collect.rs` and `fork.rs`).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

/// What runner's status says, read at once.
pub(super) struct Status {
    /// `Threads:`; `None` if the line is missing.
    pub(super) threads: Option<usize>,
    /// `VmRSS:` in KiB; 0 if missing.
    pub(super) rss_kib: u64,
    /// `VmHWM:` in KiB; 0 if missing.
    pub(super) hwm_kib: u64,
}

/// The file, once opened (a failed open is tried again at the next read).
static FILE: OnceLock<File> = OnceLock::new();

/// Reads runner's status now.
pub(super) fn read() -> std::io::Result<Status> {
    let file = match FILE.get() {
        Some(file) => file,
        None => {
            let opened = File::open("/proc/self/status")?;
            FILE.get_or_init(|| opened)
        }
    };
    // The file is about 1.5 KiB: one read where the buffer holds it all (a shorter read than
    // asked is the whole file: the kernel writes the file out in one piece), more reads where
    // not (a `Groups:` line of thousands of groups, many CPUs). The buffer is small enough not
    // to reach a page further down the stack.
    let mut buf = [0u8; 2048];
    let n = file.read_at(&mut buf, 0)?;
    if n < buf.len() {
        return Ok(parse(&buf[..n]));
    }
    let mut bytes = buf.to_vec();
    loop {
        let mut more = [0u8; 2048];
        match file.read_at(&mut more, bytes.len() as u64)? {
            0 => return Ok(parse(&bytes)),
            n => bytes.extend_from_slice(&more[..n]),
        }
    }
}

fn parse(text: &[u8]) -> Status {
    let mut status = Status { threads: None, rss_kib: 0, hwm_kib: 0 };
    // One pass over the lines, by bytes; the scan stops once the three lines are read
    // (`Threads:` comes after `VmRSS:` and `VmHWM:` in the kernel's order).
    let (mut rss, mut hwm) = (false, false);
    for line in text.split(|&b| b == b'\n') {
        if let Some(rest) = line.strip_prefix(b"VmRSS:") {
            status.rss_kib = number(rest).unwrap_or(0);
            rss = true;
        } else if let Some(rest) = line.strip_prefix(b"VmHWM:") {
            status.hwm_kib = number(rest).unwrap_or(0);
            hwm = true;
        } else if let Some(rest) = line.strip_prefix(b"Threads:") {
            status.threads = number(rest).map(|n| n as usize);
            if rss && hwm {
                break;
            }
        }
    }
    status
}

/// The first run of decimal digits in `rest` (`"\t    4604 kB"`), `None` if there is none or it
/// overflows.
fn number(rest: &[u8]) -> Option<u64> {
    let start = rest.iter().position(u8::is_ascii_digit)?;
    rest[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .try_fold(0u64, |n, &b| n.checked_mul(10)?.checked_add(u64::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_status_lines_are_read_as_numbers() {
        let status =
            super::parse(b"Name:\trunner\nVmHWM:\t    4932 kB\nVmRSS:\t    4604 kB\nThreads:\t1\nSigQ:\t0/1\n");
        assert_eq!((status.threads, status.rss_kib, status.hwm_kib), (Some(1), 4604, 4932));
        let none = super::parse(b"Name:\tx\n");
        assert_eq!((none.threads, none.rss_kib, none.hwm_kib), (None, 0, 0));
    }

    #[test]
    fn a_second_read_is_a_fresh_snapshot() {
        let first = super::read().unwrap();
        assert!(first.threads.is_some_and(|n| n >= 1) && first.rss_kib > 0 && first.hwm_kib >= first.rss_kib);
        let held: Vec<u8> = vec![1; 64 << 20];
        let second = super::read().unwrap();
        assert!(second.rss_kib >= first.rss_kib + (60 << 10), "{} then {} KiB", first.rss_kib, second.rss_kib);
        drop(held);
    }
}
