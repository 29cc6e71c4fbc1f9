//! Framing and robustness over raw sockets: over-long lines, over-large and
//! malformed payload lengths, invalid UTF-8, one byte per segment, pipelined
//! commands, bare LF and empty lines, and connections dropped mid-frame. After
//! each abuse the same server process still serves a fresh login.

mod common;

use common::{Client, Server};

const CVR: &str = "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 5.0.0540 MSMSGS alice@example.com";

/// The server still logs users in and answers them.
fn assert_serving(server: &Server) {
    let mut c = server.login8("alice@example.com");
    c.send("CHG 9 NLN 0");
    c.expect("CHG 9 NLN 0");
    assert!(c.fence().is_empty());
}

fn server() -> Server {
    let server = Server::start(&[]);
    server.add_user("alice@example.com", "pw");
    server.add_user("bob@example.com", "pw");
    server
}

/// Alice and Bob in one switchboard room: `(alice_sb, bob_sb, notification
/// connections)`; the last must stay alive while the room is used.
fn room(server: &Server) -> (Client, Client, [Client; 2]) {
    let mut alice = server.online("alice@example.com");
    let mut bob = server.online("bob@example.com");
    for c in [&mut alice, &mut bob] {
        c.send("CHG 6 NLN 0");
        c.expect("CHG 6 NLN 0");
    }
    alice.send("XFR 7 SB");
    let xfr = alice.expect_prefix("XFR 7 SB ");
    let parts: Vec<&str> = xfr.split(' ').collect();
    let mut a = Client::connect(parts[3]);
    a.send(&format!("USR 1 alice@example.com {}", parts[5]));
    a.expect_prefix("USR 1 OK ");
    a.send("CAL 2 bob@example.com");
    let ringing = a.expect_prefix("CAL 2 RINGING ");
    let session = ringing.rsplit(' ').next().unwrap().to_string();
    let rng = bob.expect_prefix("RNG ");
    let cookie = rng.split(' ').nth(4).unwrap().to_string();
    let mut b = Client::connect(parts[3]);
    b.send(&format!("ANS 1 bob@example.com {cookie} {session}"));
    b.expect_prefix("IRO 1 ");
    b.expect("ANS 1 OK");
    a.expect_prefix("JOI bob@example.com ");
    (a, b, [alice, bob])
}

#[test]
fn long_lines_close_the_connection() {
    let server = server();
    let max = 2048;

    // A line of exactly the limit (CRLF included) is read and answered.
    let mut c = server.connect("ns");
    let head = "FOO 5 ";
    c.send(&format!("{head}{}", "x".repeat(max - head.len() - 2)));
    c.expect("200 5");
    // One byte more is too long: the server hangs up without an answer.
    c.send(&format!("{head}{}", "x".repeat(max - head.len() - 1)));
    c.expect_closed();
    assert_serving(&server);

    // A long line without any terminator, before and after login.
    let mut c = server.connect("ns");
    c.send_raw(&vec![b'A'; 3 * max]);
    c.expect_closed();
    let mut c = server.login8("alice@example.com");
    c.send_raw(format!("CHG 5 NLN 0 {}", "9".repeat(max)).as_bytes());
    c.expect_closed();
    assert_serving(&server);

    // Same on the switchboard.
    let (mut a, mut b, _ns) = room(&server);
    a.send_raw(&vec![b'M'; max + 1]);
    a.expect_closed();
    b.expect("BYE alice@example.com");
    assert_serving(&server);
}

#[test]
fn payload_lengths() {
    let server = server();

    // MSG over the 1664-byte bound: 201 and close, before any payload is read.
    let (mut a, mut b, _ns) = room(&server);
    a.send("MSG 5 A 1665");
    a.expect("201 5");
    a.expect_closed();
    b.expect("BYE alice@example.com");
    // A length that is not a number: 200 and close.
    b.send("MSG 6 A twelve");
    b.expect("200 6");
    b.expect_closed();
    assert_serving(&server);

    // The same bound applies before login, and to other payload verbs.
    let mut c = server.connect("ns");
    c.send("MSG 7 N 99999999999999999999999");
    c.expect("201 7");
    c.expect_closed();
    let mut c = server.login8("alice@example.com");
    c.send("QRY 8 msmsgs@msnmsgr.com 8193");
    c.expect("201 8");
    c.expect_closed();
    let mut c = server.connect("ns");
    c.send("QRY 9 msmsgs@msnmsgr.com -1");
    c.expect("200 9");
    c.expect_closed();
    assert_serving(&server);

    // A payload cut short by the client closing: nothing breaks.
    let (mut a, mut b, _ns) = room(&server);
    a.send_raw(b"MSG 10 A 100\r\nonly part of it");
    drop(a);
    b.expect("BYE alice@example.com");
    let fenced = {
        b.send("CAL 11 bob@example.com");
        b.line()
    };
    assert_eq!(fenced, "215 11");
    assert_serving(&server);
}

#[test]
fn invalid_utf8_is_a_syntax_error() {
    let server = server();
    let mut c = server.connect("ns");
    c.send_raw(b"VER 1 MSNP8 \xff\xfe CVR0\r\n");
    c.expect("200 1");
    c.expect_closed();
    let mut c = server.login8("alice@example.com");
    c.send_raw(b"REA 12 alice@example.com \xc3\x28\r\n");
    c.expect("200 12");
    c.expect_closed();
    // Without a readable TrID there is nothing to answer: just the close.
    let mut c = server.connect("ns");
    c.send_raw(b"\xff\xff\xff\r\n");
    c.expect_closed();
    assert_serving(&server);

    // A payload verb the role does not take is refused after its payload is
    // read, so the stream stays in step.
    let mut c = server.login8("alice@example.com");
    c.send_payload("MSG 14 N", b"MIME-Version: 1.0\r\n\r\nCHG 15 NLN 0\r\n");
    c.expect("200 14");
    assert!(c.fence().is_empty());

    // Payload bytes are not text: binary MSG payloads pass untouched.
    let (mut a, mut b, _ns) = room(&server);
    let binary: Vec<u8> = (0..=255u8).collect();
    a.send_payload("MSG 13 A", &binary);
    a.expect("ACK 13");
    let (_, got) = b.read_payload_line();
    assert_eq!(got, binary);
}

#[test]
fn byte_at_a_time_and_pipelined_sessions() {
    let server = server();
    let ticket = server.ticket("alice@example.com");

    // Every byte in its own segment.
    let mut c = server.connect("ns");
    c.send_bytewise(b"VER 1 MSNP8 CVR0\r\n");
    c.expect("VER 1 MSNP8");
    c.send_bytewise(format!("{CVR}\r\n").as_bytes());
    c.expect_prefix("CVR 2 ");
    c.send_bytewise(b"USR 3 TWN I alice@example.com\r\n");
    c.expect_prefix("USR 3 TWN S ");
    c.send_bytewise(format!("USR 4 TWN S {ticket}\r\n").as_bytes());
    c.expect_prefix("USR 4 OK alice@example.com ");
    c.read_payload_line();
    c.send_bytewise(b"SYN 5 0\r\n");
    c.expect_prefix("SYN 5 ");
    c.line();
    c.line();
    c.line();
    c.send_bytewise(b"CHG 6 NLN 0\r\nPNG\r\n");
    c.expect("CHG 6 NLN 0");
    c.expect("QNG");
    drop(c);

    // Everything in one write, answered in order.
    let ticket = server.ticket("alice@example.com");
    let mut c = server.connect("ns");
    c.send_raw(
        format!(
            "VER 1 MSNP8 CVR0\r\n{CVR}\r\nUSR 3 TWN I alice@example.com\r\n\
             USR 4 TWN S {ticket}\r\nCHG 5 BSY 0\r\nPNG\r\n"
        )
        .as_bytes(),
    );
    c.expect("VER 1 MSNP8");
    c.expect_prefix("CVR 2 ");
    c.expect_prefix("USR 3 TWN S ");
    c.expect_prefix("USR 4 OK alice@example.com ");
    c.read_payload_line();
    c.expect("CHG 5 BSY 0");
    c.expect("QNG");

    // Bare LF line ends and empty lines are accepted.
    c.send_raw(b"\r\n\nCHG 7 NLN 0\n\n\r\nPNG\n");
    c.expect("CHG 7 NLN 0");
    c.expect("QNG");
    drop(c);

    // A switchboard message split byte by byte, and two glued together.
    let (mut a, mut b, _ns) = room(&server);
    let msg = b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nslow";
    let mut bytes = format!("MSG 3 A {}\r\n", msg.len()).into_bytes();
    bytes.extend_from_slice(msg);
    a.send_bytewise(&bytes);
    a.expect("ACK 3");
    let (_, got) = b.read_payload_line();
    assert_eq!(got, msg);
    let mut two = bytes.clone();
    two.extend_from_slice(&bytes);
    a.send_raw(&two);
    a.expect("ACK 3");
    a.expect("ACK 3");
    b.read_payload_line();
    b.read_payload_line();
    assert_serving(&server);
}

#[test]
fn abrupt_disconnects() {
    let server = server();
    // Connections that vanish at every stage of a login.
    for stage in 0..4 {
        let mut c = server.connect("ns");
        let lines = [
            "VER 1 MSNP8 CVR0".to_string(),
            CVR.to_string(),
            "USR 3 TWN I alice@example.com".to_string(),
        ];
        for line in lines.iter().take(stage) {
            c.send(line);
            c.line();
        }
        c.send_raw(b"SYN 9");
        drop(c);
    }
    // Connections that never send anything.
    for _ in 0..5 {
        drop(server.connect("ns"));
        drop(server.connect("sb"));
    }
    assert_serving(&server);
}

#[test]
fn slow_readers_are_disconnected_without_disturbing_others() {
    // The default queues: large enough that the socket fills before they do.
    // Bob sends far faster than the command rate allows a client.
    let server = Server::start(&[
        "limits.outbox_lines=1024",
        "limits.commands_per_sec=1000000",
        "limits.command_burst=1000000",
    ]);
    server.add_user("alice@example.com", "pw");
    server.add_user("bob@example.com", "pw");
    // Alice never reads her switchboard connection; Bob keeps writing to her.
    let (alice_sb, mut bob_sb, _ns) = room(&server);
    let payload = vec![b'z'; 1664];
    let (mut nak, mut bye) = (false, false);
    for _ in 0..200 {
        let mut burst = Vec::new();
        for i in 0..200u32 {
            burst.extend_from_slice(format!("MSG {} N {}\r\n", 1000 + i, payload.len()).as_bytes());
            burst.extend_from_slice(&payload);
        }
        bob_sb.send_raw(&burst);
        bob_sb.send("CAL 999 bob@example.com");
        loop {
            match bob_sb.line().as_str() {
                "215 999" => break,
                "BYE alice@example.com" => bye = true,
                line => {
                    assert!(line.starts_with("NAK "), "{line}");
                    nak = true;
                }
            }
        }
        if nak {
            break;
        }
    }
    // Once Alice's queue is full her messages are refused, and she is
    // disconnected at once, without waiting for her socket to drain.
    assert!(nak, "Alice's queue never filled");
    if !bye {
        bob_sb.expect("BYE alice@example.com");
    }
    // Bob goes on undisturbed, alone in the room.
    bob_sb.send_payload("MSG 5 A", b"still there?");
    bob_sb.expect("NAK 5");
    bob_sb.send("CAL 6 bob@example.com");
    bob_sb.expect("215 6");
    drop(alice_sb);
    assert_serving(&server);
}
