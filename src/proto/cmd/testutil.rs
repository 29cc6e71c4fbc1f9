//! Test helpers shared by the per-verb tests: parse a line, encode a reply.

use bytes::{Bytes, BytesMut};

use super::{encode_reply, parse_command};
use crate::proto::{Command, Dialect, Frame, ParseError, Reply};

/// The dialect with this version (panics on an unknown one: tests only).
pub(crate) fn d(version: u8) -> Dialect {
    Dialect::new(version).unwrap()
}

/// Parses a line without payload.
pub(crate) fn parse_line(dialect: Option<Dialect>, line: &str) -> Result<Command, ParseError> {
    parse_command(
        dialect,
        &Frame {
            line: line.to_owned(),
            payload: None,
        },
    )
}

/// Parses a line with a payload.
pub(crate) fn parse_with_payload(
    dialect: Option<Dialect>,
    line: &str,
    payload: &[u8],
) -> Result<Command, ParseError> {
    parse_command(
        dialect,
        &Frame {
            line: line.to_owned(),
            payload: Some(Bytes::copy_from_slice(payload)),
        },
    )
}

/// Encodes a reply for dialect `version` and returns the bytes as text.
pub(crate) fn enc(version: u8, reply: &Reply) -> String {
    let mut out = BytesMut::new();
    encode_reply(d(version), reply, &mut out);
    String::from_utf8(out.to_vec()).unwrap()
}

/// Encodes a reply for every dialect in `versions`, asserting the same bytes.
pub(crate) fn enc_all(versions: std::ops::RangeInclusive<u8>, reply: &Reply) -> String {
    let first = enc(*versions.start(), reply);
    for v in versions {
        assert_eq!(enc(v, reply), first, "MSNP{v}");
    }
    first
}
