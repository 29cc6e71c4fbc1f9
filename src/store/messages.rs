//! The rules of message writes, written once over [`MessageTx`]: the primitive,
//! per-backend operations inside one write transaction. A batch of messages
//! (gathered by the group-commit writer, `writer.rs`) is applied in order in one
//! transaction: each message's checks come before its writes, so a refused
//! message (queue full, unknown recipient) writes nothing and does not disturb
//! the others; a backend error aborts the whole transaction.
//!
//! Locking: the recipients of a batch are locked first, in ascending id order
//! (PostgreSQL `FOR UPDATE`; SQLite is already serial under `BEGIN IMMEDIATE`),
//! so queue caps hold across processes; conversations are locked as first used.

use std::collections::{BTreeSet, HashMap};

use super::{StoreError, StoreResult};
use crate::core::model::UserId;
use crate::core::offline::{Appended, Conversation, HistoryRef, HistoryWrite, NewMessage};

/// The primitive operations of one message-write transaction. Dropping the value
/// without [`MessageTx::commit`] rolls the transaction back.
pub(crate) trait MessageTx: Sized {
    /// Commits the transaction.
    async fn commit(self) -> StoreResult<()>;
    /// The id of the account with this email.
    async fn user_id(&mut self, email: &str) -> StoreResult<Option<UserId>>;
    /// Locks the account's row until commit (no-op where writes are serial).
    async fn lock_recipient(&mut self, id: UserId) -> StoreResult<()>;
    /// How many messages are queued for `recipient`.
    async fn queued_count(&mut self, recipient: UserId) -> StoreResult<usize>;
    /// The conversation's id and last sequence number, created (with `members`
    /// for pair conversations) if it does not exist, and locked until commit.
    async fn conversation(
        &mut self,
        key: &str,
        members: Option<(UserId, UserId)>,
    ) -> StoreResult<(i64, i64)>;
    /// Stores the conversation's last sequence number.
    async fn set_last_seq(&mut self, conversation: i64, seq: i64) -> StoreResult<()>;
    /// Inserts a history entry.
    async fn insert_history(&mut self, at: HistoryRef, message: &NewMessage) -> StoreResult<()>;
    /// Queues the message for `recipient`; returns the queue entry's id.
    async fn insert_queued(
        &mut self,
        recipient: UserId,
        message: &NewMessage,
        history: Option<HistoryRef>,
    ) -> StoreResult<i64>;
}

/// The store key of the one-to-one conversation of two accounts.
pub(crate) fn pair_key(a: UserId, b: UserId) -> String {
    format!("pair:{}:{}", a.min(b), a.max(b))
}

/// The store key of a multi-party room's conversation.
pub(crate) fn room_key(key: &str) -> String {
    format!("room:{key}")
}

/// A conversation touched by the batch: id, last sequence number, changed?
struct ConversationState {
    id: i64,
    last_seq: i64,
    changed: bool,
}

/// Applies `messages` in order in `tx` and commits. The outer error is a backend
/// failure (nothing was committed); the inner results are per message.
pub(crate) async fn apply_batch<T: MessageTx>(
    mut tx: T,
    messages: &[&NewMessage],
) -> StoreResult<Vec<StoreResult<Appended>>> {
    // Resolve every account named, then lock the recipients in ascending order.
    let mut ids: HashMap<&str, Option<UserId>> = HashMap::new();
    for message in messages {
        let pair = match &message.history {
            HistoryWrite::New(Conversation::Pair { low, high }) => vec![low, high],
            _ => Vec::new(),
        };
        for email in message.queue_for.iter().chain(pair) {
            if !ids.contains_key(email.as_str()) {
                let id = tx.user_id(email).await?;
                ids.insert(email.as_str(), id);
            }
        }
    }
    let recipients: BTreeSet<UserId> = messages
        .iter()
        .flat_map(|m| m.queue_for.iter())
        .filter_map(|email| ids.get(email.as_str()).copied().flatten())
        .collect();
    let mut queued: HashMap<UserId, usize> = HashMap::new();
    for &recipient in &recipients {
        tx.lock_recipient(recipient).await?;
        queued.insert(recipient, tx.queued_count(recipient).await?);
    }

    let mut conversations: HashMap<String, ConversationState> = HashMap::new();
    let mut results = Vec::with_capacity(messages.len());
    for message in messages {
        // Checks first: a refused message writes nothing.
        let targets = match targets(message, &ids, &queued) {
            Ok(targets) => targets,
            Err(refusal) => {
                results.push(Err(refusal));
                continue;
            }
        };
        let history = match &message.history {
            HistoryWrite::None => None,
            HistoryWrite::Existing(at) => Some(*at),
            HistoryWrite::New(conversation) => {
                let (key, members) = match conversation {
                    Conversation::Pair { low, high } => {
                        let (Some(Some(a)), Some(Some(b))) =
                            (ids.get(low.as_str()), ids.get(high.as_str()))
                        else {
                            results.push(Err(StoreError::UnknownUser));
                            continue;
                        };
                        (pair_key(*a, *b), Some((*a.min(b), *a.max(b))))
                    }
                    Conversation::Room { key } => (room_key(key), None),
                };
                let state = match conversations.entry(key) {
                    std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                    std::collections::hash_map::Entry::Vacant(entry) => {
                        let (id, last_seq) = tx.conversation(entry.key(), members).await?;
                        entry.insert(ConversationState {
                            id,
                            last_seq,
                            changed: false,
                        })
                    }
                };
                state.last_seq += 1;
                state.changed = true;
                let at = HistoryRef {
                    conversation_id: state.id,
                    seq: state.last_seq,
                };
                tx.insert_history(at, message).await?;
                Some(at)
            }
        };
        let mut appended = Appended {
            history,
            queued: Vec::with_capacity(targets.len()),
        };
        for (email, recipient) in targets {
            let id = tx.insert_queued(recipient, message, history).await?;
            *queued.entry(recipient).or_default() += 1;
            appended.queued.push((email.to_owned(), id));
        }
        results.push(Ok(appended));
    }
    for state in conversations.values().filter(|s| s.changed) {
        tx.set_last_seq(state.id, state.last_seq).await?;
    }
    tx.commit().await?;
    Ok(results)
}

/// The recipients to queue `message` for (each once), or why it is refused:
/// `UnknownUser` for a recipient without an account, `QueueFull` for one whose
/// queue is at the cap.
fn targets<'m>(
    message: &'m NewMessage,
    ids: &HashMap<&str, Option<UserId>>,
    queued: &HashMap<UserId, usize>,
) -> StoreResult<Vec<(&'m str, UserId)>> {
    let mut targets: Vec<(&str, UserId)> = Vec::with_capacity(message.queue_for.len());
    for email in &message.queue_for {
        let Some(Some(id)) = ids.get(email.as_str()).copied() else {
            return Err(StoreError::UnknownUser);
        };
        if targets.iter().any(|(_, t)| *t == id) {
            continue;
        }
        if queued.get(&id).copied().unwrap_or(0) >= message.queue_cap {
            return Err(StoreError::QueueFull {
                recipient: email.clone(),
            });
        }
        targets.push((email.as_str(), id));
    }
    Ok(targets)
}
