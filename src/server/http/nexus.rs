//! The `http` listener role: the Passport 1.4 nexus (`GET /rdr/pprdr.asp`) and the
//! login endpoint (`GET /login2.srf`, also `/login.srf`) where MSN Messenger 5–7
//! trades the user's password for a ticket it then sends in `USR TWN S`.
//!
//! Routing and response shapes are pure (`decide`, `login_response`); only
//! the password check and ticket signing touch state.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

use super::login::{LoginError, password_login};
use super::passport::{
    AuthorizationError, SignIn, authentication_info, parse_authorization, passport_urls,
    www_authenticate_failed,
};
use super::response::{self, Body};
use super::serve::{Handler, serve};
use crate::core::auth::TicketKey;
use crate::server::limits::{Limits, ListenerKind};
use crate::store::Store;
use crate::tls::ListenerTls;

/// The nexus path clients ask for the login URL.
pub const NEXUS_PATH: &str = "/rdr/pprdr.asp";
/// The login path named in `DALogin`.
pub const LOGIN_PATH: &str = "/login2.srf";
/// An older login path some clients and tools use; served the same way.
pub const LOGIN_PATH_OLD: &str = "/login.srf";

/// `PassportURLs` (written on the wire exactly so; see `wire_case`).
const PASSPORT_URLS: HeaderName = HeaderName::from_static("passporturls");
/// `Authentication-Info` (written on the wire exactly so).
const AUTHENTICATION_INFO: HeaderName = HeaderName::from_static("authentication-info");

/// What the nexus role needs to answer.
#[derive(Debug)]
pub struct HttpContext {
    /// Where credentials are looked up.
    pub store: Store,
    /// Signs the tickets handed out on success.
    pub tickets: TicketKey,
    /// Lifetime of a ticket, in seconds.
    pub ticket_lifetime_secs: u64,
    /// The login endpoint advertised as `DALogin` in `PassportURLs`, verbatim
    /// (e.g. `http://127.0.0.1:1865/login2.srf`; MSN's own nexus gave it without
    /// a scheme and clients then use https).
    pub login_url: String,
    /// The shared limiters (connection admission, failed logins).
    pub limits: Arc<Limits>,
}

/// Serves the nexus and login endpoint on `listener` until `shutdown` is
/// cancelled; then stops accepting and lets in-flight requests finish.
/// With `tls`, it serves HTTPS.
pub async fn serve_nexus(
    listener: TcpListener,
    tls: Option<Arc<ListenerTls>>,
    ctx: Arc<HttpContext>,
    shutdown: CancellationToken,
) {
    let limiter = Arc::clone(&ctx.limits.connections);
    serve(
        "http",
        listener,
        tls,
        Arc::new(Nexus { ctx }),
        limiter,
        ListenerKind::Http,
        shutdown,
    )
    .await;
}

/// The nexus role's request handler.
struct Nexus {
    ctx: Arc<HttpContext>,
}

impl Handler for Nexus {
    async fn handle(&self, peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
        match decide(
            req.method(),
            req.uri().path(),
            req.headers(),
            &self.ctx.login_url,
        ) {
            Action::Reply(resp) => resp,
            Action::SignIn(Err(e)) => {
                debug!(%peer, reason = %e, "passport sign-in request refused");
                login_response(Err(LoginError::BadCredentials))
            }
            Action::SignIn(Ok(sign_in)) => {
                login_response(sign_in_with(&self.ctx, peer, &sign_in).await)
            }
        }
    }
}

/// Checks the credentials and issues a ticket for the account on success.
async fn sign_in_with(
    ctx: &HttpContext,
    peer: SocketAddr,
    sign_in: &SignIn,
) -> Result<String, LoginError> {
    let logins = &ctx.limits.logins;
    match password_login(
        &ctx.store,
        logins,
        peer.ip(),
        &sign_in.email,
        &sign_in.password,
    )
    .await
    {
        Ok(account) => {
            info!(%peer, email = ?account.email, "passport sign-in");
            Ok(ctx
                .tickets
                .issue(&account.email, ctx.ticket_lifetime_secs, SystemTime::now()))
        }
        Err(e) => {
            info!(%peer, email = ?sign_in.email, reason = %e, "passport sign-in failed");
            Err(e)
        }
    }
}

/// What to do with a request, decided from its method, path and headers alone.
#[derive(Debug)]
pub(crate) enum Action {
    /// Answer with this response.
    Reply(Response<Body>),
    /// A sign-in request (or why its `Authorization` header is unusable).
    SignIn(Result<SignIn, AuthorizationError>),
}

/// Routes a request: the nexus answer, a sign-in, 404 or 405.
pub(crate) fn decide(method: &Method, path: &str, headers: &HeaderMap, login_url: &str) -> Action {
    let is = |p: &str| path.eq_ignore_ascii_case(p);
    if is(NEXUS_PATH) {
        if method == Method::GET || method == Method::HEAD {
            Action::Reply(nexus_response(login_url))
        } else {
            Action::Reply(response::method_not_allowed("GET, HEAD"))
        }
    } else if is(LOGIN_PATH) || is(LOGIN_PATH_OLD) {
        if method == Method::GET {
            Action::SignIn(sign_in_request(headers))
        } else {
            Action::Reply(response::method_not_allowed("GET"))
        }
    } else {
        Action::Reply(response::not_found())
    }
}

/// The sign-in carried by the `Authorization` header.
fn sign_in_request(headers: &HeaderMap) -> Result<SignIn, AuthorizationError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthorizationError::NotPassport)?;
    // Percent-encoding keeps real clients' values ASCII; anything else is not ours.
    let value = value
        .to_str()
        .map_err(|_| AuthorizationError::NotPassport)?;
    parse_authorization(value)
}

/// `200` with `PassportURLs` naming `login_url`, or `500` if `login_url` cannot
/// be a header value (a configuration error, logged).
pub(crate) fn nexus_response(login_url: &str) -> Response<Body> {
    match HeaderValue::try_from(passport_urls(login_url)) {
        Ok(value) => {
            let mut resp = response::empty(StatusCode::OK);
            resp.headers_mut().insert(PASSPORT_URLS, value);
            resp
        }
        Err(_) => {
            error!(login_url = ?login_url, "login URL is not a valid header value");
            response::internal_error()
        }
    }
}

/// The login endpoint's answer to a sign-in outcome (`Ok` carries the ticket):
/// `200` with `Authentication-Info`, `401` with `WWW-Authenticate`
/// (`da-status=failed`, prompt again), or `503` when the store is down.
pub(crate) fn login_response(outcome: Result<String, LoginError>) -> Response<Body> {
    match outcome {
        Ok(ticket) => match HeaderValue::try_from(authentication_info(&ticket)) {
            Ok(value) => {
                let mut resp = response::text(StatusCode::OK, "signed in\n");
                resp.headers_mut().insert(AUTHENTICATION_INFO, value);
                resp.headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                resp
            }
            Err(_) => {
                error!("issued ticket is not a valid header value");
                response::internal_error()
            }
        },
        Err(LoginError::BadCredentials | LoginError::Throttled) => {
            let mut resp = response::text(StatusCode::UNAUTHORIZED, "sign-in failed\n");
            if let Ok(value) = HeaderValue::try_from(www_authenticate_failed()) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, value);
            }
            resp
        }
        Err(LoginError::Unavailable) => response::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "service temporarily unavailable\n",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGIN: &str = "http://127.0.0.1:1865/login2.srf";

    fn auth(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn reply(action: Action) -> Response<Body> {
        match action {
            Action::Reply(r) => r,
            Action::SignIn(s) => panic!("expected a reply, got sign-in {s:?}"),
        }
    }

    fn sign_in(action: Action) -> Result<SignIn, AuthorizationError> {
        match action {
            Action::SignIn(s) => s,
            Action::Reply(r) => panic!("expected sign-in, got {}", r.status()),
        }
    }

    #[test]
    fn nexus_answers_get_and_head() {
        for m in [Method::GET, Method::HEAD] {
            let r = reply(decide(&m, NEXUS_PATH, &HeaderMap::new(), LOGIN));
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(
                r.headers()[&PASSPORT_URLS],
                "DALogin=http://127.0.0.1:1865/login2.srf"
            );
        }
    }

    #[test]
    fn other_methods_get_405() {
        let r = reply(decide(&Method::POST, NEXUS_PATH, &HeaderMap::new(), LOGIN));
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
        for m in [Method::POST, Method::HEAD, Method::PUT] {
            let r = reply(decide(
                &m,
                LOGIN_PATH,
                &auth("Passport1.4 sign-in=a,pwd=b"),
                LOGIN,
            ));
            assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
            assert_eq!(r.headers()[header::ALLOW], "GET");
        }
    }

    #[test]
    fn unknown_paths_get_404() {
        for p in [
            "/",
            "/rdr",
            "/login3.srf",
            "/rdr/pprdr.asp/x",
            "/ppsecure/login2.srf",
        ] {
            for m in [Method::GET, Method::POST] {
                let r = reply(decide(&m, p, &HeaderMap::new(), LOGIN));
                assert_eq!(r.status(), StatusCode::NOT_FOUND, "{m} {p}");
            }
        }
    }

    #[test]
    fn both_login_paths_take_sign_ins() {
        for p in [LOGIN_PATH, LOGIN_PATH_OLD, "/LOGIN2.SRF"] {
            let got = sign_in(decide(
                &Method::GET,
                p,
                &auth("Passport1.4 OrgVerb=GET,sign-in=u%40x.org,pwd=a%2Cb"),
                LOGIN,
            ));
            assert_eq!(
                got,
                Ok(SignIn {
                    email: "u@x.org".into(),
                    password: "a,b".into()
                })
            );
        }
    }

    #[test]
    fn missing_or_foreign_authorization_is_refused() {
        let got = sign_in(decide(&Method::GET, LOGIN_PATH, &HeaderMap::new(), LOGIN));
        assert_eq!(got, Err(AuthorizationError::NotPassport));
        let got = sign_in(decide(&Method::GET, LOGIN_PATH, &auth("Basic eDp5"), LOGIN));
        assert_eq!(got, Err(AuthorizationError::NotPassport));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(b"Passport1.4 sign-in=\xe9,pwd=x").unwrap(),
        );
        let got = sign_in(decide(&Method::GET, LOGIN_PATH, &h, LOGIN));
        assert_eq!(got, Err(AuthorizationError::NotPassport));
    }

    #[test]
    fn success_carries_the_ticket() {
        let r = login_response(Ok("t=abc&p=def".into()));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[&AUTHENTICATION_INFO],
            "Passport1.4 da-status=success,tname=MSPAuth,tname=MSPProf,tname=MSPSec,\
             from-PP='t=abc&p=def',ru=http://messenger.msn.com"
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        assert!(r.headers().get(header::WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn bad_credentials_get_401_with_challenge() {
        let r = login_response(Err(LoginError::BadCredentials));
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let challenge = r.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(challenge.starts_with("Passport1.4 da-status=failed,"));
        assert!(r.headers().get(&AUTHENTICATION_INFO).is_none());
    }

    #[test]
    fn store_down_gets_503_without_challenge() {
        let r = login_response(Err(LoginError::Unavailable));
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.headers().get(header::WWW_AUTHENTICATE).is_none());
        assert!(r.headers().get(&AUTHENTICATION_INFO).is_none());
    }

    #[test]
    fn bad_header_values_become_500() {
        assert_eq!(
            nexus_response("http://x/\r\nSet-Cookie: a").status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            login_response(Ok("t=\n".into())).status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
