//! The store contract suite: one set of async cases, each taking a fresh, migrated
//! [`Store`], run on in-memory SQLite (one test per case), on PostgreSQL when
//! `MSNPD_TEST_POSTGRES_URL` is set (one test running every case, each in its own
//! throw-away schema), plus file-backed SQLite checks (pragmas, reopening,
//! concurrent writers) and a check that both backends ship the same migrations.
//! The message cases are in `contract_tests/messages.rs`.

#[cfg(feature = "postgres")]
use std::{future::Future, pin::Pin};

use super::testing;
use super::*;
use crate::core::lists::{ListSet, MAX_GROUPS, MAX_LIST_ENTRIES};

/// One contract case.
#[cfg(feature = "postgres")]
type Case = for<'a> fn(&'a Store) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Declares the cases: a `CASES` table and one in-memory SQLite test per case.
macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// Every contract case with its name.
        #[cfg(feature = "postgres")]
        const CASES: &[(&str, Case)] = &[$((stringify!($name), |store| Box::pin($name(store)))),*];

        /// Each case on a fresh in-memory SQLite store.
        #[cfg(feature = "sqlite")]
        mod sqlite_memory {
            $(
                #[tokio::test]
                async fn $name() {
                    let store = super::testing::memory_store().await.unwrap();
                    super::$name(&store).await;
                    store.close().await;
                }
            )*
        }
    };
}

cases!(
    accounts_create_read_and_list,
    duplicate_account_is_refused,
    unknown_accounts,
    new_account_defaults,
    password_changes,
    ticket_secret_is_created_once,
    forward_add_sets_reverse_list,
    forward_add_when_already_on_reverse_list,
    forward_groups,
    forward_remove_whole_entry,
    forward_remove_group_membership,
    allow_and_block_are_exclusive,
    reverse_list_edits,
    adding_yourself,
    lists_are_limited,
    group_lifecycle,
    group_limit,
    privacy_and_prompt,
    nick_changes_show_in_lists,
    phone_numbers,
    phones_shared_with_allowed_contacts,
    unknown_owner,
    deleting_an_account,
    concurrent_edits_get_distinct_versions,
    store_lifecycle,
    offline_queue_enqueue_read_remove,
    offline_queue_order_and_limit,
    history_is_numbered_per_conversation,
    queue_cap_refuses_the_whole_message,
    unknown_recipients_are_refused,
    late_queue_entries_refer_to_existing_history,
    concurrent_writes_get_gapless_sequence_numbers,
    unawaited_writes_commit_in_order_and_close_flushes,
    deleting_an_account_drops_its_queue_and_pair_history,
    one_message_for_many_recipients,
);

// ---- helpers ----

/// Creates an account named `<name>@example.com` with nick `<name>`.
async fn user(store: &Store, name: &str) -> Account {
    store
        .create_user(&format!("{name}@example.com"), name, "hash", None)
        .await
        .unwrap()
}

/// `<name>@example.com`.
fn email(name: &str) -> String {
    format!("{name}@example.com")
}

/// The entry for `<name>@example.com` in `user`'s list.
async fn entry(store: &Store, user: UserId, name: &str) -> Option<crate::core::model::Contact> {
    store
        .contact_list(user)
        .await
        .unwrap()
        .contact(&email(name))
        .cloned()
}

/// `user`'s list version.
async fn version(store: &Store, user: UserId) -> u32 {
    store.contact_list(user).await.unwrap().version
}

/// Asserts `result` failed with the error matching `pattern`.
macro_rules! assert_err {
    ($result:expr, $pattern:pat) => {
        match $result {
            Err($pattern) => {}
            other => panic!("expected {}, got {other:?}", stringify!($pattern)),
        }
    };
}

fn set(lists: &[List]) -> ListSet {
    lists
        .iter()
        .fold(ListSet::default(), |set, list| set.with(*list))
}

// Message cases (offline queue, history, group commit) live in their own file.
mod messages;
use messages::*;

// ---- cases ----

async fn accounts_create_read_and_list(store: &Store) {
    let bob = store
        .create_user(
            "bob@example.com",
            "Bob B",
            "hash-b",
            Some(("salt", "verifier")),
        )
        .await
        .unwrap();
    assert_eq!(bob.email, "bob@example.com");
    assert_eq!(bob.nick, "Bob B");
    // Byte order: '.' (0x2e) sorts before 'b', whatever the database collation says.
    let ab = user(store, "ab").await;
    let a_c = user(store, "a.c").await;
    assert_ne!(bob.id, ab.id);
    assert_eq!(store.account("bob@example.com").await.unwrap(), bob);

    let creds = store.credentials("bob@example.com").await.unwrap();
    assert_eq!(creds.account, bob);
    assert_eq!(creds.password_hash, "hash-b");
    assert_eq!(creds.md5_salt.as_deref(), Some("salt"));
    assert_eq!(creds.md5_verifier.as_deref(), Some("verifier"));
    let creds = store.credentials(&email("ab")).await.unwrap();
    assert_eq!(creds.md5_salt, None);
    assert_eq!(creds.md5_verifier, None);

    assert_eq!(store.list_users().await.unwrap(), vec![a_c, ab, bob]);
}

async fn duplicate_account_is_refused(store: &Store) {
    let first = user(store, "alice").await;
    assert_err!(
        store.create_user(&email("alice"), "other", "x", None).await,
        StoreError::UserExists
    );
    // The first account is untouched.
    let creds = store.credentials(&email("alice")).await.unwrap();
    assert_eq!(creds.account, first);
    assert_eq!(creds.password_hash, "hash");
    assert_eq!(store.list_users().await.unwrap().len(), 1);
}

async fn unknown_accounts(store: &Store) {
    assert_err!(
        store.account("nobody@example.com").await,
        StoreError::UnknownUser
    );
    assert_err!(
        store.credentials("nobody@example.com").await,
        StoreError::UnknownUser
    );
    assert_err!(
        store.set_password("nobody@example.com", "x", None).await,
        StoreError::UnknownUser
    );
    assert_err!(
        store.delete_user("nobody@example.com").await,
        StoreError::UnknownUser
    );
    assert!(store.list_users().await.unwrap().is_empty());
}

async fn new_account_defaults(store: &Store) {
    let alice = user(store, "alice").await;
    let list = store.contact_list(alice.id).await.unwrap();
    assert_eq!(list.version, 0);
    assert_eq!(list.privacy, Privacy::AllowAll);
    assert_eq!(list.prompt, NewContactPrompt::Ask);
    assert_eq!(
        list.groups,
        vec![Group {
            id: 0,
            name: "Other Contacts".to_owned()
        }]
    );
    assert!(list.contacts.is_empty());
    assert!(store.phones(alice.id).await.unwrap().is_empty());
}

async fn password_changes(store: &Store) {
    let alice = user(store, "alice").await;
    store
        .set_password(&email("alice"), "hash2", Some(("s2", "v2")))
        .await
        .unwrap();
    let creds = store.credentials(&email("alice")).await.unwrap();
    assert_eq!(creds.password_hash, "hash2");
    assert_eq!(creds.md5_salt.as_deref(), Some("s2"));
    assert_eq!(creds.md5_verifier.as_deref(), Some("v2"));
    store
        .set_password(&email("alice"), "hash3", None)
        .await
        .unwrap();
    let creds = store.credentials(&email("alice")).await.unwrap();
    assert_eq!(creds.password_hash, "hash3");
    assert_eq!((creds.md5_salt, creds.md5_verifier), (None, None));
    // Not a list change.
    assert_eq!(version(store, alice.id).await, 0);
}

async fn ticket_secret_is_created_once(store: &Store) {
    let (a, b, c) = tokio::join!(
        store.ticket_secret(),
        store.ticket_secret(),
        store.ticket_secret()
    );
    let a = a.unwrap();
    assert_eq!(a.len(), 32);
    assert!(a.iter().any(|byte| *byte != 0));
    assert_eq!(b.unwrap(), a);
    assert_eq!(c.unwrap(), a);
    assert_eq!(store.ticket_secret().await.unwrap(), a);
}

async fn forward_add_sets_reverse_list(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let change = store
        .add_contact(alice.id, List::Forward, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!(
        change,
        ListChange {
            version: 1,
            contact: bob.clone(),
            reverse_version: Some(1),
        }
    );
    let on_alice = entry(store, alice.id, "bob").await.unwrap();
    assert_eq!(on_alice.nick, "bob");
    assert_eq!(on_alice.lists, set(&[List::Forward]));
    assert_eq!(on_alice.groups, vec![0]);
    let on_bob = entry(store, bob.id, "alice").await.unwrap();
    assert_eq!(on_bob.lists, set(&[List::Reverse]));
    assert!(on_bob.groups.is_empty());
    assert_eq!(version(store, bob.id).await, 1);

    // Bob adds Alice back: both entries now carry FL and RL.
    let change = store
        .add_contact(bob.id, List::Forward, &email("alice"), None)
        .await
        .unwrap();
    assert_eq!((change.version, change.reverse_version), (2, Some(2)));
    assert_eq!(change.contact, alice);
    let on_alice = entry(store, alice.id, "bob").await.unwrap();
    assert_eq!(on_alice.lists, set(&[List::Forward, List::Reverse]));
    let on_bob = entry(store, bob.id, "alice").await.unwrap();
    assert_eq!(on_bob.lists, set(&[List::Forward, List::Reverse]));
    assert_eq!(on_bob.groups, vec![0]);

    assert_err!(
        store
            .add_contact(alice.id, List::Forward, &email("bob"), None)
            .await,
        StoreError::AlreadyInList
    );
    assert_err!(
        store
            .add_contact(alice.id, List::Forward, &email("nobody"), None)
            .await,
        StoreError::UnknownUser
    );
    assert_eq!(version(store, alice.id).await, 2);
}

async fn forward_add_when_already_on_reverse_list(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    // Bob's RL already names Alice (not something a client can do; the store allows it).
    let change = store
        .add_contact(bob.id, List::Reverse, &email("alice"), None)
        .await
        .unwrap();
    assert_eq!((change.version, change.reverse_version), (1, None));
    let change = store
        .add_contact(alice.id, List::Forward, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!((change.version, change.reverse_version), (1, None));
    assert_eq!(version(store, bob.id).await, 1);
}

async fn forward_groups(store: &Store) {
    let alice = user(store, "alice").await;
    user(store, "bob").await;
    user(store, "carol").await;
    let (v, friends) = store.add_group(alice.id, "Friends").await.unwrap();
    assert_eq!((v, friends.id), (1, 1));
    let (_, work) = store.add_group(alice.id, "Work").await.unwrap();
    assert_eq!(work.id, 2);

    let change = store
        .add_contact(alice.id, List::Forward, &email("bob"), Some(2))
        .await
        .unwrap();
    assert_eq!((change.version, change.reverse_version), (3, Some(1)));
    assert_eq!(entry(store, alice.id, "bob").await.unwrap().groups, vec![2]);

    // Already on FL: another group is only a membership, without reverse change.
    let change = store
        .add_contact(alice.id, List::Forward, &email("bob"), Some(1))
        .await
        .unwrap();
    assert_eq!((change.version, change.reverse_version), (4, None));
    let change = store
        .add_contact(alice.id, List::Forward, &email("bob"), Some(0))
        .await
        .unwrap();
    assert_eq!(change.version, 5);
    assert_eq!(
        entry(store, alice.id, "bob").await.unwrap().groups,
        vec![0, 1, 2]
    );
    assert_err!(
        store
            .add_contact(alice.id, List::Forward, &email("bob"), Some(1))
            .await,
        StoreError::AlreadyInList
    );
    assert_err!(
        store
            .add_contact(alice.id, List::Forward, &email("bob"), None)
            .await,
        StoreError::AlreadyInList
    );
    assert_err!(
        store
            .add_contact(alice.id, List::Forward, &email("bob"), Some(9))
            .await,
        StoreError::UnknownGroup
    );
    assert_err!(
        store
            .add_contact(alice.id, List::Forward, &email("carol"), Some(u32::MAX))
            .await,
        StoreError::UnknownGroup
    );
    assert!(entry(store, alice.id, "carol").await.is_none());
    assert_eq!(version(store, alice.id).await, 5);
}

async fn forward_remove_whole_entry(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    store.add_group(alice.id, "Friends").await.unwrap(); // v1
    store
        .add_contact(alice.id, List::Forward, &email("bob"), Some(1))
        .await
        .unwrap(); // v2, bob v1
    store
        .add_contact(alice.id, List::Forward, &email("bob"), Some(0))
        .await
        .unwrap(); // v3
    store
        .add_contact(alice.id, List::Allow, &email("bob"), None)
        .await
        .unwrap(); // v4

    let change = store
        .remove_contact(alice.id, List::Forward, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!(
        change,
        ListChange {
            version: 5,
            contact: bob.clone(),
            reverse_version: Some(2),
        }
    );
    // Still on AL, no longer on FL nor in any group; Bob's RL entry is gone.
    let on_alice = entry(store, alice.id, "bob").await.unwrap();
    assert_eq!(on_alice.lists, set(&[List::Allow]));
    assert!(on_alice.groups.is_empty());
    assert!(entry(store, bob.id, "alice").await.is_none());
    assert_eq!(version(store, bob.id).await, 2);

    assert_err!(
        store
            .remove_contact(alice.id, List::Forward, &email("bob"), None)
            .await,
        StoreError::NotInList
    );
    // Re-adding starts in group 0 only (old memberships are gone).
    store
        .add_contact(alice.id, List::Forward, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!(entry(store, alice.id, "bob").await.unwrap().groups, vec![0]);

    // Removing FL when the reverse entry is already gone: no reverse change.
    store
        .remove_contact(bob.id, List::Reverse, &email("alice"), None)
        .await
        .unwrap();
    let change = store
        .remove_contact(alice.id, List::Forward, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!(change.reverse_version, None);
    store
        .remove_contact(alice.id, List::Allow, &email("bob"), None)
        .await
        .unwrap();
    // No lists left: no entry at all.
    assert!(entry(store, alice.id, "bob").await.is_none());
    assert!(
        store
            .contact_list(alice.id)
            .await
            .unwrap()
            .contacts
            .is_empty()
    );

    assert_err!(
        store
            .remove_contact(alice.id, List::Forward, &email("nobody"), None)
            .await,
        StoreError::NotInList
    );
}

async fn forward_remove_group_membership(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    user(store, "carol").await;
    store.add_group(alice.id, "Friends").await.unwrap(); // v1
    store
        .add_contact(alice.id, List::Forward, &email("bob"), Some(1))
        .await
        .unwrap(); // v2
    store
        .add_contact(alice.id, List::Forward, &email("bob"), Some(0))
        .await
        .unwrap(); // v3

    let change = store
        .remove_contact(alice.id, List::Forward, &email("bob"), Some(1))
        .await
        .unwrap();
    assert_eq!(
        change,
        ListChange {
            version: 4,
            contact: bob.clone(),
            reverse_version: None,
        }
    );
    let on_alice = entry(store, alice.id, "bob").await.unwrap();
    assert_eq!(on_alice.lists, set(&[List::Forward]));
    assert_eq!(on_alice.groups, vec![0]);
    assert!(entry(store, bob.id, "alice").await.is_some());

    assert_err!(
        store
            .remove_contact(alice.id, List::Forward, &email("bob"), Some(1))
            .await,
        StoreError::NotInList
    );
    assert_err!(
        store
            .remove_contact(alice.id, List::Forward, &email("bob"), Some(7))
            .await,
        StoreError::UnknownGroup
    );
    assert_err!(
        store
            .remove_contact(alice.id, List::Forward, &email("carol"), Some(0))
            .await,
        StoreError::NotInList
    );
    // The last membership can go too; the contact stays on FL.
    store
        .remove_contact(alice.id, List::Forward, &email("bob"), Some(0))
        .await
        .unwrap();
    let on_alice = entry(store, alice.id, "bob").await.unwrap();
    assert_eq!(on_alice.lists, set(&[List::Forward]));
    assert!(on_alice.groups.is_empty());
    assert_eq!(version(store, alice.id).await, 5);
}

async fn allow_and_block_are_exclusive(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let change = store
        .add_contact(alice.id, List::Allow, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!(
        change,
        ListChange {
            version: 1,
            contact: bob.clone(),
            reverse_version: None,
        }
    );
    assert_eq!(version(store, bob.id).await, 0);
    assert_err!(
        store
            .add_contact(alice.id, List::Block, &email("bob"), None)
            .await,
        StoreError::InOppositeList
    );
    assert_err!(
        store
            .add_contact(alice.id, List::Allow, &email("bob"), None)
            .await,
        StoreError::AlreadyInList
    );
    store
        .remove_contact(alice.id, List::Allow, &email("bob"), None)
        .await
        .unwrap(); // v2
    assert!(entry(store, alice.id, "bob").await.is_none());
    store
        .add_contact(alice.id, List::Block, &email("bob"), None)
        .await
        .unwrap(); // v3
    assert_err!(
        store
            .add_contact(alice.id, List::Allow, &email("bob"), None)
            .await,
        StoreError::InOppositeList
    );
    assert_err!(
        store
            .remove_contact(alice.id, List::Allow, &email("bob"), None)
            .await,
        StoreError::NotInList
    );
    // FL and BL may coexist; the group argument is ignored outside FL.
    store
        .add_contact(alice.id, List::Forward, &email("bob"), None)
        .await
        .unwrap(); // v4
    let on_alice = entry(store, alice.id, "bob").await.unwrap();
    assert_eq!(on_alice.lists, set(&[List::Forward, List::Block]));
    let change = store
        .remove_contact(alice.id, List::Block, &email("bob"), Some(5))
        .await
        .unwrap();
    assert_eq!((change.version, change.reverse_version), (5, None));
    assert_err!(
        store
            .remove_contact(alice.id, List::Block, &email("bob"), None)
            .await,
        StoreError::NotInList
    );
    assert_err!(
        store
            .add_contact(alice.id, List::Block, &email("nobody"), None)
            .await,
        StoreError::UnknownUser
    );
    assert_err!(
        store
            .remove_contact(alice.id, List::Block, &email("nobody"), None)
            .await,
        StoreError::NotInList
    );
    assert_eq!(version(store, alice.id).await, 5);
}

async fn reverse_list_edits(store: &Store) {
    let alice = user(store, "alice").await;
    user(store, "bob").await;
    let change = store
        .add_contact(alice.id, List::Reverse, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!((change.version, change.reverse_version), (1, None));
    assert_err!(
        store
            .add_contact(alice.id, List::Reverse, &email("bob"), None)
            .await,
        StoreError::AlreadyInList
    );
    let change = store
        .remove_contact(alice.id, List::Reverse, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!((change.version, change.reverse_version), (2, None));
    assert_err!(
        store
            .remove_contact(alice.id, List::Reverse, &email("bob"), None)
            .await,
        StoreError::NotInList
    );
}

async fn adding_yourself(store: &Store) {
    let alice = user(store, "alice").await;
    let change = store
        .add_contact(alice.id, List::Forward, &email("alice"), None)
        .await
        .unwrap();
    assert_eq!(
        change,
        ListChange {
            version: 1,
            contact: alice.clone(),
            reverse_version: Some(2),
        }
    );
    let own = entry(store, alice.id, "alice").await.unwrap();
    assert_eq!(own.lists, set(&[List::Forward, List::Reverse]));
    assert_eq!(own.groups, vec![0]);
    let change = store
        .remove_contact(alice.id, List::Forward, &email("alice"), None)
        .await
        .unwrap();
    assert_eq!((change.version, change.reverse_version), (3, Some(4)));
    assert!(entry(store, alice.id, "alice").await.is_none());
}

async fn lists_are_limited(store: &Store) {
    let alice = user(store, "alice").await;
    let mut names = Vec::with_capacity(MAX_LIST_ENTRIES + 1);
    for n in 0..=MAX_LIST_ENTRIES {
        let name = format!("u{n:04}");
        user(store, &name).await;
        names.push(name);
    }
    let (last, first) = names.split_last().unwrap();
    for name in first {
        store
            .add_contact(alice.id, List::Forward, &email(name), None)
            .await
            .unwrap();
        store
            .add_contact(alice.id, List::Block, &email(name), None)
            .await
            .unwrap();
    }
    assert_err!(
        store
            .add_contact(alice.id, List::Forward, &email(last), None)
            .await,
        StoreError::ListFull
    );
    assert_err!(
        store
            .add_contact(alice.id, List::Block, &email(last), None)
            .await,
        StoreError::ListFull
    );
    // AL is a list of its own and still empty.
    store
        .add_contact(alice.id, List::Allow, &email(last), None)
        .await
        .unwrap();
    // A new membership is not a new entry.
    store.add_group(alice.id, "More").await.unwrap();
    store
        .add_contact(alice.id, List::Forward, &email(&first[0]), Some(1))
        .await
        .unwrap();
    // The refused adds left no trace on the contact's side.
    assert_eq!(
        version(store, store.account(&email(last)).await.unwrap().id).await,
        0
    );
    let list = store.contact_list(alice.id).await.unwrap();
    assert_eq!(list.contacts.len(), MAX_LIST_ENTRIES + 1);
    assert_eq!(list.version, 2 * MAX_LIST_ENTRIES as u32 + 3);
    // Contacts come ascending by email.
    let emails: Vec<_> = list.contacts.iter().map(|c| c.email.clone()).collect();
    let mut sorted = emails.clone();
    sorted.sort();
    assert_eq!(emails, sorted);
}

async fn group_lifecycle(store: &Store) {
    let alice = user(store, "alice").await;
    user(store, "bob").await;
    for (expected_id, name) in [(1, "A"), (2, "B"), (3, "C")] {
        let (version, group) = store.add_group(alice.id, name).await.unwrap();
        assert_eq!(version, expected_id);
        assert_eq!(
            group,
            Group {
                id: expected_id,
                name: name.to_owned()
            }
        );
    }
    store
        .add_contact(alice.id, List::Forward, &email("bob"), Some(2))
        .await
        .unwrap(); // v4
    store
        .add_contact(alice.id, List::Forward, &email("bob"), Some(3))
        .await
        .unwrap(); // v5
    assert_eq!(store.remove_group(alice.id, 2).await.unwrap(), 6);
    // The member stays on FL, without that group.
    let on_alice = entry(store, alice.id, "bob").await.unwrap();
    assert_eq!(on_alice.lists, set(&[List::Forward]));
    assert_eq!(on_alice.groups, vec![3]);
    // The lowest free id is reused.
    let (version, group) = store.add_group(alice.id, "D").await.unwrap();
    assert_eq!((version, group.id), (7, 2));
    let (_, group) = store.add_group(alice.id, "E").await.unwrap();
    assert_eq!(group.id, 4);
    // A reused id does not bring old memberships back.
    assert_eq!(entry(store, alice.id, "bob").await.unwrap().groups, vec![3]);

    assert_eq!(store.rename_group(alice.id, 3, "Renamed").await.unwrap(), 9);
    assert_eq!(
        store.rename_group(alice.id, 0, "Everyone").await.unwrap(),
        10
    );
    assert_err!(
        store.rename_group(alice.id, 99, "x").await,
        StoreError::UnknownGroup
    );
    assert_err!(
        store.rename_group(alice.id, u32::MAX, "x").await,
        StoreError::UnknownGroup
    );
    assert_err!(
        store.remove_group(alice.id, 0).await,
        StoreError::CannotRemoveGroupZero
    );
    assert_err!(
        store.remove_group(alice.id, 99).await,
        StoreError::UnknownGroup
    );
    assert_err!(
        store.remove_group(alice.id, u32::MAX).await,
        StoreError::UnknownGroup
    );
    let list = store.contact_list(alice.id).await.unwrap();
    assert_eq!(list.version, 10);
    let groups: Vec<_> = list
        .groups
        .iter()
        .map(|g| (g.id, g.name.as_str()))
        .collect();
    assert_eq!(
        groups,
        [
            (0, "Everyone"),
            (1, "A"),
            (2, "D"),
            (3, "Renamed"),
            (4, "E")
        ]
    );
}

async fn group_limit(store: &Store) {
    let alice = user(store, "alice").await;
    for n in 1..MAX_GROUPS {
        let (_, group) = store.add_group(alice.id, &format!("g{n}")).await.unwrap();
        assert_eq!(group.id as usize, n);
    }
    assert_eq!(
        store.contact_list(alice.id).await.unwrap().groups.len(),
        MAX_GROUPS
    );
    assert_err!(
        store.add_group(alice.id, "one too many").await,
        StoreError::TooManyGroups
    );
    store.remove_group(alice.id, 5).await.unwrap();
    let (_, group) = store.add_group(alice.id, "again").await.unwrap();
    assert_eq!(group.id, 5);
    assert_eq!(version(store, alice.id).await, MAX_GROUPS as u32 + 1);
}

async fn privacy_and_prompt(store: &Store) {
    let alice = user(store, "alice").await;
    assert_err!(
        store.set_privacy(alice.id, Privacy::AllowAll).await,
        StoreError::AlreadyInMode
    );
    assert_eq!(
        store
            .set_privacy(alice.id, Privacy::BlockAll)
            .await
            .unwrap(),
        1
    );
    assert_err!(
        store.set_privacy(alice.id, Privacy::BlockAll).await,
        StoreError::AlreadyInMode
    );
    assert_err!(
        store.set_prompt(alice.id, NewContactPrompt::Ask).await,
        StoreError::AlreadyInMode
    );
    assert_eq!(
        store
            .set_prompt(alice.id, NewContactPrompt::Never)
            .await
            .unwrap(),
        2
    );
    let list = store.contact_list(alice.id).await.unwrap();
    assert_eq!(
        (list.version, list.privacy, list.prompt),
        (2, Privacy::BlockAll, NewContactPrompt::Never)
    );
    assert_eq!(
        store
            .set_privacy(alice.id, Privacy::AllowAll)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        store
            .set_prompt(alice.id, NewContactPrompt::Ask)
            .await
            .unwrap(),
        4
    );
    let list = store.contact_list(alice.id).await.unwrap();
    assert_eq!(
        (list.privacy, list.prompt),
        (Privacy::AllowAll, NewContactPrompt::Ask)
    );
}

async fn nick_changes_show_in_lists(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    store
        .add_contact(alice.id, List::Forward, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!(store.set_nick(bob.id, "Bobby Tables").await.unwrap(), 2);
    assert_eq!(
        store.account(&email("bob")).await.unwrap().nick,
        "Bobby Tables"
    );
    assert_eq!(
        entry(store, alice.id, "bob").await.unwrap().nick,
        "Bobby Tables"
    );
    // Setting the same nick is still an edit.
    assert_eq!(store.set_nick(bob.id, "Bobby Tables").await.unwrap(), 3);
    // ListChange carries the current nick.
    let change = store
        .add_contact(alice.id, List::Allow, &email("bob"), None)
        .await
        .unwrap();
    assert_eq!(change.contact.nick, "Bobby Tables");
    // Alice's own list is not changed by Bob's nick.
    assert_eq!(version(store, alice.id).await, 2);
}

async fn phone_numbers(store: &Store) {
    let alice = user(store, "alice").await;
    assert_eq!(
        store
            .set_phone(alice.id, PhoneKind::MobileAllowed, Some("Y"))
            .await
            .unwrap(),
        1
    );
    store
        .set_phone(alice.id, PhoneKind::Work, Some("555 0100"))
        .await
        .unwrap();
    store
        .set_phone(alice.id, PhoneKind::Home, Some("555 0199"))
        .await
        .unwrap();
    assert_eq!(
        store
            .set_phone(alice.id, PhoneKind::Home, Some("555 0123"))
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        store.phones(alice.id).await.unwrap(),
        vec![
            (PhoneKind::Home, "555 0123".to_owned()),
            (PhoneKind::Work, "555 0100".to_owned()),
            (PhoneKind::MobileAllowed, "Y".to_owned()),
        ]
    );
    assert_eq!(
        store
            .set_phone(alice.id, PhoneKind::Work, None)
            .await
            .unwrap(),
        5
    );
    // Clearing an unset number still answers with a new version.
    assert_eq!(
        store
            .set_phone(alice.id, PhoneKind::Mobile, None)
            .await
            .unwrap(),
        6
    );
    assert_eq!(
        store.phones(alice.id).await.unwrap(),
        vec![
            (PhoneKind::Home, "555 0123".to_owned()),
            (PhoneKind::MobileAllowed, "Y".to_owned()),
        ]
    );
    assert_eq!(version(store, alice.id).await, 6);
}

async fn phones_shared_with_allowed_contacts(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let dave = user(store, "dave").await;
    for (who, number) in [
        (&alice, "555 0001"),
        (&carol, "555 0003"),
        (&dave, "555 0004"),
    ] {
        store
            .set_phone(who.id, PhoneKind::Home, Some(number))
            .await
            .unwrap();
    }
    store
        .set_phone(alice.id, PhoneKind::MobileAllowed, Some("Y"))
        .await
        .unwrap();
    // Alice and Carol allow Bob; Dave only has him on FL and BL.
    store
        .add_contact(alice.id, List::Allow, &email("bob"), None)
        .await
        .unwrap();
    store
        .add_contact(carol.id, List::Allow, &email("bob"), None)
        .await
        .unwrap();
    store
        .add_contact(dave.id, List::Forward, &email("bob"), None)
        .await
        .unwrap();
    store
        .add_contact(dave.id, List::Block, &email("bob"), None)
        .await
        .unwrap();
    // Bob allows Alice but has no phones: nothing for Alice.
    store
        .add_contact(bob.id, List::Allow, &email("alice"), None)
        .await
        .unwrap();
    let shared = store.phones_shared_with(bob.id).await.unwrap();
    assert_eq!(
        shared.into_iter().collect::<Vec<_>>(),
        vec![
            (
                email("alice"),
                vec![
                    (PhoneKind::Home, "555 0001".to_owned()),
                    (PhoneKind::MobileAllowed, "Y".to_owned()),
                ]
            ),
            (
                email("carol"),
                vec![(PhoneKind::Home, "555 0003".to_owned())]
            ),
        ]
    );
    assert!(store.phones_shared_with(alice.id).await.unwrap().is_empty());
    assert!(
        store
            .phones_shared_with(987_654_321)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn unknown_owner(store: &Store) {
    user(store, "bob").await;
    let ghost: UserId = 987_654_321;
    assert_err!(store.contact_list(ghost).await, StoreError::UnknownUser);
    assert_err!(store.phones(ghost).await, StoreError::UnknownUser);
    for list in List::ALL {
        assert_err!(
            store.add_contact(ghost, list, &email("bob"), None).await,
            StoreError::UnknownUser
        );
        assert_err!(
            store.remove_contact(ghost, list, &email("bob"), None).await,
            StoreError::UnknownUser
        );
    }
    assert_err!(
        store
            .add_contact(ghost, List::Forward, &email("nobody"), None)
            .await,
        StoreError::UnknownUser
    );
    assert_err!(
        store
            .remove_contact(ghost, List::Forward, &email("nobody"), None)
            .await,
        StoreError::UnknownUser
    );
    assert_err!(store.add_group(ghost, "g").await, StoreError::UnknownUser);
    assert_err!(store.remove_group(ghost, 1).await, StoreError::UnknownUser);
    assert_err!(
        store.rename_group(ghost, 0, "g").await,
        StoreError::UnknownUser
    );
    assert_err!(store.set_nick(ghost, "n").await, StoreError::UnknownUser);
    assert_err!(
        store.set_privacy(ghost, Privacy::BlockAll).await,
        StoreError::UnknownUser
    );
    assert_err!(
        store.set_prompt(ghost, NewContactPrompt::Never).await,
        StoreError::UnknownUser
    );
    assert_err!(
        store.set_phone(ghost, PhoneKind::Home, Some("1")).await,
        StoreError::UnknownUser
    );
    // Nothing was written on Bob's side.
    let bob = store.account(&email("bob")).await.unwrap();
    let list = store.contact_list(bob.id).await.unwrap();
    assert_eq!((list.version, list.contacts.len()), (0, 0));
}

async fn deleting_an_account(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    store.add_group(bob.id, "Friends").await.unwrap(); // bob v1
    store
        .add_contact(alice.id, List::Forward, &email("bob"), None)
        .await
        .unwrap(); // alice v1, bob v2
    store
        .add_contact(bob.id, List::Forward, &email("carol"), Some(1))
        .await
        .unwrap(); // bob v3, carol v1
    store
        .add_contact(carol.id, List::Block, &email("bob"), None)
        .await
        .unwrap(); // carol v2
    store
        .set_phone(bob.id, PhoneKind::Home, Some("1"))
        .await
        .unwrap();
    store.ticket_secret().await.unwrap();

    store.delete_user(&email("bob")).await.unwrap();
    assert_err!(store.account(&email("bob")).await, StoreError::UnknownUser);
    assert_err!(store.contact_list(bob.id).await, StoreError::UnknownUser);
    assert_err!(store.phones(bob.id).await, StoreError::UnknownUser);
    assert_eq!(
        store.list_users().await.unwrap(),
        vec![alice.clone(), carol.clone()]
    );
    // Everyone who listed Bob lost the entry and got a new version.
    let list = store.contact_list(alice.id).await.unwrap();
    assert_eq!((list.version, list.contacts.len()), (2, 0));
    let list = store.contact_list(carol.id).await.unwrap();
    assert_eq!((list.version, list.contacts.len()), (3, 0));
    assert_err!(
        store.delete_user(&email("bob")).await,
        StoreError::UnknownUser
    );
    // The email is free again, with a new id and a fresh list.
    let again = user(store, "bob").await;
    assert_ne!(again.id, bob.id);
    let list = store.contact_list(again.id).await.unwrap();
    assert_eq!(
        (list.version, list.contacts.len(), list.groups.len()),
        (0, 0, 1)
    );
}

async fn concurrent_edits_get_distinct_versions(store: &Store) {
    const USERS: usize = 8;
    let hub = user(store, "hub").await;
    let mut others = Vec::new();
    for n in 0..USERS {
        others.push(user(store, &format!("peer{n}")).await);
    }
    // Everyone adds the hub while the hub adds everyone: crossing FL/RL edits.
    let mut tasks = Vec::new();
    for peer in &others {
        let (s1, s2) = (store.clone(), store.clone());
        let (peer_id, peer_email) = (peer.id, peer.email.clone());
        tasks.push(tokio::spawn(async move {
            s1.add_contact(peer_id, List::Forward, &email("hub"), None)
                .await
        }));
        let hub_id = hub.id;
        tasks.push(tokio::spawn(async move {
            s2.add_contact(hub_id, List::Forward, &peer_email, None)
                .await
        }));
    }
    let mut hub_versions = Vec::new();
    for task in tasks {
        let change = task.await.unwrap().unwrap();
        if change.contact.id == hub.id {
            hub_versions.extend(change.reverse_version);
        } else {
            hub_versions.push(change.version);
        }
    }
    hub_versions.sort_unstable();
    let expected: Vec<u32> = (1..=2 * USERS as u32).collect();
    assert_eq!(hub_versions, expected);
    let list = store.contact_list(hub.id).await.unwrap();
    assert_eq!(list.version, 2 * USERS as u32);
    assert_eq!(list.contacts.len(), USERS);
    assert!(
        list.contacts
            .iter()
            .all(|c| c.lists == set(&[List::Forward, List::Reverse]))
    );
    for peer in &others {
        let list = store.contact_list(peer.id).await.unwrap();
        assert_eq!(list.version, 2);
    }
}

async fn store_lifecycle(store: &Store) {
    store.ping().await.unwrap();
    // Migrating again is a no-op.
    store.migrate().await.unwrap();
    user(store, "alice").await;
    store.close().await;
    assert_err!(store.ping().await, StoreError::Unavailable(_));
    assert_err!(
        store.account(&email("alice")).await,
        StoreError::Unavailable(_)
    );
}

// ---- suites ----

/// Store futures must be `Send` so connection tasks can await them.
#[allow(dead_code)]
fn store_futures_are_send(store: &Store) {
    fn send<T: Send>(_: T) {}
    send(store.add_contact(1, List::Forward, "x", None));
    send(store.remove_contact(1, List::Forward, "x", None));
    send(store.contact_list(1));
    send(store.delete_user("x"));
    send(store.create_user("x", "x", "x", None));
    send(store.queued_messages(1, 1));
    send(store.remove_queued(1, &[]));
    send(store.history(
        &crate::core::offline::Conversation::Room { key: "x".into() },
        0,
        1,
    ));
}

#[tokio::test]
async fn bad_urls_are_refused() {
    assert_err!(
        Store::connect("mysql://localhost/db", 1).await,
        StoreError::BadUrl(_)
    );
    assert_err!(
        Store::connect("sqlite://x.db?bogus=1", 1).await,
        StoreError::BadUrl(_)
    );
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn unreachable_postgres_is_unavailable() {
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    assert_err!(
        Store::connect("postgres://msnpd@127.0.0.1:1/msnpd", 1).await,
        StoreError::Unavailable(_)
    );
}

#[cfg(all(feature = "sqlite", feature = "postgres"))]
#[test]
fn backends_ship_the_same_migrations() {
    let describe = |migrator: &sqlx::migrate::Migrator| {
        migrator
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect::<Vec<_>>()
    };
    let sqlite = describe(&sqlite::MIGRATOR);
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, describe(&postgres::MIGRATOR));
    // And the directories on disk (what the macros embedded at build time).
    let names = |dir: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut names: Vec<String> = std::fs::read_dir(path)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        names("src/store/migrations/sqlite"),
        names("src/store/migrations/postgres")
    );
}

/// Runs every case, each on a store from `make`; returns the failures.
#[cfg(feature = "postgres")]
async fn run_cases<F, Fut>(make: F) -> Vec<String>
where
    F: Fn() -> Fut,
    Fut: Future<
        Output = (
            Store,
            Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>>>,
        ),
    >,
{
    use futures_util::FutureExt;
    let mut failures = Vec::new();
    for (name, case) in CASES {
        let (store, cleanup) = make().await;
        let outcome = std::panic::AssertUnwindSafe(case(&store))
            .catch_unwind()
            .await;
        store.close().await;
        cleanup().await;
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{name}: {message}"));
        }
    }
    failures
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_contract_suite() {
    let Some(base) = testing::postgres_test_url("PostgreSQL store contract suite") else {
        return;
    };
    let failures = run_cases(|| {
        let base = base.clone();
        async move {
            let scratch = testing::PgScratch::create(&base).await.unwrap();
            let store = scratch.store(4).await.unwrap();
            let cleanup: Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>>> =
                Box::new(move || Box::pin(async move { scratch.drop_schema().await.unwrap() }));
            (store, cleanup)
        }
    })
    .await;
    assert!(
        failures.is_empty(),
        "failed cases:\n{}",
        failures.join("\n")
    );
}

#[cfg(feature = "postgres")]
#[tokio::test]
async fn postgres_processes_share_the_ticket_secret() {
    let Some(base) = testing::postgres_test_url("PostgreSQL shared secret test") else {
        return;
    };
    let scratch = testing::PgScratch::create(&base).await.unwrap();
    let one = scratch.store(2).await.unwrap();
    let two = Store::connect(scratch.url(), 2).await.unwrap();
    let (a, b) = tokio::join!(one.ticket_secret(), two.ticket_secret());
    let result = (a, b);
    one.close().await;
    two.close().await;
    scratch.drop_schema().await.unwrap();
    let (a, b) = (result.0.unwrap(), result.1.unwrap());
    assert_eq!(a.len(), 32);
    assert_eq!(a, b);
}

/// A file-backed SQLite URL inside `dir`, in a subdirectory that does not exist yet.
#[cfg(feature = "sqlite")]
fn sqlite_file_url(dir: &tempfile::TempDir) -> (String, std::path::PathBuf) {
    let path = dir.path().join("nested").join("data").join("msnpd.sqlite");
    (format!("sqlite://{}", path.display()), path)
}

/// The SQLite backend of `store`, for tests of SQLite-only settings.
#[cfg(feature = "sqlite")]
fn sqlite_backend(store: &Store) -> &super::sqlite::SqliteStore {
    #[allow(irrefutable_let_patterns)] // without the postgres feature
    let super::Backend::Sqlite(sqlite) = store.backend() else {
        panic!("not a SQLite store");
    };
    sqlite
}

/// `PRAGMA synchronous` of a connection or pool (1 NORMAL, 2 FULL).
#[cfg(feature = "sqlite")]
async fn synchronous<'e>(conn: impl sqlx::SqliteExecutor<'e>) -> i64 {
    sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(conn)
        .await
        .unwrap()
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_writer_syncs_offline_messages_and_defers_live_history() {
    use crate::core::offline::{Conversation, HistoryWrite, NewMessage};
    use bytes::Bytes;

    let dir = tempfile::tempdir().unwrap();
    let (url, _) = sqlite_file_url(&dir);
    let store = Store::connect(&url, 2).await.unwrap();
    store.migrate().await.unwrap();
    let _alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let sqlite = sqlite_backend(&store);
    let writer_pool = sqlite
        .writer_pool()
        .expect("a file store's writer has its own pool");
    let conversation = Conversation::pair(&email("alice"), &email("bob"));
    let live = NewMessage {
        history: HistoryWrite::New(conversation.clone()),
        sender_email: email("alice"),
        sender_nick: "alice".into(),
        sent_at_us: 1,
        payload: Bytes::from_static(b"MIME-Version: 1.0\r\n\r\nlive"),
        queue_for: Vec::new(),
        queue_cap: 100,
    };
    store.append_message(live.clone()).await.unwrap();
    assert_eq!(
        synchronous(writer_pool).await,
        1,
        "live history commits at NORMAL"
    );
    let offline = NewMessage {
        queue_for: vec![email("bob")],
        ..live
    };
    store.append_message(offline).await.unwrap();
    assert_eq!(
        synchronous(writer_pool).await,
        2,
        "an offline message commits at FULL"
    );
    // The store's other connections never leave FULL.
    let mut conns = Vec::new();
    for _ in 0..2 {
        conns.push(sqlite.pool().acquire().await.unwrap());
    }
    for conn in &mut conns {
        assert_eq!(synchronous(&mut **conn).await, 2);
    }
    drop(conns);
    assert_eq!(store.history(&conversation, 0, 10).await.unwrap().len(), 2);
    assert_eq!(store.queued_count(bob.id).await.unwrap(), 1);
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_file_is_durable_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (url, path) = sqlite_file_url(&dir);
    let store = Store::connect(&url, 4).await.unwrap();
    assert!(path.exists(), "database file was not created");
    store.migrate().await.unwrap();
    let sqlite = sqlite_backend(&store);
    // Check the pragmas on every pooled connection at once.
    let mut conns = Vec::new();
    for _ in 0..4 {
        conns.push(sqlite.pool().acquire().await.unwrap());
    }
    for conn in &mut conns {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(mode.to_ascii_lowercase(), "wal");
        assert_eq!(synchronous(&mut **conn).await, 2, "synchronous is not FULL");
        let cache: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(cache, -i64::from(super::DEFAULT_SQLITE_CACHE_KIB));
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert!(busy >= 1000, "busy_timeout {busy} ms");
    }
    drop(conns);

    let alice = user(&store, "alice").await;
    user(&store, "bob").await;
    store
        .add_contact(alice.id, List::Forward, &email("bob"), None)
        .await
        .unwrap();
    let secret = store.ticket_secret().await.unwrap();
    store.close().await;

    let reopened = Store::connect(&url, 2).await.unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(reopened.account(&email("alice")).await.unwrap(), alice);
    let list = reopened.contact_list(alice.id).await.unwrap();
    assert_eq!(list.version, 1);
    assert_eq!(list.contact(&email("bob")).unwrap().groups, vec![0]);
    assert_eq!(reopened.ticket_secret().await.unwrap(), secret);
    reopened.close().await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let (url, _) = sqlite_file_url(&dir);
    let store = Store::connect(&url, 4).await.unwrap();
    store.migrate().await.unwrap();
    concurrent_edits_get_distinct_versions(&store).await;
    // A second pool on the same file (as a second process would) sees the same secret.
    let other = Store::connect(&url, 2).await.unwrap();
    let (a, b) = tokio::join!(store.ticket_secret(), other.ticket_secret());
    assert_eq!(a.unwrap(), b.unwrap());
    other.close().await;
    store.close().await;
}
