//! `ILN`: initial presence of a watched user, sent after the first `CHG` with that
//! `CHG`'s TrID: `ILN trid STATUS email nick [caps [msnobj]]` (tail as in `NLN`).

use bytes::BytesMut;

use super::nln::presence_tail;
use super::wire::Line;
use crate::proto::reply::PresenceInfo;
use crate::proto::{Dialect, TrId};

/// `ILN trid STATUS email nick [caps [msnobj]]`.
pub(super) fn encode(dialect: Dialect, trid: TrId, presence: &PresenceInfo, out: &mut BytesMut) {
    let mut line = Line::new(out, "ILN");
    line.trid(trid);
    presence_tail(&mut line, dialect, presence);
    line.end();
}

#[cfg(test)]
mod tests {
    use crate::core::presence::Status;
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;
    use crate::proto::reply::PresenceInfo;

    #[test]
    fn encodes_per_dialect() {
        let reply = Reply::Iln {
            trid: 10,
            presence: PresenceInfo {
                status: Status::Online,
                email: "bob@passport.com".into(),
                nick: "Bob".into(),
                capabilities: 1_073_741_824,
                msn_object: Some("%3Cmsnobj%2F%3E".into()),
            },
        };
        assert_eq!(
            enc_all(2..=7, &reply),
            "ILN 10 NLN bob@passport.com Bob\r\n"
        );
        assert_eq!(
            enc_all(8..=8, &reply),
            "ILN 10 NLN bob@passport.com Bob 1073741824\r\n"
        );
        assert_eq!(
            enc_all(9..=12, &reply),
            "ILN 10 NLN bob@passport.com Bob 1073741824 %3Cmsnobj%2F%3E\r\n"
        );
    }
}
