//! `ADG` (MSNP7–12): add a group.
//!
//! Client: `ADG trid name [0]` (name URL-encoded; the trailing `0` of MSNP7–9 is
//! optional). Server: MSNP7–9 `ADG trid version name id 0`; MSNP10–12
//! `ADG trid version name group-guid 0` (the msnp11-sdk test client matches the
//! name as the 4th token; Escargot's MSNP10+ `RMG`/`REG` also keep a number there).

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::core::model::Group;
use crate::proto::guid::write_group_guid;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `ADG trid name [0]`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let name = args.next_url()?;
    if let Some(zero) = args.opt()
        && zero != "0"
    {
        return Err(args.syntax());
    }
    args.end()?;
    Ok(Command::Adg {
        trid: args.trid(),
        name,
    })
}

/// Writes ` id` (numeric dialects) or ` group-guid` (GUID dialects).
pub(super) fn group_ref(line: &mut Line<'_>, dialect: Dialect, id: u32) {
    if dialect.has_guids() {
        line.with(|o| write_group_guid(o, id));
    } else {
        line.num(id);
    }
}

/// `ADG trid version name id|guid 0`.
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    version: u32,
    group: &Group,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "ADG");
    line.trid(trid).num(version).url(&group.name);
    group_ref(&mut line, dialect, group.id);
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
        let expected = Ok(Command::Adg {
            trid: 1,
            name: "New Group 1".into(),
        });
        assert_eq!(parse_line(Some(d(7)), "ADG 1 New%20Group%201 0"), expected);
        assert_eq!(parse_line(Some(d(11)), "ADG 1 New%20Group%201"), expected);
        assert_eq!(
            parse_line(Some(d(7)), "ADG 1 a 1"),
            Err(ParseError::Syntax { trid: Some(1) })
        );
        assert_eq!(
            parse_line(Some(d(7)), "ADG 1"),
            Err(ParseError::Syntax { trid: Some(1) })
        );
        assert_eq!(
            parse_line(Some(d(7)), "ADG 1 %FF"),
            Err(ParseError::InvalidParameter { trid: 1 })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::GroupAdded {
            trid: 1,
            version: 256,
            group: Group {
                id: 29,
                name: "New Group 1".into(),
            },
        };
        assert_eq!(enc_all(7..=9, &reply), "ADG 1 256 New%20Group%201 29 0\r\n");
        assert_eq!(
            enc_all(10..=12, &reply),
            format!("ADG 1 256 New%20Group%201 {} 0\r\n", group_guid(29))
        );
    }
}
