//! The machine runner runs on, as reports name it: CPU model, the cores runner may use, kernel.
//! Read once per process. Owns nothing else; `exec` reads it while it waits for the workers,
//! so that no run waits for it before forking.

/// The machine a run ran on.
#[derive(Clone)]
pub struct Host {
    pub cpu: Option<String>,
    pub cores: Option<usize>,
    /// `Linux 6.1.0 x86_64`.
    pub kernel: Option<String>,
}

/// The machine, read once per process (CPUID or /proc/cpuinfo, uname, the CPUs runner may use).
pub fn host() -> Host {
    static HOST: std::sync::OnceLock<Host> = std::sync::OnceLock::new();
    HOST.get_or_init(read_host).clone()
}

/// The CPUs runner may run on (its affinity mask), in order.
pub fn allowed_cpus() -> nix::Result<Vec<usize>> {
    let allowed = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))?;
    // The walk stops at the highest allowed CPU rather than at the mask's 1024th bit: `left`
    // loses each CPU found, and the walk ends when it is empty (one comparison per CPU found).
    let (mut left, empty) = (allowed, nix::sched::CpuSet::new());
    let mut cpus = Vec::new();
    for c in 0..nix::sched::CpuSet::count() {
        if left.is_set(c).unwrap_or(false) {
            cpus.push(c);
            left.unset(c)?;
            if left == empty {
                break;
            }
        }
    }
    Ok(cpus)
}

fn read_host() -> Host {
    let kernel = nix::sys::utsname::uname().ok().map(|u| {
        format!("{} {} {}", u.sysname().to_string_lossy(), u.release().to_string_lossy(), u.machine().to_string_lossy())
    });
    // The CPUs runner may run on (its affinity), one system call.
    let cores = allowed_cpus().ok().map(|cpus| cpus.len());
    Host { cpu: cpu_model(), cores: cores.filter(|&n| n > 0), kernel }
}

/// The CPU's brand string, from the processor itself: reading /proc/cpuinfo costs the kernel a
/// frequency sample of every CPU, a tenth of a millisecond of a tutorial's few.
#[cfg(target_arch = "x86_64")]
fn cpu_model() -> Option<String> {
    use std::arch::x86_64::__cpuid;
    if __cpuid(0x8000_0000).eax < 0x8000_0004 {
        return cpu_model_from_proc();
    }
    let mut bytes = Vec::with_capacity(48);
    for leaf in 0x8000_0002u32..=0x8000_0004 {
        let r = __cpuid(leaf);
        for word in [r.eax, r.ebx, r.ecx, r.edx] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
    }
    let model = String::from_utf8_lossy(&bytes).trim_matches(char::from(0)).trim().to_string();
    if model.is_empty() { cpu_model_from_proc() } else { Some(model) }
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_model() -> Option<String> {
    cpu_model_from_proc()
}

fn cpu_model_from_proc() -> Option<String> {
    std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("model name"))?;
        line.split_once(':').map(|(_, m)| m.trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_allowed_cpus_are_every_bit_of_the_affinity_mask() {
        let mask = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).unwrap();
        let every: Vec<usize> = (0..nix::sched::CpuSet::count()).filter(|&c| mask.is_set(c).unwrap_or(false)).collect();
        assert!(!every.is_empty());
        assert_eq!(super::allowed_cpus().unwrap(), every);
    }
}
