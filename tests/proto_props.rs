//! Property tests for the codec (proptest): `parse ∘ encode` round trips for every
//! client command in every dialect, framing of any frame sequence split anywhere,
//! server lines that share a client verb's shape parsing back as that command, and
//! the fuzz harnesses on random input (so `cargo test` exercises them too).

use std::collections::BTreeSet;

use bytes::{Bytes, BytesMut};
use proptest::collection::vec;
use proptest::prelude::*;

use msnpd::core::lists::{List, NewContactPrompt, Privacy};
use msnpd::core::presence::Status;
use msnpd::proto::command::{AckMode, ContactRef, PhoneKind, UsrArgs, XfrTarget};
use msnpd::proto::fuzzing::{self, End, check_parse, check_roundtrip, decode_pieces};
use msnpd::proto::{Command, Dialect, Frame, FrameLimits, ParseError, Reply, guid};

/// One argument token as the tokenizer sees it: no space, no control character.
fn token() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9@._=%{}!*$&-]{1,16}", "[^ \\p{Cc}]{1,8}",]
}

/// An email-like raw token.
fn email() -> impl Strategy<Value = String> {
    prop_oneof!["[a-z0-9.]{1,10}@[a-z]{1,8}\\.com", token()]
}

/// Text the wire URL-encodes (nicknames, group names, phone numbers): anything,
/// control characters, spaces and `%` included.
fn text(min: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        vec(any::<char>(), min..12).prop_map(String::from_iter),
        vec(
            prop::sample::select(vec![' ', '%', 'a', '2', '0', 'é', '\r', '\t']),
            min..12
        )
        .prop_map(String::from_iter),
    ]
}

fn payload() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..300).prop_map(Bytes::from)
}

fn list() -> impl Strategy<Value = List> {
    prop::sample::select(vec![List::Forward, List::Allow, List::Block, List::Reverse])
}

fn chg_status() -> impl Strategy<Value = Status> {
    prop::sample::select(vec![
        Status::Online,
        Status::Busy,
        Status::Idle,
        Status::BeRightBack,
        Status::Away,
        Status::OnPhone,
        Status::OutToLunch,
        Status::Hidden,
    ])
}

fn phone_kind() -> impl Strategy<Value = PhoneKind> {
    prop::sample::select(vec![
        PhoneKind::Home,
        PhoneKind::Work,
        PhoneKind::Mobile,
        PhoneKind::MobileAllowed,
    ])
}

fn privacy() -> impl Strategy<Value = Privacy> {
    prop::sample::select(vec![Privacy::AllowAll, Privacy::BlockAll])
}

fn prompt() -> impl Strategy<Value = NewContactPrompt> {
    prop::sample::select(vec![NewContactPrompt::Ask, NewContactPrompt::Never])
}

/// An MSN object token (`0` means "none" on the wire, so it is never one).
fn msn_object() -> impl Strategy<Value = String> {
    token().prop_filter("0 means no object", |t| t != "0")
}

fn usr_args() -> impl Strategy<Value = UsrArgs> {
    prop_oneof![
        email().prop_map(|email| UsrArgs::TwnInitial { email }),
        token().prop_map(|ticket| UsrArgs::TwnSubsequent { ticket }),
        email().prop_map(|email| UsrArgs::Md5Initial { email }),
        token().prop_map(|hash| UsrArgs::Md5Subsequent { hash }),
        (email(), token()).prop_map(|(email, cookie)| UsrArgs::Switchboard { email, cookie }),
    ]
}

fn ack_mode() -> impl Strategy<Value = AckMode> {
    prop::sample::select(vec![
        AckMode::Unacknowledged,
        AckMode::NakOnly,
        AckMode::Acknowledged,
        AckMode::Data,
    ])
}

/// Any client command that has a wire form.
fn command() -> impl Strategy<Value = Command> {
    let trid = any::<u32>();
    prop_oneof![
        (trid, vec(token(), 1..5)).prop_map(|(trid, offered)| Command::Ver { trid, offered }),
        (trid, vec(token(), 6..10)).prop_map(|(trid, args)| Command::Cvr { trid, args }),
        trid.prop_map(|trid| Command::Inf { trid }),
        (trid, usr_args()).prop_map(|(trid, args)| Command::Usr { trid, args }),
        (trid, token()).prop_map(|(trid, version)| Command::Syn { trid, version }),
        (trid, chg_status(), prop::option::of(any::<u64>())).prop_map(
            |(trid, status, capabilities)| Command::Chg {
                trid,
                status,
                capabilities,
                msn_object: None,
            }
        ),
        (trid, chg_status(), any::<u64>(), msn_object()).prop_map(|(trid, status, caps, obj)| {
            Command::Chg {
                trid,
                status,
                capabilities: Some(caps),
                msn_object: Some(obj),
            }
        }),
        (
            trid,
            list(),
            email(),
            text(1),
            prop::option::of(any::<u32>())
        )
            .prop_map(|(trid, list, email, nick, group)| Command::Add {
                trid,
                list,
                email,
                nick,
                group,
            }),
        (
            trid,
            list(),
            email(),
            prop::option::of(text(0)),
            prop::option::of(any::<u32>())
        )
            .prop_map(|(trid, list, email, nick, group)| Command::Adc {
                trid,
                list,
                contact: ContactRef::Email(email),
                nick,
                group,
            }),
        (trid, token(), any::<u32>()).prop_map(|(trid, guid, group)| Command::Adc {
            trid,
            list: List::Forward,
            contact: ContactRef::Guid(guid),
            nick: None,
            group: Some(group),
        }),
        (trid, list(), email(), prop::option::of(any::<u32>())).prop_map(
            |(trid, list, email, group)| Command::Rem {
                trid,
                list,
                email,
                group,
            }
        ),
        (trid, text(1)).prop_map(|(trid, name)| Command::Adg { trid, name }),
        (trid, any::<u32>()).prop_map(|(trid, group)| Command::Rmg { trid, group }),
        (trid, any::<u32>(), text(1)).prop_map(|(trid, group, name)| Command::Reg {
            trid,
            group,
            name
        }),
        (trid, email(), text(1)).prop_map(|(trid, email, nick)| Command::Rea { trid, email, nick }),
        (trid, privacy()).prop_map(|(trid, privacy)| Command::Blp { trid, privacy }),
        (trid, prompt()).prop_map(|(trid, prompt)| Command::Gtc { trid, prompt }),
        (trid, phone_kind(), prop::option::of(text(1)))
            .prop_map(|(trid, kind, value)| { Command::Prp { trid, kind, value } }),
        (trid, text(1)).prop_map(|(trid, nick)| Command::PrpNick { trid, nick }),
        trid.prop_map(|trid| Command::Xfr {
            trid,
            target: XfrTarget::Switchboard
        }),
        (trid, token(), payload()).prop_map(|(trid, product_id, response)| Command::Qry {
            trid,
            product_id,
            response
        }),
        Just(Command::Png),
        Just(Command::Out),
        (trid, email(), token(), token()).prop_map(|(trid, email, cookie, session_id)| {
            Command::Ans {
                trid,
                email,
                cookie,
                session_id,
            }
        }),
        (trid, email()).prop_map(|(trid, email)| Command::Cal { trid, email }),
        (trid, ack_mode(), payload()).prop_map(|(trid, ack, payload)| Command::Msg {
            trid,
            ack,
            payload
        }),
        (trid, token()).prop_map(|(trid, file)| Command::Gcf { trid, file }),
        (trid, payload()).prop_map(|(trid, payload)| Command::Uux { trid, payload }),
    ]
}

fn dialect() -> impl Strategy<Value = Dialect> {
    (2u8..=12).prop_map(|v| Dialect::new(v).unwrap())
}

/// Whether `cmd` exists in `dialect`'s grammar (`PRP MFN` is MSNP10+; before that
/// `MFN` is an unknown phone kind).
fn has_wire_form(dialect: Option<Dialect>, cmd: &Command) -> bool {
    !matches!(cmd, Command::PrpNick { .. }) || dialect.is_none_or(Dialect::has_prp_nickname)
}

/// Frames and parses the bytes the server wrote, as a client that speaks the
/// dialect's client grammar would.
fn parse_wire(dialect: Dialect, bytes: &[u8]) -> Vec<Result<Command, ParseError>> {
    let outcome = decode_pieces(fuzzing::PRODUCTION_LIMITS, [bytes]);
    assert_eq!(
        outcome.end,
        End::Clean,
        "{:?}",
        String::from_utf8_lossy(bytes)
    );
    outcome
        .frames
        .iter()
        .map(|frame| check_parse(Some(dialect), frame))
        .collect()
}

fn encode(dialect: Dialect, reply: &Reply) -> Vec<u8> {
    let mut out = BytesMut::new();
    msnpd::proto::encode(dialect, reply, &mut out);
    out.to_vec()
}

/// A non-payload line: not starting with a payload verb, not empty.
fn plain_line() -> impl Strategy<Value = String> {
    let payload_verbs: BTreeSet<&str> = [
        "MSG", "QRY", "UUX", "NOT", "ADL", "FQY", "RML", "UUN", "UUM", "PUT", "DEL", "SDG", "VAS",
        "SDC",
    ]
    .into_iter()
    .collect();
    "[^\n]{1,40}".prop_filter("payload verb or blank", move |line| {
        match line.split(' ').find(|t| !t.is_empty()) {
            Some(verb) => !payload_verbs.contains(verb.to_ascii_uppercase().as_str()),
            None => false,
        }
    })
}

fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        command().prop_map(|cmd| fuzzing::encode_command(&cmd)),
        plain_line().prop_map(|line| Frame {
            line,
            payload: None
        }),
    ]
}

/// A line built from MSNP-ish tokens, to reach deep into the verb parsers.
fn msnp_line() -> impl Strategy<Value = Vec<u8>> {
    let verbs = vec![
        "VER", "CVR", "INF", "USR", "SYN", "CHG", "ADD", "ADC", "REM", "ADG", "RMG", "REG", "REA",
        "BLP", "GTC", "PRP", "XFR", "QRY", "PNG", "OUT", "ANS", "CAL", "MSG", "GCF", "UUX", "usr",
        "msg", "ZZZ",
    ];
    let words = vec![
        "1",
        "0",
        "4294967296",
        "FL",
        "AL",
        "BL",
        "RL",
        "N=a@b.c",
        "F=x%20y",
        "C=g",
        "TWN",
        "MD5",
        "I",
        "S",
        "NLN",
        "HDN",
        "FLN",
        "MFN",
        "PHH",
        "SB",
        "A",
        "U",
        "D",
        "2",
        "%FF",
        "%",
        "00000000-0000-0000-0001-00000000000a",
        "a@b.c",
        "",
        " ",
        "\t",
    ];
    (
        prop::sample::select(verbs),
        vec(prop::sample::select(words), 0..7),
        vec(any::<u8>(), 0..4),
    )
        .prop_map(|(verb, words, tail)| {
            let mut line = verb.as_bytes().to_vec();
            for w in words {
                line.push(b' ');
                line.extend_from_slice(w.as_bytes());
            }
            line.extend_from_slice(b"\r\n");
            line.extend_from_slice(&tail);
            line
        })
}

proptest! {
    #[test]
    fn every_command_survives_parse_of_encode(cmd in command()) {
        for dialect in fuzzing::dialects() {
            if has_wire_form(dialect, &cmd) {
                check_roundtrip(dialect, &cmd);
            }
        }
    }

    #[test]
    fn frames_split_anywhere_decode_the_same(
        frames in vec(frame(), 0..12),
        cuts in vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let bytes: Vec<u8> = frames.iter().flat_map(fuzzing::frame_bytes).collect();
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        at.push(bytes.len());
        at.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for end in at {
            pieces.push(&bytes[start..end]);
            start = end;
        }
        let longest = frames.iter().map(|f| f.line.len()).max().unwrap_or(0);
        let limits = FrameLimits {
            max_line: longest + 3,
            max_msg_payload: 300,
            max_other_payload: 300,
        };
        let outcome = decode_pieces(limits, pieces);
        prop_assert_eq!(outcome.end, End::Clean);
        prop_assert_eq!(outcome.frames, frames);
    }

    #[test]
    fn chg_echo_parses_as_the_dialects_chg(
        dialect in dialect(),
        trid in any::<u32>(),
        status in chg_status(),
        caps in any::<u64>(),
        obj in prop::option::of(msn_object()),
    ) {
        let reply = Reply::Chg { trid, status, capabilities: caps, msn_object: obj.clone() };
        let expected = Command::Chg {
            trid,
            status,
            capabilities: dialect.has_capabilities().then_some(caps),
            msn_object: obj.filter(|_| dialect.has_msn_objects()),
        };
        prop_assert_eq!(parse_wire(dialect, &encode(dialect, &reply)), vec![Ok(expected)]);
    }

    #[test]
    fn guid_dialect_echoes_parse_as_client_commands(
        version in 10u8..=12,
        trid in any::<u32>(),
        email in email(),
        nick in text(1),
        group in any::<u32>(),
        privacy in privacy(),
        prompt in prompt(),
        kind in phone_kind(),
        value in prop::option::of(text(1)),
    ) {
        let d = Dialect::new(version).unwrap();
        let cases = [
            (Reply::Blp { trid, version: 9, privacy }, Command::Blp { trid, privacy }),
            (Reply::Gtc { trid, version: 9, prompt }, Command::Gtc { trid, prompt }),
            (
                Reply::Prp { trid, version: 9, kind, value: value.clone() },
                Command::Prp { trid, kind, value },
            ),
            (
                Reply::PrpNick { trid, nick: nick.clone() },
                Command::PrpNick { trid, nick: nick.clone() },
            ),
            (
                Reply::Removed { trid, list: List::Allow, version: 9, email: email.clone(), group: None },
                Command::Rem { trid, list: List::Allow, email: email.clone(), group: None },
            ),
            (
                Reply::Removed { trid, list: List::Forward, version: 9, email: email.clone(), group: Some(group) },
                Command::Rem {
                    trid,
                    list: List::Forward,
                    email: guid::contact_guid(&email),
                    group: Some(group),
                },
            ),
            (
                Reply::Added { trid, list: List::Block, version: 9, email: email.clone(), nick: nick.clone(), group: None },
                Command::Adc {
                    trid,
                    list: List::Block,
                    contact: ContactRef::Email(email.clone()),
                    nick: None,
                    group: None,
                },
            ),
            (
                Reply::Added { trid, list: List::Reverse, version: 9, email: email.clone(), nick: nick.clone(), group: None },
                Command::Adc {
                    trid,
                    list: List::Reverse,
                    contact: ContactRef::Email(email.clone()),
                    nick: Some(nick.clone()),
                    group: None,
                },
            ),
            (
                Reply::Added { trid, list: List::Forward, version: 9, email: email.clone(), nick, group: Some(group) },
                Command::Adc {
                    trid,
                    list: List::Forward,
                    contact: ContactRef::Guid(guid::contact_guid(&email)),
                    nick: None,
                    group: Some(group),
                },
            ),
            (Reply::UuxOk { trid }, Command::Uux { trid, payload: Bytes::new() }),
        ];
        for (reply, expected) in cases {
            prop_assert_eq!(parse_wire(d, &encode(d, &reply)), vec![Ok(expected)], "{:?}", reply);
        }
    }

    #[test]
    fn every_dialect_echoes_ver_and_out_and_reads_group_guids(
        dialect in dialect(),
        offered in dialect(),
        trid in any::<u32>(),
        group in any::<u32>(),
    ) {
        let ver = Reply::Ver { trid, dialect: Some(offered) };
        prop_assert_eq!(
            parse_wire(dialect, &encode(dialect, &ver)),
            vec![Ok(Command::Ver { trid, offered: vec![offered.to_string()] })]
        );
        prop_assert_eq!(
            parse_wire(dialect, &encode(dialect, &Reply::Out { reason: None })),
            vec![Ok(Command::Out)]
        );
        // `RMG trid version id` (MSNP7-9) is not the client's shape; in MSNP10+
        // the server's group GUID is what the client sends back.
        if dialect.has_guids() {
            let line = format!("RMG {trid} {}\r\n", guid::group_guid(group));
            prop_assert_eq!(
                parse_wire(dialect, line.as_bytes()),
                vec![Ok(Command::Rmg { trid, group })]
            );
        }
    }

    #[test]
    fn harnesses_hold_on_random_bytes(data in vec(any::<u8>(), 0..600)) {
        for (_, harness) in fuzzing::TARGETS {
            harness(&data);
        }
    }

    #[test]
    fn harnesses_hold_on_msnp_like_lines(lines in vec(msnp_line(), 1..8)) {
        let data: Vec<u8> = lines.concat();
        for (_, harness) in fuzzing::TARGETS {
            harness(&data);
        }
    }
}
