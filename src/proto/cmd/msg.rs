//! `MSG`: a message with a MIME payload.
//!
//! Client (switchboard): `MSG trid U|N|A|D length` + `length` payload bytes (an
//! unknown acknowledgement mode is `201`; a missing payload or a length that does
//! not match it is `200`; `D` is accepted in every dialect, the gate decides).
//! Server: `MSG sender sender-nick length` CRLF and the payload with no terminator
//! (`MSG Hotmail Hotmail ...` for notification-server messages); the nick is
//! URL-encoded.

use bytes::{Bytes, BytesMut};

use super::args::Args;
use super::wire::Line;
use crate::proto::command::AckMode;
use crate::proto::{Command, ParseError};

/// Parses `MSG trid U|N|A|D length` + payload.
pub(super) fn parse(args: &mut Args<'_>, payload: Option<&Bytes>) -> Result<Command, ParseError> {
    let ack = match args.next()? {
        "U" => AckMode::Unacknowledged,
        "N" => AckMode::NakOnly,
        "A" => AckMode::Acknowledged,
        "D" => AckMode::Data,
        _ => return Err(args.invalid()),
    };
    let length = args.next()?;
    args.end()?;
    let payload = args.payload(length, payload)?;
    Ok(Command::Msg {
        trid: args.trid(),
        ack,
        payload,
    })
}

/// `MSG sender nick length` CRLF payload.
pub(super) fn encode(sender: &str, sender_nick: &str, payload: &Bytes, out: &mut BytesMut) {
    out.reserve(sender.len() + sender_nick.len() + payload.len() + 32);
    Line::new(out, "MSG")
        .raw(sender)
        .url(sender_nick)
        .num(payload.len() as u64)
        .end();
    out.extend_from_slice(payload);
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use crate::proto::cmd::testutil::{enc_all, parse_line, parse_with_payload};
    use crate::proto::command::AckMode;
    use crate::proto::{Command, ParseError, Reply};

    const BODY: &[u8] = b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nhi";

    #[test]
    fn parses_every_mode() {
        for (token, ack) in [
            ("U", AckMode::Unacknowledged),
            ("N", AckMode::NakOnly),
            ("A", AckMode::Acknowledged),
            ("D", AckMode::Data),
        ] {
            let line = format!("MSG 3 {token} {}", BODY.len());
            assert_eq!(
                parse_with_payload(None, &line, BODY),
                Ok(Command::Msg {
                    trid: 3,
                    ack,
                    payload: Bytes::from_static(BODY)
                })
            );
        }
    }

    #[test]
    fn rejects_bad_forms() {
        assert_eq!(
            parse_with_payload(None, "MSG 3 X 2", b"hi"),
            Err(ParseError::InvalidParameter { trid: 3 })
        );
        assert_eq!(
            parse_with_payload(None, "MSG 3 A 3", b"hi"),
            Err(ParseError::Syntax { trid: Some(3) })
        );
        assert_eq!(
            parse_line(None, "MSG 3 A 2"),
            Err(ParseError::Syntax { trid: Some(3) })
        );
        assert_eq!(
            parse_with_payload(None, "MSG 3 2", b"hi"),
            Err(ParseError::InvalidParameter { trid: 3 })
        );
        assert_eq!(
            parse_with_payload(None, "MSG 3 A 1 2", b"hi"),
            Err(ParseError::Syntax { trid: Some(3) })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::Msg {
            sender: "example@passport.com".into(),
            sender_nick: "Example Name".into(),
            payload: Bytes::from_static(BODY),
        };
        let mut expected = format!("MSG example@passport.com Example%20Name {}\r\n", BODY.len());
        expected.push_str(std::str::from_utf8(BODY).unwrap());
        assert_eq!(enc_all(2..=12, &reply), expected);
        let reply = Reply::Msg {
            sender: "Hotmail".into(),
            sender_nick: "Hotmail".into(),
            payload: Bytes::new(),
        };
        assert_eq!(enc_all(2..=12, &reply), "MSG Hotmail Hotmail 0\r\n");
    }
}
