//! Files runner leaves behind (the trace, `--export-json`, `--export-csv`, `--export-markdown`,
//! `--plot`): each written atomically, then put in place by a rename over the destination. A
//! reader never sees half a file, an interrupted sweep keeps what it finished, and a symlink at
//! the destination is replaced, never followed.
//!
//! Owns: how the file being written is made, so that nothing can be planted in its way or left
//! behind. It is an unnamed `O_TMPFILE` in the destination's folder, given a fresh random name
//! with `linkat` (which never follows or replaces what is there) only when complete, then renamed
//! over the destination; where the file system has no `O_TMPFILE`, a file created with `O_EXCL`
//! under a random name (the `tempfile` crate). A device, a FIFO or a socket (`/dev/null`, a named
//! pipe; not a symlink to one, which is replaced like any other), and runner's own descriptors
//! (`/dev/stdout`, `/dev/fd/N`), are written in place instead (appended to), opened without
//! blocking, so that a FIFO nobody reads is an error at once, not a wait for ever; and written
//! through `exec::interrupt::Interruptible`, so that a reader that has it open but does not read
//! holds runner only until a signal runner has blocked arrives.
//!
//! No temporary file outlives runner, whatever signal ends it: the file is made only when its
//! contents are ready ([`check`] tries the destination earlier without leaving anything), an
//! unnamed one has no name until `linkat`, and the moments a named one exists (from `linkat`
//! to the rename; the fallback's whole life) run with every signal that can be blocked held
//! back, so that SIGUSR1, SIGALRM, a second SIGINT or SIGHUP takes effect after the rename (or
//! the removal). Only SIGKILL can still land while a file has a name (from `linkat` to the
//! rename, a few microseconds; the fallback's whole life), and leave it.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{AT_FDCWD, AtFlags, OFlag};
use nix::sys::stat::Mode;

use crate::error::Error;

/// Replaces `path` with `contents` in one step.
pub fn atomic_write(path: &str, contents: &[u8]) -> Result<(), Error> {
    write_pending(Pending::create(path)?, path, contents)
}

/// Writes `contents` to a stream that [`check`] opened (after what runner printed so far to
/// its standard output, which the stream may be).
pub fn write_stream(open: Pending, path: &str, contents: &[u8]) -> Result<(), Error> {
    let _ = std::io::stdout().flush();
    write_pending(open, path, contents)
}

/// Writes `contents` to `pending` and puts it in place.
fn write_pending(mut pending: Pending, path: &str, contents: &[u8]) -> Result<(), Error> {
    let mut out = crate::exec::interrupt::Interruptible::new(&mut pending.file);
    out.write_all(contents).map_err(|e| Error::Output(format!("{path}: {e}")))?;
    pending.commit()
}

/// Checks now that `path` can be written (before a run, whose trace is written after it),
/// leaving nothing behind: a stream is opened and returned, to be written later (a FIFO's
/// reader would take a closing for the end); for a file, its temporary is made and dropped.
pub fn check(path: &str) -> Result<Option<Pending>, Error> {
    let pending = Pending::create(path)?;
    Ok(matches!(pending.how, How::InPlace).then_some(pending))
}

/// A file being written: invisible, or under a fresh random name, beside its destination until
/// [`Pending::commit`]; dropped uncommitted, it goes away and the destination is untouched.
pub struct Pending {
    pub file: File,
    how: How,
    target: String,
    /// Signals held back while a named temporary file exists (the fallback's): dropped last.
    _held: Option<Held>,
}

/// Every signal that can be blocked, held back until this is dropped (then the mask runner had
/// is restored, and what arrived meanwhile takes effect).
struct Held(nix::sys::signal::SigSet);

impl Held {
    fn now() -> Held {
        use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
        let mut all = SigSet::all();
        // Faults the process itself raises are not held (the kernel would kill it at once).
        for fault in [Signal::SIGSEGV, Signal::SIGBUS, Signal::SIGFPE, Signal::SIGILL, Signal::SIGTRAP] {
            all.remove(fault);
        }
        let mut old = SigSet::empty();
        let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&all), Some(&mut old));
        Held(old)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        use nix::sys::signal::{SigmaskHow, pthread_sigmask};
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.0), None);
    }
}

/// How the file being written reaches its destination.
enum How {
    /// An unnamed `O_TMPFILE` in this folder, linked under a fresh name when committed.
    Unnamed(PathBuf),
    /// A file created with `O_EXCL` under a random name (no `O_TMPFILE` on this file system).
    Named(tempfile::NamedTempFile),
    /// Written straight to a device, a FIFO or a socket, which cannot be replaced.
    InPlace,
}

impl Pending {
    /// Creates the file now, so that an unwritable destination fails early.
    pub fn create(path: &str) -> Result<Pending, Error> {
        let target = Path::new(path);
        let fail = |e: std::io::Error| Error::Output(format!("{path}: {e}"));
        if let Some(file) = own_stream(target) {
            return Ok(Pending { file: file.map_err(fail)?, how: How::InPlace, target: path.to_string(), _held: None });
        }
        if let Some(follow) = in_place(target) {
            let file = open_in_place(path, follow)?;
            return Ok(Pending { file, how: How::InPlace, target: path.to_string(), _held: None });
        }
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let flags = OFlag::O_TMPFILE | OFlag::O_WRONLY | OFlag::O_CLOEXEC;
        match nix::fcntl::open(dir, flags, Mode::from_bits_truncate(0o666)) {
            Ok(fd) => Ok(Pending {
                file: File::from(fd),
                how: How::Unnamed(dir.to_path_buf()),
                target: path.to_string(),
                _held: None,
            }),
            // No O_TMPFILE here (an old kernel, a file system without it).
            Err(Errno::EOPNOTSUPP | Errno::EISDIR | Errno::EINVAL) => Pending::named(path, dir),
            Err(e) => Err(fail(e.into())),
        }
    }

    /// The fallback: a file created with `O_EXCL` under a random name beside the destination.
    fn named(path: &str, dir: &Path) -> Result<Pending, Error> {
        use std::os::unix::fs::PermissionsExt;
        let fail = |e: std::io::Error| Error::Output(format!("{path}: {e}"));
        let held = Held::now();
        let named = tempfile::Builder::new()
            .prefix(&format!(".{}.", file_name(Path::new(path))))
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(fail)?;
        let file = named.as_file().try_clone().map_err(fail)?;
        Ok(Pending { file, how: How::Named(named), target: path.to_string(), _held: Some(held) })
    }

    /// Flushes the file and puts it in place of the destination.
    pub fn commit(self) -> Result<(), Error> {
        let fail = |e: std::io::Error| Error::Output(format!("{}: {e}", self.target));
        match self.how {
            How::InPlace => Ok(()),
            How::Named(named) => {
                self.file.sync_all().map_err(fail)?;
                named.persist(&self.target).map_err(|e| fail(e.error))?;
                Ok(())
            }
            How::Unnamed(ref dir) => {
                self.file.sync_all().map_err(fail)?;
                // From the link to the rename the file has a temporary name: no signal then.
                let _held = Held::now();
                let fresh = link_fresh(&self.file, dir, &file_name(Path::new(&self.target))).map_err(fail)?;
                std::fs::rename(&fresh, &self.target).map_err(|e| {
                    let _ = std::fs::remove_file(&fresh);
                    fail(e)
                })
            }
        }
    }
}

impl Write for Pending {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.file.write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The destination's file name, for the temporary names beside it.
fn file_name(target: &Path) -> String {
    target.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned())
}

/// Whether `path` is a stream (a device, a FIFO, a socket, runner's own standard output), which
/// is written in place: each write adds to what was written before rather than replacing it.
pub fn is_stream(path: &str) -> bool {
    own_stream_number(Path::new(path)).is_some() || in_place(Path::new(path)).is_some()
}

/// `/dev/stdout` or `/dev/stderr` (or `/dev/fd/1`, `/proc/self/fd/2`, ...): runner's own stream,
/// duplicated rather than opened again, so that the export and the report share one file offset
/// (when standard output is a file, a second opening would write over the report). What runner
/// printed so far is flushed first.
fn own_stream(target: &Path) -> Option<std::io::Result<File>> {
    use std::os::fd::AsFd;
    let fd = match own_stream_number(target)? {
        1 => {
            let _ = std::io::stdout().flush();
            std::io::stdout().as_fd().try_clone_to_owned()
        }
        _ => std::io::stderr().as_fd().try_clone_to_owned(),
    };
    Some(fd.map(File::from))
}

/// 1 or 2 when `target` names runner's standard output or error.
fn own_stream_number(target: &Path) -> Option<u8> {
    let name = target.to_str()?;
    let number = match name {
        "/dev/stdout" => "1",
        "/dev/stderr" => "2",
        _ => ["/dev/fd/", "/proc/self/fd/"].iter().find_map(|p| name.strip_prefix(p))?,
    };
    match number {
        "1" => Some(1),
        "2" => Some(2),
        _ => None,
    }
}

/// How `target` is written in place, if it is: `Some(true)` when it names one of runner's own
/// descriptors (`/dev/fd/N`, which leads through a link by design), `Some(false)` when it is
/// itself a device, a FIFO or a socket (a symlink there is not followed: a link planted at the
/// destination is replaced, whatever it leads to, as for a regular file), `None` otherwise.
fn in_place(target: &Path) -> Option<bool> {
    use std::os::unix::fs::FileTypeExt;
    if ["/dev/fd", "/proc/self/fd", "/proc/thread-self/fd"].iter().any(|p| target.starts_with(p)) {
        return Some(true);
    }
    let kind = std::fs::symlink_metadata(target).ok()?.file_type();
    (kind.is_char_device() || kind.is_block_device() || kind.is_fifo() || kind.is_socket()).then_some(false)
}

/// Opens a device or a FIFO for writing without waiting: a FIFO that nobody has open for reading
/// is refused at once (`ENXIO`) rather than blocking runner. It stays non-blocking: each write
/// waits for it in `exec::interrupt::Interruptible`.
fn open_in_place(path: &str, follow: bool) -> Result<File, Error> {
    use std::os::unix::fs::OpenOptionsExt;
    // Not following a link: one swapped in since the look is refused (ELOOP), not followed.
    let nofollow = if follow { 0 } else { libc::O_NOFOLLOW };
    let file = std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | nofollow)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => Error::Output(format!(
                "{path}: a FIFO that nothing is reading: start its reader first (runner does not wait for one)"
            )),
            _ => Error::Output(format!("{path}: {e}")),
        })?;
    Ok(file)
}

/// Gives the unnamed file a fresh random name in `dir` and returns it. `linkat` never follows
/// nor replaces what is at the new name (`EEXIST`): another random name is tried instead.
fn link_fresh(file: &File, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
    for attempt in 0..64u32 {
        let fresh = dir.join(format!(".{name}.{:016x}.tmp", random(attempt)));
        let linked = nix::unistd::linkat(AT_FDCWD, proc_path.as_str(), AT_FDCWD, &fresh, AtFlags::AT_SYMLINK_FOLLOW)
            // Without /proc: by the descriptor itself (needs CAP_DAC_READ_SEARCH).
            .or_else(|e| match e {
                Errno::EEXIST => Err(e),
                _ => nix::unistd::linkat(file, "", AT_FDCWD, &fresh, AtFlags::AT_EMPTY_PATH),
            });
        match linked {
            Ok(()) => return Ok(fresh),
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free temporary name beside it"))
}

/// 64 unpredictable bits (std's per-process random hash keys, the time and the attempt).
fn random(attempt: u32) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(attempt);
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::atomic_write;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn replaces_whole_files() {
        let dir = std::env::temp_dir().join(format!("runner-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // An uncommitted file leaves nothing, nor does a check.
        drop(super::Pending::create(&dir.join("never").to_string_lossy()).unwrap());
        assert!(super::check(&dir.join("checked").to_string_lossy()).unwrap().is_none());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        assert!(super::check(&dir.join("missing/x").to_string_lossy()).is_err());
        let path = dir.join("out.csv").to_string_lossy().into_owned();
        atomic_write(&path, b"one").unwrap();
        atomic_write(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file is left");
        assert!(atomic_write(&dir.join("missing/x").to_string_lossy(), b"x").is_err());
        // A symlink at the destination is replaced, not followed.
        let elsewhere = dir.join("elsewhere");
        std::fs::write(&elsewhere, "untouched").unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        atomic_write(&link.to_string_lossy(), b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "untouched");
        assert!(!std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_file(&elsewhere).unwrap();
        // Without O_TMPFILE: the same, through a file created with O_EXCL.
        let fallback = dir.join("fallback.csv").to_string_lossy().into_owned();
        let mut pending = super::Pending::named(&fallback, &dir).unwrap();
        std::io::Write::write_all(&mut pending.file, b"three").unwrap();
        // While the named file exists, signals are held back; after it, runner's mask again.
        let blocked = || nix::sys::signal::SigSet::thread_get_mask().unwrap().contains(nix::sys::signal::SIGUSR1);
        assert!(blocked());
        pending.commit().unwrap();
        assert!(!blocked());
        assert_eq!(std::fs::read_to_string(&fallback).unwrap(), "three");
        drop(super::Pending::named(&fallback, &dir).unwrap());
        assert_eq!(std::fs::read_to_string(&fallback).unwrap(), "three", "an uncommitted file changes nothing");
        std::fs::remove_file(&fallback).unwrap();
        // A symlink at the destination leading to a FIFO (or a device) is replaced too, never
        // followed; the FIFO itself, without a reader, is refused at once.
        let fifo = dir.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        atomic_write(&link.to_string_lossy(), b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_file());
        let refused = atomic_write(&fifo.to_string_lossy(), b"x").unwrap_err();
        assert!(format!("{refused:?}").contains("a FIFO that nothing is reading"), "{refused:?}");
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_file(&fifo).unwrap();
        // A device is written in place, never replaced.
        atomic_write("/dev/null", b"x").unwrap();
        assert!(std::fs::symlink_metadata("/dev/null").unwrap().file_type().is_char_device());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
