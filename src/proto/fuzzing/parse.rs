//! The command-parser harnesses: arbitrary bytes are framed by [`MsnpCodec`] (as a
//! connection does) and every frame is parsed in every dialect, and before `VER`.
//!
//! [`parse`] checks, besides "no panic":
//! - an error carries exactly the TrID a client reads from the line's second token
//!   (so the numeric error reaches the right transaction), or none if that token is
//!   not a decimal `u32`;
//! - a command has the line's verb and TrID, and a payload command carries the
//!   frame's payload byte for byte.
//!
//! [`roundtrip`] checks that every parsed command survives `parse ∘ encode`: written
//! back by [`encode_command`], framed again and parsed in the same dialect, it is the
//! same command, and its canonical line is stable.
//!
//! [`MsnpCodec`]: crate::proto::MsnpCodec

use crate::proto::command::TrId;
use crate::proto::{Command, Dialect, Frame, FrameLimits, ParseError};

use super::encode::{encode_command, frame_bytes};
use super::framing::{End, PRODUCTION_LIMITS, decode_pieces};

/// `None` (before `VER`) and every dialect msnpd speaks.
pub fn dialects() -> impl Iterator<Item = Option<Dialect>> {
    std::iter::once(None).chain((Dialect::MIN.version()..=Dialect::MAX.version()).map(Dialect::new))
}

/// The frames the codec makes of `data` with production limits (up to the first
/// framing error, after which a connection closes).
pub fn frames_of(data: &[u8]) -> Vec<Frame> {
    decode_pieces(PRODUCTION_LIMITS, [data]).frames
}

/// The TrID a client reads from `line`: its second space-separated token, if that
/// is a plain decimal `u32`. Written independently of the parser.
fn line_trid(line: &str) -> Option<TrId> {
    let token = line.split(' ').filter(|t| !t.is_empty()).nth(1)?;
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

/// The TrID an error will be answered with.
fn error_trid(err: &ParseError) -> Option<TrId> {
    match err {
        ParseError::Syntax { trid } => *trid,
        ParseError::InvalidParameter { trid } => Some(*trid),
    }
}

/// The payload a command carries, if it is a payload command.
fn command_payload(cmd: &Command) -> Option<&[u8]> {
    match cmd {
        Command::Msg { payload, .. } | Command::Uux { payload, .. } => Some(payload),
        Command::Qry { response, .. } => Some(response),
        _ => None,
    }
}

/// Parses `frame` in `dialect` and checks the result against the line (see the
/// module docs). Panics on a broken invariant.
pub fn check_parse(dialect: Option<Dialect>, frame: &Frame) -> Result<Command, ParseError> {
    let result = crate::proto::parse(dialect, frame);
    let trid = line_trid(&frame.line);
    match &result {
        Err(err) => assert_eq!(
            error_trid(err),
            trid,
            "{dialect:?} {:?}: error {err:?} has the wrong TrID",
            frame.line
        ),
        Ok(cmd) => {
            let verb = frame.line.split(' ').find(|t| !t.is_empty()).unwrap_or("");
            assert!(
                verb.eq_ignore_ascii_case(cmd.verb()),
                "{dialect:?} {:?} parsed as {cmd:?}",
                frame.line
            );
            match cmd {
                Command::Png | Command::Out => assert_eq!(
                    frame.line.split(' ').filter(|t| !t.is_empty()).count(),
                    1,
                    "{:?}: arguments accepted",
                    frame.line
                ),
                _ => assert_eq!(cmd.trid(), trid, "{dialect:?} {:?}: TrID", frame.line),
            }
            if let Some(payload) = command_payload(cmd) {
                assert_eq!(
                    Some(payload),
                    frame.payload.as_deref(),
                    "{dialect:?} {:?}: payload",
                    frame.line
                );
            }
        }
    }
    result
}

/// The parse harness (see the module docs). Panics on a broken invariant.
pub fn parse(data: &[u8]) {
    for frame in frames_of(data) {
        for dialect in dialects() {
            let _ = check_parse(dialect, &frame);
        }
    }
}

/// Checks that `cmd`, parsed in `dialect`, survives `parse ∘ encode`: its canonical
/// frame goes through the codec unchanged and parses back to `cmd`, and encoding
/// that again gives the same frame. Panics otherwise.
pub fn check_roundtrip(dialect: Option<Dialect>, cmd: &Command) {
    let frame = encode_command(cmd);
    let bytes = frame_bytes(&frame);
    // Canonical lines can be longer than the original (URL-encoding).
    let limits = FrameLimits {
        max_line: frame.line.len() + 3,
        max_msg_payload: bytes.len(),
        max_other_payload: bytes.len(),
    };
    let decoded = decode_pieces(limits, [bytes.as_slice()]);
    assert_eq!(decoded.end, End::Clean, "{cmd:?}: encoded as {frame:?}");
    assert_eq!(
        decoded.frames,
        std::slice::from_ref(&frame),
        "{cmd:?}: framed differently"
    );
    let again = check_parse(dialect, &frame);
    assert_eq!(
        again.as_ref(),
        Ok(cmd),
        "{dialect:?}: {cmd:?} encoded as {:?}",
        frame.line
    );
    if let Ok(again) = again {
        assert_eq!(
            encode_command(&again),
            frame,
            "canonical form is not stable"
        );
    }
}

/// The round-trip harness (see the module docs). Panics on a broken invariant.
pub fn roundtrip(data: &[u8]) {
    for frame in frames_of(data) {
        for dialect in dialects() {
            if let Ok(cmd) = check_parse(dialect, &frame) {
                check_roundtrip(dialect, &cmd);
            }
        }
    }
}
