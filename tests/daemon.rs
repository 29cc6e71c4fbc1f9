//! The daemon and its command line against the real binary: SIGTERM says
//! `OUT SSD` to connected clients and exits 0 (also with 1,000 logged-in
//! clients, losing no acknowledged switchboard message); `check-config` accepts the shipped
//! systemd configuration and names unknown keys (exit 2); `user list`, `user del`
//! and `user passwd` take effect on a running server.

mod common;

use std::process::Command;

use common::{Client, Server, befriend};

/// `msnpd ARGS` with no configuration overrides.
fn msnpd(args: &[&str]) -> std::process::Output {
    Command::new(common::msnpd_bin())
        .args(args)
        .env_remove("MSNPD__STORE__URL")
        .output()
        .expect("run msnpd")
}

/// The `USR TWN I` policy string of a fresh notification connection, with the
/// connection (waiting for `USR TWN S`).
fn ask_policy(server: &Server, email: &str) -> (Client, String) {
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c.send(&format!("USR 2 TWN I {email}"));
    let usr = c.expect_prefix("USR 2 TWN S ");
    let policy = usr.trim_start_matches("USR 2 TWN S ").to_string();
    (c, policy)
}

#[test]
fn sigterm_says_goodbye_and_exits_cleanly() {
    let server = Server::start(&[]);
    server.add_user("alice@example.com", "pw");
    server.add_user("bob@example.com", "pw");
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    befriend(
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        10,
    );
    for c in [&mut alice, &mut bob] {
        c.send("CHG 11 NLN 0");
        c.expect("CHG 11 NLN 0");
    }
    alice.expect("NLN NLN bob@example.com bob@example.com 0");
    bob.expect("ILN 11 NLN alice@example.com alice@example.com 0");
    alice.send("XFR 12 SB");
    let xfr = alice.expect_prefix("XFR 12 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let mut sb = Client::connect(parts[3]);
    sb.send(&format!("USR 1 alice@example.com {}", parts[5]));
    sb.expect_prefix("USR 1 OK ");
    // A client that only negotiated a dialect, and one that sent nothing.
    let mut negotiated = server.connect("ns");
    negotiated.send("VER 1 MSNP8 CVR0");
    negotiated.expect("VER 1 MSNP8");
    let mut silent = server.connect("ns");
    assert!(alice.fence().is_empty());
    assert!(bob.fence().is_empty());
    assert_eq!(
        common::http_get(server.addr("admin"), "/healthz", &[]).status,
        200
    );

    server.terminate();
    // Logged-in users are told the server is going down, and nothing else.
    for c in [&mut alice, &mut bob, &mut negotiated] {
        c.expect("OUT SSD");
        c.expect_closed();
    }
    sb.expect_closed();
    silent.expect_closed();
    let status = server.wait();
    assert!(status.success(), "{status}");
}

/// Shared ticket secret of the 1,000-client test (the test signs tickets itself).
const SECRET: &str = "0123456789abcdef0123456789abcdef-drain";

/// Creates `emails` in the store at `url` with one precomputed password hash
/// (argon2 once, not 1,000 times).
fn create_accounts(url: &str, emails: &[String]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut config = msnpd::config::Config::default();
        config.store.url = url.to_owned();
        let store = msnpd::admin::open_store(&config).await.unwrap();
        let hash = msnpd::core::auth::hash_password("pw");
        for email in emails {
            store.create_user(email, email, &hash, None).await.unwrap();
        }
        store.close().await;
    });
}

/// MSNP8 login with a ticket signed by the test.
fn login_with_ticket(addr: &str, email: &str) -> Client {
    let key = msnpd::core::auth::TicketKey::new(SECRET.as_bytes());
    let ticket = key.issue(email, 3600, std::time::SystemTime::now());
    let mut c = Client::connect(addr);
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c.send(&format!("USR 2 TWN I {email}"));
    c.expect_prefix("USR 2 TWN S ");
    c.send(&format!("USR 3 TWN S {ticket}"));
    c.expect_prefix(&format!("USR 3 OK {email} "));
    let (header, _) = c.read_payload_line();
    assert!(header.starts_with("MSG Hotmail Hotmail "), "{header}");
    c
}

/// The MSG payloads and the ACKed TrIDs in what a switchboard client received.
fn messages_and_acks(bytes: &[u8]) -> (Vec<String>, Vec<u32>) {
    let (mut payloads, mut acks) = (Vec::new(), Vec::new());
    let mut rest = bytes;
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&rest[..end]).into_owned();
        rest = &rest[end + 2..];
        let words: Vec<&str> = line.split(' ').collect();
        match words[0] {
            "MSG" => {
                let len: usize = words[words.len() - 1].parse().unwrap();
                payloads.push(String::from_utf8_lossy(&rest[..len]).into_owned());
                rest = &rest[len..];
            }
            "ACK" => acks.push(words[1].parse().unwrap()),
            _ => {}
        }
    }
    (payloads, acks)
}

#[test]
fn sigterm_with_a_thousand_clients_drains_every_one() {
    const CLIENTS: usize = 1000;
    const THREADS: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("msnpd.sqlite").display());
    let server = Server::start_with_store(
        dir,
        &url,
        &[
            &format!("auth.ticket_secret={SECRET}"),
            "shutdown.drain_timeout_secs=20",
        ],
    );
    let emails: Vec<String> = (0..CLIENTS).map(|i| format!("u{i}@drain.test")).collect();
    create_accounts(&url, &emails);

    // 1,000 logged-in notification clients, logged in from a few threads.
    let ns = server.addr("ns").to_owned();
    let mut clients: Vec<Client> = std::thread::scope(|scope| {
        let handles: Vec<_> = emails
            .chunks(CLIENTS / THREADS)
            .map(|chunk| {
                let ns = ns.clone();
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|email| login_with_ticket(&ns, email))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(clients.len(), CLIENTS);

    // Two of them in a switchboard.
    let (alice, bob) = (&emails[0], &emails[1]);
    for c in &mut clients[..2] {
        c.send("CHG 9 NLN 0");
        c.expect("CHG 9 NLN 0");
    }
    clients[0].send("XFR 10 SB");
    let xfr = clients[0].expect_prefix("XFR 10 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let mut sb_alice = Client::connect(parts[3]);
    sb_alice.send(&format!("USR 1 {alice} {}", parts[5]));
    sb_alice.expect_prefix("USR 1 OK ");
    sb_alice.send(&format!("CAL 2 {bob}"));
    sb_alice.expect_prefix("CAL 2 RINGING ");
    let rng = clients[1].expect_prefix("RNG ");
    let rng: Vec<&str> = rng.split(' ').collect();
    let mut sb_bob = Client::connect(rng[2]);
    sb_bob.send(&format!("ANS 1 {bob} {} {}", rng[4], rng[1]));
    sb_bob.expect_prefix("IRO 1 1 1 ");
    sb_bob.expect("ANS 1 OK");
    sb_alice.expect_prefix(&format!("JOI {bob} "));

    // One message acknowledged before SIGTERM, and a burst in flight when it
    // comes: every ACK alice gets is for a message bob got.
    let msg = |i: u32| {
        format!("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nmessage {i}")
    };
    let first = msg(0);
    sb_alice.send_payload("MSG 100 A", first.as_bytes());
    sb_alice.expect("ACK 100");
    for i in 1..=50u32 {
        let body = msg(i);
        sb_alice.send_payload(&format!("MSG {} A", 100 + i), body.as_bytes());
    }
    server.terminate();

    let (received, _) = messages_and_acks(&sb_bob.read_to_eof());
    let (_, acked) = messages_and_acks(&sb_alice.read_to_eof());
    assert!(
        received.contains(&first),
        "the message ACKed before SIGTERM was lost"
    );
    for trid in acked {
        let body = msg(trid - 100);
        assert!(received.contains(&body), "ACK {trid} but bob never got it");
    }
    // Every notification client hears OUT SSD (after whatever else was
    // queued for it) and is closed.
    for (i, c) in clients.iter_mut().enumerate() {
        let rest = String::from_utf8_lossy(&c.read_to_eof()).into_owned();
        assert!(
            rest.ends_with("OUT SSD\r\n"),
            "client {i} got {rest:?} instead of OUT SSD"
        );
    }
    let status = server.wait();
    assert!(status.success(), "{status}");
}

#[test]
fn check_config() {
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/msnpd.toml");
    let out = msnpd(&["check-config", "--config", shipped]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "config ok\n");

    let dir = tempfile::tempdir().unwrap();
    for (name, text, key) in [
        (
            "top.toml",
            "[limits]\nmax_line_bytes = 4096\nmax_lines_bytez = 5\n",
            "max_lines_bytez",
        ),
        (
            "section.toml",
            "[protocoll]\nchallenges = true\n",
            "protocoll",
        ),
        (
            "type.toml",
            "[limits]\nmax_line_bytes = \"big\"\n",
            "max_line_bytes",
        ),
        (
            "listener.toml",
            "[listeners.ns]\nrole = \"notification\"\nbind = \"127.0.0.1:1863\"\nbnid = \"x\"\n",
            "bnid",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = msnpd(&["check-config", "--config", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(key), "{name}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    // The same through -O.
    let out = msnpd(&["-O", "limits.frobnicate=1", "check-config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("frobnicate"));
    // A file that does not exist is a configuration error as well.
    let missing = dir.path().join("missing.toml");
    let out = msnpd(&["check-config", "--config", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn user_administration_on_a_running_server() {
    let server = Server::start(&[]);
    server.add_user("bob@example.com", "pw-b");
    server.cli(&[
        "user",
        "add",
        "Alice@Example.com",
        "--password",
        "old-pw",
        "--nick",
        "Alice A",
    ]);
    assert_eq!(
        server.cli(&["user", "list"]),
        "alice@example.com\tAlice A\nbob@example.com\tbob@example.com\n"
    );
    // A second account with the same name is refused.
    let out = server.cli_output(&["user", "add", "alice@example.com", "--password", "x"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));

    // passwd: the nexus takes the new password only.
    let (mut c, policy) = ask_policy(&server, "alice@example.com");
    server.cli(&[
        "user",
        "passwd",
        "alice@example.com",
        "--password",
        "new-pw",
    ]);
    assert_eq!(
        server.passport_login("alice@example.com", "old-pw", &policy),
        Err(401)
    );
    let ticket = server
        .passport_login("alice@example.com", "new-pw", &policy)
        .unwrap();
    c.send(&format!("USR 3 TWN S {ticket}"));
    c.expect("USR 3 OK alice@example.com Alice%20A 1 0");
    c.read_payload_line();
    // Bob lists Alice.
    let mut bob = server.online("bob@example.com");
    bob.send("ADD 4 FL alice@example.com alice@example.com 0");
    bob.expect_prefix("ADD 4 FL ");
    c.expect_prefix("ADD 0 RL ");
    drop(c);

    // del: the account is gone from logins, tickets, the nexus and Bob's list.
    let stale_ticket = server.ticket("alice@example.com");
    server.cli(&["user", "del", "alice@example.com"]);
    assert_eq!(
        server.cli(&["user", "list"]),
        "bob@example.com\tbob@example.com\n"
    );
    let (mut c, policy) = ask_policy(&server, "alice@example.com");
    c.send(&format!("USR 3 TWN S {stale_ticket}"));
    c.expect("911 3");
    assert_eq!(
        server.passport_login("alice@example.com", "new-pw", &policy),
        Err(401)
    );
    let out = server.cli_output(&["ticket", "alice@example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not exist"));
    bob.send("SYN 5 0");
    let head = bob.expect_prefix("SYN 5 ");
    assert!(head.ends_with(" 0 1"), "{head}");
    let out = server.cli_output(&["user", "del", "alice@example.com"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn unauthenticated_and_idle_connections_time_out() {
    let server = Server::start(&[
        "limits.preauth_timeout_secs=1",
        "limits.idle_timeout_secs=3",
        // The idle timeout must outlast the PNG interval QNG asks for.
        "protocol.ping_interval_secs=1",
    ]);
    server.add_user("alice@example.com", "pw");
    server.add_user("bob@example.com", "pw");
    // Silent, half-negotiated and switchboard connections are all closed.
    let mut silent = server.connect("ns");
    let mut negotiated = server.connect("ns");
    negotiated.send("VER 1 MSNP8 CVR0");
    negotiated.expect("VER 1 MSNP8");
    let mut sb = server.connect("sb");
    silent.expect_closed();
    negotiated.expect_closed();
    sb.expect_closed();

    // A logged-in user who sends nothing is closed after the idle timeout, and
    // her watcher sees her go offline.
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    befriend(
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        10,
    );
    alice.send("CHG 11 NLN 0");
    alice.expect("CHG 11 NLN 0");
    bob.send("CHG 12 NLN 0");
    bob.expect("CHG 12 NLN 0");
    bob.expect("ILN 12 NLN alice@example.com alice@example.com 0");
    alice.expect("NLN NLN bob@example.com bob@example.com 0");
    // Bob keeps pinging (so he never idles); Alice does not, and is dropped.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let lines = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "Alice was never dropped"
        );
        let mut lines: Vec<String> = bob
            .line_within(std::time::Duration::from_millis(300))
            .into_iter()
            .collect();
        lines.extend(bob.fence());
        if !lines.is_empty() {
            break lines;
        }
    };
    assert_eq!(lines, ["FLN alice@example.com"]);
    alice.expect_closed();
}
