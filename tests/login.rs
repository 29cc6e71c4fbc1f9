//! Notification and dispatch login over raw sockets against the real binary:
//! dialect negotiation, the gate's numeric errors before and after login, ticket
//! checks, the Passport 1.4 nexus login the way MSN Messenger 5 does it, a second
//! login of the same account, and the dispatch role's `XFR NS` redirect.

mod common;

use common::{Client, Server, befriend};

const CVR: &str = "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS";

/// `VER` + `CVR` on a fresh notification connection.
fn negotiated(server: &Server, email: &str) -> Client {
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c.send(&format!("{CVR} {email}"));
    c.expect_prefix("CVR 2 ");
    c
}

#[test]
fn dialect_negotiation_and_gate_errors() {
    let server = Server::start(&[]);
    server.add_user("alice@example.com", "pw-a");

    // No common dialect: `VER 1 0`, then the server hangs up.
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP99 CVR0");
    c.expect("VER 1 0");
    c.expect_closed();

    // Before VER: list commands need a login (302), unknown verbs are 200,
    // and CVR is out of order.
    let mut c = server.connect("ns");
    c.send("SYN 1 0");
    c.expect("302 1");
    c.send("FOO 2");
    c.expect("200 2");
    c.send("VER 3 MSNP8 CVR0");
    c.expect("VER 3 MSNP8");
    // CVR with fewer than six arguments: 710.
    c.send("CVR 4 0x0409 winnt 5.1 i386");
    c.expect("710 4");
    c.send(&format!("{CVR} alice@example.com"));
    c.expect_prefix("CVR 2 ");
    for (line, reply) in [
        ("CHG 5 NLN 0", "302 5"),
        ("ADD 6 FL bob@example.com bob@example.com 0", "302 6"),
        ("XFR 7 SB", "302 7"),
        ("BLP 8 BL", "302 8"),
        ("FOO 9", "200 9"),
        ("CAL 10 bob@example.com", "200 10"),
    ] {
        c.send(line);
        c.expect(reply);
    }
    // USR TWN S without USR TWN I first.
    c.send("USR 11 TWN S t=whatever");
    c.expect("715 11");
    assert!(c.fence().is_empty());

    // After login: USR again is 207, unknown verbs are 200, the session goes on.
    let mut c = server.login8("alice@example.com");
    c.send("USR 6 TWN I alice@example.com");
    c.expect("207 6");
    c.send("ZZZ 7 a b c");
    c.expect("200 7");
    c.send("VER 8 MSNP8 CVR0");
    c.expect("715 8");
    c.send("CHG 9 NLN 0");
    c.expect("CHG 9 NLN 0");
    assert!(c.fence().is_empty());
}

#[test]
fn ticket_checks() {
    let server = Server::start(&[]);
    server.add_user("alice@example.com", "pw-a");
    server.add_user("bob@example.com", "pw-b");
    let bob_ticket = server.ticket("bob@example.com");
    let alice_ticket = server.ticket("alice@example.com");

    for bad in [
        "garbage".to_string(),
        "t=AAAA&p=BBBB".to_string(),
        // A real ticket with one character changed.
        {
            let mut t = alice_ticket.clone().into_bytes();
            let i = t.len() / 2;
            t[i] = if t[i] == b'A' { b'B' } else { b'A' };
            String::from_utf8(t).unwrap()
        },
        // Bob's valid ticket presented for Alice.
        bob_ticket.clone(),
    ] {
        let mut c = negotiated(&server, "alice@example.com");
        c.send("USR 3 TWN I alice@example.com");
        c.expect_prefix("USR 3 TWN S ");
        c.send(&format!("USR 4 TWN S {bad}"));
        c.expect("911 4");
        // The failed attempt did not log anyone in.
        c.send("SYN 5 0");
        c.expect("302 5");
    }

    // The genuine ticket still works afterwards, also with the email in another case.
    let mut c = negotiated(&server, "alice@example.com");
    c.send("USR 3 TWN I Alice@Example.COM");
    c.expect_prefix("USR 3 TWN S ");
    c.send(&format!("USR 4 TWN S {alice_ticket}"));
    c.expect_prefix("USR 4 OK alice@example.com ");
    c.read_payload_line();
    assert!(c.fence().is_empty());
}

#[test]
fn passport_nexus_login_like_msn5() {
    let server = Server::start(&[]);
    server.add_user("alice@example.com", "secret-a");

    let mut c = negotiated(&server, "alice@example.com");
    c.send("USR 3 TWN I alice@example.com");
    let usr = c.expect_prefix("USR 3 TWN S ");
    let policy = usr.trim_start_matches("USR 3 TWN S ");
    assert!(policy.contains("lc=1033"), "{policy}");

    assert_eq!(
        server.passport_login("alice@example.com", "wrong", policy),
        Err(401)
    );
    assert_eq!(
        server.passport_login("nobody@example.com", "secret-a", policy),
        Err(401)
    );
    let ticket = server
        .passport_login("alice@example.com", "secret-a", policy)
        .unwrap();
    c.send(&format!("USR 4 TWN S {ticket}"));
    c.expect("USR 4 OK alice@example.com alice@example.com 1 0");
    let (head, payload) = c.read_payload_line();
    assert!(head.starts_with("MSG Hotmail Hotmail "), "{head}");
    let profile = String::from_utf8(payload).unwrap();
    assert!(profile.contains("text/x-msmsgsprofile"), "{profile}");
    c.send("SYN 5 0");
    c.expect_prefix("SYN 5 ");
}

#[test]
fn second_login_kicks_the_first_without_fln() {
    let server = Server::start(&[]);
    server.add_user("alice@example.com", "pw-a");
    server.add_user("bob@example.com", "pw-b");
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    befriend(
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        10,
    );
    bob.send("CHG 11 NLN 0");
    bob.expect("CHG 11 NLN 0");
    alice.send("CHG 12 AWY 0");
    alice.expect("CHG 12 AWY 0");
    alice.expect("ILN 12 NLN bob@example.com bob@example.com 0");
    bob.expect("NLN AWY alice@example.com alice@example.com 0");

    // Alice logs in again elsewhere: the old session is told and closed.
    let mut alice2 = server.online("alice@example.com");
    alice.expect("OUT OTH");
    alice.expect_closed();
    // Bob never saw her go offline.
    assert!(bob.fence().is_empty());
    // The new session works and its status reaches Bob.
    alice2.send("CHG 13 NLN 0");
    alice2.expect("CHG 13 NLN 0");
    alice2.expect("ILN 13 NLN bob@example.com bob@example.com 0");
    bob.expect("NLN NLN alice@example.com alice@example.com 0");
    assert!(alice2.fence().is_empty());
    assert!(bob.fence().is_empty());
    // And when it ends, Bob sees FLN exactly once.
    alice2.send("OUT");
    alice2.expect_closed();
    bob.expect("FLN alice@example.com");
    assert!(bob.fence().is_empty());

    // A new login that takes over and leaves before setting any status still
    // takes the old session's presence with it: Bob is not left seeing a ghost.
    let mut alice3 = server.online("alice@example.com");
    alice3.send("CHG 14 BSY 0");
    alice3.expect("CHG 14 BSY 0");
    alice3.expect("ILN 14 NLN bob@example.com bob@example.com 0");
    bob.expect("NLN BSY alice@example.com alice@example.com 0");
    let mut alice4 = server.online("alice@example.com");
    alice3.expect("OUT OTH");
    alice3.expect_closed();
    assert!(bob.fence().is_empty());
    alice4.send("OUT");
    alice4.expect_closed();
    bob.expect("FLN alice@example.com");
    assert!(bob.fence().is_empty());
}

#[test]
fn dispatch_redirects_to_the_notification_server() {
    let server = Server::start(&[
        "listeners.ds.role=dispatch",
        "listeners.ds.bind=127.0.0.1:0",
    ]);
    server.add_user("alice@example.com", "pw-a");
    let ns = server.addr("ns").to_string();
    let ds = server.addr("ds").to_string();
    assert_ne!(ns, ds);

    let mut c = server.connect("ds");
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c.send(&format!("{CVR} alice@example.com"));
    c.expect_prefix("CVR 2 ");
    c.send("USR 3 TWN I alice@example.com");
    c.expect(&format!("XFR 3 NS {ns} 0 {ds}"));
    c.expect_closed();

    // The dispatch server is not a notification server.
    let mut c = server.connect("ds");
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c.send("SYN 2 0");
    c.expect("200 2");
    assert!(c.fence().is_empty());

    // The address it names serves the login.
    let mut c = server.login8("alice@example.com");
    assert!(c.fence().is_empty());
}
