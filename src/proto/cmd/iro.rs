//! `IRO` (switchboard): who is already in the conversation, one line per member,
//! sent to someone joining with `ANS`: `IRO trid index total email nick`, plus
//! capabilities from MSNP12 ([`Dialect::has_sb_capabilities`]).

use bytes::BytesMut;

use super::wire::Line;
use crate::proto::{Dialect, TrId};

/// `IRO trid index total email nick [caps]`.
#[allow(clippy::too_many_arguments)]
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    index: u32,
    total: u32,
    email: &str,
    nick: &str,
    capabilities: u64,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "IRO");
    line.trid(trid).num(index).num(total).raw(email).url(nick);
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
        let reply = Reply::Iro {
            trid: 1,
            index: 1,
            total: 2,
            email: "example@passport.com".into(),
            nick: "Example Name".into(),
            capabilities: 268_435_456,
        };
        assert_eq!(
            enc_all(2..=11, &reply),
            "IRO 1 1 2 example@passport.com Example%20Name\r\n"
        );
        assert_eq!(
            enc_all(12..=12, &reply),
            "IRO 1 1 2 example@passport.com Example%20Name 268435456\r\n"
        );
    }
}
