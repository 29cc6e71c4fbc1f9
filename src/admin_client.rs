//! The CLI side of the operator API: how `msnpd kick`, `broadcast`, `stats`
//! and `user del` reach the running server's admin listener. One HTTP/1.1
//! request per call over a fresh TCP connection, with the bearer token from
//! `[admin]`, bounded in time and size.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::config::{Config, Role};

/// How long one admin call may take, connection included.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest answer read.
const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminCallError {
    /// No token is configured, so the CLI does not even ask.
    #[error(
        "no admin token configured: set admin.token or admin.token_file (the same as the server's)"
    )]
    NoToken,
    /// The token file could not be read.
    #[error("{0}")]
    TokenFile(String),
    /// No admin listener is configured and `admin.address` is empty.
    #[error("no admin listener configured: set admin.address or a listener with role \"admin\"")]
    NoAddress,
    /// Nothing listens there: the server is not running.
    #[error("cannot reach the admin listener at {addr}: {source} (is msnpd serve running?)")]
    Unreachable {
        /// Where.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The server refused the token.
    #[error("the server refused the admin token (HTTP {0})")]
    Refused(u16),
    /// Any other failure.
    #[error("admin call failed: {0}")]
    Failed(String),
}

impl AdminCallError {
    /// Whether the failure is a configuration problem on this side (exit 2).
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            AdminCallError::NoToken | AdminCallError::TokenFile(_) | AdminCallError::NoAddress
        )
    }
}

/// An answer of the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body as text.
    pub body: String,
}

/// Where the CLI reaches the admin listener: `admin.address`, else the first
/// admin listener's `advertise`, else its `bind` (an unspecified host becomes
/// loopback).
pub fn admin_address(config: &Config) -> Result<String, AdminCallError> {
    if !config.admin.address.is_empty() {
        return Ok(config.admin.address.clone());
    }
    let listener = config
        .listeners
        .values()
        .find(|l| l.enabled && l.role == Role::Admin)
        .ok_or(AdminCallError::NoAddress)?;
    let addr = listener.advertise.clone().unwrap_or(listener.bind.clone());
    Ok(loopback_if_unspecified(&addr))
}

/// `0.0.0.0:P` → `127.0.0.1:P`, `[::]:P` → `[::1]:P`; others unchanged.
pub fn loopback_if_unspecified(addr: &str) -> String {
    if let Some(port) = addr.strip_prefix("0.0.0.0:") {
        format!("127.0.0.1:{port}")
    } else if let Some(port) = addr.strip_prefix("[::]:") {
        format!("[::1]:{port}")
    } else {
        addr.to_owned()
    }
}

/// Sends `method path` with `body` to the admin API of the server `config`
/// describes. `401`/`403` become [`AdminCallError::Refused`]; other statuses
/// are returned for the caller to judge.
pub async fn call(
    config: &Config,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<Answer, AdminCallError> {
    let token = config
        .admin
        .load_token()
        .map_err(AdminCallError::TokenFile)?
        .ok_or(AdminCallError::NoToken)?;
    let addr = admin_address(config)?;
    let answer = tokio::time::timeout(CALL_TIMEOUT, request(&addr, method, path, &token, body))
        .await
        .map_err(|_| AdminCallError::Failed(format!("no answer from {addr} in time")))??;
    if answer.status == 401 || answer.status == 403 {
        return Err(AdminCallError::Refused(answer.status));
    }
    Ok(answer)
}

/// One request on a fresh connection (`Connection: close`).
async fn request(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: &[u8],
) -> Result<Answer, AdminCallError> {
    let mut stream =
        TcpStream::connect(addr)
            .await
            .map_err(|source| AdminCallError::Unreachable {
                addr: addr.to_owned(),
                source,
            })?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let io = |e: std::io::Error| AdminCallError::Failed(e.to_string());
    stream.write_all(head.as_bytes()).await.map_err(io)?;
    stream.write_all(body).await.map_err(io)?;
    let mut raw = Vec::new();
    (&mut stream)
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut raw)
        .await
        .map_err(io)?;
    parse_answer(&raw)
}

/// Status and body of a `Connection: close` HTTP/1.1 answer.
fn parse_answer(raw: &[u8]) -> Result<Answer, AdminCallError> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| AdminCallError::Failed("malformed answer".into()))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| AdminCallError::Failed("malformed status line".into()))?;
    Ok(Answer {
        status,
        body: body.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_and_addresses() {
        let a = parse_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!(
            a,
            Answer {
                status: 200,
                body: "{}".into()
            }
        );
        assert!(parse_answer(b"garbage").is_err());
        assert_eq!(loopback_if_unspecified("0.0.0.0:1866"), "127.0.0.1:1866");
        assert_eq!(loopback_if_unspecified("[::]:1866"), "[::1]:1866");
        assert_eq!(loopback_if_unspecified("10.0.0.1:1866"), "10.0.0.1:1866");
        assert_eq!(admin_address(&Config::default()).unwrap(), "127.0.0.1:1866");
    }
}
