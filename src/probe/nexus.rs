//! The probe's Passport 1.4 sign-in, as MSN Messenger 5 does it: ask the
//! nexus (`GET /rdr/pprdr.asp`) where to log in, then send the credentials and
//! the server's policy to `DALogin` and take the `from-PP` ticket.

use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest HTTP answer read.
const MAX_ANSWER: u64 = 64 * 1024;

/// An HTTP answer: status and headers (names lower-cased).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Signs `email` in with `password` through the nexus at `nexus` (`host:port`)
/// for the `policy` of `USR TWN S`; returns the ticket.
pub async fn ticket(
    nexus: &str,
    email: &str,
    password: &str,
    policy: &str,
    timeout: Duration,
) -> Result<String, String> {
    let urls = get(nexus, "/rdr/pprdr.asp", None, timeout).await?;
    if urls.status != 200 {
        return Err(format!("nexus answered HTTP {}", urls.status));
    }
    let da_login = urls
        .header("passporturls")
        .and_then(|v| v.split(',').find_map(|kv| kv.strip_prefix("DALogin=")))
        .ok_or("nexus sent no DALogin")?;
    let without_scheme = da_login
        .strip_prefix("http://")
        .or_else(|| da_login.strip_prefix("https://"))
        .unwrap_or(da_login);
    let (host, path) = match without_scheme.find('/') {
        Some(i) => without_scheme.split_at(i),
        None => (without_scheme, "/"),
    };
    if da_login.starts_with("https://") {
        return Err(format!(
            "DALogin {da_login} needs TLS, which the probe does not speak"
        ));
    }
    let authorization = format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={},pwd={},{policy}",
        utf8_percent_encode(email, NON_ALPHANUMERIC),
        utf8_percent_encode(password, NON_ALPHANUMERIC),
    );
    let login = get(host, path, Some(&authorization), timeout).await?;
    match login.status {
        200 => {}
        401 => return Err("login refused (wrong password or unknown probe account)".into()),
        other => return Err(format!("login endpoint answered HTTP {other}")),
    }
    let info = login
        .header("authentication-info")
        .ok_or("no Authentication-Info in the login answer")?;
    let start = info.find("from-PP='").ok_or("no from-PP ticket")? + "from-PP='".len();
    let len = info[start..]
        .find('\'')
        .ok_or("unterminated from-PP ticket")?;
    Ok(info[start..start + len].to_owned())
}

/// `GET path` on `host` with an optional `Authorization`.
async fn get(
    host: &str,
    path: &str,
    authorization: Option<&str>,
    timeout: Duration,
) -> Result<Answer, String> {
    let call = async {
        let mut stream = TcpStream::connect(host)
            .await
            .map_err(|e| format!("cannot connect to {host}: {e}"))?;
        let mut head = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: MSMSGS\r\n");
        if let Some(a) = authorization {
            head.push_str("Authorization: ");
            head.push_str(a);
            head.push_str("\r\n");
        }
        head.push_str("Connection: close\r\n\r\n");
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|e| format!("HTTP write to {host} failed: {e}"))?;
        let mut raw = Vec::new();
        (&mut stream)
            .take(MAX_ANSWER)
            .read_to_end(&mut raw)
            .await
            .map_err(|e| format!("HTTP read from {host} failed: {e}"))?;
        parse(&raw).ok_or_else(|| format!("malformed HTTP answer from {host}"))
    };
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| format!("HTTP request to {host} timed out"))?
}

/// Status line and headers of an HTTP/1.1 answer.
fn parse(raw: &[u8]) -> Option<Answer> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some(Answer { status, headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_answers() {
        let a = parse(b"HTTP/1.1 200 OK\r\nPassportURLs: DALogin=x/y\r\n\r\n").unwrap();
        assert_eq!(a.status, 200);
        assert_eq!(a.header("passporturls"), Some("DALogin=x/y"));
        assert!(parse(b"nonsense").is_none());
    }
}
