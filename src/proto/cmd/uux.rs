//! `UUX` (MSNP11+): set one's personal message and current media.
//!
//! Client: `UUX trid length` + XML payload (a missing payload or a length that does
//! not match it is `200`; the XML is the handler's to read). Server: `UUX trid 0`.

use bytes::{Bytes, BytesMut};

use super::args::Args;
use super::wire::Line;
use crate::proto::{Command, ParseError, TrId};

/// Parses `UUX trid length` + payload.
pub(super) fn parse(args: &mut Args<'_>, payload: Option<&Bytes>) -> Result<Command, ParseError> {
    let length = args.next()?;
    args.end()?;
    let payload = args.payload(length, payload)?;
    Ok(Command::Uux {
        trid: args.trid(),
        payload,
    })
}

/// `UUX trid 0`.
pub(super) fn encode_ok(trid: TrId, out: &mut BytesMut) {
    Line::new(out, "UUX").trid(trid).raw("0").end();
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::proto::cmd::testutil::{d, enc_all, parse_line, parse_with_payload};
    use crate::proto::{Command, ParseError, Reply};

    const DATA: &[u8] = b"<Data><PSM>test</PSM><CurrentMedia/></Data>";

    #[test]
    fn parses() {
        assert_eq!(
            parse_with_payload(Some(d(11)), "UUX 8 43", DATA),
            Ok(Command::Uux {
                trid: 8,
                payload: Bytes::from_static(DATA)
            })
        );
        assert_eq!(
            parse_line(Some(d(11)), "UUX 8 43"),
            Err(ParseError::Syntax { trid: Some(8) })
        );
        assert_eq!(
            parse_with_payload(Some(d(11)), "UUX 8 42", DATA),
            Err(ParseError::Syntax { trid: Some(8) })
        );
    }

    #[test]
    fn encodes() {
        assert_eq!(enc_all(11..=12, &Reply::UuxOk { trid: 8 }), "UUX 8 0\r\n");
    }
}
