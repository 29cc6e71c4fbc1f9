//! What the server sends: lines, and which of them carry a payload.
//!
//! A server-to-client payload command names its payload's byte length as the
//! last token; the payload follows the line's CRLF with no terminator.

use crate::case::pattern::split_tokens;

/// Verbs whose server lines carry a payload (MSNP2–12, plus `UBN`).
pub const SERVER_PAYLOAD_VERBS: [&str; 6] = ["MSG", "UBX", "GCF", "NOT", "IPG", "UBN"];

/// A line from the server, with its payload if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerLine {
    /// The line without CRLF.
    pub text: String,
    /// The payload bytes, for payload verbs.
    pub payload: Option<Vec<u8>>,
}

impl ServerLine {
    /// The space-separated tokens of the line.
    pub fn tokens(&self) -> Vec<&str> {
        split_tokens(&self.text)
    }

    /// A one-line rendering for messages and traces.
    pub fn describe(&self) -> String {
        match &self.payload {
            Some(p) => format!("{} [+{} payload bytes]", self.text, p.len()),
            None => self.text.clone(),
        }
    }
}

/// What reading from a connection gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A line (and payload).
    Line(ServerLine),
    /// The server closed the connection.
    Closed,
}

/// The payload length a server line announces, if its verb is a payload verb.
/// `Err` when a payload verb's last token is not a length.
pub fn payload_length(line: &str) -> Result<Option<usize>, String> {
    let tokens = split_tokens(line);
    let Some(verb) = tokens.first() else {
        return Ok(None);
    };
    if !SERVER_PAYLOAD_VERBS.contains(verb) {
        return Ok(None);
    }
    let last = tokens.last().copied().unwrap_or_default();
    match (tokens.len() > 1, last.parse::<usize>()) {
        (true, Ok(n)) if last.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
        _ => Err(format!(
            "`{verb}` carries a payload, but the last token `{last}` is not its length"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_payload_lengths() {
        assert_eq!(payload_length("MSG Hotmail Hotmail 412"), Ok(Some(412)));
        assert_eq!(payload_length("GCF 6 Shields.xml 110"), Ok(Some(110)));
        assert_eq!(payload_length("NOT 0"), Ok(Some(0)));
        assert_eq!(payload_length("QRY 12"), Ok(None));
        assert_eq!(payload_length("ADD 0 RL 3 a@b a"), Ok(None));
        assert_eq!(payload_length(""), Ok(None));
        assert!(payload_length("MSG").is_err());
        assert!(payload_length("MSG a b +4").is_err());
        assert!(payload_length("MSG a b x").is_err());
    }
}
