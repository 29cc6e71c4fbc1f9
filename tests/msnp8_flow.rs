//! End-to-end MSNP8 over raw TCP against the real binary: two users log in, add
//! each other, see each other's presence, chat with acknowledged messages in a
//! switchboard and invite a third user. Runs on SQLite always and on PostgreSQL
//! when `MSNPD_TEST_POSTGRES_URL` is set.

mod common;

use common::{Client, Server};

const MESSAGE: &[u8] = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\nhello bob";

fn online(server: &Server, email: &str) -> Client {
    let mut c = server.login8(email);
    c.send("SYN 5 0");
    let syn = c.expect_prefix("SYN 5 ");
    // Drain the list lines: SYN trid ver ncontacts ngroups.
    let parts: Vec<&str> = syn.split(' ').collect();
    let contacts: usize = parts[3].parse().unwrap();
    let groups: usize = parts[4].parse().unwrap();
    for _ in 0..(2 + contacts + groups) {
        c.line();
    }
    c
}

fn chat_flow(server: &Server) {
    for (user, pw) in [
        ("alice@example.com", "pw-a"),
        ("bob@example.com", "pw-b"),
        ("carol@example.com", "pw-c"),
    ] {
        server.add_user(user, pw);
    }
    let mut alice = online(server, "alice@example.com");
    let mut bob = online(server, "bob@example.com");
    let mut carol = online(server, "carol@example.com");

    // Alice adds Bob; Bob is told he is on Alice's reverse list.
    alice.send("ADD 10 FL bob@example.com bob@example.com 0");
    alice.expect_prefix("ADD 10 FL ");
    bob.expect_prefix("ADD 0 RL ");
    bob.send("ADD 11 FL alice@example.com alice@example.com 0");
    bob.expect_prefix("ADD 11 FL ");
    alice.expect_prefix("ADD 0 RL ");
    for (c, name) in [
        (&mut alice, "carol@example.com"),
        (&mut bob, "carol@example.com"),
    ] {
        c.send(&format!("ADD 12 FL {name} {name} 0"));
        c.expect_prefix("ADD 12 FL ");
    }
    carol.expect_prefix("ADD 0 RL ");
    carol.expect_prefix("ADD 0 RL ");

    // Presence: Bob goes online first; Alice's first CHG gets his ILN, Bob gets her NLN.
    bob.send("CHG 20 NLN 0");
    bob.expect("CHG 20 NLN 0");
    alice.send("CHG 21 NLN 0");
    alice.expect("CHG 21 NLN 0");
    alice.expect("ILN 21 NLN bob@example.com bob@example.com 0");
    bob.expect("NLN NLN alice@example.com alice@example.com 0");
    carol.send("CHG 22 BSY 0");
    carol.expect("CHG 22 BSY 0");
    let mut seen = vec![alice.line(), bob.line()];
    seen.sort();
    assert_eq!(
        seen,
        vec!["NLN BSY carol@example.com carol@example.com 0"; 2]
    );

    // Alice opens a switchboard and calls Bob.
    alice.send("XFR 30 SB");
    let xfr = alice.expect_prefix("XFR 30 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    assert_eq!(parts[4], "CKI");
    let (sb_addr, cookie) = (parts[3], parts[5]);
    assert_eq!(sb_addr, server.addr("sb"));
    let mut alice_sb = Client::connect(sb_addr);
    alice_sb.send(&format!("USR 1 alice@example.com {cookie}"));
    alice_sb.expect("USR 1 OK alice@example.com alice@example.com");
    alice_sb.send("CAL 2 bob@example.com");
    let ringing = alice_sb.expect_prefix("CAL 2 RINGING ");
    let session_id = ringing.rsplit(' ').next().unwrap().to_string();

    let rng = bob.expect_prefix(&format!("RNG {session_id} {sb_addr} CKI "));
    let parts: Vec<&str> = rng.split(' ').collect();
    assert_eq!(&parts[5..], ["alice@example.com", "alice@example.com"]);
    let mut bob_sb = Client::connect(sb_addr);
    bob_sb.send(&format!("ANS 1 bob@example.com {} {session_id}", parts[4]));
    bob_sb.expect("IRO 1 1 1 alice@example.com alice@example.com");
    bob_sb.expect("ANS 1 OK");
    alice_sb.expect("JOI bob@example.com bob@example.com");

    // An acknowledged message is delivered, then ACKed.
    alice_sb.send_payload("MSG 3 A", MESSAGE);
    let (head, payload) = bob_sb.read_payload_line();
    assert_eq!(
        head,
        format!("MSG alice@example.com alice@example.com {}", MESSAGE.len())
    );
    assert_eq!(payload, MESSAGE);
    alice_sb.expect("ACK 3");

    // Bob invites Carol; she sees both, both see her join.
    bob_sb.send("CAL 2 carol@example.com");
    bob_sb.expect_prefix("CAL 2 RINGING ");
    let rng = carol.expect_prefix(&format!("RNG {session_id} "));
    let cookie = rng.split(' ').nth(4).unwrap().to_string();
    let mut carol_sb = Client::connect(sb_addr);
    carol_sb.send(&format!("ANS 7 carol@example.com {cookie} {session_id}"));
    let mut iro = vec![carol_sb.line(), carol_sb.line()];
    iro.sort();
    assert_eq!(
        iro,
        vec![
            "IRO 7 1 2 alice@example.com alice@example.com",
            "IRO 7 2 2 bob@example.com bob@example.com"
        ]
    );
    carol_sb.expect("ANS 7 OK");
    alice_sb.expect("JOI carol@example.com carol@example.com");
    bob_sb.expect("JOI carol@example.com carol@example.com");

    // Carol writes to both; unacknowledged mode gets no reply.
    carol_sb.send_payload(
        "MSG 8 N",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhi all",
    );
    for c in [&mut alice_sb, &mut bob_sb] {
        let (head, _) = c.read_payload_line();
        assert!(
            head.starts_with("MSG carol@example.com carol@example.com "),
            "{head}"
        );
    }
    // Bob leaves: the others see BYE.
    bob_sb.send("OUT");
    bob_sb.expect_closed();
    alice_sb.expect("BYE bob@example.com");
    carol_sb.expect("BYE bob@example.com");

    // Alice logs out of the notification server: watchers see FLN.
    alice.send("OUT");
    alice.expect_closed();
    bob.expect("FLN alice@example.com");
    assert!(bob.fence().is_empty());
}

#[test]
fn msnp8_chat_on_sqlite() {
    let server = Server::start(&[]);
    chat_flow(&server);
    let status = server.stop();
    assert!(status.success(), "{status}");
}

#[test]
fn msnp8_chat_on_postgres() {
    let Some(url) = common::postgres::fresh_database("flow") else {
        return;
    };
    let server = Server::start_with_store(tempfile::tempdir().unwrap(), &url.url, &[]);
    chat_flow(&server);
    assert!(server.stop().success());
    url.drop_database();
}
