//! Crash test (issue 5): a real msnpd on an SQLite file store, offline
//! messages on, is killed with SIGKILL while senders have acknowledged
//! messages in flight, and restarted on the same store. Every message the
//! server acknowledged (`ACK`) must reach its recipients exactly once: live
//! before the crash for those present, from the offline queue after the
//! restart for those absent. 20 rounds in a row on one store; each round
//! kills the server after a random number of answers.
//!
//! Each sender has one switchboard with one absent (offline) recipient and one
//! present (online) recipient, so an `ACK` means both "committed to the
//! offline queue" and "written to the present member's connection". Every
//! body is unique over the whole test (`round sender #n`), so a body seen
//! twice by one recipient is a duplicate, whenever it came.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::chat;
use common::{Client, Server};
use rand::Rng;

const ROUNDS: u32 = 20;
/// Messages each sender sends per round (the kill comes before most are answered).
const PER_SENDER: u32 = 30;
/// Messages a sender keeps unanswered at once.
const WINDOW: u32 = 8;

const SENDERS: [&str; 3] = ["s0@example.com", "s1@example.com", "s2@example.com"];
const OFFLINE: [&str; 2] = ["r0@example.com", "r1@example.com"];
const ONLINE: [&str; 2] = ["o0@example.com", "o1@example.com"];
/// Each sender's switchboard: (offline recipient, online recipient).
const ROOMS: [(usize, usize); 3] = [(0, 0), (1, 1), (0, 1)];

/// Offline messages on; rate limits out of the way of a test that sends fast
/// and invites every round.
const SETTINGS: &[&str] = &[
    "offline.enabled=true",
    "limits.commands_per_sec=100000",
    "limits.command_burst=100000",
    "limits.invites_per_minute=100000",
];

fn message_body(round: u32, sender: usize, n: u32) -> String {
    format!("round {round} sender {sender} #{n}")
}

/// Everything sent, acknowledged and received over the whole test.
#[derive(Default)]
struct Ledger {
    /// (round, sender) → how many were sent.
    sent: HashMap<(u32, usize), u32>,
    /// (recipient, body) → how often it was received.
    received: HashMap<(String, String), u32>,
    /// Acknowledged messages in all.
    acked: usize,
}

impl Ledger {
    /// Records that `recipient` got `body` from `from`: it must be a message
    /// that was sent, to a switchboard `recipient` was in, and not seen before.
    fn receive(&mut self, recipient: &str, from: &str, body: &str) {
        let (round, sender, n) = parse(body).unwrap_or_else(|| panic!("unknown body {body:?}"));
        assert_eq!(SENDERS[sender], from, "{body:?} came from {from}");
        let (r, o) = ROOMS[sender];
        assert!(
            recipient == OFFLINE[r] || recipient == ONLINE[o],
            "{recipient} got {body:?} from a switchboard it was not in"
        );
        let sent = self.sent.get(&(round, sender)).copied().unwrap_or(0);
        assert!(n >= 1 && n <= sent, "{body:?} was never sent");
        let count = self
            .received
            .entry((recipient.to_string(), body.to_string()))
            .or_default();
        *count += 1;
        assert_eq!(*count, 1, "{recipient} got {body:?} twice");
    }

    fn has(&self, recipient: &str, body: &str) -> bool {
        self.received
            .contains_key(&(recipient.to_string(), body.to_string()))
    }
}

/// `round R sender S #N` → (R, S, N).
fn parse(body: &str) -> Option<(u32, usize, u32)> {
    let rest = body.strip_prefix("round ")?;
    let (round, rest) = rest.split_once(" sender ")?;
    let (sender, n) = rest.split_once(" #")?;
    Some((round.parse().ok()?, sender.parse().ok()?, n.parse().ok()?))
}

#[test]
fn acknowledged_messages_survive_kill_9() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_in_with_env(dir, SETTINGS, &[]);
    for email in SENDERS.iter().chain(&OFFLINE).chain(&ONLINE) {
        server.add_user(email, chat::PASSWORD);
    }
    let mut ledger = Ledger::default();
    let mut rng = rand::rng();
    for round in 1..=ROUNDS {
        let total = PER_SENDER * u32::try_from(SENDERS.len()).unwrap();
        let kill_after = rng.random_range(1..=total * 3 / 4);
        server = crash_round(server, round, kill_after, &mut ledger);
    }

    // A clean restart: everything still queued (committed, never acknowledged)
    // comes now, and nothing twice.
    server = server.restart();
    for email in OFFLINE.iter().chain(&ONLINE) {
        let mut ns = chat::online(&server, email);
        let got = chat::collect_offline(
            &mut ns,
            email,
            &BTreeSet::new(),
            Duration::from_secs(20),
            Duration::from_secs(1),
        );
        for (from, bodies) in got {
            for body in bodies {
                ledger.receive(email, &from, &body);
            }
        }
    }
    assert!(server.stop().success());
    eprintln!(
        "{ROUNDS} rounds: {} messages acknowledged, {} deliveries, none lost, none twice ({:.1} s)",
        ledger.acked,
        ledger.received.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(ledger.acked > 0, "no message was acknowledged at all");
}

/// One round: set up the switchboards, send, SIGKILL after `kill_after`
/// answers, restart, collect and check. Returns the restarted server.
fn crash_round(mut server: Server, round: u32, kill_after: u32, ledger: &mut Ledger) -> Server {
    let mut online: Vec<Client> = ONLINE.iter().map(|o| chat::online(&server, o)).collect();
    let mut sender_ns = Vec::new();
    let mut sender_sbs = Vec::new();
    let mut live_sbs = Vec::new();
    for (k, sender) in SENDERS.iter().enumerate() {
        let (r, o) = ROOMS[k];
        let mut ns = chat::online(&server, sender);
        let mut sb = chat::open_switchboard(&mut ns, sender);
        chat::call(&mut sb, 2, OFFLINE[r]);
        chat::call(&mut sb, 3, ONLINE[o]);
        live_sbs.push(chat::join(&mut online[o], ONLINE[o]));
        sb.expect_prefix(&format!("JOI {} ", ONLINE[o]));
        sender_ns.push(ns);
        sender_sbs.push(sb);
    }

    let answered = Arc::new(AtomicU32::new(0));
    let senders: Vec<_> = sender_sbs
        .into_iter()
        .enumerate()
        .map(|(k, mut sb)| {
            let answered = Arc::clone(&answered);
            std::thread::spawn(move || {
                chat::send_numbered(
                    &mut sb,
                    PER_SENDER,
                    WINDOW,
                    |n| message_body(round, k, n),
                    || {
                        answered.fetch_add(1, Ordering::SeqCst);
                    },
                )
            })
        })
        .collect();
    let readers: Vec<_> = live_sbs
        .into_iter()
        .map(|mut sb| std::thread::spawn(move || chat::read_messages(&mut sb)))
        .collect();

    // Kill once enough answers came (or every sender is done), bounded.
    let deadline = Instant::now() + Duration::from_secs(30);
    while answered.load(Ordering::SeqCst) < kill_after
        && !senders.iter().all(|s| s.is_finished())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    server.kill9();

    let logs: Vec<chat::SendLog> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    let live: Vec<Vec<(String, String)>> = readers.into_iter().map(|r| r.join().unwrap()).collect();
    drop(sender_ns);
    drop(online);

    let mut expected: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for (k, log) in logs.iter().enumerate() {
        ledger.sent.insert((round, k), log.sent);
        ledger.acked += log.acked.len();
        let (r, _) = ROOMS[k];
        let queued = expected.entry(OFFLINE[r]).or_default();
        queued.extend(log.acked.iter().map(|n| message_body(round, k, *n)));
    }
    // Present members: every acknowledged message was written to them.
    for (k, messages) in live.iter().enumerate() {
        let (_, o) = ROOMS[k];
        for (from, body) in messages {
            ledger.receive(ONLINE[o], from, body);
        }
        for n in &logs[k].acked {
            let body = message_body(round, k, *n);
            assert!(
                ledger.has(ONLINE[o], &body),
                "round {round}: {body:?} was acknowledged but never reached {}",
                ONLINE[o]
            );
        }
    }

    // Absent members: every acknowledged message is queued and comes now.
    let server = server.restart_after_exit(&[]);
    for email in OFFLINE {
        let mut ns = chat::online(&server, email);
        let wanted = expected.remove(email).unwrap_or_default();
        let got = chat::collect_offline(
            &mut ns,
            email,
            &wanted,
            Duration::from_secs(20),
            Duration::from_millis(50),
        );
        for (from, bodies) in got {
            for body in bodies {
                ledger.receive(email, &from, &body);
            }
        }
        for body in &wanted {
            assert!(
                ledger.has(email, body),
                "round {round} (killed after {kill_after} answers): {body:?} was \
                 acknowledged but is lost for {email}"
            );
        }
        // Offline again for the next round (unregistered once closed).
        ns.send("OUT");
        ns.expect_closed();
    }
    eprintln!(
        "round {round}: killed after {kill_after} answers; acked {:?}",
        logs.iter().map(|l| l.acked.len()).collect::<Vec<_>>()
    );
    server
}
