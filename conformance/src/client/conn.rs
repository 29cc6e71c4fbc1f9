//! One MSNP connection over TCP: send command lines (with payloads), read
//! server lines and payloads with a timeout, notice when the server closes.
//!
//! Reading is strict on purpose: every line must end in CRLF, lines are at most
//! [`MAX_LINE`] bytes, payloads at most [`MAX_PAYLOAD`]. A timeout in the middle
//! of a line loses that partial line; the runner treats any timeout as a failure
//! and stops reading that connection.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::client::line::{Incoming, ServerLine, payload_length};

/// Longest server line accepted, CRLF included.
pub const MAX_LINE: usize = 64 * 1024;
/// Largest server payload accepted.
pub const MAX_PAYLOAD: usize = 1024 * 1024;

/// A connection problem.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Could not connect.
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        /// The address.
        addr: String,
        /// The error.
        source: io::Error,
    },
    /// Nothing arrived in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// A socket error.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The server broke the framing rules.
    #[error("protocol error: {0}")]
    Protocol(String),
}

/// An open connection.
#[derive(Debug)]
pub struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    peer: String,
}

fn is_close(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

impl Connection {
    /// Connects to `addr` (`host:port`) within `timeout`.
    pub async fn connect(addr: &str, timeout: Duration) -> Result<Connection, ClientError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ClientError::Timeout(timeout))?
            .map_err(|source| ClientError::Connect {
                addr: addr.to_string(),
                source,
            })?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        Ok(Connection {
            reader: BufReader::new(read),
            writer: write,
            peer: addr.to_string(),
        })
    }

    /// The address this connection went to.
    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Sends `line` plus CRLF.
    pub async fn send_line(&mut self, line: &str) -> Result<(), ClientError> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.writer.write_all(&bytes).await?;
        Ok(())
    }

    /// Sends `line` (which must already end with the payload length), CRLF and
    /// the payload, in one write.
    pub async fn send_with_payload(
        &mut self,
        line: &str,
        payload: &[u8],
    ) -> Result<(), ClientError> {
        let mut bytes = Vec::with_capacity(line.len() + 2 + payload.len());
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(payload);
        self.writer.write_all(&bytes).await?;
        Ok(())
    }

    /// Reads the next line (and its payload) or notices the close.
    pub async fn read(&mut self, timeout: Duration) -> Result<Incoming, ClientError> {
        match tokio::time::timeout(timeout, self.read_inner()).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout(timeout)),
        }
    }

    async fn read_inner(&mut self) -> Result<Incoming, ClientError> {
        let mut raw = Vec::new();
        loop {
            let buf = match self.reader.fill_buf().await {
                Ok(buf) => buf,
                Err(e) if is_close(&e) && raw.is_empty() => return Ok(Incoming::Closed),
                Err(e) => return Err(e.into()),
            };
            if buf.is_empty() {
                if raw.is_empty() {
                    return Ok(Incoming::Closed);
                }
                return Err(ClientError::Protocol(format!(
                    "connection closed in the middle of a line: {:?}",
                    String::from_utf8_lossy(&raw)
                )));
            }
            let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (&buf[..=i], true),
                None => (buf, false),
            };
            raw.extend_from_slice(chunk);
            let used = chunk.len();
            self.reader.consume(used);
            if raw.len() > MAX_LINE {
                return Err(ClientError::Protocol(format!(
                    "server line longer than {MAX_LINE} bytes"
                )));
            }
            if done {
                break;
            }
        }
        let Some(body) = raw.strip_suffix(b"\r\n") else {
            return Err(ClientError::Protocol(format!(
                "line not ended by CRLF: {:?}",
                String::from_utf8_lossy(&raw)
            )));
        };
        let text = String::from_utf8(body.to_vec())
            .map_err(|_| ClientError::Protocol("server line is not UTF-8".to_string()))?;
        let payload = match payload_length(&text).map_err(ClientError::Protocol)? {
            Some(n) if n > MAX_PAYLOAD => {
                return Err(ClientError::Protocol(format!(
                    "payload of {n} bytes is larger than {MAX_PAYLOAD}"
                )));
            }
            Some(n) => {
                let mut payload = vec![0; n];
                self.reader.read_exact(&mut payload).await.map_err(|e| {
                    if is_close(&e) {
                        ClientError::Protocol(format!(
                            "connection closed inside the {n}-byte payload of `{text}`"
                        ))
                    } else {
                        ClientError::Io(e)
                    }
                })?;
                Some(payload)
            }
            None => None,
        };
        Ok(Incoming::Line(ServerLine { text, payload }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    const T: Duration = Duration::from_secs(5);

    async fn pair(script: &'static [u8]) -> Connection {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            // Byte by byte, to prove reassembly across reads.
            for b in script {
                sock.write_all(&[*b]).await.unwrap();
            }
            let mut sink = [0u8; 64];
            let _ = sock.read(&mut sink).await;
        });
        Connection::connect(&addr, T).await.unwrap()
    }

    #[tokio::test]
    async fn reads_lines_and_payloads() {
        let mut c = pair(b"VER 1 MSNP8\r\nMSG Hotmail Hotmail 5\r\nab\r\ncQNG\r\n").await;
        assert_eq!(
            c.read(T).await.unwrap(),
            Incoming::Line(ServerLine {
                text: "VER 1 MSNP8".into(),
                payload: None
            })
        );
        assert_eq!(
            c.read(T).await.unwrap(),
            Incoming::Line(ServerLine {
                text: "MSG Hotmail Hotmail 5".into(),
                payload: Some(b"ab\r\nc".to_vec())
            })
        );
        match c.read(T).await.unwrap() {
            Incoming::Line(l) => assert_eq!(l.tokens(), vec!["QNG"]),
            other => panic!("{other:?}"),
        }
        c.send_line("OUT").await.unwrap();
        assert_eq!(c.read(T).await.unwrap(), Incoming::Closed);
    }

    #[tokio::test]
    async fn rejects_bare_lf() {
        let mut c = pair(b"QNG\n").await;
        assert!(matches!(c.read(T).await, Err(ClientError::Protocol(_))));
    }

    #[tokio::test]
    async fn rejects_truncated_payload() {
        let mut c = pair(b"MSG a b 10\r\nshort").await;
        c.send_line("OUT").await.unwrap();
        let err = c.read(T).await.unwrap_err();
        assert!(err.to_string().contains("payload"), "{err}");
    }

    #[tokio::test]
    async fn times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (hold_tx, hold_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let (_sock, _) = listener.accept().await.unwrap();
            let _ = hold_rx.await;
        });
        let mut c = Connection::connect(&addr, T).await.unwrap();
        let short = Duration::from_millis(50);
        assert!(matches!(c.read(short).await, Err(ClientError::Timeout(_))));
        drop(hold_tx);
    }
}
