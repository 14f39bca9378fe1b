//! CPU time and context switches, as the kernel accounts them for a process (its `rusage`):
//! each worker's from `wait4` when runner reaps it (the call that reaps it returns it: no system
//! call of its own), the workers' total over those reaped, and runner's own during the run
//! (`getrusage(RUSAGE_SELF)` when the run begins and once it is collected).
//!
//! What the kernel gives: user and system time in microseconds (their sum is the process's
//! scheduled time; the split between the two is the kernel's, sampled at its clock ticks on
//! most kernels), and the times the process was switched out, voluntarily (it waited: a lock,
//! a full pipe, the start barrier) or not (preempted).

/// One process's CPU time and context switches (or a sum of several processes').
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpu {
    /// Time on a CPU in user mode, in microseconds.
    pub user_us: u64,
    /// Time on a CPU in the kernel on the process's behalf, in microseconds.
    pub system_us: u64,
    /// Times it gave the CPU up to wait.
    pub voluntary_switches: u64,
    /// Times the scheduler took the CPU from it.
    pub involuntary_switches: u64,
}

impl Cpu {
    /// What `rusage` says, negative fields read as 0.
    pub fn of(usage: &libc::rusage) -> Cpu {
        let us = |t: libc::timeval| (t.tv_sec.max(0) as u64) * 1_000_000 + t.tv_usec.max(0) as u64;
        Cpu {
            user_us: us(usage.ru_utime),
            system_us: us(usage.ru_stime),
            voluntary_switches: usage.ru_nvcsw.max(0) as u64,
            involuntary_switches: usage.ru_nivcsw.max(0) as u64,
        }
    }

    /// User plus system time, in seconds.
    pub fn seconds(&self) -> f64 {
        (self.user_us + self.system_us) as f64 / 1e6
    }

    pub fn user_seconds(&self) -> f64 {
        self.user_us as f64 / 1e6
    }

    pub fn system_seconds(&self) -> f64 {
        self.system_us as f64 / 1e6
    }

    /// Both processes' usage together.
    pub fn plus(self, other: Cpu) -> Cpu {
        Cpu {
            user_us: self.user_us + other.user_us,
            system_us: self.system_us + other.system_us,
            voluntary_switches: self.voluntary_switches + other.voluntary_switches,
            involuntary_switches: self.involuntary_switches + other.involuntary_switches,
        }
    }

    /// What was used since `before` (a later reading of the same process), each field at
    /// least 0.
    pub fn since(self, before: Cpu) -> Cpu {
        Cpu {
            user_us: self.user_us.saturating_sub(before.user_us),
            system_us: self.system_us.saturating_sub(before.system_us),
            voluntary_switches: self.voluntary_switches.saturating_sub(before.voluntary_switches),
            involuntary_switches: self.involuntary_switches.saturating_sub(before.involuntary_switches),
        }
    }
}

/// A run's CPU: the workers' (each from its fork to its exit) and runner's own, apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunCpu {
    /// The sum over the workers runner reaped (every worker, unless one could not be reaped);
    /// `None` when none was.
    pub workers: Option<Cpu>,
    /// Workers with a usage (reaped), of the run's workers.
    pub workers_reaped: u32,
    /// runner's own, from the run's start (before its set-up) to its collection (after the last
    /// reap); `None` where `getrusage` failed.
    pub runner: Option<Cpu>,
}
