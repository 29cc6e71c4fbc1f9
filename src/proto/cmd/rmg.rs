//! `RMG` (MSNP7–12): remove a group.
//!
//! Client: `RMG trid group` (decimal, or a group GUID in GUID dialects; else `201`).
//! Server: `RMG trid version id` (MSNP7–9) or `RMG trid version group-guid` (10+).

use bytes::BytesMut;

use super::adg::group_ref;
use super::args::Args;
use super::wire::Line;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `RMG trid group`.
pub(super) fn parse(dialect: Option<Dialect>, args: &mut Args<'_>) -> Result<Command, ParseError> {
    let token = args.next()?;
    args.end()?;
    Ok(Command::Rmg {
        trid: args.trid(),
        group: args.group_id(dialect, token)?,
    })
}

/// `RMG trid version id|guid`.
pub(super) fn encode(dialect: Dialect, trid: TrId, version: u32, group: u32, out: &mut BytesMut) {
    let mut line = Line::new(out, "RMG");
    line.trid(trid).num(version);
    group_ref(&mut line, dialect, group);
    line.end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::guid::group_guid;
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(7)), "RMG 5 29"),
            Ok(Command::Rmg { trid: 5, group: 29 })
        );
        let line = format!("RMG 5 {}", group_guid(29));
        assert_eq!(
            parse_line(Some(d(10)), &line),
            Ok(Command::Rmg { trid: 5, group: 29 })
        );
        assert_eq!(
            parse_line(Some(d(9)), &line),
            Err(ParseError::InvalidParameter { trid: 5 })
        );
        assert_eq!(
            parse_line(Some(d(7)), "RMG 5 New%20Group"),
            Err(ParseError::InvalidParameter { trid: 5 })
        );
        assert_eq!(
            parse_line(Some(d(7)), "RMG 5"),
            Err(ParseError::Syntax { trid: Some(5) })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::GroupRemoved {
            trid: 5,
            version: 257,
            group: 29,
        };
        assert_eq!(enc_all(7..=9, &reply), "RMG 5 257 29\r\n");
        assert_eq!(
            enc_all(10..=12, &reply),
            format!("RMG 5 257 {}\r\n", group_guid(29))
        );
    }
}
