//! MSNP8 switchboard edge cases over raw sockets: bad and reused cookies, every
//! `CAL` refusal, the acknowledgement modes of `MSG` in an empty and a shared
//! room, `XFR SB` while hidden, a room closing when its last member leaves, and
//! `BYE` when a member leaves with `OUT` or just drops the connection.

mod common;

use common::{Client, Server, befriend};

const TEXT: &[u8] = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi";
const TYPING: &[u8] =
    b"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: alice@example.com\r\n\r\n\r\n";

fn server_with(users: &[&str]) -> Server {
    let server = Server::start(&[]);
    for user in users {
        server.add_user(&format!("{user}@example.com"), "pw");
    }
    server
}

/// Logs in and sets `NLN`.
fn online_nln(server: &Server, email: &str) -> Client {
    let mut c = server.online(email);
    c.send("CHG 4 NLN 0");
    c.expect("CHG 4 NLN 0");
    c
}

/// `XFR SB` on the notification connection: `(switchboard address, cookie)`.
fn xfr_sb(ns: &mut Client, trid: u32) -> (String, String) {
    ns.send(&format!("XFR {trid} SB"));
    let xfr = ns.expect_prefix(&format!("XFR {trid} SB "));
    let parts: Vec<&str> = xfr.split(' ').collect();
    assert_eq!(parts[4], "CKI", "{xfr}");
    (parts[3].to_string(), parts[5].to_string())
}

/// Opens a room for `email` and returns its switchboard connection.
fn open_room(ns: &mut Client, email: &str) -> Client {
    let (addr, cookie) = xfr_sb(ns, 50);
    let mut sb = Client::connect(&addr);
    sb.send(&format!("USR 1 {email} {cookie}"));
    sb.expect(&format!("USR 1 OK {email} {email}"));
    sb
}

/// `CAL` from `sb`; reads the `RNG` on the callee's notification connection and
/// returns `(session id, cookie, sb address)`.
fn ring(
    sb: &mut Client,
    trid: u32,
    callee_ns: &mut Client,
    callee: &str,
) -> (String, String, String) {
    sb.send(&format!("CAL {trid} {callee}"));
    let ringing = sb.expect_prefix(&format!("CAL {trid} RINGING "));
    let session = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = callee_ns.expect_prefix(&format!("RNG {session} "));
    let parts: Vec<&str> = rng.split(' ').collect();
    (session, parts[4].to_string(), parts[2].to_string())
}

/// Answers a ring; returns the joined switchboard connection (IRO lines drained).
fn answer(callee: &str, session: &str, cookie: &str, addr: &str, members: usize) -> Client {
    let mut sb = Client::connect(addr);
    sb.send(&format!("ANS 1 {callee} {cookie} {session}"));
    for _ in 0..members {
        sb.expect_prefix("IRO 1 ");
    }
    sb.expect("ANS 1 OK");
    sb
}

/// A switchboard fence: `CAL` the connection's own user (always `215`), then
/// return what arrived before that answer.
fn sb_fence(sb: &mut Client, me: &str) -> Vec<String> {
    sb.send(&format!("CAL 999 {me}"));
    let mut lines = Vec::new();
    loop {
        let l = sb.line();
        if l == "215 999" {
            return lines;
        }
        lines.push(l);
    }
}

#[test]
fn cookies() {
    let server = server_with(&["alice", "bob"]);
    let mut alice = online_nln(&server, "alice@example.com");
    let sb_addr = server.addr("sb").to_string();

    // Unknown cookie: 911, then the switchboard hangs up.
    let mut c = Client::connect(&sb_addr);
    c.send("USR 1 alice@example.com 12345678.1234567890.12345");
    c.expect("911 1");
    c.expect_closed();
    let mut c = Client::connect(&sb_addr);
    c.send("ANS 1 alice@example.com 12345678.1234567890.12345 12345678");
    c.expect("911 1");
    c.expect_closed();
    let mut c = Client::connect(&sb_addr);
    c.send("ANS 1 alice@example.com 12345678.1234567890.12345 not-a-number");
    c.expect("911 1");
    c.expect_closed();

    // Nothing but USR/ANS before joining.
    let mut c = Client::connect(&sb_addr);
    c.send("CAL 1 bob@example.com");
    c.expect("302 1");
    c.send("SYN 2 0");
    c.expect("200 2");
    c.send_payload("MSG 3 A", TEXT);
    c.expect("302 3");

    // A cookie is for its own user only, and only once.
    let (addr, cookie) = xfr_sb(&mut alice, 10);
    let mut c = Client::connect(&addr);
    c.send(&format!("USR 1 bob@example.com {cookie}"));
    c.expect("911 1");
    c.expect_closed();
    let (addr, cookie) = xfr_sb(&mut alice, 11);
    let mut first = Client::connect(&addr);
    first.send(&format!("USR 1 alice@example.com {cookie}"));
    first.expect("USR 1 OK alice@example.com alice@example.com");
    let mut second = Client::connect(&addr);
    second.send(&format!("USR 1 alice@example.com {cookie}"));
    second.expect("911 1");
    second.expect_closed();
    // A creation cookie cannot be used to answer, nor a join cookie to create.
    let (_, cookie) = xfr_sb(&mut alice, 12);
    let mut c = Client::connect(&addr);
    c.send(&format!("ANS 1 alice@example.com {cookie} 12345678"));
    c.expect("911 1");
    c.expect_closed();
    let mut bob = online_nln(&server, "bob@example.com");
    let (session, bob_cookie, _) = ring(&mut first, 2, &mut bob, "bob@example.com");
    let mut c = Client::connect(&addr);
    c.send(&format!("USR 1 bob@example.com {bob_cookie}"));
    c.expect("911 1");
    c.expect_closed();
    // The join cookie was spent by that attempt; a fresh ring works.
    let (session2, bob_cookie, _) = ring(&mut first, 3, &mut bob, "bob@example.com");
    assert_eq!(session, session2);
    // ... but not for another session id.
    let mut c = Client::connect(&addr);
    c.send(&format!(
        "ANS 1 bob@example.com {bob_cookie} {}",
        session.parse::<u64>().unwrap() + 1
    ));
    c.expect("911 1");
    c.expect_closed();
    let (_, bob_cookie, _) = ring(&mut first, 4, &mut bob, "bob@example.com");
    let mut bob_sb = answer("bob@example.com", &session, &bob_cookie, &addr, 1);
    first.expect("JOI bob@example.com bob@example.com");
    assert!(sb_fence(&mut bob_sb, "bob@example.com").is_empty());
    assert!(sb_fence(&mut first, "alice@example.com").is_empty());
}

#[test]
fn cal_refusals() {
    // Gina has an account but never logs in.
    let server = server_with(&["alice", "bob", "carol", "dave", "erin", "frank", "gina"]);
    let mut alice = online_nln(&server, "alice@example.com");
    let mut bob = online_nln(&server, "bob@example.com");
    // Carol blocks Alice; Erin is hidden; Frank allows only his allow list.
    let mut carol = online_nln(&server, "carol@example.com");
    carol.send("ADD 5 BL alice@example.com alice@example.com");
    carol.expect_prefix("ADD 5 BL ");
    let mut erin = online_nln(&server, "erin@example.com");
    erin.send("CHG 5 HDN 0");
    erin.expect("CHG 5 HDN 0");
    let mut frank = online_nln(&server, "frank@example.com");
    frank.send("BLP 5 BL");
    frank.expect_prefix("BLP 5 ");
    // A logged-in user who has not set a status yet is not reachable either.
    let mut dave = server.online("dave@example.com");

    let mut sb = open_room(&mut alice, "alice@example.com");
    for (callee, code) in [
        ("nobody@example.com", "208"),
        ("not-an-email", "208"),
        ("gina@example.com", "217"),
        ("dave@example.com", "217"),
        ("carol@example.com", "217"),
        ("erin@example.com", "217"),
        ("frank@example.com", "217"),
        ("alice@example.com", "215"),
    ] {
        sb.send(&format!("CAL 7 {callee}"));
        sb.expect(&format!("{code} 7"));
    }
    // Nobody was rung.
    for c in [&mut carol, &mut erin, &mut frank, &mut dave] {
        assert!(c.fence().is_empty());
    }
    // Dave (no status yet) goes online: now he can be called.
    dave.send("CHG 8 NLN 0");
    dave.expect("CHG 8 NLN 0");
    ring(&mut sb, 8, &mut dave, "dave@example.com");
    // Frank allows Alice: reachable.
    frank.send("ADD 9 AL alice@example.com alice@example.com");
    frank.expect_prefix("ADD 9 AL ");
    ring(&mut sb, 9, &mut frank, "frank@example.com");

    // Bob joins; calling him again is 215.
    let (session, cookie, addr) = ring(&mut sb, 10, &mut bob, "bob@example.com");
    let mut bob_sb = answer("bob@example.com", &session, &cookie, &addr, 1);
    sb.expect("JOI bob@example.com bob@example.com");
    sb.send("CAL 11 BOB@example.com");
    sb.expect("215 11");
    bob_sb.send("CAL 12 alice@example.com");
    bob_sb.expect("215 12");
    assert!(sb_fence(&mut sb, "alice@example.com").is_empty());
}

#[test]
fn message_acknowledgements() {
    let server = server_with(&["alice", "bob"]);
    let mut alice = online_nln(&server, "alice@example.com");
    let mut bob = online_nln(&server, "bob@example.com");
    let mut sb = open_room(&mut alice, "alice@example.com");

    // Alone in the room: A and N are NAKed, U says nothing.
    sb.send_payload("MSG 2 A", TEXT);
    sb.expect("NAK 2");
    sb.send_payload("MSG 3 N", TEXT);
    sb.expect("NAK 3");
    sb.send_payload("MSG 4 U", TYPING);
    assert!(sb_fence(&mut sb, "alice@example.com").is_empty());

    let (session, cookie, addr) = ring(&mut sb, 5, &mut bob, "bob@example.com");
    let mut bob_sb = answer("bob@example.com", &session, &cookie, &addr, 1);
    sb.expect("JOI bob@example.com bob@example.com");

    // With Bob there: A is ACKed, N and U are silent; all three are delivered.
    sb.send_payload("MSG 6 U", TYPING);
    sb.send_payload("MSG 7 N", TEXT);
    sb.send_payload("MSG 8 A", TEXT);
    sb.expect("ACK 8");
    assert!(sb_fence(&mut sb, "alice@example.com").is_empty());
    for payload in [TYPING, TEXT, TEXT] {
        let (head, got) = bob_sb.read_payload_line();
        assert_eq!(
            head,
            format!("MSG alice@example.com alice@example.com {}", payload.len())
        );
        assert_eq!(got, payload);
    }
    assert!(sb_fence(&mut bob_sb, "bob@example.com").is_empty());

    // An empty payload and one of exactly the maximum size are relayed.
    sb.send_payload("MSG 9 A", b"");
    sb.expect("ACK 9");
    let (head, got) = bob_sb.read_payload_line();
    assert_eq!(head, "MSG alice@example.com alice@example.com 0");
    assert!(got.is_empty());
    let big = vec![b'x'; 1664];
    sb.send_payload("MSG 10 A", &big);
    sb.expect("ACK 10");
    let (_, got) = bob_sb.read_payload_line();
    assert_eq!(got, big);

    // Bob leaves; Alice is alone again.
    bob_sb.send("OUT");
    bob_sb.expect_closed();
    sb.expect("BYE bob@example.com");
    sb.send_payload("MSG 11 A", TEXT);
    sb.expect("NAK 11");
}

#[test]
fn hidden_users_cannot_open_rooms() {
    let server = server_with(&["alice"]);
    let mut alice = online_nln(&server, "alice@example.com");
    alice.send("CHG 5 HDN 0");
    alice.expect("CHG 5 HDN 0");
    alice.send("XFR 6 SB");
    alice.expect("913 6");
    alice.send("CHG 7 IDL 0");
    alice.expect("CHG 7 IDL 0");
    xfr_sb(&mut alice, 8);
}

#[test]
fn rooms_close_with_their_last_member() {
    let server = server_with(&["alice", "bob", "carol"]);
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    befriend(
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        2,
    );
    for c in [&mut alice, &mut bob] {
        c.send("CHG 3 NLN 0");
        c.expect("CHG 3 NLN 0");
    }
    alice.expect("NLN NLN bob@example.com bob@example.com 0");
    bob.expect("ILN 3 NLN alice@example.com alice@example.com 0");
    let mut carol = online_nln(&server, "carol@example.com");

    // Alice rings Bob, then leaves before he answers: the room is gone.
    let mut sb = open_room(&mut alice, "alice@example.com");
    let (session, cookie, addr) = ring(&mut sb, 2, &mut bob, "bob@example.com");
    sb.send("OUT");
    sb.expect_closed();
    let mut late = Client::connect(&addr);
    late.send(&format!("ANS 1 bob@example.com {cookie} {session}"));
    late.expect("280 1");
    late.expect_closed();

    // Three in a room: OUT and a dropped connection both show as BYE.
    let mut sb = open_room(&mut alice, "alice@example.com");
    let (session, cookie, addr) = ring(&mut sb, 2, &mut bob, "bob@example.com");
    let mut bob_sb = answer("bob@example.com", &session, &cookie, &addr, 1);
    sb.expect("JOI bob@example.com bob@example.com");
    let (_, cookie, _) = ring(&mut sb, 3, &mut carol, "carol@example.com");
    let carol_sb = answer("carol@example.com", &session, &cookie, &addr, 2);
    sb.expect("JOI carol@example.com carol@example.com");
    bob_sb.expect("JOI carol@example.com carol@example.com");

    drop(carol_sb);
    sb.expect("BYE carol@example.com");
    bob_sb.expect("BYE carol@example.com");
    sb.send("OUT");
    sb.expect_closed();
    bob_sb.expect("BYE alice@example.com");
    // Bob is the last one; the room still relays nothing but works.
    bob_sb.send_payload("MSG 5 A", TEXT);
    bob_sb.expect("NAK 5");
    // Alice can be rung back into the same room while Bob is there.
    let (session2, cookie, addr) = ring(&mut bob_sb, 6, &mut alice, "alice@example.com");
    assert_eq!(session2, session);
    let mut alice_sb = answer("alice@example.com", &session, &cookie, &addr, 1);
    bob_sb.expect("JOI alice@example.com alice@example.com");
    // Leaving the notification server does not end the conversation.
    drop(alice);
    bob.expect("FLN alice@example.com");
    alice_sb.send_payload("MSG 2 A", TEXT);
    alice_sb.expect("ACK 2");
    bob_sb.read_payload_line();
    // Both drop: a ring cookie issued before is useless afterwards.
    let (_, cookie, _) = ring(&mut bob_sb, 7, &mut carol, "carol@example.com");
    drop(alice_sb);
    bob_sb.expect("BYE alice@example.com");
    bob_sb.send("OUT");
    bob_sb.expect_closed();
    let mut late = Client::connect(&addr);
    late.send(&format!("ANS 1 carol@example.com {cookie} {session}"));
    late.expect("280 1");
    late.expect_closed();
}
