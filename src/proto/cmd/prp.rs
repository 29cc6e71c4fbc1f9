//! `PRP` (MSNP5+): set or clear one of one's own phone numbers.
//!
//! Client: `PRP trid KIND [value]` with KIND `PHH PHW PHM MOB` (else `201`, which
//! includes MSNP10's `MFN`) and the value URL-encoded. Server reply:
//! `PRP trid version KIND [value]` (MSNP5–9) or `PRP trid KIND [value]` (10+), value
//! URL-encoded and absent when cleared. In `SYN`: `PRP trid version KIND value`
//! (MSNP5–7) or `PRP KIND value` (8+).

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::command::PhoneKind;
use crate::proto::dialect::SyncShape;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `PRP trid KIND [value]`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let kind = PhoneKind::from_code(args.next()?).ok_or_else(|| args.invalid())?;
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
            parse_line(Some(d(11)), "PRP 40 MFN Me"),
            Err(ParseError::InvalidParameter { trid: 40 })
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
    }
}
