//! The store becomes unavailable under a running msnpd: an SQLite file locked
//! by another process, and a private PostgreSQL cluster stopped mid-test. New
//! password logins fail fast with a server error, live sessions and
//! switchboards carry on, and logins work again once the store is back, with no
//! restart.

mod common;

use common::{Client, Server, befriend, http_get, percent_encode};

const MESSAGE: &[u8] = b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nstill here";

/// A Passport 1.4 password sign-in at the login endpoint; returns the status.
fn http_login(server: &Server, email: &str, password: &str) -> u16 {
    let authorization = format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={},pwd={},lc=1033,id=507",
        percent_encode(email),
        percent_encode(password)
    );
    http_get(
        server.addr("http"),
        "/login2.srf",
        &[("Authorization", &authorization), ("User-Agent", "MSMSGS")],
    )
    .status
}

/// Tries an MSNP7 `USR MD5` password login; returns the reply to the second
/// `USR` (or to the first, when that one already failed).
fn md5_login_reply(server: &Server, email: &str, password: &str) -> String {
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP7 MSNP6 MSNP5 MSNP4 CVR0");
    c.expect("VER 1 MSNP7");
    c.send("INF 2");
    c.expect("INF 2 MD5");
    c.send(&format!("USR 4 MD5 I {email}"));
    let first = c.line();
    let Some(salt) = first.strip_prefix("USR 4 MD5 S ") else {
        return first;
    };
    c.send(&format!(
        "USR 5 MD5 S {}",
        common::md5_hex(&format!("{salt}{password}"))
    ));
    c.line()
}

/// Bob logs in again with his ticket while the store is down: msnpd uses his
/// last known login data (remembered at his first login), so he gets in, `SYN`
/// gives his list, and he chats with Alice in a new switchboard.
fn ticket_login_with_remembered_list(server: &Server, chat: &mut Chat, ticket: &str) {
    let (a, b) = ("alice@example.com", "bob@example.com");
    let started = std::time::Instant::now();
    let (mut bob, reply) = server.ticket_login8(b, ticket);
    assert_eq!(reply, format!("USR 4 OK {b} {b} 1 0"));
    eprintln!(
        "ticket login with the store down took {:?}",
        started.elapsed()
    );
    let (header, _) = bob.read_payload_line();
    assert!(header.starts_with("MSG Hotmail Hotmail "), "{header}");
    // The older session is replaced, as for any second login.
    chat.bob.expect("OUT OTH");
    bob.send("SYN 5 0");
    let syn = bob.expect_prefix("SYN 5 ");
    assert!(syn.ends_with(" 1 1"), "one contact, one group: {syn}");
    bob.expect_prefix("GTC ");
    bob.expect_prefix("BLP ");
    bob.expect_prefix("LSG ");
    let lst = bob.line();
    assert!(lst.starts_with(&format!("LST {a} {a} ")), "{lst}");
    bob.send("CHG 6 NLN 0");
    bob.expect("CHG 6 NLN 0");
    bob.expect(&format!("ILN 6 NLN {a} {a} 0"));
    let (mut bob_sb, mut alice_sb) = switchboard(server, (&mut bob, b), (&mut chat.alice, a), 7);
    send_and_ack(&mut bob_sb, &mut alice_sb, b, 8);
    send_and_ack(&mut alice_sb, &mut bob_sb, a, 9);
    chat.bob = bob;
    chat.alice.fence();
}

/// Alice and Bob, friends, online, in a switchboard together.
struct Chat {
    alice: Client,
    bob: Client,
    alice_sb: Client,
    bob_sb: Client,
}

fn open_chat(server: &Server) -> Chat {
    let (a, b) = ("alice@example.com", "bob@example.com");
    let mut alice = server.online(a);
    let mut bob = server.online(b);
    befriend(&mut alice, a, &mut bob, b, 10);
    bob.send("CHG 20 NLN 0");
    bob.expect("CHG 20 NLN 0");
    alice.send("CHG 21 NLN 0");
    alice.expect("CHG 21 NLN 0");
    alice.expect(&format!("ILN 21 NLN {b} {b} 0"));
    bob.expect(&format!("NLN NLN {a} {a} 0"));
    let (alice_sb, bob_sb) = switchboard(server, (&mut alice, a), (&mut bob, b), 30);
    Chat {
        alice,
        bob,
        alice_sb,
        bob_sb,
    }
}

/// `caller` opens a switchboard (`XFR trid SB`) and calls `callee`, who
/// answers; returns both switchboard connections.
fn switchboard(
    server: &Server,
    (caller, a): (&mut Client, &str),
    (callee, b): (&mut Client, &str),
    trid: u32,
) -> (Client, Client) {
    caller.send(&format!("XFR {trid} SB"));
    let xfr = caller.expect_prefix(&format!("XFR {trid} SB "));
    let cookie = xfr.split(' ').nth(5).unwrap().to_string();
    let mut caller_sb = server.connect("sb");
    caller_sb.send(&format!("USR 1 {a} {cookie}"));
    caller_sb.expect(&format!("USR 1 OK {a} {a}"));
    caller_sb.send(&format!("CAL 2 {b}"));
    let ringing = caller_sb.expect_prefix("CAL 2 RINGING ");
    let session = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = callee.expect_prefix(&format!("RNG {session} "));
    let cookie = rng.split(' ').nth(4).unwrap().to_string();
    let mut callee_sb = server.connect("sb");
    callee_sb.send(&format!("ANS 1 {b} {cookie} {session}"));
    callee_sb.expect(&format!("IRO 1 1 1 {a} {a}"));
    callee_sb.expect("ANS 1 OK");
    caller_sb.expect(&format!("JOI {b} {b}"));
    (caller_sb, callee_sb)
}

impl Chat {
    /// An acknowledged message each way.
    fn still_works(&mut self, trid: u32) {
        send_and_ack(
            &mut self.alice_sb,
            &mut self.bob_sb,
            "alice@example.com",
            trid,
        );
        send_and_ack(
            &mut self.bob_sb,
            &mut self.alice_sb,
            "bob@example.com",
            trid,
        );
        let extra = self.alice.fence();
        assert!(extra.is_empty(), "{extra:?}");
        let extra = self.bob.fence();
        assert!(extra.is_empty(), "{extra:?}");
    }
}

/// `from` (user `who`) sends an acknowledged message that `to` receives.
fn send_and_ack(from: &mut Client, to: &mut Client, who: &str, trid: u32) {
    from.send_payload(&format!("MSG {trid} A"), MESSAGE);
    let (head, payload) = to.read_payload_line();
    assert_eq!(head, format!("MSG {who} {who} {}", MESSAGE.len()));
    assert_eq!(payload, MESSAGE);
    from.expect(&format!("ACK {trid}"));
}

/// While the store is down: both kinds of password login get a server error,
/// and the open chat carries on.
fn check_store_down(server: &Server, chat: &mut Chat) {
    let started = std::time::Instant::now();
    assert_eq!(http_login(server, "carol@example.com", "pw-c"), 503);
    eprintln!("HTTP login answered 503 after {:?}", started.elapsed());
    let started = std::time::Instant::now();
    let reply = md5_login_reply(server, "carol@example.com", "pw-c");
    eprintln!("USR MD5 answered {reply:?} after {:?}", started.elapsed());
    assert!(
        reply.starts_with("500 4") || reply.starts_with("500 5"),
        "{reply}"
    );
    chat.still_works(40);
}

/// Once the store is back: logins succeed again in the same process.
fn check_store_back(server: &Server, chat: &mut Chat) {
    assert_eq!(http_login(server, "carol@example.com", "pw-c"), 200);
    let reply = md5_login_reply(server, "carol@example.com", "pw-c");
    assert!(reply.starts_with("USR 5 OK carol@example.com "), "{reply}");
    chat.still_works(50);
}

fn add_users(server: &Server) {
    for (u, p) in [
        ("alice@example.com", "pw-a"),
        ("bob@example.com", "pw-b"),
        ("carol@example.com", "pw-c"),
    ] {
        server.add_user(u, p);
    }
}

/// `ADD` of Carol to Alice's forward list: the reply line.
fn add_carol(chat: &mut Chat, trid: u32) -> String {
    chat.alice.send(&format!(
        "ADD {trid} FL carol@example.com carol@example.com 0"
    ));
    chat.alice.line()
}

#[test]
fn locked_sqlite_fails_writes_fast_and_recovers() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("msnpd.sqlite");
    let server = Server::start_with_store(dir, &format!("sqlite://{}", db.display()), &[]);
    add_users(&server);
    let mut chat = open_chat(&server);
    chat.still_works(30);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut locker = runtime
        .block_on(sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            db.display()
        )))
        .unwrap();
    // Another process holds the write lock. In WAL mode readers are not
    // blocked (msnpd's own open connections keep a shared lock on the file, so
    // nobody can take it exclusively while it runs): password logins, which
    // only read, keep working; writes wait out the busy timeout and fail.
    runtime.block_on(async {
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut locker)
            .await
            .unwrap();
    });
    let started = std::time::Instant::now();
    let reply = add_carol(&mut chat, 60);
    eprintln!("ADD answered {reply:?} after {:?}", started.elapsed());
    assert!(reply.starts_with("500 60"), "{reply}");
    chat.still_works(40);
    assert_eq!(http_login(&server, "carol@example.com", "pw-c"), 200);
    let reply = md5_login_reply(&server, "carol@example.com", "pw-c");
    assert!(reply.starts_with("USR 5 OK carol@example.com "), "{reply}");

    runtime.block_on(async {
        sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();
        locker.close().await.unwrap();
    });
    let reply = add_carol(&mut chat, 61);
    assert!(reply.starts_with("ADD 61 FL "), "{reply}");
    check_store_back(&server, &mut chat);
}

#[test]
fn stopped_postgres_fails_logins_fast_and_recovers() {
    let Some(cluster) = common::pg_cluster::PgCluster::start() else {
        return;
    };
    let server = Server::start_with_store(tempfile::tempdir().unwrap(), &cluster.url, &[]);
    add_users(&server);
    let mut chat = open_chat(&server);
    chat.still_works(30);

    // Tickets issued before the outage (the nexus needs the store to issue one).
    let carol_ticket = server.ticket("carol@example.com");
    let bob_ticket = server.ticket("bob@example.com");
    // Bob's client syncs its list after the edits that made Alice and him
    // friends, so msnpd has read his current login data before the outage.
    chat.bob.send("SYN 70 0");
    chat.bob.expect_prefix("SYN 70 ");
    chat.bob.fence();
    cluster.stop();
    check_store_down(&server, &mut chat);
    // A valid ticket is checked without the database. Carol never logged in,
    // so msnpd has no last known contact list for her: a server error, not a hang.
    let (_, reply) = server.ticket_login8("carol@example.com", &carol_ticket);
    assert!(reply.starts_with("500 4"), "{reply}");
    ticket_login_with_remembered_list(&server, &mut chat, &bob_ticket);

    cluster.start_again();
    check_store_back(&server, &mut chat);
}
