//! The accept loop and per-connection HTTP/1 serving shared by the HTTP roles:
//! admission by the connection limiter (per-IP connections and connect rate,
//! the global cap: refused with `429` or `503` and closed at once), one task
//! per connection, bounded header size and read time, a cap on open
//! connections per listener, exact header-name spelling, and a graceful drain
//! on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::http::Extensions;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument as _, debug, error, warn};

use super::response::Body;
use super::wire_case::wire_case_extensions;
use crate::server::limits::{ConnectionLimiter, ListenerKind, Refusal};

/// Longest request head (request line and headers) accepted; longer gets 431.
pub(crate) const MAX_HEADER_BYTES: usize = 8 * 1024;
/// Per-connection read buffer cap (hyper's minimum).
const MAX_BUF_BYTES: usize = 8 * 1024;
/// Most header lines in one request.
const MAX_HEADERS: usize = 64;
/// Time a client has to send a complete request head (also bounds idle keep-alive).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Open connections per listener; beyond it, accepting pauses until one closes.
const MAX_CONNECTIONS: usize = 1024;
/// Pause after a failed `accept` (e.g. out of file descriptors) before retrying.
const ACCEPT_BACKOFF: Duration = crate::server::listener::ACCEPT_BACKOFF;
/// How long shutdown waits for in-flight requests before closing connections.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers one request of an HTTP role.
pub(crate) trait Handler: Send + Sync + 'static {
    /// The response to `req` from `peer`. Never fails: errors become responses.
    fn handle(
        &self,
        peer: SocketAddr,
        req: Request<Incoming>,
    ) -> impl Future<Output = Response<Body>> + Send;
}

/// Serves `handler` on `listener` until `shutdown` is cancelled, then stops
/// accepting, lets in-flight requests finish (closing idle keep-alive connections
/// at once) and returns when every connection is closed, or after
/// [`DRAIN_TIMEOUT`]. `role` names the listener in logs; `limiter` admits each
/// connection as one of `kind`.
pub(crate) async fn serve<H: Handler>(
    role: &'static str,
    listener: TcpListener,
    handler: Arc<H>,
    limiter: Arc<ConnectionLimiter>,
    kind: ListenerKind,
    shutdown: CancellationToken,
) {
    let wire_case = match wire_case_extensions().await {
        Ok(ext) => ext,
        Err(e) => {
            error!(role, error = %e, "cannot fix header spelling; writing title case");
            Extensions::new()
        }
    };
    let builder = Arc::new(builder());
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => log_join(role, done),
            accepted = listener.accept(), if tasks.len() < MAX_CONNECTIONS => match accepted {
                Ok((stream, peer)) => {
                    let permit = match limiter.admit(peer.ip(), kind) {
                        Ok(permit) => permit,
                        Err(refusal) => {
                            refuse(role, &stream, peer, refusal);
                            continue;
                        }
                    };
                    let connection = serve_connection(
                        role,
                        stream,
                        peer,
                        Arc::clone(&builder),
                        Arc::clone(&handler),
                        wire_case.clone(),
                        shutdown.clone(),
                    );
                    let span = tracing::info_span!("http", role, %peer);
                    tasks.spawn(
                        async move {
                            let _permit = permit;
                            connection.await;
                        }
                        .instrument(span),
                    );
                }
                Err(e) => {
                    warn!(role, error = %e, "accept failed");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    let drain = async {
        while let Some(done) = tasks.join_next().await {
            log_join(role, done);
        }
    };
    if tokio::time::timeout(DRAIN_TIMEOUT, drain).await.is_err() {
        warn!(
            role,
            left = tasks.len(),
            "drain timed out; closing connections"
        );
        tasks.shutdown().await;
    }
}

/// The hyper settings every HTTP role uses.
fn builder() -> http1::Builder {
    let mut b = http1::Builder::new();
    b.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_header_size(MAX_HEADER_BYTES)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_BUF_BYTES)
        .title_case_headers(true)
        .preserve_header_case(true);
    b
}

/// Serves one connection until the client closes it or shutdown asks it to end
/// after the request in flight.
async fn serve_connection<H: Handler>(
    role: &'static str,
    stream: TcpStream,
    peer: SocketAddr,
    builder: Arc<http1::Builder>,
    handler: Arc<H>,
    wire_case: Extensions,
    shutdown: CancellationToken,
) {
    if let Err(e) = stream.set_nodelay(true) {
        debug!(role, %peer, error = %e, "set_nodelay failed");
    }
    let service = service_fn(move |req: Request<Incoming>| {
        let handler = Arc::clone(&handler);
        let wire_case = wire_case.clone();
        async move {
            let mut resp = handler.handle(peer, req).await;
            resp.extensions_mut().extend(wire_case);
            Ok::<_, Infallible>(resp)
        }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        debug!(role, %peer, error = %e, "connection ended with error");
    }
}

/// Answers a refused connection in one best-effort write (a fresh socket's send
/// buffer always has room) before it is closed: `503` when the server is full,
/// `429` when the client's address is over its limits.
fn refuse(role: &'static str, stream: &TcpStream, peer: SocketAddr, refusal: Refusal) {
    debug!(role, %peer, %refusal, "connection refused");
    let response: &[u8] = match refusal {
        Refusal::ServerFull => {
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        }
        Refusal::TooManyFromIp | Refusal::TooFastFromIp => {
            b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        }
    };
    let _ = stream.try_write(response);
}

/// Logs a connection task that panicked (a bug; the listener keeps serving).
fn log_join(role: &'static str, done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done
        && e.is_panic()
    {
        error!(role, error = %e, "connection task panicked");
    }
}
