//! MSNP8 presence over raw sockets: `ILN` only after the first `CHG`, `NLN`/`FLN`
//! to watchers on status changes, hiding, blocking and unblocking, `BLP`
//! privacy with the allow list, friendly-name changes, logout, and nothing at
//! all for users who do not watch (are not on the reverse list).

mod common;

use common::{Client, Server, befriend};

fn server_with(users: &[&str]) -> Server {
    let server = Server::start(&[]);
    for user in users {
        server.add_user(&format!("{user}@example.com"), "pw");
    }
    server
}

fn chg(c: &mut Client, trid: u32, status: &str) {
    c.send(&format!("CHG {trid} {status} 0"));
    c.expect(&format!("CHG {trid} {status} 0"));
}

#[test]
fn initial_presence_status_changes_and_logout() {
    let server = server_with(&["alice", "bob", "carol"]);
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    let mut carol = server.online("carol@example.com");
    befriend(
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        10,
    );
    // Carol only allows Alice: she is not on Alice's reverse list.
    carol.send("ADD 11 AL alice@example.com alice@example.com");
    carol.expect_prefix("ADD 11 AL ");

    // Bob goes online and changes status while Alice has not set hers: she
    // hears nothing until her first CHG, which brings the ILN.
    chg(&mut bob, 20, "NLN");
    chg(&mut bob, 21, "BSY");
    assert!(alice.fence().is_empty());
    chg(&mut alice, 22, "NLN");
    alice.expect("ILN 22 BSY bob@example.com bob@example.com 0");
    bob.expect("NLN NLN alice@example.com alice@example.com 0");
    // A second CHG sends no ILN.
    chg(&mut alice, 23, "AWY");
    bob.expect("NLN AWY alice@example.com alice@example.com 0");
    assert!(alice.fence().is_empty());
    // The same status again is echoed but tells watchers nothing.
    chg(&mut alice, 24, "AWY");
    assert!(bob.fence().is_empty());

    // FLN is not a status a client may set.
    alice.send("CHG 25 FLN 0");
    alice.expect("201 25");
    alice.send("CHG 26 XYZ 0");
    alice.expect("201 26");

    // Hidden looks offline; coming back looks online.
    chg(&mut alice, 27, "HDN");
    bob.expect("FLN alice@example.com");
    chg(&mut alice, 28, "BRB");
    bob.expect("NLN BRB alice@example.com alice@example.com 0");

    // Capabilities travel with the status.
    alice.send("CHG 29 NLN 268435492");
    alice.expect("CHG 29 NLN 268435492");
    bob.expect("NLN NLN alice@example.com alice@example.com 268435492");

    // Carol (not a watcher) never heard any of it.
    chg(&mut carol, 30, "NLN");
    assert!(carol.fence().is_empty());

    // Logout: watchers see FLN.
    alice.send("OUT");
    alice.expect_closed();
    bob.expect("FLN alice@example.com");
    assert!(bob.fence().is_empty());
    assert!(carol.fence().is_empty());

    // Dropping the socket without OUT is a logout too.
    drop(bob);
    let mut alice = server.online("alice@example.com");
    chg(&mut alice, 31, "NLN");
    // Bob is gone: no ILN for him.
    assert!(alice.fence().is_empty());
}

#[test]
fn hidden_user_sends_no_initial_presence() {
    let server = server_with(&["alice", "bob"]);
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    befriend(
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        10,
    );
    chg(&mut bob, 11, "HDN");
    chg(&mut alice, 12, "NLN");
    // No ILN for hidden Bob; Bob still sees Alice.
    assert!(alice.fence().is_empty());
    bob.expect("NLN NLN alice@example.com alice@example.com 0");
    chg(&mut bob, 13, "NLN");
    alice.expect("NLN NLN bob@example.com bob@example.com 0");
}

#[test]
fn blocking_and_privacy() {
    let server = server_with(&["alice", "bob", "carol"]);
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    let mut carol = server.online("carol@example.com");
    befriend(
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        10,
    );
    befriend(
        &mut alice,
        "alice@example.com",
        &mut carol,
        "carol@example.com",
        11,
    );
    chg(&mut bob, 12, "NLN");
    chg(&mut carol, 13, "NLN");
    chg(&mut alice, 14, "NLN");
    let mut iln = vec![alice.line(), alice.line()];
    iln.sort();
    assert_eq!(
        iln,
        [
            "ILN 14 NLN bob@example.com bob@example.com 0",
            "ILN 14 NLN carol@example.com carol@example.com 0"
        ]
    );
    bob.expect("NLN NLN alice@example.com alice@example.com 0");
    carol.expect("NLN NLN alice@example.com alice@example.com 0");

    // Blocking an online watcher: they see Alice go offline at once.
    alice.send("ADD 20 BL bob@example.com bob@example.com");
    alice.expect_prefix("ADD 20 BL ");
    bob.expect("FLN alice@example.com");
    // While blocked, Bob hears nothing of Alice's changes; Carol does.
    chg(&mut alice, 21, "BSY");
    carol.expect("NLN BSY alice@example.com alice@example.com 0");
    assert!(bob.fence().is_empty());
    // Unblocking: Bob sees her again.
    alice.send("REM 22 BL bob@example.com");
    alice.expect_prefix("REM 22 BL ");
    bob.expect("NLN BSY alice@example.com alice@example.com 0");
    assert!(carol.fence().is_empty());

    // BLP BL: only allow-listed watchers see Alice.
    alice.send("ADD 23 AL carol@example.com carol@example.com");
    alice.expect_prefix("ADD 23 AL ");
    assert!(carol.fence().is_empty());
    alice.send("BLP 24 BL");
    alice.expect_prefix("BLP 24 ");
    bob.expect("FLN alice@example.com");
    assert!(carol.fence().is_empty());
    // Allowing Bob makes her visible to him.
    alice.send("ADD 25 AL bob@example.com bob@example.com");
    alice.expect_prefix("ADD 25 AL ");
    bob.expect("NLN BSY alice@example.com alice@example.com 0");
    // Removing Carol from AL hides Alice from her.
    alice.send("REM 26 AL carol@example.com");
    alice.expect_prefix("REM 26 AL ");
    carol.expect("FLN alice@example.com");
    // Back to BLP AL: Carol sees her again.
    alice.send("BLP 27 AL");
    alice.expect_prefix("BLP 27 ");
    carol.expect("NLN BSY alice@example.com alice@example.com 0");
    assert!(bob.fence().is_empty());

    // Blocking Carol does not hide Carol from Alice: she still sees her changes.
    alice.send("ADD 28 BL carol@example.com carol@example.com");
    alice.expect_prefix("ADD 28 BL ");
    carol.expect("FLN alice@example.com");
    chg(&mut carol, 29, "AWY");
    alice.expect("NLN AWY carol@example.com carol@example.com 0");

    // A blocked watcher logging in later gets no ILN for Alice.
    drop(carol);
    alice.expect("FLN carol@example.com");
    let mut carol = server.online("carol@example.com");
    chg(&mut carol, 30, "NLN");
    assert!(carol.fence().is_empty());
    alice.expect("NLN NLN carol@example.com carol@example.com 0");
}

#[test]
fn friendly_name_changes_reach_watchers() {
    let server = server_with(&["alice", "bob"]);
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    befriend(
        &mut alice,
        "alice@example.com",
        &mut bob,
        "bob@example.com",
        10,
    );
    chg(&mut bob, 11, "NLN");
    chg(&mut alice, 12, "NLN");
    alice.line(); // ILN
    bob.line(); // NLN

    alice.send("REA 13 alice@example.com Alice%20in%20%E2%9C%93land");
    alice.expect_prefix("REA 13 ");
    bob.expect("NLN NLN alice@example.com Alice%20in%20%E2%9C%93land 0");
    assert!(bob.fence().is_empty());

    // While hidden a name change tells nobody; coming back shows the new name.
    chg(&mut alice, 14, "HDN");
    bob.expect("FLN alice@example.com");
    alice.send("REA 15 alice@example.com Quiet");
    alice.expect_prefix("REA 15 ");
    assert!(bob.fence().is_empty());
    chg(&mut alice, 16, "NLN");
    bob.expect("NLN NLN alice@example.com Quiet 0");

    // The new name is what a later ILN, and the USR OK of the next login, carry.
    drop(bob);
    let mut bob = server.online("bob@example.com");
    chg(&mut bob, 17, "NLN");
    bob.expect("ILN 17 NLN alice@example.com Quiet 0");
    drop(alice);
    bob.expect("FLN alice@example.com");
    let ticket = server.ticket("alice@example.com");
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c.send("USR 2 TWN I alice@example.com");
    c.expect_prefix("USR 2 TWN S ");
    c.send(&format!("USR 3 TWN S {ticket}"));
    c.expect("USR 3 OK alice@example.com Quiet 1 0");
}

#[test]
fn adding_an_online_contact_shows_their_presence() {
    let server = server_with(&["alice", "bob"]);
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    chg(&mut alice, 10, "NLN");
    chg(&mut bob, 11, "BSY");
    assert!(alice.fence().is_empty());

    // Alice adds Bob, who is online: she sees his status right away.
    alice.send("ADD 12 FL bob@example.com bob@example.com 0");
    alice.expect_prefix("ADD 12 FL ");
    bob.expect_prefix("ADD 0 RL ");
    alice.expect("NLN BSY bob@example.com bob@example.com 0");
    assert!(alice.fence().is_empty());
    // Bob, not watching Alice, saw nothing of her presence.
    assert!(bob.fence().is_empty());

    // Removing him stops his updates.
    alice.send("REM 13 FL bob@example.com");
    alice.expect_prefix("REM 13 FL ");
    bob.expect_prefix("REM 0 RL ");
    chg(&mut bob, 14, "AWY");
    assert!(alice.fence().is_empty());
}
