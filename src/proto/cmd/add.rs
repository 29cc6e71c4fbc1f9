//! `ADD` (MSNP2–9) and its MSNP10–12 answer form `ADC`.
//!
//! Client: `ADD trid LIST email nick [group]` (nick URL-encoded; group decimal, or
//! a group GUID in GUID dialects). An unknown list, a bad group or bad URL-encoding
//! is `201`.
//!
//! Server ([`Reply::Added`](crate::proto::Reply::Added)):
//! - MSNP2–9: `ADD trid LIST version email nick [group]`, the group only for `FL`
//!   in group dialects (MSNP7+) when given. `ADD 0 RL ...` is the async "added you".
//! - MSNP10–12 (`ADC`, no version): `FL` into a group: `ADC trid FL C=guid group-guid`;
//!   `FL`: `ADC trid FL N=email F=nick C=guid`; `RL`: `ADC trid RL N=email F=nick`;
//!   `AL`/`BL`: `ADC trid LIST N=email`. GUIDs come from [`crate::proto::guid`].

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::core::lists::List;
use crate::proto::guid::{write_contact_guid, write_group_guid};
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `ADD trid LIST email nick [group]`.
pub(super) fn parse(dialect: Option<Dialect>, args: &mut Args<'_>) -> Result<Command, ParseError> {
    let list = args.next_list()?;
    let email = args.next()?.to_owned();
    let nick = args.next_url()?;
    let group = match args.opt() {
        Some(token) => Some(args.group_id(dialect, token)?),
        None => None,
    };
    args.end()?;
    Ok(Command::Add {
        trid: args.trid(),
        list,
        email,
        nick,
        group,
    })
}

/// `ADD` (MSNP2–9) or `ADC` (MSNP10+) as described in the module docs.
#[allow(clippy::too_many_arguments)]
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    list: List,
    version: u32,
    email: &str,
    nick: &str,
    group: Option<u32>,
    out: &mut BytesMut,
) {
    if dialect.has_guids() {
        let mut line = Line::new(out, "ADC");
        line.trid(trid).raw(list.code());
        match (list, group) {
            (List::Forward, Some(group)) => line
                .with(|o| {
                    o.extend_from_slice(b"C=");
                    write_contact_guid(o, email);
                })
                .with(|o| write_group_guid(o, group)),
            (List::Forward, None) => line.raw_with("N=", email).url_with("F=", nick).with(|o| {
                o.extend_from_slice(b"C=");
                write_contact_guid(o, email);
            }),
            (List::Reverse, _) => line.raw_with("N=", email).url_with("F=", nick),
            (List::Allow | List::Block, _) => line.raw_with("N=", email),
        };
        line.end();
    } else {
        let mut line = Line::new(out, "ADD");
        line.trid(trid)
            .raw(list.code())
            .num(version)
            .raw(email)
            .url(nick);
        if list == List::Forward
            && dialect.has_groups()
            && let Some(group) = group
        {
            line.num(group);
        }
        line.end();
    }
}

#[cfg(test)]
mod tests {
    use crate::core::lists::List;
    use crate::proto::cmd::testutil::{d, enc, enc_all, parse_line};
    use crate::proto::guid::{contact_guid, group_guid};
    use crate::proto::{Command, ParseError, Reply};

    fn add(list: List, nick: &str, group: Option<u32>) -> Command {
        Command::Add {
            trid: 20,
            list,
            email: "bob@x.com".into(),
            nick: nick.into(),
            group,
        }
    }

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(8)), "ADD 20 FL bob@x.com bob%20name"),
            Ok(add(List::Forward, "bob name", None))
        );
        assert_eq!(
            parse_line(Some(d(7)), "ADD 20 FL bob@x.com bob%20name 2"),
            Ok(add(List::Forward, "bob name", Some(2)))
        );
        assert_eq!(
            parse_line(Some(d(8)), "ADD 20 AL bob@x.com bob@x.com"),
            Ok(add(List::Allow, "bob@x.com", None))
        );
        let line = format!("ADD 20 FL bob@x.com b {}", group_guid(3));
        assert_eq!(
            parse_line(Some(d(11)), &line),
            Ok(add(List::Forward, "b", Some(3)))
        );
    }

    #[test]
    fn rejects_bad_values() {
        for line in [
            "ADD 20 XL bob@x.com bob",
            "ADD 20 fl bob@x.com bob",
            "ADD 20 FL bob@x.com %C3%28",
            "ADD 20 FL bob@x.com bob x",
            "ADD 20 FL bob@x.com bob -1",
        ] {
            assert_eq!(
                parse_line(Some(d(8)), line),
                Err(ParseError::InvalidParameter { trid: 20 }),
                "{line}"
            );
        }
        // Group GUIDs only mean something in GUID dialects.
        let line = format!("ADD 20 FL bob@x.com b {}", group_guid(3));
        assert_eq!(
            parse_line(Some(d(9)), &line),
            Err(ParseError::InvalidParameter { trid: 20 })
        );
        assert_eq!(
            parse_line(Some(d(8)), "ADD 20 FL bob@x.com"),
            Err(ParseError::Syntax { trid: Some(20) })
        );
        assert_eq!(
            parse_line(Some(d(8)), "ADD 20 FL bob@x.com bob 1 2"),
            Err(ParseError::Syntax { trid: Some(20) })
        );
    }

    fn added(trid: u32, list: List, group: Option<u32>) -> Reply {
        Reply::Added {
            trid,
            list,
            version: 1024,
            email: "bob@x.com".into(),
            nick: "bob name".into(),
            group,
        }
    }

    #[test]
    fn encodes_add() {
        assert_eq!(
            enc_all(2..=9, &added(20, List::Forward, None)),
            "ADD 20 FL 1024 bob@x.com bob%20name\r\n"
        );
        assert_eq!(
            enc_all(7..=9, &added(20, List::Forward, Some(2))),
            "ADD 20 FL 1024 bob@x.com bob%20name 2\r\n"
        );
        // No groups before MSNP7; never a group outside FL.
        assert_eq!(
            enc_all(2..=6, &added(20, List::Forward, Some(2))),
            "ADD 20 FL 1024 bob@x.com bob%20name\r\n"
        );
        assert_eq!(
            enc(8, &added(20, List::Allow, Some(2))),
            "ADD 20 AL 1024 bob@x.com bob%20name\r\n"
        );
        assert_eq!(
            enc(8, &added(0, List::Reverse, None)),
            "ADD 0 RL 1024 bob@x.com bob%20name\r\n"
        );
    }

    #[test]
    fn encodes_adc() {
        let c = contact_guid("bob@x.com");
        assert_eq!(
            enc_all(10..=12, &added(16, List::Forward, None)),
            format!("ADC 16 FL N=bob@x.com F=bob%20name C={c}\r\n")
        );
        assert_eq!(
            enc_all(10..=12, &added(17, List::Forward, Some(3))),
            format!("ADC 17 FL C={c} {}\r\n", group_guid(3))
        );
        assert_eq!(
            enc_all(10..=12, &added(18, List::Allow, None)),
            "ADC 18 AL N=bob@x.com\r\n"
        );
        assert_eq!(
            enc_all(10..=12, &added(0, List::Reverse, None)),
            "ADC 0 RL N=bob@x.com F=bob%20name\r\n"
        );
    }
}
