//! `ADC` (MSNP10–12): the GUID-era form of `ADD`.
//!
//! Client:
//! - `ADC trid LIST N=email [F=nick] [group-guid]`: add an account to a list (the
//!   nick URL-encoded; a group only makes sense for `FL`, the handler decides);
//! - `ADC trid FL C=contact-guid group-guid`: put a forward-list contact (named by
//!   the GUID the server gave it in `LST`/`ADC`) into a group.
//!
//! An unknown list, a first argument that is neither `N=` nor `C=`, `C=` outside
//! `FL`, a bad group GUID or bad URL-encoding is `201`; a missing or extra argument
//! is `200`. The server's answer is [`Reply::Added`](crate::proto::Reply::Added),
//! encoded by `add.rs` as `ADC` in these dialects.

use super::args::Args;
use crate::core::lists::List;
use crate::proto::command::ContactRef;
use crate::proto::{Command, Dialect, ParseError};

/// Parses `ADC trid LIST N=email [F=nick] [group]` or `ADC trid FL C=guid group`.
pub(super) fn parse(dialect: Option<Dialect>, args: &mut Args<'_>) -> Result<Command, ParseError> {
    let list = args.next_list()?;
    let target = args.next()?;
    let (contact, nick, group) = if let Some(email) = target.strip_prefix("N=") {
        if email.is_empty() {
            return Err(args.invalid());
        }
        let mut next = args.opt();
        let nick = match next.and_then(|t| t.strip_prefix("F=")) {
            Some(encoded) => {
                next = args.opt();
                Some(args.url_decode(encoded)?)
            }
            None => None,
        };
        let group = match next {
            Some(token) => Some(args.group_id(dialect, token)?),
            None => None,
        };
        (ContactRef::Email(email.to_owned()), nick, group)
    } else if let Some(guid) = target.strip_prefix("C=") {
        if list != List::Forward || guid.is_empty() {
            return Err(args.invalid());
        }
        let token = args.next()?;
        let group = args.group_id(dialect, token)?;
        (ContactRef::Guid(guid.to_owned()), None, Some(group))
    } else {
        return Err(args.invalid());
    };
    args.end()?;
    Ok(Command::Adc {
        trid: args.trid(),
        list,
        contact,
        nick,
        group,
    })
}

#[cfg(test)]
mod tests {
    use crate::core::lists::List;
    use crate::proto::cmd::testutil::{d, parse_line};
    use crate::proto::command::ContactRef;
    use crate::proto::guid::{contact_guid, group_guid};
    use crate::proto::{Command, ParseError};

    fn adc(list: List, contact: ContactRef, nick: Option<&str>, group: Option<u32>) -> Command {
        Command::Adc {
            trid: 16,
            list,
            contact,
            nick: nick.map(str::to_owned),
            group,
        }
    }

    fn email() -> ContactRef {
        ContactRef::Email("bob@x.com".into())
    }

    #[test]
    fn parses_by_email() {
        assert_eq!(
            parse_line(Some(d(10)), "ADC 16 FL N=bob@x.com F=Bob%20B"),
            Ok(adc(List::Forward, email(), Some("Bob B"), None))
        );
        assert_eq!(
            parse_line(Some(d(11)), "ADC 16 AL N=bob@x.com"),
            Ok(adc(List::Allow, email(), None, None))
        );
        let line = format!("ADC 16 FL N=bob@x.com F=Bob {}", group_guid(3));
        assert_eq!(
            parse_line(Some(d(12)), &line),
            Ok(adc(List::Forward, email(), Some("Bob"), Some(3)))
        );
        let line = format!("ADC 16 FL N=bob@x.com {}", group_guid(3));
        assert_eq!(
            parse_line(Some(d(12)), &line),
            Ok(adc(List::Forward, email(), None, Some(3)))
        );
    }

    #[test]
    fn parses_by_guid() {
        let c = contact_guid("bob@x.com");
        let line = format!("ADC 16 FL C={c} {}", group_guid(7));
        assert_eq!(
            parse_line(Some(d(11)), &line),
            Ok(adc(List::Forward, ContactRef::Guid(c), None, Some(7)))
        );
    }

    #[test]
    fn rejects_bad_values() {
        let c = contact_guid("bob@x.com");
        for line in [
            "ADC 16 XL N=bob@x.com".to_owned(),
            "ADC 16 FL bob@x.com".to_owned(),
            "ADC 16 FL N=".to_owned(),
            "ADC 16 FL N=bob@x.com F=%FF".to_owned(),
            "ADC 16 FL N=bob@x.com F=Bob not-a-group".to_owned(),
            format!("ADC 16 AL C={c} {}", group_guid(1)),
            format!("ADC 16 FL C={c} 00000000-0000-0000-0002-000000000001"),
        ] {
            assert_eq!(
                parse_line(Some(d(11)), &line),
                Err(ParseError::InvalidParameter { trid: 16 }),
                "{line}"
            );
        }
        for line in [
            "ADC 16 FL".to_owned(),
            format!("ADC 16 FL C={c}"),
            format!("ADC 16 FL N=bob@x.com F=Bob {} extra", group_guid(1)),
        ] {
            assert_eq!(
                parse_line(Some(d(11)), &line),
                Err(ParseError::Syntax { trid: Some(16) }),
                "{line}"
            );
        }
    }
}
