//! Network faults between real MSNP8 clients and the real binary, through the
//! in-repo fault proxy (`common::fault_proxy`): latency and 1-byte slicing do not
//! break a login or a switchboard chat; a reset mid-payload leaves the server
//! healthy and the peer's watchers see it go offline; a half-open peer is dropped
//! by the idle timeout while others are unaffected.

mod common;

use std::time::Duration;

use common::fault_proxy::{FaultProxy, Toxic};
use common::{Client, Server, befriend};

const MESSAGE: &[u8] =
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello through faults";

/// The lines an MSNP8 client sends to log in with `ticket` and go online.
fn login_lines(email: &str, ticket: &str) -> Vec<String> {
    vec![
        "VER 1 MSNP8 CVR0".to_string(),
        format!("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS {email}"),
        format!("USR 3 TWN I {email}"),
        format!("USR 4 TWN S {ticket}"),
        "CHG 5 NLN 0".to_string(),
    ]
}

/// Bytes `lines` take on the wire.
fn wire_len(lines: &[String]) -> usize {
    lines.iter().map(|l| l.len() + 2).sum()
}

/// Logs in over MSNP8 at `addr` (the NS or a proxy in front of it) with the
/// lines from [`login_lines`] and sets NLN; returns after `CHG 5` and the
/// `ILN` of each of the `online` contacts already online.
fn login_at(addr: &str, email: &str, ticket: &str, online: usize) -> Client {
    let lines = login_lines(email, ticket);
    let mut c = Client::connect(addr);
    c.send(&lines[0]);
    c.expect("VER 1 MSNP8");
    c.send(&lines[1]);
    c.expect_prefix("CVR 2 ");
    c.send(&lines[2]);
    c.expect_prefix("USR 3 TWN S ");
    c.send(&lines[3]);
    c.expect_prefix(&format!("USR 4 OK {email} "));
    let (header, _) = c.read_payload_line();
    assert!(header.starts_with("MSG Hotmail Hotmail "), "{header}");
    c.send(&lines[4]);
    c.expect("CHG 5 NLN 0");
    for _ in 0..online {
        c.expect_prefix("ILN 5 NLN ");
    }
    c
}

/// Adds the accounts and makes each pair in `pairs` watch each other, over
/// direct connections that then log out.
fn setup(server: &Server, users: &[&str], pairs: &[(&str, &str)]) {
    for u in users {
        server.add_user(u, "pw");
    }
    for (i, (a, b)) in pairs.iter().enumerate() {
        let mut ca = server.login8(a);
        let mut cb = server.login8(b);
        befriend(&mut ca, a, &mut cb, b, 10 + i as u32);
        ca.send("OUT");
        ca.expect_closed();
        cb.send("OUT");
        cb.expect_closed();
    }
}

/// `caller` (on NS `caller_ns`) opens a switchboard, reached through `sb_addr`
/// (the real SB or a proxy), and invites `callee`; returns both SB clients.
fn open_chat(
    caller_ns: &mut Client,
    caller: &str,
    callee_ns: &mut Client,
    callee: &str,
    sb_addr: &str,
) -> (Client, Client) {
    caller_ns.send("XFR 30 SB");
    let xfr = caller_ns.expect_prefix("XFR 30 SB ");
    let cookie = xfr.split(' ').nth(5).unwrap().to_string();
    let mut caller_sb = Client::connect(sb_addr);
    caller_sb.send(&format!("USR 1 {caller} {cookie}"));
    caller_sb.expect(&format!("USR 1 OK {caller} {caller}"));
    caller_sb.send(&format!("CAL 2 {callee}"));
    let ringing = caller_sb.expect_prefix("CAL 2 RINGING ");
    let session = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = callee_ns.expect_prefix(&format!("RNG {session} "));
    let cookie = rng.split(' ').nth(4).unwrap().to_string();
    let mut callee_sb = Client::connect(sb_addr);
    callee_sb.send(&format!("ANS 1 {callee} {cookie} {session}"));
    callee_sb.expect(&format!("IRO 1 1 1 {caller} {caller}"));
    callee_sb.expect("ANS 1 OK");
    caller_sb.expect(&format!("JOI {callee} {callee}"));
    (caller_sb, callee_sb)
}

/// `from_sb` sends an acknowledged message; `to_sb` gets it, then the ACK comes.
fn chat(from_sb: &mut Client, from: &str, to_sb: &mut Client, trid: u32) {
    from_sb.send_payload(&format!("MSG {trid} A"), MESSAGE);
    let (head, payload) = to_sb.read_payload_line();
    assert_eq!(head, format!("MSG {from} {from} {}", MESSAGE.len()));
    assert_eq!(payload, MESSAGE);
    from_sb.expect(&format!("ACK {trid}"));
}

fn login_and_chat_through(toxic: Toxic) {
    let server = Server::start(&[]);
    let (a, b) = ("alice@example.com", "bob@example.com");
    setup(&server, &[a, b], &[(a, b)]);
    let ns = FaultProxy::start(server.addr("ns"), toxic);
    let sb = FaultProxy::start(server.addr("sb"), toxic);
    let mut alice = login_at(&ns.addr, a, &server.ticket(a), 0);
    let mut bob = login_at(&ns.addr, b, &server.ticket(b), 1);
    alice.expect(&format!("NLN NLN {b} {b} 0"));
    let (mut alice_sb, mut bob_sb) = open_chat(&mut alice, a, &mut bob, b, &sb.addr);
    chat(&mut alice_sb, a, &mut bob_sb, 3);
    chat(&mut bob_sb, b, &mut alice_sb, 4);
    bob_sb.send("OUT");
    bob_sb.expect_closed();
    alice_sb.expect(&format!("BYE {b}"));
    assert!(alice.fence().is_empty());
}

#[test]
fn login_and_chat_survive_added_latency() {
    login_and_chat_through(Toxic::Latency(Duration::from_millis(30)));
}

#[test]
fn login_and_chat_survive_one_byte_slices() {
    login_and_chat_through(Toxic::OneByteSlices);
}

#[test]
fn reset_mid_payload_leaves_the_server_healthy() {
    let server = Server::start(&[]);
    let (a, b, c) = ("alice@example.com", "bob@example.com", "carol@example.com");
    setup(&server, &[a, b, c], &[(a, b), (a, c)]);
    let mut alice = login_at(server.addr("ns"), a, &server.ticket(a), 0);

    // Bob's NS link resets in the middle of a line after his login.
    let ticket = server.ticket(b);
    let ns = FaultProxy::start(
        server.addr("ns"),
        Toxic::ResetAfter(wire_len(&login_lines(b, &ticket)) + 6),
    );
    let mut bob = login_at(&ns.addr, b, &ticket, 1);
    alice.expect(&format!("NLN NLN {b} {b} 0"));

    // Alice calls Bob; Bob answers through a proxy that resets his SB link
    // halfway through the payload of his first message.
    alice.send("XFR 30 SB");
    let xfr = alice.expect_prefix("XFR 30 SB ");
    let cookie = xfr.split(' ').nth(5).unwrap().to_string();
    let mut alice_sb = Client::connect(server.addr("sb"));
    alice_sb.send(&format!("USR 1 {a} {cookie}"));
    alice_sb.expect(&format!("USR 1 OK {a} {a}"));
    alice_sb.send(&format!("CAL 2 {b}"));
    let ringing = alice_sb.expect_prefix("CAL 2 RINGING ");
    let session = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = bob.expect_prefix(&format!("RNG {session} "));
    let ans = format!("ANS 1 {b} {} {session}", rng.split(' ').nth(4).unwrap());
    let head = format!("MSG 2 A {}", MESSAGE.len());
    let sb = FaultProxy::start(
        server.addr("sb"),
        Toxic::ResetAfter(ans.len() + 2 + head.len() + 2 + MESSAGE.len() / 2),
    );
    let mut bob_sb = Client::connect(&sb.addr);
    bob_sb.send(&ans);
    bob_sb.expect(&format!("IRO 1 1 1 {a} {a}"));
    bob_sb.expect("ANS 1 OK");
    alice_sb.expect(&format!("JOI {b} {b}"));
    bob_sb.send_payload("MSG 2 A", MESSAGE);
    // Half a message never reaches Alice; Bob just leaves the conversation.
    alice_sb.expect(&format!("BYE {b}"));

    // Bob's NS link resets mid-line: his watchers see him go offline.
    bob.send_raw(b"ADD 40 FL nob");
    alice.expect(&format!("FLN {b}"));

    // The server is healthy: Carol logs in and chats with Alice.
    let mut carol = login_at(server.addr("ns"), c, &server.ticket(c), 1);
    alice.expect(&format!("NLN NLN {c} {c} 0"));
    let (mut alice_sb2, mut carol_sb) = open_chat(&mut alice, a, &mut carol, c, server.addr("sb"));
    chat(&mut alice_sb2, a, &mut carol_sb, 3);
    chat(&mut carol_sb, c, &mut alice_sb2, 4);
}

#[test]
fn half_open_peer_is_dropped_by_the_idle_timeout() {
    let server = Server::start(&[
        "limits.idle_timeout_secs=3",
        "protocol.ping_interval_secs=1",
    ]);
    let (a, b) = ("alice@example.com", "bob@example.com");
    setup(&server, &[a, b], &[(a, b)]);
    let mut alice = login_at(server.addr("ns"), a, &server.ticket(a), 0);
    // Bob's link goes half-open right after his login: nothing more flows and
    // nothing is closed, like a peer whose machine vanished.
    let ticket = server.ticket(b);
    let proxy = FaultProxy::start(
        server.addr("ns"),
        Toxic::HalfOpenAfter(wire_len(&login_lines(b, &ticket))),
    );
    let _bob = login_at(&proxy.addr, b, &ticket, 1);
    alice.expect(&format!("NLN NLN {b} {b} 0"));
    // Alice keeps pinging as QNG asks, so the idle timeout spares her; Bob's
    // session is dropped and Alice sees it.
    loop {
        let lines = alice.fence();
        if lines.iter().any(|l| l == &format!("FLN {b}")) {
            assert_eq!(lines, vec![format!("FLN {b}")]);
            break;
        }
        assert!(lines.is_empty(), "{lines:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
    // Others are unaffected: Alice is still served.
    assert!(alice.fence().is_empty());
}
