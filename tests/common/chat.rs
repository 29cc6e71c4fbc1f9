//! Chat helpers for the fault tests (crash, failpoints, disk full): log in
//! over MSNP7 (MD5, no CLI process per login), open switchboards, ring people
//! in, send numbered acknowledged messages with a window of them in flight, and
//! collect offline deliveries. Reading never panics on a connection the server
//! dropped (it may have been killed on purpose): those reads end the loop.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use super::{Client, Server};

/// Every test account's password.
pub const PASSWORD: &str = "pw";

/// A plain-text instant message with `body`.
pub fn text(body: &str) -> Vec<u8> {
    format!(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\
         X-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\n{body}"
    )
    .into_bytes()
}

/// The body of a text payload (`None` for a payload without a header block).
pub fn body(payload: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(payload);
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// Logs `email` in over MSNP7 (MD5) and goes online (`CHG NLN`).
pub fn online(server: &Server, email: &str) -> Client {
    let mut ns = server.login_md5(email, PASSWORD, 7);
    ns.send("CHG 9 NLN");
    ns.expect("CHG 9 NLN");
    ns
}

/// Opens a switchboard for the logged-in `email`.
pub fn open_switchboard(ns: &mut Client, email: &str) -> Client {
    ns.send("XFR 30 SB");
    let xfr = ns.expect_prefix("XFR 30 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let mut sb = Client::connect(parts[3]);
    sb.send(&format!("USR 1 {email} {}", parts[5]));
    sb.expect_prefix(&format!("USR 1 OK {email} "));
    sb
}

/// Invites `callee` into `sb` with `CAL trid` (`RINGING` whether they are
/// online or not, offline messages on).
pub fn call(sb: &mut Client, trid: u32, callee: &str) {
    sb.send(&format!("CAL {trid} {callee}"));
    sb.expect_prefix(&format!("CAL {trid} RINGING "));
}

/// The callee's side of a live invitation: reads `RNG` on `ns`, answers it as
/// `email` and reads the roster up to `ANS 1 OK`; returns the switchboard.
pub fn join(ns: &mut Client, email: &str) -> Client {
    let rng = ns.expect_prefix("RNG ");
    let parts: Vec<&str> = rng.split(' ').collect();
    let (session, addr, cookie) = (parts[1], parts[2], parts[4]);
    let mut sb = Client::connect(addr);
    sb.send(&format!("ANS 1 {email} {cookie} {session}"));
    loop {
        let line = sb.line();
        if line == "ANS 1 OK" {
            return sb;
        }
        assert!(line.starts_with("IRO 1 "), "{line}");
    }
}

/// Sends `MSG trid A` with a text body and reads the answer line.
pub fn send_acked(sb: &mut Client, trid: u32, message: &str) -> String {
    sb.send_payload(&format!("MSG {trid} A"), &text(message));
    sb.line()
}

/// What a sender learnt about its numbered messages.
#[derive(Debug, Default, Clone)]
pub struct SendLog {
    /// How many were sent (numbers `1..=sent`).
    pub sent: u32,
    /// Numbers answered with `ACK`.
    pub acked: BTreeSet<u32>,
    /// Numbers answered with `NAK`.
    pub naked: BTreeSet<u32>,
}

/// Sends messages `1..=count` as `MSG n A` with body `body(n)`, keeping at
/// most `window` unanswered, and records the answers until every message was
/// answered or the connection ends. `on_answer` is called for each answer.
pub fn send_numbered(
    sb: &mut Client,
    count: u32,
    window: u32,
    body: impl Fn(u32) -> String,
    mut on_answer: impl FnMut(),
) -> SendLog {
    let mut log = SendLog::default();
    loop {
        let answered = u32::try_from(log.acked.len() + log.naked.len()).unwrap_or(u32::MAX);
        if answered >= count {
            return log;
        }
        while log.sent < count && log.sent - answered < window {
            let n = log.sent + 1;
            let payload = text(&body(n));
            let mut bytes = format!("MSG {n} A {}\r\n", payload.len()).into_bytes();
            bytes.extend_from_slice(&payload);
            if !sb.try_send_raw(&bytes) {
                return log;
            }
            log.sent = n;
        }
        let Some(line) = sb.try_line() else {
            return log;
        };
        let (verb, n) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        let n: Option<u32> = n.parse().ok();
        match (verb, n) {
            ("ACK", Some(n)) => {
                assert!(log.acked.insert(n), "ACK {n} twice");
                on_answer();
            }
            ("NAK", Some(n)) => {
                assert!(log.naked.insert(n), "NAK {n} twice");
                on_answer();
            }
            // JOI, BYE and the like.
            _ => {}
        }
    }
}

/// Reads `MSG` payloads arriving on a switchboard until the connection ends;
/// returns their bodies with their senders, in order.
pub fn read_messages(sb: &mut Client) -> Vec<(String, String)> {
    let mut got = Vec::new();
    while let Some(line) = sb.try_line() {
        let parts: Vec<&str> = line.split(' ').collect();
        if parts.first() != Some(&"MSG") || parts.len() != 4 {
            continue;
        }
        let Ok(len) = parts[3].parse::<usize>() else {
            continue;
        };
        let Some(payload) = sb.try_payload(len) else {
            break;
        };
        if let Some(b) = body(&payload) {
            got.push((parts[1].to_string(), b));
        }
    }
    got
}

/// An offline delivery: answers the `RNG` line `rng` as `email` and reads
/// `IRO`, `ANS OK`, the messages and the sender's `BYE`; returns the sender
/// and the bodies.
pub fn answer_delivery(rng: &str, email: &str) -> (String, Vec<String>) {
    let parts: Vec<&str> = rng.split(' ').collect();
    let (session, addr, cookie, from) = (parts[1], parts[2], parts[4], parts[5]);
    let mut sb = Client::connect(addr);
    sb.send(&format!("ANS 1 {email} {cookie} {session}"));
    sb.expect_prefix(&format!("IRO 1 1 1 {from} "));
    sb.expect("ANS 1 OK");
    let mut bodies = Vec::new();
    loop {
        let line = sb.line();
        if line == format!("BYE {from}") {
            return (from.to_string(), bodies);
        }
        assert!(line.starts_with(&format!("MSG {from} ")), "{line}");
        let len: usize = line.rsplit(' ').next().unwrap().parse().unwrap();
        let payload = sb.payload(len);
        bodies.push(body(&payload).expect("a text payload"));
    }
}

/// Collects offline deliveries on the online `ns` of `email` until every body
/// in `expected` arrived (at most `wait`), then until nothing more comes for
/// `quiet`. Returns every body received, by sender, in order.
pub fn collect_offline(
    ns: &mut Client,
    email: &str,
    expected: &BTreeSet<String>,
    wait: Duration,
    quiet: Duration,
) -> HashMap<String, Vec<String>> {
    let deadline = Instant::now() + wait;
    let mut got: HashMap<String, Vec<String>> = HashMap::new();
    loop {
        let have_all = expected
            .iter()
            .all(|b| got.values().any(|bodies| bodies.contains(b)));
        if Instant::now() >= deadline {
            return got;
        }
        let poll = if have_all {
            quiet
        } else {
            Duration::from_millis(200)
        };
        match ns.line_within(poll) {
            Some(line) if line.starts_with("RNG ") => {
                let (from, bodies) = answer_delivery(&line, email);
                got.entry(from).or_default().extend(bodies);
            }
            Some(_) => {}
            None if have_all => return got,
            None => {}
        }
    }
}
