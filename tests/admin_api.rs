//! The operator API on the admin listener and the CLI commands that use it
//! (`msnpd kick`, `broadcast`, `stats`, `user del`), against the real binary:
//! no token configured refuses (403, exit 2), a wrong or missing token is 401,
//! a kick ends the session with `OUT OTH` before the close (not a bare
//! disconnect), a broadcast reaches each dialect in its own form, and deleting
//! an online user disconnects it.

mod common;

use common::admin_http::{get, request, sample};
use common::{Client, Server, md5_hex};

const TOKEN: &str = "test-admin-token-0123456789";

/// A server with an admin token, and the `-O` the CLI needs to reach it.
fn start() -> (Server, String) {
    let server = Server::start(&[&format!("admin.token={TOKEN}")]);
    let address = format!("admin.address={}", server.addr("admin"));
    (server, address)
}

/// Logs `email` in over MSNP3 (MD5) with `password`.
fn login_msnp3(server: &Server, email: &str, password: &str) -> Client {
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP3 MSNP2");
    c.expect("VER 1 MSNP3");
    c.send(&format!("USR 2 MD5 I {email}"));
    let salt = c.expect_prefix("USR 2 MD5 S ")["USR 2 MD5 S ".len()..].to_string();
    c.send(&format!(
        "USR 3 MD5 S {}",
        md5_hex(&format!("{salt}{password}"))
    ));
    c.expect_prefix(&format!("USR 3 OK {email} "));
    c.read_payload_line();
    c
}

#[test]
fn tokens_are_required_and_checked() {
    // No token configured: the API and the CLI refuse, saying why.
    let server = Server::start(&[]);
    let r = request(
        server.addr("admin"),
        "GET",
        "/admin/stats",
        Some("anything"),
        "",
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("admin.token"), "{}", r.body);
    let out = server.cli_output(&[
        "-O",
        &format!("admin.address={}", server.addr("admin")),
        "stats",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no admin token configured"),
        "{out:?}"
    );
    // Health, readiness and metrics need no token.
    assert_eq!(get(server.addr("admin"), "/healthz").status, 200);
    assert_eq!(get(server.addr("admin"), "/metrics").status, 200);
    drop(server);

    let (server, address) = start();
    let admin = server.addr("admin");
    let missing = request(admin, "GET", "/admin/stats", None, "");
    assert_eq!(missing.status, 401);
    assert!(
        missing
            .header("WWW-Authenticate")
            .unwrap_or_default()
            .starts_with("Bearer")
    );
    assert_eq!(
        request(admin, "GET", "/admin/stats", Some("wrong"), "").status,
        401
    );
    assert_eq!(
        request(admin, "POST", "/admin/kick?user=a%40b.c", Some("wrong"), "").status,
        401
    );
    assert_eq!(
        request(admin, "GET", "/admin/stats", Some(TOKEN), "").status,
        200
    );

    // The CLI with a wrong token: refused, exit 1.
    let out = server.cli_output(&["-O", &address, "-O", "admin.token=wrong", "stats"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused the admin token (HTTP 401)"),
        "{out:?}"
    );

    // The token from a file works the same.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let stats = server.cli_with(
        &[
            &address,
            "admin.token=",
            &format!("admin.token_file={}", file.display()),
        ],
        &["stats"],
    );
    assert!(stats.contains("online_users 0"), "{stats}");
}

#[test]
fn stats_and_kick() {
    let (server, address) = start();
    server.add_user("alice@example.com", "pw-a");
    server.add_user("bob@example.com", "pw-b");
    let mut alice = server.login8("alice@example.com");
    let mut bob = server.login8("bob@example.com");

    let stats = server.cli_with(&[&address], &["stats"]);
    assert!(stats.contains("online_users 2"), "{stats}");
    assert!(stats.contains("connections.ns.MSNP8 2"), "{stats}");
    assert!(stats.contains("switchboards 0"), "{stats}");
    assert!(stats.contains("uptime_secs "), "{stats}");
    let json = server.cli_with(&[&address], &["stats", "--json"]);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["online_users"], 2);

    // Kicked: an explicit OUT OTH, then the close.
    let out = server.cli_with(&[&address], &["kick", "Alice@Example.com"]);
    assert_eq!(out.trim(), "alice@example.com kicked");
    alice.expect("OUT OTH");
    alice.expect_closed();
    // Bob is untouched.
    assert!(bob.fence().is_empty());

    // Kicking someone offline fails with exit 1.
    let out = server.cli_output(&["-O", &address, "kick", "alice@example.com"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not online"),
        "{out:?}"
    );

    let m = get(server.addr("admin"), "/metrics").body;
    assert_eq!(sample(&m, "msnpd_admin_kicks_total"), 1.0, "{m}");
}

#[test]
fn broadcast_reaches_every_dialect_in_its_form() {
    let (server, address) = start();
    server.add_user("alice@example.com", "pw-a");
    server.add_user("carol@example.com", "pw-c");
    let mut alice = server.login8("alice@example.com");
    let mut carol = login_msnp3(&server, "carol@example.com", "pw-c");

    let out = server.cli_with(
        &[&address],
        &[
            "broadcast",
            "Back at 10:00 <UTC> & soon",
            "--maintenance",
            "5",
        ],
    );
    assert_eq!(
        out.trim(),
        "broadcast sent to 2 online users (0 could not take it)"
    );

    // MSNP8: the maintenance system message, then the alert.
    let (head, payload) = alice.read_payload_line();
    assert!(head.starts_with("MSG Hotmail Hotmail "), "{head}");
    let payload = String::from_utf8(payload).unwrap();
    assert!(payload.contains("Content-Type: application/x-msmsgssystemmessage\r\n"));
    assert!(payload.ends_with("Type: 1\r\nArg1: 5\r\n"), "{payload}");
    let (head, payload) = alice.read_payload_line();
    assert!(head.starts_with("NOT "), "{head}");
    let payload = String::from_utf8(payload).unwrap();
    assert!(payload.starts_with("<NOTIFICATION "), "{payload}");
    assert!(payload.contains("name=\"alice@example.com\""), "{payload}");
    assert!(
        payload.contains("<TEXT>Back at 10:00 &lt;UTC&gt; &amp; soon</TEXT>"),
        "{payload}"
    );

    // MSNP3 has no alerts: only the system message.
    let (head, payload) = carol.read_payload_line();
    assert!(head.starts_with("MSG Hotmail Hotmail "), "{head}");
    assert!(String::from_utf8(payload).unwrap().ends_with("Arg1: 5\r\n"));
    assert!(carol.fence().is_empty());

    // Text alone: an alert only.
    server.cli_with(&[&address], &["broadcast", "just text"]);
    let (head, payload) = alice.read_payload_line();
    assert!(head.starts_with("NOT "), "{head}");
    assert!(
        String::from_utf8(payload)
            .unwrap()
            .contains("<TEXT>just text</TEXT>")
    );
    assert!(alice.fence().is_empty());
    assert!(carol.fence().is_empty());

    // Nothing to send, or too much: 400.
    let empty = request(
        server.addr("admin"),
        "POST",
        "/admin/broadcast",
        Some(TOKEN),
        "",
    );
    assert_eq!(empty.status, 400);
    let long = "x".repeat(2000);
    let too_long = request(
        server.addr("admin"),
        "POST",
        "/admin/broadcast",
        Some(TOKEN),
        &long,
    );
    assert_eq!(too_long.status, 400);
}

#[test]
fn deleting_an_online_user_disconnects_it() {
    let (server, address) = start();
    server.add_user("alice@example.com", "pw-a");
    let mut alice = server.login8("alice@example.com");
    let out = server.cli_with(&[&address], &["user", "del", "alice@example.com"]);
    assert!(out.contains("user alice@example.com deleted"), "{out}");
    assert!(
        out.contains("was online and has been disconnected"),
        "{out}"
    );
    alice.expect("OUT OTH");
    alice.expect_closed();

    // An offline user is deleted with nothing to disconnect.
    server.add_user("bob@example.com", "pw-b");
    let out = server.cli_with(&[&address], &["user", "del", "bob@example.com"]);
    assert_eq!(out.trim(), "user bob@example.com deleted");
}
