//! `NAK trid` (switchboard): a `MSG` sent with mode `A` or `N` was not delivered.

use bytes::BytesMut;

use super::wire::Line;
use crate::proto::TrId;

/// `NAK trid`.
pub(super) fn encode(trid: TrId, out: &mut BytesMut) {
    Line::new(out, "NAK").trid(trid).end();
}

#[cfg(test)]
mod tests {
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        assert_eq!(enc_all(2..=12, &Reply::Nak { trid: 4 }), "NAK 4\r\n");
    }
}
