//! Storage that speaks the domain: one [`Store`] enum over the SQLite and PostgreSQL
//! backends (cargo features `sqlite` and `postgres`). SQL lives in each backend's
//! file; the rules of edits live once in `rules.rs`; migrations live per backend
//! under `migrations/` with the same version list. `testing` gives tests throw-away
//! stores; the contract suite (`contract_tests.rs`) runs on every backend.
//!
//! Every edit of a user's lists, groups, settings, nick or phones runs in one
//! transaction and bumps that user's list version by exactly one; a refused edit
//! changes nothing. Edits naming an owner id that does not exist fail with
//! [`StoreError::UnknownUser`]. Emails are stored and compared as given (callers
//! lower-case them).
//!
//! Message writes (history entries and offline-queue entries) go through one
//! group-commit writer task per store (`writer.rs`); their rules live once in
//! `messages.rs`, their SQL in each backend's `messages.rs`.

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("msnpd needs a store backend: enable cargo feature `sqlite` or `postgres`");

use crate::core::lists::{List, NewContactPrompt, Privacy};
use crate::core::model::{Account, ContactList, Credentials, Group};
use crate::core::offline::{Appended, Conversation, HistoryEntry, NewMessage, QueuedMessage};
use crate::proto::command::PhoneKind;

/// What can go wrong in the store. Domain refusals are their own variants so
/// handlers can map them to numeric errors; backend failures are `Unavailable`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such account.
    #[error("no such user")]
    UnknownUser,
    /// The account already exists.
    #[error("user already exists")]
    UserExists,
    /// The contact is already on that list (or in that group).
    #[error("already on that list")]
    AlreadyInList,
    /// The contact is not on that list (or not in that group).
    #[error("not on that list")]
    NotInList,
    /// AL and BL are exclusive.
    #[error("contact is on the opposite list")]
    InOppositeList,
    /// The list has reached its size limit.
    #[error("list full")]
    ListFull,
    /// No such group.
    #[error("no such group")]
    UnknownGroup,
    /// Too many groups.
    #[error("too many groups")]
    TooManyGroups,
    /// Group 0 cannot be removed.
    #[error("group 0 cannot be removed")]
    CannotRemoveGroupZero,
    /// The setting already has that value.
    #[error("already in that mode")]
    AlreadyInMode,
    /// The recipient's offline queue holds as many messages as allowed.
    #[error("the offline queue of {recipient} is full")]
    QueueFull {
        /// The recipient whose queue is full.
        recipient: String,
    },
    /// The store URL is malformed or names a backend this build lacks.
    #[error("bad store url: {0}")]
    BadUrl(String),
    /// The backend failed (connection, I/O, constraint we did not expect).
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Result of store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// Phone numbers by account email, each account's in `BPR` order (PHH, PHW, PHM,
/// MOB).
pub type SharedPhones = std::collections::BTreeMap<String, Vec<(PhoneKind, String)>>;

impl From<sqlx::Error> for StoreError {
    /// Backend failures become [`StoreError::Unavailable`]; the message is for logs
    /// (sqlx errors do not carry SQL text) and must not be sent to clients.
    fn from(err: sqlx::Error) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(err: sqlx::migrate::MigrateError) -> Self {
        StoreError::Unavailable(format!("migration failed: {err}"))
    }
}

#[cfg(test)]
mod contract_tests;
pub mod login_snapshots;
mod messages;
#[cfg(feature = "postgres")]
pub mod postgres;
mod rules;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod testing;
pub mod writer;

pub use login_snapshots::{LoginSnapshot, LoginSnapshots};
pub use writer::{GroupCommit, PendingWrite};

/// The SQLite page cache per pooled connection, in KiB (`store.sqlite_cache_kib`).
/// SQLite's own default is 2 MiB; a quarter of that keeps the caches of a
/// full pool to 4 MiB (a few hundred bytes per client at 10,000 online,
/// instead of about 1.4 KB), while the OS page cache still holds the file.
pub const DEFAULT_SQLITE_CACHE_KIB: u32 = 512;

use std::sync::Arc;

use crate::core::model::UserId;

/// The result of a list edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListChange {
    /// The owner's new list version.
    pub version: u32,
    /// The contact that was added or removed (with its current nick).
    pub contact: Account,
    /// When the edit also changed the contact's reverse list (FL add/remove):
    /// the contact's new list version.
    pub reverse_version: Option<u32>,
}

/// The store: one of the compiled-in backends, plus the last known login data
/// of recently seen accounts ([`LoginSnapshots`]) for logins while the backend
/// is unavailable.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    snapshots: Arc<LoginSnapshots>,
}

/// One of the compiled-in backends.
#[derive(Debug, Clone)]
pub enum Backend {
    /// SQLite (WAL, synchronous=FULL).
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteStore),
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(postgres::PgStore),
}

/// Runs a store call and records its latency under `op` in the metrics.
macro_rules! timed {
    ($op:literal, $call:expr) => {{
        let started = std::time::Instant::now();
        let result = $call;
        crate::obs::metrics().store_op($op, started.elapsed());
        result
    }};
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match &$self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite($store) => $call,
            #[cfg(feature = "postgres")]
            Backend::Postgres($store) => $call,
        }
    };
}

impl Store {
    /// A store over `backend`, with its login-snapshot refresher task (needs a
    /// tokio runtime; the task ends when the last clone of the store is gone).
    fn new(backend: Backend) -> Store {
        let (snapshots, wake) = LoginSnapshots::with_refresher(login_snapshots::DEFAULT_CAPACITY);
        let snapshots = Arc::new(snapshots);
        tokio::spawn(refresh_login_snapshots(
            backend.clone(),
            Arc::downgrade(&snapshots),
            wake,
        ));
        Store { backend, snapshots }
    }

    /// The backend behind this store.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The last known login data of recently seen accounts.
    pub fn login_snapshots(&self) -> &LoginSnapshots {
        &self.snapshots
    }

    /// Tells the login snapshots about an edit of `owner`: committed or
    /// refused, the snapshot is dropped (and read again in the background);
    /// after a backend failure, which may or may not have committed, it is
    /// kept and read again once the backend answers.
    fn after_edit<T>(&self, owner: UserId, result: &StoreResult<T>) {
        match result {
            Err(StoreError::Unavailable(_)) => self.snapshots.doubt(&[owner]),
            _ => self.snapshots.forget(&[owner]),
        }
    }

    /// [`Store::after_edit`] for list edits, which may also change the
    /// contact's reverse list.
    fn after_list_edit(&self, owner: UserId, contact: &str, result: &StoreResult<ListChange>) {
        match result {
            Ok(change) => self.snapshots.forget(&[owner, change.contact.id]),
            Err(StoreError::Unavailable(_)) => {
                self.snapshots.doubt(&[owner]);
                self.snapshots.doubt_email(contact);
            }
            other => self.after_edit(owner, other),
        }
    }

    /// Everything a login needs of the account with this email, read from the
    /// store (and remembered), or — when the backend is unavailable — the last
    /// known copy, with `true` for "from memory". Without a remembered copy the
    /// backend's error is returned.
    pub async fn login_snapshot(&self, email: &str) -> StoreResult<(LoginSnapshot, bool)> {
        match self.read_login_snapshot(email).await {
            Ok(snapshot) => Ok((snapshot, false)),
            Err(StoreError::Unavailable(reason)) => match self.snapshots.get(email) {
                Some(snapshot) => Ok((snapshot, true)),
                None => Err(StoreError::Unavailable(reason)),
            },
            Err(error) => Err(error),
        }
    }

    async fn read_login_snapshot(&self, email: &str) -> StoreResult<LoginSnapshot> {
        let id = self.account(email).await?.id;
        // Read again under the guard so an edit between the two reads is seen.
        let guard = self.snapshots.start_read(id);
        let account = self.account(email).await?;
        let list = self.contact_list(account.id).await?;
        let phones = self.phones(account.id).await?;
        let shared_phones = self.phones_shared_with(account.id).await?;
        let snapshot = LoginSnapshot {
            account,
            list,
            phones,
            shared_phones,
        };
        self.snapshots.finish_read(guard, snapshot.clone());
        Ok(snapshot)
    }

    /// Connects to the store named by `url` (`sqlite://PATH`, `sqlite::memory:`,
    /// `postgres://...`) without migrating, with the default group commit.
    /// SQLite creates the file and its directory.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Store> {
        Self::connect_with(
            url,
            max_connections,
            DEFAULT_SQLITE_CACHE_KIB,
            GroupCommit::default(),
        )
        .await
    }

    /// [`Store::connect`] with a SQLite page cache of `sqlite_cache_kib` per
    /// pooled connection (ignored by PostgreSQL) and the message writer
    /// gathering batches as `group_commit` says. Must run inside a tokio
    /// runtime (it starts the writer).
    pub async fn connect_with(
        url: &str,
        max_connections: u32,
        sqlite_cache_kib: u32,
        group_commit: GroupCommit,
    ) -> StoreResult<Store> {
        #[cfg(feature = "sqlite")]
        if url.starts_with("sqlite:") {
            return Ok(Store::new(Backend::Sqlite(
                sqlite::SqliteStore::connect(url, max_connections, sqlite_cache_kib, group_commit)
                    .await?,
            )));
        }
        #[cfg(feature = "postgres")]
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Store::new(Backend::Postgres(
                postgres::PgStore::connect(url, max_connections, group_commit).await?,
            )));
        }
        let _ = (max_connections, sqlite_cache_kib, group_commit);
        Err(StoreError::BadUrl(format!(
            "{url}: expected sqlite://PATH or postgres://... (of the backends compiled in)"
        )))
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> StoreResult<()> {
        dispatch!(self, s => s.migrate().await)
    }

    /// Checks that the store answers.
    pub async fn ping(&self) -> StoreResult<()> {
        dispatch!(self, s => s.ping().await)
    }

    /// Checks that the store can serve: PostgreSQL answers a query; SQLite's
    /// write lock can be taken (another process holding it, or a file that
    /// cannot be written, fails after the busy timeout).
    pub async fn check_ready(&self) -> StoreResult<()> {
        match &self.backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(s) => s.check_ready().await,
            #[cfg(feature = "postgres")]
            Backend::Postgres(s) => s.ping().await,
        }
    }

    /// How many messages wait in the offline queue, over all recipients.
    pub async fn queued_total(&self) -> StoreResult<u64> {
        timed!("queued_total", dispatch!(self, s => s.queued_total().await))
    }

    /// Commits pending message writes and closes the pool.
    pub async fn close(&self) {
        dispatch!(self, s => s.close().await)
    }

    /// The server's ticket-signing secret: created randomly (32 bytes) on first
    /// use and kept, so every process on this store agrees.
    pub async fn ticket_secret(&self) -> StoreResult<Vec<u8>> {
        timed!(
            "ticket_secret",
            dispatch!(self, s => s.ticket_secret().await)
        )
    }

    /// Creates an account. `md5` is `(salt, verifier)` for MD5 login. Also creates
    /// group 0 "Other Contacts" and the default settings (BLP AL, GTC A, version 0).
    pub async fn create_user(
        &self,
        email: &str,
        nick: &str,
        password_hash: &str,
        md5: Option<(&str, &str)>,
    ) -> StoreResult<Account> {
        timed!(
            "create_user",
            dispatch!(self, s => s.create_user(email, nick, password_hash, md5).await)
        )
    }

    /// Replaces an account's password hash and MD5 verifier (`None` clears them).
    /// Does not change the list version. UnknownUser if there is no such account.
    pub async fn set_password(
        &self,
        email: &str,
        password_hash: &str,
        md5: Option<(&str, &str)>,
    ) -> StoreResult<()> {
        timed!(
            "set_password",
            dispatch!(self, s => s.set_password(email, password_hash, md5).await)
        )
    }

    /// Deletes an account and every list entry that names it; every user who had it
    /// on a list gets a new list version. UnknownUser if there is no such account.
    pub async fn delete_user(&self, email: &str) -> StoreResult<()> {
        let result = timed!(
            "delete_user",
            dispatch!(self, s => s.delete_user(email).await)
        );
        if !matches!(result, Err(StoreError::UnknownUser)) {
            self.snapshots.forget_deleted(email);
        }
        result
    }

    /// Every account, ascending by email (byte order).
    pub async fn list_users(&self) -> StoreResult<Vec<Account>> {
        timed!("list_users", dispatch!(self, s => s.list_users().await))
    }

    /// The account with this email.
    pub async fn account(&self, email: &str) -> StoreResult<Account> {
        timed!("account", dispatch!(self, s => s.account(email).await))
    }

    /// The account and what is needed to check its password.
    pub async fn credentials(&self, email: &str) -> StoreResult<Credentials> {
        timed!(
            "credentials",
            dispatch!(self, s => s.credentials(email).await)
        )
    }

    /// The user's whole contact list and settings, read in one snapshot.
    /// UnknownUser if there is no such account.
    pub async fn contact_list(&self, user: UserId) -> StoreResult<ContactList> {
        timed!(
            "contact_list",
            dispatch!(self, s => s.contact_list(user).await)
        )
    }

    /// The user's own phone numbers, in `BPR` order (PHH, PHW, PHM, MOB).
    /// UnknownUser if there is no such account.
    pub async fn phones(&self, user: UserId) -> StoreResult<Vec<(PhoneKind, String)>> {
        timed!("phones", dispatch!(self, s => s.phones(user).await))
    }

    /// The phone numbers other accounts share with `user`: those of every account
    /// that has `user` on its allow list (AL) and has set some, by account email,
    /// each in `BPR` order. Empty for an unknown `user`.
    pub async fn phones_shared_with(&self, user: UserId) -> StoreResult<SharedPhones> {
        timed!(
            "phones_shared_with",
            dispatch!(self, s => s.phones_shared_with(user).await)
        )
    }

    /// Adds `contact_email` to `owner`'s `list` (in `group` for FL; FL without a
    /// group means group 0). FL adds also put the owner on the contact's RL.
    /// Errors: UnknownUser, AlreadyInList (or already in that group),
    /// InOppositeList (AL/BL), ListFull, UnknownGroup.
    ///
    /// An FL add of a contact already on FL, with a group it is not in yet, only adds
    /// that membership (no reverse-list change). `group` is ignored for AL, BL and
    /// RL. RL adds are not refused here (clients may not edit RL: the caller checks)
    /// and are not limited in size.
    pub async fn add_contact(
        &self,
        owner: UserId,
        list: List,
        contact_email: &str,
        group: Option<u32>,
    ) -> StoreResult<ListChange> {
        let result = timed!(
            "add_contact",
            dispatch!(self, s => s.add_contact(owner, list, contact_email, group).await)
        );
        self.after_list_edit(owner, contact_email, &result);
        result
    }

    /// Removes `contact_email` from `owner`'s `list`. For FL with a group, only
    /// that group membership goes (NotInList if not in it, UnknownGroup if the group
    /// does not exist; the contact stays on FL even with no group left); FL without
    /// a group removes the entry, all its memberships and the owner from the
    /// contact's RL. Errors: UnknownUser (owner), NotInList (also for an email with
    /// no account), UnknownGroup. `group` is ignored for AL, BL and RL.
    pub async fn remove_contact(
        &self,
        owner: UserId,
        list: List,
        contact_email: &str,
        group: Option<u32>,
    ) -> StoreResult<ListChange> {
        let result = timed!(
            "remove_contact",
            dispatch!(self, s => s.remove_contact(owner, list, contact_email, group).await)
        );
        self.after_list_edit(owner, contact_email, &result);
        result
    }

    /// Adds a group with the lowest free id ≥ 1; returns the new version and the
    /// group. TooManyGroups when the user has `MAX_GROUPS` groups (group 0 included).
    pub async fn add_group(&self, owner: UserId, name: &str) -> StoreResult<(u32, Group)> {
        let result = timed!(
            "add_group",
            dispatch!(self, s => s.add_group(owner, name).await)
        );
        self.after_edit(owner, &result);
        result
    }

    /// Removes a group (its members stay in FL, losing that membership).
    /// CannotRemoveGroupZero for group 0, UnknownGroup if there is no such group.
    pub async fn remove_group(&self, owner: UserId, group: u32) -> StoreResult<u32> {
        let result = timed!(
            "remove_group",
            dispatch!(self, s => s.remove_group(owner, group).await)
        );
        self.after_edit(owner, &result);
        result
    }

    /// Renames a group (group 0 too). UnknownGroup if there is no such group.
    pub async fn rename_group(&self, owner: UserId, group: u32, name: &str) -> StoreResult<u32> {
        let result = timed!(
            "rename_group",
            dispatch!(self, s => s.rename_group(owner, group, name).await)
        );
        self.after_edit(owner, &result);
        result
    }

    /// Sets the user's friendly name; returns the new list version.
    pub async fn set_nick(&self, user: UserId, nick: &str) -> StoreResult<u32> {
        let result = timed!(
            "set_nick",
            dispatch!(self, s => s.set_nick(user, nick).await)
        );
        self.after_edit(user, &result);
        result
    }

    /// Sets `BLP` (AlreadyInMode if unchanged).
    pub async fn set_privacy(&self, user: UserId, privacy: Privacy) -> StoreResult<u32> {
        let result = timed!(
            "set_privacy",
            dispatch!(self, s => s.set_privacy(user, privacy).await)
        );
        self.after_edit(user, &result);
        result
    }

    /// Sets `GTC` (AlreadyInMode if unchanged).
    pub async fn set_prompt(&self, user: UserId, prompt: NewContactPrompt) -> StoreResult<u32> {
        let result = timed!(
            "set_prompt",
            dispatch!(self, s => s.set_prompt(user, prompt).await)
        );
        self.after_edit(user, &result);
        result
    }

    /// Sets (or clears, with `None`) one of the user's phone numbers; always bumps
    /// the list version.
    pub async fn set_phone(
        &self,
        user: UserId,
        kind: PhoneKind,
        value: Option<&str>,
    ) -> StoreResult<u32> {
        let result = timed!(
            "set_phone",
            dispatch!(self, s => s.set_phone(user, kind, value).await)
        );
        self.after_edit(user, &result);
        result
    }

    /// Submits a message write (history entry and offline-queue entries, one
    /// transaction) to the group-commit writer, waiting for room in its queue.
    /// Writes commit in submission order; [`PendingWrite::wait`] gives the result:
    /// QueueFull (nothing written) when a recipient's queue is at
    /// `message.queue_cap`, UnknownUser when a recipient (or a member of a pair
    /// conversation) has no account, Unavailable when the backend failed.
    pub async fn submit_message(&self, message: NewMessage) -> StoreResult<PendingWrite> {
        timed!(
            "submit_message",
            dispatch!(self, s => s.writer().submit(message).await)
        )
    }

    /// [`Store::submit_message`] and wait for the commit.
    pub async fn append_message(&self, message: NewMessage) -> StoreResult<Appended> {
        self.submit_message(message).await?.wait().await
    }

    /// [`Store::submit_message`] without waiting for room in the writer's
    /// queue: refused (Unavailable) at once when it is full, so a stalled store
    /// never stalls live chat. The [`PendingWrite`] may be dropped (a failure is
    /// then only logged).
    pub fn try_submit_message(&self, message: NewMessage) -> StoreResult<PendingWrite> {
        dispatch!(self, s => s.writer().try_submit(message))
    }

    /// The first `limit` messages queued for `recipient`, in the order they were
    /// sent (then by id). Empty for an unknown recipient.
    pub async fn queued_messages(
        &self,
        recipient: UserId,
        limit: usize,
    ) -> StoreResult<Vec<QueuedMessage>> {
        timed!(
            "queued_messages",
            dispatch!(self, s => s.queued_messages(recipient, limit).await)
        )
    }

    /// How many messages are queued for `recipient`.
    pub async fn queued_count(&self, recipient: UserId) -> StoreResult<usize> {
        timed!(
            "queued_count",
            dispatch!(self, s => s.queued_count(recipient).await)
        )
    }

    /// Removes the queued messages of `recipient` with these ids (others' and
    /// unknown ids are ignored); returns how many were removed.
    pub async fn remove_queued(&self, recipient: UserId, ids: &[i64]) -> StoreResult<usize> {
        timed!(
            "remove_queued",
            dispatch!(self, s => s.remove_queued(recipient, ids).await)
        )
    }

    /// Up to `limit` history entries of `conversation` with a sequence number
    /// above `after_seq`, ascending. Empty for a conversation without history;
    /// UnknownUser when a member of a pair conversation has no account.
    pub async fn history(
        &self,
        conversation: &Conversation,
        after_seq: i64,
        limit: usize,
    ) -> StoreResult<Vec<HistoryEntry>> {
        timed!(
            "history",
            dispatch!(self, s => s.history(conversation, after_seq, limit).await)
        )
    }
}

/// The refresher: reads again the login snapshots that edits dropped or put in
/// doubt, retrying every [`REFRESH_RETRY`] while the backend is unavailable.
/// Holds only a weak reference, so it ends when the last [`Store`] clone is
/// dropped.
async fn refresh_login_snapshots(
    backend: Backend,
    snapshots: std::sync::Weak<LoginSnapshots>,
    mut wake: tokio::sync::mpsc::Receiver<()>,
) {
    while wake.recv().await.is_some() {
        loop {
            let Some(table) = snapshots.upgrade() else {
                return;
            };
            let emails = table.take_refresh();
            if emails.is_empty() {
                break;
            }
            let store = Store {
                backend: backend.clone(),
                snapshots: table,
            };
            let mut failed = Vec::new();
            for email in emails {
                if let Err(StoreError::Unavailable(_)) = store.read_login_snapshot(&email).await {
                    failed.push(email);
                }
            }
            if failed.is_empty() {
                continue;
            }
            store.snapshots.queue_refresh(failed);
            drop(store);
            tokio::time::sleep(REFRESH_RETRY).await;
        }
    }
}

/// How long the login-snapshot refresher waits before retrying reads that
/// failed because the backend was unavailable.
const REFRESH_RETRY: std::time::Duration = std::time::Duration::from_secs(2);
