//! PostgreSQL SQL of messages: the primitives of message writes that
//! `store/messages.rs` drives (through the group-commit writer), and the reads
//! and removals of offline queues and history.

use bytes::Bytes;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow};

use super::{PgStore, PgTx};
use crate::core::model::UserId;
use crate::core::offline::{Conversation, HistoryEntry, HistoryRef, NewMessage, QueuedMessage};
use crate::store::messages::{self, MessageTx};
use crate::store::writer::{MessageBackend, MessageWriter};
use crate::store::{StoreError, StoreResult};

impl MessageBackend for PgPool {
    type Tx = PgTx;

    async fn begin(&self) -> StoreResult<PgTx> {
        Ok(PgTx(self.begin().await?))
    }
}

impl MessageTx for PgTx {
    async fn commit(self) -> StoreResult<()> {
        self.0.commit().await?;
        Ok(())
    }

    async fn user_id(&mut self, email: &str) -> StoreResult<Option<UserId>> {
        Ok(sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *self.0)
            .await?)
    }

    async fn lock_recipient(&mut self, id: UserId) -> StoreResult<()> {
        // Serializes queue-cap checks for this recipient across processes.
        sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn queued_count(&mut self, recipient: UserId) -> StoreResult<usize> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM offline_messages WHERE recipient_id = $1")
                .bind(recipient)
                .fetch_one(&mut *self.0)
                .await?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    async fn conversation(
        &mut self,
        key: &str,
        members: Option<(UserId, UserId)>,
    ) -> StoreResult<(i64, i64)> {
        sqlx::query(
            "INSERT INTO conversations (key, member_low, member_high) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(members.map(|(low, _)| low))
        .bind(members.map(|(_, high)| high))
        .execute(&mut *self.0)
        .await?;
        Ok(
            sqlx::query_as("SELECT id, last_seq FROM conversations WHERE key = $1 FOR UPDATE")
                .bind(key)
                .fetch_one(&mut *self.0)
                .await?,
        )
    }

    async fn set_last_seq(&mut self, conversation: i64, seq: i64) -> StoreResult<()> {
        sqlx::query("UPDATE conversations SET last_seq = $2 WHERE id = $1")
            .bind(conversation)
            .bind(seq)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn insert_history(&mut self, at: HistoryRef, message: &NewMessage) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO history \
             (conversation_id, seq, sender_email, sender_nick, sent_at_us, payload) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(at.conversation_id)
        .bind(at.seq)
        .bind(&message.sender_email)
        .bind(&message.sender_nick)
        .bind(message.sent_at_us)
        .bind(&message.payload[..])
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn insert_queued(
        &mut self,
        recipient: UserId,
        message: &NewMessage,
        history: Option<HistoryRef>,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO offline_messages \
             (recipient_id, sender_email, sender_nick, sent_at_us, payload, conversation_id, seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(recipient)
        .bind(&message.sender_email)
        .bind(&message.sender_nick)
        .bind(message.sent_at_us)
        .bind(&message.payload[..])
        .bind(history.map(|h| h.conversation_id))
        .bind(history.map(|h| h.seq))
        .fetch_one(&mut *self.0)
        .await?)
    }
}

impl PgStore {
    /// The message writer (group commit).
    pub(crate) fn writer(&self) -> &MessageWriter {
        &self.writer
    }

    /// The first `limit` messages queued for `recipient`, oldest first.
    pub async fn queued_messages(
        &self,
        recipient: UserId,
        limit: usize,
    ) -> StoreResult<Vec<QueuedMessage>> {
        sqlx::query(
            "SELECT id, sender_email, sender_nick, sent_at_us, payload, conversation_id, seq \
             FROM offline_messages WHERE recipient_id = $1 \
             ORDER BY sent_at_us, id LIMIT $2",
        )
        .bind(recipient)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(queued_from_row)
        .collect()
    }

    /// How many messages are queued for `recipient`.
    pub async fn queued_count(&self, recipient: UserId) -> StoreResult<usize> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM offline_messages WHERE recipient_id = $1")
                .bind(recipient)
                .fetch_one(&self.pool)
                .await?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// Removes queued messages of `recipient` by id; returns how many went.
    pub async fn remove_queued(&self, recipient: UserId, ids: &[i64]) -> StoreResult<usize> {
        let result =
            sqlx::query("DELETE FROM offline_messages WHERE recipient_id = $1 AND id = ANY($2)")
                .bind(recipient)
                .bind(ids)
                .execute(&self.pool)
                .await?;
        Ok(usize::try_from(result.rows_affected()).unwrap_or(0))
    }

    /// Up to `limit` history entries of `conversation` after sequence number
    /// `after_seq`, in order.
    pub async fn history(
        &self,
        conversation: &Conversation,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<HistoryEntry>> {
        let key = match conversation {
            Conversation::Pair { low, high } => {
                let id = |email: &str| {
                    sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE email = $1")
                        .bind(email.to_owned())
                        .fetch_optional(&self.pool)
                };
                match (id(low).await?, id(high).await?) {
                    (Some(a), Some(b)) => messages::pair_key(a, b),
                    _ => return Err(StoreError::UnknownUser),
                }
            }
            Conversation::Room { key } => messages::room_key(key),
        };
        sqlx::query(
            "SELECT h.seq, h.sender_email, h.sender_nick, h.sent_at_us, h.payload \
             FROM history h JOIN conversations c ON c.id = h.conversation_id \
             WHERE c.key = $1 AND h.seq > $2 ORDER BY h.seq LIMIT $3",
        )
        .bind(key)
        .bind(after_seq)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let payload: Vec<u8> = row.try_get("payload")?;
            Ok(HistoryEntry {
                seq: row.try_get("seq")?,
                sender_email: row.try_get("sender_email")?,
                sender_nick: row.try_get("sender_nick")?,
                sent_at_us: row.try_get("sent_at_us")?,
                payload: Bytes::from(payload),
            })
        })
        .collect()
    }
}

/// A [`QueuedMessage`] from an `offline_messages` row.
fn queued_from_row(row: &PgRow) -> StoreResult<QueuedMessage> {
    let payload: Vec<u8> = row.try_get("payload")?;
    let conversation_id: Option<i64> = row.try_get("conversation_id")?;
    let seq: Option<i64> = row.try_get("seq")?;
    Ok(QueuedMessage {
        id: row.try_get("id")?,
        sender_email: row.try_get("sender_email")?,
        sender_nick: row.try_get("sender_nick")?,
        sent_at_us: row.try_get("sent_at_us")?,
        payload: Bytes::from(payload),
        history: conversation_id
            .zip(seq)
            .map(|(conversation_id, seq)| HistoryRef {
                conversation_id,
                seq,
            }),
    })
}
