//! `BLP`: the privacy mode for people on neither AL nor BL.
//!
//! Client: `BLP trid AL|BL` (else `201`). Server reply: `BLP trid version AL|BL`
//! (MSNP2–9) or `BLP trid AL|BL` (10+). In `SYN`: `BLP trid version AL|BL`
//! (MSNP2–7) or `BLP AL|BL` (8+).

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::core::lists::Privacy;
use crate::proto::dialect::SyncShape;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `BLP trid AL|BL`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let privacy = Privacy::from_code(args.next()?).ok_or_else(|| args.invalid())?;
    args.end()?;
    Ok(Command::Blp {
        trid: args.trid(),
        privacy,
    })
}

/// The reply to `BLP`.
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    version: u32,
    privacy: Privacy,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "BLP");
    line.trid(trid);
    if dialect.has_list_versions() {
        line.num(version);
    }
    line.raw(privacy.code()).end();
}

/// The `BLP` line inside a `SYN` answer.
pub(super) fn encode_in_sync(
    dialect: Dialect,
    trid: TrId,
    version: u32,
    privacy: Privacy,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "BLP");
    if dialect.sync_shape() == SyncShape::PerList {
        line.trid(trid).num(version);
    }
    line.raw(privacy.code()).end();
}

#[cfg(test)]
mod tests {
    use crate::core::lists::Privacy;
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(8)), "BLP 30 BL"),
            Ok(Command::Blp {
                trid: 30,
                privacy: Privacy::BlockAll
            })
        );
        assert_eq!(
            parse_line(Some(d(8)), "BLP 30 AL"),
            Ok(Command::Blp {
                trid: 30,
                privacy: Privacy::AllowAll
            })
        );
        assert_eq!(
            parse_line(Some(d(8)), "BLP 30 XL"),
            Err(ParseError::InvalidParameter { trid: 30 })
        );
        assert_eq!(
            parse_line(Some(d(8)), "BLP 30"),
            Err(ParseError::Syntax { trid: Some(30) })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::Blp {
            trid: 30,
            version: 1027,
            privacy: Privacy::BlockAll,
        };
        assert_eq!(enc_all(2..=9, &reply), "BLP 30 1027 BL\r\n");
        assert_eq!(enc_all(10..=12, &reply), "BLP 30 BL\r\n");
    }
}
