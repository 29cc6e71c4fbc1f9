//! Numeric error replies: `CODE trid` (the same in every dialect).

use bytes::BytesMut;

use super::wire::Line;
use crate::proto::{ErrorCode, TrId};

/// `CODE trid`.
pub(super) fn encode(code: ErrorCode, trid: TrId, out: &mut BytesMut) {
    Line::code(out, code.number()).trid(trid).end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::enc_all;
    use crate::proto::{ErrorCode, Reply};

    #[test]
    fn encodes() {
        let reply = Reply::Error {
            code: ErrorCode::AuthFailed,
            trid: 7,
        };
        assert_eq!(enc_all(2..=12, &reply), "911 7\r\n");
        let reply = Reply::Error {
            code: ErrorCode::SyntaxError,
            trid: 0,
        };
        assert_eq!(enc_all(2..=12, &reply), "200 0\r\n");
    }
}
