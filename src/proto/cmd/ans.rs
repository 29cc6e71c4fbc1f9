//! `ANS` (switchboard): join a conversation one was invited to.
//! Client: `ANS trid email cookie session-id`. Server: `ANS trid OK` after the
//! `IRO` roster lines.

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::{Command, ParseError, TrId};

/// Parses `ANS trid email cookie session-id`.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let email = args.next()?.to_owned();
    let cookie = args.next()?.to_owned();
    let session_id = args.next()?.to_owned();
    args.end()?;
    Ok(Command::Ans {
        trid: args.trid(),
        email,
        cookie,
        session_id,
    })
}

/// `ANS trid OK`.
pub(super) fn encode_ok(trid: TrId, out: &mut BytesMut) {
    Line::new(out, "ANS").trid(trid).raw("OK").end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{enc_all, parse_line};
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(None, "ANS 1 bob@passport.com 849102291.520491113 11752013"),
            Ok(Command::Ans {
                trid: 1,
                email: "bob@passport.com".into(),
                cookie: "849102291.520491113".into(),
                session_id: "11752013".into()
            })
        );
        assert_eq!(
            parse_line(None, "ANS 1 bob@passport.com 849102291.520491113"),
            Err(ParseError::Syntax { trid: Some(1) })
        );
        assert_eq!(
            parse_line(None, "ANS 1 a b c d"),
            Err(ParseError::Syntax { trid: Some(1) })
        );
    }

    #[test]
    fn encodes() {
        assert_eq!(enc_all(2..=12, &Reply::AnsOk { trid: 1 }), "ANS 1 OK\r\n");
    }
}
