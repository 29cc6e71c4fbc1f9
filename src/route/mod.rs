//! The router: the one way an event reaches another user. This is the in-process
//! implementation over the [`Registry`]; a clustered one (NATS) can replace it
//! without touching handlers, which never assume the target is in this process.

use std::sync::Arc;

use crate::core::events::{Event, PresenceView};
use crate::core::registry::{Registry, SessionHandle};

/// Routes events to users and answers "what does X see of Y".
#[derive(Debug, Clone, Default)]
pub struct Router {
    registry: Arc<Registry>,
}

impl Router {
    /// A router over an empty in-process registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The underlying registry (session bookkeeping for this node).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Delivers `event` to `email` if online. Returns whether it was queued.
    pub fn deliver(&self, email: &str, event: Event) -> bool {
        match self.registry.get(email) {
            Some(handle) => handle.deliver(event),
            None => false,
        }
    }

    /// What `watcher` sees of `owner`: `None` if the owner is not online at all.
    pub fn presence_for(&self, owner: &str, watcher: &str) -> Option<PresenceView> {
        let handle = self.registry.get(owner)?;
        Some(handle.with_shared(|s| s.view_for(owner, watcher)))
    }

    /// Whether `owner` is online, visible (not hidden) and lets `other` contact them.
    pub fn reachable_by(&self, owner: &str, other: &str) -> Reachability {
        match self.registry.get(owner) {
            None => Reachability::Offline,
            Some(handle) => handle.with_shared(|s| {
                if !s.status.is_visible_online() {
                    Reachability::Offline
                } else if !s.allows(other) {
                    Reachability::Refused
                } else {
                    Reachability::Reachable
                }
            }),
        }
    }

    /// Registers a session; returns the session it replaced (to be kicked).
    pub fn register(&self, email: &str, handle: SessionHandle) -> Option<SessionHandle> {
        self.registry.register(email, handle)
    }

    /// Removes a session if it is still the current one for `email`.
    pub fn unregister(&self, email: &str, id: u64) -> bool {
        self.registry.unregister(email, id)
    }

    /// The session of `email` on this node.
    pub fn session(&self, email: &str) -> Option<SessionHandle> {
        self.registry.get(email)
    }
}

/// Whether a user can be invited by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reachability {
    /// Online, visible and allowing.
    Reachable,
    /// Offline or hidden.
    Offline,
    /// Online but blocking the caller.
    Refused,
}
