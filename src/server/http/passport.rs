//! Passport 1.4 ("Tweener") header texts, pure: parsing the client's
//! `Authorization: Passport1.4 ...` sign-in request and building the `PassportURLs`,
//! `Authentication-Info` and `WWW-Authenticate` values.
//!
//! Shapes follow Microsoft's [MS-PASS] (Passport SSI 1.4) and the MSNP wiki's
//! Passport 1.4 page (<https://yellows111.darkok.xyz/msnp/services/passport14.html>).
//!
//! [MS-PASS]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-pass/

use std::fmt;

use percent_encoding::percent_decode_str;

/// The realm named in failure challenges.
pub const DA_REALM: &str = "Passport.Net";

/// The scheme token that starts every Passport 1.4 header value.
const SCHEME: &str = "Passport1.4";

/// The `ru=` return URL of a successful sign-in, as MSN Messenger expects it.
const RETURN_URL: &str = "http://messenger.msn.com";

/// The account name and password of a Passport 1.4 sign-in request, decoded.
///
/// `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct SignIn {
    /// The `sign-in=` value, URL-decoded, as the client typed it (not lower-cased).
    pub email: String,
    /// The `pwd=` value, URL-decoded.
    pub password: String,
}

impl fmt::Debug for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignIn")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why an `Authorization` header is not a usable Passport 1.4 sign-in request.
///
/// Messages never include field values (the password must not reach a log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// The header does not start with `Passport1.4 `.
    #[error("not a Passport1.4 authorization")]
    NotPassport,
    /// A comma-separated item has no `=`.
    #[error("malformed parameter list")]
    Malformed,
    /// A required parameter is absent or empty.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A credential parameter appears more than once.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// A credential parameter does not URL-decode to UTF-8.
    #[error("{0} is not valid URL-encoded UTF-8")]
    BadEncoding(&'static str),
}

/// Parses an `Authorization` header value of the form
/// `Passport1.4 OrgVerb=GET,OrgURL=...,sign-in=<urlenc>,pwd=<urlenc>,...`.
///
/// Items are separated by commas; each is `key=value` split at the first `=`
/// (keys compared case-insensitively, surrounding blanks ignored, empty items
/// skipped). `sign-in` and `pwd` are percent-decoded (`+` stays `+`), so a
/// password containing a comma arrives as `%2C`. Other parameters (the opaque
/// server-args the client echoes) are accepted and ignored.
pub fn parse_authorization(value: &str) -> Result<SignIn, AuthorizationError> {
    let params = strip_scheme(value).ok_or(AuthorizationError::NotPassport)?;
    let mut email = None;
    let mut password = None;
    for item in params.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (key, raw) = item.split_once('=').ok_or(AuthorizationError::Malformed)?;
        let key = key.trim();
        let (slot, field) = if key.eq_ignore_ascii_case("sign-in") {
            (&mut email, "sign-in")
        } else if key.eq_ignore_ascii_case("pwd") {
            (&mut password, "pwd")
        } else {
            continue;
        };
        if slot.is_some() {
            return Err(AuthorizationError::Duplicate(field));
        }
        let decoded = percent_decode_str(raw.trim())
            .decode_utf8()
            .map_err(|_| AuthorizationError::BadEncoding(field))?;
        *slot = Some(decoded.into_owned());
    }
    let email = email
        .filter(|e| !e.is_empty())
        .ok_or(AuthorizationError::Missing("sign-in"))?;
    let password = password
        .filter(|p| !p.is_empty())
        .ok_or(AuthorizationError::Missing("pwd"))?;
    Ok(SignIn { email, password })
}

/// The text after `Passport1.4` and at least one blank, or `None`.
fn strip_scheme(value: &str) -> Option<&str> {
    let value = value.trim_start();
    let head = value.get(..SCHEME.len())?;
    if !head.eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let rest = &value[SCHEME.len()..];
    let params = rest.trim_start_matches([' ', '\t']);
    if params.len() == rest.len() {
        // "Passport1.4x..." or nothing after the scheme at all.
        return None;
    }
    Some(params)
}

/// The `PassportURLs` value of `GET /rdr/pprdr.asp`: `DALogin=` and the login
/// endpoint (`login_url`, verbatim), nothing else.
///
/// Microsoft's nexus also listed `DARealm`, `DAReg`, `ConfigVersion` and more, but
/// MSN Messenger 5–7 sign in with `DALogin` alone (the Escargot revival nexus
/// sends exactly this one field), and clients written against such servers take
/// everything after `DALogin=` as the URL: msnp11-sdk does, and fails on a longer
/// list.
pub fn passport_urls(login_url: &str) -> String {
    format!("DALogin={login_url}")
}

/// The `Authentication-Info` value of a successful sign-in carrying `ticket`
/// (which contains no `'`; clients take the text between `from-PP='` and `'`).
pub fn authentication_info(ticket: &str) -> String {
    format!(
        "{SCHEME} da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,\
         from-PP='{ticket}',ru={RETURN_URL}"
    )
}

/// The `WWW-Authenticate` value of a failed sign-in: the client may retry and
/// should prompt the user for credentials again.
pub fn www_authenticate_failed() -> String {
    format!("{SCHEME} da-status=failed,srealm={DA_REALM},prompt")
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,\
        sign-in=example%40hotmail.com,pwd=secret,lc=1033,id=507,tw=40,fs=1,\
        ru=http%3A%2F%2Fmessenger%2Emsn%2Ecom,ct=1062764229,kpp=1,kv=5,ver=2.1.0173.1,\
        tpf=43f8a4c8ed940c04e3740be46c4d1619";

    fn sign_in(email: &str, password: &str) -> SignIn {
        SignIn {
            email: email.into(),
            password: password.into(),
        }
    }

    #[test]
    fn parses_a_real_client_header() {
        assert_eq!(
            parse_authorization(CLIENT),
            Ok(sign_in("example@hotmail.com", "secret"))
        );
    }

    #[test]
    fn decodes_commas_and_specials_in_password() {
        let h = "Passport1.4 OrgVerb=GET,sign-in=a%2Bb%40x.org,pwd=p%2Cw%3Dd%25%20x%27,lc=1033";
        assert_eq!(
            parse_authorization(h),
            Ok(sign_in("a+b@x.org", "p,w=d% x'"))
        );
    }

    #[test]
    fn plus_is_not_a_space_and_equals_may_appear_raw() {
        let h = "Passport1.4 sign-in=u@x.org,pwd=a+b==";
        assert_eq!(parse_authorization(h), Ok(sign_in("u@x.org", "a+b==")));
    }

    #[test]
    fn decodes_utf8_passwords() {
        let h = "Passport1.4 sign-in=u@x.org,pwd=%C3%A9t%C3%A9";
        assert_eq!(parse_authorization(h), Ok(sign_in("u@x.org", "été")));
    }

    #[test]
    fn keys_are_case_insensitive_and_blanks_tolerated() {
        let h = "passport1.4   OrgVerb=GET , Sign-In=u@x.org , PWD=pw ,";
        assert_eq!(parse_authorization(h), Ok(sign_in("u@x.org", "pw")));
    }

    #[test]
    fn keeps_the_email_case_for_the_caller() {
        let h = "Passport1.4 sign-in=Mixed%40Example.COM,pwd=pw";
        assert_eq!(
            parse_authorization(h).map(|s| s.email),
            Ok("Mixed@Example.COM".to_owned())
        );
    }

    #[test]
    fn refuses_other_schemes() {
        for h in [
            "",
            "Passport1.4",
            "Passport1.4   ",
            "Passport1.4sign-in=u@x.org,pwd=pw",
            "Basic dTpwdw==",
            "Passport1.3 sign-in=u@x.org,pwd=pw",
        ] {
            let got = parse_authorization(h);
            assert!(
                got == Err(AuthorizationError::NotPassport)
                    || got == Err(AuthorizationError::Missing("sign-in")),
                "{h:?} gave {got:?}"
            );
        }
        assert_eq!(
            parse_authorization("Basic dTpwdw=="),
            Err(AuthorizationError::NotPassport)
        );
    }

    #[test]
    fn reports_missing_fields() {
        assert_eq!(
            parse_authorization("Passport1.4 OrgVerb=GET,pwd=pw"),
            Err(AuthorizationError::Missing("sign-in"))
        );
        assert_eq!(
            parse_authorization("Passport1.4 OrgVerb=GET,sign-in=u@x.org"),
            Err(AuthorizationError::Missing("pwd"))
        );
        assert_eq!(
            parse_authorization("Passport1.4 sign-in=u@x.org,pwd="),
            Err(AuthorizationError::Missing("pwd"))
        );
        assert_eq!(
            parse_authorization("Passport1.4 sign-in=,pwd=pw"),
            Err(AuthorizationError::Missing("sign-in"))
        );
    }

    #[test]
    fn refuses_an_unencoded_comma_in_the_password() {
        // "pwd=a,b" leaves an item "b" with no '=': ambiguous, so refused.
        assert_eq!(
            parse_authorization("Passport1.4 sign-in=u@x.org,pwd=a,b"),
            Err(AuthorizationError::Malformed)
        );
    }

    #[test]
    fn refuses_duplicate_credentials() {
        assert_eq!(
            parse_authorization("Passport1.4 sign-in=a@x.org,sign-in=b@x.org,pwd=pw"),
            Err(AuthorizationError::Duplicate("sign-in"))
        );
        assert_eq!(
            parse_authorization("Passport1.4 sign-in=a@x.org,pwd=1,pwd=2"),
            Err(AuthorizationError::Duplicate("pwd"))
        );
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert_eq!(
            parse_authorization("Passport1.4 sign-in=u@x.org,pwd=%FF%FE"),
            Err(AuthorizationError::BadEncoding("pwd"))
        );
        assert_eq!(
            parse_authorization("Passport1.4 sign-in=%C3,pwd=pw"),
            Err(AuthorizationError::BadEncoding("sign-in"))
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let shown = format!("{:?}", sign_in("u@x.org", "hunter2"));
        assert!(shown.contains("u@x.org"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn builds_passport_urls() {
        assert_eq!(
            passport_urls("http://127.0.0.1:1865/login2.srf"),
            "DALogin=http://127.0.0.1:1865/login2.srf"
        );
    }

    #[test]
    fn builds_authentication_info() {
        assert_eq!(
            authentication_info("t=abc&p=def"),
            "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,\
             from-PP='t=abc&p=def',ru=http://messenger.msn.com"
        );
    }

    #[test]
    fn builds_failure_challenge() {
        assert_eq!(
            www_authenticate_failed(),
            "Passport1.4 da-status=failed,srealm=Passport.Net,prompt"
        );
    }
}
