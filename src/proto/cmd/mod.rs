//! Parse and encode, one file per verb.

use bytes::BytesMut;

use super::{Command, Dialect, Frame, ParseError, Reply};

/// Parses a framed line into a command.
pub fn parse_command(dialect: Option<Dialect>, frame: &Frame) -> Result<Command, ParseError> {
    let _ = (dialect, frame);
    todo!("parse")
}

/// Encodes a reply for a dialect.
pub fn encode_reply(dialect: Dialect, reply: &Reply, out: &mut BytesMut) {
    let _ = (dialect, reply, out);
    todo!("encode")
}
