//! `FLN email`: a watched user went offline (same shape in MSNP2–12).

use bytes::BytesMut;

use super::wire::Line;

/// `FLN email`.
pub(super) fn encode(email: &str, out: &mut BytesMut) {
    Line::new(out, "FLN").raw(email).end();
}

#[cfg(test)]
mod tests {
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        let reply = Reply::Fln {
            email: "bob@passport.com".into(),
        };
        assert_eq!(enc_all(2..=12, &reply), "FLN bob@passport.com\r\n");
    }
}
