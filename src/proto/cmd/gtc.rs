//! `GTC`: whether the client prompts when someone adds the user.
//!
//! Client: `GTC trid A|N` (else `201`). Server reply: `GTC trid version A|N`
//! (MSNP2–9) or `GTC trid A|N` (10+). In `SYN`: `GTC trid version A|N` (MSNP2–7)
//! or `GTC A|N` (8+).

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::core::lists::NewContactPrompt;
use crate::proto::dialect::SyncShape;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `GTC trid A|N`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let prompt = NewContactPrompt::from_code(args.next()?).ok_or_else(|| args.invalid())?;
    args.end()?;
    Ok(Command::Gtc {
        trid: args.trid(),
        prompt,
    })
}

/// The reply to `GTC`.
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    version: u32,
    prompt: NewContactPrompt,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "GTC");
    line.trid(trid);
    if dialect.has_list_versions() {
        line.num(version);
    }
    line.raw(prompt.code()).end();
}

/// The `GTC` line inside a `SYN` answer.
pub(super) fn encode_in_sync(
    dialect: Dialect,
    trid: TrId,
    version: u32,
    prompt: NewContactPrompt,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "GTC");
    if dialect.sync_shape() == SyncShape::PerList {
        line.trid(trid).num(version);
    }
    line.raw(prompt.code()).end();
}

#[cfg(test)]
mod tests {
    use crate::core::lists::NewContactPrompt;
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(8)), "GTC 31 N"),
            Ok(Command::Gtc {
                trid: 31,
                prompt: NewContactPrompt::Never
            })
        );
        assert_eq!(
            parse_line(Some(d(8)), "GTC 31 Y"),
            Err(ParseError::InvalidParameter { trid: 31 })
        );
        assert_eq!(
            parse_line(Some(d(8)), "GTC 31 A A"),
            Err(ParseError::Syntax { trid: Some(31) })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::Gtc {
            trid: 31,
            version: 1028,
            prompt: NewContactPrompt::Never,
        };
        assert_eq!(enc_all(2..=9, &reply), "GTC 31 1028 N\r\n");
        assert_eq!(enc_all(10..=12, &reply), "GTC 31 N\r\n");
    }
}
