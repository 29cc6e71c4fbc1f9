//! End-to-end MSNP9–MSNP12 over raw TCP against the real binary, one test per
//! dialect: ticket login, groups (numeric ids, or GUIDs from MSNP10), contact
//! edits (`ADD`, or `ADC`/`REM` by contact GUID from MSNP10), the list download in
//! the dialect's shape, presence with capabilities and MSN objects, personal
//! messages (MSNP11+), friendly-name changes (`REA`, or `PRP MFN` from MSNP10),
//! `GCF` and a switchboard chat (with `IRO`/`JOI` capabilities in MSNP12). Then
//! mixed dialects: MSNP8 and MSNP12 users see each other and chat, and each gets
//! only what its dialect can express.

mod common;

use common::{Client, Server};
use msnpd::proto::guid::contact_guid;

const TS: &str = "2000-01-01T00:00:00.0-00:00";
const CAPS: &str = "268435456";
const MSNOBJ: &str = "%3Cmsnobj%20Creator%3D%22x%22%2F%3E";
const PSM: &[u8] = b"<Data><PSM>on the wire</PSM><CurrentMedia></CurrentMedia></Data>";
const TEXT: &[u8] = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhello";

/// Reads the `UBX email length` line and its payload.
fn expect_ubx(c: &mut Client, email: &str, payload: &[u8]) {
    let (head, got) = c.read_payload_line();
    assert_eq!(head, format!("UBX {email} {}", payload.len()));
    assert_eq!(got, payload);
}

/// Joins `callee` (already rung by `RNG`) into the caller's switchboard; returns
/// the callee's switchboard client after `ANS OK`, asserting the `IRO` line.
fn answer(callee: &mut Client, callee_email: &str, expected_iro: &str) -> Client {
    let rng = callee.expect_prefix("RNG ");
    let parts: Vec<&str> = rng.split(' ').collect();
    let mut sb = Client::connect(parts[2]);
    sb.send(&format!("ANS 1 {callee_email} {} {}", parts[4], parts[1]));
    sb.expect(expected_iro);
    sb.expect("ANS 1 OK");
    sb
}

/// Opens a switchboard for `caller` and calls `callee`.
fn call(caller: &mut Client, caller_email: &str, callee_email: &str) -> Client {
    caller.send("XFR 40 SB");
    let xfr = caller.expect_prefix("XFR 40 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let mut sb = Client::connect(parts[3]);
    sb.send(&format!("USR 1 {caller_email} {}", parts[5]));
    sb.expect(&format!("USR 1 OK {caller_email} {caller_email}"));
    sb.send(&format!("CAL 2 {callee_email}"));
    sb.expect_prefix("CAL 2 RINGING ");
    sb
}

fn dialect_flow(v: u8) {
    let server = Server::start(&[]);
    let (a, b) = (format!("a{v}@example.com"), format!("b{v}@example.com"));
    server.add_user(&a, "pw-a");
    server.add_user(&b, "pw-b");
    let guids = v >= 10;
    let mut ca = server.login_as(&a, v);
    let mut cb = server.login_as(&b, v);
    let b_guid = contact_guid(&b);

    // A group: numeric id before MSNP10, GUID after.
    ca.send(if guids {
        "ADG 10 Friends"
    } else {
        "ADG 10 Friends 0"
    });
    let adg = ca.expect_prefix("ADG 10 ");
    let parts: Vec<&str> = adg.split(' ').collect();
    assert_eq!(parts[3], "Friends");
    assert_eq!(parts[5], "0");
    let group = parts[4].to_owned();
    if guids {
        assert!(group.starts_with("00000000-0000-0000-0001-"), "{adg}");
    } else {
        assert!(group.parse::<u32>().is_ok(), "{adg}");
    }

    // Both add each other; each is told about the reverse-list entry.
    if guids {
        ca.send(&format!("ADC 11 FL N={b} F=Bee"));
        ca.expect(&format!("ADC 11 FL N={b} F={b} C={b_guid}"));
        cb.expect(&format!("ADC 0 RL N={a} F={a}"));
        cb.send(&format!("ADC 11 FL N={a} F=Ay"));
        cb.expect(&format!("ADC 11 FL N={a} F={a} C={}", contact_guid(&a)));
        ca.expect(&format!("ADC 0 RL N={b} F={b}"));
        // Into the group by contact GUID.
        ca.send(&format!("ADC 12 FL C={b_guid} {group}"));
        ca.expect(&format!("ADC 12 FL C={b_guid} {group}"));
        // Adding twice is 215; ADD is not a verb here; unknown GUIDs are 208.
        ca.send(&format!("ADC 13 FL N={b} F=b"));
        ca.expect("215 13");
        ca.send(&format!("ADD 13 FL {b} {b}"));
        ca.expect("200 13");
        ca.send(&format!(
            "ADC 13 FL C={} {group}",
            contact_guid("nobody@x.com")
        ));
        ca.expect("208 13");
    } else {
        ca.send(&format!("ADD 11 FL {b} {b} 0"));
        ca.expect_prefix("ADD 11 FL ");
        cb.expect_prefix("ADD 0 RL ");
        cb.send(&format!("ADD 11 FL {a} {a} 0"));
        cb.expect_prefix("ADD 11 FL ");
        ca.expect_prefix("ADD 0 RL ");
        ca.send(&format!("ADD 12 FL {b} {b} {group}"));
        let add = ca.expect_prefix("ADD 12 FL ");
        assert!(add.ends_with(&format!(" {b} {b} {group}")), "{add}");
        ca.send(&format!("ADC 13 FL N={b}"));
        ca.expect("200 13");
    }

    // The list download in the dialect's shape.
    ca.send(if guids { "SYN 14 0 0" } else { "SYN 14 0" });
    let syn = ca.expect_prefix("SYN 14 ");
    let mut lines = vec![syn];
    lines.extend(ca.fence());
    let expected: Vec<String> = if guids {
        let network = if v >= 12 { " 1" } else { "" };
        vec![
            format!("SYN 14 {TS} {TS} 1 1"),
            "GTC A".into(),
            "BLP AL".into(),
            format!("PRP MFN {a}"),
            format!("LSG Friends {group}"),
            format!("LST N={b} F={b} C={b_guid} 9{network} {group}"),
        ]
    } else {
        let version = lines[0].split(' ').nth(2).unwrap().to_owned();
        vec![
            format!("SYN 14 {version} 1 2"),
            "GTC A".into(),
            "BLP AL".into(),
            "LSG 0 Other%20Contacts 0".into(),
            format!("LSG {group} Friends 0"),
            format!("LST {b} {b} 9 0,{group}"),
        ]
    };
    assert_eq!(lines, expected, "MSNP{v}");

    // Presence with capabilities and an MSN object (MSNP9+).
    cb.send(&format!("CHG 15 NLN {CAPS} {MSNOBJ}"));
    cb.expect(&format!("CHG 15 NLN {CAPS} {MSNOBJ}"));
    if v >= 11 {
        cb.send_payload("UUX 16", PSM);
        cb.expect("UUX 16 0");
    } else {
        cb.send_payload("UUX 16", PSM);
        cb.expect("200 16");
    }
    ca.send(&format!("CHG 17 BSY {CAPS}"));
    ca.expect(&format!("CHG 17 BSY {CAPS}"));
    ca.expect(&format!("ILN 17 NLN {b} {b} {CAPS} {MSNOBJ}"));
    if v >= 11 {
        expect_ubx(&mut ca, &b, PSM);
    }
    cb.expect(&format!("NLN BSY {a} {a} {CAPS}"));
    // A new personal message reaches watchers at once (and only MSNP11+ has them).
    if v >= 11 {
        let update = b"<Data><PSM>changed</PSM><CurrentMedia></CurrentMedia></Data>";
        cb.send_payload("UUX 18", update);
        cb.expect("UUX 18 0");
        expect_ubx(&mut ca, &b, update);
    }

    // The own friendly name: REA before MSNP10, PRP MFN after.
    if guids {
        ca.send("PRP 19 MFN Ay%20Ay");
        ca.expect("PRP 19 MFN Ay%20Ay");
        ca.send(&format!("REA 20 {a} Ay"));
        ca.expect("200 20");
    } else {
        ca.send(&format!("REA 19 {a} Ay%20Ay"));
        let rea = ca.expect_prefix("REA 19 ");
        assert!(rea.ends_with(&format!(" {a} Ay%20Ay")), "{rea}");
    }
    cb.expect(&format!("NLN BSY {a} Ay%20Ay {CAPS}"));

    // Keep-alive with the next interval; GCF from MSNP11.
    assert!(ca.fence().is_empty());
    ca.send("PNG");
    ca.expect("QNG 60");
    ca.send("GCF 21 Shields.xml");
    if v >= 11 {
        let (head, payload) = ca.read_payload_line();
        assert_eq!(head, format!("GCF 21 Shields.xml {}", payload.len()));
        assert!(String::from_utf8(payload).unwrap().contains("<shield>"));
    } else {
        ca.expect("200 21");
    }

    // A switchboard chat; MSNP12 adds capabilities to IRO and JOI.
    let caps_tail = if v >= 12 {
        format!(" {CAPS}")
    } else {
        String::new()
    };
    let mut sa = call(&mut cb, &b, &a);
    let mut sb_a = answer(&mut ca, &a, &format!("IRO 1 1 1 {b} {b}{caps_tail}"));
    sa.expect(&format!("JOI {a} Ay%20Ay{caps_tail}"));
    sa.send_payload("MSG 3 A", TEXT);
    let (head, payload) = sb_a.read_payload_line();
    assert_eq!(head, format!("MSG {b} {b} {}", TEXT.len()));
    assert_eq!(payload, TEXT);
    sa.expect("ACK 3");
    sb_a.send_payload("MSG 2 D", TEXT);
    let (head, _) = sa.read_payload_line();
    assert_eq!(head, format!("MSG {a} Ay%20Ay {}", TEXT.len()));
    sb_a.expect("ACK 2");
    sb_a.send("OUT");
    sb_a.expect_closed();
    sa.expect(&format!("BYE {a}"));

    // Removing: from the group, then from the list (by GUID from MSNP10).
    if guids {
        ca.send(&format!("REM 22 FL {b_guid} {group}"));
        ca.expect(&format!("REM 22 FL {b_guid} {group}"));
        ca.send(&format!("REM 23 FL {b_guid}"));
        ca.expect(&format!("REM 23 FL {b_guid}"));
        cb.expect(&format!("REM 0 RL {a}"));
        ca.send(&format!("REM 24 FL {b_guid}"));
        ca.expect("216 24");
        // Groups by GUID.
        ca.send(&format!("REG 25 {group} Buddies"));
        let reg = ca.expect_prefix("REG 25 ");
        assert!(reg.ends_with(&format!(" Buddies {group} 0")), "{reg}");
        ca.send(&format!("RMG 26 {group}"));
        let rmg = ca.expect_prefix("RMG 26 ");
        assert!(rmg.ends_with(&format!(" {group}")), "{rmg}");
    } else {
        ca.send(&format!("REM 22 FL {b} {group}"));
        let rem = ca.expect_prefix("REM 22 FL ");
        assert!(rem.ends_with(&format!(" {b} {group}")), "{rem}");
        ca.send(&format!("REM 23 FL {b}"));
        let rem = ca.expect_prefix("REM 23 FL ");
        assert!(rem.ends_with(&format!(" {b}")), "{rem}");
        cb.expect_prefix("REM 0 RL ");
    }

    // Logging out: B still watches A and sees FLN.
    ca.send("OUT");
    ca.expect_closed();
    cb.expect(&format!("FLN {a}"));
    assert!(cb.fence().is_empty());
    assert!(server.stop().success());
}

#[test]
fn msnp9_flow() {
    dialect_flow(9);
}

#[test]
fn msnp10_flow() {
    dialect_flow(10);
}

#[test]
fn msnp11_flow() {
    dialect_flow(11);
}

#[test]
fn msnp12_flow() {
    dialect_flow(12);
}

/// MSNP8 and MSNP12 users side by side: presence both ways, each dialect gets
/// only what it can parse (no MSN object, personal message or SB capabilities
/// for MSNP8), and they chat.
#[test]
fn msnp8_and_msnp12_see_each_other_and_chat() {
    let server = Server::start(&[]);
    let (old, new) = ("old@example.com", "new@example.com");
    server.add_user(old, "pw-o");
    server.add_user(new, "pw-n");
    let mut co = server.login8(old);
    let mut cn = server.login_as(new, 12);
    co.send(&format!("ADD 1 FL {new} {new} 0"));
    co.expect_prefix("ADD 1 FL ");
    cn.expect(&format!("ADC 0 RL N={old} F={old}"));
    cn.send(&format!("ADC 2 FL N={old} F=Old"));
    cn.expect(&format!("ADC 2 FL N={old} F={old} C={}", contact_guid(old)));
    co.expect_prefix("ADD 0 RL ");

    // The MSNP12 user goes online with an MSN object and a personal message.
    cn.send(&format!("CHG 3 NLN {CAPS} {MSNOBJ}"));
    cn.expect(&format!("CHG 3 NLN {CAPS} {MSNOBJ}"));
    cn.send_payload("UUX 4", PSM);
    cn.expect("UUX 4 0");
    // The MSNP8 user's first CHG: ILN without the object, no UBX.
    co.send("CHG 5 NLN 1073741824");
    co.expect("CHG 5 NLN 1073741824");
    co.expect(&format!("ILN 5 NLN {new} {new} {CAPS}"));
    cn.expect(&format!("NLN NLN {old} {old} 1073741824"));
    assert!(co.fence().is_empty());
    // Personal message changes never reach MSNP8.
    cn.send_payload(
        "UUX 6",
        b"<Data><PSM>x</PSM><CurrentMedia></CurrentMedia></Data>",
    );
    cn.expect("UUX 6 0");
    cn.send(&format!("CHG 7 AWY {CAPS} {MSNOBJ}"));
    cn.expect(&format!("CHG 7 AWY {CAPS} {MSNOBJ}"));
    co.expect(&format!("NLN AWY {new} {new} {CAPS}"));
    assert!(co.fence().is_empty());

    // MSNP8 calls MSNP12: the MSNP12 side sees the caller's capabilities in IRO,
    // the MSNP8 side gets JOI without them.
    let mut so = call(&mut co, old, new);
    let mut sn = answer(&mut cn, new, &format!("IRO 1 1 1 {old} {old} 1073741824"));
    so.expect(&format!("JOI {new} {new}"));
    so.send_payload("MSG 3 A", TEXT);
    let (head, payload) = sn.read_payload_line();
    assert_eq!(head, format!("MSG {old} {old} {}", TEXT.len()));
    assert_eq!(payload, TEXT);
    so.expect("ACK 3");
    sn.send_payload("MSG 2 A", TEXT);
    let (head, _) = so.read_payload_line();
    assert_eq!(head, format!("MSG {new} {new} {}", TEXT.len()));
    sn.expect("ACK 2");
    sn.send("OUT");
    sn.expect_closed();
    so.expect(&format!("BYE {new}"));

    cn.send("OUT");
    cn.expect_closed();
    co.expect(&format!("FLN {new}"));
    assert!(co.fence().is_empty());
    assert!(server.stop().success());
}

/// A hidden MSNP11 user's personal message stays hidden; it arrives with the
/// `NLN` when they appear.
#[test]
fn personal_message_follows_visibility() {
    let server = Server::start(&[]);
    let (a, b) = ("pa@example.com", "pb@example.com");
    server.add_user(a, "pw-a");
    server.add_user(b, "pw-b");
    let mut ca = server.login_as(a, 11);
    let mut cb = server.login_as(b, 11);
    ca.send(&format!("ADC 1 FL N={b} F=b"));
    ca.expect_prefix("ADC 1 FL ");
    cb.expect_prefix("ADC 0 RL ");
    ca.send("CHG 2 NLN 0");
    ca.expect("CHG 2 NLN 0");
    cb.send("CHG 3 HDN 0");
    cb.expect("CHG 3 HDN 0");
    cb.send_payload("UUX 4", PSM);
    cb.expect("UUX 4 0");
    assert!(ca.fence().is_empty(), "nothing while hidden");
    cb.send("CHG 5 NLN 0");
    cb.expect("CHG 5 NLN 0");
    ca.expect(&format!("NLN NLN {b} {b} 0"));
    expect_ubx(&mut ca, b, PSM);
    // A later status change does not repeat it.
    cb.send("CHG 6 BSY 0");
    cb.expect("CHG 6 BSY 0");
    ca.expect(&format!("NLN BSY {b} {b} 0"));
    assert!(ca.fence().is_empty());
    // Going offline and back shows it again.
    cb.send("CHG 7 HDN 0");
    cb.expect("CHG 7 HDN 0");
    ca.expect(&format!("FLN {b}"));
    cb.send("CHG 8 NLN 0");
    cb.expect("CHG 8 NLN 0");
    ca.expect(&format!("NLN NLN {b} {b} 0"));
    expect_ubx(&mut ca, b, PSM);
    assert!(server.stop().success());
}

/// With challenges on, the server challenges after login and checks the answer
/// with the dialect's algorithm: MD5(challenge + key) up to MSNP10, the MSNP11
/// algorithm from MSNP11 (an MD5-style answer there is refused with 540).
#[test]
fn challenge_algorithm_follows_the_dialect() {
    use msnpd::core::challenge::{md5_response, msnp11_response};
    let server = Server::start(&["protocol.challenges=true"]);
    server.add_user("chl@example.com", "pw");
    let answer_with = |v: u8, product: &str, answer: &dyn Fn(&str) -> String| {
        let mut c = server.login_as("chl@example.com", v);
        let chl = c.expect_prefix("CHL 0 ");
        let challenge = chl.rsplit(' ').next().unwrap().to_owned();
        c.send_payload(&format!("QRY 5 {product}"), answer(&challenge).as_bytes());
        c
    };
    for v in [9, 10] {
        let mut c = answer_with(v, "msmsgs@msnmsgr.com", &|ch| {
            md5_response(ch, "Q1P7W2E4J9R8U3S5")
        });
        c.expect("QRY 5");
    }
    for v in [11, 12] {
        let mut c = answer_with(v, "PROD0090YUAUV{2B", &|ch| {
            msnp11_response(ch, "PROD0090YUAUV{2B", "YMM8C_H7KCQ2S_KL")
        });
        c.expect("QRY 5");
        let mut c = answer_with(v, "PROD0090YUAUV{2B", &|ch| {
            md5_response(ch, "YMM8C_H7KCQ2S_KL")
        });
        c.expect("540 5");
        c.expect_closed();
    }
    assert!(server.stop().success());
}
