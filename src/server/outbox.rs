//! Where handlers put their replies: the [`Outbox`] encodes typed replies for the
//! connection's dialect, and the [`Responder`] binds replies to the command's TrID
//! so a handler cannot answer with the wrong one. Receipts attached to queued
//! bytes are confirmed once those bytes were written to the socket.

use bytes::BytesMut;

use crate::core::events::Receipt;
use crate::proto::{Dialect, ErrorCode, Reply, TrId};

/// Encoded bytes waiting to be written, plus whether to close afterwards.
#[derive(Debug)]
pub struct Outbox {
    dialect: Dialect,
    buf: BytesMut,
    closing: bool,
    /// Confirmed by [`Outbox::written`]; dropped unconfirmed with the outbox.
    receipts: Vec<Receipt>,
}

impl Outbox {
    /// An empty outbox encoding for `dialect` (changed by `set_dialect` after `VER`).
    pub fn new(dialect: Dialect) -> Self {
        Outbox {
            dialect,
            buf: BytesMut::new(),
            closing: false,
            receipts: Vec::new(),
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

    /// Confirms `receipt` once everything queued so far has been written (the
    /// next [`Outbox::written`]); if the connection ends first it is dropped
    /// unconfirmed.
    pub fn confirm_on_write(&mut self, receipt: Receipt) {
        self.receipts.push(receipt);
    }

    /// Marks everything written and releases the buffer, so an idle connection
    /// holds no write buffer; confirms the receipts of what was written.
    pub fn written(&mut self) {
        self.buf = BytesMut::new();
        for receipt in self.receipts.drain(..) {
            receipt.confirm();
        }
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
