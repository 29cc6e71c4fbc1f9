//! Framing: a tokio-util [`Decoder`] that yields one command line at a time,
//! bounded in length, followed for payload verbs by exactly the declared number of
//! payload bytes (bounded per verb).
//!
//! Wire rules the decoder applies:
//! - A line ends at `\n`; one `\r` before it is stripped. Real clients send CRLF;
//!   netcat sends a bare LF unless run with `-C`, so both are accepted.
//! - A line may be at most [`FrameLimits::max_line`] bytes including its terminator.
//!   As soon as that many bytes are buffered without a `\n`, decoding fails with
//!   [`FrameError::LineTooLong`]: nothing longer is ever kept.
//! - Empty lines (`\r\n` or `\n` alone) are skipped.
//! - Lines must be UTF-8; payloads are raw bytes.
//! - Payload verbs (client to server: `MSG QRY UUX NOT ADL FQY RML UUN UUM PUT DEL
//!   SDG VAS SDC`, matched case-insensitively) carry their byte count as the LAST
//!   token of the line. It must be a plain decimal number within the verb's bound
//!   ([`FrameLimits::max_msg_payload`] for `MSG`, [`FrameLimits::max_other_payload`]
//!   for the others); both are checked before any payload byte is buffered. Exactly
//!   that many bytes follow the line, with no terminator after them.
//!
//! Decoding is incremental and cancel-safe: [`MsnpCodec::decode`] may be called with
//! any prefix of the stream; the partial input stays in the caller's buffer and the
//! codec only remembers how far it has looked and, between a payload verb's line and
//! its payload, the parsed line. After an error the connection must close (the codec
//! resets itself to the start-of-line state, but the stream is out of sync).

use std::io;

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;

use super::command::TrId;
use super::error_code::ErrorCode;

/// One framed client command: the line without its terminator and, for payload
/// verbs, the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The command line, valid UTF-8, without the trailing CRLF (or LF).
    pub line: String,
    /// The payload of a payload verb (`MSG`, `QRY`, `UUX`, ...).
    pub payload: Option<Bytes>,
}

/// Size limits the framer enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Longest line including CRLF.
    pub max_line: usize,
    /// Largest `MSG` payload.
    pub max_msg_payload: usize,
    /// Largest payload of other payload verbs.
    pub max_other_payload: usize,
}

/// Why framing failed. Every variant ends the connection; where [`FrameError::trid`]
/// and [`FrameError::error_code`] are both known, the connection first sends
/// `CODE trid`.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Socket error, or the stream ended inside a frame (`UnexpectedEof`).
    #[error("i/o: {0}")]
    Io(#[from] io::Error),
    /// No line terminator within [`FrameLimits::max_line`] bytes.
    #[error("command line too long")]
    LineTooLong,
    /// The command line is not valid UTF-8.
    #[error("command line is not valid UTF-8")]
    InvalidUtf8 {
        /// The TrID, if the second token was a decimal number.
        trid: Option<TrId>,
    },
    /// A payload verb's last token is missing or not a plain decimal number.
    #[error("payload length is not a decimal number")]
    BadPayloadLength {
        /// The TrID, if the second token was a decimal number.
        trid: Option<TrId>,
    },
    /// A payload verb declared more bytes than its bound allows.
    #[error("{verb} payload too large")]
    PayloadTooLarge {
        /// The TrID, if the second token was a decimal number.
        trid: Option<TrId>,
        /// The verb, upper-cased.
        verb: String,
    },
}

impl FrameError {
    /// The TrID of the offending command, where it could be read.
    pub fn trid(&self) -> Option<TrId> {
        match self {
            FrameError::Io(_) | FrameError::LineTooLong => None,
            FrameError::InvalidUtf8 { trid }
            | FrameError::BadPayloadLength { trid }
            | FrameError::PayloadTooLarge { trid, .. } => *trid,
        }
    }

    /// The numeric error to send (with [`FrameError::trid`]) before closing, if any:
    /// `200` for an unreadable line or length, `201` for a length over the bound.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            FrameError::Io(_) | FrameError::LineTooLong => None,
            FrameError::InvalidUtf8 { .. } | FrameError::BadPayloadLength { .. } => {
                Some(ErrorCode::SyntaxError)
            }
            FrameError::PayloadTooLarge { .. } => Some(ErrorCode::InvalidParameter),
        }
    }
}

/// Where the decoder is in the stream.
#[derive(Debug)]
enum State {
    /// Looking for the end of a line; bytes before `scanned` hold no `\n`.
    Line { scanned: usize },
    /// A payload verb's line was read; `len` payload bytes follow.
    Payload { line: String, len: usize },
}

/// The MSNP frame decoder (see the module docs for the wire rules).
#[derive(Debug)]
pub struct MsnpCodec {
    limits: FrameLimits,
    state: State,
}

impl MsnpCodec {
    /// A decoder with these limits.
    pub fn new(limits: FrameLimits) -> Self {
        MsnpCodec {
            limits,
            state: State::Line { scanned: 0 },
        }
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> FrameLimits {
        self.limits
    }

    /// Whether the codec holds no state of a partial frame: no payload is pending
    /// and no part of a line has been scanned yet.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Line { scanned: 0 })
    }

    /// Takes one line out of `src` if a whole one is there.
    fn take_line(
        &mut self,
        src: &mut BytesMut,
        scanned: usize,
    ) -> Result<Option<BytesMut>, FrameError> {
        let window = src.len().min(self.limits.max_line);
        match src[scanned.min(window)..window]
            .iter()
            .position(|&b| b == b'\n')
        {
            Some(pos) => {
                let end = scanned.min(window) + pos;
                let mut line = src.split_to(end + 1);
                line.truncate(end);
                if line.last() == Some(&b'\r') {
                    line.truncate(end - 1);
                }
                self.state = State::Line { scanned: 0 };
                Ok(Some(line))
            }
            None if src.len() >= self.limits.max_line => {
                self.state = State::Line { scanned: 0 };
                Err(FrameError::LineTooLong)
            }
            None => {
                self.state = State::Line { scanned: window };
                Ok(None)
            }
        }
    }

    /// The payload bound of `verb` if it is a client payload verb.
    fn payload_bound(&self, verb: &str) -> Option<usize> {
        if verb.eq_ignore_ascii_case("MSG") {
            return Some(self.limits.max_msg_payload);
        }
        CLIENT_PAYLOAD_VERBS
            .iter()
            .any(|v| verb.eq_ignore_ascii_case(v))
            .then_some(self.limits.max_other_payload)
    }
}

/// Client-sent payload verbs other than `MSG` (research §1, Escargot `msnp.py`).
const CLIENT_PAYLOAD_VERBS: [&str; 13] = [
    "QRY", "UUX", "NOT", "ADL", "FQY", "RML", "UUN", "UUM", "PUT", "DEL", "SDG", "VAS", "SDC",
];

/// The TrID of a raw line: its second space-separated token, if decimal.
fn raw_trid(line: &[u8]) -> Option<TrId> {
    let token = line
        .split(|&b| b == b' ')
        .filter(|t| !t.is_empty())
        .nth(1)?;
    parse_decimal(token).and_then(|n| TrId::try_from(n).ok())
}

/// A plain decimal number (ASCII digits only); `None` if not decimal or it
/// overflows `u64`.
fn parse_decimal(token: &[u8]) -> Option<u64> {
    if token.is_empty() {
        return None;
    }
    token.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// Why a payload length token was refused.
enum LengthError {
    NotDecimal,
    TooLarge,
}

/// Reads a payload length token against `bound`.
fn payload_len(token: &str, bound: usize) -> Result<usize, LengthError> {
    let bytes = token.as_bytes();
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(LengthError::NotDecimal);
    }
    match parse_decimal(bytes).and_then(|n| usize::try_from(n).ok()) {
        Some(n) if n <= bound => Ok(n),
        _ => Err(LengthError::TooLarge),
    }
}

impl Decoder for MsnpCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        loop {
            match std::mem::replace(&mut self.state, State::Line { scanned: 0 }) {
                State::Payload { line, len } => {
                    if src.len() < len {
                        // Bounded: `len` was checked against the verb's limit.
                        src.reserve(len - src.len());
                        self.state = State::Payload { line, len };
                        return Ok(None);
                    }
                    let payload = src.split_to(len).freeze();
                    return Ok(Some(Frame {
                        line,
                        payload: Some(payload),
                    }));
                }
                State::Line { scanned } => {
                    let Some(raw) = self.take_line(src, scanned)? else {
                        return Ok(None);
                    };
                    if raw.is_empty() {
                        continue;
                    }
                    let line = match String::from_utf8(raw.to_vec()) {
                        Ok(line) => line,
                        Err(_) => {
                            return Err(FrameError::InvalidUtf8 {
                                trid: raw_trid(&raw),
                            });
                        }
                    };
                    let mut tokens = line.split(' ').filter(|t| !t.is_empty());
                    let verb = tokens.next().unwrap_or("");
                    let Some(bound) = self.payload_bound(verb) else {
                        return Ok(Some(Frame {
                            line,
                            payload: None,
                        }));
                    };
                    let trid = raw_trid(line.as_bytes());
                    let last = tokens.next_back().unwrap_or("");
                    let len = match payload_len(last, bound) {
                        Ok(len) => len,
                        Err(LengthError::NotDecimal) => {
                            return Err(FrameError::BadPayloadLength { trid });
                        }
                        Err(LengthError::TooLarge) => {
                            return Err(FrameError::PayloadTooLarge {
                                trid,
                                verb: verb.to_ascii_uppercase(),
                            });
                        }
                    };
                    self.state = State::Payload { line, len };
                }
            }
        }
    }

    /// At end of stream: the remaining whole frames, then `Ok(None)` if the stream
    /// ended on a frame boundary, or `FrameError::Io(UnexpectedEof)` if it ended
    /// inside a line or a payload (a truncated frame is never delivered).
    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        match self.decode(src)? {
            Some(frame) => Ok(Some(frame)),
            None if src.is_empty() && matches!(self.state, State::Line { .. }) => Ok(None),
            None => {
                self.state = State::Line { scanned: 0 };
                Err(FrameError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "stream ended inside a frame",
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: FrameLimits = FrameLimits {
        max_line: 64,
        max_msg_payload: 100,
        max_other_payload: 40,
    };

    fn codec() -> MsnpCodec {
        MsnpCodec::new(LIMITS)
    }

    fn line(s: &str) -> Frame {
        Frame {
            line: s.to_owned(),
            payload: None,
        }
    }

    fn with_payload(s: &str, p: &[u8]) -> Frame {
        Frame {
            line: s.to_owned(),
            payload: Some(Bytes::copy_from_slice(p)),
        }
    }

    /// Decodes everything in `input` fed in the given pieces, then at EOF.
    fn decode_pieces(pieces: &[&[u8]]) -> Result<Vec<Frame>, FrameError> {
        let mut codec = codec();
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for piece in pieces {
            buf.extend_from_slice(piece);
            while let Some(frame) = codec.decode(&mut buf)? {
                frames.push(frame);
            }
        }
        while let Some(frame) = codec.decode_eof(&mut buf)? {
            frames.push(frame);
        }
        Ok(frames)
    }

    const STREAM: &[u8] = b"VER 1 MSNP8 CVR0\r\n\
        MSG 2 A 25\r\nMIME-Version: 1.0\r\n\r\nhi\r\n\
        PNG\n\
        \r\n\
        QRY 3 msmsgs@msnmsgr.com 4\r\nabcd\
        MSG 4 U 0\r\n\
        OUT\r\n";

    fn expected() -> Vec<Frame> {
        vec![
            line("VER 1 MSNP8 CVR0"),
            with_payload("MSG 2 A 25", b"MIME-Version: 1.0\r\n\r\nhi\r\n"),
            line("PNG"),
            with_payload("QRY 3 msmsgs@msnmsgr.com 4", b"abcd"),
            with_payload("MSG 4 U 0", b""),
            line("OUT"),
        ]
    }

    #[test]
    fn whole_stream() {
        assert_eq!(decode_pieces(&[STREAM]).unwrap(), expected());
    }

    #[test]
    fn split_at_every_byte_boundary() {
        for cut in 0..=STREAM.len() {
            let (a, b) = STREAM.split_at(cut);
            assert_eq!(decode_pieces(&[a, b]).unwrap(), expected(), "cut at {cut}");
        }
    }

    #[test]
    fn byte_by_byte() {
        let pieces: Vec<&[u8]> = STREAM.chunks(1).collect();
        assert_eq!(decode_pieces(&pieces).unwrap(), expected());
    }

    #[test]
    fn payload_may_hold_anything() {
        let frames = decode_pieces(&[b"MSG 1 N 5\r\n\xff\x00\n\r\x80"]).unwrap();
        assert_eq!(frames, vec![with_payload("MSG 1 N 5", b"\xff\x00\n\r\x80")]);
    }

    #[test]
    fn lowercase_payload_verb_is_framed() {
        let frames = decode_pieces(&[b"msg 1 U 2\r\nabPNG\r\n"]).unwrap();
        assert_eq!(frames, vec![with_payload("msg 1 U 2", b"ab"), line("PNG")]);
    }

    #[test]
    fn line_too_long() {
        let mut codec = codec();
        let mut buf = BytesMut::from(&[b'A'; 63][..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        buf.extend_from_slice(b"A");
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(matches!(err, FrameError::LineTooLong));
        assert_eq!(err.trid(), None);
        assert_eq!(err.error_code(), None);
    }

    #[test]
    fn longest_line_fits() {
        // 62 bytes + CRLF = 64 = max_line.
        let mut input = vec![b'A'; 62];
        input.extend_from_slice(b"\r\n");
        let frames = decode_pieces(&[&input]).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].line.len(), 62);
        // One more byte does not fit.
        let mut input = vec![b'A'; 63];
        input.extend_from_slice(b"\r\n");
        assert!(matches!(
            decode_pieces(&[&input]),
            Err(FrameError::LineTooLong)
        ));
    }

    #[test]
    fn invalid_utf8() {
        let err = decode_pieces(&[b"REA 7 a@b.c \xff\xfe\r\n"]).unwrap_err();
        assert!(matches!(err, FrameError::InvalidUtf8 { trid: Some(7) }));
        assert_eq!(err.error_code(), Some(ErrorCode::SyntaxError));
        let err = decode_pieces(&[b"\xc3 x\r\n"]).unwrap_err();
        assert_eq!(err.trid(), None);
    }

    #[test]
    fn bad_payload_length() {
        for input in [
            &b"MSG 5 A x\r\n"[..],
            b"MSG 5 A -1\r\n",
            b"MSG 5 A +1\r\n",
            b"MSG 5 A 1.0\r\n",
            b"MSG\r\n",
            b"UUX 5\t3\r\n",
        ] {
            let err = decode_pieces(&[input]).unwrap_err();
            assert!(
                matches!(err, FrameError::BadPayloadLength { .. }),
                "{input:?}: {err:?}"
            );
            assert_eq!(err.error_code(), Some(ErrorCode::SyntaxError));
        }
        let err = decode_pieces(&[b"MSG 5 A x\r\n"]).unwrap_err();
        assert_eq!(err.trid(), Some(5));
    }

    #[test]
    fn payload_too_large_is_refused_before_buffering() {
        let mut codec = codec();
        let mut buf = BytesMut::from(&b"MSG 9 A 101\r\n"[..]);
        let capacity = buf.capacity();
        let err = codec.decode(&mut buf).unwrap_err();
        match &err {
            FrameError::PayloadTooLarge { trid, verb } => {
                assert_eq!(*trid, Some(9));
                assert_eq!(verb, "MSG");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(err.error_code(), Some(ErrorCode::InvalidParameter));
        // Nothing was reserved for the refused payload.
        assert!(buf.capacity() <= capacity);

        // Other verbs use the other bound.
        let err = decode_pieces(&[b"uux 3 41\r\n"]).unwrap_err();
        assert!(matches!(err, FrameError::PayloadTooLarge { ref verb, .. } if verb == "UUX"));
        assert!(decode_pieces(&[b"UUX 3 40\r\n", &[b'x'; 40]]).is_ok());
        assert!(decode_pieces(&[b"MSG 3 U 100\r\n", &[b'x'; 100]]).is_ok());

        // A length that overflows every integer type is "too large", not a panic.
        let err = decode_pieces(&[b"MSG 1 A 99999999999999999999999999\r\n"]).unwrap_err();
        assert!(matches!(err, FrameError::PayloadTooLarge { .. }));
    }

    #[test]
    fn lying_length_then_eof() {
        let mut codec = codec();
        let mut buf = BytesMut::from(&b"MSG 1 A 100\r\nshort"[..]);
        assert!(codec.decode(&mut buf).unwrap().is_none());
        // The buffer holds at most what the bound allows (plus allocator slack).
        assert!(buf.capacity() <= 2 * (LIMITS.max_line + LIMITS.max_msg_payload));
        assert!(!codec.is_idle());
        let err = codec.decode_eof(&mut buf).unwrap_err();
        assert!(matches!(err, FrameError::Io(ref e) if e.kind() == io::ErrorKind::UnexpectedEof));
    }

    #[test]
    fn eof_inside_a_line() {
        let err = decode_pieces(&[b"PNG"]).unwrap_err();
        assert!(matches!(err, FrameError::Io(_)));
    }

    #[test]
    fn eof_on_a_boundary() {
        let mut codec = codec();
        let mut buf = BytesMut::new();
        assert!(codec.decode_eof(&mut buf).unwrap().is_none());
        assert!(codec.is_idle());
    }

    #[test]
    fn partial_line_fed_byte_by_byte() {
        let mut codec = codec();
        let mut buf = BytesMut::new();
        for b in b"CHG 1 NLN 0" {
            buf.extend_from_slice(&[*b]);
            assert!(codec.decode(&mut buf).unwrap().is_none());
        }
        buf.extend_from_slice(b"\r\n");
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(line("CHG 1 NLN 0")));
        assert!(buf.is_empty());
    }
}
