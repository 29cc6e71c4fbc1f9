//! Offline messages end to end against the real binary (design:
//! protocol-spec/offline-messages.md): a message for a contact who is offline is
//! acknowledged only once stored, and reaches them at their next login as a
//! switchboard invitation from the sender (`RNG`, `ANS`, `IRO`, the messages,
//! `BYE`), in MSNP8, an MD5 dialect and MSNP11; the queue cap answers `NAK`;
//! with the feature off the server answers as before; order is kept; nothing is
//! delivered twice across reconnects; queued messages survive a restart.

mod common;

use common::{Client, Server};

const PASSWORD: &str = "pw";
const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
const CAROL: &str = "carol@example.com";

/// Offline messages on (with a tiny history-free variant where asked).
const ON: &[&str] = &["offline.enabled=true"];

/// How a test client logs in.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// Ticket dialect `MSNP{n}` (8..=12).
    Ticket(u8),
    /// MD5 dialect `MSNP{n}` (2..=7).
    Md5(u8),
}

/// A plain-text instant message payload.
fn text(body: &str) -> Vec<u8> {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\
         X-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\n{body}"
    )
    .into_bytes()
}

/// The body of a text payload.
fn body(payload: &[u8]) -> String {
    let text = String::from_utf8_lossy(payload);
    text.split_once("\r\n\r\n").unwrap().1.to_string()
}

fn users(server: &Server, emails: &[&str]) {
    for email in emails {
        server.add_user(email, PASSWORD);
    }
}

/// Logs in (nothing else sent yet).
fn login(server: &Server, email: &str, via: Via) -> Client {
    match via {
        Via::Ticket(version) => server.login_as(email, version),
        Via::Md5(version) => server.login_md5(email, PASSWORD, version),
    }
}

/// Sets the user online with `CHG`.
fn chg_online(ns: &mut Client, via: Via, trid: u32) {
    match via {
        Via::Ticket(_) => {
            ns.send(&format!("CHG {trid} NLN 0"));
            ns.expect(&format!("CHG {trid} NLN 0"));
        }
        Via::Md5(_) => {
            ns.send(&format!("CHG {trid} NLN"));
            ns.expect(&format!("CHG {trid} NLN"));
        }
    }
}

/// Logs in and goes online.
fn online(server: &Server, email: &str, via: Via) -> Client {
    let mut ns = login(server, email, via);
    chg_online(&mut ns, via, 9);
    ns
}

/// Opens a switchboard for the logged-in `email`.
fn open_switchboard(ns: &mut Client, email: &str) -> Client {
    ns.send("XFR 30 SB");
    let xfr = ns.expect_prefix("XFR 30 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let mut sb = Client::connect(parts[3]);
    sb.send(&format!("USR 1 {email} {}", parts[5]));
    sb.expect_prefix(&format!("USR 1 OK {email} "));
    sb
}

/// A switchboard of `email` in which `callee`, who is offline, was invited
/// (`CAL ... RINGING`).
fn invite_offline(ns: &mut Client, email: &str, callee: &str) -> Client {
    let mut sb = open_switchboard(ns, email);
    sb.send(&format!("CAL 2 {callee}"));
    sb.expect_prefix("CAL 2 RINGING ");
    sb
}

/// Sends `MSG trid A` with a text body and reads the answer (`ACK trid` or
/// `NAK trid`).
fn send_acked(sb: &mut Client, trid: u32, message: &str) -> String {
    sb.send_payload(&format!("MSG {trid} A"), &text(message));
    sb.line()
}

/// An offline delivery as the recipient sees it.
struct Delivery {
    sb: Client,
    from: String,
    bodies: Vec<String>,
}

/// Reads an `RNG` on `ns`, answers it as `email` and reads the delivery: `IRO`
/// naming the sender, `ANS OK`, the sender's messages and the sender's `BYE`.
fn receive(ns: &mut Client, email: &str) -> Delivery {
    let rng = ns.expect_prefix("RNG ");
    answer(&rng, email)
}

/// Answers the `RNG` line `rng` as `email` and reads the delivery.
fn answer(rng: &str, email: &str) -> Delivery {
    let parts: Vec<&str> = rng.split(' ').collect();
    let (session, addr, cookie, from, nick) = (parts[1], parts[2], parts[4], parts[5], parts[6]);
    assert_eq!(parts[3], "CKI", "{rng}");
    let mut sb = Client::connect(addr);
    sb.send(&format!("ANS 1 {email} {cookie} {session}"));
    sb.expect(&format!("IRO 1 1 1 {from} {nick}"));
    sb.expect("ANS 1 OK");
    let mut bodies = Vec::new();
    loop {
        let line = sb.line();
        if line == format!("BYE {from}") {
            break;
        }
        let prefix = format!("MSG {from} {nick} ");
        assert!(line.starts_with(&prefix), "{line}");
        let len: usize = line[prefix.len()..].parse().unwrap();
        let payload = sb.payload(len);
        assert!(
            String::from_utf8_lossy(&payload).contains("Content-Type: text/plain"),
            "the payload is delivered as sent"
        );
        bodies.push(body(&payload));
    }
    Delivery {
        sb,
        from: from.to_string(),
        bodies,
    }
}

/// Logs out of a notification connection.
fn logout(mut ns: Client) {
    ns.send("OUT");
    ns.expect_closed();
}

/// Alice (via `sender`) leaves messages for offline Bob (via `recipient`); each
/// is acknowledged; Bob gets them after his first `CHG`, in order, from Alice.
fn store_and_deliver(server: &Server, sender: Via, recipient: Via) {
    users(server, &[ALICE, BOB]);
    let mut alice = online(server, ALICE, sender);
    let mut sb = invite_offline(&mut alice, ALICE, BOB);
    assert_eq!(send_acked(&mut sb, 3, "are you there?"), "ACK 3");
    assert_eq!(send_acked(&mut sb, 4, "call me"), "ACK 4");

    // Logged in but not online yet: nothing is delivered.
    let mut bob = login(server, BOB, recipient);
    assert!(bob.fence().is_empty());
    chg_online(&mut bob, recipient, 10);
    let delivery = receive(&mut bob, BOB);
    assert_eq!(delivery.from, ALICE);
    assert_eq!(delivery.bodies, ["are you there?", "call me"]);

    // Bob's reply in that switchboard reaches Alice, who is online, the same way.
    let mut bob_sb = delivery.sb;
    assert_eq!(send_acked(&mut bob_sb, 2, "here now"), "ACK 2");
    let reply = receive(&mut alice, ALICE);
    assert_eq!(reply.from, BOB);
    assert_eq!(reply.bodies, ["here now"]);
}

#[test]
fn msnp8_offline_message_is_acknowledged_stored_and_delivered() {
    let server = Server::start(ON);
    store_and_deliver(&server, Via::Ticket(8), Via::Ticket(8));
    assert!(server.stop().success());
}

#[test]
fn md5_dialect_offline_message() {
    let server = Server::start(ON);
    store_and_deliver(&server, Via::Md5(5), Via::Md5(7));
    assert!(server.stop().success());
}

#[test]
fn msnp11_offline_message_from_msnp8() {
    let server = Server::start(ON);
    store_and_deliver(&server, Via::Ticket(8), Via::Ticket(11));
    assert!(server.stop().success());
}

#[test]
fn offline_message_on_postgres() {
    let Some(db) = common::postgres::fresh_database("offline messages") else {
        return;
    };
    let server = Server::start_with_store(tempfile::tempdir().unwrap(), &db.url, ON);
    store_and_deliver(&server, Via::Ticket(8), Via::Ticket(8));
    assert!(server.stop().success());
    db.drop_database();
}

#[test]
fn a_full_queue_gets_nak() {
    let server = Server::start(&["offline.enabled=true", "offline.max_queued_per_user=2"]);
    users(&server, &[ALICE, BOB]);
    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut sb = invite_offline(&mut alice, ALICE, BOB);
    assert_eq!(send_acked(&mut sb, 3, "one"), "ACK 3");
    assert_eq!(send_acked(&mut sb, 4, "two"), "ACK 4");
    assert_eq!(send_acked(&mut sb, 5, "three"), "NAK 5");
    // Mode N: nothing on success, NAK on failure.
    sb.send_payload("MSG 6 N", &text("four"));
    assert_eq!(sb.line(), "NAK 6");

    let mut bob = online(&server, BOB, Via::Ticket(8));
    assert_eq!(receive(&mut bob, BOB).bodies, ["one", "two"]);
    assert!(server.stop().success());
}

#[test]
fn disabled_answers_as_the_original_service() {
    let server = Server::start(&[]);
    users(&server, &[ALICE, BOB]);
    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut sb = open_switchboard(&mut alice, ALICE);
    sb.send(&format!("CAL 2 {BOB}"));
    sb.expect("217 2");
    assert_eq!(send_acked(&mut sb, 3, "anyone?"), "NAK 3");
    // Bob logs in later: nothing waits for him.
    let mut bob = online(&server, BOB, Via::Ticket(8));
    assert!(bob.fence().is_empty());
    assert!(server.stop().success());
}

#[test]
fn calls_that_cannot_be_stored() {
    let server = Server::start(ON);
    users(&server, &[ALICE, BOB]);
    // Bob blocks Alice.
    let mut bob = online(&server, BOB, Via::Ticket(8));
    bob.send(&format!("ADD 3 BL {ALICE} {ALICE}"));
    bob.expect_prefix("ADD 3 BL ");
    logout(bob);

    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut sb = open_switchboard(&mut alice, ALICE);
    sb.send(&format!("CAL 2 {BOB}"));
    sb.expect("217 2");
    sb.send("CAL 3 nobody@example.com");
    sb.expect("208 3");
    assert!(server.stop().success());
}

#[test]
fn only_instant_messages_are_stored() {
    let server = Server::start(ON);
    users(&server, &[ALICE, BOB]);
    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut sb = invite_offline(&mut alice, ALICE, BOB);
    // A typing notice is not stored; acknowledged mode makes that visible.
    sb.send_payload(
        "MSG 3 A",
        format!("MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: {ALICE}\r\n\r\n\r\n")
            .as_bytes(),
    );
    sb.expect("NAK 3");
    assert_eq!(send_acked(&mut sb, 4, "the real one"), "ACK 4");
    let mut bob = online(&server, BOB, Via::Ticket(8));
    assert_eq!(receive(&mut bob, BOB).bodies, ["the real one"]);
    assert!(server.stop().success());
}

#[test]
fn order_is_kept_per_sender() {
    let server = Server::start(ON);
    users(&server, &[ALICE, BOB, CAROL]);
    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut carol = online(&server, CAROL, Via::Ticket(11));
    let mut alice_sb = invite_offline(&mut alice, ALICE, BOB);
    let mut carol_sb = invite_offline(&mut carol, CAROL, BOB);
    for i in 0..20 {
        let (sb, who) = if i % 3 == 0 {
            (&mut carol_sb, "carol")
        } else {
            (&mut alice_sb, "alice")
        };
        assert_eq!(
            send_acked(sb, 10 + i, &format!("{who} {i}")),
            format!("ACK {}", 10 + i)
        );
    }
    // Unacknowledged mode is stored too (no answer either way); writes commit
    // in the order sent, so the next acknowledgement covers it.
    alice_sb.send_payload("MSG 40 U", &text("alice unacknowledged"));
    assert_eq!(send_acked(&mut alice_sb, 41, "alice last"), "ACK 41");

    let mut bob = online(&server, BOB, Via::Ticket(8));
    // One switchboard per sender, rung in either order.
    let mut deliveries = [receive(&mut bob, BOB), receive(&mut bob, BOB)];
    deliveries.sort_by(|a, b| a.from.cmp(&b.from));
    let expected = |who: &str, keep: fn(u32) -> bool| -> Vec<String> {
        (0..20)
            .filter(|i| keep(*i))
            .map(|i| format!("{who} {i}"))
            .collect()
    };
    let mut alice_expected = expected("alice", |i| i % 3 != 0);
    alice_expected.extend(["alice unacknowledged".into(), "alice last".into()]);
    assert_eq!(deliveries[0].from, ALICE);
    assert_eq!(deliveries[0].bodies, alice_expected);
    assert_eq!(deliveries[1].from, CAROL);
    assert_eq!(deliveries[1].bodies, expected("carol", |i| i % 3 == 0));
    assert!(server.stop().success());
}

#[test]
fn nothing_is_delivered_twice_across_reconnects() {
    let server = Server::start(ON);
    users(&server, &[ALICE, BOB]);
    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut alice_sb = invite_offline(&mut alice, ALICE, BOB);
    assert_eq!(send_acked(&mut alice_sb, 3, "first"), "ACK 3");
    assert_eq!(send_acked(&mut alice_sb, 4, "second"), "ACK 4");

    // Bob is rung but drops his connection without answering.
    let mut bob = online(&server, BOB, Via::Ticket(8));
    bob.expect_prefix("RNG ");
    drop(bob);

    // At his next login the same messages arrive, once.
    let mut bob = online(&server, BOB, Via::Ticket(8));
    let delivery = receive(&mut bob, BOB);
    assert_eq!(delivery.bodies, ["first", "second"]);
    drop(delivery.sb);
    logout(bob);

    // Alice's switchboard still has Bob as an absent member; a new message is
    // the only one delivered at his next login.
    assert_eq!(send_acked(&mut alice_sb, 5, "third"), "ACK 5");
    let mut bob = online(&server, BOB, Via::Ticket(8));
    assert_eq!(receive(&mut bob, BOB).bodies, ["third"]);
    assert!(bob.fence().is_empty());
    assert!(server.stop().success());
}

#[test]
fn queued_messages_survive_a_restart() {
    let server = Server::start(ON);
    users(&server, &[ALICE, BOB]);
    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut sb = invite_offline(&mut alice, ALICE, BOB);
    assert_eq!(send_acked(&mut sb, 3, "before the restart"), "ACK 3");
    drop(sb);
    drop(alice);

    let server = server.restart();
    let mut bob = online(&server, BOB, Via::Ticket(8));
    assert_eq!(receive(&mut bob, BOB).bodies, ["before the restart"]);
    assert!(server.stop().success());
}

#[test]
fn participants_who_left_get_what_follows() {
    let server = Server::start(ON);
    users(&server, &[ALICE, BOB]);
    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut bob = online(&server, BOB, Via::Ticket(8));
    let mut alice_sb = open_switchboard(&mut alice, ALICE);
    alice_sb.send(&format!("CAL 2 {BOB}"));
    let session = alice_sb.expect_prefix("CAL 2 RINGING ");
    let session = session.rsplit(' ').next().unwrap().to_string();
    let rng = bob.expect_prefix(&format!("RNG {session} "));
    let cookie = rng.split(' ').nth(4).unwrap().to_string();
    let mut bob_sb = Client::connect(server.addr("sb"));
    bob_sb.send(&format!("ANS 1 {BOB} {cookie} {session}"));
    bob_sb.expect(&format!("IRO 1 1 1 {ALICE} {ALICE}"));
    bob_sb.expect("ANS 1 OK");
    alice_sb.expect(&format!("JOI {BOB} {BOB}"));

    // Bob closes the conversation but stays online: what Alice says next
    // reaches him through a new invitation.
    bob_sb.send("OUT");
    bob_sb.expect_closed();
    alice_sb.expect(&format!("BYE {BOB}"));
    assert_eq!(
        send_acked(&mut alice_sb, 3, "wait, one more thing"),
        "ACK 3"
    );
    assert_eq!(receive(&mut bob, BOB).bodies, ["wait, one more thing"]);

    // Bob goes offline: the next message waits for his next login.
    logout(bob);
    assert_eq!(send_acked(&mut alice_sb, 4, "see you"), "ACK 4");
    let mut bob = online(&server, BOB, Via::Ticket(8));
    assert_eq!(receive(&mut bob, BOB).bodies, ["see you"]);
    assert!(server.stop().success());
}

#[test]
fn hidden_users_get_their_messages_when_they_show_up() {
    let server = Server::start(ON);
    users(&server, &[ALICE, BOB]);
    let mut bob = login(&server, BOB, Via::Ticket(8));
    bob.send("CHG 3 HDN 0");
    bob.expect("CHG 3 HDN 0");
    // Hidden looks offline to Alice: the message is stored, not rung.
    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut sb = invite_offline(&mut alice, ALICE, BOB);
    assert_eq!(send_acked(&mut sb, 3, "psst"), "ACK 3");
    assert!(bob.fence().is_empty());
    chg_online(&mut bob, Via::Ticket(8), 4);
    assert_eq!(receive(&mut bob, BOB).bodies, ["psst"]);
    assert!(server.stop().success());
}

#[test]
fn messages_queued_during_a_delivery_follow_in_one_invitation() {
    let server = Server::start(ON);
    users(&server, &[ALICE, BOB]);
    let mut alice = online(&server, ALICE, Via::Ticket(8));
    let mut bob = online(&server, BOB, Via::Ticket(8));
    let mut alice_sb = open_switchboard(&mut alice, ALICE);
    alice_sb.send(&format!("CAL 2 {BOB}"));
    let session = alice_sb.expect_prefix("CAL 2 RINGING ");
    let session = session.rsplit(' ').next().unwrap().to_string();
    let rng = bob.expect_prefix(&format!("RNG {session} "));
    let cookie = rng.split(' ').nth(4).unwrap().to_string();
    let mut bob_sb = Client::connect(server.addr("sb"));
    bob_sb.send(&format!("ANS 1 {BOB} {cookie} {session}"));
    bob_sb.expect(&format!("IRO 1 1 1 {ALICE} {ALICE}"));
    bob_sb.expect("ANS 1 OK");
    alice_sb.expect(&format!("JOI {BOB} {BOB}"));
    bob_sb.send("OUT");
    bob_sb.expect_closed();
    alice_sb.expect(&format!("BYE {BOB}"));

    // Alice keeps typing into the switchboard Bob left: the first message
    // rings him; the ones sent while that invitation is open come together
    // in one more invitation after it.
    assert_eq!(send_acked(&mut alice_sb, 3, "one"), "ACK 3");
    let first = bob.expect_prefix("RNG ");
    assert_eq!(send_acked(&mut alice_sb, 4, "two"), "ACK 4");
    assert_eq!(send_acked(&mut alice_sb, 5, "three"), "ACK 5");
    assert_eq!(answer(&first, BOB).bodies, ["one"]);
    assert_eq!(receive(&mut bob, BOB).bodies, ["two", "three"]);
    assert!(server.stop().success());
}
