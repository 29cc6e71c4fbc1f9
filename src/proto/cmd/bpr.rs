//! `BPR` (MSNP5+): one phone number of a contact, sent inside a `SYN` answer
//! right after that contact's forward-list `LST` line:
//! - MSNP5–7 (per-list): `BPR version email KIND value`;
//! - MSNP8+: `BPR KIND value` (about the contact of the `LST` line before it).
//!
//! The value is URL-encoded. Shapes: research/msnp.md §2.3 (yellows111's
//! msnp-wiki `commands/syn.md` and `commands/bpr.md`).

use bytes::BytesMut;

use super::wire::Line;
use crate::proto::Dialect;
use crate::proto::command::PhoneKind;
use crate::proto::dialect::SyncShape;

/// One `BPR` line inside a `SYN` answer.
pub(super) fn encode_in_sync(
    dialect: Dialect,
    version: u32,
    email: &str,
    kind: PhoneKind,
    value: &str,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "BPR");
    if dialect.sync_shape() == SyncShape::PerList {
        line.num(version).raw(email);
    }
    line.raw(kind.code()).url(value).end();
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::encode_in_sync;
    use crate::proto::cmd::testutil::d;
    use crate::proto::command::PhoneKind;

    #[test]
    fn encodes_each_shape() {
        let mut out = BytesMut::new();
        encode_in_sync(d(5), 255, "a@b.c", PhoneKind::Home, "1 (222)", &mut out);
        encode_in_sync(d(7), 255, "a@b.c", PhoneKind::MobileAllowed, "Y", &mut out);
        encode_in_sync(d(8), 255, "a@b.c", PhoneKind::Work, "555-1234", &mut out);
        encode_in_sync(d(11), 255, "a@b.c", PhoneKind::Mobile, "1 2", &mut out);
        assert_eq!(
            String::from_utf8(out.to_vec()).unwrap(),
            "BPR 255 a@b.c PHH 1%20(222)\r\n\
             BPR 255 a@b.c MOB Y\r\n\
             BPR PHW 555-1234\r\n\
             BPR PHM 1%202\r\n"
        );
    }
}
