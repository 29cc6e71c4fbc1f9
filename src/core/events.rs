//! Events that cross from one user's session to another's (presence, list
//! changes, rings, switchboard traffic). Domain-typed: the receiving connection
//! turns them into wire lines for its own dialect.

use bytes::Bytes;

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

/// Why a session is told to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KickReason {
    /// The same account logged in elsewhere.
    OtherLogin,
    /// The server is shutting down.
    Shutdown,
}

/// Something delivered to a user's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A watched contact's presence changed (status may be `Offline`).
    Presence(PresenceView),
    /// A watched contact set a new personal message (the `UUX` payload as sent).
    PersonalMessage {
        /// Whose.
        email: String,
        /// The `<Data>...</Data>` payload.
        payload: Bytes,
    },
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
    },
    /// Switchboard: someone left.
    Left {
        /// Who.
        email: String,
        /// Left because of an idle timeout.
        idle: bool,
    },
}
