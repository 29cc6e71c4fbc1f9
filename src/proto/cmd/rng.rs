//! `RNG`: an invitation to a switchboard, pushed by the notification server:
//! `RNG session-id host:port CKI cookie caller-email caller-nick` (MSNP2–12; the
//! extra fields of MSNP13+ are not sent).

use bytes::BytesMut;

use super::wire::Line;

/// `RNG session-id host:port CKI cookie caller-email caller-nick`.
pub(super) fn encode(
    session_id: &str,
    sb_addr: &str,
    cookie: &str,
    caller_email: &str,
    caller_nick: &str,
    out: &mut BytesMut,
) {
    Line::new(out, "RNG")
        .raw(session_id)
        .raw(sb_addr)
        .raw("CKI")
        .raw(cookie)
        .raw(caller_email)
        .url(caller_nick)
        .end();
}

#[cfg(test)]
mod tests {
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        let reply = Reply::Rng {
            session_id: "11752013".into(),
            sb_addr: "207.46.108.38:1863".into(),
            cookie: "849102291.520491113".into(),
            caller_email: "example@passport.com".into(),
            caller_nick: "Example Name".into(),
        };
        assert_eq!(
            enc_all(2..=12, &reply),
            "RNG 11752013 207.46.108.38:1863 CKI 849102291.520491113 example@passport.com Example%20Name\r\n"
        );
    }
}
