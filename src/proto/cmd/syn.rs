//! `SYN`: contact-list download.
//!
//! Client: `SYN trid version` (MSNP10+ sends two timestamps `SYN trid ts1 ts2`; the
//! first is kept; before `VER` either form is accepted). Server: the whole answer
//! block of [`Reply::Sync`](crate::proto::Reply::Sync), by [`SyncShape`]:
//!
//! - MSNP2–7: `SYN trid version`; unless unchanged, `GTC trid version A`,
//!   `BLP trid version AL`, `PRP trid version KIND value` per phone (MSNP5+),
//!   `LSG trid version i n id name 0` per group (MSNP7+), then one block per list in
//!   the order FL, AL, BL, RL of `LST trid LIST version i n email nick [groups]`
//!   (an empty list is `LST trid LIST version 0 0`), each `FL` entry followed by
//!   `BPR version email KIND value` per phone the contact shares (MSNP5+).
//! - MSNP8–9: unchanged: `SYN trid version` only; else
//!   `SYN trid version ncontacts ngroups`, `GTC A`, `BLP AL`, `PRP KIND value` per
//!   phone, `LSG id name 0` per group, `LST email nick bits [groups]` per contact,
//!   each `FL` entry followed by `BPR KIND value` per phone the contact shares.
//! - MSNP10–12: always the full list (like Escargot; list versions do not map to
//!   the client's timestamps): `SYN trid TS TS ncontacts ngroups` with the fixed
//!   timestamp [`SYNC_TIMESTAMP`], `GTC`, `BLP`, `PRP MFN own-nick`, phones,
//!   `LSG name guid` per group other than group 0, `LST N= F= [C=] bits [1] [groups]`
//!   per contact (with `BPR KIND value` as in MSNP8–9).
//!
//! Contacts on no list are skipped (and not counted).

use std::collections::BTreeMap;

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use super::{blp, bpr, gtc, lsg, lst, prp};
use crate::core::lists::List;
use crate::core::model::{Contact, ContactList};
use crate::proto::command::PhoneKind;
use crate::proto::dialect::SyncShape;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// The list timestamp sent to MSNP10–12 clients (the one Escargot uses).
pub(crate) const SYNC_TIMESTAMP: &str = "2000-01-01T00:00:00.0-00:00";

/// Parses `SYN trid version [timestamp2]`.
pub(super) fn parse(dialect: Option<Dialect>, args: &mut Args<'_>) -> Result<Command, ParseError> {
    let version = args.next()?.to_owned();
    if dialect.is_none_or(Dialect::has_guids) {
        let _second_timestamp = args.opt();
    }
    args.end()?;
    Ok(Command::Syn {
        trid: args.trid(),
        version,
    })
}

/// The contacts that are on at least one list.
fn listed(list: &ContactList) -> impl Iterator<Item = &Contact> {
    list.contacts.iter().filter(|c| !c.lists.is_empty())
}

/// The whole `SYN` answer as described in the module docs.
#[allow(clippy::too_many_arguments)]
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    list: &ContactList,
    phones: &[(PhoneKind, String)],
    contact_phones: &BTreeMap<String, Vec<(PhoneKind, String)>>,
    nick: &str,
    unchanged: bool,
    out: &mut BytesMut,
) {
    // `BPR` lines for a contact, after its forward-list `LST` (MSNP5+).
    let bprs = |contact: &Contact, out: &mut BytesMut| {
        if !dialect.has_phone_numbers() || !contact.lists.contains(List::Forward) {
            return;
        }
        for (kind, value) in contact_phones.get(&contact.email).into_iter().flatten() {
            bpr::encode_in_sync(dialect, list.version, &contact.email, *kind, value, out);
        }
    };
    let shape = dialect.sync_shape();
    let version = list.version;
    let contacts = listed(list).count();
    match shape {
        SyncShape::PerList | SyncShape::Bitmask if unchanged => {
            Line::new(out, "SYN").trid(trid).num(version).end();
            return;
        }
        SyncShape::PerList => Line::new(out, "SYN").trid(trid).num(version).end(),
        SyncShape::Bitmask => Line::new(out, "SYN")
            .trid(trid)
            .num(version)
            .num(contacts as u64)
            .num(list.groups.len() as u64)
            .end(),
        SyncShape::Guid => Line::new(out, "SYN")
            .trid(trid)
            .raw(SYNC_TIMESTAMP)
            .raw(SYNC_TIMESTAMP)
            .num(contacts as u64)
            .num(list.groups.iter().filter(|g| g.id != 0).count() as u64)
            .end(),
    }
    gtc::encode_in_sync(dialect, trid, version, list.prompt, out);
    blp::encode_in_sync(dialect, trid, version, list.privacy, out);
    if dialect.has_prp_nickname() {
        prp::encode_nick_in_sync(nick, out);
    }
    if dialect.has_phone_numbers() {
        for (kind, value) in phones {
            prp::encode_in_sync(dialect, trid, version, *kind, value, out);
        }
    }
    match shape {
        SyncShape::PerList => {
            if dialect.has_groups() {
                let total = list.groups.len();
                for (i, group) in list.groups.iter().enumerate() {
                    lsg::encode_per_list(trid, version, i + 1, total, group, out);
                }
            }
            for which in List::ALL {
                let total = listed(list).filter(|c| c.lists.contains(which)).count();
                if total == 0 {
                    lst::encode_empty_list(trid, which, version, out);
                }
                let on_list = listed(list).filter(|c| c.lists.contains(which));
                for (i, contact) in on_list.enumerate() {
                    lst::encode_per_list(dialect, trid, which, version, i + 1, total, contact, out);
                    if which == List::Forward {
                        bprs(contact, out);
                    }
                }
            }
        }
        SyncShape::Bitmask => {
            for group in &list.groups {
                lsg::encode_bitmask(group, out);
            }
            for contact in listed(list) {
                lst::encode_bitmask(contact, out);
                bprs(contact, out);
            }
        }
        SyncShape::Guid => {
            for group in list.groups.iter().filter(|g| g.id != 0) {
                lsg::encode_guid(group, out);
            }
            for contact in listed(list) {
                lst::encode_guid(dialect, contact, out);
                bprs(contact, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SYNC_TIMESTAMP;
    use crate::core::lists::{List, ListSet, NewContactPrompt, Privacy};
    use crate::core::model::{Contact, ContactList, Group};
    use crate::proto::cmd::testutil::{d, enc, enc_all, parse_line};
    use crate::proto::command::PhoneKind;
    use crate::proto::guid::{contact_guid, group_guid};
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        let syn = |version: &str| {
            Ok(Command::Syn {
                trid: 5,
                version: version.into(),
            })
        };
        assert_eq!(parse_line(Some(d(8)), "SYN 5 0"), syn("0"));
        assert_eq!(parse_line(None, "SYN 5 12"), syn("12"));
        assert_eq!(
            parse_line(
                Some(d(11)),
                "SYN 5 2005-04-23T18:57:44.8130000-07:00 2005-04-23T18:57:54.2070000-07:00"
            ),
            syn("2005-04-23T18:57:44.8130000-07:00")
        );
        assert_eq!(parse_line(Some(d(11)), "SYN 5 0 0"), syn("0"));
        assert_eq!(
            parse_line(Some(d(8)), "SYN 5 0 0"),
            Err(ParseError::Syntax { trid: Some(5) })
        );
        assert_eq!(
            parse_line(Some(d(8)), "SYN 5"),
            Err(ParseError::Syntax { trid: Some(5) })
        );
    }

    fn contact(email: &str, nick: &str, lists: &[List], groups: &[u32]) -> Contact {
        Contact {
            email: email.into(),
            nick: nick.into(),
            lists: lists.iter().fold(ListSet::default(), |s, l| s.with(*l)),
            groups: groups.to_vec(),
        }
    }

    fn sample() -> ContactList {
        ContactList {
            version: 255,
            privacy: Privacy::AllowAll,
            prompt: NewContactPrompt::Ask,
            groups: vec![
                Group {
                    id: 0,
                    name: "Other Contacts".into(),
                },
                Group {
                    id: 2,
                    name: "Friends".into(),
                },
            ],
            contacts: vec![
                contact(
                    "anotheruser@hotmail.com",
                    "another user",
                    &[List::Forward, List::Allow, List::Reverse],
                    &[0, 2],
                ),
                contact("fred@hotmail.com", "fred", &[List::Allow], &[]),
                contact("ghost@hotmail.com", "ghost", &[], &[]),
            ],
        }
    }

    fn sync(unchanged: bool) -> Reply {
        // Both share phones; only the forward-list entry gets `BPR`.
        let contact_phones = [
            ("anotheruser@hotmail.com", "1 (222)"),
            ("fred@hotmail.com", "333"),
        ]
        .into_iter()
        .map(|(email, phone)| (email.to_owned(), vec![(PhoneKind::Home, phone.to_owned())]))
        .collect();
        Reply::Sync {
            trid: 8,
            list: Box::new(sample()),
            phones: vec![(PhoneKind::Home, "555 555-1234".into())],
            contact_phones,
            nick: "My Self".into(),
            unchanged,
        }
    }

    #[test]
    fn msnp8_full() {
        assert_eq!(
            enc_all(8..=9, &sync(false)),
            "SYN 8 255 2 2\r\n\
             GTC A\r\n\
             BLP AL\r\n\
             PRP PHH 555%20555-1234\r\n\
             LSG 0 Other%20Contacts 0\r\n\
             LSG 2 Friends 0\r\n\
             LST anotheruser@hotmail.com another%20user 11 0,2\r\n\
             BPR PHH 1%20(222)\r\n\
             LST fred@hotmail.com fred 2\r\n"
        );
    }

    #[test]
    fn msnp8_forward_entry_without_groups_is_in_group_zero() {
        let reply = Reply::Sync {
            trid: 9,
            list: Box::new(ContactList {
                version: 12,
                privacy: Privacy::BlockAll,
                prompt: NewContactPrompt::Never,
                groups: vec![],
                contacts: vec![contact("a@b.c", "a", &[List::Forward], &[])],
            }),
            phones: vec![],
            contact_phones: Default::default(),
            nick: "a".into(),
            unchanged: false,
        };
        assert_eq!(
            enc(8, &reply),
            "SYN 9 12 1 0\r\nGTC N\r\nBLP BL\r\nLST a@b.c a 1 0\r\n"
        );
    }

    #[test]
    fn unchanged_sends_only_the_syn_line() {
        assert_eq!(enc_all(2..=9, &sync(true)), "SYN 8 255\r\n");
    }

    #[test]
    fn msnp7_per_list_with_groups() {
        assert_eq!(
            enc(7, &sync(false)),
            "SYN 8 255\r\n\
             GTC 8 255 A\r\n\
             BLP 8 255 AL\r\n\
             PRP 8 255 PHH 555%20555-1234\r\n\
             LSG 8 255 1 2 0 Other%20Contacts 0\r\n\
             LSG 8 255 2 2 2 Friends 0\r\n\
             LST 8 FL 255 1 1 anotheruser@hotmail.com another%20user 0,2\r\n\
             BPR 255 anotheruser@hotmail.com PHH 1%20(222)\r\n\
             LST 8 AL 255 1 2 anotheruser@hotmail.com another%20user\r\n\
             LST 8 AL 255 2 2 fred@hotmail.com fred\r\n\
             LST 8 BL 255 0 0\r\n\
             LST 8 RL 255 1 1 anotheruser@hotmail.com another%20user\r\n"
        );
    }

    #[test]
    fn msnp5_per_list_with_phones_no_groups() {
        let expected = "SYN 8 255\r\n\
             GTC 8 255 A\r\n\
             BLP 8 255 AL\r\n\
             PRP 8 255 PHH 555%20555-1234\r\n\
             LST 8 FL 255 1 1 anotheruser@hotmail.com another%20user\r\n\
             BPR 255 anotheruser@hotmail.com PHH 1%20(222)\r\n\
             LST 8 AL 255 1 2 anotheruser@hotmail.com another%20user\r\n\
             LST 8 AL 255 2 2 fred@hotmail.com fred\r\n\
             LST 8 BL 255 0 0\r\n\
             LST 8 RL 255 1 1 anotheruser@hotmail.com another%20user\r\n";
        assert_eq!(enc_all(5..=6, &sync(false)), expected);
        // Before MSNP5 there are no phone numbers.
        let no_phones = expected
            .replace("PRP 8 255 PHH 555%20555-1234\r\n", "")
            .replace("BPR 255 anotheruser@hotmail.com PHH 1%20(222)\r\n", "");
        assert_eq!(enc_all(2..=4, &sync(false)), no_phones);
    }

    #[test]
    fn msnp10_to_12_guid_form() {
        let a = contact_guid("anotheruser@hotmail.com");
        let g2 = group_guid(2);
        let ts = SYNC_TIMESTAMP;
        let head = format!(
            "SYN 8 {ts} {ts} 2 1\r\n\
             GTC A\r\n\
             BLP AL\r\n\
             PRP MFN My%20Self\r\n\
             PRP PHH 555%20555-1234\r\n\
             LSG Friends {g2}\r\n"
        );
        assert_eq!(
            enc_all(10..=11, &sync(false)),
            format!(
                "{head}LST N=anotheruser@hotmail.com F=another%20user C={a} 11 {g2}\r\n\
                 BPR PHH 1%20(222)\r\n\
                 LST N=fred@hotmail.com F=fred 2\r\n"
            )
        );
        assert_eq!(
            enc(12, &sync(false)),
            format!(
                "{head}LST N=anotheruser@hotmail.com F=another%20user C={a} 11 1 {g2}\r\n\
                 BPR PHH 1%20(222)\r\n\
                 LST N=fred@hotmail.com F=fred 2 1\r\n"
            )
        );
        // Timestamps do not map to list versions: "unchanged" still sends the list.
        assert_eq!(enc(11, &sync(true)), enc(11, &sync(false)));
    }
}
