//! Parse and encode, one file per verb. [`parse_command`] tokenizes a framed line
//! and hands the arguments to the verb's parser; [`encode_reply`] hands each
//! [`Reply`] to the encoder of its verb, which writes it as the dialect spells it.
//!
//! Parsing rules shared by every verb:
//! - verbs are matched case-insensitively (netcat users type lower case);
//! - every verb but `PNG` and `OUT` needs a decimal TrID as its first argument,
//!   else `Syntax { trid: None }`;
//! - a missing or extra argument is `Syntax { trid }`; a well-formed but invalid
//!   value (unknown list, status, privacy value, bad URL-encoding) is
//!   `InvalidParameter { trid }`;
//! - an unknown verb is `Syntax { trid }` with the TrID read from the second token
//!   when it is decimal.

use bytes::BytesMut;

use super::{Command, Dialect, Frame, ParseError, Reply};

mod args;
mod wire;

mod ack;
mod adc;
mod add;
mod adg;
mod ans;
mod blp;
mod bpr;
mod bye;
mod cal;
mod chg;
mod chl;
mod cvr;
mod error;
mod fln;
mod gcf;
mod gtc;
mod iln;
mod inf;
mod iro;
mod joi;
mod lsg;
mod lst;
mod msg;
mod nak;
mod nln;
mod not;
mod out;
mod png;
mod prp;
mod qng;
mod qry;
mod rea;
mod reg;
mod rem;
mod rmg;
mod rng;
mod syn;
mod ubx;
mod usr;
mod uux;
mod ver;
mod xfr;

#[cfg(test)]
mod testutil;

/// Parses a framed line (and its payload) into a command. `dialect` is `None`
/// before `VER` has been negotiated.
pub fn parse_command(dialect: Option<Dialect>, frame: &Frame) -> Result<Command, ParseError> {
    let tokens = args::tokenize(&frame.line)?;
    let unknown = || ParseError::Syntax {
        trid: tokens.rest.first().and_then(|t| args::parse_trid(t)),
    };
    let mut verb = match <[u8; 3]>::try_from(tokens.verb.as_bytes()) {
        Ok(verb) => verb,
        Err(_) => return Err(unknown()),
    };
    verb.make_ascii_uppercase();
    let rest = &tokens.rest[..];
    let args = || args::Args::new(rest);
    let payload = frame.payload.as_ref();
    match &verb {
        b"PNG" => png::parse(rest),
        b"OUT" => out::parse(rest),
        b"VER" => ver::parse(&mut args()?),
        b"CVR" => cvr::parse(&mut args()?),
        b"INF" => inf::parse(&mut args()?),
        b"USR" => usr::parse(&mut args()?),
        b"SYN" => syn::parse(dialect, &mut args()?),
        b"CHG" => chg::parse(&mut args()?),
        b"ADD" => add::parse(dialect, &mut args()?),
        b"ADC" => adc::parse(dialect, &mut args()?),
        b"REM" => rem::parse(dialect, &mut args()?),
        b"ADG" => adg::parse(&mut args()?),
        b"RMG" => rmg::parse(dialect, &mut args()?),
        b"REG" => reg::parse(dialect, &mut args()?),
        b"REA" => rea::parse(&mut args()?),
        b"BLP" => blp::parse(&mut args()?),
        b"GTC" => gtc::parse(&mut args()?),
        b"PRP" => prp::parse(dialect, &mut args()?),
        b"XFR" => xfr::parse(&mut args()?),
        b"QRY" => qry::parse(&mut args()?, payload),
        b"ANS" => ans::parse(&mut args()?),
        b"CAL" => cal::parse(&mut args()?),
        b"MSG" => msg::parse(&mut args()?, payload),
        b"GCF" => gcf::parse(&mut args()?),
        b"UUX" => uux::parse(&mut args()?, payload),
        _ => Err(unknown()),
    }
}

/// Appends the wire bytes of `reply`, as `dialect` spells it, to `out`. Every line
/// ends with CRLF; a `MSG` payload follows its line with no terminator.
pub fn encode_reply(dialect: Dialect, reply: &Reply, out: &mut BytesMut) {
    match reply {
        Reply::Error { code, trid } => error::encode(*code, *trid, out),
        Reply::Ver { trid, dialect } => ver::encode(*trid, *dialect, out),
        Reply::Cvr { trid, info } => cvr::encode(*trid, info, out),
        Reply::Inf { trid } => inf::encode(*trid, out),
        Reply::UsrTwnPolicy {
            trid,
            issued_at,
            nonce,
        } => usr::encode_twn_policy(*trid, *issued_at, *nonce, out),
        Reply::UsrMd5Salt { trid, salt } => usr::encode_md5_salt(*trid, salt, out),
        Reply::UsrOk {
            trid,
            email,
            nick,
            verified,
        } => usr::encode_ok(dialect, *trid, email, nick, *verified, out),
        Reply::SbUsrOk { trid, email, nick } => usr::encode_sb_ok(*trid, email, nick, out),
        Reply::XfrNs {
            trid,
            ns_addr,
            dispatch_addr,
        } => xfr::encode_ns(dialect, *trid, ns_addr, dispatch_addr, out),
        Reply::XfrSb {
            trid,
            sb_addr,
            cookie,
        } => xfr::encode_sb(*trid, sb_addr, cookie, out),
        Reply::Sync {
            trid,
            list,
            phones,
            contact_phones,
            nick,
            unchanged,
        } => syn::encode(
            dialect,
            *trid,
            list,
            phones,
            contact_phones,
            nick,
            *unchanged,
            out,
        ),
        Reply::Chg {
            trid,
            status,
            capabilities,
            msn_object,
        } => chg::encode(
            dialect,
            *trid,
            *status,
            *capabilities,
            msn_object.as_deref(),
            out,
        ),
        Reply::Iln { trid, presence } => iln::encode(dialect, *trid, presence, out),
        Reply::Nln { presence } => nln::encode(dialect, presence, out),
        Reply::Fln { email } => fln::encode(email, out),
        Reply::Added {
            trid,
            list,
            version,
            email,
            nick,
            group,
        } => add::encode(dialect, *trid, *list, *version, email, nick, *group, out),
        Reply::Removed {
            trid,
            list,
            version,
            email,
            group,
        } => rem::encode(dialect, *trid, *list, *version, email, *group, out),
        Reply::GroupAdded {
            trid,
            version,
            group,
        } => adg::encode(dialect, *trid, *version, group, out),
        Reply::GroupRemoved {
            trid,
            version,
            group,
        } => rmg::encode(dialect, *trid, *version, *group, out),
        Reply::GroupRenamed {
            trid,
            version,
            group,
        } => reg::encode(dialect, *trid, *version, group, out),
        Reply::Rea {
            trid,
            version,
            email,
            nick,
        } => rea::encode(dialect, *trid, *version, email, nick, out),
        Reply::Blp {
            trid,
            version,
            privacy,
        } => blp::encode(dialect, *trid, *version, *privacy, out),
        Reply::Gtc {
            trid,
            version,
            prompt,
        } => gtc::encode(dialect, *trid, *version, *prompt, out),
        Reply::Prp {
            trid,
            version,
            kind,
            value,
        } => prp::encode(dialect, *trid, *version, *kind, value.as_deref(), out),
        Reply::PrpNick { trid, nick } => prp::encode_nick(*trid, nick, out),
        Reply::Rng {
            session_id,
            sb_addr,
            cookie,
            caller_email,
            caller_nick,
        } => rng::encode(session_id, sb_addr, cookie, caller_email, caller_nick, out),
        Reply::Chl { challenge } => chl::encode(challenge, out),
        Reply::QryOk { trid } => qry::encode_ok(*trid, out),
        Reply::Qng { next_ping_seconds } => qng::encode(dialect, *next_ping_seconds, out),
        Reply::Out { reason } => out::encode(*reason, out),
        Reply::Not { payload } => not::encode(payload, out),
        Reply::Msg {
            sender,
            sender_nick,
            payload,
        } => msg::encode(sender, sender_nick, payload, out),
        Reply::CalRinging { trid, session_id } => cal::encode_ringing(*trid, session_id, out),
        Reply::Joi {
            email,
            nick,
            capabilities,
        } => joi::encode(dialect, email, nick, *capabilities, out),
        Reply::Iro {
            trid,
            index,
            total,
            email,
            nick,
            capabilities,
        } => iro::encode(
            dialect,
            *trid,
            *index,
            *total,
            email,
            nick,
            *capabilities,
            out,
        ),
        Reply::AnsOk { trid } => ans::encode_ok(*trid, out),
        Reply::Ack { trid } => ack::encode(*trid, out),
        Reply::Nak { trid } => nak::encode(*trid, out),
        Reply::Bye { email, idle } => bye::encode(email, *idle, out),
        Reply::Gcf {
            trid,
            file,
            payload,
        } => gcf::encode(*trid, file, payload, out),
        Reply::UuxOk { trid } => uux::encode_ok(*trid, out),
        Reply::Ubx { email, payload } => ubx::encode(email, payload, out),
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::parse_line;
    use crate::proto::ParseError;

    #[test]
    fn unknown_verbs() {
        assert_eq!(
            parse_line(None, "FOO 12 x"),
            Err(ParseError::Syntax { trid: Some(12) })
        );
        assert_eq!(
            parse_line(None, "FOO x"),
            Err(ParseError::Syntax { trid: None })
        );
        assert_eq!(
            parse_line(None, "VERB 3"),
            Err(ParseError::Syntax { trid: Some(3) })
        );
        assert_eq!(
            parse_line(None, "SDC 3 10"),
            Err(ParseError::Syntax { trid: Some(3) })
        );
        assert_eq!(parse_line(None, ""), Err(ParseError::Syntax { trid: None }));
    }

    #[test]
    fn missing_or_bad_trid() {
        assert_eq!(
            parse_line(None, "VER"),
            Err(ParseError::Syntax { trid: None })
        );
        assert_eq!(
            parse_line(None, "VER x MSNP8"),
            Err(ParseError::Syntax { trid: None })
        );
        assert_eq!(
            parse_line(None, "VER -1 MSNP8"),
            Err(ParseError::Syntax { trid: None })
        );
    }

    #[test]
    fn verbs_are_case_insensitive() {
        assert!(parse_line(None, "ver 1 MSNP8").is_ok());
        assert!(parse_line(None, "png").is_ok());
    }
}
