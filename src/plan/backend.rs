//! [`BackendPlan`]: the backend a job runs on, with the settings only that backend has (a
//! channel's batch and transport), so that a backend is handed its own plan, never the whole
//! [`Plan`](super::Plan).

use crate::names::{BackendKind, Transport};

/// The backend a job runs on, with the settings that only that backend has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendPlan {
    Mutex,
    Atomic,
    None,
    Channel {
        /// Operations per message.
        batch: u32,
        /// How the messages travel.
        transport: Transport,
    },
}

impl BackendPlan {
    pub(crate) fn kind(self) -> BackendKind {
        match self {
            BackendPlan::Mutex => BackendKind::Mutex,
            BackendPlan::Atomic => BackendKind::Atomic,
            BackendPlan::None => BackendKind::None,
            BackendPlan::Channel { .. } => BackendKind::Channel,
        }
    }

    pub fn name(self) -> &'static str {
        self.kind().name()
    }

    /// Operations a worker hands over at once: a channel message's, else one.
    pub fn batch(self) -> u32 {
        match self {
            BackendPlan::Channel { batch, .. } => batch,
            _ => 1,
        }
    }

    /// The channel's transport, `None` for the other backends.
    pub fn transport(self) -> Option<Transport> {
        match self {
            BackendPlan::Channel { transport, .. } => Some(transport),
            _ => None,
        }
    }

    /// What the backend sets up, for `runner plan`.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            BackendPlan::Channel { transport, .. } => transport.describe(),
            other => other.kind().describe(),
        }
    }
}
