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

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::{encode_bitmask, encode_guid, encode_per_list};
    use crate::core::model::Group;
    use crate::proto::guid::group_guid;

    #[test]
    fn encodes_each_shape() {
        let group = Group {
            id: 2,
            name: "Co workers".into(),
        };
        let mut out = BytesMut::new();
        encode_per_list(8, 255, 2, 2, &group, &mut out);
        encode_bitmask(&group, &mut out);
        encode_guid(&group, &mut out);
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            format!(
                "LSG 8 255 2 2 2 Co%20workers 0\r\nLSG 2 Co%20workers 0\r\nLSG Co%20workers {}\r\n",
                group_guid(2)
            )
        );
    }
}
