//! MSNP8 contact-list editing over raw sockets: every numeric refusal of `ADD`,
//! `REM`, the group commands, `BLP`/`GTC` and `REA`; the list version growing by
//! exactly one per change (own edits and reverse-list changes made by others);
//! and `SYN` showing the result, or only its version line when unchanged.

mod common;

use common::{Client, Server};

/// Reads the `SYN` answer block after `SYN trid ...` was sent: the head line and
/// the sorted `LSG` and `LST` lines (the `GTC` and `BLP` lines come first).
fn read_sync(c: &mut Client, trid: u32) -> (String, String, String, Vec<String>, Vec<String>) {
    let head = c.expect_prefix(&format!("SYN {trid} "));
    let parts: Vec<&str> = head.split(' ').collect();
    assert_eq!(parts.len(), 5, "{head}");
    let contacts: usize = parts[3].parse().unwrap();
    let groups: usize = parts[4].parse().unwrap();
    let gtc = c.line();
    let blp = c.line();
    let mut lsg: Vec<String> = (0..groups).map(|_| c.line()).collect();
    let mut lst: Vec<String> = (0..contacts).map(|_| c.line()).collect();
    lsg.sort();
    lst.sort();
    (head, gtc, blp, lsg, lst)
}

/// The list version in the head line of a list edit reply (`VERB trid [LIST] version ...`).
fn version_at(line: &str, index: usize) -> u32 {
    line.split(' ')
        .nth(index)
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no version at {index} in {line:?}"))
}

#[test]
fn list_edits_errors_versions_and_sync() {
    let server = Server::start(&[]);
    for user in ["alice", "bob", "carol", "dave"] {
        server.add_user(&format!("{user}@example.com"), "pw");
    }
    let mut alice = server.login8("alice@example.com");
    alice.send("SYN 1 0");
    let (head, gtc, blp, lsg, lst) = read_sync(&mut alice, 1);
    let mut v = version_at(&head, 2);
    assert_eq!(head, format!("SYN 1 {v} 0 1"));
    assert_eq!((gtc.as_str(), blp.as_str()), ("GTC A", "BLP AL"));
    assert_eq!(lsg, ["LSG 0 Other%20Contacts 0"]);
    assert!(lst.is_empty());
    let mut bob = server.online("bob@example.com");
    bob.send("SYN 2 0");
    let bob_head = bob.expect_prefix("SYN 2 ");
    let mut bv = version_at(&bob_head, 2);
    for _ in 0..3 {
        bob.line();
    }

    // One change at a time; each successful one is version + 1.
    let ok = |c: &mut Client, line: &str, expected: &dyn Fn(u32) -> String, v: &mut u32| {
        c.send(line);
        *v += 1;
        c.expect(&expected(*v));
    };
    let err = |c: &mut Client, line: &str, reply: &str| {
        c.send(line);
        c.expect(reply);
    };

    err(
        &mut alice,
        "ADD 10 FL nobody@example.com nobody 0",
        "205 10",
    );
    ok(
        &mut alice,
        "ADD 11 FL bob@example.com bob@example.com 0",
        &|v| format!("ADD 11 FL {v} bob@example.com bob@example.com 0"),
        &mut v,
    );
    bv += 1;
    bob.expect(&format!(
        "ADD 0 RL {bv} alice@example.com alice@example.com"
    ));
    err(&mut alice, "ADD 12 FL bob@example.com bob 0", "215 12");
    err(&mut alice, "ADD 12 FL BOB@example.com bob 0", "215 12");
    ok(
        &mut alice,
        "ADD 13 AL bob@example.com bob@example.com",
        &|v| format!("ADD 13 AL {v} bob@example.com bob@example.com"),
        &mut v,
    );
    err(&mut alice, "ADD 13 AL bob@example.com bob", "215 13");
    err(&mut alice, "ADD 14 BL bob@example.com bob", "219 14");
    ok(
        &mut alice,
        "ADD 15 BL carol@example.com carol@example.com",
        &|v| format!("ADD 15 BL {v} carol@example.com carol@example.com"),
        &mut v,
    );
    err(&mut alice, "ADD 16 AL carol@example.com carol", "219 16");
    err(&mut alice, "ADD 17 AL not-an-email not-an-email", "201 17");
    err(&mut alice, "ADD 17 FL bob@localhost bob 0", "201 17");
    err(&mut alice, "ADD 18 RL dave@example.com dave", "201 18");
    err(&mut alice, "ADD 18 XL dave@example.com dave", "201 18");
    err(&mut alice, "REM 19 FL nobody@example.com", "216 19");
    err(&mut alice, "REM 20 AL dave@example.com", "216 20");
    err(&mut alice, "REM 21 BL bob@example.com", "216 21");
    err(&mut alice, "REM 21 RL bob@example.com", "201 21");

    // Groups.
    ok(
        &mut alice,
        "ADG 22 Friends 0",
        &|v| format!("ADG 22 {v} Friends 1 0"),
        &mut v,
    );
    let long = "g".repeat(62);
    err(&mut alice, &format!("ADG 23 {long} 0"), "229 23");
    err(&mut alice, "RMG 24 0", "230 24");
    err(&mut alice, "RMG 25 99", "224 25");
    err(&mut alice, "REG 26 99 Nope 0", "224 26");
    err(&mut alice, &format!("REG 26 1 {long} 0"), "229 26");
    ok(
        &mut alice,
        "REG 27 1 Best%20Friends 0",
        &|v| format!("REG 27 {v} 1 Best%20Friends 0"),
        &mut v,
    );
    err(
        &mut alice,
        "ADD 28 FL dave@example.com dave@example.com 42",
        "224 28",
    );
    // Bob, already on FL, also goes into group 1 (no new reverse-list entry for him).
    ok(
        &mut alice,
        "ADD 29 FL bob@example.com bob@example.com 1",
        &|v| format!("ADD 29 FL {v} bob@example.com bob@example.com 1"),
        &mut v,
    );
    err(&mut alice, "ADD 29 FL bob@example.com bob 1", "215 29");

    // Settings.
    ok(
        &mut alice,
        "BLP 30 BL",
        &|v| format!("BLP 30 {v} BL"),
        &mut v,
    );
    err(&mut alice, "BLP 31 BL", "218 31");
    ok(&mut alice, "GTC 32 N", &|v| format!("GTC 32 {v} N"), &mut v);
    err(&mut alice, "GTC 33 N", "218 33");

    // Friendly name.
    // Another user's email: for a listed contact old clients only refresh their
    // cached name, confirmed at the current version (no change); others are 216.
    alice.send("REA 34 bob@example.com Bobby");
    alice.expect(&format!("REA 34 {v} bob@example.com Bobby"));
    err(&mut alice, "REA 34 dave@example.com Dave", "216 34");
    err(
        &mut alice,
        &format!("REA 35 alice@example.com {}", "a".repeat(388)),
        "209 35",
    );
    ok(
        &mut alice,
        "REA 36 alice@example.com Alice%20A",
        &|v| format!("REA 36 {v} alice@example.com Alice%20A"),
        &mut v,
    );

    // Bob adds Alice: her reverse list (and version) changes.
    bob.send("ADD 37 FL alice@example.com alice@example.com 0");
    bv += 1;
    bob.expect(&format!("ADD 37 FL {bv} alice@example.com Alice%20A 0"));
    v += 1;
    alice.expect(&format!("ADD 0 RL {v} bob@example.com bob@example.com"));
    assert!(alice.fence().is_empty());
    assert!(bob.fence().is_empty());

    // The whole list as it is now.
    alice.send("SYN 40 0");
    let (head, gtc, blp, lsg, lst) = read_sync(&mut alice, 40);
    assert_eq!(head, format!("SYN 40 {v} 2 2"));
    assert_eq!((gtc.as_str(), blp.as_str()), ("GTC N", "BLP BL"));
    assert_eq!(lsg, ["LSG 0 Other%20Contacts 0", "LSG 1 Best%20Friends 0"]);
    assert_eq!(
        lst,
        [
            // FL + AL + RL, in groups 0 and 1.
            "LST bob@example.com bob@example.com 11 0,1",
            // BL only.
            "LST carol@example.com carol@example.com 4",
        ]
    );
    assert!(alice.fence().is_empty());

    // Same version: only the SYN line.
    alice.send(&format!("SYN 41 {v}"));
    alice.expect(&format!("SYN 41 {v}"));
    assert!(alice.fence().is_empty());
    // An older version: everything again.
    alice.send(&format!("SYN 42 {}", v - 1));
    let (head, ..) = read_sync(&mut alice, 42);
    assert_eq!(head, format!("SYN 42 {v} 2 2"));

    // Removals: one group membership, then the FL entry (Bob loses Alice from RL).
    ok(
        &mut alice,
        "REM 43 FL bob@example.com 1",
        &|v| format!("REM 43 FL {v} bob@example.com 1"),
        &mut v,
    );
    err(&mut alice, "REM 43 FL bob@example.com 1", "216 43");
    ok(
        &mut alice,
        "REM 44 FL bob@example.com",
        &|v| format!("REM 44 FL {v} bob@example.com"),
        &mut v,
    );
    bv += 1;
    bob.expect(&format!("REM 0 RL {bv} alice@example.com"));
    ok(&mut alice, "RMG 45 1", &|v| format!("RMG 45 {v} 1"), &mut v);
    err(&mut alice, "RMG 46 1", "224 46");
    ok(
        &mut alice,
        "REM 47 BL carol@example.com",
        &|v| format!("REM 47 BL {v} carol@example.com"),
        &mut v,
    );
    alice.send("SYN 48 0");
    let (head, _, _, lsg, lst) = read_sync(&mut alice, 48);
    assert_eq!(head, format!("SYN 48 {v} 1 1"));
    assert_eq!(lsg, ["LSG 0 Other%20Contacts 0"]);
    assert_eq!(lst, ["LST bob@example.com bob@example.com 10"]);
    assert!(alice.fence().is_empty());
    assert!(bob.fence().is_empty());

    // A fresh login sees the same version and list.
    drop(alice);
    let mut again = server.login8("alice@example.com");
    again.send(&format!("SYN 1 {v}"));
    again.expect(&format!("SYN 1 {v}"));
    assert!(again.fence().is_empty());
}

#[test]
fn group_limits() {
    let server = Server::start(&[]);
    server.add_user("alice@example.com", "pw");
    let mut alice = server.online("alice@example.com");
    // Group 0 plus 29 more is the maximum of 30.
    for i in 1..30u32 {
        alice.send(&format!("ADG {} g{i} 0", 100 + i));
        alice.expect_prefix(&format!("ADG {} ", 100 + i));
    }
    alice.send("ADG 200 one-too-many 0");
    alice.expect("223 200");
    // Removing one frees its id for reuse.
    alice.send("RMG 201 7");
    alice.expect_prefix("RMG 201 ");
    alice.send("ADG 202 again 0");
    let line = alice.expect_prefix("ADG 202 ");
    assert!(line.ends_with(" again 7 0"), "{line}");
    // Group 0 can be renamed but not removed.
    alice.send("REG 203 0 Everyone 0");
    alice.expect_prefix("REG 203 ");
    alice.send("RMG 204 0");
    alice.expect("230 204");
    assert!(alice.fence().is_empty());
}
