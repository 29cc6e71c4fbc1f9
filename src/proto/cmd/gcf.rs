//! `GCF` (MSNP11–12): a server configuration file (in practice `Shields.xml`).
//!
//! Client: `GCF trid filename` (no payload; msnp11-sdk sends it right after `SYN` and
//! waits for the answer). Server: `GCF trid filename length` CRLF and the payload
//! with no terminator.

use bytes::{Bytes, BytesMut};

use super::args::Args;
use super::wire::Line;
use crate::proto::{Command, ParseError, TrId};

/// Parses `GCF trid filename`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let file = args.next()?.to_owned();
    args.end()?;
    Ok(Command::Gcf {
        trid: args.trid(),
        file,
    })
}

/// `GCF trid filename length` CRLF payload.
pub(super) fn encode(trid: TrId, file: &str, payload: &Bytes, out: &mut BytesMut) {
    Line::new(out, "GCF")
        .trid(trid)
        .raw(file)
        .num(payload.len() as u64)
        .end();
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::{Command, ParseError, Reply};

    const SHIELDS: &str = r#"<?xml version="1.0" encoding="utf-8" ?><config><shield><cli maj="7" min="0" minbld="0" maxbld="9999" deny=" " /></shield><block></block></config>"#;

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(11)), "GCF 6 Shields.xml"),
            Ok(Command::Gcf {
                trid: 6,
                file: "Shields.xml".into()
            })
        );
        assert_eq!(
            parse_line(Some(d(11)), "GCF 6"),
            Err(ParseError::Syntax { trid: Some(6) })
        );
        assert_eq!(
            parse_line(Some(d(11)), "GCF 6 a b"),
            Err(ParseError::Syntax { trid: Some(6) })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::Gcf {
            trid: 6,
            file: "Shields.xml".into(),
            payload: Bytes::from_static(SHIELDS.as_bytes()),
        };
        assert_eq!(
            enc_all(11..=12, &reply),
            format!("GCF 6 Shields.xml {}\r\n{SHIELDS}", SHIELDS.len())
        );
    }
}
