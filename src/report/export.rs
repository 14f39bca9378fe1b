//! Files a sweep leaves behind (`--export-json`, `--export-csv`, `--export-markdown`, `--plot`):
//! each rewritten after every cell, atomically (a temporary file in the same folder, then a
//! rename), so that an interrupted sweep keeps what it finished and a reader never sees half a
//! file.

use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Replaces `path` with `contents` in one step.
pub fn atomic_write(path: &str, contents: &[u8]) -> Result<(), Error> {
    let target = Path::new(path);
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let fail = |e: std::io::Error| Error::Output(format!("{path}: {e}"));
    let written = std::fs::File::create(&temp).and_then(|mut f| {
        f.write_all(contents)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, target)) {
        let _ = std::fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::atomic_write;

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
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
