//! `ACK trid` (switchboard): a `MSG` sent with mode `A` or `D` was delivered.

use bytes::BytesMut;

use super::wire::Line;
use crate::proto::TrId;

/// `ACK trid`.
pub(super) fn encode(trid: TrId, out: &mut BytesMut) {
    Line::new(out, "ACK").trid(trid).end();
}

#[cfg(test)]
mod tests {
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        assert_eq!(enc_all(2..=12, &Reply::Ack { trid: 3 }), "ACK 3\r\n");
    }
}
