//! The last known login data of recently seen accounts, kept in memory so a
//! ticket holder can still log in while the backend is unavailable.
//!
//! A login reads the account, its contact list and its phone numbers; a complete
//! read is remembered here. When an edit commits (or is refused) for an
//! account — its lists, groups, settings, nick, phones, or another user's FL
//! edit that changes its RL — the entry is dropped at once and queued for a
//! fresh read, which the store's refresher task does in the background; a read
//! that raced with an edit of the same account is not remembered but queued
//! likewise. When an edit fails because the backend is unavailable (it may or
//! may not have committed) the entry is kept and queued; the refresher retries
//! until the backend answers. So an entry is the account's state as of its
//! last successful read, never older than its last committed edit except
//! around an outage, and things read from *other* accounts (contacts' nicks,
//! phone numbers shared with it) may be stale. The number of entries is
//! bounded; the oldest go first.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::core::model::{Account, ContactList, UserId};
use crate::proto::command::PhoneKind;

use super::SharedPhones;

/// Everything a login reads from the store for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginSnapshot {
    /// The account.
    pub account: Account,
    /// Its contact list and settings.
    pub list: ContactList,
    /// Its own phone numbers, in `BPR` order.
    pub phones: Vec<(PhoneKind, String)>,
    /// The phone numbers its contacts share with it.
    pub shared_phones: SharedPhones,
}

/// Default number of remembered accounts.
pub const DEFAULT_CAPACITY: usize = 10_000;

/// The bounded table of [`LoginSnapshot`]s (see the module doc).
#[derive(Debug)]
pub struct LoginSnapshots {
    capacity: AtomicUsize,
    inner: Mutex<Inner>,
    /// Wakes the refresher (see [`LoginSnapshots::take_refresh`]); a full
    /// channel means it is already woken. Dropping the table ends the
    /// refresher.
    wake: Option<tokio::sync::mpsc::Sender<()>>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Snapshots by account id, with the insertion sequence number.
    by_id: HashMap<UserId, (u64, LoginSnapshot)>,
    /// Account ids by email (only for ids in `by_id`).
    by_email: HashMap<String, UserId>,
    /// Insertion order `(id, sequence)`; entries whose sequence no longer
    /// matches `by_id` are stale and skipped.
    order: VecDeque<(UserId, u64)>,
    next_sequence: u64,
    /// Reads in progress: account id → whether an edit touched it meanwhile.
    reading: HashMap<UserId, ReadState>,
    /// Set by [`LoginSnapshots::forget_all`] while reads are in progress.
    all_dirty_epoch: u64,
    /// Emails to read again (bounded by the capacity plus reads in progress).
    refresh: HashSet<String>,
}

#[derive(Debug, Clone, Copy)]
struct ReadState {
    readers: u32,
    dirty: bool,
    epoch: u64,
}

/// A read of one account's login data in progress; pass it back to
/// [`LoginSnapshots::finish_read`] (or drop it to abandon the read).
#[derive(Debug)]
pub struct ReadGuard<'a> {
    snapshots: &'a LoginSnapshots,
    id: UserId,
    done: bool,
}

impl Drop for ReadGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.snapshots.end_read(self.id);
        }
    }
}

impl Default for LoginSnapshots {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl LoginSnapshots {
    /// An empty table holding at most `capacity` accounts (0 turns it off),
    /// with no refresher: entries are only dropped, never read again.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity: AtomicUsize::new(capacity),
            inner: Mutex::new(Inner::default()),
            wake: None,
        }
    }

    /// An empty table like [`LoginSnapshots::with_capacity`] that wakes a
    /// refresher through the returned receiver whenever there are emails to
    /// read again ([`LoginSnapshots::take_refresh`]). The receiver ends when
    /// the table is dropped.
    pub fn with_refresher(capacity: usize) -> (Self, tokio::sync::mpsc::Receiver<()>) {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let mut table = Self::with_capacity(capacity);
        table.wake = Some(tx);
        (table, rx)
    }

    /// Takes the emails queued for a fresh read.
    pub fn take_refresh(&self) -> Vec<String> {
        self.lock().refresh.drain().collect()
    }

    /// Queues emails for a fresh read and wakes the refresher.
    pub fn queue_refresh(&self, emails: impl IntoIterator<Item = String>) {
        if self.wake.is_none() || self.capacity.load(Ordering::Relaxed) == 0 {
            return;
        }
        let queued = {
            let mut inner = self.lock();
            let before = inner.refresh.len();
            inner.refresh.extend(emails);
            inner.refresh.len() > before
        };
        if queued && let Some(wake) = &self.wake {
            // Full means a wake-up is already pending.
            let _ = wake.try_send(());
        }
    }

    /// Changes the bound; entries over it go at the next insertion.
    pub fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity, Ordering::Relaxed);
        if capacity == 0 {
            self.forget_all();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The table holds no invariant a panic elsewhere could break halfway.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The remembered snapshot of the account with this email.
    pub fn get(&self, email: &str) -> Option<LoginSnapshot> {
        let inner = self.lock();
        let id = inner.by_email.get(email)?;
        inner.by_id.get(id).map(|(_, s)| s.clone())
    }

    /// Number of remembered accounts.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts a read of account `id`: edits of it from now on make
    /// [`LoginSnapshots::finish_read`] discard the result.
    pub fn start_read(&self, id: UserId) -> ReadGuard<'_> {
        let mut inner = self.lock();
        let epoch = inner.all_dirty_epoch;
        let state = inner.reading.entry(id).or_insert(ReadState {
            readers: 0,
            dirty: false,
            epoch,
        });
        state.readers += 1;
        ReadGuard {
            snapshots: self,
            id,
            done: false,
        }
    }

    /// Ends a read: remembers `snapshot` unless an edit touched the account
    /// since [`LoginSnapshots::start_read`].
    pub fn finish_read(&self, mut guard: ReadGuard<'_>, snapshot: LoginSnapshot) {
        guard.done = true;
        let id = guard.id;
        let capacity = self.capacity.load(Ordering::Relaxed);
        let mut inner = self.lock();
        let clean = match inner.reading.get(&id) {
            Some(state) => !state.dirty && state.epoch == inner.all_dirty_epoch,
            None => false,
        };
        Self::end_read_locked(&mut inner, id);
        if capacity == 0 || snapshot.account.id != id {
            return;
        }
        if clean {
            Self::insert_locked(&mut inner, capacity, snapshot);
        } else {
            drop(inner);
            self.queue_refresh([snapshot.account.email]);
        }
    }

    fn end_read(&self, id: UserId) {
        let mut inner = self.lock();
        Self::end_read_locked(&mut inner, id);
    }

    fn end_read_locked(inner: &mut Inner, id: UserId) {
        if let Some(state) = inner.reading.get_mut(&id) {
            state.readers = state.readers.saturating_sub(1);
            if state.readers == 0 {
                inner.reading.remove(&id);
            }
        }
    }

    fn insert_locked(inner: &mut Inner, capacity: usize, snapshot: LoginSnapshot) {
        let id = snapshot.account.id;
        let sequence = inner.next_sequence;
        inner.next_sequence += 1;
        if let Some((_, old)) = inner.by_id.get(&id)
            && old.account.email != snapshot.account.email
        {
            let old_email = old.account.email.clone();
            inner.by_email.remove(&old_email);
        }
        inner.by_email.insert(snapshot.account.email.clone(), id);
        inner.by_id.insert(id, (sequence, snapshot));
        inner.order.push_back((id, sequence));
        while inner.by_id.len() > capacity {
            let Some((oldest, seq)) = inner.order.pop_front() else {
                break;
            };
            if inner.by_id.get(&oldest).is_some_and(|(s, _)| *s == seq) {
                Self::remove_locked(inner, oldest);
            }
        }
        // Re-inserted accounts leave stale order entries behind; compact them.
        if inner.order.len() > 2 * capacity.max(16) {
            let by_id = &inner.by_id;
            inner
                .order
                .retain(|(id, seq)| by_id.get(id).is_some_and(|(s, _)| s == seq));
        }
    }

    fn remove_locked(inner: &mut Inner, id: UserId) -> Option<String> {
        let (_, snapshot) = inner.by_id.remove(&id)?;
        inner.by_email.remove(&snapshot.account.email);
        Some(snapshot.account.email)
    }

    /// An edit of these accounts committed or was refused: drops what is
    /// remembered of them, spoils reads of them in progress, and queues the
    /// dropped ones for a fresh read.
    pub fn forget(&self, ids: &[UserId]) {
        let dropped: Vec<String> = {
            let mut inner = self.lock();
            ids.iter()
                .filter_map(|id| {
                    if let Some(state) = inner.reading.get_mut(id) {
                        state.dirty = true;
                    }
                    Self::remove_locked(&mut inner, *id)
                })
                .collect()
        };
        self.queue_refresh(dropped);
    }

    /// An edit of these accounts may or may not have committed (the backend
    /// failed): keeps what is remembered, spoils reads in progress, and
    /// queues the remembered ones for a fresh read once the backend answers.
    pub fn doubt(&self, ids: &[UserId]) {
        let known: Vec<String> = {
            let mut inner = self.lock();
            ids.iter()
                .filter_map(|id| {
                    if let Some(state) = inner.reading.get_mut(id) {
                        state.dirty = true;
                    }
                    inner.by_id.get(id).map(|(_, s)| s.account.email.clone())
                })
                .collect()
        };
        self.queue_refresh(known);
    }

    /// [`LoginSnapshots::doubt`] for an account known by email only.
    pub fn doubt_email(&self, email: &str) {
        let id = self.lock().by_email.get(email).copied();
        if let Some(id) = id {
            self.doubt(&[id]);
        }
    }

    /// An account was deleted: drops it, spoils every read in progress, and
    /// queues every remembered account that lists it for a fresh read.
    pub fn forget_deleted(&self, email: &str) {
        let listing: Vec<String> = {
            let mut inner = self.lock();
            if let Some(id) = inner.by_email.get(email).copied() {
                Self::remove_locked(&mut inner, id);
            }
            inner.all_dirty_epoch += 1;
            inner
                .by_id
                .values()
                .filter(|(_, s)| s.list.contact(email).is_some())
                .map(|(_, s)| s.account.email.clone())
                .collect()
        };
        self.queue_refresh(listing);
    }

    /// Drops everything.
    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.by_id.clear();
        inner.by_email.clear();
        inner.order.clear();
        inner.refresh.clear();
        inner.all_dirty_epoch += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(id: UserId, email: &str, nick: &str) -> LoginSnapshot {
        LoginSnapshot {
            account: Account {
                id,
                email: email.into(),
                nick: nick.into(),
            },
            list: ContactList {
                version: 1,
                privacy: crate::core::lists::Privacy::AllowAll,
                prompt: crate::core::lists::NewContactPrompt::Ask,
                groups: Vec::new(),
                contacts: Vec::new(),
            },
            phones: Vec::new(),
            shared_phones: SharedPhones::new(),
        }
    }

    fn remember(table: &LoginSnapshots, id: UserId, email: &str) {
        let guard = table.start_read(id);
        table.finish_read(guard, snapshot(id, email, "n"));
    }

    #[test]
    fn a_clean_read_is_remembered_and_found_by_email() {
        let table = LoginSnapshots::with_capacity(4);
        remember(&table, 1, "a@x");
        assert_eq!(table.get("a@x").map(|s| s.account.id), Some(1));
        assert!(table.get("b@x").is_none());
    }

    #[test]
    fn an_edit_during_the_read_spoils_it() {
        let table = LoginSnapshots::with_capacity(4);
        let guard = table.start_read(1);
        table.forget(&[1]);
        table.finish_read(guard, snapshot(1, "a@x", "old nick"));
        assert!(table.get("a@x").is_none());
        // An edit of another account does not.
        let guard = table.start_read(1);
        table.forget(&[2]);
        table.finish_read(guard, snapshot(1, "a@x", "n"));
        assert!(table.get("a@x").is_some());
    }

    #[test]
    fn forget_all_during_a_read_spoils_it() {
        let table = LoginSnapshots::with_capacity(4);
        let guard = table.start_read(1);
        table.forget_all();
        table.finish_read(guard, snapshot(1, "a@x", "n"));
        assert!(table.is_empty());
    }

    #[test]
    fn an_edit_drops_the_entry() {
        let table = LoginSnapshots::with_capacity(4);
        remember(&table, 1, "a@x");
        remember(&table, 2, "b@x");
        table.forget(&[1]);
        assert!(table.get("a@x").is_none());
        assert!(table.get("b@x").is_some());
        table.forget_all();
        assert!(table.is_empty());
    }

    #[test]
    fn the_oldest_go_first_and_the_bound_holds_under_reinsertion() {
        let table = LoginSnapshots::with_capacity(3);
        for round in 0..50 {
            remember(&table, 1, "a@x");
            remember(&table, 2 + round % 2, &format!("{}@x", 2 + round % 2));
        }
        remember(&table, 10, "j@x");
        remember(&table, 11, "k@x");
        assert_eq!(table.len(), 3);
        assert!(table.get("k@x").is_some() && table.get("j@x").is_some());
        assert!(table.lock().order.len() <= 2 * 16 + 1);
    }

    #[test]
    fn capacity_zero_remembers_nothing() {
        let table = LoginSnapshots::with_capacity(0);
        remember(&table, 1, "a@x");
        assert!(table.is_empty());
        let table = LoginSnapshots::with_capacity(2);
        remember(&table, 1, "a@x");
        table.set_capacity(0);
        assert!(table.is_empty());
    }

    #[test]
    fn edits_queue_fresh_reads_and_doubts_keep_the_entry() {
        let (table, mut wake) = LoginSnapshots::with_refresher(4);
        remember(&table, 1, "a@x");
        remember(&table, 2, "b@x");
        table.doubt(&[1]);
        assert!(table.get("a@x").is_some(), "kept while in doubt");
        assert!(wake.try_recv().is_ok());
        assert_eq!(table.take_refresh(), vec!["a@x".to_string()]);
        table.forget(&[2, 3]);
        assert!(table.get("b@x").is_none());
        assert_eq!(table.take_refresh(), vec!["b@x".to_string()]);
        // A spoiled read queues its account too.
        let guard = table.start_read(5);
        table.doubt(&[5]);
        table.finish_read(guard, snapshot(5, "e@x", "n"));
        assert!(table.get("e@x").is_none());
        assert_eq!(table.take_refresh(), vec!["e@x".to_string()]);
        table.doubt_email("a@x");
        assert_eq!(table.take_refresh(), vec!["a@x".to_string()]);
        drop(table);
        while wake.try_recv().is_ok() {}
        assert_eq!(
            wake.try_recv(),
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected),
            "the refresher ends with the table"
        );
    }

    #[test]
    fn a_deletion_queues_those_who_list_the_account() {
        let (table, _wake) = LoginSnapshots::with_refresher(4);
        let guard = table.start_read(1);
        let mut a = snapshot(1, "a@x", "n");
        a.list.contacts.push(crate::core::model::Contact {
            email: "gone@x".into(),
            nick: "gone".into(),
            lists: Default::default(),
            groups: Vec::new(),
        });
        table.finish_read(guard, a);
        remember(&table, 2, "b@x");
        remember(&table, 3, "gone@x");
        table.forget_deleted("gone@x");
        assert!(table.get("gone@x").is_none());
        assert!(table.get("a@x").is_some() && table.get("b@x").is_some());
        assert_eq!(table.take_refresh(), vec!["a@x".to_string()]);
    }

    #[test]
    fn an_abandoned_read_leaves_no_state() {
        let table = LoginSnapshots::with_capacity(2);
        drop(table.start_read(1));
        assert!(table.lock().reading.is_empty());
    }
}
