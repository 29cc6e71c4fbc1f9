//! The MSNP codec: framing (`frame`), typed commands and replies, parse and encode
//! per verb (`cmd/`), dialects and error codes. No I/O, no domain state.

pub mod cmd;
pub mod command;
pub mod dialect;
pub mod error_code;
pub mod frame;
#[doc(hidden)]
pub mod fuzzing;
pub mod guid;
pub mod msg_content;
pub mod notices;
pub mod payloads;
pub mod reply;

pub use command::{Command, TrId};
pub use dialect::Dialect;
pub use error_code::ErrorCode;
pub use frame::{Frame, FrameError, FrameLimits, MsnpCodec};
pub use reply::Reply;

/// Why a framed line is not a valid command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Unknown verb or malformed arguments: answer `200 trid` (TrID if it could be read).
    #[error("syntax error")]
    Syntax {
        /// The TrID, if the line had a readable one.
        trid: Option<TrId>,
    },
    /// Well-formed but an argument value is invalid: answer `201 trid`.
    #[error("invalid parameter")]
    InvalidParameter {
        /// The TrID.
        trid: TrId,
    },
}

/// Parses one framed line (and its payload) into a typed command. `dialect` is
/// `None` before `VER` has been negotiated.
pub fn parse(dialect: Option<Dialect>, frame: &Frame) -> Result<Command, ParseError> {
    cmd::parse_command(dialect, frame)
}

/// Appends the wire bytes of `reply`, as `dialect` spells it, to `out`.
pub fn encode(dialect: Dialect, reply: &Reply, out: &mut bytes::BytesMut) {
    cmd::encode_reply(dialect, reply, out)
}
