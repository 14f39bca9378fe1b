//! [`EnginePlan`]: where the value lives (this machine's shared memory, or a Redis server) and
//! the settings only that engine has: the server's address (the job's, else `RUNNER_REDIS`,
//! else the default), the run's key prefix, the per-command timeout and the retry policy.
//!
//! Owns: those settings and their defaults. Does not own: talking to the server (see
//! `sync::redis`).

use crate::names::{BackendKind, EngineKind};
use crate::spec::EngineSpec;

/// The server when neither the job nor `RUNNER_REDIS` names one.
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";
/// The environment variable that names the server.
pub const REDIS_ENV: &str = "RUNNER_REDIS";
/// A command's time before it counts as timed out, by default.
pub const DEFAULT_COMMAND_TIMEOUT_NS: u64 = 5_000_000_000;
/// The mutex's lock lifetime, by default.
pub const DEFAULT_LEASE_NS: u64 = 10_000_000_000;
/// Operations in one pipeline, at most.
pub const MAX_PIPELINE: i128 = 65536;
/// Resends of a timed-out command, at most.
pub const MAX_RETRIES: i128 = 100;

/// Where the value lives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum EnginePlan {
    /// This machine's shared memory.
    #[default]
    Local,
    Redis(RedisPlan),
}

/// The Redis engine's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisPlan {
    pub url: String,
    /// Where `url` came from: `job`, `RUNNER_REDIS` or `default`.
    pub url_from: &'static str,
    /// The run's key prefix; `None`: one made for each run.
    pub key: Option<String>,
    pub timeout_ns: u64,
    pub retries: u32,
    pub exactly_once: bool,
    pub fencing: bool,
    pub lease_ns: u64,
    /// atomic: operations sent before their replies are read.
    pub pipeline: u32,
}

impl EnginePlan {
    pub fn kind(&self) -> EngineKind {
        match self {
            EnginePlan::Local => EngineKind::Local,
            EnginePlan::Redis(_) => EngineKind::Redis,
        }
    }

    pub fn redis(&self) -> Option<&RedisPlan> {
        match self {
            EnginePlan::Redis(r) => Some(r),
            EnginePlan::Local => None,
        }
    }

    /// The plan of the job's `engine` (`None`: local), with `env` standing for the environment.
    pub(crate) fn of(spec: Option<&EngineSpec>, env: Option<String>) -> EnginePlan {
        let Some(spec) = spec.filter(|s| s.kind == EngineKind::Redis) else { return EnginePlan::Local };
        let (url, url_from) = match (&spec.url, env) {
            (Some(url), _) => (url.value.clone(), "job"),
            (None, Some(env)) if !env.is_empty() => (env, REDIS_ENV),
            _ => (DEFAULT_REDIS_URL.to_string(), "default"),
        };
        EnginePlan::Redis(RedisPlan {
            url,
            url_from,
            key: spec.key.as_ref().map(|k| k.value.clone()),
            timeout_ns: spec.timeout.as_ref().map_or(DEFAULT_COMMAND_TIMEOUT_NS, |t| t.value),
            retries: spec.retries.as_ref().map_or(0, |r| r.value.clamp(0, MAX_RETRIES) as u32),
            exactly_once: spec.exactly_once.as_ref().is_none_or(|e| e.value),
            fencing: spec.fencing.as_ref().is_none_or(|f| f.value),
            lease_ns: spec.lease.as_ref().map_or(DEFAULT_LEASE_NS, |l| l.value),
            pipeline: spec.pipeline.as_ref().map_or(1, |p| p.value.clamp(1, MAX_PIPELINE) as u32),
        })
    }

    /// Why `backend` cannot run on this engine, if it cannot.
    /// Every backend runs on both engines today (the channel over Redis through a stream).
    pub(crate) fn refuses(&self, _backend: BackendKind) -> Option<String> {
        None
    }
}

/// Whether `url` reads as a Redis address.
pub(crate) fn url_problem(url: &str) -> Option<String> {
    let schemes = ["redis://", "rediss://", "unix://", "redis+unix://"];
    if !schemes.iter().any(|s| url.starts_with(s)) {
        return Some(format!("{url:?}: expected redis://HOST:PORT/DB (or rediss://, unix:///path)"));
    }
    None
}
