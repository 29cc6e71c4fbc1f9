//! Fault injection at exact points (issue 5): msnpd built with the
//! `failpoints` feature is started with `FAILPOINTS=...` (see
//! `src/failpoints.rs`) and made to crash or fail right before or after the
//! offline store's commit, between commit and `ACK`, in the group-commit
//! writer and between an offline delivery and its removal. Then it is
//! restarted on the same store (without failpoints) and the recipient's
//! mailbox is checked: acknowledged messages are there, exactly once.
//!
//! Run with `cargo test --features failpoints --test failpoints`
//! (`scripts/test` does).
#![cfg(feature = "failpoints")]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::chat;
use common::{Client, Server};

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const ON: &[&str] = &["offline.enabled=true"];

/// Starts msnpd with `failpoints` and `settings`, creates Alice and Bob, and
/// returns the server and Alice's switchboard in which offline Bob was
/// invited (plus her notification connection, to keep her logged in).
fn alice_writes_to_offline_bob(failpoints: &str, settings: &[&str]) -> (Server, Client, Client) {
    let server = Server::start_in_with_env(
        tempfile::tempdir().unwrap(),
        settings,
        &[("FAILPOINTS", failpoints)],
    );
    server.add_user(ALICE, chat::PASSWORD);
    server.add_user(BOB, chat::PASSWORD);
    let mut ns = chat::online(&server, ALICE);
    let mut sb = chat::open_switchboard(&mut ns, ALICE);
    chat::call(&mut sb, 2, BOB);
    (server, ns, sb)
}

/// Bob logs in and collects what waits for him from Alice (all of
/// `expected`, then whatever else comes within a short quiet time).
fn bob_collects(server: &Server, expected: &[&str]) -> Vec<String> {
    let mut ns = chat::online(server, BOB);
    let expected: BTreeSet<String> = expected.iter().map(|s| s.to_string()).collect();
    let mut got = chat::collect_offline(
        &mut ns,
        BOB,
        &expected,
        Duration::from_secs(20),
        Duration::from_millis(500),
    );
    let bodies = got.remove(ALICE).unwrap_or_default();
    assert!(got.is_empty(), "messages from someone else: {got:?}");
    ns.send("OUT");
    ns.expect_closed();
    bodies
}

/// The process is aborted at `point` while storing Alice's second message for
/// offline Bob: she never gets its `ACK`; after a restart Bob gets the first
/// and, if the commit had happened, the second, each once.
fn abort_at(point: &str, second_was_committed: bool) {
    let failpoints = format!("{point}=1*off->return(abort)");
    let (server, _ns, mut sb) = alice_writes_to_offline_bob(&failpoints, ON);
    assert_eq!(chat::send_acked(&mut sb, 3, "first"), "ACK 3");
    sb.send_payload("MSG 4 A", &chat::text("second"));
    assert_eq!(sb.try_line(), None, "no answer: the server died at {point}");

    let server = server.restart_after_exit(&[]);
    let expected: &[&str] = if second_was_committed {
        &["first", "second"]
    } else {
        &["first"]
    };
    assert_eq!(
        bob_collects(&server, expected),
        expected,
        "crash at {point}"
    );
    // Nothing is left to come twice.
    assert!(bob_collects(&server, &[]).is_empty());
    assert!(server.stop().success());
}

#[test]
fn abort_before_the_commit_stores_nothing_and_acks_nothing() {
    abort_at("store_before_commit", false);
}

#[test]
fn abort_right_after_the_commit_keeps_the_message() {
    abort_at("store_after_commit", true);
}

#[test]
fn abort_between_commit_and_ack_keeps_the_message() {
    abort_at("sb_after_commit", true);
    abort_at("sb_before_ack", true);
}

/// A live member and an absent one: the process dies right before the `ACK`
/// of a message that was written to the one and committed for the other.
#[test]
fn abort_before_the_ack_of_a_live_and_stored_message() {
    const CAROL: &str = "carol@example.com";
    let (server, _ns, mut sb) =
        alice_writes_to_offline_bob("sb_before_ack=1*off->return(abort)", ON);
    server.add_user(CAROL, chat::PASSWORD);
    let mut carol = chat::online(&server, CAROL);
    chat::call(&mut sb, 3, CAROL);
    let mut carol_sb = chat::join(&mut carol, CAROL);
    sb.expect_prefix(&format!("JOI {CAROL} "));
    assert_eq!(chat::send_acked(&mut sb, 4, "first"), "ACK 4");
    sb.send_payload("MSG 5 A", &chat::text("second"));
    assert_eq!(sb.try_line(), None, "no answer: the server died");
    let live: Vec<String> = chat::read_messages(&mut carol_sb)
        .into_iter()
        .map(|(_, body)| body)
        .collect();
    assert_eq!(live, ["first", "second"]);

    let server = server.restart_after_exit(&[]);
    assert_eq!(
        bob_collects(&server, &["first", "second"]),
        ["first", "second"]
    );
    assert!(server.stop().success());
}

/// A COMMIT whose outcome the server never learnt (it did commit): the
/// messages of that batch are answered `NAK`, and they are not written a
/// second time, so Bob gets each once. (Before the fix, the writer retried a
/// failed batch message by message, storing every message twice.)
#[test]
fn a_lost_commit_outcome_is_not_written_twice() {
    // A long window, so both pipelined messages are in one batch.
    let settings = ["offline.enabled=true", "offline.commit_window_us=500000"];
    let (server, _ns, mut sb) =
        alice_writes_to_offline_bob("store_after_commit=1*return", &settings);
    let mut both = Vec::new();
    for (trid, body) in [(3, "one"), (4, "two")] {
        let payload = chat::text(body);
        both.extend(format!("MSG {trid} A {}\r\n", payload.len()).into_bytes());
        both.extend(payload);
    }
    sb.send_raw(&both);
    // Both in the failed batch: NAK, NAK (were the second one batched
    // alone, it would be ACK).
    let answers = [sb.line(), sb.line()];
    assert!(answers.contains(&"NAK 3".to_string()), "{answers:?}");
    assert!(
        answers.contains(&"NAK 4".to_string()) || answers.contains(&"ACK 4".to_string()),
        "{answers:?}"
    );
    assert_eq!(bob_collects(&server, &["one", "two"]), ["one", "two"]);
    assert!(bob_collects(&server, &[]).is_empty());
    assert!(server.stop().success());
}

/// A panic in the group-commit writer (a bug) fails its batch (`NAK`), not
/// every later message. (Before the fix, the writer task died with it and
/// every offline message after it got `NAK` until a restart.)
#[test]
fn a_panicking_writer_fails_one_batch_only() {
    let (server, _ns, mut sb) = alice_writes_to_offline_bob("writer_before_batch=1*panic", ON);
    assert_eq!(chat::send_acked(&mut sb, 3, "lost"), "NAK 3");
    assert_eq!(chat::send_acked(&mut sb, 4, "kept"), "ACK 4");
    assert_eq!(chat::send_acked(&mut sb, 5, "kept too"), "ACK 5");
    assert_eq!(
        bob_collects(&server, &["kept", "kept too"]),
        ["kept", "kept too"]
    );
    assert!(server.stop().success());
}

/// A failing store (every batch refused before COMMIT): `NAK`, nothing stored,
/// and the server goes on.
#[test]
fn a_failing_commit_answers_nak() {
    let (server, _ns, mut sb) = alice_writes_to_offline_bob("store_before_commit=2*return", ON);
    assert_eq!(chat::send_acked(&mut sb, 3, "one"), "NAK 3");
    assert_eq!(chat::send_acked(&mut sb, 4, "two"), "NAK 4");
    assert_eq!(chat::send_acked(&mut sb, 5, "three"), "ACK 5");
    assert_eq!(bob_collects(&server, &["three"]), ["three"]);
    assert!(server.stop().success());
}

/// The one duplicate the design allows: the process dies after an offline
/// delivery was written to Bob but before it was removed from his queue. It
/// is delivered again after the restart (at least once, never lost), once.
#[test]
fn a_crash_between_delivery_and_removal_delivers_again() {
    let (server, _ns, mut sb) =
        alice_writes_to_offline_bob("offline_before_remove=return(abort)", ON);
    assert_eq!(chat::send_acked(&mut sb, 3, "hello"), "ACK 3");
    let mut bob = chat::online(&server, BOB);
    let rng = bob.expect_prefix("RNG ");
    let (from, bodies) = chat::answer_delivery(&rng, BOB);
    assert_eq!(
        (from.as_str(), bodies.as_slice()),
        (ALICE, &["hello".to_string()][..])
    );
    assert_eq!(bob.try_line(), None, "the server died before removing it");

    let server = server.restart_after_exit(&[]);
    assert_eq!(bob_collects(&server, &["hello"]), ["hello"]);
    assert!(bob_collects(&server, &[]).is_empty());
    assert!(server.stop().success());
}
