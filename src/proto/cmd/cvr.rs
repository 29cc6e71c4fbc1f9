//! `CVR`: client version information.
//!
//! Client: `CVR trid locale os osver arch client clientver [product] [account]`
//! (the account is the 8th argument since MSNP8); the tokens are kept raw. The
//! parser accepts any number of them: fewer than six (locale through client
//! version) is answered `710` (bad CVR parameters) by the notification handler,
//! which is what clients expect instead of a syntax error. Server: `CVR trid
//! recommended minimum download download-url info-url`.

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::proto::reply::CvrInfo;
use crate::proto::{Command, ParseError, TrId};

/// Parses `CVR trid args...` (any number of arguments; see the module docs).
pub(super) fn parse(args: &mut Args<'_>) -> Result<Command, ParseError> {
    let trid = args.trid();
    let rest = args.rest();
    Ok(Command::Cvr {
        trid,
        args: rest.iter().map(|t| (*t).to_owned()).collect(),
    })
}

/// `CVR trid rec min dl url info`.
pub(super) fn encode(trid: TrId, info: &CvrInfo, out: &mut BytesMut) {
    Line::new(out, "CVR")
        .trid(trid)
        .raw(&info.recommended)
        .raw(&info.minimum)
        .raw(&info.download)
        .raw(&info.download_url)
        .raw(&info.info_url)
        .end();
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, enc_all, parse_line};
    use crate::proto::reply::CvrInfo;
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        let Ok(Command::Cvr { trid, args }) = parse_line(
            Some(d(8)),
            "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS example@hotmail.com",
        ) else {
            panic!("not a CVR")
        };
        assert_eq!(trid, 2);
        assert_eq!(args.len(), 8);
        assert_eq!(args[7], "example@hotmail.com");
        assert!(parse_line(Some(d(5)), "CVR 2 0x0409 win 4.10 i386 MSMSGS 1.0.0863").is_ok());
        // Too few arguments parse; the handler answers 710.
        let Ok(Command::Cvr { args, .. }) =
            parse_line(Some(d(8)), "CVR 2 0x0409 winnt 5.1 i386 MSNMSGR")
        else {
            panic!("not a CVR")
        };
        assert_eq!(args.len(), 5);
        assert_eq!(
            parse_line(Some(d(8)), "CVR"),
            Err(ParseError::Syntax { trid: None })
        );
    }

    #[test]
    fn encodes() {
        let reply = Reply::Cvr {
            trid: 2,
            info: CvrInfo {
                recommended: "6.1.0211".into(),
                minimum: "6.1.0211".into(),
                download: "6.1.0155".into(),
                download_url: "http://example.com/SetupDl.exe".into(),
                info_url: "http://messenger.msn.com".into(),
            },
        };
        assert_eq!(
            enc_all(2..=12, &reply),
            "CVR 2 6.1.0211 6.1.0211 6.1.0155 http://example.com/SetupDl.exe http://messenger.msn.com\r\n"
        );
    }
}
