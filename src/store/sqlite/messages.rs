//! SQLite SQL of messages: the primitives of message writes that
//! `store/messages.rs` drives (through the group-commit writer), and the reads
//! and removals of offline queues and history.

use std::collections::HashMap;

use bytes::Bytes;
use sqlx::sqlite::{Sqlite, SqlitePool, SqliteRow};
use sqlx::{QueryBuilder, Row};

use super::{SqliteStore, SqliteTx};
use crate::core::model::UserId;
use crate::core::offline::{Conversation, HistoryEntry, HistoryRef, QueuedMessage};
use crate::store::messages::{self, HistoryRow, MessageTx, QueueRow, ROWS_PER_STATEMENT};
use crate::store::writer::{Durability, MessageBackend, MessageWriter};
use crate::store::{StoreError, StoreResult};

/// Where the message writer opens its transactions.
#[derive(Debug, Clone)]
pub(crate) enum WriterPool {
    /// A pool of one connection that only the writer uses, so each batch can
    /// set its own `synchronous` level without it reaching other writes.
    Own(SqlitePool),
    /// The store's one connection of an in-memory database (which never
    /// syncs anyway): left at the store's settings.
    Shared(SqlitePool),
}

impl WriterPool {
    /// Closes the writer's own connection (checkpointing the WAL if it is
    /// the last one); a shared pool is closed by the store.
    pub(crate) async fn close(&self) {
        if let WriterPool::Own(pool) = self {
            pool.close().await;
        }
    }
}

impl MessageBackend for WriterPool {
    type Tx = SqliteTx;

    async fn begin(&self, durability: Durability) -> StoreResult<SqliteTx> {
        // `PRAGMA synchronous` cannot change inside a transaction, so it goes
        // first, in the same round trip as `BEGIN`.
        let tx = match (self, durability) {
            (WriterPool::Own(pool), Durability::Synced) => {
                pool.begin_with("PRAGMA synchronous = FULL; BEGIN IMMEDIATE")
                    .await?
            }
            (WriterPool::Own(pool), Durability::Deferred) => {
                pool.begin_with("PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE")
                    .await?
            }
            (WriterPool::Shared(pool), _) => pool.begin_with("BEGIN IMMEDIATE").await?,
        };
        Ok(SqliteTx(tx))
    }
}

impl MessageTx for SqliteTx {
    async fn commit(self) -> StoreResult<()> {
        self.0.commit().await?;
        Ok(())
    }

    async fn user_ids(&mut self, emails: &[&str]) -> StoreResult<HashMap<String, UserId>> {
        let mut ids = HashMap::with_capacity(emails.len());
        for chunk in emails.chunks(ROWS_PER_STATEMENT) {
            let mut query =
                QueryBuilder::<Sqlite>::new("SELECT email, id FROM users WHERE email IN (");
            let mut list = query.separated(", ");
            for email in chunk {
                list.push_bind(*email);
            }
            list.push_unseparated(")");
            let rows: Vec<(String, UserId)> =
                query.build_query_as().fetch_all(&mut *self.0).await?;
            ids.extend(rows);
        }
        Ok(ids)
    }

    async fn lock_recipients(&mut self, _ids: &[UserId]) -> StoreResult<()> {
        // The whole database is already locked by BEGIN IMMEDIATE.
        Ok(())
    }

    async fn queued_counts(&mut self, ids: &[UserId]) -> StoreResult<HashMap<UserId, usize>> {
        let mut counts = HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "SELECT recipient_id, COUNT(*) FROM offline_messages WHERE recipient_id IN (",
            );
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            list.push_unseparated(") GROUP BY recipient_id");
            let rows: Vec<(UserId, i64)> = query.build_query_as().fetch_all(&mut *self.0).await?;
            counts.extend(
                rows.into_iter()
                    .map(|(id, n)| (id, usize::try_from(n).unwrap_or(usize::MAX))),
            );
        }
        Ok(counts)
    }

    async fn conversations(
        &mut self,
        wanted: &[(String, Option<(UserId, UserId)>)],
    ) -> StoreResult<HashMap<String, (i64, i64)>> {
        let mut found = HashMap::with_capacity(wanted.len());
        for chunk in wanted.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO conversations (key, member_low, member_high) ",
            );
            query.push_values(chunk, |mut row, (key, members)| {
                row.push_bind(key.as_str())
                    .push_bind(members.map(|(low, _)| low))
                    .push_bind(members.map(|(_, high)| high));
            });
            query.push(
                " ON CONFLICT (key) DO UPDATE SET key = excluded.key \
                 RETURNING key, id, last_seq",
            );
            let rows: Vec<(String, i64, i64)> =
                query.build_query_as().fetch_all(&mut *self.0).await?;
            found.extend(rows.into_iter().map(|(key, id, seq)| (key, (id, seq))));
        }
        Ok(found)
    }

    async fn set_last_seqs(&mut self, seqs: &[(i64, i64)]) -> StoreResult<()> {
        for chunk in seqs.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new("WITH v (id, seq) AS (");
            query.push_values(chunk, |mut row, (id, seq)| {
                row.push_bind(*id).push_bind(*seq);
            });
            query.push(
                ") UPDATE conversations \
                 SET last_seq = (SELECT seq FROM v WHERE v.id = conversations.id) \
                 WHERE id IN (SELECT id FROM v)",
            );
            query.build().execute(&mut *self.0).await?;
        }
        Ok(())
    }

    async fn insert_history(&mut self, rows: &[HistoryRow<'_>]) -> StoreResult<()> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO history \
                 (conversation_id, seq, sender_email, sender_nick, sent_at_us, payload) ",
            );
            query.push_values(chunk, |mut row, entry| {
                row.push_bind(entry.at.conversation_id)
                    .push_bind(entry.at.seq)
                    .push_bind(entry.message.sender_email.as_str())
                    .push_bind(entry.message.sender_nick.as_str())
                    .push_bind(entry.message.sent_at_us)
                    .push_bind(&entry.message.payload[..]);
            });
            query.build().execute(&mut *self.0).await?;
        }
        Ok(())
    }

    async fn insert_queued(&mut self, rows: &[QueueRow<'_>]) -> StoreResult<()> {
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO offline_messages (recipient_id, sender_email, sender_nick, \
                 sent_at_us, payload, conversation_id, seq) ",
            );
            query.push_values(chunk, |mut row, entry| {
                row.push_bind(entry.recipient)
                    .push_bind(entry.message.sender_email.as_str())
                    .push_bind(entry.message.sender_nick.as_str())
                    .push_bind(entry.message.sent_at_us)
                    .push_bind(&entry.message.payload[..])
                    .push_bind(entry.history.map(|h| h.conversation_id))
                    .push_bind(entry.history.map(|h| h.seq));
            });
            query.build().execute(&mut *self.0).await?;
        }
        Ok(())
    }
}

impl SqliteStore {
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut removed = 0;
        for id in ids {
            let result =
                sqlx::query("DELETE FROM offline_messages WHERE recipient_id = $1 AND id = $2")
                    .bind(recipient)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            removed += usize::try_from(result.rows_affected()).unwrap_or(0);
        }
        tx.commit().await?;
        Ok(removed)
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
fn queued_from_row(row: &SqliteRow) -> StoreResult<QueuedMessage> {
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
