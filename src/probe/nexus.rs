//! The probe's Passport 1.4 sign-in, as MSN Messenger 5 does it: ask the
//! nexus (`GET /rdr/pprdr.asp`) where to log in, then send the credentials and
//! the server's policy to `DALogin` and take the `from-PP` ticket. Either URL
//! may be `https://`: that request then goes over TLS (it needs trust roots).

use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::transport::{self, Roots};

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

/// Where an HTTP request goes.
struct Target<'a> {
    /// `host:port`.
    host: &'a str,
    /// The path (with `/`).
    path: &'a str,
    /// Over TLS.
    https: bool,
}

/// Splits `[http://|https://]host[:port][/path]`; no scheme means plain HTTP.
fn target(url: &str) -> Target<'_> {
    let (https, rest) = match url.strip_prefix("https://") {
        Some(rest) => (true, rest),
        None => (false, url.strip_prefix("http://").unwrap_or(url)),
    };
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    Target { host, path, https }
}

/// Signs `email` in with `password` through the nexus at `nexus`
/// (`host:port`, `http://host:port` or `https://host:port`) for the `policy`
/// of `USR TWN S`; returns the ticket. `roots` are trusted for `https`.
pub async fn ticket(
    nexus: &str,
    roots: Option<&Roots>,
    email: &str,
    password: &str,
    policy: &str,
    timeout: Duration,
) -> Result<String, String> {
    let nexus = Target {
        path: "/rdr/pprdr.asp",
        ..target(nexus)
    };
    let urls = get(&nexus, roots, None, timeout).await?;
    if urls.status != 200 {
        return Err(format!("nexus answered HTTP {}", urls.status));
    }
    let da_login = urls
        .header("passporturls")
        .and_then(|v| v.split(',').find_map(|kv| kv.strip_prefix("DALogin=")))
        .ok_or("nexus sent no DALogin")?;
    let authorization = format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={},pwd={},{policy}",
        utf8_percent_encode(email, NON_ALPHANUMERIC),
        utf8_percent_encode(password, NON_ALPHANUMERIC),
    );
    let login = get(&target(da_login), roots, Some(&authorization), timeout).await?;
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

/// `GET` on `to` with an optional `Authorization`.
async fn get(
    to: &Target<'_>,
    roots: Option<&Roots>,
    authorization: Option<&str>,
    timeout: Duration,
) -> Result<Answer, String> {
    let (host, path) = (to.host, to.path);
    let tls = match (to.https, roots) {
        (false, _) => None,
        (true, Some(roots)) => Some(roots),
        (true, None) => {
            return Err(format!(
                "https://{host}{path} needs TLS trust roots (--ca-file or probe.ca_file)"
            ));
        }
    };
    let call = async {
        let mut stream = transport::connect(host, tls, "", timeout).await?;
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
        match (&mut stream).take(MAX_ANSWER).read_to_end(&mut raw).await {
            Ok(_) => {}
            // A TLS peer that closes without close_notify after a complete
            // `Connection: close` answer: what arrived is still the answer.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
            Err(e) => return Err(format!("HTTP read from {host} failed: {e}")),
        }
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

    #[test]
    fn splits_urls() {
        let t = target("https://127.0.0.1:443/login2.srf");
        assert_eq!(
            (t.host, t.path, t.https),
            ("127.0.0.1:443", "/login2.srf", true)
        );
        let t = target("http://h:80");
        assert_eq!((t.host, t.path, t.https), ("h:80", "/", false));
        let t = target("h:80");
        assert_eq!((t.host, t.path, t.https), ("h:80", "/", false));
    }
}
