//! Framing: a tokio-util Decoder/Encoder that yields one CRLF-terminated line at a
//! time, bounded in length, followed for payload verbs by exactly the declared
//! number of payload bytes (bounded per verb).

use bytes::{Bytes, BytesMut};
use tokio_util::codec::Decoder;

/// One framed client command: the line without CRLF and, for payload verbs, the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The command line, valid UTF-8, without the trailing CRLF.
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

/// Why framing failed. Every variant ends the connection (after an error line where
/// a TrID is known).
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Socket error.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// The MSNP frame decoder.
#[derive(Debug)]
pub struct MsnpCodec {
    limits: FrameLimits,
}

impl MsnpCodec {
    /// A decoder with these limits.
    pub fn new(limits: FrameLimits) -> Self {
        MsnpCodec { limits }
    }
}

impl Decoder for MsnpCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        let _ = (src, self.limits);
        todo!("frame decoder")
    }
}
