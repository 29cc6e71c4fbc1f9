//! A lean MSNP connection: CRLF lines, payload verbs read by their length,
//! every read bounded by a timeout. Split into a reader and a writer half so a
//! workload can read and write from different tasks.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::Error;

/// Longest server line accepted, CRLF included.
const MAX_LINE: usize = 64 * 1024;
/// Largest server payload accepted.
const MAX_PAYLOAD: usize = 64 * 1024;
/// Read buffer per connection (small: thousands of idle clients hold one).
const READ_BUFFER: usize = 2048;
/// Verbs whose server lines end with a payload length.
const PAYLOAD_VERBS: [&str; 6] = ["MSG", "UBX", "GCF", "NOT", "IPG", "UBN"];

/// One server line and its payload.
#[derive(Debug, Clone)]
pub struct Line {
    /// The line without CRLF.
    pub text: String,
    /// Payload bytes of payload verbs.
    pub payload: Option<Vec<u8>>,
}

impl Line {
    /// The `i`-th space-separated token ("" past the end).
    pub fn token(&self, i: usize) -> &str {
        self.text.split(' ').nth(i).unwrap_or("")
    }

    /// The verb (first token).
    pub fn verb(&self) -> &str {
        self.token(0)
    }
}

/// Checks that `addr` is a loopback address: loadgen only targets this host.
pub fn loopback(addr: &str) -> Result<SocketAddr, Error> {
    let parsed: SocketAddr = addr
        .parse()
        .map_err(|_| Error(format!("`{addr}` is not an ip:port address")))?;
    if !parsed.ip().is_loopback() {
        return Err(Error(format!(
            "`{addr}` is not a loopback address; loadgen only targets 127.0.0.0/8 and ::1"
        )));
    }
    Ok(parsed)
}

/// The reading half.
#[derive(Debug)]
pub struct Reader {
    inner: BufReader<OwnedReadHalf>,
    raw: Vec<u8>,
    timeout: Duration,
}

/// The writing half.
#[derive(Debug)]
pub struct Writer {
    inner: OwnedWriteHalf,
    buf: Vec<u8>,
}

/// A whole connection.
#[derive(Debug)]
pub struct Conn {
    /// Reads server lines.
    pub reader: Reader,
    /// Sends client lines.
    pub writer: Writer,
}

impl Conn {
    /// Connects to a loopback `addr`; `timeout` bounds the connect and each read.
    pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<Conn, Error> {
        if !addr.ip().is_loopback() {
            return Err(Error(format!("refusing non-loopback address {addr}")));
        }
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| Error(format!("connect to {addr} timed out")))?
            .map_err(|e| Error(format!("connect to {addr}: {e}")))?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        Ok(Conn {
            reader: Reader {
                inner: BufReader::with_capacity(READ_BUFFER, read),
                raw: Vec::new(),
                timeout,
            },
            writer: Writer {
                inner: write,
                buf: Vec::new(),
            },
        })
    }

    /// Sends `line` + CRLF.
    pub async fn send(&mut self, line: &str) -> Result<(), Error> {
        self.writer.send(line).await
    }

    /// Reads the next line.
    pub async fn read(&mut self) -> Result<Line, Error> {
        self.reader.read().await
    }

    /// Reads lines until one satisfies `want` (skipping at most 100,000 others);
    /// a numeric error with TrID `trid` fails the wait.
    pub async fn read_until(
        &mut self,
        trid: Option<u32>,
        want: impl Fn(&Line) -> bool,
    ) -> Result<Line, Error> {
        self.reader.read_until(trid, want).await
    }
}

impl Writer {
    /// Sends `line` + CRLF.
    pub async fn send(&mut self, line: &str) -> Result<(), Error> {
        self.buf.clear();
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
        self.inner.write_all(&self.buf).await?;
        Ok(())
    }

    /// Sends `line` (ending in the payload length) + CRLF + `payload` in one write.
    pub async fn send_payload(&mut self, line: &str, payload: &[u8]) -> Result<(), Error> {
        self.buf.clear();
        self.buf.extend_from_slice(line.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
        self.buf.extend_from_slice(payload);
        self.inner.write_all(&self.buf).await?;
        Ok(())
    }
}

impl Reader {
    /// Reads the next line (and payload); fails on close, timeout or bad framing.
    pub async fn read(&mut self) -> Result<Line, Error> {
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.read_inner()).await {
            Ok(result) => result,
            Err(_) => Err(Error(format!("no server line within {timeout:?}"))),
        }
    }

    /// Reads lines until one satisfies `want` (skipping at most 100,000 others);
    /// a numeric error with TrID `trid` fails the wait.
    pub async fn read_until(
        &mut self,
        trid: Option<u32>,
        want: impl Fn(&Line) -> bool,
    ) -> Result<Line, Error> {
        for _ in 0..100_000 {
            let line = self.read().await?;
            if want(&line) {
                return Ok(line);
            }
            if let Some(trid) = trid
                && line.verb().bytes().all(|b| b.is_ascii_digit())
                && line.token(1) == trid.to_string()
            {
                return Err(Error(format!("server error: {}", line.text)));
            }
            if line.verb() == "OUT" {
                return Err(Error(format!("server closed the session: {}", line.text)));
            }
        }
        Err(Error("too many unexpected server lines".into()))
    }

    async fn read_inner(&mut self) -> Result<Line, Error> {
        self.raw.clear();
        let n = (&mut self.inner)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut self.raw)
            .await?;
        if n == 0 {
            return Err(Error("server closed the connection".into()));
        }
        let Some(body) = self.raw.strip_suffix(b"\r\n") else {
            return Err(Error(format!(
                "bad server line {:?}",
                String::from_utf8_lossy(&self.raw)
            )));
        };
        let text = std::str::from_utf8(body)
            .map_err(|_| Error("server line is not UTF-8".into()))?
            .to_owned();
        let verb = text.split(' ').next().unwrap_or("");
        let payload = if PAYLOAD_VERBS.contains(&verb) {
            let len: usize = text
                .rsplit(' ')
                .next()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| Error(format!("payload line without length: {text}")))?;
            if len > MAX_PAYLOAD {
                return Err(Error(format!("payload too large: {text}")));
            }
            let mut payload = vec![0; len];
            self.inner.read_exact(&mut payload).await?;
            Some(payload)
        } else {
            None
        };
        Ok(Line { text, payload })
    }
}
