//! Rolling restart with zero refused connection attempts (docs/operations.md):
//! SIGUSR2 makes the running msnpd start a new msnpd on the same listening
//! sockets (passed as in systemd socket activation: `LISTEN_FDS`,
//! `LISTEN_FDNAMES`), wait until it is ready, then shut down gracefully. A
//! client loop connects over and over during the whole upgrade and must see
//! no refused and no reset connection; clients of the old process get
//! `OUT SSD`, and the old process exits 0.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::Client;
use common::ops::OpsServer;

/// What the connection attempts saw.
#[derive(Debug, Default)]
struct Tally {
    /// Answered `VER`.
    served: AtomicUsize,
    /// Told `OUT SSD` or closed before an answer by a process shutting down.
    drained: AtomicUsize,
    /// Connection refused.
    refused: AtomicUsize,
    /// Connection reset, or another I/O error.
    failed: AtomicUsize,
}

/// One connection attempt: connect, `VER`, read the first line.
fn attempt(addr: &str, tally: &Tally) {
    let stream = match TcpStream::connect(addr) {
        Ok(stream) => stream,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            tally.refused.fetch_add(1, Ordering::SeqCst);
            return;
        }
        Err(e) => {
            eprintln!("connect: {e}");
            tally.failed.fetch_add(1, Ordering::SeqCst);
            return;
        }
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let result = writer
        .write_all(b"VER 1 MSNP8 CVR0\r\n")
        .and_then(|()| reader.read_line(&mut line));
    match result {
        Ok(_) if line == "VER 1 MSNP8\r\n" => {
            tally.served.fetch_add(1, Ordering::SeqCst);
        }
        Ok(_) if line.is_empty() || line == "OUT SSD\r\n" => {
            tally.drained.fetch_add(1, Ordering::SeqCst);
        }
        Ok(_) => panic!("unexpected answer {line:?}"),
        Err(e) => {
            eprintln!("attempt: {e}");
            tally.failed.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Whether process `pid` has ended (gone, or a zombie nobody reaped yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/status")) {
        Err(_) => true,
        Ok(status) => status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z')),
    }
}

/// Waits until `tally.served` reaches `count` (bounded).
fn wait_served(tally: &Tally, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally.served.load(Ordering::SeqCst) < count {
        assert!(
            Instant::now() < deadline,
            "the client loop stalled: {tally:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigusr2_upgrade_refuses_no_connection() {
    let mut old = OpsServer::start("", &[]);
    old.notify.expect("READY=1");
    let ns = old.addr("ns").to_owned();
    let mut old_client = Client::connect(&ns);
    old_client.send("VER 1 MSNP8 CVR0");
    old_client.expect("VER 1 MSNP8");

    // Connect over and over until told to stop (at most 20,000 attempts / 90 s).
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let attempts = {
        let (tally, stop, ns) = (Arc::clone(&tally), Arc::clone(&stop), ns.clone());
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(90);
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) && n < 20_000 && Instant::now() < deadline {
                attempt(&ns, &tally);
                n += 1;
            }
            n
        })
    };
    wait_served(&tally, 50);

    old.signal("USR2");
    // The new process is ready (its READY=1 also reaches NOTIFY_SOCKET),
    // then the old one stops.
    old.notify.expect("READY=1");
    old.notify.expect("STOPPING=1");
    let line = old.expect_log("handed over to the new process");
    let new_pid: u32 = line
        .split("pid=")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no pid in {line:?}"));
    assert_ne!(new_pid, old.pid());
    old_client.expect("OUT SSD");
    old_client.expect_closed();
    let status = old
        .wait_within(Duration::from_secs(30))
        .expect("the old process did not exit");
    assert!(status.success(), "{status}");

    // The new process serves on the same address.
    let served_at_exit = tally.served.load(Ordering::SeqCst);
    wait_served(&tally, served_at_exit + 50);
    stop.store(true, Ordering::SeqCst);
    let total = attempts.join().unwrap();
    let mut c = Client::connect(&ns);
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    drop(c);

    // Stop the new process (not our child: the old one started it).
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(new_pid.to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ended(new_pid) {
        assert!(Instant::now() < deadline, "the new process did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }

    eprintln!("{total} attempts: {tally:?}");
    assert_eq!(tally.refused.load(Ordering::SeqCst), 0, "{tally:?}");
    assert_eq!(tally.failed.load(Ordering::SeqCst), 0, "{tally:?}");
}
