//! `PRP` (MSNP5+): set or clear one of one's own phone numbers, and (MSNP10+) set
//! one's own friendly name.
//!
//! Client: `PRP trid KIND [value]` with KIND `PHH PHW PHM MOB` (else `201`) and the
//! value URL-encoded; from MSNP10 ([`Dialect::has_prp_nickname`]) also
//! `PRP trid MFN nick` (nick required, URL-encoded), which replaces `REA`. Before
//! `VER` both are accepted. Server reply: `PRP trid version KIND [value]` (MSNP5–9)
//! or `PRP trid KIND [value]` (10+), value URL-encoded and absent when cleared;
//! `PRP trid MFN nick` for a name change. In `SYN`: `PRP trid version KIND value`
//! (MSNP5–7) or `PRP KIND value` (8+), and `PRP MFN nick` (10+).

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::command::PhoneKind;
use crate::proto::dialect::SyncShape;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `PRP trid KIND [value]` (and `PRP trid MFN nick` where it exists).
pub(super) fn parse(dialect: Option<Dialect>, args: &mut Args<'_>) -> Result<Command, ParseError> {
    let code = args.next()?;
    if code == "MFN" && dialect.is_none_or(Dialect::has_prp_nickname) {
        let nick = args.next_url()?;
        args.end()?;
        return Ok(Command::PrpNick {
            trid: args.trid(),
            nick,
        });
    }
    let kind = PhoneKind::from_code(code).ok_or_else(|| args.invalid())?;
    let value = match args.opt() {
        Some(token) => Some(args.url_decode(token)?),
        None => None,
    };
    args.end()?;
    Ok(Command::Prp {
        trid: args.trid(),
        kind,
        value,
    })
}

/// The reply to `PRP`.
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    version: u32,
    kind: PhoneKind,
    value: Option<&str>,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "PRP");
    line.trid(trid);
    if dialect.has_list_versions() {
        line.num(version);
    }
    line.raw(kind.code());
    if let Some(value) = value {
        line.url(value);
    }
    line.end();
}

/// `PRP trid MFN nick`: the answer to a friendly-name change (MSNP10+).
pub(super) fn encode_nick(trid: TrId, nick: &str, out: &mut BytesMut) {
    Line::new(out, "PRP").trid(trid).raw("MFN").url(nick).end();
}

/// `PRP MFN nick` inside a `SYN` answer (MSNP10+).
pub(super) fn encode_nick_in_sync(nick: &str, out: &mut BytesMut) {
    Line::new(out, "PRP").raw("MFN").url(nick).end();
}

/// One `PRP` line inside a `SYN` answer.
pub(super) fn encode_in_sync(
    dialect: Dialect,
    trid: TrId,
    version: u32,
    kind: PhoneKind,
    value: &str,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "PRP");
    if dialect.sync_shape() == SyncShape::PerList {
        line.trid(trid).num(version);
    }
    line.raw(kind.code()).url(value).end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::command::PhoneKind;
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(8)), "PRP 40 PHH 555%20555-1234"),
            Ok(Command::Prp {
                trid: 40,
                kind: PhoneKind::Home,
                value: Some("555 555-1234".into())
            })
        );
        assert_eq!(
            parse_line(Some(d(8)), "PRP 40 MOB"),
            Ok(Command::Prp {
                trid: 40,
                kind: PhoneKind::MobileAllowed,
                value: None
            })
        );
        assert_eq!(
            parse_line(Some(d(9)), "PRP 40 MFN Me"),
            Err(ParseError::InvalidParameter { trid: 40 })
        );
        for v in 10..=12 {
            assert_eq!(
                parse_line(Some(d(v)), "PRP 40 MFN Me%20Myself"),
                Ok(Command::PrpNick {
                    trid: 40,
                    nick: "Me Myself".into()
                })
            );
        }
        assert_eq!(
            parse_line(Some(d(11)), "PRP 40 MFN"),
            Err(ParseError::Syntax { trid: Some(40) })
        );
        assert_eq!(
            parse_line(Some(d(11)), "PRP 40 MFN a b"),
            Err(ParseError::Syntax { trid: Some(40) })
        );
        assert_eq!(
            parse_line(Some(d(8)), "PRP 40 PHW %FF"),
            Err(ParseError::InvalidParameter { trid: 40 })
        );
        assert_eq!(
            parse_line(Some(d(8)), "PRP 40"),
            Err(ParseError::Syntax { trid: Some(40) })
        );
        assert_eq!(
            parse_line(Some(d(8)), "PRP 40 PHW 1 2"),
            Err(ParseError::Syntax { trid: Some(40) })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::Prp {
            trid: 40,
            version: 9,
            kind: PhoneKind::Home,
            value: Some("123 (4567)".into()),
        };
        assert_eq!(enc_all(5..=9, &reply), "PRP 40 9 PHH 123%20(4567)\r\n");
        assert_eq!(enc_all(10..=12, &reply), "PRP 40 PHH 123%20(4567)\r\n");
        let cleared = Reply::Prp {
            trid: 41,
            version: 10,
            kind: PhoneKind::Work,
            value: None,
        };
        assert_eq!(enc_all(5..=9, &cleared), "PRP 41 10 PHW\r\n");
        let nick = Reply::PrpNick {
            trid: 42,
            nick: "Me Myself".into(),
        };
        assert_eq!(enc_all(10..=12, &nick), "PRP 42 MFN Me%20Myself\r\n");
    }
}
