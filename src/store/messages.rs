//! The rules of message writes, written once over [`MessageTx`]: the primitive,
//! per-backend operations inside one write transaction. A batch of messages
//! (gathered by the group-commit writer, `writer.rs`) is applied in order in one
//! transaction: each message's checks come before its writes, so a refused
//! message (queue full, unknown recipient) writes nothing and does not disturb
//! the others; a backend error aborts the whole transaction.
//!
//! A batch costs a constant number of statements, however many messages it
//! holds: accounts, recipient locks and queue lengths, conversations, history
//! rows, queue rows and sequence numbers are each read or written for the whole
//! batch at once.
//!
//! Locking: the recipients of a batch are locked first, in ascending id order
//! (PostgreSQL `FOR UPDATE`; SQLite is already serial under `BEGIN IMMEDIATE`),
//! so queue caps hold across processes; then its conversations, in key order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{StoreError, StoreResult};
use crate::core::model::UserId;
use crate::core::offline::{Appended, Conversation, HistoryRef, HistoryWrite, NewMessage};
use crate::failpoints::failpoint;

/// Most rows (or list items) in one statement: keeps every statement far below
/// SQLite's and PostgreSQL's limits on bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 400;

/// A history entry to insert.
pub(crate) struct HistoryRow<'m> {
    /// Where it goes.
    pub at: HistoryRef,
    /// The message.
    pub message: &'m NewMessage,
}

/// An offline-queue entry to insert.
pub(crate) struct QueueRow<'m> {
    /// Whose queue.
    pub recipient: UserId,
    /// The message.
    pub message: &'m NewMessage,
    /// Its history entry, if any.
    pub history: Option<HistoryRef>,
}

/// The primitive operations of one message-write transaction, each a constant
/// number of statements however many rows it handles (backends split long
/// lists into statements of [`ROWS_PER_STATEMENT`]). Empty inputs do nothing.
/// Dropping the value without [`MessageTx::commit`] rolls the transaction back.
pub(crate) trait MessageTx: Sized {
    /// Commits the transaction.
    async fn commit(self) -> StoreResult<()>;
    /// The ids of the accounts with these emails (absent ones are missing).
    async fn user_ids(&mut self, emails: &[&str]) -> StoreResult<HashMap<String, UserId>>;
    /// Locks these accounts' rows (ascending ids) until commit; a no-op where
    /// write transactions are serial anyway.
    async fn lock_recipients(&mut self, ids: &[UserId]) -> StoreResult<()>;
    /// How many messages are queued for each of these accounts (missing: none).
    async fn queued_counts(&mut self, ids: &[UserId]) -> StoreResult<HashMap<UserId, usize>>;
    /// Each conversation's id and last sequence number by key, created (with
    /// its members for pair conversations) if new, and locked until commit.
    /// Keys are distinct and ascending.
    async fn conversations(
        &mut self,
        wanted: &[(String, Option<(UserId, UserId)>)],
    ) -> StoreResult<HashMap<String, (i64, i64)>>;
    /// Stores conversations' last sequence numbers: `(conversation id, seq)`.
    async fn set_last_seqs(&mut self, seqs: &[(i64, i64)]) -> StoreResult<()>;
    /// Inserts history entries.
    async fn insert_history(&mut self, rows: &[HistoryRow<'_>]) -> StoreResult<()>;
    /// Inserts offline-queue entries.
    async fn insert_queued(&mut self, rows: &[QueueRow<'_>]) -> StoreResult<()>;
}

/// The store key of the one-to-one conversation of two accounts.
pub(crate) fn pair_key(a: UserId, b: UserId) -> String {
    format!("pair:{}:{}", a.min(b), a.max(b))
}

/// The store key of a multi-party room's conversation.
pub(crate) fn room_key(key: &str) -> String {
    format!("room:{key}")
}

/// The store key and pair members of a conversation, once its accounts are
/// known (`None` if a pair member has no account).
fn conversation_key(
    conversation: &Conversation,
    ids: &HashMap<String, UserId>,
) -> Option<(String, Option<(UserId, UserId)>)> {
    match conversation {
        Conversation::Pair { low, high } => {
            let (a, b) = (*ids.get(low)?, *ids.get(high)?);
            Some((pair_key(a, b), Some((a.min(b), a.max(b)))))
        }
        Conversation::Room { key } => Some((room_key(key), None)),
    }
}

/// Why a whole batch failed.
#[derive(Debug)]
pub(crate) struct BatchFailure {
    /// The backend's error.
    pub error: StoreError,
    /// Whether `COMMIT` itself failed: the batch may then have been stored
    /// (a connection lost during `COMMIT`), so it must not be written again.
    /// Otherwise nothing was stored.
    pub at_commit: bool,
}

impl From<StoreError> for BatchFailure {
    fn from(error: StoreError) -> Self {
        BatchFailure {
            error,
            at_commit: false,
        }
    }
}

/// Applies `messages` in order in `tx` and commits. The outer error is a backend
/// failure (see [`BatchFailure`]); the inner results are per message.
pub(crate) async fn apply_batch<T: MessageTx>(
    mut tx: T,
    messages: &[&NewMessage],
) -> Result<Vec<StoreResult<Appended>>, BatchFailure> {
    // Every account named, then the recipients locked in ascending order and
    // their queue lengths, then every conversation: a few statements per batch.
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for message in messages {
        names.extend(message.queue_for.iter().map(String::as_str));
        if let HistoryWrite::New(Conversation::Pair { low, high }) = &message.history {
            names.extend([low.as_str(), high.as_str()]);
        }
    }
    let names: Vec<&str> = names.into_iter().collect();
    let ids = tx.user_ids(&names).await?;
    let recipients: BTreeSet<UserId> = messages
        .iter()
        .flat_map(|m| m.queue_for.iter())
        .filter_map(|email| ids.get(email).copied())
        .collect();
    let recipients: Vec<UserId> = recipients.into_iter().collect();
    tx.lock_recipients(&recipients).await?;
    let mut queued = tx.queued_counts(&recipients).await?;
    let wanted: BTreeMap<String, Option<(UserId, UserId)>> = messages
        .iter()
        .filter_map(|m| match &m.history {
            HistoryWrite::New(conversation) => conversation_key(conversation, &ids),
            _ => None,
        })
        .collect();
    let wanted: Vec<(String, Option<(UserId, UserId)>)> = wanted.into_iter().collect();
    let mut conversations: HashMap<String, ConversationState> = tx
        .conversations(&wanted)
        .await?
        .into_iter()
        .map(|(key, (id, last_seq))| {
            (
                key,
                ConversationState {
                    id,
                    last_seq,
                    changed: false,
                },
            )
        })
        .collect();

    let mut history_rows = Vec::new();
    let mut queue_rows = Vec::new();
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
                let state = conversation_key(conversation, &ids)
                    .and_then(|(key, _)| conversations.get_mut(&key));
                let Some(state) = state else {
                    results.push(Err(StoreError::UnknownUser));
                    continue;
                };
                state.last_seq += 1;
                state.changed = true;
                let at = HistoryRef {
                    conversation_id: state.id,
                    seq: state.last_seq,
                };
                history_rows.push(HistoryRow { at, message });
                Some(at)
            }
        };
        let mut appended = Appended {
            history,
            queued: Vec::with_capacity(targets.len()),
        };
        for (email, recipient) in targets {
            *queued.entry(recipient).or_default() += 1;
            queue_rows.push(QueueRow {
                recipient,
                message,
                history,
            });
            appended.queued.push(email.to_owned());
        }
        results.push(Ok(appended));
    }
    tx.insert_history(&history_rows).await?;
    tx.insert_queued(&queue_rows).await?;
    let seqs: Vec<(i64, i64)> = conversations
        .values()
        .filter(|s| s.changed)
        .map(|s| (s.id, s.last_seq))
        .collect();
    tx.set_last_seqs(&seqs).await?;
    failpoint!(
        "store_before_commit",
        Err(StoreError::Unavailable("failpoint store_before_commit".into()).into())
    );
    tx.commit().await.map_err(|error| BatchFailure {
        error,
        at_commit: true,
    })?;
    // A `return` here stands for a COMMIT whose outcome the server never
    // learnt (it did commit).
    failpoint!(
        "store_after_commit",
        Err(BatchFailure {
            error: StoreError::Unavailable("failpoint store_after_commit".into()),
            at_commit: true,
        })
    );
    Ok(results)
}

/// A conversation touched by the batch: id, last sequence number, changed?
struct ConversationState {
    id: i64,
    last_seq: i64,
    changed: bool,
}

/// The recipients to queue `message` for (each once), or why it is refused:
/// `UnknownUser` for a recipient without an account, `QueueFull` for one whose
/// queue is at the cap.
fn targets<'m>(
    message: &'m NewMessage,
    ids: &HashMap<String, UserId>,
    queued: &HashMap<UserId, usize>,
) -> StoreResult<Vec<(&'m str, UserId)>> {
    let mut targets: Vec<(&str, UserId)> = Vec::with_capacity(message.queue_for.len());
    for email in &message.queue_for {
        let Some(&id) = ids.get(email) else {
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
