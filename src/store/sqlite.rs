//! The SQLite backend: connection setup (WAL, synchronous=FULL, foreign keys,
//! busy timeout), its migrations, the read queries, and the SQL of the edit
//! primitives that `rules.rs` drives. Write transactions are `BEGIN IMMEDIATE`, so
//! edits are serial and never fail to upgrade a read lock. Message writes and
//! reads (offline queue, history) live in `sqlite/messages.rs`; the message
//! writer has a connection of its own there, whose `synchronous` level it sets
//! per batch (FULL for offline messages, NORMAL for live history).

mod messages;

use messages::WriterPool;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    Sqlite, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection as _, Row, Transaction};

use super::rules::{self, ContactRow, EditTx};
use super::writer::{self, GroupCommit, MessageWriter};
use super::*;
use crate::core::lists::ListSet;
use crate::core::model::UserId;

/// The SQLite migrations (same version list as the PostgreSQL ones).
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("src/store/migrations/sqlite");

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a caller waits for a free pooled connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

// A connection waiting in the pool must not be in a transaction. One can be,
// wrongly: when `COMMIT` fails with SQLITE_FULL (disk full) or an I/O error,
// SQLite has already rolled the transaction back, so sqlx's `ROLLBACK` fails
// too and sqlx keeps counting the connection as inside a transaction; every
// later `BEGIN` on it failed ("non-zero transaction depth") even after space
// came back. `before_acquire` (below) drops such a connection instead of
// handing it out; the pool opens a fresh one.

/// A store on one SQLite database file (or an in-memory database for tests).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    writer: MessageWriter,
    /// The connection the writer commits on.
    writer_pool: WriterPool,
}

/// Whether `url` names an in-memory database (`sqlite::memory:`, `mode=memory`).
fn is_memory_url(url: &str) -> bool {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
    database == ":memory:" || params.split('&').any(|param| param == "mode=memory")
}

impl SqliteStore {
    /// Opens `url` (`sqlite://PATH` or `sqlite::memory:`) with at most
    /// `max_connections` connections, creating the file and its directory, and
    /// starts its message writer (`group_commit`).
    /// An in-memory database uses exactly one connection, kept open for the
    /// store's life, so every query sees the same data.
    pub async fn connect(
        url: &str,
        max_connections: u32,
        cache_kib: u32,
        group_commit: GroupCommit,
    ) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|err| StoreError::BadUrl(format!("{url}: {err}")))?
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full)
            // Negative: a size in KiB, per pooled connection.
            .pragma("cache_size", format!("-{}", cache_kib.max(1)));
        let pool_options = || {
            SqlitePoolOptions::new()
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
        };
        let (pool, writer_pool) = if is_memory_url(url) {
            let pool = pool_options()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?;
            (pool.clone(), WriterPool::Shared(pool))
        } else {
            let path = options.get_filename().to_path_buf();
            if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                create_dir(dir).await?;
            }
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            let pool = pool_options()
                .max_connections(max_connections.max(1))
                .connect_with(options.clone())
                .await?;
            // The message writer's own connection (see `WriterPool`).
            let writer_pool = pool_options()
                .max_connections(1)
                .connect_with(options)
                .await?;
            (pool, WriterPool::Own(writer_pool))
        };
        let (writer, inbox) = MessageWriter::channel(group_commit);
        tokio::spawn(writer::run(writer_pool.clone(), inbox));
        Ok(SqliteStore {
            pool,
            writer,
            writer_pool,
        })
    }

    /// The connection pool (tests inspect pragmas through it).
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The message writer's own pool, if it has one (tests inspect its pragmas).
    #[cfg(test)]
    pub(crate) fn writer_pool(&self) -> Option<&SqlitePool> {
        match &self.writer_pool {
            WriterPool::Own(pool) => Some(pool),
            WriterPool::Shared(_) => None,
        }
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Takes the database's write lock and lets it go: fails (after the busy
    /// timeout) while another process holds it, or when the file cannot be
    /// written.
    pub async fn check_ready(&self) -> StoreResult<()> {
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        tx.rollback().await?;
        Ok(())
    }

    /// Commits pending message writes, then closes the pools; the last
    /// connection to close checkpoints the WAL.
    pub async fn close(&self) {
        self.writer.close().await;
        self.writer_pool.close().await;
        self.pool.close().await;
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`: takes the write lock now).
    async fn write(&self) -> StoreResult<SqliteTx> {
        Ok(SqliteTx(self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }

    /// The ticket-signing secret, created on first use (first writer wins).
    pub async fn ticket_secret(&self) -> StoreResult<Vec<u8>> {
        let candidate: [u8; rules::TICKET_SECRET_LEN] = rand::random();
        sqlx::query(
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(rules::TICKET_SECRET_NAME)
        .bind(candidate.as_slice())
        .execute(&self.pool)
        .await?;
        let secret: Vec<u8> =
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
                .bind(rules::TICKET_SECRET_NAME)
                .fetch_one(&self.pool)
                .await?;
        Ok(secret)
    }

    /// Creates an account with group 0 and default settings.
    pub async fn create_user(
        &self,
        email: &str,
        nick: &str,
        password_hash: &str,
        md5: Option<(&str, &str)>,
    ) -> StoreResult<Account> {
        rules::create_user(self.write().await?, email, nick, password_hash, md5).await
    }

    /// Replaces an account's password hash and MD5 verifier.
    pub async fn set_password(
        &self,
        email: &str,
        password_hash: &str,
        md5: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        let result = sqlx::query(
            "UPDATE users SET password_hash = $1, md5_salt = $2, md5_verifier = $3 \
             WHERE email = $4",
        )
        .bind(password_hash)
        .bind(md5.map(|(salt, _)| salt))
        .bind(md5.map(|(_, verifier)| verifier))
        .bind(email)
        .execute(&self.pool)
        .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::UnknownUser);
        }
        Ok(())
    }

    /// Deletes an account and every entry naming it.
    pub async fn delete_user(&self, email: &str) -> StoreResult<()> {
        rules::delete_user(self.write().await?, email).await
    }

    /// Every account, ascending by email.
    pub async fn list_users(&self) -> StoreResult<Vec<Account>> {
        let rows = sqlx::query("SELECT id, email, nick FROM users ORDER BY email")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account_from_row).collect()
    }

    /// The account with this email.
    pub async fn account(&self, email: &str) -> StoreResult<Account> {
        let row = sqlx::query("SELECT id, email, nick FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::UnknownUser)?;
        account_from_row(&row)
    }

    /// The account and its password data.
    pub async fn credentials(&self, email: &str) -> StoreResult<Credentials> {
        let row = sqlx::query(
            "SELECT id, email, nick, password_hash, md5_salt, md5_verifier \
             FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::UnknownUser)?;
        Ok(Credentials {
            account: account_from_row(&row)?,
            password_hash: row.try_get("password_hash")?,
            md5_salt: row.try_get("md5_salt")?,
            md5_verifier: row.try_get("md5_verifier")?,
        })
    }

    /// The user's whole contact list, read in one transaction (one WAL snapshot).
    pub async fn contact_list(&self, user: UserId) -> StoreResult<ContactList> {
        let mut tx = self.pool.begin().await?;
        let settings = sqlx::query("SELECT list_version, privacy, prompt FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::UnknownUser)?;
        let groups: Vec<(i64, String)> = sqlx::query_as(
            "SELECT group_id, name FROM contact_groups WHERE owner_id = $1 ORDER BY group_id",
        )
        .bind(user)
        .fetch_all(&mut *tx)
        .await?;
        let contacts = sqlx::query(
            "SELECT c.contact_id, u.email, u.nick, c.lists \
             FROM contacts c JOIN users u ON u.id = c.contact_id \
             WHERE c.owner_id = $1 ORDER BY u.email",
        )
        .bind(user)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| {
            Ok(ContactRow {
                id: row.try_get("contact_id")?,
                email: row.try_get("email")?,
                nick: row.try_get("nick")?,
                lists: row.try_get("lists")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
        let members: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT contact_id, group_id FROM group_members WHERE owner_id = $1 \
             ORDER BY contact_id, group_id",
        )
        .bind(user)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let version: i64 = settings.try_get("list_version")?;
        let privacy: String = settings.try_get("privacy")?;
        let prompt: String = settings.try_get("prompt")?;
        rules::assemble_contact_list(version, &privacy, &prompt, groups, contacts, members)
    }

    /// The user's phone numbers in `BPR` order.
    pub async fn phones(&self, user: UserId) -> StoreResult<Vec<(PhoneKind, String)>> {
        let mut tx = self.pool.begin().await?;
        let exists = sqlx::query("SELECT 1 FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !exists {
            return Err(StoreError::UnknownUser);
        }
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT kind, value FROM phones WHERE user_id = $1")
                .bind(user)
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        let mut phones = rows
            .into_iter()
            .map(|(kind, value)| Ok((rules::phone_kind_from_db(&kind)?, value)))
            .collect::<StoreResult<Vec<_>>>()?;
        rules::sort_phones(&mut phones);
        Ok(phones)
    }

    /// Phones of every account that has `user` on its allow list.
    pub async fn phones_shared_with(&self, user: UserId) -> StoreResult<SharedPhones> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT u.email, p.kind, p.value \
             FROM contacts c \
             JOIN users u ON u.id = c.owner_id \
             JOIN phones p ON p.user_id = c.owner_id \
             WHERE c.contact_id = $1 AND (c.lists & 2) <> 0 \
             ORDER BY u.email",
        )
        .bind(user)
        .fetch_all(&self.pool)
        .await?;
        rules::group_shared_phones(rows)
    }

    /// Adds a contact to one of the owner's lists.
    pub async fn add_contact(
        &self,
        owner: UserId,
        list: List,
        contact_email: &str,
        group: Option<u32>,
    ) -> StoreResult<ListChange> {
        rules::add_contact(self.write().await?, owner, list, contact_email, group).await
    }

    /// Removes a contact from one of the owner's lists.
    pub async fn remove_contact(
        &self,
        owner: UserId,
        list: List,
        contact_email: &str,
        group: Option<u32>,
    ) -> StoreResult<ListChange> {
        rules::remove_contact(self.write().await?, owner, list, contact_email, group).await
    }

    /// Adds a group with the lowest free id.
    pub async fn add_group(&self, owner: UserId, name: &str) -> StoreResult<(u32, Group)> {
        rules::add_group(self.write().await?, owner, name).await
    }

    /// Removes a group.
    pub async fn remove_group(&self, owner: UserId, group: u32) -> StoreResult<u32> {
        rules::remove_group(self.write().await?, owner, group).await
    }

    /// Renames a group.
    pub async fn rename_group(&self, owner: UserId, group: u32, name: &str) -> StoreResult<u32> {
        rules::rename_group(self.write().await?, owner, group, name).await
    }

    /// Sets the friendly name.
    pub async fn set_nick(&self, user: UserId, nick: &str) -> StoreResult<u32> {
        rules::set_nick(self.write().await?, user, nick).await
    }

    /// Sets `BLP`.
    pub async fn set_privacy(&self, user: UserId, privacy: Privacy) -> StoreResult<u32> {
        rules::set_privacy(self.write().await?, user, privacy).await
    }

    /// Sets `GTC`.
    pub async fn set_prompt(&self, user: UserId, prompt: NewContactPrompt) -> StoreResult<u32> {
        rules::set_prompt(self.write().await?, user, prompt).await
    }

    /// Sets or clears a phone number.
    pub async fn set_phone(
        &self,
        user: UserId,
        kind: PhoneKind,
        value: Option<&str>,
    ) -> StoreResult<u32> {
        rules::set_phone(self.write().await?, user, kind, value).await
    }
}

/// Creates the database's directory.
async fn create_dir(dir: &Path) -> StoreResult<()> {
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|err| StoreError::Unavailable(format!("cannot create {}: {err}", dir.display())))
}

/// An [`Account`] from a row with `id`, `email`, `nick`.
fn account_from_row(row: &sqlx::sqlite::SqliteRow) -> StoreResult<Account> {
    Ok(Account {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        nick: row.try_get("nick")?,
    })
}

/// One SQLite write transaction.
pub(crate) struct SqliteTx(Transaction<'static, Sqlite>);

impl EditTx for SqliteTx {
    async fn commit(self) -> StoreResult<()> {
        self.0.commit().await?;
        Ok(())
    }

    async fn lock_user(&mut self, id: UserId) -> StoreResult<bool> {
        // The whole database is already locked by BEGIN IMMEDIATE.
        Ok(sqlx::query("SELECT 1 FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?
            .is_some())
    }

    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<Account>> {
        sqlx::query("SELECT id, email, nick FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.0)
            .await?
            .as_ref()
            .map(account_from_row)
            .transpose()
    }

    async fn user_by_email(&mut self, email: &str) -> StoreResult<Option<Account>> {
        sqlx::query("SELECT id, email, nick FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&mut *self.0)
            .await?
            .as_ref()
            .map(account_from_row)
            .transpose()
    }

    async fn insert_user(
        &mut self,
        email: &str,
        nick: &str,
        password_hash: &str,
        md5: Option<(&str, &str)>,
    ) -> StoreResult<Option<UserId>> {
        Ok(sqlx::query_scalar(
            "INSERT INTO users (email, nick, password_hash, md5_salt, md5_verifier) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(email)
        .bind(nick)
        .bind(password_hash)
        .bind(md5.map(|(salt, _)| salt))
        .bind(md5.map(|(_, verifier)| verifier))
        .fetch_optional(&mut *self.0)
        .await?)
    }

    async fn delete_user(&mut self, id: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn owners_listing(&mut self, contact: UserId) -> StoreResult<Vec<UserId>> {
        Ok(sqlx::query_scalar(
            "SELECT owner_id FROM contacts WHERE contact_id = $1 AND owner_id <> $1 \
             ORDER BY owner_id",
        )
        .bind(contact)
        .fetch_all(&mut *self.0)
        .await?)
    }

    async fn bump_owners_listing(&mut self, contact: UserId) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET list_version = list_version + 1 WHERE id IN \
             (SELECT owner_id FROM contacts WHERE contact_id = $1 AND owner_id <> $1)",
        )
        .bind(contact)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn bump_version(&mut self, id: UserId) -> StoreResult<u32> {
        let version: i64 = sqlx::query_scalar(
            "UPDATE users SET list_version = list_version + 1 WHERE id = $1 \
             RETURNING list_version",
        )
        .bind(id)
        .fetch_optional(&mut *self.0)
        .await?
        .ok_or(StoreError::UnknownUser)?;
        rules::version_from_db(version)
    }

    async fn lists(&mut self, owner: UserId, contact: UserId) -> StoreResult<ListSet> {
        let bits: Option<i64> = sqlx::query_scalar(
            "SELECT lists FROM contacts WHERE owner_id = $1 AND contact_id = $2",
        )
        .bind(owner)
        .bind(contact)
        .fetch_optional(&mut *self.0)
        .await?;
        bits.map_or(Ok(ListSet::default()), rules::lists_from_db)
    }

    async fn set_lists(
        &mut self,
        owner: UserId,
        contact: UserId,
        lists: ListSet,
    ) -> StoreResult<()> {
        if lists.is_empty() {
            sqlx::query("DELETE FROM contacts WHERE owner_id = $1 AND contact_id = $2")
                .bind(owner)
                .bind(contact)
                .execute(&mut *self.0)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO contacts (owner_id, contact_id, lists) VALUES ($1, $2, $3) \
                 ON CONFLICT (owner_id, contact_id) DO UPDATE SET lists = excluded.lists",
            )
            .bind(owner)
            .bind(contact)
            .bind(i64::from(lists.0 & 0x0f))
            .execute(&mut *self.0)
            .await?;
        }
        Ok(())
    }

    async fn list_len(&mut self, owner: UserId, list: List) -> StoreResult<usize> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM contacts WHERE owner_id = $1 AND (lists & $2) <> 0",
        )
        .bind(owner)
        .bind(i64::from(list.bit()))
        .fetch_one(&mut *self.0)
        .await?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    async fn group_ids(&mut self, owner: UserId) -> StoreResult<Vec<u32>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT group_id FROM contact_groups WHERE owner_id = $1 ORDER BY group_id",
        )
        .bind(owner)
        .fetch_all(&mut *self.0)
        .await?;
        ids.into_iter().map(rules::group_from_db).collect()
    }

    async fn group_exists(&mut self, owner: UserId, group: u32) -> StoreResult<bool> {
        Ok(
            sqlx::query("SELECT 1 FROM contact_groups WHERE owner_id = $1 AND group_id = $2")
                .bind(owner)
                .bind(i64::from(group))
                .fetch_optional(&mut *self.0)
                .await?
                .is_some(),
        )
    }

    async fn insert_group(&mut self, owner: UserId, group: u32, name: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO contact_groups (owner_id, group_id, name) VALUES ($1, $2, $3)")
            .bind(owner)
            .bind(i64::from(group))
            .bind(name)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn delete_group(&mut self, owner: UserId, group: u32) -> StoreResult<bool> {
        let result =
            sqlx::query("DELETE FROM contact_groups WHERE owner_id = $1 AND group_id = $2")
                .bind(owner)
                .bind(i64::from(group))
                .execute(&mut *self.0)
                .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn rename_group(&mut self, owner: UserId, group: u32, name: &str) -> StoreResult<bool> {
        let result = sqlx::query(
            "UPDATE contact_groups SET name = $3 WHERE owner_id = $1 AND group_id = $2",
        )
        .bind(owner)
        .bind(i64::from(group))
        .bind(name)
        .execute(&mut *self.0)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn is_member(&mut self, owner: UserId, contact: UserId, group: u32) -> StoreResult<bool> {
        Ok(sqlx::query(
            "SELECT 1 FROM group_members \
             WHERE owner_id = $1 AND contact_id = $2 AND group_id = $3",
        )
        .bind(owner)
        .bind(contact)
        .bind(i64::from(group))
        .fetch_optional(&mut *self.0)
        .await?
        .is_some())
    }

    async fn add_member(&mut self, owner: UserId, contact: UserId, group: u32) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO group_members (owner_id, contact_id, group_id) VALUES ($1, $2, $3)",
        )
        .bind(owner)
        .bind(contact)
        .bind(i64::from(group))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn remove_member(
        &mut self,
        owner: UserId,
        contact: UserId,
        group: u32,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "DELETE FROM group_members WHERE owner_id = $1 AND contact_id = $2 AND group_id = $3",
        )
        .bind(owner)
        .bind(contact)
        .bind(i64::from(group))
        .execute(&mut *self.0)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn clear_members(&mut self, owner: UserId, contact: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM group_members WHERE owner_id = $1 AND contact_id = $2")
            .bind(owner)
            .bind(contact)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn settings(&mut self, user: UserId) -> StoreResult<(Privacy, NewContactPrompt)> {
        let (privacy, prompt): (String, String) =
            sqlx::query_as("SELECT privacy, prompt FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(&mut *self.0)
                .await?
                .ok_or(StoreError::UnknownUser)?;
        Ok((
            rules::privacy_from_db(&privacy)?,
            rules::prompt_from_db(&prompt)?,
        ))
    }

    async fn set_privacy(&mut self, user: UserId, privacy: Privacy) -> StoreResult<()> {
        sqlx::query("UPDATE users SET privacy = $1 WHERE id = $2")
            .bind(privacy.code())
            .bind(user)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_prompt(&mut self, user: UserId, prompt: NewContactPrompt) -> StoreResult<()> {
        sqlx::query("UPDATE users SET prompt = $1 WHERE id = $2")
            .bind(prompt.code())
            .bind(user)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_nick(&mut self, user: UserId, nick: &str) -> StoreResult<()> {
        sqlx::query("UPDATE users SET nick = $1 WHERE id = $2")
            .bind(nick)
            .bind(user)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn set_phone(
        &mut self,
        user: UserId,
        kind: PhoneKind,
        value: Option<&str>,
    ) -> StoreResult<()> {
        match value {
            Some(value) => {
                sqlx::query(
                    "INSERT INTO phones (user_id, kind, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, kind) DO UPDATE SET value = excluded.value",
                )
                .bind(user)
                .bind(kind.code())
                .bind(value)
                .execute(&mut *self.0)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM phones WHERE user_id = $1 AND kind = $2")
                    .bind(user)
                    .bind(kind.code())
                    .execute(&mut *self.0)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::is_memory_url;

    #[test]
    fn memory_urls() {
        assert!(is_memory_url("sqlite::memory:"));
        assert!(is_memory_url("sqlite://:memory:"));
        assert!(is_memory_url("sqlite://x.db?mode=memory"));
        assert!(!is_memory_url("sqlite://data/msnpd.sqlite"));
        assert!(!is_memory_url(
            "sqlite:///var/lib/msnpd/msnpd.sqlite?mode=rwc"
        ));
    }
}
