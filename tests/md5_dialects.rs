//! End-to-end MSNP2–MSNP7 (MSN Messenger 1.x–4.x, MD5 challenge login) over raw
//! TCP against the real binary: for every dialect, login (with and without
//! `CVR`), the per-list `SYN`, `ADD`/`REM` by email with list versions, `REA`,
//! `BLP`/`GTC`, `PRP` (MSNP5+), groups (MSNP7), presence without capabilities,
//! `QNG` without seconds, and a switchboard conversation with acknowledged
//! messages. Also: `CHL` with the MD5 algorithm (MSNP6–7), the dispatch `XFR NS`
//! shapes, MD5 dialects switched off, accounts without an MD5 verifier, and
//! users on different dialects (MSNP5 with MSNP8, MSNP2 with MSNP7) seeing and
//! talking to each other.

mod common;

use common::{Client, Server, md5_client_offer, md5_hex};

const MESSAGE: &[u8] = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=MS%20Sans%20Serif; EF=; CO=0; CS=0; PF=0\r\n\r\nhello bob";

/// The list version carried at `index` (0-based token) of `line`.
fn version_at(line: &str, index: usize) -> u32 {
    line.split(' ')
        .nth(index)
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no list version at {index} in {line:?}"))
}

/// ` 0` (the group list of an `FL` entry) in dialects with groups, else nothing.
fn fl_groups(dialect: u8) -> &'static str {
    if dialect >= 7 { " 0" } else { "" }
}

/// Reads the whole per-list `SYN` answer (everything up to and including
/// `LST trid RL ...` with the last index) and returns its lines.
fn read_per_list_sync(c: &mut Client, trid: u32) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = c.line();
        let done = {
            let parts: Vec<&str> = line.split(' ').collect();
            parts.len() >= 6
                && parts[0] == "LST"
                && parts[1] == trid.to_string()
                && parts[2] == "RL"
                && parts[4] == parts[5]
        };
        lines.push(line);
        if done {
            return lines;
        }
    }
}

/// The whole flow for two users on one MD5 dialect.
fn single_dialect_flow(d: u8) {
    let server = Server::start(&[]);
    let alice = format!("alice{d}@example.com");
    let bob = format!("bob{d}@example.com");
    server.add_user(&alice, "pw-a");
    server.add_user(&bob, "pw-b");
    let mut a = server.login_md5(&alice, "pw-a", d);
    let mut b = server.login_md5(&bob, "pw-b", d);

    // A fresh list: every list present and empty; the default group in MSNP7.
    a.send("SYN 5 0");
    let mut expected = vec![
        "SYN 5 0".to_string(),
        "GTC 5 0 A".into(),
        "BLP 5 0 AL".into(),
    ];
    if d >= 7 {
        expected.push("LSG 5 0 1 1 0 Other%20Contacts 0".into());
    }
    for list in ["FL", "AL", "BL", "RL"] {
        expected.push(format!("LST 5 {list} 0 0 0"));
    }
    assert_eq!(read_per_list_sync(&mut a, 5), expected);
    b.send("SYN 5 0");
    read_per_list_sync(&mut b, 5);

    // ADD by email, with list versions; the other side sees `ADD 0 RL`.
    let g = fl_groups(d);
    a.send(&format!("ADD 10 FL {bob} {bob}{g}"));
    a.expect(&format!("ADD 10 FL 1 {bob} {bob}{g}"));
    b.expect(&format!("ADD 0 RL 1 {alice} {alice}"));
    a.send(&format!("ADD 11 AL {bob} {bob}"));
    a.expect(&format!("ADD 11 AL 2 {bob} {bob}"));
    b.send(&format!("ADD 12 FL {alice} {alice}{g}"));
    b.expect(&format!("ADD 12 FL 2 {alice} {alice}{g}"));
    a.expect(&format!("ADD 0 RL 3 {bob} {bob}"));
    b.send(&format!("ADD 13 AL {alice} {alice}"));
    b.expect(&format!("ADD 13 AL 3 {alice} {alice}"));
    // Errors: already there, no such account, not an address, RL by hand.
    a.send(&format!("ADD 14 FL {bob} {bob}"));
    a.expect("215 14");
    a.send("ADD 15 FL nobody@example.com nobody@example.com");
    a.expect("205 15");
    a.send("ADD 16 AL not-an-address x");
    a.expect("201 16");
    a.send(&format!("ADD 17 RL {bob} {bob}"));
    a.expect("201 17");

    // The full list now; an up-to-date version gets only the SYN line.
    a.send("SYN 18 0");
    let mut expected = vec![
        "SYN 18 3".to_string(),
        "GTC 18 3 A".into(),
        "BLP 18 3 AL".into(),
    ];
    if d >= 7 {
        expected.push("LSG 18 3 1 1 0 Other%20Contacts 0".into());
    }
    expected.push(format!("LST 18 FL 3 1 1 {bob} {bob}{g}"));
    expected.push(format!("LST 18 AL 3 1 1 {bob} {bob}"));
    expected.push("LST 18 BL 3 0 0".into());
    expected.push(format!("LST 18 RL 3 1 1 {bob} {bob}"));
    assert_eq!(read_per_list_sync(&mut a, 18), expected);
    a.send("SYN 19 3");
    a.expect("SYN 19 3");

    // Presence without capabilities.
    b.send("CHG 20 NLN");
    b.expect("CHG 20 NLN");
    a.send("CHG 21 NLN");
    a.expect("CHG 21 NLN");
    a.expect(&format!("ILN 21 NLN {bob} {bob}"));
    b.expect(&format!("NLN NLN {alice} {alice}"));
    b.send("CHG 22 BSY");
    b.expect("CHG 22 BSY");
    a.expect(&format!("NLN BSY {bob} {bob}"));
    // A capability id sent anyway is not echoed in these dialects.
    b.send("CHG 23 NLN 268435456");
    b.expect("CHG 23 NLN");
    a.expect(&format!("NLN NLN {bob} {bob}"));
    a.send("CHG 24 FLN");
    a.expect("201 24");

    // REA: the own friendly name, seen by watchers.
    a.send(&format!("REA 25 {alice} Alice%20A"));
    let rea = a.expect_prefix("REA 25 ");
    assert_eq!(rea, format!("REA 25 4 {alice} Alice%20A"));
    b.expect(&format!("NLN NLN {alice} Alice%20A"));
    // Bob's client then updates the name stored with its entry for Alice; a
    // name for someone on no list is 216.
    b.send(&format!("REA 24 {alice} Alice%20A"));
    b.expect(&format!("REA 24 3 {alice} Alice%20A"));
    b.send("REA 25 ghost@example.com Ghost");
    b.expect("216 25");

    // BLP and GTC with list versions; the same value again is 218.
    a.send("BLP 26 BL");
    a.expect("BLP 26 5 BL");
    a.send("BLP 27 BL");
    a.expect("218 27");
    a.send("BLP 28 AL");
    a.expect("BLP 28 6 AL");
    a.send("GTC 29 N");
    a.expect("GTC 29 7 N");

    // PRP from MSNP5; unknown before.
    a.send("PRP 30 PHH 555%20123");
    let mut version = 7;
    if d >= 5 {
        version += 1;
        a.expect(&format!("PRP 30 {version} PHH 555%20123"));
        // Bob (on Alice's allow list) gets her number after her FL entry.
        b.send("SYN 38 0");
        let lines = read_per_list_sync(&mut b, 38);
        let bv = version_at(&lines[0], 2);
        let fl = lines
            .iter()
            .position(|l| l.starts_with(&format!("LST 38 FL {bv} 1 1 {alice} ")))
            .unwrap();
        assert_eq!(lines[fl + 1], format!("BPR {bv} {alice} PHH 555%20123"));
        assert_eq!(lines.iter().filter(|l| l.starts_with("BPR")).count(), 1);
    } else {
        a.expect("200 30");
    }

    // Groups from MSNP7; unknown before.
    if d >= 7 {
        a.send("ADG 31 Friends 0");
        version += 1;
        a.expect(&format!("ADG 31 {version} Friends 1 0"));
        a.send("REG 32 1 Old%20Friends 0");
        version += 1;
        a.expect(&format!("REG 32 {version} 1 Old%20Friends 0"));
        a.send(&format!("ADD 33 FL {bob} {bob} 1"));
        version += 1;
        a.expect(&format!("ADD 33 FL {version} {bob} {bob} 1"));
        a.send("SYN 34 0");
        let lines = read_per_list_sync(&mut a, 34);
        assert!(lines.contains(&format!("LSG 34 {version} 2 2 1 Old%20Friends 0")));
        assert!(lines.contains(&format!("LST 34 FL {version} 1 1 {bob} {bob} 0,1")));
        assert!(lines.contains(&format!("PRP 34 {version} PHH 555%20123")));
        assert!(lines.contains(&format!("GTC 34 {version} N")));
        a.send(&format!("REM 35 FL {bob} 1"));
        version += 1;
        a.expect(&format!("REM 35 FL {version} {bob} 1"));
        a.send("RMG 36 1");
        version += 1;
        a.expect(&format!("RMG 36 {version} 1"));
        a.send("RMG 37 0");
        a.expect("230 37");
    } else {
        a.send("ADG 31 Friends 0");
        a.expect("200 31");
        if d >= 5 {
            a.send("SYN 34 0");
            let lines = read_per_list_sync(&mut a, 34);
            assert!(lines.contains(&format!("PRP 34 {version} PHH 555%20123")));
            assert!(!lines.iter().any(|l| l.starts_with("LSG")));
        }
    }
    // PNG: QNG without seconds.
    a.send("PNG");
    a.expect("QNG");

    // A switchboard: XFR SB, USR, CAL/RNG/ANS, IRO/JOI, MSG with ACK.
    a.send("XFR 40 SB");
    let xfr = a.expect_prefix("XFR 40 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    assert_eq!(parts.len(), 6, "{xfr}");
    assert_eq!(parts[4], "CKI");
    let (sb_addr, cookie) = (parts[3].to_string(), parts[5].to_string());
    assert_eq!(sb_addr, server.addr("sb"));
    let mut a_sb = Client::connect(&sb_addr);
    a_sb.send(&format!("USR 1 {alice} {cookie}"));
    a_sb.expect(&format!("USR 1 OK {alice} Alice%20A"));
    a_sb.send(&format!("CAL 2 {bob}"));
    let ringing = a_sb.expect_prefix("CAL 2 RINGING ");
    let session = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = b.expect_prefix(&format!("RNG {session} {sb_addr} CKI "));
    let parts: Vec<&str> = rng.split(' ').collect();
    assert_eq!(&parts[5..], [alice.as_str(), "Alice%20A"]);
    let mut b_sb = Client::connect(&sb_addr);
    b_sb.send(&format!("ANS 1 {bob} {} {session}", parts[4]));
    b_sb.expect(&format!("IRO 1 1 1 {alice} Alice%20A"));
    b_sb.expect("ANS 1 OK");
    a_sb.expect(&format!("JOI {bob} {bob}"));
    a_sb.send_payload("MSG 3 A", MESSAGE);
    let (head, payload) = b_sb.read_payload_line();
    assert_eq!(head, format!("MSG {alice} Alice%20A {}", MESSAGE.len()));
    assert_eq!(payload, MESSAGE);
    a_sb.expect("ACK 3");
    b_sb.send_payload(
        "MSG 2 N",
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhi",
    );
    let (head, _) = a_sb.read_payload_line();
    assert!(head.starts_with(&format!("MSG {bob} {bob} ")), "{head}");
    b_sb.send("OUT");
    b_sb.expect_closed();
    a_sb.expect(&format!("BYE {bob}"));
    a_sb.send("OUT");
    a_sb.expect_closed();

    // REM by email: Bob is told he left Alice's reverse list, and Alice no
    // longer hears about his presence.
    a.send(&format!("REM 50 FL {bob}"));
    let rem = a.expect_prefix("REM 50 FL ");
    let alice_version = version_at(&rem, 3);
    assert_eq!(rem, format!("REM 50 FL {alice_version} {bob}"));
    let bob_rem = b.expect_prefix("REM 0 RL ");
    assert_eq!(
        bob_rem,
        format!("REM 0 RL {} {alice}", version_at(&bob_rem, 3))
    );
    a.send(&format!("REM 51 FL {bob}"));
    a.expect("216 51");
    b.send("CHG 52 AWY");
    b.expect("CHG 52 AWY");
    assert!(a.fence().is_empty());

    // Alice logs out: Bob (who still watches her) sees FLN.
    a.send("OUT");
    a.expect_closed();
    b.expect(&format!("FLN {alice}"));
    assert!(b.fence().is_empty());
    assert!(server.stop().success());
}

#[test]
fn msnp2_flow() {
    single_dialect_flow(2);
}

#[test]
fn msnp3_flow() {
    single_dialect_flow(3);
}

#[test]
fn msnp4_flow() {
    single_dialect_flow(4);
}

#[test]
fn msnp5_flow() {
    single_dialect_flow(5);
}

#[test]
fn msnp6_flow() {
    single_dialect_flow(6);
}

#[test]
fn msnp7_flow() {
    single_dialect_flow(7);
}

/// Wrong passwords, out-of-order steps and the other method's `USR` are refused;
/// an MSNP7 client's full `VER` offer gets MSNP7.
#[test]
fn md5_login_errors() {
    let server = Server::start(&[]);
    server.add_user("carol@example.com", "right");

    let mut c = server.connect("ns");
    c.send("VER 1 MSNP7 MSNP6 MSNP5 MSNP4 CVR0");
    c.expect("VER 1 MSNP7");
    c.send("USR 2 MD5 S 0123456789abcdef0123456789abcdef");
    c.expect("715 2");
    c.send("USR 3 MD5 I carol@example.com");
    let salt = c.expect_prefix("USR 3 MD5 S ")["USR 3 MD5 S ".len()..].to_string();
    c.send(&format!("USR 4 MD5 S {}", md5_hex(&format!("{salt}wrong"))));
    c.expect("911 4");
    // The salt is the account's: asking again gives the same one, and the
    // upper-case hex of the right answer logs in.
    c.send("USR 5 MD5 I Carol@Example.com");
    c.expect(&format!("USR 5 MD5 S {salt}"));
    let answer = md5_hex(&format!("{salt}right")).to_ascii_uppercase();
    c.send(&format!("USR 6 MD5 S {answer}"));
    c.expect("USR 6 OK carol@example.com carol@example.com 1");
    c.read_payload_line();
    c.send("USR 7 MD5 I carol@example.com");
    c.expect("207 7");

    // An unknown account gets a salt like anyone else (the same one each time,
    // so `USR MD5 I` does not tell who has an account), and fails at the answer.
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP5 MSNP4");
    c.expect("VER 1 MSNP5");
    c.send("USR 2 MD5 I nobody@example.com");
    let decoy = c.expect_prefix("USR 2 MD5 S ")["USR 2 MD5 S ".len()..].to_string();
    let (high, low) = decoy.split_once('.').unwrap();
    assert_eq!((high.len(), low.len()), (10, 9), "{decoy}");
    c.send(&format!(
        "USR 3 MD5 S {}",
        md5_hex(&format!("{decoy}anything"))
    ));
    c.expect("911 3");
    c.send("USR 4 MD5 I nobody@example.com");
    c.expect(&format!("USR 4 MD5 S {decoy}"));
    // Ticket login in an MD5 dialect.
    c.send("USR 5 TWN I carol@example.com");
    c.expect("911 5");

    // MD5 login in a ticket dialect; INF does not exist there.
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP8 CVR0");
    c.expect("VER 1 MSNP8");
    c.send("INF 2");
    c.expect("200 2");
    c.send("USR 3 MD5 I carol@example.com");
    c.expect("911 3");
}

/// With `auth.md5_dialects` off, MSNP2–7 are not offered; ticket dialects are.
#[test]
fn md5_dialects_switched_off() {
    let server = Server::start(&["auth.md5_dialects=false"]);
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP7 MSNP6");
    c.expect("VER 1 0");
    c.expect_closed();
    let mut c = server.connect("ns");
    c.send(&format!("VER 1 {}", md5_client_offer(2)));
    c.expect("VER 1 0");
    c.expect_closed();
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP8 MSNP7 CVR0");
    c.expect("VER 1 MSNP8");
    // Accounts made while MD5 is off work with tickets.
    server.add_user("dave@example.com", "pw");
    let mut d = server.login8("dave@example.com");
    d.send("PNG");
    d.expect("QNG");
}

/// An account created while MD5 dialects were off has no verifier: MD5 login is
/// refused until `user passwd` runs with MD5 dialects on.
#[test]
fn account_without_md5_verifier() {
    let server = Server::start(&[]);
    server.cli_with(
        &["auth.md5_dialects=false"],
        &["user", "add", "erin@example.com", "--password", "pw"],
    );
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP7 MSNP6 MSNP5 MSNP4 CVR0");
    c.expect("VER 1 MSNP7");
    c.send("USR 2 MD5 I erin@example.com");
    let salt = c.expect_prefix("USR 2 MD5 S ")["USR 2 MD5 S ".len()..].to_string();
    c.send(&format!("USR 3 MD5 S {}", md5_hex(&format!("{salt}pw"))));
    c.expect("911 3");
    // Ticket login works meanwhile.
    server.login8("erin@example.com");
    server.cli(&["user", "passwd", "erin@example.com", "--password", "pw2"]);
    server.login_md5("erin@example.com", "pw2", 7);
    // `user passwd` with MD5 dialects off drops the verifier again.
    server.cli_with(
        &["auth.md5_dialects=false"],
        &["user", "passwd", "erin@example.com", "--password", "pw3"],
    );
    let mut c = server.connect("ns");
    c.send("VER 1 MSNP5 MSNP4");
    c.expect("VER 1 MSNP5");
    c.send("USR 2 MD5 I erin@example.com");
    let salt = c.expect_prefix("USR 2 MD5 S ")["USR 2 MD5 S ".len()..].to_string();
    c.send(&format!("USR 3 MD5 S {}", md5_hex(&format!("{salt}pw3"))));
    c.expect("911 3");
}

/// MSNP6–7 get `CHL` after login when challenges are on, answered with
/// `md5(challenge + key)` under the product id `msmsgs@msnmsgr.com`; a wrong
/// answer is `540` and the end of the connection. MSNP2–5 get no challenge.
#[test]
fn md5_era_challenges() {
    let server = Server::start(&["protocol.challenges=true"]);
    server.add_user("frank@example.com", "pw");
    for d in 6..=7 {
        let mut c = server.login_md5("frank@example.com", "pw", d);
        let chl = c.expect_prefix("CHL 0 ");
        let challenge = &chl["CHL 0 ".len()..];
        let answer = md5_hex(&format!("{challenge}Q1P7W2E4J9R8U3S5"));
        c.send_payload("QRY 9 msmsgs@msnmsgr.com", answer.as_bytes());
        c.expect("QRY 9");
        c.send("PNG");
        c.expect("QNG");
    }
    let mut c = server.login_md5("frank@example.com", "pw", 7);
    c.expect_prefix("CHL 0 ");
    c.send_payload("QRY 9 msmsgs@msnmsgr.com", &[b'0'; 32]);
    c.expect("540 9");
    c.expect_closed();
    for d in 2..=5 {
        let mut c = server.login_md5("frank@example.com", "pw", d);
        assert!(c.fence().is_empty(), "MSNP{d} got a challenge");
    }
}

/// A dispatch listener sends MD5 clients on with the dialect's `XFR NS` shape:
/// bare in MSNP2, with `0` in MSNP3–6, with `0` and the dispatch address from
/// MSNP7.
#[test]
fn dispatch_redirect_shapes() {
    let server = Server::start(&["listeners.ds={ role = \"dispatch\", bind = \"127.0.0.1:0\" }"]);
    let (ds, ns) = (server.addr("ds").to_string(), server.addr("ns").to_string());
    for d in 2..=7 {
        let mut c = server.connect("ds");
        c.send(&format!("VER 1 {}", md5_client_offer(d)));
        c.expect(&format!("VER 1 MSNP{d}"));
        c.send("INF 2");
        c.expect("INF 2 MD5");
        c.send("USR 3 MD5 I someone@example.com");
        let expected = match d {
            2 => format!("XFR 3 NS {ns}"),
            3..=6 => format!("XFR 3 NS {ns} 0"),
            _ => format!("XFR 3 NS {ns} 0 {ds}"),
        };
        c.expect(&expected);
        c.expect_closed();
    }
}

/// One side of a mixed-dialect pair.
struct Side {
    email: String,
    dialect: u8,
    ns: Client,
}

impl Side {
    fn login(server: &Server, name: &str, dialect: u8) -> Side {
        let email = format!("{name}@example.com");
        server.add_user(&email, "pw");
        let ns = if dialect >= 8 {
            server.login8(&email)
        } else {
            server.login_md5(&email, "pw", dialect)
        };
        Side { email, dialect, ns }
    }

    /// `ADD trid FL other` as this dialect's client sends it.
    fn add_forward(&mut self, trid: u32, other: &str) {
        let g = fl_groups(self.dialect);
        self.ns.send(&format!("ADD {trid} FL {other} {other}{g}"));
        let reply = self.ns.expect_prefix(&format!("ADD {trid} FL "));
        assert!(reply.ends_with(&format!(" {other} {other}{g}")), "{reply}");
    }

    /// The presence tail this side's dialect puts after `email nick`.
    fn caps_tail(&self, caps: u64) -> String {
        if self.dialect >= 8 {
            format!(" {caps}")
        } else {
            String::new()
        }
    }

    /// `CHG trid NLN` (with a capability id in MSNP8+).
    fn go_online(&mut self, trid: u32, caps: u64) {
        if self.dialect >= 8 {
            self.ns.send(&format!("CHG {trid} NLN {caps}"));
        } else {
            self.ns.send(&format!("CHG {trid} NLN"));
        }
        self.ns
            .expect(&format!("CHG {trid} NLN{}", self.caps_tail(caps)));
    }
}

/// `caller` opens a switchboard, calls `callee`, and both send an acknowledged
/// message; then `callee` leaves.
fn chat(caller: &mut Side, callee: &mut Side) {
    let (ce, ee) = (caller.email.clone(), callee.email.clone());
    caller.ns.send("XFR 30 SB");
    let xfr = caller.ns.expect_prefix("XFR 30 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let (sb_addr, cookie) = (parts[3].to_string(), parts[5].to_string());
    let mut c_sb = Client::connect(&sb_addr);
    c_sb.send(&format!("USR 1 {ce} {cookie}"));
    c_sb.expect(&format!("USR 1 OK {ce} {ce}"));
    c_sb.send(&format!("CAL 2 {ee}"));
    let ringing = c_sb.expect_prefix("CAL 2 RINGING ");
    let session = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = callee
        .ns
        .expect_prefix(&format!("RNG {session} {sb_addr} CKI "));
    let parts: Vec<&str> = rng.split(' ').collect();
    assert_eq!(&parts[5..], [ce.as_str(), ce.as_str()]);
    let mut e_sb = Client::connect(&sb_addr);
    e_sb.send(&format!("ANS 1 {ee} {} {session}", parts[4]));
    e_sb.expect(&format!("IRO 1 1 1 {ce} {ce}"));
    e_sb.expect("ANS 1 OK");
    c_sb.expect(&format!("JOI {ee} {ee}"));
    c_sb.send_payload("MSG 3 A", MESSAGE);
    let (head, payload) = e_sb.read_payload_line();
    assert_eq!(head, format!("MSG {ce} {ce} {}", MESSAGE.len()));
    assert_eq!(payload, MESSAGE);
    c_sb.expect("ACK 3");
    e_sb.send_payload("MSG 2 A", MESSAGE);
    let (head, _) = c_sb.read_payload_line();
    assert_eq!(head, format!("MSG {ee} {ee} {}", MESSAGE.len()));
    e_sb.expect("ACK 2");
    e_sb.send("OUT");
    e_sb.expect_closed();
    c_sb.expect(&format!("BYE {ee}"));
}

/// Two users on different dialects add each other, see each other's presence in
/// their own dialect's shape, and chat in a switchboard.
fn mixed_pair(old: u8, new: u8) {
    let server = Server::start(&[]);
    let mut a = Side::login(&server, &format!("old{old}"), old);
    let mut b = Side::login(&server, &format!("new{new}"), new);
    let (ae, be) = (a.email.clone(), b.email.clone());

    a.add_forward(10, &be);
    let rl = b.ns.expect_prefix("ADD 0 RL ");
    assert!(rl.ends_with(&format!(" {ae} {ae}")), "{rl}");
    b.add_forward(11, &ae);
    let rl = a.ns.expect_prefix("ADD 0 RL ");
    assert!(rl.ends_with(&format!(" {be} {be}")), "{rl}");

    // B (capability id 268435456) comes online first, then A (who has none).
    b.go_online(20, 268_435_456);
    a.go_online(21, 0);
    a.ns.expect(&format!("ILN 21 NLN {be} {be}{}", a.caps_tail(268_435_456)));
    b.ns.expect(&format!("NLN NLN {ae} {ae}{}", b.caps_tail(0)));
    a.ns.send("CHG 22 AWY");
    a.ns.expect_prefix("CHG 22 AWY");
    b.ns.expect(&format!("NLN AWY {ae} {ae}{}", b.caps_tail(0)));

    // A's phone number reaches B (whom A allows) as BPR in B's dialect.
    if old >= 5 {
        a.ns.send(&format!("ADD 23 AL {be} {be}"));
        a.ns.expect_prefix("ADD 23 AL ");
        a.ns.send("PRP 24 PHW 555%200100");
        a.ns.expect_prefix("PRP 24 ");
        b.ns.send("SYN 25 0");
        let lines = b.ns.fence();
        let fl = lines
            .iter()
            .position(|l| l.starts_with("LST ") && l.contains(&format!(" {ae} ")))
            .unwrap();
        let bpr = if new >= 8 {
            "BPR PHW 555%200100".to_string()
        } else {
            format!("BPR {} {ae} PHW 555%200100", version_at(&lines[0], 2))
        };
        assert_eq!(lines[fl + 1], bpr, "{lines:?}");
    }

    // B (the newer dialect) opens the switchboard and calls A, then the other
    // way round; each side speaks its own dialect in the switchboard.
    chat(&mut b, &mut a);
    chat(&mut a, &mut b);

    // A logs out: B sees FLN.
    a.ns.send("OUT");
    a.ns.expect_closed();
    b.ns.expect(&format!("FLN {ae}"));
    assert!(b.ns.fence().is_empty());
    assert!(server.stop().success());
}

#[test]
fn mixed_msnp5_and_msnp8() {
    mixed_pair(5, 8);
}

#[test]
fn mixed_msnp2_and_msnp7() {
    mixed_pair(2, 7);
}
