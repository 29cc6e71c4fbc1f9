//! `LSG`: one group line inside a `SYN` answer, by [`SyncShape`]:
//! - MSNP7 (per-list): `LSG trid version index total id name 0`;
//! - MSNP8–9 (bitmask): `LSG id name 0`;
//! - MSNP10–12 (GUID): `LSG name group-guid` (group 0 is implicit there and is
//!   not sent; the caller skips it).
//!
//! [`SyncShape`]: crate::proto::dialect::SyncShape

use bytes::BytesMut;

use super::wire::Line;
use crate::core::model::Group;
use crate::proto::TrId;
use crate::proto::guid::write_group_guid;

/// `LSG trid version index total id name 0` (MSNP7).
pub(super) fn encode_per_list(
    trid: TrId,
    version: u32,
    index: usize,
    total: usize,
    group: &Group,
    out: &mut BytesMut,
) {
    Line::new(out, "LSG")
        .trid(trid)
        .num(version)
        .num(index as u64)
        .num(total as u64)
        .num(group.id)
        .url(&group.name)
        .raw("0")
        .end();
}

/// `LSG id name 0` (MSNP8–9).
pub(super) fn encode_bitmask(group: &Group, out: &mut BytesMut) {
    Line::new(out, "LSG")
        .num(group.id)
        .url(&group.name)
        .raw("0")
        .end();
}

/// `LSG name group-guid` (MSNP10–12).
pub(super) fn encode_guid(group: &Group, out: &mut BytesMut) {
    Line::new(out, "LSG")
        .url(&group.name)
        .with(|o| write_group_guid(o, group.id))
        .end();
}
