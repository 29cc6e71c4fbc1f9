//! Socket activation as systemd does it with `msnpd.socket`: the test holds
//! the listening socket and passes it to msnpd (`LISTEN_FDS=1`,
//! `LISTEN_FDNAMES=ns`, fd 3). Across a stop and a start of msnpd the socket
//! stays open, so a connection attempt made while no msnpd runs is not
//! refused: it waits in the backlog and the next msnpd answers it.

mod common;

use std::collections::HashMap;
use std::net::TcpListener;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt, FdMapping};
use common::Client;

/// Starts msnpd with `socket` passed as the `ns` listener; returns it once
/// its ready file lists the listeners.
fn start(dir: &Path, socket: &TcpListener) -> (Child, HashMap<String, String>) {
    let ready = dir.join("ready.json");
    let _ = std::fs::remove_file(&ready);
    let fd: OwnedFd = socket.try_clone().unwrap().into();
    let mut cmd = Command::new(common::msnpd_bin());
    cmd.arg("-O").arg(format!(
        "store.url=sqlite://{}",
        dir.join("msnpd.sqlite").display()
    ));
    for name in ["ns", "sb", "http", "admin"] {
        cmd.arg("-O")
            .arg(format!("listeners.{name}.bind=127.0.0.1:0"));
    }
    cmd.arg("serve")
        .arg("--ready-file")
        .arg(&ready)
        .env("LISTEN_FDS", "1")
        .env("LISTEN_FDNAMES", "ns")
        .env_remove("LISTEN_PID")
        .stdin(Stdio::null());
    cmd.fd_mappings(vec![FdMapping {
        parent_fd: fd,
        child_fd: 3,
    }])
    .unwrap();
    let mut child = cmd.spawn().expect("spawn msnpd");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(&ready)
            && let Ok(map) = serde_json::from_str::<HashMap<String, String>>(&text)
        {
            return (child, map);
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("msnpd exited early: {status}");
        }
        assert!(Instant::now() < deadline, "msnpd did not become ready");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stop(mut child: Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return status;
        }
        assert!(Instant::now() < deadline, "msnpd did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_passed_socket_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let socket = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap().to_string();

    let (first, addrs) = start(dir.path(), &socket);
    // The ns listener is the passed socket; the others were bound by msnpd.
    assert_eq!(addrs["ns"], addr);
    assert_ne!(addrs["sb"], addr);
    let mut before = Client::connect(&addr);
    before.send("VER 1 MSNP8 CVR0");
    before.expect("VER 1 MSNP8");
    let status = stop(first);
    assert!(status.success(), "{status}");
    before.expect("OUT SSD");
    before.expect_closed();

    // No msnpd runs now, but the socket is open: the attempt is not refused.
    let mut between = Client::connect(&addr);
    between.send("VER 1 MSNP8 CVR0");

    let (second, addrs) = start(dir.path(), &socket);
    assert_eq!(addrs["ns"], addr);
    between.expect("VER 1 MSNP8");
    let status = stop(second);
    assert!(status.success(), "{status}");
    between.expect("OUT SSD");
}
