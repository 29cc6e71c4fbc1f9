//! Where handlers put their replies: the [`Outbox`] encodes typed replies for the
//! connection's dialect, and the [`Responder`] binds replies to the command's TrID
//! so a handler cannot answer with the wrong one. Receipts attached to queued
//! bytes are confirmed once those bytes were written to the socket. A line
//! shared by many connections (a presence broadcast) is queued without
//! copying when nothing else is waiting.

use bytes::{Buf, Bytes, BytesMut};

use crate::core::events::{Receipt, WireCache};
use crate::proto::{Dialect, ErrorCode, Reply, TrId};

/// Encoded bytes waiting to be written, plus whether to close afterwards.
/// What waits is `shared` (if any), then `buf`.
#[derive(Debug)]
pub struct Outbox {
    dialect: Dialect,
    /// A shared line queued as is, ahead of `buf`: only ever set while `buf`
    /// is empty, so the order of lines is kept.
    shared: Option<Bytes>,
    buf: BytesMut,
    closing: bool,
    /// Receipts with the end of the bytes they cover (an offset into what
    /// waits): confirmed once those bytes are written, dropped unconfirmed
    /// with the outbox.
    receipts: Vec<(usize, Receipt)>,
}

impl Outbox {
    /// An empty outbox encoding for `dialect` (changed by `set_dialect` after `VER`).
    pub fn new(dialect: Dialect) -> Self {
        Outbox {
            dialect,
            shared: None,
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

    /// Queues a line many connections share. An idle connection keeps a
    /// reference to it instead of a copy; behind other waiting bytes it is
    /// copied after them.
    pub fn send_shared(&mut self, line: Bytes) {
        if self.shared.is_none() && self.buf.is_empty() {
            self.shared = Some(line);
        } else {
            self.buf.extend_from_slice(&line);
        }
    }

    /// Queues the line `reply` encodes for this dialect, taken from `cache`
    /// when another connection of the same dialect already encoded it.
    pub fn send_cached(&mut self, cache: &WireCache, reply: impl FnOnce() -> Reply) {
        let dialect = self.dialect;
        let line = cache.get_or_encode(usize::from(dialect.version()), || {
            let mut line = BytesMut::new();
            crate::proto::encode(dialect, &reply(), &mut line);
            line.freeze()
        });
        self.send_shared(line);
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
        self.shared.is_some() || !self.buf.is_empty()
    }

    /// The next pending bytes to write: a shared line, or else the buffer.
    /// Write them, [`advance`](Self::advance), and ask again until
    /// [`has_pending`](Self::has_pending) is false.
    pub fn pending(&self) -> &[u8] {
        match &self.shared {
            Some(line) => line,
            None => &self.buf,
        }
    }

    /// How many bytes are pending in all (the connection's send queue).
    pub fn pending_len(&self) -> usize {
        self.shared.as_ref().map_or(0, Bytes::len) + self.buf.len()
    }

    /// Confirms `receipt` once every byte queued so far has been written; if
    /// the connection ends first it is dropped unconfirmed.
    pub fn confirm_on_write(&mut self, receipt: Receipt) {
        self.receipts.push((self.pending_len(), receipt));
    }

    /// Marks the first `n` bytes of [`pending`](Self::pending) written
    /// (confirming the receipts of what is now fully written); releases the
    /// buffer once nothing is left.
    pub fn advance(&mut self, n: usize) {
        if n >= self.pending_len() {
            self.written();
        } else {
            match &mut self.shared {
                Some(line) if n >= line.len() => self.shared = None,
                Some(line) => line.advance(n),
                None => self.buf.advance(n),
            }
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
        self.shared = None;
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

    /// Writes everything pending the way a connection does, chunk by chunk.
    fn drain(out: &mut Outbox) -> Vec<u8> {
        let mut written = Vec::new();
        while out.has_pending() {
            let chunk = out.pending().to_vec();
            written.extend_from_slice(&chunk);
            out.advance(chunk.len());
        }
        written
    }

    #[test]
    fn a_shared_line_is_queued_without_a_copy_when_nothing_waits() {
        let mut out = Outbox::new(Dialect::MSNP8);
        let shared = Bytes::from_static(b"NLN AWY bob@example.com Bob 0\r\n");
        out.send_shared(shared.clone());
        assert_eq!(out.pending().as_ptr(), shared.as_ptr());
        assert_eq!(out.pending_len(), shared.len());
        assert_eq!(drain(&mut out), shared);
    }

    #[test]
    fn shared_lines_and_replies_keep_their_order() {
        let mut out = Outbox::new(Dialect::MSNP8);
        out.send_shared(Bytes::from_static(b"A\r\n"));
        line(&mut out, 1);
        out.send_shared(Bytes::from_static(b"B\r\n"));
        let (receipt, mut done) = Receipt::new();
        out.confirm_on_write(receipt);
        line(&mut out, 2);
        assert_eq!(out.pending_len(), 3 + 7 + 3 + 7);
        // Part of the shared line, then the rest.
        out.advance(1);
        assert_eq!(out.pending(), b"\r\n");
        out.advance(2);
        assert!(done.try_recv().is_err());
        // The receipt covers "ACK 1" and "B": confirmed once those are out.
        out.advance(9);
        assert!(done.try_recv().is_err());
        out.advance(1);
        assert!(done.try_recv().is_ok());
        assert_eq!(drain(&mut out), b"ACK 2\r\n");
    }

    #[test]
    fn a_cached_line_is_encoded_once_per_dialect() {
        let cache = WireCache::default();
        let mut encoded = 0;
        let mut lines = Vec::new();
        for dialect in [Dialect::MSNP8, Dialect::MSNP8, Dialect::MAX] {
            let mut out = Outbox::new(dialect);
            out.send_cached(&cache, || {
                encoded += 1;
                Reply::Fln {
                    email: "bob@example.com".to_owned(),
                }
            });
            lines.push(out.pending().as_ptr());
            assert_eq!(drain(&mut out), b"FLN bob@example.com\r\n");
        }
        assert_eq!(encoded, 2, "MSNP8 once, MSNP12 once");
        assert_eq!(
            lines[0], lines[1],
            "the second MSNP8 connection shares the first one's bytes"
        );
        assert_ne!(lines[0], lines[2]);
    }
}
