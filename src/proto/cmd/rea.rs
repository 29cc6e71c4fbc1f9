//! `REA` (MSNP2–9): change a friendly name (one's own, or a contact's stored one).
//!
//! Client: `REA trid email nick` (nick URL-encoded). Server:
//! `REA trid version email nick`. MSNP10+ has no `REA` (own names go through
//! `PRP MFN`); if asked, the encoder drops the version there like every other list
//! reply of those dialects.

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `REA trid email nick`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let email = args.next()?.to_owned();
    let nick = args.next_url()?;
    args.end()?;
    Ok(Command::Rea {
        trid: args.trid(),
        email,
        nick,
    })
}

/// `REA trid version email nick`.
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    version: u32,
    email: &str,
    nick: &str,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "REA");
    line.trid(trid);
    if dialect.has_list_versions() {
        line.num(version);
    }
    line.raw(email).url(nick).end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(8)), "REA 12 me@x.com My%20Name%20%E2%9C%93"),
            Ok(Command::Rea {
                trid: 12,
                email: "me@x.com".into(),
                nick: "My Name \u{2713}".into()
            })
        );
        assert_eq!(
            parse_line(Some(d(8)), "REA 12 me@x.com"),
            Err(ParseError::Syntax { trid: Some(12) })
        );
        assert_eq!(
            parse_line(Some(d(8)), "REA 12 me@x.com a b"),
            Err(ParseError::Syntax { trid: Some(12) })
        );
        assert_eq!(
            parse_line(Some(d(8)), "REA 12 me@x.com %E2%9C"),
            Err(ParseError::InvalidParameter { trid: 12 })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::Rea {
            trid: 12,
            version: 300,
            email: "me@x.com".into(),
            nick: "My Name \u{2713}".into(),
        };
        assert_eq!(
            enc_all(2..=9, &reply),
            "REA 12 300 me@x.com My%20Name%20%E2%9C%93\r\n"
        );
        assert_eq!(
            enc_all(10..=12, &reply),
            "REA 12 me@x.com My%20Name%20%E2%9C%93\r\n"
        );
    }
}
