//! Files runner leaves behind (the trace, `--export-json`, `--export-csv`, `--export-markdown`,
//! `--plot`): each written atomically, to a temporary file in the same folder, then renamed
//! over the destination. A reader never sees half a file, an interrupted sweep keeps what it
//! finished, and a symlink at the destination is replaced, never followed.

use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Replaces `path` with `contents` in one step.
pub fn atomic_write(path: &str, contents: &[u8]) -> Result<(), Error> {
    let mut pending = Pending::create(path)?;
    pending.file.write_all(contents).map_err(|e| Error::Output(format!("{path}: {e}")))?;
    pending.commit()
}

/// A file being written: a temporary file beside its destination until [`Pending::commit`];
/// dropped uncommitted, the temporary file goes away and the destination is untouched.
pub struct Pending {
    pub file: std::fs::File,
    /// `None` when writing straight to a device or a pipe, which cannot be replaced.
    temp: Option<std::path::PathBuf>,
    target: String,
}

impl Pending {
    /// Creates the temporary file now, so that an unwritable destination fails early.
    pub fn create(path: &str) -> Result<Pending, Error> {
        let target = Path::new(path);
        let fail = |e: std::io::Error| Error::Output(format!("{path}: {e}"));
        // A device or a pipe (`/dev/null`, a FIFO) is written in place: renaming over it would
        // replace the device.
        if let Ok(meta) = std::fs::symlink_metadata(target) {
            use std::os::unix::fs::FileTypeExt;
            let kind = meta.file_type();
            if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() || kind.is_socket() {
                let file = std::fs::OpenOptions::new().write(true).open(target).map_err(fail)?;
                return Ok(Pending { file, temp: None, target: path.to_string() });
            }
        }
        let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = target.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
        let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&temp).map_err(fail)?;
        Ok(Pending { file, temp: Some(temp), target: path.to_string() })
    }

    /// Flushes the file and renames it over the destination.
    pub fn commit(self) -> Result<(), Error> {
        let fail = |e: std::io::Error| Error::Output(format!("{}: {e}", self.target));
        if let Some(temp) = &self.temp {
            self.file.sync_all().map_err(fail)?;
            std::fs::rename(temp, &self.target).map_err(fail)?;
        }
        let mut done = self;
        done.temp = None;
        Ok(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Some(temp) = &self.temp {
            let _ = std::fs::remove_file(temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::atomic_write;
    use std::os::unix::fs::FileTypeExt;

    #[test]
    fn replaces_whole_files() {
        let dir = std::env::temp_dir().join(format!("runner-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
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
        // A device is written in place, never replaced.
        atomic_write("/dev/null", b"x").unwrap();
        assert!(std::fs::symlink_metadata("/dev/null").unwrap().file_type().is_char_device());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
