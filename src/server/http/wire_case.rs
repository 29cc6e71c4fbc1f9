//! Exact header-name spelling on the wire.
//!
//! HTTP header names are case-insensitive, but MSN Messenger matches some of them
//! byte for byte: it finds the nexus answer only under `PassportURLs` (a proxy that
//! rewrote it to `Passporturls` broke real clients). hyper stores names lower-case
//! and writes them lower-case or title-case (`Passporturls` again). Its one way to
//! write another spelling is the documented proxy feature of
//! `http1::Builder::preserve_header_case`: a request parsed with that option carries
//! (in a private extension) the spelling of each header name it had, and a response
//! carrying that extension is written with those spellings. So at start-up we parse
//! one synthetic request, in memory, whose header names are spelled as we want
//! them, keep its extensions, and attach a copy to every response. Names not in
//! the template are written title-case.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::http::Extensions;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;

/// Header names this server writes with a spelling that title case would get wrong.
pub(crate) const WIRE_NAMES: &[&str] = &["PassportURLs", "Authentication-Info", "WWW-Authenticate"];

/// Bound on the in-memory exchange (it completes at once unless hyper changed).
const TEMPLATE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the spelling template could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireCaseError {
    /// The in-memory exchange failed.
    #[error("template exchange failed: {0}")]
    Exchange(String),
    /// hyper parsed the request but handed over no extensions.
    #[error("hyper returned no request")]
    NoRequest,
}

/// Response extensions that make hyper (built with `preserve_header_case(true)`)
/// write each of [`WIRE_NAMES`] exactly as spelled there.
pub(crate) async fn wire_case_extensions() -> Result<Extensions, WireCaseError> {
    let mut request = b"GET / HTTP/1.1\r\nConnection: close\r\n".to_vec();
    for name in WIRE_NAMES {
        request.extend_from_slice(name.as_bytes());
        request.extend_from_slice(b": x\r\n");
    }
    request.extend_from_slice(b"\r\n");

    let (mut client, server) = tokio::io::duplex(8 * 1024);
    // The whole request fits in the pipe, so this completes before hyper runs.
    client
        .write_all(&request)
        .await
        .map_err(|e| WireCaseError::Exchange(e.to_string()))?;

    let captured: Arc<OnceLock<Extensions>> = Arc::new(OnceLock::new());
    let slot = Arc::clone(&captured);
    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
        let _ = slot.set(req.extensions().clone());
        async { Ok::<_, std::convert::Infallible>(Response::new(Empty::<Bytes>::new())) }
    });
    let conn = http1::Builder::new()
        .preserve_header_case(true)
        .serve_connection(TokioIo::new(server), service);
    tokio::time::timeout(TEMPLATE_TIMEOUT, conn)
        .await
        .map_err(|_| WireCaseError::Exchange("timed out".into()))?
        .map_err(|e| WireCaseError::Exchange(e.to_string()))?;
    drop(client);

    captured.get().cloned().ok_or(WireCaseError::NoRequest)
}
