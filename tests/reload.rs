//! SIGHUP reload against the real binary: the config file is edited and the
//! server sent SIGHUP; `RELOADING=1`/`READY=1` on the notification socket say
//! when the reload is done. Live keys (a limit, the log level) change what the
//! server does; keys that need a restart (a listener's bind) are refused by
//! name and the old listener keeps serving; a broken file changes nothing.

mod common;

use common::Client;
use common::ops::OpsServer;

/// Connects and expects the server to answer `VER`.
fn served(addr: &str) -> Client {
    let mut c = Client::connect(addr);
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c
}

#[test]
fn a_limit_and_the_log_level_change_live() {
    let mut server = OpsServer::start("[limits]\nmax_connections = 100\n", &[]);
    server.notify.expect("READY=1");
    let ns = server.addr("ns").to_owned();
    let mut second = served(&ns);
    let second_port = second.writer().local_addr().unwrap().port();
    second.fence();

    let done = server.reload("[limits]\nmax_connections = 2\n\n[log]\nlevel = \"debug\"\n");
    assert!(
        done.iter()
            .any(|l| l.starts_with("STATUS=reloaded: 2 key(s) applied, 0 refused")),
        "{done:?}"
    );
    server.expect_log("log filter changed");
    // At `info`, nothing was logged at debug before the filter changed.
    let changed = server
        .log
        .iter()
        .position(|l| l.contains("log filter changed"))
        .unwrap();
    assert!(
        !server.log[..changed].iter().any(|l| l.contains("DEBUG")),
        "a debug line was logged before the reload"
    );
    // Two connections are open (`second` and the one below): the next is over
    // the new cap and gets `600` and a close.
    let _third = served(&ns);
    let mut over = Client::connect(&ns);
    over.expect("600 0");
    over.expect_closed();
    // The new level: closing a connection is now logged at debug.
    second.send("OUT");
    drop(second);
    let ended = server.expect_log(&format!("127.0.0.1:{second_port}"));
    assert!(ended.contains("DEBUG"), "{ended}");

    // Raising the cap again lets connections in.
    server.reload("[limits]\nmax_connections = 100\n");
    let _fourth = served(&ns);
}

#[test]
fn a_listener_bind_change_is_refused_and_the_old_listener_serves() {
    let mut server = OpsServer::start("", &[]);
    server.notify.expect("READY=1");
    let ns = server.addr("ns").to_owned();
    let mut before = served(&ns);

    // The same file with the ns listener moved elsewhere.
    let moved = "[listeners.ns]\nbind = \"127.0.0.1:1\"\n";
    let text = common::ops::config_text(server.dir.path(), "")
        .replace("[listeners.ns]\nbind = \"127.0.0.1:0\"\n", moved);
    std::fs::write(&server.config, &text).unwrap();
    server.signal("HUP");
    server.notify.expect("RELOADING=1");
    let done = server.notify.expect("READY=1");
    assert!(
        done.iter()
            .any(|l| l == "STATUS=reloaded: 0 key(s) applied, 1 refused, 0 hook error(s)"),
        "{done:?}"
    );
    let line = server.expect_log("cannot change while running");
    assert!(line.contains("listeners.ns.bind"), "{line}");
    // Old connections and the old listener go on.
    assert!(before.fence().is_empty());
    let _after = served(&ns);
}

#[test]
fn a_broken_file_keeps_the_old_configuration() {
    let mut server = OpsServer::start("[limits]\nmax_connections = 100\n", &[]);
    server.notify.expect("READY=1");
    let ns = server.addr("ns").to_owned();

    // Not TOML at all, then a bad value: both change nothing.
    for broken in [
        "[limits\nmax_connections = 1\n",
        "[limits]\nmax_connections = 0\n",
    ] {
        let done = server.reload(broken);
        assert!(
            done.iter()
                .any(|l| l.starts_with("STATUS=reload failed, old configuration kept")),
            "{done:?}"
        );
        let _a = served(&ns);
        let _b = served(&ns);
    }
    server.expect_log("reload: bad configuration");
    // A good file applies again.
    let done = server.reload("[limits]\nmax_connections = 1\n");
    assert!(
        done.iter().any(|l| l.contains("1 key(s) applied")),
        "{done:?}"
    );
    let _only = served(&ns);
    let mut over = Client::connect(&ns);
    over.expect("600 0");
}
