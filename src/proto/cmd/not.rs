//! `NOT`: a notification-server alert (MSNP5+), `NOT length` CRLF and a
//! `<NOTIFICATION>` XML document with no terminator. Only the server sends it;
//! msnpd uses it for operator broadcasts (`protocol-spec/commands/NOT.md`).

use bytes::{Bytes, BytesMut};

use super::wire::Line;

/// `NOT length` CRLF payload.
pub(super) fn encode(payload: &Bytes, out: &mut BytesMut) {
    out.reserve(payload.len() + 16);
    Line::new(out, "NOT").num(payload.len() as u64).end();
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        let reply = Reply::Not {
            payload: Bytes::from_static(b"<NOTIFICATION/>"),
        };
        assert_eq!(enc_all(5..=12, &reply), "NOT 15\r\n<NOTIFICATION/>");
    }
}
