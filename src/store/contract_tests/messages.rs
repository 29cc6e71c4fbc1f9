//! Contract cases of message writes: offline queues (enqueue, order, cap,
//! removal), per-conversation history sequence numbers, both in one transaction,
//! and the group-commit writer (concurrent writes, submission order, flush on
//! close). Listed in the `cases!` table of `contract_tests.rs`.

use bytes::Bytes;

use super::{email, user};
use crate::core::offline::{Conversation, HistoryRef, HistoryWrite, NewMessage};
use crate::store::{Store, StoreError};

/// A text message from `<from>@example.com` queued for `to` (names), with a
/// history entry in `conversation` (if any) and cap 100.
fn message(from: &str, text: &str, conversation: Option<Conversation>, to: &[&str]) -> NewMessage {
    NewMessage {
        history: conversation.map_or(HistoryWrite::None, HistoryWrite::New),
        sender_email: email(from),
        sender_nick: format!("{from} nick"),
        sent_at_us: 0,
        payload: Bytes::from(format!("MIME-Version: 1.0\r\n\r\n{text}")),
        queue_for: to.iter().map(|name| email(name)).collect(),
        queue_cap: 100,
    }
}

fn pair(a: &str, b: &str) -> Conversation {
    Conversation::pair(&email(a), &email(b))
}

fn text_of(payload: &Bytes) -> String {
    let text = String::from_utf8_lossy(payload);
    text.rsplit("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_owned()
}

pub(super) async fn offline_queue_enqueue_read_remove(store: &Store) {
    let _alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    let mut first = message("alice", "one", Some(pair("alice", "bob")), &["bob"]);
    first.sent_at_us = 10;
    let appended = store.append_message(first).await.unwrap();
    let history = appended.history.unwrap();
    assert_eq!(history.seq, 1);
    assert_eq!(appended.queued, [email("bob")]);

    let queued = store.queued_messages(bob.id, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    let id = queued[0].id;
    assert_eq!(queued[0].sender_email, email("alice"));
    assert_eq!(queued[0].sender_nick, "alice nick");
    assert_eq!(queued[0].sent_at_us, 10);
    assert_eq!(text_of(&queued[0].payload), "one");
    assert_eq!(queued[0].history, Some(history));
    assert_eq!(store.queued_count(bob.id).await.unwrap(), 1);

    // Someone else's id is not removed; the recipient's goes once.
    assert_eq!(store.remove_queued(bob.id + 1000, &[id]).await.unwrap(), 0);
    assert_eq!(
        store.remove_queued(bob.id, &[id, id + 1000]).await.unwrap(),
        1
    );
    assert_eq!(store.remove_queued(bob.id, &[id]).await.unwrap(), 0);
    assert!(store.queued_messages(bob.id, 10).await.unwrap().is_empty());
    assert_eq!(store.queued_count(bob.id).await.unwrap(), 0);
    // History stays after delivery.
    let entries = store.history(&pair("bob", "alice"), 0, 10).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(text_of(&entries[0].payload), "one");
}

pub(super) async fn offline_queue_order_and_limit(store: &Store) {
    user(store, "alice").await;
    user(store, "carol").await;
    let bob = user(store, "bob").await;
    // Sent-at order wins over submission order; ids break ties.
    for (text, at, from) in [
        ("third", 30, "alice"),
        ("first", 10, "carol"),
        ("second", 20, "alice"),
        ("fourth", 30, "carol"),
    ] {
        let mut m = message(from, text, None, &["bob"]);
        m.sent_at_us = at;
        store.append_message(m).await.unwrap();
    }
    let texts = |queued: Vec<crate::core::offline::QueuedMessage>| {
        queued
            .iter()
            .map(|q| text_of(&q.payload))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        texts(store.queued_messages(bob.id, 10).await.unwrap()),
        ["first", "second", "third", "fourth"]
    );
    assert_eq!(
        texts(store.queued_messages(bob.id, 2).await.unwrap()),
        ["first", "second"]
    );
    // Without history the entries carry no history reference.
    assert!(
        store
            .queued_messages(bob.id, 10)
            .await
            .unwrap()
            .iter()
            .all(|q| q.history.is_none())
    );
}

pub(super) async fn history_is_numbered_per_conversation(store: &Store) {
    user(store, "alice").await;
    user(store, "bob").await;
    user(store, "carol").await;
    let ab = pair("alice", "bob");
    let ac = pair("carol", "alice");
    let room = Conversation::Room {
        key: "0123abcd".into(),
    };
    let mut seqs = Vec::new();
    for (from, conversation) in [
        ("alice", &ab),
        ("bob", &ab),
        ("alice", &ac),
        ("carol", &room),
        ("bob", &ab),
        ("alice", &room),
    ] {
        let appended = store
            .append_message(message(from, from, Some(conversation.clone()), &[]))
            .await
            .unwrap();
        assert!(appended.queued.is_empty());
        seqs.push(appended.history.unwrap().seq);
    }
    assert_eq!(seqs, [1, 2, 1, 1, 3, 2]);
    let ab_entries = store.history(&pair("bob", "alice"), 0, 10).await.unwrap();
    assert_eq!(
        ab_entries
            .iter()
            .map(|e| (e.seq, e.sender_email.clone()))
            .collect::<Vec<_>>(),
        [(1, email("alice")), (2, email("bob")), (3, email("bob"))]
    );
    let after = store.history(&ab, 1, 1).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].seq, 2);
    assert_eq!(store.history(&room, 0, 10).await.unwrap().len(), 2);
    assert!(
        store
            .history(&Conversation::Room { key: "none".into() }, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_err!(
        store.history(&pair("alice", "nobody"), 0, 10).await,
        StoreError::UnknownUser
    );
}

pub(super) async fn queue_cap_refuses_the_whole_message(store: &Store) {
    user(store, "alice").await;
    let bob = user(store, "bob").await;
    let carol = user(store, "carol").await;
    let capped = |text: &str, to: &[&str]| {
        let mut m = message("alice", text, Some(pair("alice", "bob")), to);
        m.queue_cap = 2;
        m
    };
    store.append_message(capped("1", &["bob"])).await.unwrap();
    store.append_message(capped("2", &["bob"])).await.unwrap();
    match store.append_message(capped("3", &["carol", "bob"])).await {
        Err(StoreError::QueueFull { recipient }) => assert_eq!(recipient, email("bob")),
        other => panic!("expected QueueFull, got {other:?}"),
    }
    // Nothing of the refused message was written: not for carol, not in history.
    assert_eq!(store.queued_count(carol.id).await.unwrap(), 0);
    assert_eq!(store.queued_count(bob.id).await.unwrap(), 2);
    let next = store.append_message(capped("4", &["carol"])).await.unwrap();
    assert_eq!(next.history.unwrap().seq, 3);
    // A recipient named twice is queued for once.
    let twice = store
        .append_message(message("alice", "5", None, &["carol", "carol"]))
        .await
        .unwrap();
    assert_eq!(twice.queued.len(), 1);
    assert_eq!(store.queued_count(carol.id).await.unwrap(), 2);
    // Room freed by a removal can be used again.
    let first = store.queued_messages(bob.id, 1).await.unwrap();
    store.remove_queued(bob.id, &[first[0].id]).await.unwrap();
    store.append_message(capped("6", &["bob"])).await.unwrap();
}

pub(super) async fn unknown_recipients_are_refused(store: &Store) {
    let alice = user(store, "alice").await;
    assert_err!(
        store
            .append_message(message("alice", "x", None, &["nobody"]))
            .await,
        StoreError::UnknownUser
    );
    assert_err!(
        store
            .append_message(message("alice", "x", Some(pair("alice", "nobody")), &[]))
            .await,
        StoreError::UnknownUser
    );
    // A refused message does not disturb the next one.
    let mut ok = message("bob", "y", None, &["alice"]);
    ok.sender_email = "someone@elsewhere.example".into();
    store.append_message(ok).await.unwrap();
    assert_eq!(store.queued_count(alice.id).await.unwrap(), 1);
}

pub(super) async fn late_queue_entries_refer_to_existing_history(store: &Store) {
    user(store, "alice").await;
    let bob = user(store, "bob").await;
    let live = store
        .append_message(message("alice", "live", Some(pair("alice", "bob")), &[]))
        .await
        .unwrap();
    let at = live.history.unwrap();
    let mut late = message("alice", "live", None, &["bob"]);
    late.history = HistoryWrite::Existing(at);
    let queued = store.append_message(late).await.unwrap();
    assert_eq!(queued.history, Some(at));
    assert_eq!(
        store.queued_messages(bob.id, 10).await.unwrap()[0].history,
        Some(at)
    );
    // History did not grow.
    assert_eq!(
        store
            .history(&pair("alice", "bob"), 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let _ = HistoryRef {
        conversation_id: at.conversation_id,
        seq: at.seq,
    };
}

pub(super) async fn concurrent_writes_get_gapless_sequence_numbers(store: &Store) {
    user(store, "alice").await;
    let bob = user(store, "bob").await;
    // Many writers at once: every write commits, numbers are 1..=N without gaps.
    let mut tasks = Vec::new();
    for i in 0..200 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut m = message(
                "alice",
                &i.to_string(),
                Some(pair("alice", "bob")),
                &["bob"],
            );
            m.queue_cap = 1000;
            store.append_message(m).await.unwrap().history.unwrap().seq
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=200).collect::<Vec<i64>>());
    assert_eq!(store.queued_count(bob.id).await.unwrap(), 200);

    // One submitter: writes commit in submission order.
    let mut pending = Vec::new();
    for i in 0..50 {
        pending.push(
            store
                .submit_message(message(
                    "bob",
                    &i.to_string(),
                    Some(pair("alice", "bob")),
                    &[],
                ))
                .await
                .unwrap(),
        );
    }
    let mut last = 200;
    for write in pending {
        let seq = write.wait().await.unwrap().history.unwrap().seq;
        assert_eq!(seq, last + 1);
        last = seq;
    }
    let entries = store
        .history(&pair("alice", "bob"), 200, 100)
        .await
        .unwrap();
    let texts: Vec<String> = entries.iter().map(|e| text_of(&e.payload)).collect();
    assert_eq!(texts, (0..50).map(|i| i.to_string()).collect::<Vec<_>>());
}

pub(super) async fn unawaited_writes_commit_in_order_and_close_flushes(store: &Store) {
    user(store, "alice").await;
    let bob = user(store, "bob").await;
    for i in 0..10 {
        drop(
            store
                .try_submit_message(message("alice", &i.to_string(), None, &["bob"]))
                .unwrap(),
        );
    }
    // An awaited write after them commits after them.
    store
        .append_message(message("alice", "last", None, &["bob"]))
        .await
        .unwrap();
    assert_eq!(store.queued_count(bob.id).await.unwrap(), 11);
    // Close commits what is pending; later writes fail.
    let pending = store
        .submit_message(message("alice", "before close", None, &["bob"]))
        .await
        .unwrap();
    store.close().await;
    assert_eq!(pending.wait().await.unwrap().queued.len(), 1);
    assert_err!(
        store
            .append_message(message("alice", "after close", None, &["bob"]))
            .await,
        StoreError::Unavailable(_)
    );
    assert_err!(
        store.try_submit_message(message("alice", "x", None, &["bob"])),
        StoreError::Unavailable(_)
    );
}

pub(super) async fn deleting_an_account_drops_its_queue_and_pair_history(store: &Store) {
    let alice = user(store, "alice").await;
    let bob = user(store, "bob").await;
    store
        .append_message(message("alice", "hi", Some(pair("alice", "bob")), &["bob"]))
        .await
        .unwrap();
    store
        .append_message(message("bob", "hi", Some(pair("alice", "bob")), &["alice"]))
        .await
        .unwrap();
    store.delete_user(&email("bob")).await.unwrap();
    assert_eq!(store.queued_count(bob.id).await.unwrap(), 0);
    // Messages bob sent stay queued for alice (the sender is named, not linked).
    assert_eq!(store.queued_count(alice.id).await.unwrap(), 1);
    // A new account with the same name starts a new conversation.
    user(store, "bob").await;
    assert!(
        store
            .history(&pair("alice", "bob"), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(super) async fn one_message_for_many_recipients(store: &Store) {
    // More rows than one statement takes: the backend splits them.
    let count = crate::store::messages::ROWS_PER_STATEMENT + 50;
    let mut names = Vec::new();
    for i in 0..count {
        let name = format!("user{i}");
        user(store, &name).await;
        names.push(name);
    }
    user(store, "alice").await;
    let to: Vec<&str> = names.iter().map(String::as_str).collect();
    let appended = store
        .append_message(message(
            "alice",
            "hello everyone",
            Some(Conversation::Room { key: "big".into() }),
            &to,
        ))
        .await
        .unwrap();
    assert_eq!(appended.queued.len(), count);
    assert_eq!(appended.history.unwrap().seq, 1);
    let last = store.account(&email(&names[count - 1])).await.unwrap();
    let queued = store.queued_messages(last.id, 10).await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(text_of(&queued[0].payload), "hello everyone");
}
