//! The rules of every store edit, written once over [`EditTx`]: the primitive,
//! per-backend operations inside one write transaction. Each backend implements
//! `EditTx` with its own SQL; the checks, their order, the version bumps and the
//! reverse-list bookkeeping live here so both backends behave the same.
//!
//! Locking: every edit first calls [`EditTx::lock_user`] on the users it touches,
//! in ascending id order, so concurrent edits on PostgreSQL cannot deadlock on each
//! other (SQLite write transactions are `BEGIN IMMEDIATE` and so already serial).

use super::{ListChange, SharedPhones, StoreError, StoreResult};
use crate::core::lists::{List, ListSet, MAX_GROUPS, MAX_LIST_ENTRIES, NewContactPrompt, Privacy};
use crate::core::model::{Account, Contact, ContactList, Group, UserId};
use crate::proto::command::PhoneKind;

/// Name of group 0, which every account starts with.
pub(crate) const DEFAULT_GROUP_NAME: &str = "Other Contacts";

/// Name of the ticket-signing secret in `server_secrets`.
pub(crate) const TICKET_SECRET_NAME: &str = "ticket";

/// Length in bytes of a freshly generated ticket secret.
pub(crate) const TICKET_SECRET_LEN: usize = 32;

/// The primitive operations of one write transaction. Dropping the value without
/// [`EditTx::commit`] rolls the transaction back.
pub(crate) trait EditTx: Sized {
    /// Commits the transaction.
    async fn commit(self) -> StoreResult<()>;
    /// Locks the user's row until commit; `false` if the user does not exist.
    async fn lock_user(&mut self, id: UserId) -> StoreResult<bool>;
    /// The account with this id.
    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<Account>>;
    /// The account with this email.
    async fn user_by_email(&mut self, email: &str) -> StoreResult<Option<Account>>;
    /// Inserts an account with default settings; `None` if the email is taken.
    async fn insert_user(
        &mut self,
        email: &str,
        nick: &str,
        password_hash: &str,
        md5: Option<(&str, &str)>,
    ) -> StoreResult<Option<UserId>>;
    /// Deletes an account (cascading to its rows and every entry naming it).
    async fn delete_user(&mut self, id: UserId) -> StoreResult<()>;
    /// Other users that have `contact` on any of their lists, ascending.
    async fn owners_listing(&mut self, contact: UserId) -> StoreResult<Vec<UserId>>;
    /// Bumps the version of every other user that has `contact` on a list.
    async fn bump_owners_listing(&mut self, contact: UserId) -> StoreResult<()>;
    /// Bumps the user's list version by one and returns the new version.
    async fn bump_version(&mut self, id: UserId) -> StoreResult<u32>;
    /// The lists of `owner` that `contact` is on (empty if none).
    async fn lists(&mut self, owner: UserId, contact: UserId) -> StoreResult<ListSet>;
    /// Stores the lists of `owner` that `contact` is on, deleting the entry when empty.
    async fn set_lists(
        &mut self,
        owner: UserId,
        contact: UserId,
        lists: ListSet,
    ) -> StoreResult<()>;
    /// How many entries `owner`'s `list` holds.
    async fn list_len(&mut self, owner: UserId, list: List) -> StoreResult<usize>;
    /// The ids of `owner`'s groups, ascending.
    async fn group_ids(&mut self, owner: UserId) -> StoreResult<Vec<u32>>;
    /// Whether `owner` has group `group`.
    async fn group_exists(&mut self, owner: UserId, group: u32) -> StoreResult<bool>;
    /// Inserts a group.
    async fn insert_group(&mut self, owner: UserId, group: u32, name: &str) -> StoreResult<()>;
    /// Deletes a group and its memberships; `false` if there was no such group.
    async fn delete_group(&mut self, owner: UserId, group: u32) -> StoreResult<bool>;
    /// Renames a group; `false` if there is no such group.
    async fn rename_group(&mut self, owner: UserId, group: u32, name: &str) -> StoreResult<bool>;
    /// Whether `contact` is in `owner`'s group `group`.
    async fn is_member(&mut self, owner: UserId, contact: UserId, group: u32) -> StoreResult<bool>;
    /// Puts `contact` (already on `owner`'s FL) in group `group`.
    async fn add_member(&mut self, owner: UserId, contact: UserId, group: u32) -> StoreResult<()>;
    /// Takes `contact` out of group `group`; `false` if it was not in it.
    async fn remove_member(
        &mut self,
        owner: UserId,
        contact: UserId,
        group: u32,
    ) -> StoreResult<bool>;
    /// Takes `contact` out of all of `owner`'s groups.
    async fn clear_members(&mut self, owner: UserId, contact: UserId) -> StoreResult<()>;
    /// The user's `BLP` and `GTC` settings.
    async fn settings(&mut self, user: UserId) -> StoreResult<(Privacy, NewContactPrompt)>;
    /// Stores the `BLP` setting.
    async fn set_privacy(&mut self, user: UserId, privacy: Privacy) -> StoreResult<()>;
    /// Stores the `GTC` setting.
    async fn set_prompt(&mut self, user: UserId, prompt: NewContactPrompt) -> StoreResult<()>;
    /// Stores the friendly name.
    async fn set_nick(&mut self, user: UserId, nick: &str) -> StoreResult<()>;
    /// Stores (or, with `None`, deletes) one phone number.
    async fn set_phone(
        &mut self,
        user: UserId,
        kind: PhoneKind,
        value: Option<&str>,
    ) -> StoreResult<()>;
}

/// Locks `ids` in ascending order (duplicates once); returns the ids that do not exist.
async fn lock_all<T: EditTx>(tx: &mut T, ids: &[UserId]) -> StoreResult<Vec<UserId>> {
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut missing = Vec::new();
    for id in sorted {
        if !tx.lock_user(id).await? {
            missing.push(id);
        }
    }
    Ok(missing)
}

/// Creates an account with group 0 and default settings.
pub(crate) async fn create_user<T: EditTx>(
    mut tx: T,
    email: &str,
    nick: &str,
    password_hash: &str,
    md5: Option<(&str, &str)>,
) -> StoreResult<Account> {
    let id = tx
        .insert_user(email, nick, password_hash, md5)
        .await?
        .ok_or(StoreError::UserExists)?;
    tx.insert_group(id, 0, DEFAULT_GROUP_NAME).await?;
    tx.commit().await?;
    Ok(Account {
        id,
        email: email.to_owned(),
        nick: nick.to_owned(),
    })
}

/// Deletes an account; every user that had it on a list gets a new version.
pub(crate) async fn delete_user<T: EditTx>(mut tx: T, email: &str) -> StoreResult<()> {
    let account = tx
        .user_by_email(email)
        .await?
        .ok_or(StoreError::UnknownUser)?;
    let mut ids = tx.owners_listing(account.id).await?;
    ids.push(account.id);
    lock_all(&mut tx, &ids).await?;
    if tx.user_by_id(account.id).await?.is_none() {
        return Err(StoreError::UnknownUser);
    }
    // With the account locked no new entry naming it can appear; lock owners that
    // appeared between the first look and the lock (rare, so order is not kept).
    for owner in tx.owners_listing(account.id).await? {
        if !ids.contains(&owner) {
            tx.lock_user(owner).await?;
        }
    }
    tx.bump_owners_listing(account.id).await?;
    tx.delete_user(account.id).await?;
    tx.commit().await
}

/// Looks up the contact by email and locks owner and contact; returns the contact
/// with its current nick, or `missing` if there is no such contact.
async fn lock_owner_and_contact<T: EditTx>(
    tx: &mut T,
    owner: UserId,
    contact_email: &str,
    missing: StoreError,
) -> StoreResult<Account> {
    let Some(found) = tx.user_by_email(contact_email).await? else {
        // Still report an unknown owner as such.
        lock_existing(tx, owner).await?;
        return Err(missing);
    };
    if lock_all(tx, &[owner, found.id]).await?.contains(&owner) {
        return Err(StoreError::UnknownUser);
    }
    // Re-read under the lock: the contact may have been renamed or deleted.
    tx.user_by_id(found.id).await?.ok_or(missing)
}

/// Adds a contact to one of the owner's lists (see [`super::Store::add_contact`]).
pub(crate) async fn add_contact<T: EditTx>(
    mut tx: T,
    owner: UserId,
    list: List,
    contact_email: &str,
    group: Option<u32>,
) -> StoreResult<ListChange> {
    let contact =
        lock_owner_and_contact(&mut tx, owner, contact_email, StoreError::UnknownUser).await?;
    let current = tx.lists(owner, contact.id).await?;
    let mut reverse_version = None;
    match list {
        List::Forward => {
            if let Some(group) = group
                && !tx.group_exists(owner, group).await?
            {
                return Err(StoreError::UnknownGroup);
            }
            if current.contains(List::Forward) {
                // Already on FL: only a new group membership is an edit.
                let Some(group) = group else {
                    return Err(StoreError::AlreadyInList);
                };
                if tx.is_member(owner, contact.id, group).await? {
                    return Err(StoreError::AlreadyInList);
                }
                tx.add_member(owner, contact.id, group).await?;
            } else {
                if tx.list_len(owner, List::Forward).await? >= MAX_LIST_ENTRIES {
                    return Err(StoreError::ListFull);
                }
                tx.set_lists(owner, contact.id, current.with(List::Forward))
                    .await?;
                tx.add_member(owner, contact.id, group.unwrap_or(0)).await?;
                // Read the reverse entry only now: owner and contact may be the same user.
                let reverse = tx.lists(contact.id, owner).await?;
                if !reverse.contains(List::Reverse) {
                    tx.set_lists(contact.id, owner, reverse.with(List::Reverse))
                        .await?;
                    reverse_version = Some(());
                }
            }
        }
        List::Allow | List::Block | List::Reverse => {
            if current.contains(list) {
                return Err(StoreError::AlreadyInList);
            }
            if list.opposite().is_some_and(|other| current.contains(other)) {
                return Err(StoreError::InOppositeList);
            }
            if list != List::Reverse && tx.list_len(owner, list).await? >= MAX_LIST_ENTRIES {
                return Err(StoreError::ListFull);
            }
            tx.set_lists(owner, contact.id, current.with(list)).await?;
        }
    }
    let version = tx.bump_version(owner).await?;
    let reverse_version = match reverse_version {
        Some(()) => Some(tx.bump_version(contact.id).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(ListChange {
        version,
        contact,
        reverse_version,
    })
}

/// Removes a contact from one of the owner's lists (see [`super::Store::remove_contact`]).
pub(crate) async fn remove_contact<T: EditTx>(
    mut tx: T,
    owner: UserId,
    list: List,
    contact_email: &str,
    group: Option<u32>,
) -> StoreResult<ListChange> {
    let contact =
        lock_owner_and_contact(&mut tx, owner, contact_email, StoreError::NotInList).await?;
    let current = tx.lists(owner, contact.id).await?;
    let mut reverse_version = None;
    match (list, group) {
        (List::Forward, Some(group)) => {
            if !tx.group_exists(owner, group).await? {
                return Err(StoreError::UnknownGroup);
            }
            if !current.contains(List::Forward)
                || !tx.remove_member(owner, contact.id, group).await?
            {
                return Err(StoreError::NotInList);
            }
        }
        (List::Forward, None) => {
            if !current.contains(List::Forward) {
                return Err(StoreError::NotInList);
            }
            tx.clear_members(owner, contact.id).await?;
            tx.set_lists(owner, contact.id, current.without(List::Forward))
                .await?;
            let reverse = tx.lists(contact.id, owner).await?;
            if reverse.contains(List::Reverse) {
                tx.set_lists(contact.id, owner, reverse.without(List::Reverse))
                    .await?;
                reverse_version = Some(());
            }
        }
        (List::Allow | List::Block | List::Reverse, _) => {
            if !current.contains(list) {
                return Err(StoreError::NotInList);
            }
            tx.set_lists(owner, contact.id, current.without(list))
                .await?;
        }
    }
    let version = tx.bump_version(owner).await?;
    let reverse_version = match reverse_version {
        Some(()) => Some(tx.bump_version(contact.id).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(ListChange {
        version,
        contact,
        reverse_version,
    })
}

/// Locks `user`; `UnknownUser` if it does not exist.
async fn lock_existing<T: EditTx>(tx: &mut T, user: UserId) -> StoreResult<()> {
    if tx.lock_user(user).await? {
        Ok(())
    } else {
        Err(StoreError::UnknownUser)
    }
}

/// The lowest group id ≥ 1 not in `taken` (ascending).
fn lowest_free_group_id(taken: &[u32]) -> u32 {
    let mut candidate = 1;
    for &id in taken {
        if id == candidate {
            candidate += 1;
        } else if id > candidate {
            break;
        }
    }
    candidate
}

/// Adds a group with the lowest free id.
pub(crate) async fn add_group<T: EditTx>(
    mut tx: T,
    owner: UserId,
    name: &str,
) -> StoreResult<(u32, Group)> {
    lock_existing(&mut tx, owner).await?;
    let taken = tx.group_ids(owner).await?;
    if taken.len() >= MAX_GROUPS {
        return Err(StoreError::TooManyGroups);
    }
    let id = lowest_free_group_id(&taken);
    tx.insert_group(owner, id, name).await?;
    let version = tx.bump_version(owner).await?;
    tx.commit().await?;
    Ok((
        version,
        Group {
            id,
            name: name.to_owned(),
        },
    ))
}

/// Removes a group (not group 0).
pub(crate) async fn remove_group<T: EditTx>(
    mut tx: T,
    owner: UserId,
    group: u32,
) -> StoreResult<u32> {
    if group == 0 {
        return Err(StoreError::CannotRemoveGroupZero);
    }
    lock_existing(&mut tx, owner).await?;
    if !tx.delete_group(owner, group).await? {
        return Err(StoreError::UnknownGroup);
    }
    let version = tx.bump_version(owner).await?;
    tx.commit().await?;
    Ok(version)
}

/// Renames a group.
pub(crate) async fn rename_group<T: EditTx>(
    mut tx: T,
    owner: UserId,
    group: u32,
    name: &str,
) -> StoreResult<u32> {
    lock_existing(&mut tx, owner).await?;
    if !tx.rename_group(owner, group, name).await? {
        return Err(StoreError::UnknownGroup);
    }
    let version = tx.bump_version(owner).await?;
    tx.commit().await?;
    Ok(version)
}

/// Sets the friendly name.
pub(crate) async fn set_nick<T: EditTx>(mut tx: T, user: UserId, nick: &str) -> StoreResult<u32> {
    lock_existing(&mut tx, user).await?;
    tx.set_nick(user, nick).await?;
    let version = tx.bump_version(user).await?;
    tx.commit().await?;
    Ok(version)
}

/// Sets `BLP`.
pub(crate) async fn set_privacy<T: EditTx>(
    mut tx: T,
    user: UserId,
    privacy: Privacy,
) -> StoreResult<u32> {
    lock_existing(&mut tx, user).await?;
    if tx.settings(user).await?.0 == privacy {
        return Err(StoreError::AlreadyInMode);
    }
    tx.set_privacy(user, privacy).await?;
    let version = tx.bump_version(user).await?;
    tx.commit().await?;
    Ok(version)
}

/// Sets `GTC`.
pub(crate) async fn set_prompt<T: EditTx>(
    mut tx: T,
    user: UserId,
    prompt: NewContactPrompt,
) -> StoreResult<u32> {
    lock_existing(&mut tx, user).await?;
    if tx.settings(user).await?.1 == prompt {
        return Err(StoreError::AlreadyInMode);
    }
    tx.set_prompt(user, prompt).await?;
    let version = tx.bump_version(user).await?;
    tx.commit().await?;
    Ok(version)
}

/// Sets or clears a phone number.
pub(crate) async fn set_phone<T: EditTx>(
    mut tx: T,
    user: UserId,
    kind: PhoneKind,
    value: Option<&str>,
) -> StoreResult<u32> {
    lock_existing(&mut tx, user).await?;
    tx.set_phone(user, kind, value).await?;
    let version = tx.bump_version(user).await?;
    tx.commit().await?;
    Ok(version)
}

// ---- decoding stored values, shared by both backends ----

/// A stored list version as the API's `u32`.
pub(crate) fn version_from_db(value: i64) -> StoreResult<u32> {
    u32::try_from(value)
        .map_err(|_| StoreError::Unavailable(format!("list version {value} out of range")))
}

/// A stored group id as the API's `u32`.
pub(crate) fn group_from_db(value: i64) -> StoreResult<u32> {
    u32::try_from(value)
        .map_err(|_| StoreError::Unavailable(format!("group id {value} out of range")))
}

/// A stored list bitmask.
pub(crate) fn lists_from_db(value: i64) -> StoreResult<ListSet> {
    u8::try_from(value)
        .ok()
        .filter(|bits| *bits <= 0x0f)
        .map(ListSet)
        .ok_or_else(|| StoreError::Unavailable(format!("list bitmask {value} out of range")))
}

/// A stored `BLP` code.
pub(crate) fn privacy_from_db(code: &str) -> StoreResult<Privacy> {
    Privacy::from_code(code)
        .ok_or_else(|| StoreError::Unavailable(format!("bad stored privacy {code:?}")))
}

/// A stored `GTC` code.
pub(crate) fn prompt_from_db(code: &str) -> StoreResult<NewContactPrompt> {
    NewContactPrompt::from_code(code)
        .ok_or_else(|| StoreError::Unavailable(format!("bad stored prompt {code:?}")))
}

/// A stored phone kind code.
pub(crate) fn phone_kind_from_db(code: &str) -> StoreResult<PhoneKind> {
    PhoneKind::from_code(code)
        .ok_or_else(|| StoreError::Unavailable(format!("bad stored phone kind {code:?}")))
}

/// Sorts phones in `BPR` order: PHH, PHW, PHM, MOB.
pub(crate) fn sort_phones(phones: &mut [(PhoneKind, String)]) {
    phones.sort_by_key(|(kind, _)| match kind {
        PhoneKind::Home => 0,
        PhoneKind::Work => 1,
        PhoneKind::Mobile => 2,
        PhoneKind::MobileAllowed => 3,
    });
}

/// Groups `(email, kind, value)` rows (ordered by email) into each account's
/// phones in `BPR` order.
pub(crate) fn group_shared_phones(
    rows: Vec<(String, String, String)>,
) -> StoreResult<SharedPhones> {
    let mut shared = SharedPhones::new();
    for (email, kind, value) in rows {
        shared
            .entry(email)
            .or_default()
            .push((phone_kind_from_db(&kind)?, value));
    }
    for phones in shared.values_mut() {
        sort_phones(phones);
    }
    Ok(shared)
}

/// One stored contact entry before its groups are attached.
pub(crate) struct ContactRow {
    /// The contact's id.
    pub id: UserId,
    /// The contact's email.
    pub email: String,
    /// The contact's current nick.
    pub nick: String,
    /// The stored bitmask.
    pub lists: i64,
}

/// Builds a [`ContactList`] from the rows a backend read in one snapshot.
/// `members` are `(contact id, group id)` pairs.
pub(crate) fn assemble_contact_list(
    version: i64,
    privacy: &str,
    prompt: &str,
    groups: Vec<(i64, String)>,
    contacts: Vec<ContactRow>,
    members: Vec<(UserId, i64)>,
) -> StoreResult<ContactList> {
    let mut memberships: std::collections::HashMap<UserId, Vec<u32>> =
        std::collections::HashMap::new();
    for (contact, group) in members {
        memberships
            .entry(contact)
            .or_default()
            .push(group_from_db(group)?);
    }
    let mut groups = groups
        .into_iter()
        .map(|(id, name)| {
            Ok(Group {
                id: group_from_db(id)?,
                name,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    groups.sort_by_key(|g| g.id);
    let mut contacts = contacts
        .into_iter()
        .map(|row| {
            let mut groups = memberships.remove(&row.id).unwrap_or_default();
            groups.sort_unstable();
            Ok(Contact {
                email: row.email,
                nick: row.nick,
                lists: lists_from_db(row.lists)?,
                groups,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    contacts.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(ContactList {
        version: version_from_db(version)?,
        privacy: privacy_from_db(privacy)?,
        prompt: prompt_from_db(prompt)?,
        groups,
        contacts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_free_group() {
        assert_eq!(lowest_free_group_id(&[0]), 1);
        assert_eq!(lowest_free_group_id(&[0, 1, 2]), 3);
        assert_eq!(lowest_free_group_id(&[0, 1, 3]), 2);
        assert_eq!(lowest_free_group_id(&[0, 2, 3]), 1);
        assert_eq!(lowest_free_group_id(&[]), 1);
    }

    #[test]
    fn stored_values() {
        assert_eq!(lists_from_db(9).ok(), Some(ListSet(9)));
        assert!(lists_from_db(16).is_err());
        assert!(lists_from_db(-1).is_err());
        assert!(version_from_db(-1).is_err());
        assert_eq!(version_from_db(7).ok(), Some(7));
        assert!(privacy_from_db("XX").is_err());
        assert!(prompt_from_db("Q").is_err());
        assert!(phone_kind_from_db("PHX").is_err());
        let mut phones = vec![
            (PhoneKind::MobileAllowed, "Y".to_owned()),
            (PhoneKind::Home, "1".to_owned()),
            (PhoneKind::Mobile, "3".to_owned()),
            (PhoneKind::Work, "2".to_owned()),
        ];
        sort_phones(&mut phones);
        let kinds: Vec<_> = phones.iter().map(|(k, _)| k.code()).collect();
        assert_eq!(kinds, ["PHH", "PHW", "PHM", "MOB"]);
    }
}
