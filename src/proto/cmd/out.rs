//! `OUT`: the client logs out or leaves a switchboard (bare `OUT`, no TrID); the
//! server ends a session with `OUT`, `OUT OTH` (logged in elsewhere) or `OUT SSD`
//! (server shutting down).

use bytes::BytesMut;

use super::args::parse_trid;
use super::wire::Line;
use crate::proto::reply::OutReason;
use crate::proto::{Command, ParseError};

/// Parses `OUT` (any argument is a syntax error).
pub(super) fn parse(rest: &[&str]) -> Result<Command, ParseError> {
    match rest.first() {
        None => Ok(Command::Out),
        Some(first) => Err(ParseError::Syntax {
            trid: parse_trid(first),
        }),
    }
}

/// `OUT [OTH|SSD]`.
pub(super) fn encode(reason: Option<OutReason>, out: &mut BytesMut) {
    Line::new(out, "OUT")
        .raw_opt(reason.map(|r| match r {
            OutReason::OtherLogin => "OTH",
            OutReason::ServerShutdown => "SSD",
        }))
        .end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::reply::OutReason;
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(parse_line(Some(d(8)), "OUT"), Ok(Command::Out));
        assert_eq!(
            parse_line(Some(d(8)), "OUT OTH"),
            Err(ParseError::Syntax { trid: None })
        );
    }

    #[test]
    fn encodes() {
        assert_eq!(enc_all(2..=12, &Reply::Out { reason: None }), "OUT\r\n");
        assert_eq!(
            enc_all(
                2..=12,
                &Reply::Out {
                    reason: Some(OutReason::OtherLogin)
                }
            ),
            "OUT OTH\r\n"
        );
        assert_eq!(
            enc_all(
                2..=12,
                &Reply::Out {
                    reason: Some(OutReason::ServerShutdown)
                }
            ),
            "OUT SSD\r\n"
        );
    }
}
