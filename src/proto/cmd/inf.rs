//! `INF` (MSNP2–7): which authentication method? Client `INF trid`, server
//! `INF trid MD5`.

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::{Command, ParseError, TrId};

/// Parses `INF trid`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    args.end()?;
    Ok(Command::Inf { trid: args.trid() })
}

/// `INF trid MD5`.
pub(super) fn encode(trid: TrId, out: &mut BytesMut) {
    Line::new(out, "INF").trid(trid).raw("MD5").end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(7)), "INF 2"),
            Ok(Command::Inf { trid: 2 })
        );
        assert_eq!(
            parse_line(Some(d(7)), "INF 2 MD5"),
            Err(ParseError::Syntax { trid: Some(2) })
        );
    }

    #[test]
    fn encodes() {
        assert_eq!(enc_all(2..=7, &Reply::Inf { trid: 2 }), "INF 2 MD5\r\n");
    }
}
