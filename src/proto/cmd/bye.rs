//! `BYE` (switchboard): someone left the conversation: `BYE email`, or `BYE email 1`
//! when the switchboard dropped them for idling.

use bytes::BytesMut;

use super::wire::Line;

/// `BYE email [1]`.
pub(super) fn encode(email: &str, idle: bool, out: &mut BytesMut) {
    Line::new(out, "BYE")
        .raw(email)
        .raw_opt(idle.then_some("1"))
        .end();
}

#[cfg(test)]
mod tests {
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        let reply = Reply::Bye {
            email: "bob@passport.com".into(),
            idle: false,
        };
        assert_eq!(enc_all(2..=12, &reply), "BYE bob@passport.com\r\n");
        let reply = Reply::Bye {
            email: "bob@passport.com".into(),
            idle: true,
        };
        assert_eq!(enc_all(2..=12, &reply), "BYE bob@passport.com 1\r\n");
    }
}
