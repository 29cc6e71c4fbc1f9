//! `REM`: remove a contact from a list (or from one group of the forward list).
//!
//! Client: `REM trid LIST email [group]` (group decimal, or a group GUID in GUID
//! dialects; in MSNP10+ a client names an `FL` entry by its contact GUID, which is
//! passed through in `email` for the handler to map). An unknown list or bad group
//! is `201`.
//!
//! Server ([`Reply::Removed`](crate::proto::Reply::Removed)):
//! - MSNP2–9: `REM trid LIST version email [group]` (group only for `FL`, MSNP7+).
//! - MSNP10–12: `REM trid FL contact-guid [group-guid]`; other lists
//!   `REM trid LIST email`.

use bytes::BytesMut;

use super::args::Args;
use super::wire::Line;
use crate::core::lists::List;
use crate::proto::guid::{write_contact_guid, write_group_guid};
use crate::proto::{Command, Dialect, ParseError, TrId};

/// Parses `REM trid LIST email [group]`.
pub(super) fn parse(dialect: Option<Dialect>, args: &mut Args<'_>) -> Result<Command, ParseError> {
    let list = args.next_list()?;
    let email = args.next()?.to_owned();
    let group = match args.opt() {
        Some(token) => Some(args.group_id(dialect, token)?),
        None => None,
    };
    args.end()?;
    Ok(Command::Rem {
        trid: args.trid(),
        list,
        email,
        group,
    })
}

/// `REM` as described in the module docs.
pub(super) fn encode(
    dialect: Dialect,
    trid: TrId,
    list: List,
    version: u32,
    email: &str,
    group: Option<u32>,
    out: &mut BytesMut,
) {
    let mut line = Line::new(out, "REM");
    line.trid(trid).raw(list.code());
    if dialect.has_guids() {
        if list == List::Forward {
            line.with(|o| write_contact_guid(o, email));
            if let Some(group) = group {
                line.with(|o| write_group_guid(o, group));
            }
        } else {
            line.raw(email);
        }
    } else {
        line.num(version).raw(email);
        if list == List::Forward
            && dialect.has_groups()
            && let Some(group) = group
        {
            line.num(group);
        }
    }
    line.end();
}

#[cfg(test)]
mod tests {
    use crate::core::lists::List;
    use crate::proto::cmd::testutil::{d, enc, enc_all, parse_line};
    use crate::proto::guid::{contact_guid, group_guid};
    use crate::proto::{Command, ParseError, Reply};

    #[test]
    fn parses() {
        assert_eq!(
            parse_line(Some(d(8)), "REM 21 FL bob@x.com"),
            Ok(Command::Rem {
                trid: 21,
                list: List::Forward,
                email: "bob@x.com".into(),
                group: None
            })
        );
        assert_eq!(
            parse_line(Some(d(7)), "REM 21 FL bob@x.com 2"),
            Ok(Command::Rem {
                trid: 21,
                list: List::Forward,
                email: "bob@x.com".into(),
                group: Some(2)
            })
        );
        let guid = contact_guid("bob@x.com");
        let line = format!("REM 19 FL {guid} {}", group_guid(4));
        assert_eq!(
            parse_line(Some(d(11)), &line),
            Ok(Command::Rem {
                trid: 19,
                list: List::Forward,
                email: guid,
                group: Some(4)
            })
        );
    }

    #[test]
    fn rejects_bad_values() {
        assert_eq!(
            parse_line(Some(d(8)), "REM 21 PL bob@x.com"),
            Err(ParseError::InvalidParameter { trid: 21 })
        );
        assert_eq!(
            parse_line(Some(d(8)), "REM 21 FL bob@x.com g"),
            Err(ParseError::InvalidParameter { trid: 21 })
        );
        assert_eq!(
            parse_line(Some(d(8)), "REM 21 FL"),
            Err(ParseError::Syntax { trid: Some(21) })
        );
        assert_eq!(
            parse_line(Some(d(8)), "REM 21 FL a@b.c 1 2"),
            Err(ParseError::Syntax { trid: Some(21) })
        );
    }

    fn removed(trid: u32, list: List, group: Option<u32>) -> Reply {
        Reply::Removed {
            trid,
            list,
            version: 1026,
            email: "bob@x.com".into(),
            group,
        }
    }

    #[test]
    fn encodes() {
        assert_eq!(
            enc_all(2..=9, &removed(21, List::Forward, None)),
            "REM 21 FL 1026 bob@x.com\r\n"
        );
        assert_eq!(
            enc_all(7..=9, &removed(21, List::Forward, Some(2))),
            "REM 21 FL 1026 bob@x.com 2\r\n"
        );
        assert_eq!(
            enc(6, &removed(21, List::Forward, Some(2))),
            "REM 21 FL 1026 bob@x.com\r\n"
        );
        assert_eq!(
            enc(8, &removed(0, List::Reverse, None)),
            "REM 0 RL 1026 bob@x.com\r\n"
        );
        let c = contact_guid("bob@x.com");
        assert_eq!(
            enc_all(10..=12, &removed(19, List::Forward, None)),
            format!("REM 19 FL {c}\r\n")
        );
        assert_eq!(
            enc_all(10..=12, &removed(19, List::Forward, Some(4))),
            format!("REM 19 FL {c} {}\r\n", group_guid(4))
        );
        assert_eq!(
            enc_all(10..=12, &removed(20, List::Block, None)),
            "REM 20 BL bob@x.com\r\n"
        );
    }
}
