//! Wire tests for the HTTP roles: real listeners on 127.0.0.1:0, raw requests over
//! TCP, and checks on the exact response bytes (header-name spelling included).

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::login::LoginError;
use super::nexus::{Action, decide, login_response};
use super::response::Body;
use super::serve::{Handler, MAX_HEADER_BYTES, serve};
use super::{serve_admin, serve_nexus};
use crate::config::LimitsConfig;
use crate::server::limits::{Limits, ListenerKind};

const LOGIN_URL: &str = "http://127.0.0.1:1865/login2.srf";

/// The default limits (loopback, where these tests connect from, is exempt
/// from the per-IP ones).
fn test_limits() -> Arc<Limits> {
    Arc::new(Limits::new(&LimitsConfig::default()))
}

/// The nexus routing and response code with the password check replaced:
/// `u@x.org` / `p,w` signs in, `down@x.org` finds the store down.
struct FakeNexus;

impl Handler for FakeNexus {
    async fn handle(&self, _peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
        match decide(req.method(), req.uri().path(), req.headers(), LOGIN_URL) {
            Action::Reply(r) => r,
            Action::SignIn(Err(_)) => login_response(Err(LoginError::BadCredentials)),
            Action::SignIn(Ok(s)) => login_response(
                match (s.email.to_lowercase().as_str(), s.password.as_str()) {
                    ("u@x.org", "p,w") => Ok("t=fake*ticket&p=sig$$".into()),
                    ("down@x.org", _) => Err(LoginError::Unavailable),
                    _ => Err(LoginError::BadCredentials),
                },
            ),
        }
    }
}

/// A running server: its address, its shutdown switch and its task.
struct Running {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

async fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    (l, addr)
}

async fn start<H: Handler>(handler: H) -> Running {
    let (l, addr) = listener().await;
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve(
        "test",
        l,
        None,
        Arc::new(handler),
        test_limits().connections.clone(),
        ListenerKind::Http,
        shutdown.clone(),
    ));
    Running {
        addr,
        shutdown,
        task,
    }
}

/// Sends `request` verbatim and returns everything the server writes until it
/// closes the connection.
async fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    String::from_utf8(out).unwrap()
}

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: nexus.passport.com\r\n{extra}Connection: close\r\n\r\n")
}

fn login(authorization: &str) -> String {
    get(
        "/login2.srf",
        &format!("Authorization: {authorization}\r\nUser-Agent: MSMSGS\r\n"),
    )
}

/// Reads one response with a `Content-Length` from a kept-alive connection.
async fn read_response(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    loop {
        let mut chunk = [0u8; 1024];
        let n = s.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed mid-response: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .parse()
                .unwrap();
            if buf.len() >= end + 4 + len {
                return String::from_utf8(buf).unwrap();
            }
        }
    }
}

#[tokio::test]
async fn nexus_header_is_spelled_passport_urls() {
    let srv = start(FakeNexus).await;
    let resp = exchange(srv.addr, &get("/rdr/pprdr.asp", "")).await;
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(
        resp.contains("\r\nPassportURLs: DALogin=http://127.0.0.1:1865/login2.srf\r\n"),
        "{resp}"
    );
    assert!(resp.contains("\r\nContent-Length: 0\r\n"), "{resp}");
    srv.shutdown.cancel();
    srv.task.await.unwrap();
}

#[tokio::test]
async fn login_success_header_is_spelled_authentication_info() {
    let srv = start(FakeNexus).await;
    let resp = exchange(
        srv.addr,
        &login("Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,sign-in=U%40x.org,pwd=p%2Cw,lc=1033,id=507"),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(
        resp.contains(
            "\r\nAuthentication-Info: Passport1.4 da-status=success,tname=MSPAuth,\
             tname=MSPProf,tname=MSPSec,from-PP='t=fake*ticket&p=sig$$',\
             ru=http://messenger.msn.com\r\n"
        ),
        "{resp}"
    );
    assert!(resp.contains("\r\nCache-Control: no-store\r\n"), "{resp}");
}

#[tokio::test]
async fn login_failure_is_401_with_challenge() {
    let srv = start(FakeNexus).await;
    for auth in [
        "Passport1.4 OrgVerb=GET,sign-in=u%40x.org,pwd=wrong",
        "Passport1.4 OrgVerb=GET,sign-in=nobody%40x.org,pwd=p%2Cw",
        "Passport1.4 OrgVerb=GET,sign-in=u%40x.org,pwd=p,w",
        "Passport1.4 OrgVerb=GET,sign-in=u%40x.org",
        "Basic dTpwdw==",
    ] {
        let resp = exchange(srv.addr, &login(auth)).await;
        assert!(
            resp.starts_with("HTTP/1.1 401 Unauthorized\r\n"),
            "{auth}: {resp}"
        );
        assert!(
            resp.contains("\r\nWWW-Authenticate: Passport1.4 da-status=failed,"),
            "{auth}: {resp}"
        );
        assert!(!resp.contains("Authentication-Info"), "{auth}: {resp}");
    }
    let resp = exchange(srv.addr, &get("/login2.srf", "")).await;
    assert!(resp.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{resp}");
    assert!(resp.contains("da-status=failed"), "{resp}");
}

#[tokio::test]
async fn store_down_is_503() {
    let srv = start(FakeNexus).await;
    let resp = exchange(srv.addr, &login("Passport1.4 sign-in=down%40x.org,pwd=x")).await;
    assert!(
        resp.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{resp}"
    );
    assert!(!resp.contains("da-status"), "{resp}");
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let srv = start(FakeNexus).await;
    let resp = exchange(srv.addr, &get("/nope", "")).await;
    assert!(resp.starts_with("HTTP/1.1 404 Not Found\r\n"), "{resp}");
    let resp = exchange(
        srv.addr,
        "POST /login2.srf HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        resp.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{resp}"
    );
    assert!(resp.contains("\r\nAllow: GET\r\n"), "{resp}");
}

#[tokio::test]
async fn oversized_request_head_is_refused() {
    let srv = start(FakeNexus).await;
    let big = format!("X-Filler: {}\r\n", "a".repeat(MAX_HEADER_BYTES));
    let resp = exchange(srv.addr, &get("/rdr/pprdr.asp", &big)).await;
    assert!(
        resp.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{resp}"
    );
}

#[tokio::test]
async fn keep_alive_serves_several_requests() {
    let srv = start(FakeNexus).await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    for _ in 0..3 {
        s.write_all(b"GET /rdr/pprdr.asp HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let resp = read_response(&mut s).await;
        assert!(resp.contains("\r\nPassportURLs: "), "{resp}");
    }
    // Shutdown closes the idle kept-alive connection and ends the server.
    srv.shutdown.cancel();
    srv.task.await.unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
}

/// Holds each request until released, telling the test when one has arrived.
struct Held {
    arrived: mpsc::Sender<()>,
    release: Arc<Notify>,
}

impl Handler for Held {
    async fn handle(&self, _peer: SocketAddr, _req: Request<Incoming>) -> Response<Body> {
        let _ = self.arrived.send(()).await;
        self.release.notified().await;
        super::response::text(hyper::StatusCode::OK, "done\n")
    }
}

#[tokio::test]
async fn shutdown_stops_accepting_and_finishes_in_flight_requests() {
    let (arrived_tx, mut arrived) = mpsc::channel(1);
    let release = Arc::new(Notify::new());
    let srv = start(Held {
        arrived: arrived_tx,
        release: Arc::clone(&release),
    })
    .await;
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    arrived.recv().await.unwrap();

    srv.shutdown.cancel();
    // The listener closes: a new connection is refused (or closed unanswered).
    let refused = match TcpStream::connect(srv.addr).await {
        Err(_) => true,
        Ok(mut late) => {
            // Accepted by the kernel before the listener was dropped, never served.
            let _ = late.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
            let mut buf = Vec::new();
            late.read_to_end(&mut buf)
                .await
                .map_or(true, |_| buf.is_empty())
        }
    };
    assert!(refused);

    release.notify_one();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).await.unwrap();
    let resp = String::from_utf8(resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.ends_with("\r\n\r\ndone\n"), "{resp}");
    assert!(resp.contains("\r\nConnection: close\r\n"), "{resp}");
    srv.task.await.unwrap();
}

/// The admin state of a server on an in-memory store; readiness as given.
async fn admin_state(serving: bool) -> Arc<super::admin::AdminState> {
    use crate::config::Config;
    use crate::core::auth::TicketKey;
    use crate::core::switchboard::SwitchboardHub;
    use crate::obs::readiness::Readiness;
    use crate::route::Router;
    use crate::server::context::ServerContext;
    use crate::server::offline::OfflineState;
    use crate::store::Store;

    let store = Store::connect("sqlite::memory:", 1).await.unwrap();
    store.migrate().await.unwrap();
    let ctx = Arc::new(ServerContext {
        config: crate::config::LiveConfig::new(Config::default()),
        store,
        router: Router::new(),
        hub: SwitchboardHub::new(std::time::Duration::from_secs(60), 20, false),
        tickets: TicketKey::new(b"0123456789abcdef0123456789abcdef"),
        sb_addr: String::new(),
        limits: test_limits(),
        offline: OfflineState::new(),
    });
    let readiness = Arc::new(Readiness::new());
    readiness.set_serving(serving);
    Arc::new(super::admin::AdminState {
        ctx,
        readiness,
        started: std::time::Instant::now(),
        token: Some("t0ken".into()),
    })
}

#[tokio::test]
async fn admin_endpoints() {
    let (l, addr) = listener().await;
    let shutdown = CancellationToken::new();
    let state = admin_state(false).await;
    let task = tokio::spawn(serve_admin(l, None, Arc::clone(&state), shutdown.clone()));
    let resp = exchange(addr, &get("/healthz", "")).await;
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("\r\nContent-Length: 3\r\n"), "{resp}");
    assert!(resp.ends_with("\r\n\r\nok\n"), "{resp}");
    let resp = exchange(addr, &get("/metrics/x", "")).await;
    assert!(resp.starts_with("HTTP/1.1 404 Not Found\r\n"), "{resp}");
    // Not serving yet: not ready; then ready.
    let resp = exchange(addr, &get("/readyz", "")).await;
    assert!(
        resp.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{resp}"
    );
    assert!(resp.ends_with("not ready: listeners not serving (starting or shutting down)\n"));
    state.readiness.set_serving(true);
    let resp = exchange(addr, &get("/readyz", "")).await;
    assert!(resp.ends_with("\r\n\r\nready\n"), "{resp}");
    let resp = exchange(addr, &get("/metrics", "")).await;
    assert!(resp.contains("# TYPE msnpd_connections gauge\n"), "{resp}");
    let resp = exchange(addr, &get("/admin/stats", "")).await;
    assert!(resp.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{resp}");
    let resp = exchange(
        addr,
        &get("/admin/stats", "Authorization: Bearer t0ken\r\n"),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
    assert!(resp.contains("\"online_users\":0"), "{resp}");
    shutdown.cancel();
    task.await.unwrap();
}

/// End to end against the real store, argon2 and tickets.
mod real {
    use super::*;
    use crate::core::auth::{TicketKey, hash_password};
    use crate::server::http::{HttpContext, check_password};
    use crate::store::Store;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    async fn store_with_user() -> Store {
        let store = Store::connect("sqlite::memory:", 1).await.unwrap();
        store.migrate().await.unwrap();
        store
            .create_user("user@example.com", "User", &hash_password("p,w d'é"), None)
            .await
            .unwrap();
        store
    }

    async fn start_nexus(store: Store) -> Running {
        let (l, addr) = listener().await;
        let ctx = Arc::new(HttpContext {
            store,
            tickets: TicketKey::new(SECRET),
            ticket_lifetime_secs: 3600,
            login_url: format!("http://{addr}/login2.srf"),
            limits: test_limits(),
        });
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve_nexus(l, None, ctx, shutdown.clone()));
        Running {
            addr,
            shutdown,
            task,
        }
    }

    fn ticket_of(resp: &str) -> &str {
        let start = resp.find("from-PP='").unwrap() + "from-PP='".len();
        let len = resp[start..].find('\'').unwrap();
        &resp[start..start + len]
    }

    #[tokio::test]

    async fn nexus_advertises_our_login_url() {
        let srv = start_nexus(store_with_user().await).await;
        let resp = exchange(srv.addr, &get("/rdr/pprdr.asp", "")).await;
        let want = format!(
            "\r\nPassportURLs: DALogin=http://{}/login2.srf\r\n",
            srv.addr
        );
        assert!(resp.contains(&want), "{resp}");
        srv.shutdown.cancel();
        srv.task.await.unwrap();
    }

    #[tokio::test]

    async fn login_issues_a_ticket_that_verifies() {
        let srv = start_nexus(store_with_user().await).await;
        let resp = exchange(
            srv.addr,
            &login(
                "Passport1.4 OrgVerb=GET,OrgURL=http%3A%2F%2Fmessenger%2Emsn%2Ecom,\
                 sign-in=User%40Example.COM,pwd=p%2Cw%20d%27%C3%A9,lc=1033,id=507,tw=40",
            ),
        )
        .await;
        assert!(resp.starts_with("HTTP/1.1 200 OK\r\n"), "{resp}");
        assert!(
            resp.contains("\r\nAuthentication-Info: Passport1.4 da-status=success,"),
            "{resp}"
        );
        let ticket = ticket_of(&resp);
        let email = TicketKey::new(SECRET)
            .verify(ticket, std::time::SystemTime::now())
            .unwrap();
        assert_eq!(email, "user@example.com");
        srv.shutdown.cancel();
        srv.task.await.unwrap();
    }

    #[tokio::test]

    async fn wrong_password_and_unknown_user_get_401() {
        let srv = start_nexus(store_with_user().await).await;
        for auth in [
            "Passport1.4 OrgVerb=GET,sign-in=user%40example.com,pwd=p%2Cw%20d",
            "Passport1.4 OrgVerb=GET,sign-in=other%40example.com,pwd=p%2Cw%20d%27%C3%A9",
        ] {
            let resp = exchange(srv.addr, &login(auth)).await;
            assert!(resp.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{resp}");
            assert!(
                resp.contains("\r\nWWW-Authenticate: Passport1.4 da-status=failed,"),
                "{resp}"
            );
        }
        srv.shutdown.cancel();
        srv.task.await.unwrap();
    }

    #[tokio::test]

    async fn closed_store_gets_503() {
        let store = store_with_user().await;
        let srv = start_nexus(store.clone()).await;
        store.close().await;
        let resp = exchange(
            srv.addr,
            &login("Passport1.4 sign-in=user%40example.com,pwd=p%2Cw%20d%27%C3%A9"),
        )
        .await;
        assert!(
            resp.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{resp}"
        );
        srv.shutdown.cancel();
        srv.task.await.unwrap();
    }

    #[tokio::test]
    async fn throttled_logins_touch_neither_store_nor_hash() {
        use crate::server::http::password_login;
        use crate::server::limits::{Exemptions, LoginThrottle};
        let store = store_with_user().await;
        let throttle = LoginThrottle::new(
            2,
            100,
            std::time::Duration::from_secs(3600),
            Exemptions::default(),
        );
        let ip = "10.0.0.1".parse().unwrap();
        for _ in 0..2 {
            assert_eq!(
                password_login(&store, &throttle, ip, "User@example.com", "wrong").await,
                Err(LoginError::BadCredentials)
            );
        }
        // Refused for the right password; with the store closed, still refused
        // (not "unavailable"): neither the store nor argon2 was asked.
        assert_eq!(
            password_login(&store, &throttle, ip, "user@example.com", "p,w d'é").await,
            Err(LoginError::Throttled)
        );
        store.close().await;
        assert_eq!(
            password_login(&store, &throttle, ip, "user@example.com", "p,w d'é").await,
            Err(LoginError::Throttled)
        );
        // A store failure is not a failed login.
        let other = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(
                password_login(&store, &throttle, other, "fresh@example.com", "x").await,
                Err(LoginError::Unavailable)
            );
        }
    }

    #[tokio::test]

    async fn check_password_outcomes() {
        let store = store_with_user().await;
        let account = check_password(&store, "USER@example.com", "p,w d'é")
            .await
            .unwrap();
        assert_eq!(account.email, "user@example.com");
        assert_eq!(
            check_password(&store, "user@example.com", "p,w d'e").await,
            Err(LoginError::BadCredentials)
        );
        assert_eq!(
            check_password(&store, "nobody@example.com", "p,w d'é").await,
            Err(LoginError::BadCredentials)
        );
        store.close().await;
        assert_eq!(
            check_password(&store, "user@example.com", "p,w d'é").await,
            Err(LoginError::Unavailable)
        );
    }
}
