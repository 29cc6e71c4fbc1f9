//! `CHG`: set one's own status.
//!
//! Client: `CHG trid STATUS [capabilities [msnobject]]` (capabilities from MSNP8, the
//! URL-encoded MSN object from MSNP9; both accepted in any dialect). `FLN` or an
//! unknown status, or non-decimal capabilities, is `201`. The MSN object is kept as
//! sent (URL-encoded); `0` means "none". Server echo: `CHG trid STATUS [caps
//! [msnobj]]`, capabilities when [`Dialect::has_capabilities`], the object when
//! [`Dialect::has_msn_objects`] and present.

use bytes::BytesMut;

use super::args::{Args, parse_u64};
use super::wire::Line;
use crate::core::presence::Status;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `CHG trid STATUS [caps [msnobj]]`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let status = Status::from_chg_code(args.next()?).ok_or_else(|| args.invalid())?;
    let capabilities = match args.opt() {
        Some(token) => Some(parse_u64(token).ok_or_else(|| args.invalid())?),
        None => None,
    };
    let msn_object = args.opt().filter(|o| *o != "0").map(str::to_owned);
    args.end()?;
    Ok(Command::Chg {
        trid: args.trid(),
        status,
        capabilities,
        msn_object,
    })
}

/// `CHG trid STATUS [caps [msnobj]]`.
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    status: Status,
    capabilities: u64,
    msn_object: Option<&str>,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "CHG");
    line.trid(trid).raw(status.code());
    if dialect.has_capabilities() {
        line.num(capabilities);
        if dialect.has_msn_objects() {
            line.raw_opt(msn_object);
        }
    }
    line.end();
}

#[cfg(test)]
mod tests {
    use crate::core::presence::Status;
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::{Command, ParseError, Reply};

    fn chg(status: Status, caps: Option<u64>, obj: Option<&str>) -> Command {
        Command::Chg {
            trid: 10,
            status,
            capabilities: caps,
            msn_object: obj.map(String::from),
        }
    }

    #[test]
    fn parses_per_dialect_shape() {
        assert_eq!(
            parse_line(Some(d(7)), "CHG 10 NLN"),
            Ok(chg(Status::Online, None, None))
        );
        assert_eq!(
            parse_line(Some(d(8)), "CHG 10 BSY 1073741824"),
            Ok(chg(Status::Busy, Some(1_073_741_824), None))
        );
        assert_eq!(
            parse_line(
                Some(d(9)),
                "CHG 10 HDN 268435492 %3Cmsnobj%20Creator%3D%22a%22%2F%3E"
            ),
            Ok(chg(
                Status::Hidden,
                Some(268_435_492),
                Some("%3Cmsnobj%20Creator%3D%22a%22%2F%3E")
            ))
        );
        assert_eq!(
            parse_line(Some(d(9)), "CHG 10 AWY 5 0"),
            Ok(chg(Status::Away, Some(5), None))
        );
        assert_eq!(
            parse_line(Some(d(8)), "CHG 10 NLN 18446744073709551615"),
            Ok(chg(Status::Online, Some(u64::MAX), None))
        );
    }

    #[test]
    fn rejects_bad_values() {
        for line in [
            "CHG 10 FLN",
            "CHG 10 XYZ",
            "CHG 10 nln",
            "CHG 10 NLN abc",
            "CHG 10 NLN -1",
            "CHG 10 NLN 18446744073709551616",
        ] {
            assert_eq!(
                parse_line(Some(d(8)), line),
                Err(ParseError::InvalidParameter { trid: 10 }),
                "{line}"
            );
        }
        assert_eq!(
            parse_line(Some(d(8)), "CHG 10"),
            Err(ParseError::Syntax { trid: Some(10) })
        );
        assert_eq!(
            parse_line(Some(d(9)), "CHG 10 NLN 1 obj extra"),
            Err(ParseError::Syntax { trid: Some(10) })
        );
    }

    #[test]
    fn encodes_per_dialect() {
        let reply = Reply::Chg {
            trid: 10,
            status: Status::Online,
            capabilities: 1_073_741_824,
            msn_object: Some("%3Cmsnobj%2F%3E".into()),
        };
        assert_eq!(enc_all(2..=7, &reply), "CHG 10 NLN\r\n");
        assert_eq!(enc_all(8..=8, &reply), "CHG 10 NLN 1073741824\r\n");
        assert_eq!(
            enc_all(9..=12, &reply),
            "CHG 10 NLN 1073741824 %3Cmsnobj%2F%3E\r\n"
        );
        let reply = Reply::Chg {
            trid: 11,
            status: Status::Away,
            capabilities: 0,
            msn_object: None,
        };
        assert_eq!(enc_all(9..=12, &reply), "CHG 11 AWY 0\r\n");
    }
}
