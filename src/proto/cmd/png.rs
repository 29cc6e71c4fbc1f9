//! `PNG`: the client's keep-alive, a bare verb without TrID (answered by `QNG`).

use crate::proto::{Command, ParseError};

use super::args::parse_trid;

/// Parses `PNG` (any argument is a syntax error).
pub(super) fn parse(rest: &[&str]) -> Result<Command, ParseError> {
    match rest.first() {
        None => Ok(Command::Png),
        Some(first) => Err(ParseError::Syntax {
            trid: parse_trid(first),
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::proto::cmd::testutil::{d, parse_line};
    use crate::proto::{Command, ParseError};

    #[test]
    fn parses() {
        assert_eq!(parse_line(Some(d(8)), "PNG"), Ok(Command::Png));
        assert_eq!(parse_line(None, "PNG "), Ok(Command::Png));
        assert_eq!(
            parse_line(Some(d(8)), "PNG 3"),
            Err(ParseError::Syntax { trid: Some(3) })
        );
    }
}
