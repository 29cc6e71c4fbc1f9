//! Offline messages and conversation history as the domain sees them: which
//! conversation a switchboard message belongs to, what is written for one
//! message (a history entry and a queue entry per absent recipient, in one
//! transaction), what a recipient later gets, and the server's message clock.
//! The design is described in `protocol-spec/offline-messages.md`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

/// Which conversation a message belongs to (for its history sequence number).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Conversation {
    /// Two accounts talking one to one, whatever switchboard they use: one
    /// history per pair of accounts. Build it with [`Conversation::pair`].
    Pair {
        /// The smaller account name (byte order).
        low: String,
        /// The larger account name.
        high: String,
    },
    /// A switchboard that has had more than two people in it: its own history.
    Room {
        /// The room's random key (never reused, unlike the numeric session id).
        key: String,
    },
}

impl Conversation {
    /// The one-to-one conversation of `a` and `b` (in either order).
    pub fn pair(a: &str, b: &str) -> Conversation {
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        Conversation::Pair {
            low: low.to_owned(),
            high: high.to_owned(),
        }
    }
}

/// A history entry's place: its conversation (store id) and sequence number
/// (1, 2, ... per conversation, without gaps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryRef {
    /// The conversation's store id.
    pub conversation_id: i64,
    /// The entry's sequence number within the conversation.
    pub seq: i64,
}

/// What a message write does with history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryWrite {
    /// No history entry (history is switched off).
    None,
    /// A new entry, with the next sequence number of this conversation.
    New(Conversation),
    /// The message already has this entry (queueing it late for someone the
    /// live delivery failed for); queue entries refer to it.
    Existing(HistoryRef),
}

/// One message to write: its history entry and the queue entries of the
/// recipients it must wait for, all committed in one transaction or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// History entry to write or refer to.
    pub history: HistoryWrite,
    /// The sender's account name.
    pub sender_email: String,
    /// The sender's friendly name at the time of sending.
    pub sender_nick: String,
    /// When the server accepted the message ([`MessageClock`] microseconds).
    pub sent_at_us: i64,
    /// The `MSG` payload as the sender sent it.
    pub payload: Bytes,
    /// Accounts to queue the message for (duplicates are ignored).
    pub queue_for: Vec<String>,
    /// Most messages one recipient may have queued; a recipient at the cap
    /// makes the whole write fail with `QueueFull` (nothing is written).
    pub queue_cap: usize,
}

/// What a committed message write produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The history entry written or referred to.
    pub history: Option<HistoryRef>,
    /// Every recipient the message was queued for.
    pub queued: Vec<String>,
}

/// A message waiting in a recipient's offline queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// Its id: stable from enqueue to removal, never reused.
    pub id: i64,
    /// The sender's account name.
    pub sender_email: String,
    /// The sender's friendly name when it was sent.
    pub sender_nick: String,
    /// When the server accepted it.
    pub sent_at_us: i64,
    /// The `MSG` payload as sent.
    pub payload: Bytes,
    /// Its history entry, if history was on.
    pub history: Option<HistoryRef>,
}

/// One entry of a conversation's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Sequence number within the conversation.
    pub seq: i64,
    /// The sender's account name.
    pub sender_email: String,
    /// The sender's friendly name when it was sent.
    pub sender_nick: String,
    /// When the server accepted it.
    pub sent_at_us: i64,
    /// The `MSG` payload as sent.
    pub payload: Bytes,
}

/// The server's message clock: unix time in microseconds, strictly increasing
/// within the process (so queued messages sort in the order they were sent even
/// if the wall clock steps back).
#[derive(Debug, Default)]
pub struct MessageClock {
    last: AtomicI64,
}

impl MessageClock {
    /// A clock starting at the current time.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next timestamp: the wall clock, or one more than the last one given.
    pub fn now_us(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        let mut last = self.last.load(Ordering::Relaxed);
        loop {
            let next = wall.max(last.saturating_add(1));
            match self
                .last
                .compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return next,
                Err(current) => last = current,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_do_not_depend_on_order() {
        assert_eq!(
            Conversation::pair("b@x.com", "a@x.com"),
            Conversation::pair("a@x.com", "b@x.com")
        );
        assert_eq!(
            Conversation::pair("b@x.com", "a@x.com"),
            Conversation::Pair {
                low: "a@x.com".into(),
                high: "b@x.com".into()
            }
        );
    }

    #[test]
    fn the_clock_never_repeats_or_goes_back() {
        let clock = MessageClock::new();
        let mut last = 0;
        for _ in 0..10_000 {
            let now = clock.now_us();
            assert!(now > last);
            last = now;
        }
    }
}
