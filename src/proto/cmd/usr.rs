//! `USR`: authentication, on the notification server and the switchboard.
//!
//! Client forms: `USR trid TWN I email`, `USR trid TWN S ticket`,
//! `USR trid MD5 I email`, `USR trid MD5 S hash` and, on the switchboard,
//! `USR trid email cookie`. An unknown method (e.g. `SSO`) or stage is `201`.
//! Server forms: `USR trid TWN S policy`, `USR trid MD5 S salt`, the login
//! success `USR trid OK ...` shaped by [`Dialect::usr_ok_shape`], and the
//! switchboard success `USR trid OK email nick`.

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::command::UsrArgs;
use crate::proto::dialect::UsrOkShape;
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses the forms above.
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let trid = args.trid();
    let first = args.next()?;
    let second = args.next()?;
    let usr = match args.opt() {
        // `USR trid email cookie`
        None => UsrArgs::Switchboard {
            email: first.to_owned(),
            cookie: second.to_owned(),
        },
        Some(value) => {
            args.end()?;
            let value = value.to_owned();
            match (first, second) {
                ("TWN", "I") => UsrArgs::TwnInitial { email: value },
                ("TWN", "S") => UsrArgs::TwnSubsequent { ticket: value },
                ("MD5", "I") => UsrArgs::Md5Initial { email: value },
                ("MD5", "S") => UsrArgs::Md5Subsequent { hash: value },
                _ => return Err(args.invalid()),
            }
        }
    };
    Ok(Command::Usr { trid, args: usr })
}

/// `USR trid TWN S policy`.
/// The Passport 1.4 "server arguments" the client copies into its login request
/// (shape as the service sent it; research/msnp.md §2.2).
pub(super) fn encode_twn_policy(trid: TrId, issued_at: u64, nonce: u128, out: &mut BytesMut) {
    let policy = format!(
        "lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct={issued_at},kpp=1,kv=5,ver=2.1.0173.1,tpf={nonce:032x}"
    );
    Line::new(out, "USR")
        .trid(trid)
        .raw("TWN")
        .raw("S")
        .raw(&policy)
        .end();
}

/// `USR trid MD5 S salt`.
pub(super) fn encode_md5_salt(trid: TrId, salt: &str, out: &mut BytesMut) {
    Line::new(out, "USR")
        .trid(trid)
        .raw("MD5")
        .raw("S")
        .raw(salt)
        .end();
}

/// Notification login success, by dialect: `USR trid OK email nick` (MSNP2–5),
/// `... nick verified` (6–7), `... nick verified 0` (8–9), `... email verified 0` (10+).
pub(super) fn encode_ok(
    dialect: Dialect,
    trid: TrId,
    email: &str,
    nick: &str,
    verified: bool,
    out: &mut BytesMut,
) {
    let verified = if verified { "1" } else { "0" };
    let mut line = Line::new(out, "USR");
    line.trid(trid).raw("OK").raw(email);
    match dialect.usr_ok_shape() {
        UsrOkShape::Nick => line.url(nick),
        UsrOkShape::NickVerified => line.url(nick).raw(verified),
        UsrOkShape::NickVerifiedZero => line.url(nick).raw(verified).raw("0"),
        UsrOkShape::VerifiedZero => line.raw(verified).raw("0"),
    };
    line.end();
}

/// Switchboard login success: `USR trid OK email nick`.
pub(super) fn encode_sb_ok(trid: TrId, email: &str, nick: &str, out: &mut BytesMut) {
    Line::new(out, "USR")
        .trid(trid)
        .raw("OK")
        .raw(email)
        .url(nick)
        .end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, enc, enc_all, parse_line};
    use crate::proto::command::UsrArgs;
    use crate::proto::{Command, ParseError, Reply};

    fn usr(line: &str) -> Result<UsrArgs, ParseError> {
        match parse_line(Some(d(8)), line)? {
            Command::Usr { trid, args } => {
                assert_eq!(trid, 6);
                Ok(args)
            }
            other => panic!("not USR: {other:?}"),
        }
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(
            usr("USR 6 TWN I example@hotmail.com"),
            Ok(UsrArgs::TwnInitial {
                email: "example@hotmail.com".into()
            })
        );
        assert_eq!(
            usr("USR 6 TWN S t=53*1hAu8ADuD3TEwd!cMrntTw$$&p=5eKBBC!yBH6ex$$"),
            Ok(UsrArgs::TwnSubsequent {
                ticket: "t=53*1hAu8ADuD3TEwd!cMrntTw$$&p=5eKBBC!yBH6ex$$".into()
            })
        );
        assert_eq!(
            usr("USR 6 MD5 I example@hotmail.com"),
            Ok(UsrArgs::Md5Initial {
                email: "example@hotmail.com".into()
            })
        );
        assert_eq!(
            usr("USR 6 MD5 S 6b05a0f5b1aa0959e128cfdd513ccf5c"),
            Ok(UsrArgs::Md5Subsequent {
                hash: "6b05a0f5b1aa0959e128cfdd513ccf5c".into()
            })
        );
        assert_eq!(
            usr("USR 6 example@passport.com 17262740.1050826919.32308"),
            Ok(UsrArgs::Switchboard {
                email: "example@passport.com".into(),
                cookie: "17262740.1050826919.32308".into()
            })
        );
    }

    #[test]
    fn rejects_bad_forms() {
        assert_eq!(usr("USR 6 TWN"), Err(ParseError::Syntax { trid: Some(6) }));
        assert_eq!(usr("USR 6"), Err(ParseError::Syntax { trid: Some(6) }));
        assert_eq!(
            usr("USR 6 TWN S a b"),
            Err(ParseError::Syntax { trid: Some(6) })
        );
        assert_eq!(
            usr("USR 6 SSO I a@b.c"),
            Err(ParseError::InvalidParameter { trid: 6 })
        );
        assert_eq!(
            usr("USR 6 TWN X a@b.c"),
            Err(ParseError::InvalidParameter { trid: 6 })
        );
    }

    #[test]
    fn encodes_challenges() {
        let reply = Reply::UsrTwnPolicy {
            trid: 6,
            issued_at: 1_062_764_229,
            nonce: 0x43f8a4c8ed940c04e3740be46c4d1619,
        };
        assert_eq!(
            enc_all(8..=12, &reply),
            "USR 6 TWN S lc=1033,id=507,tw=40,fs=1,ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,tpf=43f8a4c8ed940c04e3740be46c4d1619\r\n"
        );
        let reply = Reply::UsrMd5Salt {
            trid: 6,
            salt: "1013928519.693957190".into(),
        };
        assert_eq!(
            enc_all(2..=7, &reply),
            "USR 6 MD5 S 1013928519.693957190\r\n"
        );
    }

    #[test]
    fn encodes_ok_per_dialect() {
        let reply = Reply::UsrOk {
            trid: 7,
            email: "example@hotmail.com".into(),
            nick: "example user".into(),
            verified: true,
        };
        assert_eq!(
            enc_all(2..=5, &reply),
            "USR 7 OK example@hotmail.com example%20user\r\n"
        );
        assert_eq!(
            enc_all(6..=7, &reply),
            "USR 7 OK example@hotmail.com example%20user 1\r\n"
        );
        assert_eq!(
            enc_all(8..=9, &reply),
            "USR 7 OK example@hotmail.com example%20user 1 0\r\n"
        );
        assert_eq!(
            enc_all(10..=12, &reply),
            "USR 7 OK example@hotmail.com 1 0\r\n"
        );
        let unverified = Reply::UsrOk {
            trid: 7,
            email: "a@b.c".into(),
            nick: "a".into(),
            verified: false,
        };
        assert_eq!(enc(8, &unverified), "USR 7 OK a@b.c a 0 0\r\n");
    }

    #[test]
    fn encodes_sb_ok() {
        let reply = Reply::SbUsrOk {
            trid: 1,
            email: "example@passport.com".into(),
            nick: "Example Name".into(),
        };
        assert_eq!(
            enc_all(2..=12, &reply),
            "USR 1 OK example@passport.com Example%20Name\r\n"
        );
    }
}
