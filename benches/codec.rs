//! Codec micro-benchmarks through the public `msnpd::proto` API: for typical
//! client lines, frame (the tokio-util decoder) + parse per dialect; for typical
//! server lines, encode per dialect. Run with `cargo bench --bench codec`.

use std::collections::BTreeMap;
use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{Criterion, criterion_group, criterion_main};
use msnpd::core::lists::{ListSet, NewContactPrompt, Privacy};
use msnpd::core::model::{Contact, ContactList, Group};
use msnpd::core::presence::Status;
use msnpd::proto::reply::PresenceInfo;
use msnpd::proto::{Dialect, FrameLimits, MsnpCodec, Reply};
use tokio_util::codec::Decoder;

/// Dialects benchmarked: the first ticket dialect and the GUID/UUX one.
const DIALECTS: [u8; 2] = [8, 11];

const TICKET: &str =
    "t=ZXhhbXBsZUBleGFtcGxlLmNvbXwxNzk1NjMxMzUxfGFiY2RlZjAxMjM0NTY3ODlhYmNkZWYwMTIzNDU2Nzg5&p=";

fn limits() -> FrameLimits {
    FrameLimits {
        max_line: 2048,
        max_msg_payload: 1664,
        max_other_payload: 8192,
    }
}

/// An instant message payload of about `size` bytes.
fn im_payload(size: usize) -> String {
    let mut p = String::from(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Segoe%20UI; EF=; CO=0; CS=0; PF=0\r\n\r\n",
    );
    while p.len() < size {
        p.push_str("hello ");
    }
    p
}

/// Typical client input per dialect, as wire bytes, by name.
fn client_lines(v: u8) -> Vec<(&'static str, Vec<u8>)> {
    let msg = im_payload(200);
    let add = if v >= 10 {
        "ADC 9 FL N=bob@example.com F=Bob\r\n".to_string()
    } else {
        "ADD 9 FL bob@example.com Bob 0\r\n".to_string()
    };
    vec![
        ("VER", format!("VER 1 MSNP{v} CVR0\r\n").into_bytes()),
        ("USR", format!("USR 4 TWN S {TICKET}\r\n").into_bytes()),
        ("CHG", b"CHG 7 NLN 1342177280\r\n".to_vec()),
        (
            "MSG",
            format!("MSG 12 N {}\r\n{msg}", msg.len()).into_bytes(),
        ),
        ("ADD/ADC", add.into_bytes()),
    ]
}

fn presence(i: usize) -> PresenceInfo {
    PresenceInfo {
        status: Status::Online,
        email: format!("user{i}@example.com"),
        nick: format!("User {i}"),
        capabilities: 1_342_177_280,
        msn_object: None,
    }
}

/// Typical server output, by name.
fn replies() -> Vec<(&'static str, Reply)> {
    let contacts = (0..50)
        .map(|i| Contact {
            email: format!("user{i}@example.com"),
            nick: format!("User {i}"),
            lists: ListSet(0b1011),
            groups: vec![0],
        })
        .collect();
    let list = ContactList {
        version: 51,
        privacy: Privacy::AllowAll,
        prompt: NewContactPrompt::Ask,
        groups: vec![Group {
            id: 0,
            name: "Other Contacts".into(),
        }],
        contacts,
    };
    vec![
        (
            "VER",
            Reply::Ver {
                trid: 1,
                dialect: Dialect::new(8),
            },
        ),
        (
            "USR",
            Reply::UsrOk {
                trid: 4,
                email: "alice@example.com".into(),
                nick: "Alice".into(),
                verified: true,
            },
        ),
        (
            "CHG",
            Reply::Chg {
                trid: 7,
                status: Status::Away,
                capabilities: 1_342_177_280,
                msn_object: None,
            },
        ),
        (
            "NLN",
            Reply::Nln {
                presence: presence(1),
            },
        ),
        (
            "MSG",
            Reply::Msg {
                sender: "alice@example.com".into(),
                sender_nick: "Alice".into(),
                payload: Bytes::from(im_payload(200)),
            },
        ),
        (
            "SYN+LST x50",
            Reply::Sync {
                trid: 5,
                list: Box::new(list),
                phones: Vec::new(),
                contact_phones: BTreeMap::new(),
                nick: "Alice".into(),
                unchanged: false,
            },
        ),
    ]
}

fn frame_and_parse(c: &mut Criterion) {
    for v in DIALECTS {
        let dialect = Dialect::new(v);
        let mut group = c.benchmark_group(format!("frame+parse/MSNP{v}"));
        for (name, bytes) in client_lines(v) {
            group.bench_function(name, |b| {
                let mut codec = MsnpCodec::new(limits());
                b.iter(|| {
                    let mut buf = BytesMut::from(&bytes[..]);
                    let frame = codec
                        .decode(&mut buf)
                        .ok()
                        .flatten()
                        .expect("a whole frame");
                    black_box(msnpd::proto::parse(dialect, &frame).is_ok())
                });
            });
        }
        group.finish();
    }
}

fn encode(c: &mut Criterion) {
    for v in DIALECTS {
        let Some(dialect) = Dialect::new(v) else {
            continue;
        };
        let mut group = c.benchmark_group(format!("encode/MSNP{v}"));
        for (name, reply) in replies() {
            group.bench_function(name, |b| {
                let mut out = BytesMut::with_capacity(8192);
                b.iter(|| {
                    out.clear();
                    msnpd::proto::encode(dialect, black_box(&reply), &mut out);
                    black_box(out.len())
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, frame_and_parse, encode);
criterion_main!(benches);
