//! `VER`: dialect negotiation.
//!
//! Client: `VER trid MSNPx MSNPy ... [CVR0]` (at least one token). Server:
//! `VER trid MSNPx` with exactly the chosen dialect, or `VER trid 0` when none of
//! the offered dialects is served (the connection then closes).

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `VER trid token...`; the tokens are kept raw.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let trid = args.trid();
    let offered: Vec<String> = args.rest().iter().map(|t| (*t).to_owned()).collect();
    if offered.is_empty() {
        return Err(args.syntax());
    }
    Ok(Command::Ver { trid, offered })
}

/// `VER trid MSNPx` or `VER trid 0`.
pub(super) fn encode(trid: TrId, dialect: Option<Dialect>, out: &mut BytesMut) {
    let mut line = Line::new(out, "VER");
    line.trid(trid);
    match dialect {
        Some(d) => line.with(|o| {
            o.extend_from_slice(b"MSNP");
            super::wire::push_u64(o, d.version().into());
        }),
        None => line.raw("0"),
    };
    line.end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::{Command, Dialect, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(None, "VER 1 MSNP8 CVR0"),
            Ok(Command::Ver {
                trid: 1,
                offered: vec!["MSNP8".into(), "CVR0".into()]
            })
        );
        assert_eq!(
            parse_line(None, "VER 4 MSNP7 MSNP6 MSNP5 MSNP4 CVR0"),
            Ok(Command::Ver {
                trid: 4,
                offered: ["MSNP7", "MSNP6", "MSNP5", "MSNP4", "CVR0"]
                    .map(String::from)
                    .to_vec()
            })
        );
        assert_eq!(
            parse_line(Some(d(8)), "VER 1"),
            Err(ParseError::Syntax { trid: Some(1) })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::Ver {
            trid: 1,
            dialect: Some(Dialect::MSNP8),
        };
        assert_eq!(enc_all(2..=12, &reply), "VER 1 MSNP8\r\n");
        let reply = Reply::Ver {
            trid: 1,
            dialect: Dialect::new(12),
        };
        assert_eq!(enc_all(2..=12, &reply), "VER 1 MSNP12\r\n");
        let reply = Reply::Ver {
            trid: 3,
            dialect: None,
        };
        assert_eq!(enc_all(2..=12, &reply), "VER 3 0\r\n");
    }
}
