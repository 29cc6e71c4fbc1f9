//! TLS for listeners (rustls with the `ring` provider, TLS 1.2 and 1.3 only):
//! building a server configuration from the PEM files a listener names
//! ([`load`]), the per-listener swappable handle whose handshake runs inside
//! each connection's task with a timeout ([`ListenerTls`]), re-reading the
//! files on SIGHUP without touching established connections ([`TlsListeners`])
//! and writing a self-signed test certificate ([`gen_cert`]).
//!
//! See `docs/tls.md` for the operator's view.

pub mod gen_cert;
mod listener;
pub mod load;
mod reload;

use std::path::PathBuf;

pub use listener::ListenerTls;
pub use reload::TlsListeners;

/// Why a listener's TLS configuration could not be built. Every variant names
/// the file or the listener at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The listener has `tls = "implicit"` but no file for `key`.
    #[error("listener `{listener}`: `{key}` is not set")]
    Missing {
        /// Listener name.
        listener: String,
        /// The configuration key (`tls_cert`, ...).
        key: &'static str,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file is not what it should be (no PEM certificate, no private key,
    /// malformed PEM, a CA certificate rustls refuses).
    #[error("{}: {why}", path.display())]
    Bad {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// rustls refused the combination (e.g. the key does not belong to the
    /// certificate).
    #[error("listener `{listener}`: {cert} with {key}: {why}", cert = cert.display(), key = key.display())]
    Rejected {
        /// Listener name.
        listener: String,
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        why: String,
    },
}
