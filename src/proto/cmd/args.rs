//! Tokenizing one command line (nom) and reading its arguments: the cursor every
//! verb parser uses, with the shared argument decoders (TrID, numbers, URL-decoded
//! text, list names, group ids).
//!
//! Tokens are separated by one or more spaces; leading and trailing spaces are
//! tolerated. Control characters (tabs included) are never part of a valid line.

use std::borrow::Cow;

use bytes::Bytes;

use nom::bytes::complete::{take_while, take_while1};
use nom::combinator::all_consuming;
use nom::multi::separated_list1;
use nom::sequence::delimited;
use nom::{IResult, Parser};
use percent_encoding::percent_decode_str;

use crate::core::lists::List;
use crate::proto::command::TrId;
use crate::proto::dialect::Dialect;
use crate::proto::{ParseError, guid};

/// One argument token: anything but spaces and control characters.
fn token(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c != ' ' && !c.is_control()).parse(input)
}

/// Zero or more spaces (not tabs).
fn spaces0(input: &str) -> IResult<&str, &str> {
    take_while(|c: char| c == ' ').parse(input)
}

/// One or more spaces (not tabs).
fn spaces1(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c == ' ').parse(input)
}

/// A whole line: tokens separated by spaces, optional spaces around.
fn tokens(input: &str) -> IResult<&str, Vec<&str>> {
    all_consuming(delimited(spaces0, separated_list1(spaces1, token), spaces0)).parse(input)
}

/// A TrID: ASCII digits only (no sign), fitting a `u32`.
pub(crate) fn parse_trid(token: &str) -> Option<TrId> {
    parse_u32(token)
}

/// A plain decimal `u32` (ASCII digits only).
pub(crate) fn parse_u32(token: &str) -> Option<u32> {
    parse_u64(token).and_then(|n| u32::try_from(n).ok())
}

/// A plain decimal `u64` (ASCII digits only, no sign).
pub(crate) fn parse_u64(token: &str) -> Option<u64> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

/// The TrID of a line that could not be tokenized, for the error reply.
pub(crate) fn guess_trid(line: &str) -> Option<TrId> {
    line.split(' ')
        .filter(|t| !t.is_empty())
        .nth(1)
        .and_then(parse_trid)
}

/// A tokenized line: the verb and its arguments.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Tokens<'a> {
    /// The verb as sent.
    pub verb: &'a str,
    /// Everything after the verb.
    pub rest: Vec<&'a str>,
}

/// Splits a line into verb and arguments. `Err` carries the TrID if one is readable.
pub(crate) fn tokenize(line: &str) -> Result<Tokens<'_>, ParseError> {
    match tokens(line) {
        Ok((_, mut all)) if !all.is_empty() => {
            let verb = all.remove(0);
            Ok(Tokens { verb, rest: all })
        }
        _ => Err(ParseError::Syntax {
            trid: guess_trid(line),
        }),
    }
}

/// A cursor over the arguments of a command that has a TrID.
#[derive(Debug)]
pub(crate) struct Args<'a> {
    trid: TrId,
    rest: &'a [&'a str],
}

impl<'a> Args<'a> {
    /// Reads the TrID from the first argument (`200` without TrID if missing or
    /// not decimal).
    pub fn new(tokens: &'a [&'a str]) -> Result<Self, ParseError> {
        let (first, rest) = tokens
            .split_first()
            .ok_or(ParseError::Syntax { trid: None })?;
        let trid = parse_trid(first).ok_or(ParseError::Syntax { trid: None })?;
        Ok(Args { trid, rest })
    }

    /// The command's TrID.
    pub fn trid(&self) -> TrId {
        self.trid
    }

    /// `200 trid`.
    pub fn syntax(&self) -> ParseError {
        ParseError::Syntax {
            trid: Some(self.trid),
        }
    }

    /// `201 trid`.
    pub fn invalid(&self) -> ParseError {
        ParseError::InvalidParameter { trid: self.trid }
    }

    /// The next argument; a missing one is a syntax error.
    pub fn next(&mut self) -> Result<&'a str, ParseError> {
        self.opt().ok_or_else(|| self.syntax())
    }

    /// The next argument, if there is one.
    pub fn opt(&mut self) -> Option<&'a str> {
        let (first, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(first)
    }

    /// All remaining arguments.
    pub fn rest(&mut self) -> &'a [&'a str] {
        std::mem::take(&mut self.rest)
    }

    /// Fails with a syntax error if arguments are left over.
    pub fn end(&self) -> Result<(), ParseError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.syntax())
        }
    }

    /// URL-decodes `token` (`%20` etc.); invalid UTF-8 after decoding is `201`.
    pub fn url_decode(&self, token: &str) -> Result<String, ParseError> {
        percent_decode_str(token)
            .decode_utf8()
            .map(Cow::into_owned)
            .map_err(|_| self.invalid())
    }

    /// The next argument, URL-decoded.
    pub fn next_url(&mut self) -> Result<String, ParseError> {
        let token = self.next()?;
        self.url_decode(token)
    }

    /// The next argument as a list name (`FL AL BL RL`); unknown names are `201`.
    pub fn next_list(&mut self) -> Result<List, ParseError> {
        let token = self.next()?;
        List::from_code(token).ok_or_else(|| self.invalid())
    }

    /// The frame's payload, checked against the declared length `token` (a missing
    /// payload or a length that does not match it is `200`).
    pub fn payload(&self, token: &str, payload: Option<&Bytes>) -> Result<Bytes, ParseError> {
        let payload = payload.ok_or_else(|| self.syntax())?;
        match parse_u64(token) {
            Some(n) if u64::try_from(payload.len()).is_ok_and(|len| len == n) => {
                Ok(payload.clone())
            }
            _ => Err(self.syntax()),
        }
    }

    /// Reads a group id: decimal, or in GUID dialects also a group GUID made by
    /// [`guid::write_group_guid`]. Anything else is `201`.
    pub fn group_id(&self, dialect: Option<Dialect>, token: &str) -> Result<u32, ParseError> {
        parse_u32(token)
            .or_else(|| {
                dialect
                    .filter(|d| d.has_guids())
                    .and_then(|_| guid::parse_group_guid(token))
            })
            .ok_or_else(|| self.invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_liberally() {
        let t = tokenize("  ADD  1 FL   a@b.c nick ").unwrap();
        assert_eq!(t.verb, "ADD");
        assert_eq!(t.rest, ["1", "FL", "a@b.c", "nick"]);
        let t = tokenize("PNG").unwrap();
        assert!(t.rest.is_empty());
    }

    #[test]
    fn rejects_empty_and_control_characters() {
        assert_eq!(tokenize(""), Err(ParseError::Syntax { trid: None }));
        assert_eq!(tokenize("   "), Err(ParseError::Syntax { trid: None }));
        assert_eq!(
            tokenize("REA 4 a@b.c x\ty"),
            Err(ParseError::Syntax { trid: Some(4) })
        );
        assert_eq!(
            tokenize("REA 4 a@b.c x\ry"),
            Err(ParseError::Syntax { trid: Some(4) })
        );
    }

    #[test]
    fn trids() {
        assert_eq!(parse_trid("0"), Some(0));
        assert_eq!(parse_trid("4294967295"), Some(u32::MAX));
        assert_eq!(parse_trid("4294967296"), None);
        assert_eq!(parse_trid("+1"), None);
        assert_eq!(parse_trid("-1"), None);
        assert_eq!(parse_trid(""), None);
        assert!(Args::new(&["x"]).is_err());
        assert!(Args::new(&[]).is_err());
    }

    #[test]
    fn cursor() {
        let tokens = ["9", "a", "b%20c", "%FF"];
        let mut args = Args::new(&tokens).unwrap();
        assert_eq!(args.trid(), 9);
        assert_eq!(args.next(), Ok("a"));
        assert_eq!(args.next_url(), Ok("b c".to_owned()));
        assert_eq!(
            args.next_url(),
            Err(ParseError::InvalidParameter { trid: 9 })
        );
        assert_eq!(args.next(), Err(ParseError::Syntax { trid: Some(9) }));
        assert!(args.end().is_ok());
    }
}
