//! `CHL 0 challenge` (MSNP6+): the server challenges the client, which must answer
//! with `QRY`.

use bytes::BytesMut;

use super::wire::Line;

/// `CHL 0 challenge`.
pub(super) fn encode(challenge: &str, out: &mut BytesMut) {
    Line::new(out, "CHL").raw("0").raw(challenge).end();
}

#[cfg(test)]
mod tests {
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        let reply = Reply::Chl {
            challenge: "15570131571988941333".into(),
        };
        assert_eq!(enc_all(6..=12, &reply), "CHL 0 15570131571988941333\r\n");
    }
}
