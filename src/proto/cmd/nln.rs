//! `NLN`: a watched user changed status. Also the presence argument tail shared
//! with `ILN`: `STATUS email nick [caps [msnobj]]`, capabilities when
//! [`Dialect::has_capabilities`] (MSNP8+), the MSN object when
//! [`Dialect::has_msn_objects`] (MSNP9+) and present.

use bytes::BytesMut;

use super::wire::Line;
use crate::proto::Dialect;
use crate::proto::reply::PresenceInfo;

/// Appends ` STATUS email nick [caps [msnobj]]` to `line`.
pub(super) fn presence_tail(line: &mut Line<'_>, dialect: Dialect, presence: &PresenceInfo) {
    line.raw(presence.status.code())
        .raw(&presence.email)
        .url(&presence.nick);
    if dialect.has_capabilities() {
        line.num(presence.capabilities);
        if dialect.has_msn_objects() {
            line.raw_opt(presence.msn_object.as_deref());
        }
    }
}

/// `NLN STATUS email nick [caps [msnobj]]`.
pub(super) fn encode(dialect: Dialect, presence: &PresenceInfo, out: &mut BytesMut) {
    let mut line = Line::new(out, "NLN");
    presence_tail(&mut line, dialect, presence);
    line.end();
}

#[cfg(test)]
mod tests {
    use crate::core::presence::Status;
    use crate::proto::Reply;
    use crate::proto::cmd::testutil::enc_all;
    use crate::proto::reply::PresenceInfo;

    fn bob(msn_object: Option<&str>) -> PresenceInfo {
        PresenceInfo {
            status: Status::Busy,
            email: "bob@passport.com".into(),
            nick: "Bob B".into(),
            capabilities: 1_073_741_824,
            msn_object: msn_object.map(String::from),
        }
    }

    #[test]
    fn encodes_per_dialect() {
        let reply = Reply::Nln {
            presence: bob(Some("%3Cmsnobj%2F%3E")),
        };
        assert_eq!(
            enc_all(2..=7, &reply),
            "NLN BSY bob@passport.com Bob%20B\r\n"
        );
        assert_eq!(
            enc_all(8..=8, &reply),
            "NLN BSY bob@passport.com Bob%20B 1073741824\r\n"
        );
        assert_eq!(
            enc_all(9..=12, &reply),
            "NLN BSY bob@passport.com Bob%20B 1073741824 %3Cmsnobj%2F%3E\r\n"
        );
        let reply = Reply::Nln {
            presence: bob(None),
        };
        assert_eq!(
            enc_all(9..=12, &reply),
            "NLN BSY bob@passport.com Bob%20B 1073741824\r\n"
        );
    }
}
