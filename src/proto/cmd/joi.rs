//! `JOI` (switchboard): someone joined the conversation: `JOI email nick`, plus the
//! joiner's capabilities from MSNP12 ([`Dialect::has_sb_capabilities`]).

use bytes::BytesMut;

use super::wire::Line;
use crate::proto::Dialect;

/// `JOI email nick [caps]`.
pub(super) fn encode(
    dialect: Dialect,
    email: &str,
    nick: &str,
    capabilities: u64,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "JOI");
    line.raw(email).url(nick);
    if dialect.has_sb_capabilities() {
        line.num(capabilities);
    }
    line.end();
}

#[cfg(test)]
mod tests {
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        let reply = Reply::Joi {
            email: "bob@passport.com".into(),
            nick: "Bob B".into(),
            capabilities: 1_342_177_280,
        };
        assert_eq!(enc_all(2..=11, &reply), "JOI bob@passport.com Bob%20B\r\n");
        assert_eq!(
            enc_all(12..=12, &reply),
            "JOI bob@passport.com Bob%20B 1342177280\r\n"
        );
    }
}
