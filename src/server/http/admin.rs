//! The `admin` listener role: operator endpoints. `GET /healthz` answers `ok`
//! while the process serves; `/readyz` and `/metrics` join the route table later.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::response::{self, Body};
use super::serve::{Handler, serve};
use crate::server::limits::{ConnectionLimiter, ListenerKind};
use crate::tls::ListenerTls;

/// The liveness path.
pub const HEALTHZ_PATH: &str = "/healthz";

/// Serves the admin endpoints on `listener` until `shutdown` is cancelled; then
/// stops accepting and lets in-flight requests finish.
/// `limiter` admits its connections (per-IP limits only: the global cap spares
/// the admin listener so a full server can still be looked at).
/// With `tls`, it serves HTTPS.
pub async fn serve_admin(
    listener: TcpListener,
    tls: Option<Arc<ListenerTls>>,
    limiter: Arc<ConnectionLimiter>,
    shutdown: CancellationToken,
) {
    serve(
        "admin",
        listener,
        tls,
        Arc::new(Admin),
        limiter,
        ListenerKind::Admin,
        shutdown,
    )
    .await;
}

/// The admin role's request handler.
struct Admin;

impl Handler for Admin {
    async fn handle(&self, _peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
        respond(req.method(), route(req.uri().path()))
    }
}

/// An admin resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `/healthz`: the process is up and serving.
    Healthz,
    /// Anything else.
    NotFound,
}

/// The resource a path names.
fn route(path: &str) -> Route {
    match path {
        HEALTHZ_PATH => Route::Healthz,
        _ => Route::NotFound,
    }
}

/// The answer for `method` on `route`.
fn respond(method: &Method, route: Route) -> Response<Body> {
    match route {
        Route::NotFound => response::not_found(),
        _ if method != Method::GET && method != Method::HEAD => {
            response::method_not_allowed("GET, HEAD")
        }
        Route::Healthz => response::text(StatusCode::OK, "ok\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/healthz"), Route::Healthz);
        assert_eq!(route("/healthz/"), Route::NotFound);
        assert_eq!(route("/"), Route::NotFound);
    }

    #[tokio::test]
    async fn healthz_answers_ok() {
        use http_body_util::BodyExt;
        let r = respond(&Method::GET, Route::Healthz);
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"ok\n");
    }

    #[test]
    fn methods_and_unknown_paths() {
        assert_eq!(
            respond(&Method::POST, Route::Healthz).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            respond(&Method::HEAD, Route::Healthz).status(),
            StatusCode::OK
        );
        assert_eq!(
            respond(&Method::POST, Route::NotFound).status(),
            StatusCode::NOT_FOUND
        );
    }
}
