//! `XFR`: transfer to another server.
//!
//! Client: `XFR trid SB` (a new switchboard; any other target is `201`). Server:
//! `XFR trid NS host:port ...` shaped by [`Dialect::xfr_ns_shape`], and
//! `XFR trid SB host:port CKI cookie`.

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::command::XfrTarget;
use crate::proto::dialect::XfrNsShape;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `XFR trid SB`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let target = args.next()?;
    args.end()?;
    match target {
        "SB" => Ok(Command::Xfr {
            trid: args.trid(),
            target: XfrTarget::Switchboard,
        }),
        _ => Err(args.invalid()),
    }
}

/// `XFR trid NS ns [0 [dispatch]]` by dialect.
pub(super) fn encode_ns(
    dialect: Dialect,
    trid: TrId,
    ns_addr: &str,
    dispatch_addr: &str,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "XFR");
    line.trid(trid).raw("NS").raw(ns_addr);
    match dialect.xfr_ns_shape() {
        XfrNsShape::Bare => {}
        XfrNsShape::WithZero => {
            line.raw("0");
        }
        XfrNsShape::WithDispatch => {
            line.raw("0").raw(dispatch_addr);
        }
    }
    line.end();
}

/// `XFR trid SB host:port CKI cookie`.
pub(super) fn encode_sb(trid: TrId, sb_addr: &str, cookie: &str, out: &mut BytesMut) {
    Line::new(out, "XFR")
        .trid(trid)
        .raw("SB")
        .raw(sb_addr)
        .raw("CKI")
        .raw(cookie)
        .end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::command::XfrTarget;
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(8)), "XFR 15 SB"),
            Ok(Command::Xfr {
                trid: 15,
                target: XfrTarget::Switchboard
            })
        );
        assert_eq!(
            parse_line(Some(d(8)), "XFR 15 NS"),
            Err(ParseError::InvalidParameter { trid: 15 })
        );
        assert_eq!(
            parse_line(Some(d(8)), "XFR 15"),
            Err(ParseError::Syntax { trid: Some(15) })
        );
        assert_eq!(
            parse_line(Some(d(8)), "XFR 15 SB x"),
            Err(ParseError::Syntax { trid: Some(15) })
        );
    }

    #[test]
    fn encodes_ns_per_dialect() {
        let reply = Reply::XfrNs {
            trid: 3,
            ns_addr: "10.0.0.5:1863".into(),
            dispatch_addr: "10.0.0.1:1863".into(),
        };
        assert_eq!(enc_all(2..=2, &reply), "XFR 3 NS 10.0.0.5:1863\r\n");
        assert_eq!(enc_all(3..=6, &reply), "XFR 3 NS 10.0.0.5:1863 0\r\n");
        assert_eq!(
            enc_all(7..=12, &reply),
            "XFR 3 NS 10.0.0.5:1863 0 10.0.0.1:1863\r\n"
        );
    }

    #[test]
    fn encodes_sb() {
        let reply = Reply::XfrSb {
            trid: 15,
            sb_addr: "207.46.108.37:1863".into(),
            cookie: "17262740.1050826919.32308".into(),
        };
        assert_eq!(
            enc_all(2..=12, &reply),
            "XFR 15 SB 207.46.108.37:1863 CKI 17262740.1050826919.32308\r\n"
        );
    }
}
