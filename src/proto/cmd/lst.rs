//! `LST`: one contact line inside a `SYN` answer, by [`SyncShape`]:
//! - MSNP2–7 (per-list): `LST trid LIST version index total email nick [groups]`,
//!   groups (MSNP7+, `FL` only) comma-separated, `0` when the entry has none; an
//!   empty list is `LST trid LIST version 0 0`;
//! - MSNP8–9 (bitmask): `LST email nick bits [groups]`, groups only when the `FL`
//!   bit is set (`0` when none);
//! - MSNP10–12 (GUID): `LST N=email F=nick [C=contact-guid] bits [1] [group-guids]`,
//!   `C=` only for `FL` entries (only they have an address-book GUID), the network
//!   field `1` from MSNP12, group GUIDs (without group 0, which is implicit there)
//!   only for `FL` entries that have some.
//!
//! List bits are FL=1, AL=2, BL=4, RL=8.
//!
//! [`SyncShape`]: crate::proto::dialect::SyncShape

use bytes::BytesMut;

use super::wire::{Line, push_u64};
use crate::core::lists::List;
use crate::core::model::Contact;
use crate::proto::guid::{write_contact_guid, write_group_guid};
use crate::proto::{Dialect, TrId};

/// The four list bits of `contact`.
fn bits(contact: &Contact) -> u8 {
    contact.lists.0 & 0x0f
}

/// Writes the group ids comma-separated, `0` when there are none.
fn write_group_ids(out: &mut BytesMut, groups: &[u32]) {
    if groups.is_empty() {
        out.extend_from_slice(b"0");
    }
    for (i, group) in groups.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b",");
        }
        push_u64(out, (*group).into());
    }
}

/// One entry of a per-list block (MSNP2–7).
#[allow(clippy::too_many_arguments)]
pub(super) fn encode_per_list(
    dialect: Dialect,
    trid: TrId,
    list: List,
    version: u32,
    index: usize,
    total: usize,
    contact: &Contact,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "LST");
    line.trid(trid)
        .raw(list.code())
        .num(version)
        .num(index as u64)
        .num(total as u64)
        .raw(&contact.email)
        .url(&contact.nick);
    if list == List::Forward && dialect.has_groups() {
        line.with(|o| write_group_ids(o, &contact.groups));
    }
    line.end();
}

/// The line for an empty list in a per-list block (MSNP2–7).
pub(super) fn encode_empty_list(trid: TrId, list: List, version: u32, out: &mut BytesMut) {
    Line::new(out, "LST")
        .trid(trid)
        .raw(list.code())
        .num(version)
        .raw("0")
        .raw("0")
        .end();
}

/// `LST email nick bits [groups]` (MSNP8–9).
pub(super) fn encode_bitmask(contact: &Contact, out: &mut BytesMut) {
    let mut line = Line::new(out, "LST");
    line.raw(&contact.email)
        .url(&contact.nick)
        .num(bits(contact));
    if contact.lists.contains(List::Forward) {
        line.with(|o| write_group_ids(o, &contact.groups));
    }
    line.end();
}

/// `LST N=email F=nick [C=guid] bits [1] [group-guids]` (MSNP10–12).
pub(super) fn encode_guid(dialect: Dialect, contact: &Contact, out: &mut BytesMut) {
    let mut line = Line::new(out, "LST");
    line.raw_with("N=", &contact.email)
        .url_with("F=", &contact.nick);
    if contact.lists.contains(List::Forward) {
        line.with(|o| {
            o.extend_from_slice(b"C=");
            write_contact_guid(o, &contact.email);
        });
    }
    line.num(bits(contact));
    if dialect.has_lst_network_field() {
        line.raw("1");
    }
    let mut groups = contact.groups.iter().filter(|g| **g != 0).peekable();
    if contact.lists.contains(List::Forward) && groups.peek().is_some() {
        line.with(|o| {
            for (i, group) in groups.enumerate() {
                if i > 0 {
                    o.extend_from_slice(b",");
                }
                write_group_guid(o, *group);
            }
        });
    }
    line.end();
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::{encode_bitmask, encode_empty_list, encode_guid, encode_per_list};
    use crate::core::lists::{List, ListSet};
    use crate::core::model::Contact;
    use crate::proto::cmd::testutil::d;
    use crate::proto::guid::contact_guid;

    fn contact(lists: ListSet, groups: &[u32]) -> Contact {
        Contact {
            email: "a@b.c".into(),
            nick: "A b".into(),
            lists,
            groups: groups.to_vec(),
        }
    }

    fn text(out: BytesMut) -> String {
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn groups_only_on_forward_entries() {
        let fl_al = ListSet::default().with(List::Forward).with(List::Allow);
        let al = ListSet::default().with(List::Allow);
        let mut out = BytesMut::new();
        encode_bitmask(&contact(fl_al, &[1, 3]), &mut out);
        encode_bitmask(&contact(al, &[1, 3]), &mut out);
        assert_eq!(text(out), "LST a@b.c A%20b 3 1,3\r\nLST a@b.c A%20b 2\r\n");

        let mut out = BytesMut::new();
        encode_per_list(
            d(7),
            4,
            List::Allow,
            9,
            1,
            1,
            &contact(fl_al, &[1]),
            &mut out,
        );
        encode_per_list(
            d(7),
            4,
            List::Forward,
            9,
            1,
            1,
            &contact(fl_al, &[]),
            &mut out,
        );
        encode_per_list(
            d(6),
            4,
            List::Forward,
            9,
            1,
            1,
            &contact(fl_al, &[1]),
            &mut out,
        );
        encode_empty_list(4, List::Block, 9, &mut out);
        assert_eq!(
            text(out),
            "LST 4 AL 9 1 1 a@b.c A%20b\r\n\
             LST 4 FL 9 1 1 a@b.c A%20b 0\r\n\
             LST 4 FL 9 1 1 a@b.c A%20b\r\n\
             LST 4 BL 9 0 0\r\n"
        );
    }

    #[test]
    fn guid_form_skips_group_zero_and_ignores_unknown_bits() {
        let fl = ListSet(0x10 | 0x01);
        let c = contact_guid("a@b.c");
        let mut out = BytesMut::new();
        encode_guid(d(11), &contact(fl, &[0]), &mut out);
        encode_guid(d(12), &contact(fl, &[0]), &mut out);
        assert_eq!(
            text(out),
            format!("LST N=a@b.c F=A%20b C={c} 1\r\nLST N=a@b.c F=A%20b C={c} 1 1\r\n")
        );
    }

    #[test]
    fn guid_form_gives_guids_only_to_forward_entries() {
        let mut out = BytesMut::new();
        encode_guid(d(11), &contact(ListSet(0x02 | 0x08), &[]), &mut out);
        encode_guid(d(12), &contact(ListSet(0x04), &[]), &mut out);
        assert_eq!(
            text(out),
            "LST N=a@b.c F=A%20b 10\r\nLST N=a@b.c F=A%20b 4 1\r\n"
        );
    }
}
