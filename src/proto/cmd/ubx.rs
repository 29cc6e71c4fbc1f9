//! `UBX email length` + payload (MSNP11+): a watched user's personal message and
//! current media, pushed by the notification server (the network id of MSNP14+ is
//! not sent).

use bytes::{Bytes, BytesMut};

use super::wire::Line;

/// `UBX email length` CRLF payload.
pub(super) fn encode(email: &str, payload: &Bytes, out: &mut BytesMut) {
    Line::new(out, "UBX")
        .raw(email)
        .num(payload.len() as u64)
        .end();
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        let data = "<Data><PSM>my msn all ducked</PSM><CurrentMedia></CurrentMedia></Data>";
        let reply = Reply::Ubx {
            email: "bob@passport.com".into(),
            payload: Bytes::from_static(data.as_bytes()),
        };
        assert_eq!(
            enc_all(11..=12, &reply),
            format!("UBX bob@passport.com 70\r\n{data}")
        );
    }
}
