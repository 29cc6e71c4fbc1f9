//! `CAL` (switchboard): invite someone into the conversation.
//! Client: `CAL trid email`. Server: `CAL trid RINGING session-id`.

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::{Command, ParseError, TrId};

/// Parses `CAL trid email`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let email = args.next()?.to_owned();
    args.end()?;
    Ok(Command::Cal {
        trid: args.trid(),
        email,
    })
}

/// `CAL trid RINGING session-id`.
pub(super) fn encode_ringing(trid: TrId, session_id: &str, out: &mut BytesMut) {
    Line::new(out, "CAL")
        .trid(trid)
        .raw("RINGING")
        .raw(session_id)
        .end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{enc_all, parse_line};
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(None, "CAL 2 bob@passport.com"),
            Ok(Command::Cal {
                trid: 2,
                email: "bob@passport.com".into()
            })
        );
        assert_eq!(
            parse_line(None, "CAL 2"),
            Err(ParseError::Syntax { trid: Some(2) })
        );
        assert_eq!(
            parse_line(None, "CAL 2 a@b.c d@e.f"),
            Err(ParseError::Syntax { trid: Some(2) })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::CalRinging {
            trid: 2,
            session_id: "11752013".into(),
        };
        assert_eq!(enc_all(2..=12, &reply), "CAL 2 RINGING 11752013\r\n");
    }
}
