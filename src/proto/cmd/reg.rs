//! `REG` (MSNP7–12): rename a group.
//!
//! Client: `REG trid group name [0]` (group decimal, or a group GUID in GUID
//! dialects; name URL-encoded). Server: MSNP7–9 `REG trid version id name 0`;
//! MSNP10–12 `REG trid version name group-guid 0` (name before GUID, as Escargot
//! sends and msnp11-sdk expects).

use bytes::BytesMut;

use super::adg::group_ref;
use super::args::Args;
use super::wire::Line;
use crate::core::model::Group;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `REG trid group name [0]`.
pub(super) fn parse(dialect: Option<Dialect>, args: &mut Args<'_>) -> Result<Command, ParseError> {
    let token = args.next()?;
    let name = args.next_url()?;
    if let Some(zero) = args.opt()
        && zero != "0"
    {
        return Err(args.syntax());
    }
    args.end()?;
    Ok(Command::Reg {
        trid: args.trid(),
        group: args.group_id(dialect, token)?,
        name,
    })
}

/// `REG` as described in the module docs.
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    version: u32,
    group: &Group,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "REG");
    line.trid(trid).num(version);
    if dialect.has_guids() {
        line.url(&group.name);
        group_ref(&mut line, dialect, group.id);
    } else {
        group_ref(&mut line, dialect, group.id);
        line.url(&group.name);
    }
    line.raw("0").end();
}

#[cfg(test)]
mod tests {
    use crate::core::model::Group;
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::guid::group_guid;
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        let expected = Ok(Command::Reg {
            trid: 6,
            group: 2,
            name: "Co workers".into(),
        });
        assert_eq!(parse_line(Some(d(7)), "REG 6 2 Co%20workers 0"), expected);
        assert_eq!(parse_line(Some(d(8)), "REG 6 2 Co%20workers"), expected);
        let line = format!("REG 6 {} Co%20workers", group_guid(2));
        assert_eq!(parse_line(Some(d(11)), &line), expected);
        assert_eq!(
            parse_line(Some(d(8)), "REG 6 x Co%20workers"),
            Err(ParseError::InvalidParameter { trid: 6 })
        );
        assert_eq!(
            parse_line(Some(d(8)), "REG 6 2"),
            Err(ParseError::Syntax { trid: Some(6) })
        );
        assert_eq!(
            parse_line(Some(d(8)), "REG 6 2 a 7"),
            Err(ParseError::Syntax { trid: Some(6) })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::GroupRenamed {
            trid: 6,
            version: 258,
            group: Group {
                id: 2,
                name: "Co workers".into(),
            },
        };
        assert_eq!(enc_all(7..=9, &reply), "REG 6 258 2 Co%20workers 0\r\n");
        assert_eq!(
            enc_all(10..=12, &reply),
            format!("REG 6 258 Co%20workers {} 0\r\n", group_guid(2))
        );
    }
}
