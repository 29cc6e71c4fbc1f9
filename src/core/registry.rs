//! Who is online: account name → the one notification session of that account,
//! with a bounded sender to its outbox and the presence state others read.
//! Locks here are `std::sync` locks held only for map operations, never across `.await`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;

use super::event_queue::{EventSender, TrySendError};
use super::events::{Event, PresenceView};
use super::lists::{List, ListSet, Privacy, allows};
use super::presence::{Status, seen_status};

/// The part of a user's session state that other sessions read: presence and
/// what the user lets others see.
#[derive(Debug, Clone)]
pub struct SharedState {
    /// Current status (`Offline` until the first `CHG`).
    pub status: Status,
    /// Friendly name.
    pub nick: String,
    /// Client capability id from `CHG`.
    pub capabilities: u64,
    /// MSN object from `CHG`.
    pub msn_object: Option<String>,
    /// Personal message and current media (the `UUX` payload), if set.
    pub personal_message: Option<Bytes>,
    /// `BLP` setting.
    pub privacy: Privacy,
    /// The owner's lists: contact email → list bits. Shared, so that a
    /// snapshot of the state (taken before every change, to tell watchers
    /// what changed) does not copy the lists; a list change replaces the map.
    pub lists: Arc<HashMap<String, ListSet>>,
}

impl SharedState {
    /// What `watcher` sees of this user (`email` is this user's account name).
    pub fn view_for(&self, email: &str, watcher: &str) -> PresenceView {
        self.view_as(email, self.seen_by(watcher))
    }

    /// The status `watcher` sees (`Offline` when hidden or not allowed).
    pub fn seen_by(&self, watcher: &str) -> Status {
        let lists = self.lists.get(watcher).copied().unwrap_or_default();
        seen_status(self.status, self.privacy, lists)
    }

    /// Whether `watcher` has this user on their forward list (is on this user's RL).
    pub fn is_watched_by(&self, watcher: &str) -> bool {
        self.lists
            .get(watcher)
            .is_some_and(|set| set.contains(List::Reverse))
    }

    /// This user as a watcher who sees `status` sees them (the personal
    /// message only while visible online).
    pub fn view_as(&self, email: &str, status: Status) -> PresenceView {
        PresenceView {
            status,
            email: email.to_owned(),
            nick: self.nick.clone(),
            capabilities: self.capabilities,
            msn_object: self.msn_object.clone(),
            personal_message: self
                .personal_message
                .clone()
                .filter(|_| status.is_visible_online()),
        }
    }

    /// Whether this user lets `other` contact them (not blocked; allowed under `BLP BL`).
    pub fn allows(&self, other: &str) -> bool {
        allows(
            self.privacy,
            self.lists.get(other).copied().unwrap_or_default(),
        )
    }

    /// The accounts that have this user on their forward list (this user's RL).
    pub fn watchers(&self) -> impl Iterator<Item = &str> {
        self.lists
            .iter()
            .filter(|(_, set)| set.contains(List::Reverse))
            .map(|(email, _)| email.as_str())
    }
}

/// A handle to one online session.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    /// Unique id of the session within this process.
    pub id: u64,
    /// Bounded sender into the session's outbox; [`EventSender::close`]
    /// makes the session close (slow consumer, kick).
    pub tx: EventSender,
    /// Presence and visibility, read by other sessions.
    pub shared: Arc<Mutex<SharedState>>,
}

impl SessionHandle {
    /// Queues an event; a full outbox means the reader is too slow, and the
    /// session is closed rather than allowed to grow memory. Returns whether queued.
    pub fn deliver(&self, event: Event) -> bool {
        match self.tx.try_send(event) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                crate::obs::metrics().limit_rejection(crate::obs::Limit::Outbox);
                tracing::warn!(session = self.id, "outbox full: closing slow session");
                self.tx.close();
                false
            }
            Err(TrySendError::Closed(_)) => false,
        }
    }

    /// Runs `f` on the shared state (a short, non-async critical section).
    pub fn with_shared<R>(&self, f: impl FnOnce(&SharedState) -> R) -> R {
        let guard = self
            .shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&guard)
    }

    /// Changes the shared state.
    pub fn update_shared<R>(&self, f: impl FnOnce(&mut SharedState) -> R) -> R {
        let mut guard = self
            .shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

/// The online users of this process.
#[derive(Debug, Default)]
pub struct Registry {
    sessions: RwLock<HashMap<String, SessionHandle>>,
    next_id: AtomicU64,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh session id.
    pub fn next_session_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Makes `handle` the session of `email`; returns the one it replaces.
    pub fn register(&self, email: &str, handle: SessionHandle) -> Option<SessionHandle> {
        let mut map = self.sessions.write().unwrap_or_else(|p| p.into_inner());
        map.insert(email.to_owned(), handle)
    }

    /// Removes the session of `email` if it is still session `id`.
    pub fn unregister(&self, email: &str, id: u64) -> bool {
        let mut map = self.sessions.write().unwrap_or_else(|p| p.into_inner());
        if map.get(email).is_some_and(|h| h.id == id) {
            map.remove(email);
            true
        } else {
            false
        }
    }

    /// The session of `email`, if online.
    pub fn get(&self, email: &str) -> Option<SessionHandle> {
        let map = self.sessions.read().unwrap_or_else(|p| p.into_inner());
        map.get(email).cloned()
    }

    /// Every online session (for shutdown and broadcasts).
    pub fn all(&self) -> Vec<SessionHandle> {
        let map = self.sessions.read().unwrap_or_else(|p| p.into_inner());
        map.values().cloned().collect()
    }

    /// Number of online sessions.
    pub fn len(&self) -> usize {
        self.sessions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Whether nobody is online.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
