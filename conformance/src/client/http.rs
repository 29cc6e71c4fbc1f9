//! A minimal HTTP/1.1 client for the Passport 1.4 dance: `GET` over a plain
//! `TcpStream` with `Connection: close`, reading only the status line and the
//! headers (the body is never needed). `https://` is refused.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response head (status line + headers) accepted.
const MAX_HEAD: usize = 64 * 1024;

/// An HTTP problem.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL is not `http://host[:port]/path`.
    #[error("unsupported URL `{0}` (only http://host[:port]/path)")]
    Url(String),
    /// Could not connect or talk.
    #[error("HTTP i/o error with {url}: {source}")]
    Io {
        /// The URL.
        url: String,
        /// The error.
        source: std::io::Error,
    },
    /// No answer in time.
    #[error("HTTP request to {0} timed out")]
    Timeout(String),
    /// The answer is not HTTP/1.x.
    #[error("bad HTTP response from {url}: {reason}")]
    Response {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// A parsed `http://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// Host name or address.
    pub host: String,
    /// Port (80 when not given).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl Url {
    /// Parses `http://host[:port][/path]`.
    pub fn parse(text: &str) -> Result<Url, HttpError> {
        let bad = || HttpError::Url(text.to_string());
        let rest = text.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (authority, 80),
        };
        if host.is_empty() || host.contains(['@', ' ']) {
            return Err(bad());
        }
        Ok(Url {
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }

    /// `host:port`.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}:{}{}", self.host, self.port, self.path)
    }
}

/// Status and headers of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// The first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `GET url` with `headers`; returns status and headers.
pub async fn get(
    url: &Url,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<Response, HttpError> {
    match tokio::time::timeout(timeout, get_inner(url, headers)).await {
        Ok(r) => r,
        Err(_) => Err(HttpError::Timeout(url.to_string())),
    }
}

async fn get_inner(url: &Url, headers: &[(&str, &str)]) -> Result<Response, HttpError> {
    let io = |source| HttpError::Io {
        url: url.to_string(),
        source,
    };
    let mut stream = TcpStream::connect(url.authority()).await.map_err(io)?;
    let mut request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        url.path,
        url.authority()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.map_err(io)?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = find(&head, b"\r\n\r\n") {
            head.truncate(end);
            break;
        }
        if head.len() > MAX_HEAD {
            return Err(HttpError::Response {
                url: url.to_string(),
                reason: format!("response head longer than {MAX_HEAD} bytes"),
            });
        }
        let n = stream.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            return Err(HttpError::Response {
                url: url.to_string(),
                reason: "connection closed before the end of the headers".to_string(),
            });
        }
        head.extend_from_slice(&buf[..n]);
    }
    parse_head(&head).map_err(|reason| HttpError::Response {
        url: url.to_string(),
        reason,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses a response head (status line and headers, without the blank line).
pub fn parse_head(head: &[u8]) -> Result<Response, String> {
    let text = std::str::from_utf8(head).map_err(|_| "headers are not UTF-8".to_string())?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!("status line `{status_line}` is not HTTP/1.x"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("status line `{status_line}` has no status code"))?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("header line `{line}` has no `:`"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(Response { status, headers })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[test]
    fn parses_urls() {
        assert_eq!(
            Url::parse("http://127.0.0.1:1865/rdr/pprdr.asp").unwrap(),
            Url {
                host: "127.0.0.1".into(),
                port: 1865,
                path: "/rdr/pprdr.asp".into()
            }
        );
        let u = Url::parse("http://example.test").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        assert!(Url::parse("https://example.test/").is_err());
        assert!(Url::parse("http://:80/").is_err());
        assert!(Url::parse("http://h:x/").is_err());
    }

    #[test]
    fn parses_heads() {
        let r = parse_head(b"HTTP/1.1 200 OK\r\nPassportURLs: DALogin=x\r\nX: a:b").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("passporturls"), Some("DALogin=x"));
        assert_eq!(r.header("x"), Some("a:b"));
        assert!(parse_head(b"SIP/2.0 200 OK").is_err());
        assert!(parse_head(b"HTTP/1.1 abc").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nnocolon").is_err());
    }

    #[tokio::test]
    async fn gets_headers_over_tcp() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut req = Vec::new();
            let mut buf = [0u8; 1024];
            while find(&req, b"\r\n\r\n").is_none() {
                let n = sock.read(&mut buf).await.unwrap();
                req.extend_from_slice(&buf[..n]);
            }
            sock.write_all(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Passport1.4 da-status=failed\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
            String::from_utf8(req).unwrap()
        });
        let url = Url::parse(&format!("http://127.0.0.1:{port}/login2.srf")).unwrap();
        let r = get(
            &url,
            &[("Authorization", "Passport1.4 x=y")],
            Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(
            r.header("WWW-Authenticate"),
            Some("Passport1.4 da-status=failed")
        );
        let req = server.await.unwrap();
        assert!(req.starts_with("GET /login2.srf HTTP/1.1\r\n"), "{req}");
        assert!(
            req.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
            "{req}"
        );
        assert!(req.contains("Authorization: Passport1.4 x=y\r\n"), "{req}");
    }
}
