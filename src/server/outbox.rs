//! Where handlers put their replies: the [`Outbox`] encodes typed replies for the
//! connection's dialect, and the [`Responder`] binds replies to the command's TrID
//! so a handler cannot answer with the wrong one. Receipts attached to queued
//! bytes are confirmed once those bytes were written to the socket.

use bytes::{Buf, BytesMut};

use crate::core::events::Receipt;
use crate::proto::{Dialect, ErrorCode, Reply, TrId};

/// Encoded bytes waiting to be written, plus whether to close afterwards.
#[derive(Debug)]
pub struct Outbox {
    dialect: Dialect,
    buf: BytesMut,
    closing: bool,
    /// Receipts with the end of the bytes they cover (an offset into `buf`):
    /// confirmed once those bytes are written, dropped unconfirmed with the
    /// outbox.
    receipts: Vec<(usize, Receipt)>,
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
        if let Reply::Error { code, .. } = &reply {
            crate::obs::metrics().error_sent(*code);
        }
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

    /// Confirms `receipt` once every byte queued so far has been written; if
    /// the connection ends first it is dropped unconfirmed.
    pub fn confirm_on_write(&mut self, receipt: Receipt) {
        self.receipts.push((self.buf.len(), receipt));
    }

    /// Marks the first `n` pending bytes written (confirming the receipts of
    /// what is now fully written); releases the buffer once nothing is left.
    pub fn advance(&mut self, n: usize) {
        if n >= self.buf.len() {
            self.written();
        } else {
            self.buf.advance(n);
            self.receipts.retain_mut(|(end, receipt)| {
                if *end <= n {
                    receipt.confirm();
                    false
                } else {
                    *end -= n;
                    true
                }
            });
        }
    }

    /// Marks everything written and releases the buffer, so an idle connection
    /// holds no write buffer; confirms the receipts of what was written.
    pub fn written(&mut self) {
        self.buf = BytesMut::new();
        for (_, receipt) in self.receipts.drain(..) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn line(out: &mut Outbox, trid: TrId) {
        out.send(Reply::Ack { trid });
    }

    #[test]
    fn receipts_are_confirmed_once_their_bytes_are_written() {
        let mut out = Outbox::new(Dialect::MSNP8);
        line(&mut out, 1);
        let first_end = out.pending_len();
        let (first, mut first_done) = Receipt::new();
        out.confirm_on_write(first);
        line(&mut out, 2);
        let (second, mut second_done) = Receipt::new();
        out.confirm_on_write(second);

        // Part of the first line: nothing confirmed yet.
        out.advance(first_end - 1);
        assert!(first_done.try_recv().is_err());
        // The rest of the first line.
        out.advance(1);
        assert!(first_done.try_recv().is_ok());
        assert!(second_done.try_recv().is_err());
        // Everything.
        let rest = out.pending_len();
        out.advance(rest);
        assert!(second_done.try_recv().is_ok());
        assert!(!out.has_pending());
    }

    #[test]
    fn unwritten_receipts_fail_when_the_outbox_goes() {
        let mut out = Outbox::new(Dialect::MSNP8);
        line(&mut out, 1);
        let (receipt, mut done) = Receipt::new();
        out.confirm_on_write(receipt);
        drop(out);
        assert!(matches!(
            done.try_recv(),
            Err(tokio::sync::oneshot::error::TryRecvError::Closed)
        ));
    }
}
