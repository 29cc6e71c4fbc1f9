//! The `admin` listener role: operator endpoints.
//!
//! - `GET /healthz`: `ok` while the process serves.
//! - `GET /readyz`: `200 ready` when every listener is bound and the store
//!   answers its check within a short timeout; `503 not ready: REASON`
//!   otherwise.
//! - `GET /metrics`: Prometheus metrics in the OpenMetrics text format.
//! - `/admin/...` (the operator API behind `msnpd kick`, `broadcast`,
//!   `stats`): needs `Authorization: Bearer TOKEN` matching `admin.token`
//!   (`401` when missing or wrong); with no token configured every request
//!   gets `403`. `GET /admin/stats`, `POST /admin/kick?user=EMAIL`,
//!   `POST /admin/broadcast[?maintenance=MINUTES]` with the text as the body.
//!   Answers are JSON.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use percent_encoding::percent_decode_str;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::response::{self, Body};
use super::serve::{Handler, serve};
use crate::obs::metrics;
use crate::obs::readiness::Readiness;
use crate::proto::notices;
use crate::server::context::ServerContext;
use crate::server::limits::ListenerKind;
use crate::server::operator;

/// The liveness path.
pub const HEALTHZ_PATH: &str = "/healthz";
/// The readiness path.
pub const READYZ_PATH: &str = "/readyz";
/// The metrics path.
pub const METRICS_PATH: &str = "/metrics";

/// Largest request body the operator API reads (a broadcast text).
const MAX_BODY_BYTES: usize = 4096;
/// How long `/metrics` waits for the store's offline-queue count.
const METRICS_STORE_TIMEOUT: Duration = Duration::from_secs(1);
/// The OpenMetrics text content type.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the admin endpoints look at.
#[derive(Debug)]
pub struct AdminState {
    /// The running server.
    pub ctx: Arc<ServerContext>,
    /// Whether the listeners are serving.
    pub readiness: Arc<Readiness>,
    /// When the server started (for the uptime).
    pub started: Instant,
    /// The bearer token of the operator API; `None` refuses it.
    pub token: Option<String>,
}

/// Serves the admin endpoints on `listener` until `shutdown` is cancelled; then
/// stops accepting and lets in-flight requests finish. Connections are admitted
/// by the per-IP limits only: the global cap spares the admin listener so a
/// full server can still be looked at.
pub async fn serve_admin(
    listener: TcpListener,
    state: Arc<AdminState>,
    shutdown: CancellationToken,
) {
    let limiter = Arc::clone(&state.ctx.limits.connections);
    serve(
        "admin",
        listener,
        Arc::new(Admin(state)),
        limiter,
        ListenerKind::Admin,
        shutdown,
    )
    .await;
}

/// The admin role's request handler.
struct Admin(Arc<AdminState>);

impl Handler for Admin {
    async fn handle(&self, _peer: SocketAddr, req: Request<Incoming>) -> Response<Body> {
        let route = route(req.uri().path());
        if let Some(refused) = check_method(req.method(), route) {
            return refused;
        }
        let state = &self.0;
        match route {
            Route::NotFound => response::not_found(),
            Route::Healthz => response::text(StatusCode::OK, "ok\n"),
            Route::Readyz => match state.readiness.check(&state.ctx.store).await {
                Ok(()) => response::text(StatusCode::OK, "ready\n"),
                Err(reason) => {
                    tracing::warn!(%reason, "readiness check failed");
                    response::owned(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "text/plain; charset=utf-8",
                        format!("not ready: {reason}\n"),
                    )
                }
            },
            Route::Metrics => metrics_response(state).await,
            Route::Stats | Route::Kick | Route::Broadcast => {
                if let Err(refused) = authorize(state.token.as_deref(), &req) {
                    return refused;
                }
                operator_api(state, route, req).await
            }
        }
    }
}

/// An admin resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `/healthz`: the process is up and serving.
    Healthz,
    /// `/readyz`: listeners bound and the store answering.
    Readyz,
    /// `/metrics`.
    Metrics,
    /// `GET /admin/stats`.
    Stats,
    /// `POST /admin/kick?user=EMAIL`.
    Kick,
    /// `POST /admin/broadcast[?maintenance=MINUTES]`.
    Broadcast,
    /// Anything else.
    NotFound,
}

/// The resource a path names.
fn route(path: &str) -> Route {
    match path {
        HEALTHZ_PATH => Route::Healthz,
        READYZ_PATH => Route::Readyz,
        METRICS_PATH => Route::Metrics,
        "/admin/stats" => Route::Stats,
        "/admin/kick" => Route::Kick,
        "/admin/broadcast" => Route::Broadcast,
        _ => Route::NotFound,
    }
}

/// `405` when `method` is not what `route` takes.
fn check_method(method: &Method, route: Route) -> Option<Response<Body>> {
    let reads = method == Method::GET || method == Method::HEAD;
    match route {
        Route::NotFound => None,
        Route::Kick | Route::Broadcast if method != Method::POST => {
            Some(response::method_not_allowed("POST"))
        }
        Route::Kick | Route::Broadcast => None,
        _ if !reads => Some(response::method_not_allowed("GET, HEAD")),
        _ => None,
    }
}

/// `Ok` when `req` carries the bearer token; else the `401`/`403` to send.
#[allow(clippy::result_large_err)]
fn authorize(token: Option<&str>, req: &Request<Incoming>) -> Result<(), Response<Body>> {
    let Some(token) = token else {
        return Err(response::text(
            StatusCode::FORBIDDEN,
            "admin API disabled: set admin.token or admin.token_file\n",
        ));
    };
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(presented) if constant_time_eq(presented.as_bytes(), token.as_bytes()) => Ok(()),
        _ => {
            let mut resp = response::text(StatusCode::UNAUTHORIZED, "bad or missing admin token\n");
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"msnpd admin\""),
            );
            Err(resp)
        }
    }
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `/metrics`: refreshes the gauges of shared state, then encodes.
async fn metrics_response(state: &AdminState) -> Response<Body> {
    let ctx = &state.ctx;
    let queued = tokio::time::timeout(METRICS_STORE_TIMEOUT, ctx.store.queued_total())
        .await
        .ok()
        .and_then(Result::ok);
    let m = metrics();
    m.set_state(ctx.router.registry().len(), ctx.hub.room_count(), queued);
    response::owned(StatusCode::OK, OPENMETRICS, m.encode())
}

/// The operator API, once authorized.
async fn operator_api(state: &AdminState, route: Route, req: Request<Incoming>) -> Response<Body> {
    let query = req.uri().query().unwrap_or_default().to_owned();
    match route {
        Route::Stats => json(
            StatusCode::OK,
            &operator::stats(&state.ctx, state.started.elapsed()),
        ),
        Route::Kick => {
            let Some(user) = query_param(&query, "user").filter(|u| !u.is_empty()) else {
                return bad_request("kick needs ?user=EMAIL");
            };
            let kicked = operator::kick(&state.ctx, &user);
            #[derive(Serialize)]
            struct Kicked {
                user: String,
                kicked: bool,
            }
            json(
                StatusCode::OK,
                &Kicked {
                    user: user.to_ascii_lowercase(),
                    kicked,
                },
            )
        }
        Route::Broadcast => {
            let maintenance = match query_param(&query, "maintenance") {
                None => None,
                Some(m) => match m.parse::<u32>() {
                    Ok(m) => Some(m),
                    Err(_) => return bad_request("maintenance must be a number of minutes"),
                },
            };
            let body = match read_body(req).await {
                Ok(body) => body,
                Err(resp) => return resp,
            };
            let Ok(text) = String::from_utf8(body.to_vec()) else {
                return bad_request("the text must be UTF-8");
            };
            let text = text.trim();
            let text = if text.is_empty() {
                None
            } else if notices::alert_text_fits(text) {
                Some(text.to_owned())
            } else {
                return bad_request("the text is too long for an alert");
            };
            if text.is_none() && maintenance.is_none() {
                return bad_request("broadcast needs a text or ?maintenance=MINUTES");
            }
            json(
                StatusCode::OK,
                &operator::broadcast(&state.ctx, text, maintenance),
            )
        }
        Route::Healthz | Route::Readyz | Route::Metrics | Route::NotFound => response::not_found(),
    }
}

/// The request body, at most [`MAX_BODY_BYTES`].
#[allow(clippy::result_large_err)]
async fn read_body(req: Request<Incoming>) -> Result<Bytes, Response<Body>> {
    match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(response::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large or unreadable\n",
        )),
    }
}

/// The percent-decoded value of `name` in a query string.
fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| {
            percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// A JSON response.
fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(body) => response::owned(status, "application/json", body),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode an admin answer");
            response::internal_error()
        }
    }
}

/// `400` with `why`.
fn bad_request(why: &str) -> Response<Body> {
    response::owned(
        StatusCode::BAD_REQUEST,
        "text/plain; charset=utf-8",
        format!("{why}\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route("/healthz"), Route::Healthz);
        assert_eq!(route("/readyz"), Route::Readyz);
        assert_eq!(route("/metrics"), Route::Metrics);
        assert_eq!(route("/admin/kick"), Route::Kick);
        assert_eq!(route("/healthz/"), Route::NotFound);
        assert_eq!(route("/"), Route::NotFound);
    }

    #[test]
    fn methods() {
        let status = |m: &Method, r| check_method(m, r).map(|resp| resp.status());
        assert_eq!(status(&Method::GET, Route::Healthz), None);
        assert_eq!(status(&Method::HEAD, Route::Metrics), None);
        assert_eq!(
            status(&Method::POST, Route::Healthz),
            Some(StatusCode::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            status(&Method::GET, Route::Kick),
            Some(StatusCode::METHOD_NOT_ALLOWED)
        );
        assert_eq!(status(&Method::POST, Route::Broadcast), None);
        assert_eq!(status(&Method::POST, Route::NotFound), None);
    }

    #[test]
    fn query_parameters_and_token_comparison() {
        assert_eq!(
            query_param("user=a%40x.org&x=1", "user").as_deref(),
            Some("a@x.org")
        );
        assert_eq!(query_param("maintenance=5", "user"), None);
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
