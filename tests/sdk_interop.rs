//! Interop with an independent MSNP11 client library, the `msnp11-sdk` crate
//! (<https://github.com/campos02/msnp11-sdk>), against the real binary: SDK
//! clients sign in through our Passport 1.4 nexus and login endpoint, download
//! their lists, see each other's presence and personal messages, edit their lists
//! (by account name, by contact GUID, into groups) and chat in a switchboard; and
//! an SDK client chats with a raw MSNP8 client.
//!
//! The SDK answers no `CHL` (challenges are off by default) and reads at most one
//! 1664-byte chunk per line batch, so the lists here stay small.

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use common::{Client as Raw, Server};
use msnp11_sdk::{Client, Event, MsnpList, MsnpStatus, PersonalMessage, PlainText, Switchboard};
use tokio::sync::mpsc;
use tokio::task::block_in_place;
use tokio::time::timeout;

/// How long one SDK step (a command and its answer, or an awaited event) may take.
const STEP: Duration = Duration::from_secs(20);

/// The capability id the SDK announces in `CHG` (`Presence::new_without_object`).
const SDK_CAPABILITIES: u64 = 0x4000_0000;

/// An SDK client with its events collected in order.
struct Sdk {
    client: Client,
    events: mpsc::UnboundedReceiver<Event>,
}

/// Runs one SDK call with a deadline; the SDK waits forever for answers it does
/// not recognise, so a hang is a failure here, not a stuck test.
async fn step<T>(what: &str, fut: impl Future<Output = T>) -> T {
    timeout(STEP, fut)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {STEP:?}"))
}

/// A handler that forwards every event into a channel, and that channel.
fn sink() -> (
    impl Fn(Event) -> std::future::Ready<()> + Send + 'static,
    mpsc::UnboundedReceiver<Event>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let handler = move |event| {
        let _ = tx.send(event);
        std::future::ready(())
    };
    (handler, rx)
}

/// Waits for the first event `pick` accepts, skipping the others (kept for the
/// failure message).
async fn wait_for<T>(
    events: &mut mpsc::UnboundedReceiver<Event>,
    what: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let mut skipped = Vec::new();
    let found = timeout(STEP, async {
        while let Some(event) = events.recv().await {
            if let Some(found) = pick(&event) {
                return Some(found);
            }
            skipped.push(format!("{event:?}"));
        }
        None
    })
    .await;
    match found {
        Ok(Some(found)) => found,
        Ok(None) => panic!("{what}: event stream ended; saw {skipped:#?}"),
        Err(_) => panic!("{what}: not seen within {STEP:?}; saw {skipped:#?}"),
    }
}

fn host_port(addr: &str) -> (String, u16) {
    let (host, port) = addr.rsplit_once(':').unwrap();
    (host.to_owned(), port.parse().unwrap())
}

/// Connects an SDK client to our notification server and signs it in through
/// our nexus (`http://.../rdr/pprdr.asp`), exactly as an application would.
async fn sdk_login(server: &Server, email: &str, password: &str) -> Sdk {
    let (host, port) = host_port(server.addr("ns"));
    let client = step("connect", Client::new(&host, port))
        .await
        .expect("connect to the notification server");
    let (handler, events) = sink();
    client.add_event_handler_closure(handler);
    let nexus = format!("http://{}/rdr/pprdr.asp", server.addr("http"));
    let result = step(
        "login",
        client.login(email.to_owned(), password, &nexus, "msnpd-interop", "1.0"),
    )
    .await
    .expect("SDK login");
    assert!(matches!(result, Event::Authenticated), "{result:?}");
    Sdk { client, events }
}

fn text(message: &str) -> PlainText {
    PlainText {
        bold: false,
        italic: false,
        underline: false,
        strikethrough: false,
        color: "0".into(),
        text: message.into(),
    }
}

fn psm(text: &str) -> PersonalMessage {
    PersonalMessage {
        psm: text.into(),
        current_media: String::new(),
    }
}

/// Waits for a switchboard the SDK answered after a `RNG`.
async fn answered(sdk: &mut Sdk) -> Arc<Switchboard> {
    wait_for(&mut sdk.events, "SessionAnswered", |e| match e {
        Event::SessionAnswered(sb) => Some(Arc::clone(sb)),
        _ => None,
    })
    .await
}

/// Waits for a text message from `from` in a switchboard's events.
async fn text_from(events: &mut mpsc::UnboundedReceiver<Event>, from: &str) -> String {
    wait_for(events, "TextMessage", |e| match e {
        Event::TextMessage { email, message } if email == from => Some(message.text.clone()),
        _ => None,
    })
    .await
}

/// Creates a group for `email` over raw MSNP12 and logs out, so the SDK learns
/// the group's GUID from its own `SYN` (as a real client would).
fn create_group_raw(server: &Server, email: &str, name: &str) {
    let mut raw = server.login_as(email, 12);
    raw.send(&format!("ADG 7 {name}"));
    raw.expect_prefix("ADG 7 ");
    raw.send("OUT");
    raw.expect_closed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sdk_clients_see_each_other_edit_lists_and_chat() {
    let server = block_in_place(|| Server::start(&[]));
    for (user, pw) in [
        ("alice@example.com", "alice-pw"),
        ("bob@example.com", "bob-pw"),
        ("carol@example.com", "carol-pw"),
    ] {
        block_in_place(|| server.add_user(user, pw));
    }
    block_in_place(|| create_group_raw(&server, "alice@example.com", "Friends"));

    // Sign-in: the list download tells the SDK its settings, its own friendly
    // name (PRP MFN) and its group with the GUID it uses later.
    let mut alice = sdk_login(&server, "alice@example.com", "alice-pw").await;
    let name = wait_for(&mut alice.events, "DisplayName", |e| match e {
        Event::DisplayName(name) => Some(name.clone()),
        _ => None,
    })
    .await;
    assert_eq!(name, "alice@example.com");
    let friends = wait_for(&mut alice.events, "Group", |e| match e {
        Event::Group { name, guid } if name == "Friends" => Some(guid.clone()),
        _ => None,
    })
    .await;
    let mut bob = sdk_login(&server, "bob@example.com", "bob-pw").await;

    // Alice adds Bob (ADC FL N=...): she gets his contact GUID, he is told.
    let added = step(
        "add bob",
        alice
            .client
            .add_contact("bob@example.com", "Bob", MsnpList::ForwardList),
    )
    .await
    .expect("ADC FL");
    let Event::ContactInForwardList {
        email,
        guid: bob_guid,
        ..
    } = added
    else {
        panic!("{added:?}");
    };
    assert_eq!(email, "bob@example.com");
    assert_eq!(bob_guid.len(), 36, "{bob_guid}");
    wait_for(&mut bob.events, "AddedBy alice", |e| match e {
        Event::AddedBy { email, .. } if email == "alice@example.com" => Some(()),
        _ => None,
    })
    .await;
    step(
        "allow bob",
        alice
            .client
            .add_contact("bob@example.com", "Bob", MsnpList::AllowList),
    )
    .await
    .expect("ADC AL");
    step(
        "add alice",
        bob.client
            .add_contact("alice@example.com", "Alice", MsnpList::ForwardList),
    )
    .await
    .expect("ADC FL");
    wait_for(&mut alice.events, "AddedBy bob", |e| match e {
        Event::AddedBy { email, .. } if email == "bob@example.com" => Some(()),
        _ => None,
    })
    .await;

    // Groups by GUID: Bob into Friends and out again.
    step(
        "group add",
        alice.client.add_contact_to_group(&bob_guid, &friends),
    )
    .await
    .expect("ADC FL C= group");
    step(
        "group remove",
        alice.client.remove_contact_from_group(&bob_guid, &friends),
    )
    .await
    .expect("REM FL guid group");

    // Presence: Bob first; Alice's first CHG brings his ILN, he sees her NLN.
    step("bob online", bob.client.set_presence(MsnpStatus::Online))
        .await
        .expect("CHG");
    step("alice busy", alice.client.set_presence(MsnpStatus::Busy))
        .await
        .expect("CHG");
    let (status, caps) = wait_for(&mut alice.events, "ILN bob", |e| match e {
        Event::InitialPresenceUpdate {
            email, presence, ..
        } if email == "bob@example.com" => Some((presence.status.clone(), presence.client_id)),
        _ => None,
    })
    .await;
    assert!(matches!(status, MsnpStatus::Online), "{status:?}");
    assert_eq!(caps, SDK_CAPABILITIES);
    let status = wait_for(&mut bob.events, "NLN alice", |e| match e {
        Event::PresenceUpdate {
            email, presence, ..
        } if email == "alice@example.com" => Some(presence.status.clone()),
        _ => None,
    })
    .await;
    assert!(matches!(status, MsnpStatus::Busy), "{status:?}");

    // Personal messages: UUX → UBX to the watcher, both ways.
    step(
        "alice psm",
        alice.client.set_personal_message(&psm("hello from alice")),
    )
    .await
    .expect("UUX");
    let got = wait_for(&mut bob.events, "UBX alice", |e| match e {
        Event::PersonalMessageUpdate {
            email,
            personal_message,
        } if email == "alice@example.com" => Some(personal_message.psm.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, "hello from alice");
    step("bob psm", bob.client.set_personal_message(&psm("bob here")))
        .await
        .expect("UUX");
    let got = wait_for(&mut alice.events, "UBX bob", |e| match e {
        Event::PersonalMessageUpdate {
            email,
            personal_message,
        } if email == "bob@example.com" => Some(personal_message.psm.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, "bob here");

    // A newcomer's first CHG brings Alice's ILN followed by her personal message.
    let mut carol = sdk_login(&server, "carol@example.com", "carol-pw").await;
    step(
        "carol adds alice",
        carol
            .client
            .add_contact("alice@example.com", "Alice", MsnpList::ForwardList),
    )
    .await
    .expect("ADC FL");
    step(
        "carol online",
        carol.client.set_presence(MsnpStatus::Online),
    )
    .await
    .expect("CHG");
    wait_for(&mut carol.events, "ILN alice", |e| match e {
        Event::InitialPresenceUpdate { email, .. } if email == "alice@example.com" => Some(()),
        _ => None,
    })
    .await;
    let got = wait_for(&mut carol.events, "UBX alice after ILN", |e| match e {
        Event::PersonalMessageUpdate {
            email,
            personal_message,
        } if email == "alice@example.com" => Some(personal_message.psm.clone()),
        _ => None,
    })
    .await;
    assert_eq!(got, "hello from alice");
    step("carol out", carol.client.disconnect())
        .await
        .expect("OUT");

    // Friendly name (PRP MFN): watchers see the new name.
    step("rename", alice.client.set_display_name("Alice"))
        .await
        .expect("PRP MFN");
    let shown = wait_for(&mut bob.events, "NLN with new name", |e| match e {
        Event::PresenceUpdate {
            email,
            display_name,
            ..
        } if email == "alice@example.com" => Some(display_name.clone()),
        _ => None,
    })
    .await;
    assert_eq!(shown, "Alice");

    // Switchboard: Alice opens a session with Bob; they exchange text both ways.
    let alice_sb = step(
        "create session",
        alice.client.create_session("bob@example.com"),
    )
    .await
    .expect("XFR SB / USR / CAL");
    let (handler, mut alice_sb_events) = sink();
    alice_sb.add_event_handler_closure(handler);
    let bob_sb = answered(&mut bob).await;
    let (handler, mut bob_sb_events) = sink();
    bob_sb.add_event_handler_closure(handler);
    wait_for(&mut alice_sb_events, "JOI bob", |e| match e {
        Event::ParticipantInSwitchboard { email } if email == "bob@example.com" => Some(()),
        _ => None,
    })
    .await;
    step("alice says", alice_sb.send_text_message(&text("hi bob")))
        .await
        .expect("MSG A acknowledged");
    assert_eq!(
        text_from(&mut bob_sb_events, "alice@example.com").await,
        "hi bob"
    );
    step("bob says", bob_sb.send_text_message(&text("hi alice")))
        .await
        .expect("MSG A acknowledged");
    assert_eq!(
        text_from(&mut alice_sb_events, "bob@example.com").await,
        "hi alice"
    );
    step("bob leaves", bob_sb.disconnect()).await.expect("OUT");
    wait_for(&mut alice_sb_events, "BYE bob", |e| match e {
        Event::ParticipantLeftSwitchboard { email } if email == "bob@example.com" => Some(()),
        _ => None,
    })
    .await;
    step("alice leaves", alice_sb.disconnect())
        .await
        .expect("OUT");

    // Removing by contact GUID: Bob is told he left Alice's list.
    step(
        "remove bob",
        alice.client.remove_contact_from_forward_list(&bob_guid),
    )
    .await
    .expect("REM FL guid");
    let who = wait_for(&mut bob.events, "RemovedBy", |e| match e {
        Event::RemovedBy(email) => Some(email.clone()),
        _ => None,
    })
    .await;
    assert_eq!(who, "alice@example.com");
    step(
        "unallow bob",
        alice
            .client
            .remove_contact("bob@example.com", MsnpList::AllowList),
    )
    .await
    .expect("REM AL");

    // Logging out: the watcher sees FLN.
    step("alice out", alice.client.disconnect())
        .await
        .expect("OUT");
    wait_for(&mut bob.events, "FLN alice", |e| match e {
        Event::ContactOffline { email } if email == "alice@example.com" => Some(()),
        _ => None,
    })
    .await;
    step("bob out", bob.client.disconnect()).await.expect("OUT");
    assert!(block_in_place(|| server.stop()).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sdk_client_chats_with_a_raw_msnp8_client() {
    let server = block_in_place(|| Server::start(&[]));
    block_in_place(|| {
        server.add_user("alice@example.com", "alice-pw");
        server.add_user("dave@example.com", "dave-pw");
    });
    let mut alice = sdk_login(&server, "alice@example.com", "alice-pw").await;
    let mut dave: Raw = block_in_place(|| {
        let mut dave = server.login8("dave@example.com");
        dave.send("SYN 5 0");
        dave.expect_prefix("SYN 5 ");
        dave.fence();
        dave.send("ADD 6 FL alice@example.com alice@example.com 0");
        dave.expect_prefix("ADD 6 FL ");
        dave
    });
    wait_for(&mut alice.events, "AddedBy dave", |e| match e {
        Event::AddedBy { email, .. } if email == "dave@example.com" => Some(()),
        _ => None,
    })
    .await;
    step(
        "add dave",
        alice
            .client
            .add_contact("dave@example.com", "Dave", MsnpList::ForwardList),
    )
    .await
    .expect("ADC FL");
    block_in_place(|| dave.expect_prefix("ADD 0 RL "));

    // A display picture gives Alice an MSN object; MSNP8 cannot carry one (nor a
    // personal message), so Dave gets neither.
    step(
        "picture",
        alice
            .client
            .set_display_picture(b"not really a png".to_vec()),
    )
    .await
    .expect("msn object");
    block_in_place(|| {
        dave.send("CHG 7 NLN 268435456");
        dave.expect("CHG 7 NLN 268435456");
    });
    step(
        "alice online",
        alice.client.set_presence(MsnpStatus::Online),
    )
    .await
    .expect("CHG with msn object");
    let caps = wait_for(&mut alice.events, "ILN dave", |e| match e {
        Event::InitialPresenceUpdate {
            email, presence, ..
        } if email == "dave@example.com" => Some(presence.client_id),
        _ => None,
    })
    .await;
    assert_eq!(caps, 268_435_456);
    step("psm", alice.client.set_personal_message(&psm("on msnp11")))
        .await
        .expect("UUX");
    let seen = block_in_place(|| {
        let nln = dave.line();
        (nln, dave.fence())
    });
    assert_eq!(
        seen.0,
        format!("NLN NLN alice@example.com alice@example.com {SDK_CAPABILITIES}")
    );
    assert!(seen.1.is_empty(), "nothing else for MSNP8: {:?}", seen.1);

    // Alice (MSNP11) opens a switchboard with Dave (MSNP8).
    let alice_sb = step(
        "create session",
        alice.client.create_session("dave@example.com"),
    )
    .await
    .expect("XFR SB / USR / CAL");
    let (handler, mut alice_sb_events) = sink();
    alice_sb.add_event_handler_closure(handler);
    let mut dave_sb = block_in_place(|| {
        let rng = dave.expect_prefix("RNG ");
        let parts: Vec<&str> = rng.split(' ').collect();
        assert_eq!(&parts[5..], ["alice@example.com", "alice@example.com"]);
        let mut sb = Raw::connect(parts[2]);
        sb.send(&format!("ANS 1 dave@example.com {} {}", parts[4], parts[1]));
        sb.expect("IRO 1 1 1 alice@example.com alice@example.com");
        sb.expect("ANS 1 OK");
        sb
    });
    wait_for(&mut alice_sb_events, "JOI dave", |e| match e {
        Event::ParticipantInSwitchboard { email } if email == "dave@example.com" => Some(()),
        _ => None,
    })
    .await;
    step(
        "alice says",
        alice_sb.send_text_message(&text("hello msnp8")),
    )
    .await
    .expect("ACK");
    let (head, payload) = block_in_place(|| dave_sb.read_payload_line());
    assert!(
        head.starts_with("MSG alice@example.com alice@example.com "),
        "{head}"
    );
    let payload = String::from_utf8(payload).unwrap();
    assert!(payload.contains("Content-Type: text/plain"), "{payload}");
    assert!(payload.ends_with("\r\n\r\nhello msnp8"), "{payload}");
    block_in_place(|| {
        dave_sb.send_payload(
            "MSG 2 A",
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\nhello msnp11",
        );
        dave_sb.expect("ACK 2");
    });
    assert_eq!(
        text_from(&mut alice_sb_events, "dave@example.com").await,
        "hello msnp11"
    );
    block_in_place(|| {
        dave_sb.send("OUT");
        dave_sb.expect_closed();
    });
    wait_for(&mut alice_sb_events, "BYE dave", |e| match e {
        Event::ParticipantLeftSwitchboard { email } if email == "dave@example.com" => Some(()),
        _ => None,
    })
    .await;
    step("alice out", alice.client.disconnect())
        .await
        .expect("OUT");
    block_in_place(|| {
        dave.expect("FLN alice@example.com");
        assert!(dave.fence().is_empty());
    });
    assert!(block_in_place(|| server.stop()).success());
}
