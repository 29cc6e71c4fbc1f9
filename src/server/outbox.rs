//! Where handlers put their replies: the [`Outbox`] encodes typed replies for the
//! connection's dialect, and the [`Responder`] binds replies to the command's TrID
//! so a handler cannot answer with the wrong one.

use bytes::{Buf, BytesMut};

use crate::proto::{Dialect, ErrorCode, Reply, TrId};

/// Encoded bytes waiting to be written, plus whether to close afterwards.
#[derive(Debug)]
pub struct Outbox {
    dialect: Dialect,
    buf: BytesMut,
    closing: bool,
}

impl Outbox {
    /// An empty outbox encoding for `dialect` (changed by `set_dialect` after `VER`).
    pub fn new(dialect: Dialect) -> Self {
        Outbox {
            dialect,
            buf: BytesMut::new(),
            closing: false,
        }
    }

    /// The dialect replies are encoded in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Switches the dialect (after `VER` negotiation or a switchboard login).
    pub fn set_dialect(&mut self, dialect: Dialect) {
        self.dialect = dialect;
    }

    /// Encodes and queues one reply.
    pub fn send(&mut self, reply: Reply) {
        crate::proto::encode(self.dialect, &reply, &mut self.buf);
    }

    /// Asks the connection to close once what is queued has been written.
    pub fn close(&mut self) {
        self.closing = true;
    }

    /// Whether the connection should close after the next flush.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// Whether bytes are waiting.
    pub fn has_pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// The pending bytes.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// How many bytes are pending (the connection's send queue).
    pub fn pending_len(&self) -> usize {
        self.buf.len()
    }

    /// Marks the first `n` pending bytes written; releases the buffer once
    /// nothing is left.
    pub fn advance(&mut self, n: usize) {
        if n >= self.buf.len() {
            self.written();
        } else {
            self.buf.advance(n);
        }
    }

    /// Marks everything written and releases the buffer, so an idle connection
    /// holds no write buffer.
    pub fn written(&mut self) {
        self.buf = BytesMut::new();
    }

    /// A responder for the command with `trid`.
    pub fn respond(&mut self, trid: TrId) -> Responder<'_> {
        Responder { trid, out: self }
    }
}

/// A reply sink bound to one command's TrID.
#[derive(Debug)]
pub struct Responder<'a> {
    trid: TrId,
    out: &'a mut Outbox,
}

impl Responder<'_> {
    /// The TrID replies carry.
    pub fn trid(&self) -> TrId {
        self.trid
    }

    /// Sends `CODE trid`.
    pub fn error(&mut self, code: ErrorCode) {
        let trid = self.trid;
        self.out.send(Reply::Error { code, trid });
    }

    /// Sends the reply `build` makes from the TrID.
    pub fn reply(&mut self, build: impl FnOnce(TrId) -> Reply) {
        let reply = build(self.trid);
        self.out.send(reply);
    }

    /// The outbox, for lines that carry no TrID (`MSG`, `NLN`, ...).
    pub fn outbox(&mut self) -> &mut Outbox {
        self.out
    }
}
