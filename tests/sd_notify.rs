//! sd_notify against the real binary, with the test as the service manager: a
//! unix datagram socket passed in `NOTIFY_SOCKET`. msnpd says `READY=1` once
//! its listeners are bound (the ready file exists by then), pings
//! `WATCHDOG=1` when `WATCHDOG_USEC` asks for it, brackets a SIGHUP reload
//! with `RELOADING=1` (+ `MONOTONIC_USEC`) and `READY=1`, and says
//! `STOPPING=1` on SIGTERM before exiting 0.

mod common;

use std::time::Duration;

use common::Client;
use common::ops::OpsServer;

#[test]
fn ready_watchdog_reload_and_stopping() {
    // 200 ms watchdog: pings every 100 ms.
    let mut server = OpsServer::start("", &[("WATCHDOG_USEC", "200000")]);
    let ready = server.notify.expect("READY=1");
    assert!(ready.iter().any(|l| l.starts_with("STATUS=")), "{ready:?}");
    // The listeners are bound when READY=1 is sent.
    let mut c = Client::connect(server.addr("ns"));
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    // Watchdog pings keep coming.
    for _ in 0..3 {
        server.notify.expect("WATCHDOG=1");
    }

    let done = server.reload("");
    assert!(
        done.iter().any(|l| l.starts_with("STATUS=reloaded")),
        "{done:?}"
    );

    server.signal("TERM");
    server.notify.expect("STOPPING=1");
    c.expect("OUT SSD");
    let status = server
        .wait_within(Duration::from_secs(20))
        .expect("msnpd did not exit");
    assert!(status.success(), "{status}");
}

#[test]
fn no_watchdog_pings_unless_asked() {
    let server = OpsServer::start("", &[]);
    server.notify.expect("READY=1");
    // Nothing else is sent while the server just runs.
    assert_eq!(server.notify.recv_within(Duration::from_millis(500)), None);
}
