//! The admin listener's `/metrics` and `/readyz` against the real binary, and
//! the logs at their most verbose level: metrics move with logins, messages
//! and errors; `/readyz` answers 503 while another process holds the SQLite
//! write lock and 200 again once it lets go; a full login (HTTP Passport with a
//! password, TWN ticket, MD5) and a chat at `trace` never log the password,
//! the ticket, the MD5 response or the message body.

mod common;

use std::time::{Duration, Instant};

use common::admin_http::{get, sample};
use common::{Client, Server, md5_hex};

/// Two accounts that watch each other, online over MSNP8 (`CHG NLN` done).
fn two_online(server: &Server, a: &str, b: &str) -> (Client, Client) {
    let mut ca = server.online(a);
    let mut cb = server.online(b);
    common::befriend(&mut ca, a, &mut cb, b, 10);
    cb.send("CHG 20 NLN 0");
    cb.expect("CHG 20 NLN 0");
    ca.send("CHG 21 NLN 0");
    ca.expect("CHG 21 NLN 0");
    ca.expect_prefix("ILN 21 NLN ");
    cb.expect_prefix(&format!("NLN NLN {a} "));
    (ca, cb)
}

/// `a` opens a switchboard with `b` and sends `body` acknowledged; returns
/// both switchboard connections after `b` got it and `a` got `ACK`.
fn chat(
    server: &Server,
    a: &mut Client,
    a_email: &str,
    b: &mut Client,
    b_email: &str,
    body: &[u8],
) -> (Client, Client) {
    a.send("XFR 30 SB");
    let xfr = a.expect_prefix("XFR 30 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let (sb_addr, cookie) = (parts[3].to_string(), parts[5].to_string());
    assert_eq!(sb_addr, server.addr("sb"));
    let mut a_sb = Client::connect(&sb_addr);
    a_sb.send(&format!("USR 1 {a_email} {cookie}"));
    a_sb.expect_prefix("USR 1 OK ");
    a_sb.send(&format!("CAL 2 {b_email}"));
    let ringing = a_sb.expect_prefix("CAL 2 RINGING ");
    let session = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = b.expect_prefix(&format!("RNG {session} "));
    let ring_cookie = rng.split(' ').nth(4).unwrap().to_string();
    let mut b_sb = Client::connect(&sb_addr);
    b_sb.send(&format!("ANS 1 {b_email} {ring_cookie} {session}"));
    b_sb.expect_prefix("IRO 1 1 1 ");
    b_sb.expect("ANS 1 OK");
    a_sb.expect_prefix(&format!("JOI {b_email} "));
    a_sb.send_payload("MSG 3 A", body);
    let (_, payload) = b_sb.read_payload_line();
    assert_eq!(payload, body);
    a_sb.expect("ACK 3");
    (a_sb, b_sb)
}

const BODY: &[u8] =
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello metrics";

#[test]
fn metrics_follow_logins_messages_and_errors() {
    let server = Server::start(&["limits.login_failures_per_account=1"]);
    let admin = server.addr("admin").to_string();
    server.add_user("alice@example.com", "pw-a");
    server.add_user("bob@example.com", "pw-b");
    server.add_user("carol@example.com", "pw-c");

    let before = get(&admin, "/metrics");
    assert_eq!(before.status, 200);
    assert!(
        before
            .header("Content-Type")
            .unwrap_or_default()
            .starts_with("application/openmetrics-text"),
        "{:?}",
        before.headers
    );
    assert!(before.body.ends_with("# EOF\n"));
    assert_eq!(sample(&before.body, "msnpd_online_users"), 0.0);

    let (mut alice, mut bob) = two_online(&server, "alice@example.com", "bob@example.com");
    let (alice_sb, bob_sb) = chat(
        &server,
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        BODY,
    );

    // A refused ticket login: 911 and a failed TWN login.
    let mut bad = server.connect("ns");
    bad.send("VER 1 MSNP8 CVR0");
    bad.expect("VER 1 MSNP8");
    bad.send("USR 2 TWN I alice@example.com");
    bad.expect_prefix("USR 2 TWN S ");
    bad.send("USR 3 TWN S t=forged&p=nothing");
    bad.expect("911 3");
    // Two wrong MD5 passwords: the second is refused by the failure limit.
    for trid in [1, 2] {
        let mut c = server.connect("ns");
        c.send(&format!("VER {trid} MSNP7"));
        c.expect(&format!("VER {trid} MSNP7"));
        c.send("USR 2 MD5 I carol@example.com");
        c.expect_prefix("USR 2 MD5 S ");
        c.send("USR 3 MD5 S 00000000000000000000000000000000");
        c.expect("911 3");
    }
    // An unknown command on a logged-in connection: 200.
    alice.send("ZZZ 40");
    alice.expect("200 40");

    let m = get(&admin, "/metrics").body;
    let at_least = |series: &str, n: f64| {
        let v = sample(&m, series);
        assert!(v >= n, "{series} = {v}, expected >= {n}\n{m}");
    };
    at_least(r#"msnpd_logins_total{method="twn",result="ok"}"#, 2.0);
    at_least(r#"msnpd_logins_total{method="twn",result="failed"}"#, 1.0);
    at_least(r#"msnpd_logins_total{method="sb_cookie",result="ok"}"#, 2.0);
    at_least(r#"msnpd_errors_sent_total{code="911"}"#, 3.0);
    at_least(r#"msnpd_logins_total{method="md5",result="failed"}"#, 2.0);
    at_least(
        r#"msnpd_limit_rejections_total{limit="login_failures"}"#,
        1.0,
    );
    at_least(r#"msnpd_errors_sent_total{code="200"}"#, 1.0);
    at_least(r#"msnpd_commands_total{verb="MSG"}"#, 1.0);
    at_least(r#"msnpd_commands_total{verb="USR"}"#, 3.0);
    at_least(r#"msnpd_connections{role="ns",dialect="MSNP8"}"#, 3.0);
    at_least(r#"msnpd_connections{role="sb",dialect="MSNP8"}"#, 2.0);
    at_least(r#"msnpd_store_operation_seconds_count{op="account"}"#, 2.0);
    assert_eq!(sample(&m, "msnpd_online_users"), 2.0, "{m}");
    assert_eq!(sample(&m, "msnpd_switchboards"), 1.0, "{m}");
    assert_eq!(sample(&m, "msnpd_offline_queue_messages"), 0.0, "{m}");
    assert!(m.contains("msnpd_send_queue_bytes "), "{m}");

    // Closing connections brings the gauges back down.
    drop((alice_sb, bob_sb, bad));
    drop(bob);
    alice.fence();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = get(&admin, "/metrics").body;
        let sb = sample(&m, r#"msnpd_connections{role="sb",dialect="MSNP8"}"#);
        let online = sample(&m, "msnpd_online_users");
        if sb == 0.0 && online == 1.0 {
            break;
        }
        assert!(Instant::now() < deadline, "gauges did not fall:\n{m}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn readyz_follows_the_store_lock() {
    let server = Server::start(&[]);
    let admin = server.addr("admin").to_string();
    assert_eq!(get(&admin, "/healthz").status, 200);
    let ready = get(&admin, "/readyz");
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));

    let db = server.dir().join("msnpd.sqlite");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut holder = runtime.block_on(async {
        use sqlx::Connection as _;
        let url = format!("sqlite://{}", db.display());
        let mut conn = sqlx::sqlite::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut conn)
            .await
            .unwrap();
        conn
    });

    // Another process holds the write lock: not ready, with a reason.
    let not_ready = get(&admin, "/readyz");
    assert_eq!(not_ready.status, 503, "{}", not_ready.body);
    assert!(
        not_ready.body.starts_with("not ready: store"),
        "{}",
        not_ready.body
    );
    // Liveness is not readiness.
    assert_eq!(get(&admin, "/healthz").status, 200);

    runtime.block_on(async {
        sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = get(&admin, "/readyz");
        if r.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still not ready: {}", r.body);
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn secrets_never_reach_the_log_even_at_trace() {
    const PASSWORD: &str = "Zebra-Pw-7731!";
    const SECRET: &str = "quokka-body-5821";
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let server = Server::start_with_stderr(&["log.level=trace", "log.format=json"], log.clone());
    server.add_user("alice@example.com", PASSWORD);
    server.add_user("bob@example.com", PASSWORD);

    // Alice: Passport 1.4 over HTTP with her password, then the TWN ticket.
    let mut alice = server.connect("ns");
    alice.send("VER 1 MSNP8 CVR0");
    alice.expect("VER 1 MSNP8");
    alice.send("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS alice@example.com");
    alice.expect_prefix("CVR 2 ");
    alice.send("USR 3 TWN I alice@example.com");
    let policy = alice.expect_prefix("USR 3 TWN S ")["USR 3 TWN S ".len()..].to_string();
    let ticket = server
        .passport_login("alice@example.com", PASSWORD, &policy)
        .expect("passport login");
    alice.send(&format!("USR 4 TWN S {ticket}"));
    alice.expect_prefix("USR 4 OK alice@example.com ");
    alice.read_payload_line();

    // Bob: MSNP7 MD5 login.
    let mut bob = server.connect("ns");
    bob.send("VER 1 MSNP7 CVR0");
    bob.expect("VER 1 MSNP7");
    bob.send("USR 2 MD5 I bob@example.com");
    let salt = bob.expect_prefix("USR 2 MD5 S ")["USR 2 MD5 S ".len()..].to_string();
    let hash = md5_hex(&format!("{salt}{PASSWORD}"));
    bob.send(&format!("USR 3 MD5 S {hash}"));
    bob.expect_prefix("USR 3 OK bob@example.com ");
    bob.read_payload_line();

    // They chat.
    alice.send("ADD 10 FL bob@example.com bob@example.com 0");
    alice.expect_prefix("ADD 10 FL ");
    bob.expect_prefix("ADD 0 RL ");
    bob.send("ADD 11 FL alice@example.com alice@example.com 0");
    bob.expect_prefix("ADD 11 FL ");
    alice.expect_prefix("ADD 0 RL ");
    bob.send("CHG 20 NLN");
    bob.expect("CHG 20 NLN");
    alice.send("CHG 21 NLN 0");
    alice.expect("CHG 21 NLN 0");
    alice.expect_prefix("ILN 21 NLN bob@example.com");
    bob.expect_prefix("NLN NLN alice@example.com");
    let body =
        format!("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{SECRET}");
    let sbs = chat(
        &server,
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        body.as_bytes(),
    );
    drop(sbs);
    drop((alice, bob));
    assert!(server.stop().success());

    let text = std::fs::read_to_string(&log).unwrap();
    // The log is really at its most verbose and names who logged in...
    assert!(
        text.contains("\"level\":\"TRACE\"") || text.contains("\"level\":\"DEBUG\""),
        "{text}"
    );
    assert!(
        text.contains("logged in") && text.contains("bob@example.com"),
        "{text}"
    );
    assert!(
        text.contains("\"peer\""),
        "connection spans carry the peer: {text}"
    );
    // ...and never holds a secret, in any spelling.
    let ticket_tail = &ticket[ticket.len().saturating_sub(24)..];
    for (what, secret) in [
        ("password", PASSWORD),
        ("url-encoded password", "Zebra-Pw-7731%21"),
        ("ticket", ticket.as_str()),
        ("ticket tail", ticket_tail),
        ("MD5 response", hash.as_str()),
        ("message body", SECRET),
    ] {
        assert!(!text.contains(secret), "the log holds the {what}");
    }
}
