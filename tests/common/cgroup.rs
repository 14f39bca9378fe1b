//! A cgroup of a test's own for one controller (`memory`, `pids`), removed when dropped: v2
//! under the root of `/sys/fs/cgroup` (where processes and controllers may coexist; the
//! controller is enabled for its children first), or v1 under this process's own group of
//! `/sys/fs/cgroup/<controller>`. Needs root.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub struct Cgroup {
    pub dir: PathBuf,
    /// Whether it is a v2 group (the limits' file names differ from v1's).
    pub v2: bool,
}

impl Cgroup {
    /// A new group named `runner-<what>-<pid>` for `controller`.
    pub fn new(controller: &str, what: &str) -> Result<Cgroup, String> {
        let name = format!("runner-{what}-{}", std::process::id());
        let root = Path::new("/sys/fs/cgroup");
        let v2 = std::fs::read_to_string(root.join("cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == controller));
        let dir = if v2 {
            let subtree = std::fs::read_to_string(root.join("cgroup.subtree_control")).unwrap_or_default();
            if !subtree.split_whitespace().any(|c| c == controller) {
                write(root.join("cgroup.subtree_control"), &format!("+{controller}"))?;
            }
            root.join(name)
        } else {
            let own = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| format!("/proc/self/cgroup: {e}"))?;
            let path = own
                .lines()
                .find_map(|l| {
                    l.split_once(&format!(":{controller}:")).map(|(_, p)| p.trim_start_matches('/').to_string())
                })
                .ok_or(format!("no {controller} controller in /proc/self/cgroup"))?;
            root.join(controller).join(path).join(name)
        };
        std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Cgroup { dir, v2 })
    }

    /// Writes `value` into the group's `file`.
    pub fn set(&self, file: &str, value: &str) -> Result<(), String> {
        write(self.dir.join(file), value)
    }
}

fn write(path: PathBuf, value: &str) -> Result<(), String> {
    std::fs::write(&path, value).map_err(|e| format!("{}: {e}", path.display()))
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // Its last processes may take a moment to be freed.
        for _ in 0..100 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
