//! PostgreSQL SQL of messages: the primitives of message writes that
//! `store/messages.rs` drives (through the group-commit writer), and the reads
//! and removals of offline queues and history.

use std::collections::HashMap;

use bytes::Bytes;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow};

use super::{PgStore, PgTx};
use crate::core::model::UserId;
use crate::core::offline::{Conversation, HistoryEntry, HistoryRef, QueuedMessage};
use crate::store::messages::{self, HistoryRow, MessageTx, QueueRow};
use crate::store::writer::{Durability, MessageBackend, MessageWriter};
use crate::store::{StoreError, StoreResult};

impl MessageBackend for PgPool {
    type Tx = PgTx;

    async fn begin(&self, durability: Durability) -> StoreResult<PgTx> {
        let mut tx = self.begin().await?;
        if durability == Durability::Deferred {
            // For this transaction only: COMMIT does not wait for the WAL flush.
            sqlx::query("SET LOCAL synchronous_commit TO OFF")
                .execute(&mut *tx)
                .await?;
        }
        Ok(PgTx(tx))
    }
}

impl MessageTx for PgTx {
    async fn commit(self) -> StoreResult<()> {
        self.0.commit().await?;
        Ok(())
    }

    async fn user_ids(&mut self, emails: &[&str]) -> StoreResult<HashMap<String, UserId>> {
        if emails.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, UserId)> =
            sqlx::query_as("SELECT email, id FROM users WHERE email = ANY($1)")
                .bind(emails)
                .fetch_all(&mut *self.0)
                .await?;
        Ok(rows.into_iter().collect())
    }

    async fn lock_recipients(&mut self, ids: &[UserId]) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        // Serializes queue-cap checks for these recipients across processes;
        // rows are locked in id order, so batches cannot deadlock on them.
        sqlx::query("SELECT id FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(ids)
            .fetch_all(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn queued_counts(&mut self, ids: &[UserId]) -> StoreResult<HashMap<UserId, usize>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(UserId, i64)> = sqlx::query_as(
            "SELECT recipient_id, COUNT(*) FROM offline_messages \
             WHERE recipient_id = ANY($1) GROUP BY recipient_id",
        )
        .bind(ids)
        .fetch_all(&mut *self.0)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (id, usize::try_from(n).unwrap_or(usize::MAX)))
            .collect())
    }

    async fn conversations(
        &mut self,
        wanted: &[(String, Option<(UserId, UserId)>)],
    ) -> StoreResult<HashMap<String, (i64, i64)>> {
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        let keys: Vec<&str> = wanted.iter().map(|(key, _)| key.as_str()).collect();
        let lows: Vec<Option<i64>> = wanted.iter().map(|(_, m)| m.map(|(l, _)| l)).collect();
        let highs: Vec<Option<i64>> = wanted.iter().map(|(_, m)| m.map(|(_, h)| h)).collect();
        // DO UPDATE (a no-op change) locks existing rows, in key order.
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "INSERT INTO conversations (key, member_low, member_high) \
             SELECT * FROM UNNEST($1::TEXT[], $2::BIGINT[], $3::BIGINT[]) \
             ON CONFLICT (key) DO UPDATE SET key = excluded.key \
             RETURNING key, id, last_seq",
        )
        .bind(keys)
        .bind(lows)
        .bind(highs)
        .fetch_all(&mut *self.0)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(key, id, seq)| (key, (id, seq)))
            .collect())
    }

    async fn set_last_seqs(&mut self, seqs: &[(i64, i64)]) -> StoreResult<()> {
        if seqs.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = seqs.iter().map(|(id, _)| *id).collect();
        let values: Vec<i64> = seqs.iter().map(|(_, seq)| *seq).collect();
        sqlx::query(
            "UPDATE conversations AS c SET last_seq = v.seq \
             FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS v (id, seq) WHERE c.id = v.id",
        )
        .bind(ids)
        .bind(values)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn insert_history(&mut self, rows: &[HistoryRow<'_>]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO history \
             (conversation_id, seq, sender_email, sender_nick, sent_at_us, payload) \
             SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[], \
             $5::BIGINT[], $6::BYTEA[])",
        )
        .bind(
            rows.iter()
                .map(|r| r.at.conversation_id)
                .collect::<Vec<_>>(),
        )
        .bind(rows.iter().map(|r| r.at.seq).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.message.sender_email.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.message.sender_nick.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.message.sent_at_us)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.message.payload.to_vec())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn insert_queued(&mut self, rows: &[QueueRow<'_>]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO offline_messages (recipient_id, sender_email, sender_nick, \
             sent_at_us, payload, conversation_id, seq) \
             SELECT * FROM UNNEST($1::BIGINT[], $2::TEXT[], $3::TEXT[], $4::BIGINT[], \
             $5::BYTEA[], $6::BIGINT[], $7::BIGINT[])",
        )
        .bind(rows.iter().map(|r| r.recipient).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|r| r.message.sender_email.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.message.sender_nick.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.message.sent_at_us)
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.message.payload.to_vec())
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.history.map(|h| h.conversation_id))
                .collect::<Vec<_>>(),
        )
        .bind(
            rows.iter()
                .map(|r| r.history.map(|h| h.seq))
                .collect::<Vec<_>>(),
        )
        .execute(&mut *self.0)
        .await?;
        Ok(())
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

    /// How many messages wait in the offline queue, over all recipients.
    pub async fn queued_total(&self) -> StoreResult<u64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM offline_messages")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(count).unwrap_or_default())
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
