//! Passport 1.4 ("Tweener") login as MSN Messenger 5–7 does it:
//! `GET` the nexus, take `DALogin=` from its `PassportURLs` header, `GET` that
//! URL with an `Authorization: Passport1.4 ...` header built from the account
//! and the `USR TWN S` policy string, and read the ticket from
//! `Authentication-Info: ... from-PP='TICKET'`.
//! (Format described at <https://wiki.nina.chat/wiki/Protocols/MSNP/Passport>.)

use std::time::Duration;

use crate::client::http::{self, HttpError, Url};
use crate::client::urlenc;

/// Most `302` redirects followed at the login server.
const MAX_REDIRECTS: usize = 3;

/// Why a Passport login did not give a ticket.
#[derive(Debug, thiserror::Error)]
pub enum PassportError {
    /// HTTP failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The nexus did not answer 200.
    #[error("nexus {url} answered HTTP {status}, expected 200")]
    NexusStatus {
        /// The nexus URL.
        url: String,
        /// The status.
        status: u16,
    },
    /// A header is missing or malformed.
    #[error("{0}")]
    Header(String),
    /// The login URL is HTTPS (this client speaks plain HTTP only).
    #[error("the login server is {0}; only http:// is supported")]
    Https(String),
    /// The login server refused the credentials.
    #[error("login server refused: HTTP {status} ({detail})")]
    Rejected {
        /// The status (401 when it refuses as specified).
        status: u16,
        /// `WWW-Authenticate` or other detail.
        detail: String,
    },
}

/// A successful Passport login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The ticket to send in `USR TWN S`.
    pub ticket: String,
    /// The login URL the nexus named.
    pub login_url: String,
}

/// Takes the value of `DALogin=` from a `PassportURLs` header, with `https://`
/// prepended when it names no scheme (as real clients do).
pub fn da_login(passport_urls: &str) -> Option<String> {
    let value = passport_urls
        .split(',')
        .find_map(|item| item.trim().strip_prefix("DALogin="))?;
    if value.is_empty() {
        return None;
    }
    Some(if value.contains("://") {
        value.to_string()
    } else {
        format!("https://{value}")
    })
}

/// The `Authorization` header value for a login.
pub fn authorization(email: &str, password: &str, policy: &str) -> String {
    format!(
        "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in={},pwd={},{}",
        urlenc::encode(email),
        urlenc::encode(password),
        policy
    )
}

/// Takes the ticket from an `Authentication-Info` header; `None` unless it
/// says `da-status=success` and has `from-PP='...'`.
pub fn ticket_from(authentication_info: &str) -> Option<String> {
    if !authentication_info.contains("da-status=success") {
        return None;
    }
    let start = authentication_info.find("from-PP='")? + "from-PP='".len();
    let len = authentication_info[start..].find('\'')?;
    let ticket = &authentication_info[start..start + len];
    (!ticket.is_empty()).then(|| ticket.to_string())
}

fn parse_url(text: &str) -> Result<Url, PassportError> {
    if text.starts_with("https://") {
        return Err(PassportError::Https(text.to_string()));
    }
    Ok(Url::parse(text)?)
}

/// Runs the whole login through the nexus: asks it for the login URL, then
/// [`login_at`] that URL; `timeout` bounds each HTTP request.
pub async fn login(
    nexus: &str,
    email: &str,
    password: &str,
    policy: &str,
    timeout: Duration,
) -> Result<Ticket, PassportError> {
    let login_url = login_url_from_nexus(nexus, timeout).await?;
    login_at(&login_url, email, password, policy, timeout).await
}

/// Asks the nexus for the login URL (`DALogin=` of its `PassportURLs` header).
pub async fn login_url_from_nexus(nexus: &str, timeout: Duration) -> Result<String, PassportError> {
    let nexus_url = parse_url(nexus)?;
    let response = http::get(&nexus_url, &[], timeout).await?;
    if response.status != 200 {
        return Err(PassportError::NexusStatus {
            url: nexus.to_string(),
            status: response.status,
        });
    }
    let urls = response
        .header("PassportURLs")
        .ok_or_else(|| PassportError::Header("the nexus sent no PassportURLs header".into()))?;
    da_login(urls)
        .ok_or_else(|| PassportError::Header(format!("PassportURLs `{urls}` has no DALogin=")))
}

/// Logs in at the login server `login_url` (following up to three `302`s)
/// and returns the ticket.
pub async fn login_at(
    login_url: &str,
    email: &str,
    password: &str,
    policy: &str,
    timeout: Duration,
) -> Result<Ticket, PassportError> {
    let mut login_url = login_url.to_string();
    let auth = authorization(email, password, policy);
    for _ in 0..=MAX_REDIRECTS {
        let url = parse_url(&login_url)?;
        let response = http::get(
            &url,
            &[("Authorization", &auth), ("User-Agent", "msnp-conform")],
            timeout,
        )
        .await?;
        match response.status {
            200 => {
                let info = response.header("Authentication-Info").ok_or_else(|| {
                    PassportError::Header("login answered 200 without Authentication-Info".into())
                })?;
                let ticket = ticket_from(info).ok_or_else(|| {
                    PassportError::Header(format!(
                        "Authentication-Info `{info}` has no da-status=success and from-PP='...'"
                    ))
                })?;
                return Ok(Ticket { ticket, login_url });
            }
            302 => {
                login_url = response
                    .header("Location")
                    .ok_or_else(|| PassportError::Header("302 without Location".into()))?
                    .to_string();
            }
            status => {
                let detail = response
                    .header("WWW-Authenticate")
                    .unwrap_or("no WWW-Authenticate header")
                    .to_string();
                return Err(PassportError::Rejected { status, detail });
            }
        }
    }
    Err(PassportError::Header(format!(
        "more than {MAX_REDIRECTS} redirects at the login server"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_da_login() {
        assert_eq!(
            da_login("DARealm=Passport.Net,DALogin=login.passport.com/login2.srf,ConfigVersion=15"),
            Some("https://login.passport.com/login2.srf".to_string())
        );
        assert_eq!(
            da_login("DALogin=http://127.0.0.1:1865/login2.srf"),
            Some("http://127.0.0.1:1865/login2.srf".to_string())
        );
        assert_eq!(da_login("DARealm=x"), None);
        assert_eq!(da_login("DALogin="), None);
    }

    #[test]
    fn builds_authorization() {
        assert_eq!(
            authorization("a@b.test", "p w", "lc=1033,id=507"),
            "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=a%40b.test,pwd=p%20w,lc=1033,id=507"
        );
    }

    #[test]
    fn reads_tickets() {
        assert_eq!(
            ticket_from("Passport1.4 da-status=success,tname=MSPAuth,from-PP='t=1&p=2',ru=x"),
            Some("t=1&p=2".to_string())
        );
        assert_eq!(
            ticket_from("Passport1.4 da-status=failed,from-PP='x'"),
            None
        );
        assert_eq!(
            ticket_from("Passport1.4 da-status=success,from-PP=''"),
            None
        );
        assert_eq!(ticket_from("Passport1.4 da-status=success"), None);
    }

    #[tokio::test]
    async fn https_is_refused() {
        let err = login(
            "https://nexus.test/rdr/pprdr.asp",
            "a",
            "b",
            "",
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, PassportError::Https(_)));
    }
}
