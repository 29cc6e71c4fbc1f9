//! `CHL`/`QRY` over raw sockets with `protocol.challenges` on: the challenge
//! after login, a correct MSNP8 answer (`md5(challenge + product key)`, computed
//! here independently of the server's code), a wrong one (`540` and close),
//! and no challenge at all with the default configuration.

mod common;

use common::{Client, Server};
use md5::{Digest, Md5};

/// The MSNP6–10 answer.
fn answer(challenge: &str, key: &str) -> String {
    hex::encode(Md5::digest(format!("{challenge}{key}").as_bytes()))
}

/// Logs in and reads the challenge that follows the profile message.
fn challenged(server: &Server, email: &str) -> (Client, String) {
    let mut c = server.login8(email);
    let chl = c.expect_prefix("CHL 0 ");
    let challenge = chl.trim_start_matches("CHL 0 ").to_string();
    assert!(
        !challenge.is_empty() && challenge.bytes().all(|b| b.is_ascii_digit()),
        "{chl}"
    );
    (c, challenge)
}

#[test]
fn published_vector() {
    // research/msnp.md §2.8: the example from a C# client and twisted's tests.
    assert_eq!(
        answer("15570131571988941333", "Q1P7W2E4J9R8U3S5"),
        "8f2f5a91b72102cd28355e9fc9000d6e"
    );
}

#[test]
fn challenge_answers() {
    let server = Server::start(&["protocol.challenges=true"]);
    server.add_user("alice@example.com", "pw");

    // Right answer: QRY echoed, and the session goes on.
    let (mut c, challenge) = challenged(&server, "alice@example.com");
    let response = answer(&challenge, "Q1P7W2E4J9R8U3S5");
    c.send_payload("QRY 10 msmsgs@msnmsgr.com", response.as_bytes());
    c.expect("QRY 10");
    // A QRY nobody asked for.
    c.send_payload("QRY 11 msmsgs@msnmsgr.com", response.as_bytes());
    c.expect("715 11");
    c.send("CHG 12 NLN 0");
    c.expect("CHG 12 NLN 0");
    assert!(c.fence().is_empty());

    // Another MSNP8-era product id with its own key.
    let (mut c, challenge) = challenged(&server, "alice@example.com");
    let response = answer(&challenge, "VT6PX?UQTM4WM%YR");
    c.send_payload("QRY 10 PROD0038W!61ZTF9", response.as_bytes());
    c.expect("QRY 10");
    assert!(c.fence().is_empty());

    // Wrong answer: 540, then the server hangs up.
    let (mut c, challenge) = challenged(&server, "alice@example.com");
    let wrong = answer(&challenge, "not-the-key-1234");
    c.send_payload("QRY 13 msmsgs@msnmsgr.com", wrong.as_bytes());
    c.expect("540 13");
    c.expect_closed();

    // The right key under an unknown product id is wrong too.
    let (mut c, challenge) = challenged(&server, "alice@example.com");
    let response = answer(&challenge, "Q1P7W2E4J9R8U3S5");
    c.send_payload("QRY 14 nobody@example.com", response.as_bytes());
    c.expect("540 14");
    c.expect_closed();

    // The answer to an earlier challenge does not fit a new one.
    let (mut first, old) = challenged(&server, "alice@example.com");
    let (mut c, _) = challenged(&server, "alice@example.com");
    first.expect("OUT OTH");
    c.send_payload(
        "QRY 15 msmsgs@msnmsgr.com",
        answer(&old, "Q1P7W2E4J9R8U3S5").as_bytes(),
    );
    c.expect("540 15");
    c.expect_closed();
}

#[test]
fn no_challenge_by_default() {
    let server = Server::start(&[]);
    server.add_user("alice@example.com", "pw");
    let mut c = server.login8("alice@example.com");
    assert!(c.fence().is_empty());
    c.send_payload("QRY 10 msmsgs@msnmsgr.com", &[b'0'; 32]);
    c.expect("715 10");
}
