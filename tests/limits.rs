//! Every limit of `[limits]` pushed past its edge against the real binary (small
//! limits set with `-O`): each test checks what the offender gets and that a
//! bystander connected at the same time notices nothing. Per-IP limits are
//! tested from several loopback addresses (127.0.0.2, 127.0.0.3, ...), with the
//! default loopback exemption switched off. `docs/limits.md` lists which test
//! covers which limit.

mod common;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{Client, Server, connect_from, md5_hex};

/// Per-IP limits also apply to loopback (exempt by default).
const NO_EXEMPTIONS: &str = "limits.exempt_networks=[]";

/// A plain-text switchboard message of `len` bytes.
fn message(len: usize) -> Vec<u8> {
    let head = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n";
    let mut m = head.to_vec();
    m.resize(len.max(head.len()), b'x');
    m
}

/// Logs `email` in over MSNP8 and sets it online (so it can be called).
fn online(server: &Server, email: &str) -> Client {
    let mut c = server.login8(email);
    c.send("CHG 9 NLN 0");
    c.expect("CHG 9 NLN 0");
    c
}

/// Opens a switchboard for `email` (logged in on `ns`); returns its connection.
fn open_sb(ns: &mut Client, email: &str) -> Client {
    ns.send("XFR 30 SB");
    let xfr = ns.expect_prefix("XFR 30 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let mut sb = Client::connect(parts[3]);
    sb.send(&format!("USR 1 {email} {}", parts[5]));
    sb.expect(&format!("USR 1 OK {email} {email}"));
    sb
}

/// `caller` (in switchboard `sb`) calls `callee` (logged in on `callee_ns`),
/// who answers; returns the callee's switchboard connection.
fn invite(sb: &mut Client, trid: u32, callee_ns: &mut Client, callee: &str) -> Client {
    sb.send(&format!("CAL {trid} {callee}"));
    let ringing = sb.expect_prefix(&format!("CAL {trid} RINGING "));
    let session_id = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = callee_ns.expect_prefix(&format!("RNG {session_id} "));
    let parts: Vec<&str> = rng.split(' ').collect();
    let mut callee_sb = Client::connect(parts[2]);
    callee_sb.send(&format!("ANS 1 {callee} {} {session_id}", parts[4]));
    loop {
        if callee_sb.line() == "ANS 1 OK" {
            break;
        }
    }
    sb.expect_prefix(&format!("JOI {callee} "));
    callee_sb
}

/// A message from `from` reaches `to` and is acknowledged: the pair is unaffected.
fn chat_works(from: &mut Client, to: &mut Client, trid: u32) {
    let m = message(200);
    from.send_payload(&format!("MSG {trid} A"), &m);
    let (_, payload) = to.read_payload_line();
    assert_eq!(payload, m);
    from.expect(&format!("ACK {trid}"));
}

/// Everything the server writes to a connection from `source` before it
/// closes it, sending nothing (what a refused connection is told).
fn refusal_from(source: &str, addr: &str) -> String {
    let mut stream = connect_from(source, addr);
    stream.set_read_timeout(Some(common::LINE_TIMEOUT)).unwrap();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    String::from_utf8(got).unwrap()
}

/// Whether a new MSNP connection from `source` is served (`VER` answered).
fn msnp_served_from(source: &str, addr: &str) -> Client {
    let mut c = Client::connect_from(source, addr);
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c
}

/// The status code of `GET path` (with `authorization`, if any) from `source`.
fn http_status(source: &str, addr: &str, path: &str, authorization: Option<&str>) -> u16 {
    let mut stream = connect_from(source, addr);
    stream.set_read_timeout(Some(common::LINE_TIMEOUT)).unwrap();
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    let text = String::from_utf8_lossy(&got);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {text:?}"))
}

/// The status of a Passport 1.4 sign-in for `email` / `password` from `source`.
fn http_login(source: &str, server: &Server, email: &str, password: &str) -> u16 {
    let email = email.replace('@', "%40");
    let auth = format!("Passport1.4 OrgVerb=GET,sign-in={email},pwd={password}");
    http_status(source, server.addr("http"), "/login2.srf", Some(&auth))
}

/// An MD5 login (MSNP7) of `email` with `password` from `source`: the answer to
/// `USR 5 MD5 S` (`USR 5 OK ...` or `911 5`).
fn md5_login_from(source: &str, server: &Server, email: &str, password: &str) -> String {
    let mut c = Client::connect_from(source, server.addr("ns"));
    c.send("VER 1 MSNP7 MSNP6 MSNP5 MSNP4 CVR0");
    c.expect("VER 1 MSNP7");
    c.send(&format!("USR 4 MD5 I {email}"));
    let salt = c
        .expect_prefix("USR 4 MD5 S ")
        .trim_start_matches("USR 4 MD5 S ")
        .to_string();
    c.send(&format!(
        "USR 5 MD5 S {}",
        md5_hex(&format!("{salt}{password}"))
    ));
    c.line()
}

/// A ticket login (MSNP8) of `email` from `source`: the answer to `USR 4 TWN S`.
fn ticket_login_from(source: &str, server: &Server, email: &str, ticket: &str) -> String {
    let mut c = Client::connect_from(source, server.addr("ns"));
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c.send(&format!("USR 3 TWN I {email}"));
    c.expect_prefix("USR 3 TWN S ");
    c.send(&format!("USR 4 TWN S {ticket}"));
    c.line()
}

// ---- sizes --------------------------------------------------------------------

#[test]
fn max_line_bytes_closes_only_the_offender() {
    let server = Server::start(&["limits.max_line_bytes=256"]);
    server.add_user("by@x.org", "pw");
    let mut bystander = server.login8("by@x.org");

    let mut offender = server.connect("ns");
    offender.send("VER 1 MSNP8 CVR0");
    offender.expect("VER 1 MSNP8");
    // Exactly 256 bytes with CRLF is a line...
    let head = "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS ";
    let line = format!("{head}{}", "a".repeat(256 - head.len() - 2));
    assert_eq!(line.len() + 2, 256);
    offender.send(&line);
    offender.expect_prefix("CVR 2 5.0.0540 ");
    // ...and one byte more closes the connection, with nothing said.
    let line = format!("{head}{}", "a".repeat(257 - head.len() - 2));
    offender.send(&line);
    offender.expect_closed();

    assert!(bystander.fence().is_empty());
}

#[test]
fn payload_limits_per_verb_answer_201_and_close() {
    let server = Server::start(&["limits.max_other_payload_bytes=64"]);
    for u in ["a@x.org", "b@x.org", "c@x.org", "by@x.org"] {
        server.add_user(u, "pw");
    }
    let mut bystander = server.login8("by@x.org");
    let mut a = online(&server, "a@x.org");
    let mut b = online(&server, "b@x.org");
    let mut a_sb = open_sb(&mut a, "a@x.org");
    let mut b_sb = invite(&mut a_sb, 2, &mut b, "b@x.org");

    // MSG: 1664 bytes (the default) are relayed; 1665 get `201` and a close.
    let m = message(1664);
    a_sb.send_payload("MSG 3 N", &m);
    let (_, got) = b_sb.read_payload_line();
    assert_eq!(got, m);
    a_sb.send_payload("MSG 4 N", &message(1665));
    a_sb.expect("201 4");
    a_sb.expect_closed();
    b_sb.expect("BYE a@x.org");

    // Other payload verbs (UUX, MSNP11): over 64 bytes the same.
    let mut c = server.login_as("c@x.org", 11);
    c.send_payload(
        "UUX 5",
        b"<Data><PSM>hi</PSM><CurrentMedia></CurrentMedia></Data>",
    );
    c.expect_prefix("UUX 5 ");
    c.send_payload("UUX 6", &[b'x'; 65]);
    c.expect("201 6");
    c.expect_closed();

    assert!(bystander.fence().is_empty());
    assert!(b.fence().is_empty());
}

// ---- send queue ---------------------------------------------------------------

#[test]
fn slow_reader_is_disconnected_and_nobody_else_waits() {
    let server = Server::start(&[
        "limits.send_queue_bytes=65536",
        // Only the byte bound may end the reader here.
        "limits.outbox_lines=10000000",
        "limits.commands_per_sec=10000000",
        "limits.command_burst=10000000",
    ]);
    for u in ["a@x.org", "b@x.org", "c@x.org", "d@x.org"] {
        server.add_user(u, "pw");
    }
    let mut a = online(&server, "a@x.org");
    let mut b = online(&server, "b@x.org");
    let mut c = online(&server, "c@x.org");
    let mut d = online(&server, "d@x.org");
    let mut a_sb = open_sb(&mut a, "a@x.org");
    let mut b_sb = invite(&mut a_sb, 2, &mut b, "b@x.org");
    let mut c_sb = open_sb(&mut c, "c@x.org");
    let mut d_sb = invite(&mut c_sb, 2, &mut d, "d@x.org");

    // From here on, b never reads. a sends until the server lets b go.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writer = a_sb.writer();
    let sender = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let m = message(1400);
            let mut frame = format!("MSG 3 U {}\r\n", m.len()).into_bytes();
            frame.extend_from_slice(&m);
            let mut sent = 0usize;
            while !stop.load(Ordering::Acquire) && sent < 40_000 {
                writer.write_all(&frame).unwrap();
                sent += 1;
            }
            sent
        })
    };
    // a is told b left; meanwhile c and d chat as usual.
    a_sb.expect("BYE b@x.org");
    stop.store(true, Ordering::Release);
    let sent = sender.join().unwrap();
    chat_works(&mut c_sb, &mut d_sb, 10);
    chat_works(&mut d_sb, &mut c_sb, 11);
    // b gets what had reached its socket, then the close.
    let received = b_sb.drain_to_eof();
    assert!(received > 65536, "{received} bytes before the close");
    assert!(sent < 40_000, "b was not disconnected");
    // a's connection is fine: alone now, it gets NAK for an acknowledged message.
    a_sb.send_payload("MSG 50 A", &message(100));
    a_sb.expect("NAK 50");
    // b's notification session is unaffected.
    assert!(b.fence().is_empty());
}

// ---- timeouts -----------------------------------------------------------------

#[test]
fn preauth_timeout_closes_unauthenticated_connections_only() {
    let server = Server::start(&["limits.preauth_timeout_secs=2"]);
    server.add_user("by@x.org", "pw");
    let mut bystander = server.login8("by@x.org");
    let mut offender = server.connect("ns");
    offender.send("VER 1 MSNP8 CVR0");
    offender.expect("VER 1 MSNP8");
    // Never logs in: closed once the pre-auth time is up.
    offender.expect_closed();
    // The bystander, connected longer than that, is logged in and stays.
    assert!(bystander.fence().is_empty());
}

#[test]
fn idle_timeout_spares_clients_that_ping_as_qng_asks() {
    let server = Server::start(&[
        "limits.idle_timeout_secs=3",
        "protocol.ping_interval_secs=1",
    ]);
    server.add_user("idle@x.org", "pw");
    server.add_user("pinger@x.org", "pw");
    let mut pinger = server.login_as("pinger@x.org", 9);
    // QNG asks for the next PNG well within the idle timeout.
    pinger.send("PNG");
    pinger.expect("QNG 1");
    let stop = Arc::new(AtomicBool::new(false));
    let pinging = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Acquire) {
                pinger.send("PNG");
                pinger.expect("QNG 1");
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            pinger
        })
    };
    let mut idle = server.login_as("idle@x.org", 9);
    idle.expect_closed();
    stop.store(true, Ordering::Release);
    let mut pinger = pinging.join().unwrap();
    assert!(pinger.fence().is_empty());
}

// ---- connections --------------------------------------------------------------

#[test]
fn connections_per_ip_are_capped_over_all_listeners() {
    let server = Server::start(&[NO_EXEMPTIONS, "limits.max_connections_per_ip=2"]);
    let ns = server.addr("ns");
    let _one = msnp_served_from("127.0.0.2", ns);
    let _two = msnp_served_from("127.0.0.2", ns);
    // A third from the same address, on any listener, is told and closed.
    assert_eq!(refusal_from("127.0.0.2", ns), "600 0\r\n");
    assert!(refusal_from("127.0.0.2", server.addr("http")).starts_with("HTTP/1.1 429 "));
    assert!(refusal_from("127.0.0.2", server.addr("admin")).starts_with("HTTP/1.1 429 "));
    // Another address is served on every listener.
    let _other = msnp_served_from("127.0.0.3", ns);
    assert_eq!(
        http_status("127.0.0.4", server.addr("http"), "/rdr/pprdr.asp", None),
        200
    );
    assert_eq!(
        http_status("127.0.0.4", server.addr("admin"), "/healthz", None),
        200
    );
}

#[test]
fn loopback_is_exempt_by_default() {
    let server = Server::start(&[
        "limits.max_connections_per_ip=1",
        "limits.connects_per_ip=1",
    ]);
    let clients: Vec<Client> = (0..3)
        .map(|_| msnp_served_from("127.0.0.2", server.addr("ns")))
        .collect();
    assert_eq!(clients.len(), 3);
}

#[test]
fn connect_rate_per_ip_refuses_the_fast_address_only() {
    let server = Server::start(&[
        NO_EXEMPTIONS,
        "limits.connects_per_ip=3",
        // The bucket does not refill during the test.
        "limits.connect_window_secs=36000",
    ]);
    let ns = server.addr("ns");
    for _ in 0..3 {
        drop(msnp_served_from("127.0.0.2", ns));
    }
    // The fourth within the window is refused, whichever listener it tries,
    // although none of the first three is open any more.
    assert_eq!(refusal_from("127.0.0.2", ns), "600 0\r\n");
    assert!(refusal_from("127.0.0.2", server.addr("http")).starts_with("HTTP/1.1 429 "));
    let _other = msnp_served_from("127.0.0.3", ns);
}

#[test]
fn global_cap_refuses_new_connections_but_not_the_admin() {
    let server = Server::start(&["limits.max_connections=3"]);
    server.add_user("by@x.org", "pw");
    let mut bystander = server.login8("by@x.org");
    let ns = server.addr("ns");
    let _two = msnp_served_from("127.0.0.1", ns);
    let _three = msnp_served_from("127.0.0.1", ns);
    assert_eq!(refusal_from("127.0.0.5", ns), "600 0\r\n");
    assert!(refusal_from("127.0.0.5", server.addr("http")).starts_with("HTTP/1.1 503 "));
    // The operator can still look at a full server.
    assert_eq!(
        http_status("127.0.0.1", server.addr("admin"), "/healthz", None),
        200
    );
    assert!(bystander.fence().is_empty());
}

#[test]
fn accept_emfile_backs_off_and_recovers() {
    let server = Server::start_with_fd_limit(256, &[]);
    server.add_user("by@x.org", "pw");
    let mut bystander = server.login8("by@x.org");
    // More connections than the server has file descriptors: the last ones
    // wait in the listen backlog while `accept` fails with EMFILE.
    let mut clients: Vec<Client> = (0..300)
        .map(|_| {
            let mut c = server.connect("ns");
            c.send("VER 1 MSNP8 CVR0");
            c
        })
        .collect();
    // Existing clients are served meanwhile.
    assert!(bystander.fence().is_empty());
    // Freeing descriptors lets every waiting connection in.
    let waiting = clients.split_off(150);
    drop(clients);
    for mut c in waiting {
        c.expect("VER 1 MSNP8");
    }
    assert!(bystander.fence().is_empty());
}

// ---- failed logins ------------------------------------------------------------

#[test]
fn failed_logins_per_account_refuse_without_checking_the_password() {
    let server = Server::start(&[
        "limits.login_failures_per_account=2",
        "limits.login_failure_window_secs=36000",
    ]);
    server.add_user("victim@x.org", "right");
    server.add_user("other@x.org", "right");
    let lo = "127.0.0.1";
    // MD5 (USR MD5 S): two failures, then even the right password gets 911.
    for _ in 0..2 {
        assert_eq!(
            md5_login_from(lo, &server, "victim@x.org", "wrong"),
            "911 5"
        );
    }
    assert_eq!(
        md5_login_from(lo, &server, "victim@x.org", "right"),
        "911 5"
    );
    // The HTTP login counts against the same account: 401 for the right password.
    assert_eq!(http_login(lo, &server, "victim@x.org", "right"), 401);
    // Another account, from the same address, logs in both ways.
    assert!(
        md5_login_from(lo, &server, "other@x.org", "right").starts_with("USR 5 OK other@x.org ")
    );
    assert_eq!(http_login(lo, &server, "other@x.org", "right"), 200);
    // A ticket holder of the locked account still gets in.
    let ticket = server.ticket("victim@x.org");
    assert!(ticket_login_from(lo, &server, "victim@x.org", &ticket).starts_with("USR 4 OK "));

    // HTTP failures lock an account for MD5 logins too.
    for _ in 0..2 {
        assert_eq!(http_login(lo, &server, "other@x.org", "wrong"), 401);
    }
    assert_eq!(http_login(lo, &server, "other@x.org", "right"), 401);
    assert_eq!(md5_login_from(lo, &server, "other@x.org", "right"), "911 5");
}

#[test]
fn failed_logins_per_ip_refuse_that_address_only() {
    let server = Server::start(&[
        NO_EXEMPTIONS,
        "limits.login_failures_per_ip=3",
        "limits.login_failure_window_secs=36000",
    ]);
    server.add_user("user@x.org", "right");
    let bad = "127.0.0.2";
    // Three failures of any kind (password, HTTP, ticket), for any accounts.
    assert_eq!(md5_login_from(bad, &server, "nobody@x.org", "x"), "911 5");
    assert_eq!(http_login(bad, &server, "someone@x.org", "x"), 401);
    assert_eq!(
        ticket_login_from(bad, &server, "user@x.org", "t=forged&p=sig"),
        "911 4"
    );
    // Now every login from that address is refused, right credentials or not.
    assert_eq!(md5_login_from(bad, &server, "user@x.org", "right"), "911 5");
    assert_eq!(http_login(bad, &server, "user@x.org", "right"), 401);
    let ticket = server.ticket("user@x.org");
    assert_eq!(
        ticket_login_from(bad, &server, "user@x.org", &ticket),
        "911 4"
    );
    // The same account from another address is fine.
    let good = "127.0.0.3";
    assert!(md5_login_from(good, &server, "user@x.org", "right").starts_with("USR 5 OK "));
    assert_eq!(http_login(good, &server, "user@x.org", "right"), 200);
    assert!(ticket_login_from(good, &server, "user@x.org", &ticket).starts_with("USR 4 OK "));
}

// ---- rates --------------------------------------------------------------------

#[test]
fn command_rate_refuses_over_the_burst_with_713_and_800() {
    let server = Server::start(&["limits.commands_per_sec=1", "limits.command_burst=5"]);
    let mut bystander = server.connect("ns");
    let mut offender = server.connect("ns");
    // VER and four CVRs use the burst; ten more CVRs, a CHG and a PNG follow at
    // once. (At 1/s, at most one token can come back while they are handled.)
    let mut batch = String::from("VER 1 MSNP8 CVR0\r\n");
    for trid in 2..=15 {
        batch.push_str(&format!(
            "CVR {trid} 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS x@x.org\r\n"
        ));
    }
    batch.push_str("CHG 16 NLN 0\r\nPNG\r\n");
    offender.send_raw(batch.as_bytes());
    offender.expect("VER 1 MSNP8");
    for trid in 2..=5 {
        offender.expect_prefix(&format!("CVR {trid} "));
    }
    let mut served = 0;
    for trid in 6..=15 {
        let line = offender.line();
        if line.starts_with(&format!("CVR {trid} ")) {
            served += 1;
        } else {
            assert_eq!(line, format!("713 {trid}"));
        }
    }
    let chg = offender.line();
    if chg == "302 16" {
        served += 1;
    } else {
        assert_eq!(chg, "800 16");
    }
    assert!(served <= 1, "{served} commands over the burst were run");
    // PNG carries no TrID: over the rate, the connection is closed.
    if served == 0 {
        offender.expect_closed();
    }
    // The bystander's budget is its own.
    bystander.send("VER 1 MSNP8 CVR0");
    bystander.expect("VER 1 MSNP8");
    bystander.send("CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS x@x.org");
    bystander.expect_prefix("CVR 2 ");
    assert!(bystander.fence().is_empty());
}

#[test]
fn out_is_never_refused() {
    let server = Server::start(&["limits.commands_per_sec=1", "limits.command_burst=1"]);
    let mut c = server.connect("ns");
    c.send_raw(b"VER 1 MSNP8 CVR0\r\nVER 2 MSNP8 CVR0\r\nOUT\r\n");
    c.expect("VER 1 MSNP8");
    c.expect("713 2");
    c.expect_closed();
}

#[test]
fn invites_per_minute_are_per_account_over_all_switchboards() {
    let server = Server::start(&["limits.invites_per_minute=2"]);
    let users = [
        "a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org", "f@x.org",
    ];
    for u in users {
        server.add_user(u, "pw");
    }
    let mut ns: Vec<Client> = users.iter().map(|u| online(&server, u)).collect();
    let mut a_sb = open_sb(&mut ns[0], "a@x.org");
    let _b_sb = invite(&mut a_sb, 2, &mut ns[1], "b@x.org");
    let _c_sb = invite(&mut a_sb, 3, &mut ns[2], "c@x.org");
    // The third invitation within the minute is refused, in this switchboard...
    a_sb.send("CAL 4 d@x.org");
    a_sb.expect("713 4");
    // ...and in a new one.
    let mut a_sb2 = open_sb(&mut ns[0], "a@x.org");
    a_sb2.send("CAL 2 d@x.org");
    a_sb2.expect("713 2");
    // Nobody was rung for them.
    assert!(ns[3].fence().is_empty());
    // Another account invites as usual.
    let mut e_sb = open_sb(&mut ns[4], "e@x.org");
    let _d_sb = invite(&mut e_sb, 2, &mut ns[3], "d@x.org");
    let _f_sb = invite(&mut e_sb, 3, &mut ns[5], "f@x.org");
}

#[test]
fn switchboard_size_is_capped() {
    let server = Server::start(&["limits.max_switchboard_users=2"]);
    for u in ["a@x.org", "b@x.org", "c@x.org"] {
        server.add_user(u, "pw");
    }
    let mut a = online(&server, "a@x.org");
    let mut b = online(&server, "b@x.org");
    let mut c = online(&server, "c@x.org");
    let mut a_sb = open_sb(&mut a, "a@x.org");
    let mut b_sb = invite(&mut a_sb, 2, &mut b, "b@x.org");
    // A third participant cannot join: 280 and a close.
    a_sb.send("CAL 3 c@x.org");
    let ringing = a_sb.expect_prefix("CAL 3 RINGING ");
    let session_id = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = c.expect_prefix(&format!("RNG {session_id} "));
    let parts: Vec<&str> = rng.split(' ').collect();
    let mut c_sb = Client::connect(parts[2]);
    c_sb.send(&format!("ANS 1 c@x.org {} {session_id}", parts[4]));
    c_sb.expect("280 1");
    c_sb.expect_closed();
    // The two inside go on.
    chat_works(&mut a_sb, &mut b_sb, 5);
}
