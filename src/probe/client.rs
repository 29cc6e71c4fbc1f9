//! The probe's MSNP connection: sends lines, reads lines and payloads with a
//! deadline per wait, answers `CHL` challenges on its own (MSNP8 algorithm),
//! and turns a numeric error for an awaited TrID into a failure. It runs over
//! any [`Stream`]: plain TCP or TLS.

use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use super::transport::{self, Roots, Stream};
use crate::core::challenge;

/// Verbs whose server lines are followed by a payload (length last).
const PAYLOAD_VERBS: &[&str] = &["MSG", "NOT", "UBX", "GCF", "IPG", "UBN"];
/// The client identity used to answer challenges.
const PRODUCT_ID: &str = "msmsgs@msnmsgr.com";
/// Longest line or payload the probe accepts.
const MAX_FRAME: usize = 64 * 1024;

/// One line from the server, with its payload if the verb has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The line without CRLF.
    pub line: String,
    /// The payload bytes, for payload verbs.
    pub payload: Vec<u8>,
}

impl Incoming {
    /// The space-separated words of the line.
    pub fn words(&self) -> Vec<&str> {
        self.line.split(' ').collect()
    }
}

/// A probe connection.
pub struct Conn {
    stream: Box<dyn Stream>,
    buf: BytesMut,
    timeout: Duration,
    next_trid: u32,
    /// Who this is, for failure messages.
    pub name: String,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("name", &self.name)
            .field("next_trid", &self.next_trid)
            .finish_non_exhaustive()
    }
}

impl Conn {
    /// Connects to `addr` (over TLS trusting `tls` when given) within
    /// `timeout`.
    pub async fn connect(
        addr: &str,
        name: &str,
        tls: Option<&Roots>,
        timeout: Duration,
    ) -> Result<Conn, String> {
        let stream = transport::connect(addr, tls, &format!("{name}: "), timeout).await?;
        Ok(Conn {
            stream,
            buf: BytesMut::with_capacity(4096),
            timeout,
            next_trid: 1,
            name: name.to_owned(),
        })
    }

    /// A fresh TrID.
    pub fn trid(&mut self) -> u32 {
        let t = self.next_trid;
        self.next_trid += 1;
        t
    }

    /// Sends one line (CRLF added).
    pub async fn send(&mut self, line: &str) -> Result<(), String> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.send_raw(&bytes).await
    }

    /// Sends raw bytes (a line with its payload).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), String> {
        tokio::time::timeout(self.timeout, self.stream.write_all(bytes))
            .await
            .map_err(|_| format!("{}: write timed out", self.name))?
            .map_err(|e| format!("{}: write failed: {e}", self.name))
    }

    /// Reads until `want` accepts a line (answering challenges meanwhile).
    /// A numeric error whose TrID is `trid` fails at once, as does the
    /// connection closing or the deadline passing; `what` names the wait.
    pub async fn wait_for(
        &mut self,
        what: &str,
        trid: Option<u32>,
        mut want: impl FnMut(&Incoming) -> bool,
    ) -> Result<Incoming, String> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let incoming = self.next(deadline, what).await?;
            let words = incoming.words();
            if words.first() == Some(&"CHL") {
                if let Some(challenge) = words.get(2) {
                    self.answer_challenge(challenge).await?;
                }
                continue;
            }
            if let (Some(code), Some(t)) = (words.first(), trid)
                && code.len() == 3
                && code.bytes().all(|b| b.is_ascii_digit())
                && words.get(1).and_then(|w| w.parse::<u32>().ok()) == Some(t)
            {
                return Err(format!(
                    "{}: error {code} while waiting for {what}",
                    self.name
                ));
            }
            if words.first() == Some(&"OUT") {
                return Err(format!(
                    "{}: server sent `{}` while waiting for {what}",
                    self.name, incoming.line
                ));
            }
            if want(&incoming) {
                return Ok(incoming);
            }
        }
    }

    /// `QRY` for a `CHL` (the MSNP8 product key).
    async fn answer_challenge(&mut self, challenge: &str) -> Result<(), String> {
        let key = challenge::product_key(PRODUCT_ID, 8).unwrap_or_default();
        let response = challenge::md5_response(challenge, key);
        let trid = self.trid();
        let line = format!("QRY {trid} {PRODUCT_ID} 32\r\n{response}");
        self.send_raw(line.as_bytes()).await
    }

    /// The next line (and payload) before `deadline`.
    async fn next(&mut self, deadline: Instant, what: &str) -> Result<Incoming, String> {
        loop {
            if let Some(incoming) = self.take_frame()? {
                return Ok(incoming);
            }
            if self.buf.len() > MAX_FRAME {
                return Err(format!("{}: oversized line from the server", self.name));
            }
            let read = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf));
            match read.await {
                Err(_) => return Err(format!("{}: timed out waiting for {what}", self.name)),
                Ok(Err(e)) => return Err(format!("{}: read failed: {e}", self.name)),
                Ok(Ok(0)) => {
                    return Err(format!(
                        "{}: connection closed while waiting for {what}",
                        self.name
                    ));
                }
                Ok(Ok(_)) => {}
            }
        }
    }

    /// A complete frame from the buffer, if there is one.
    fn take_frame(&mut self) -> Result<Option<Incoming>, String> {
        let Some(end) = self.buf.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        let verb = line.split(' ').next().unwrap_or_default();
        let payload_len = if PAYLOAD_VERBS.contains(&verb) {
            line.rsplit(' ')
                .next()
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n <= MAX_FRAME)
                .ok_or_else(|| format!("{}: bad payload length in `{line}`", self.name))?
        } else {
            0
        };
        if self.buf.len() < end + 2 + payload_len {
            return Ok(None);
        }
        self.buf.advance(end + 2);
        let payload = self.buf.split_to(payload_len).to_vec();
        Ok(Some(Incoming { line, payload }))
    }
}
