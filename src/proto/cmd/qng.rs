//! `QNG`: the answer to `PNG`; bare in MSNP2–8, `QNG seconds` (until the next
//! expected `PNG`) from MSNP9 ([`Dialect::has_qng_seconds`]).

use bytes::BytesMut;

use super::wire::Line;
use crate::proto::Dialect;

/// `QNG` or `QNG seconds`.
pub(super) fn encode(dialect: Dialect, next_ping_seconds: u32, out: &mut BytesMut) {
    let mut line = Line::new(out, "QNG");
    if dialect.has_qng_seconds() {
        line.num(next_ping_seconds);
    }
    line.end();
}

#[cfg(test)]
mod tests {
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;

    #[test]
    fn encodes() {
        let reply = Reply::Qng {
            next_ping_seconds: 60,
        };
        assert_eq!(enc_all(2..=8, &reply), "QNG\r\n");
        assert_eq!(enc_all(9..=12, &reply), "QNG 60\r\n");
    }
}
