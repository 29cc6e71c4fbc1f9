//! Events that cross from one user's session to another's (presence, list
//! changes, rings, switchboard traffic, offline-message notices). Domain-typed:
//! the receiving connection turns them into wire lines for its own dialect.
//! A [`Receipt`] rides along with what must be confirmed as written.

use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use tokio::sync::oneshot;

use super::presence::Status;

/// Presence of a user as one particular watcher may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceView {
    /// Visible status (`Offline` when hidden or not allowed).
    pub status: Status,
    /// Account name.
    pub email: String,
    /// Friendly name.
    pub nick: String,
    /// Client capability id.
    pub capabilities: u64,
    /// MSN object as the client sent it.
    pub msn_object: Option<String>,
    /// Personal message payload (only when the watcher can see the user online).
    pub personal_message: Option<Bytes>,
}

/// A watched contact's new personal message (the `UUX` payload as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalMessage {
    /// Whose.
    pub email: String,
    /// The `<Data>...</Data>` payload.
    pub payload: Bytes,
}

/// How many encodings a [`WireCache`] keeps: one per dialect version number
/// the receiving side may use as its key (msnpd's are 2 to 12).
pub const WIRE_CACHE_SLOTS: usize = 16;

/// The wire forms of one [`Broadcast`], built by the first receiver that
/// needs each one and shared by the others. Keys are small numbers the
/// receiving side chooses (its dialect's version); the domain never looks
/// inside the bytes.
#[derive(Debug, Default)]
pub struct WireCache([OnceLock<Bytes>; WIRE_CACHE_SLOTS]);

impl WireCache {
    /// The bytes for `key`, built with `encode` by the first caller; a key
    /// outside the cache is encoded each time.
    pub fn get_or_encode(&self, key: usize, encode: impl FnOnce() -> Bytes) -> Bytes {
        match self.0.get(key) {
            Some(cell) => cell.get_or_init(encode).clone(),
            None => encode(),
        }
    }
}

/// One change that many sessions receive alike (a presence change as one
/// visibility class of watchers sees it, a personal message): built once and
/// shared, so fanning it out to K watchers costs K reference counts, not K
/// copies, and its wire line is encoded once per dialect.
#[derive(Debug)]
pub struct Broadcast<T> {
    /// What changed.
    pub content: T,
    /// Its encoded lines, per dialect.
    pub wire: WireCache,
}

impl<T> Broadcast<T> {
    /// A shared broadcast of `content`, nothing encoded yet.
    pub fn new(content: T) -> Arc<Self> {
        Arc::new(Broadcast {
            content,
            wire: WireCache::default(),
        })
    }
}

impl<T: PartialEq> PartialEq for Broadcast<T> {
    /// Broadcasts are equal when their content is (the cache is derived).
    fn eq(&self, other: &Self) -> bool {
        self.content == other.content
    }
}

impl<T: Eq> Eq for Broadcast<T> {}

/// Confirms to whoever waits on it that something was written to a client's
/// connection. The receiving connection confirms it once the bytes it carried
/// went out; if every copy is dropped unconfirmed (connection closed first,
/// event never queued), the waiter sees its channel close instead.
#[derive(Debug, Clone)]
pub struct Receipt(Arc<Mutex<Option<oneshot::Sender<()>>>>);

impl Receipt {
    /// A receipt and the receiver its confirmation arrives on.
    pub fn new() -> (Receipt, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (Receipt(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    /// Confirms (once; later calls do nothing).
    pub fn confirm(&self) {
        let sender = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(sender) = sender {
            let _ = sender.send(());
        }
    }
}

impl PartialEq for Receipt {
    /// Copies of one receipt are equal.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Receipt {}

/// Why a session is told to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// The same account logged in elsewhere.
    OtherLogin,
    /// The server is shutting down.
    Shutdown,
    /// An operator ended the session (`msnpd kick`, `msnpd user del`).
    Admin,
}

/// An operator's notice to every online user (`msnpd broadcast`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Tells successive notices apart (the alert's `id`).
    pub id: u64,
    /// Free text, shown as an alert where the dialect has them.
    pub text: Option<String>,
    /// Announces maintenance in this many minutes (every dialect).
    pub maintenance_minutes: Option<u32>,
}

/// Something delivered to a user's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A watched contact's presence changed (status may be `Offline`), as
    /// every watcher of one visibility class sees it.
    Presence(Arc<Broadcast<PresenceView>>),
    /// An operator's notice.
    Notice(Arc<Notice>),
    /// A watched contact set a new personal message.
    PersonalMessage(Arc<Broadcast<PersonalMessage>>),
    /// Someone added the user to their forward list: the user's RL gained them.
    AddedToReverseList {
        /// The user's new list version.
        version: u32,
        /// Who added.
        email: String,
        /// Their friendly name.
        nick: String,
    },
    /// Someone removed the user from their forward list.
    RemovedFromReverseList {
        /// The user's new list version.
        version: u32,
        /// Who removed.
        email: String,
    },
    /// An invitation to a switchboard.
    Ring {
        /// Switchboard session id.
        session_id: String,
        /// Switchboard address to connect to.
        sb_addr: String,
        /// Caller.
        caller_email: String,
        /// Caller's friendly name.
        caller_nick: String,
    },
    /// The session must end.
    Kick(KickReason),
    /// Switchboard: someone joined.
    Joined {
        /// Who.
        email: String,
        /// Their friendly name.
        nick: String,
        /// Their capabilities.
        capabilities: u64,
    },
    /// Switchboard: a message from another participant.
    Message {
        /// Sender.
        email: String,
        /// Sender's friendly name.
        nick: String,
        /// The MIME payload as sent.
        payload: Bytes,
        /// Confirmed once the message was written to this participant's
        /// connection (the sender's acknowledgement waits for it).
        receipt: Option<Receipt>,
    },
    /// Switchboard: the outcome of one of this participant's own messages,
    /// known once it was written to the others or stored for them.
    MessageOutcome {
        /// The `MSG` command's transaction id.
        trid: u32,
        /// `true` to answer `ACK`, `false` to answer `NAK`.
        delivered: bool,
    },
    /// Messages were queued for this user while they could not get them live
    /// (offline, hidden, or gone from the switchboard): deliver them now if
    /// they are visible online.
    OfflineQueued,
    /// Switchboard: someone left.
    Left {
        /// Who.
        email: String,
        /// Left because of an idle timeout.
        idle: bool,
    },
}
