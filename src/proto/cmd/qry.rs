//! `QRY` (MSNP6+): the answer to a `CHL` challenge.
//!
//! Client: `QRY trid product-id length` + `length` payload bytes (the response,
//! 32 hex digits from real clients; checking it is the handler's job). A missing
//! payload or a length token that does not match it is `200`. Server: `QRY trid`
//! when the answer was right.

use bytes::{Bytes, BytesMut};

use super::args::Args;
use super::wire::Line;
use crate::proto::{Command, ParseError, TrId};

/// Parses `QRY trid product-id length` + payload.
pub(super) fn parse(args: &mut Args<'_>, payload: Option<&Bytes>) -> Result<Command, ParseError> {
    let product_id = args.next()?.to_owned();
    let length = args.next()?;
    args.end()?;
    let response = args.payload(length, payload)?;
    Ok(Command::Qry {
        trid: args.trid(),
        product_id,
        response,
    })
}

/// `QRY trid`.
pub(super) fn encode_ok(trid: TrId, out: &mut BytesMut) {
    Line::new(out, "QRY").trid(trid).end();
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::proto::cmd::testutil::{d, enc_all, parse_line, parse_with_payload};
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_with_payload(
                Some(d(8)),
                "QRY 1049 msmsgs@msnmsgr.com 32",
                b"8f2f5a91b72102cd28355e9fc9000d6e"
            ),
            Ok(Command::Qry {
                trid: 1049,
                product_id: "msmsgs@msnmsgr.com".into(),
                response: Bytes::from_static(b"8f2f5a91b72102cd28355e9fc9000d6e")
            })
        );
    }

    #[test]
    fn rejects_bad_forms() {
        let syntax = Err(ParseError::Syntax { trid: Some(1049) });
        assert_eq!(
            parse_line(Some(d(8)), "QRY 1049 msmsgs@msnmsgr.com 32"),
            syntax
        );
        assert_eq!(
            parse_with_payload(Some(d(8)), "QRY 1049 msmsgs@msnmsgr.com 31", &[b'a'; 32]),
            syntax
        );
        assert_eq!(
            parse_with_payload(Some(d(8)), "QRY 1049 32", &[b'a'; 32]),
            syntax
        );
        assert_eq!(
            parse_with_payload(Some(d(8)), "QRY 1049 a b 32", &[b'a'; 32]),
            syntax
        );
    }

    #[test]
    fn encodes() {
        assert_eq!(
            enc_all(6..=12, &Reply::QryOk { trid: 1049 }),
            "QRY 1049\r\n"
        );
    }
}
