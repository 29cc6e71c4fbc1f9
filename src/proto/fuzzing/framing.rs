//! The framing harness: feeds arbitrary bytes to [`MsnpCodec`] in several splits
//! and checks what the codec promises (module docs of `proto::frame`).
//!
//! Invariants checked, each under the production limits and under tiny limits
//! (so that the too-long and too-large paths are reachable with short inputs):
//! - no panic;
//! - bounded buffering: whenever the codec asks for more input, the caller's buffer
//!   holds fewer bytes than the largest limit (a line or a declared payload);
//! - the outcome (frames, then a clean end or the same error) is the one the
//!   reference framer (`reference.rs`) computes from the documented rules, and does
//!   not depend on how the input is split: whole, byte by byte, and in
//!   pseudo-random pieces;
//! - every frame is well formed: a non-empty line without `\n` that fit the line
//!   limit; a payload exactly when the verb is a payload verb, as long as the
//!   line's last token says and within the verb's bound;
//! - frames written back out (line, CRLF, payload) decode to the same frames.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

use crate::proto::command::TrId;
use crate::proto::error_code::ErrorCode;
use crate::proto::{Frame, FrameError, FrameLimits, MsnpCodec};

use super::encode::frame_bytes;
use super::reference::reference_decode;

/// The limits msnpd ships with (config `limits.*` defaults).
pub const PRODUCTION_LIMITS: FrameLimits = FrameLimits {
    max_line: 2048,
    max_msg_payload: 1664,
    max_other_payload: 8192,
};

/// Small limits that short fuzz inputs can exceed.
pub const TINY_LIMITS: FrameLimits = FrameLimits {
    max_line: 40,
    max_msg_payload: 64,
    max_other_payload: 24,
};

/// Client payload verbs, written out independently of the codec's own table.
const PAYLOAD_VERBS: [&str; 14] = [
    "MSG", "QRY", "UUX", "NOT", "ADL", "FQY", "RML", "UUN", "UUM", "PUT", "DEL", "SDG", "VAS",
    "SDC",
];

/// How a decode run ended, in a comparable form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The input ended on a frame boundary.
    Clean,
    /// Decoding failed: the error's kind, TrID and error code.
    Error {
        /// The variant (and for I/O errors the `io::ErrorKind`).
        kind: String,
        /// [`FrameError::trid`].
        trid: Option<TrId>,
        /// [`FrameError::error_code`].
        code: Option<ErrorCode>,
    },
}

impl End {
    fn of(err: &FrameError) -> End {
        let kind = match err {
            FrameError::Io(e) => format!("Io({:?})", e.kind()),
            FrameError::LineTooLong => "LineTooLong".to_owned(),
            FrameError::InvalidUtf8 { .. } => "InvalidUtf8".to_owned(),
            FrameError::BadPayloadLength { .. } => "BadPayloadLength".to_owned(),
            FrameError::PayloadTooLarge { verb, .. } => format!("PayloadTooLarge({verb})"),
        };
        End::Error {
            kind,
            trid: err.trid(),
            code: err.error_code(),
        }
    }
}

/// The frames a decode run produced and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Every frame, in order.
    pub frames: Vec<Frame>,
    /// Clean end or the error that stopped decoding.
    pub end: End,
}

/// The largest number of bytes the codec may ask a caller to hold.
fn buffer_bound(limits: FrameLimits) -> usize {
    limits
        .max_line
        .max(limits.max_msg_payload)
        .max(limits.max_other_payload)
}

/// Decodes the pieces in order, as a connection would receive them, then runs
/// `decode_eof`. Panics if the codec ever leaves more buffered than it may.
pub fn decode_pieces<'a>(
    limits: FrameLimits,
    pieces: impl IntoIterator<Item = &'a [u8]>,
) -> Outcome {
    let bound = buffer_bound(limits);
    let mut codec = MsnpCodec::new(limits);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => {
                    assert!(
                        buf.len() < bound,
                        "codec wants more input while holding {} bytes (bound {bound})",
                        buf.len()
                    );
                    break;
                }
                Err(e) => {
                    return Outcome {
                        frames,
                        end: End::of(&e),
                    };
                }
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) => {
                return Outcome {
                    frames,
                    end: End::Clean,
                };
            }
            Err(e) => {
                return Outcome {
                    frames,
                    end: End::of(&e),
                };
            }
        }
    }
}

/// FNV-1a of `data`: the seed of the pseudo-random split, so a given input always
/// splits the same way.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `data` cut into pieces of 1..=max_piece bytes chosen by a xorshift generator.
pub fn pseudo_random_pieces(data: &[u8], max_piece: usize) -> Vec<&[u8]> {
    let mut state = fnv1a(data) | 1;
    let mut pieces = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = usize::try_from(state % max_piece.max(1) as u64).unwrap_or(0) + 1;
        let (piece, tail) = rest.split_at(len.min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// The payload bound of `verb`, if it is a payload verb.
pub(super) fn payload_bound(limits: FrameLimits, verb: &str) -> Option<usize> {
    if verb.eq_ignore_ascii_case("MSG") {
        Some(limits.max_msg_payload)
    } else if PAYLOAD_VERBS.iter().any(|v| v.eq_ignore_ascii_case(verb)) {
        Some(limits.max_other_payload)
    } else {
        None
    }
}

/// Panics unless `frame` is one the codec may produce under `limits`.
pub fn check_frame(limits: FrameLimits, frame: &Frame) {
    let line = &frame.line;
    assert!(!line.is_empty(), "empty line delivered");
    assert!(!line.contains('\n'), "line holds a LF: {line:?}");
    assert!(
        line.len() < limits.max_line,
        "line of {} bytes passed a limit of {}",
        line.len(),
        limits.max_line
    );
    let mut tokens = line.split(' ').filter(|t| !t.is_empty());
    let verb = tokens.next().unwrap_or("");
    match (payload_bound(limits, verb), &frame.payload) {
        (None, None) => {}
        (None, Some(_)) => panic!("payload on a non-payload verb: {line:?}"),
        (Some(_), None) => panic!("payload verb without payload: {line:?}"),
        (Some(bound), Some(payload)) => {
            let declared = tokens.next_back().and_then(|t| t.parse::<usize>().ok());
            assert_eq!(declared, Some(payload.len()), "payload length of {line:?}");
            assert!(payload.len() <= bound, "payload over its bound: {line:?}");
        }
    }
}

/// The framing harness (see the module docs). Panics on a broken invariant.
pub fn framing(data: &[u8]) {
    for limits in [PRODUCTION_LIMITS, TINY_LIMITS] {
        let whole = decode_pieces(limits, [data]);
        assert_eq!(
            whole,
            reference_decode(limits, data),
            "codec and reference framer differ"
        );
        let bytewise = decode_pieces(limits, data.chunks(1));
        assert_eq!(whole, bytewise, "byte-by-byte decoding differs");
        let split = decode_pieces(limits, pseudo_random_pieces(data, 64));
        assert_eq!(whole, split, "split decoding differs");
        for frame in &whole.frames {
            check_frame(limits, frame);
        }
        // Written back with CRLF, a line is one byte longer than a bare-LF one.
        let relaxed = FrameLimits {
            max_line: limits.max_line + 1,
            ..limits
        };
        let rewritten: Vec<u8> = whole.frames.iter().flat_map(frame_bytes).collect();
        let again = decode_pieces(relaxed, [rewritten.as_slice()]);
        assert_eq!(again.frames, whole.frames, "re-encoded frames differ");
        assert_eq!(
            again.end,
            End::Clean,
            "re-encoded frames do not end cleanly"
        );
    }
}
