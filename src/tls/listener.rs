//! [`ListenerTls`]: one TLS listener's current server configuration behind a
//! swappable handle, and the handshake each connection task runs with it.
//!
//! A handshake takes the configuration current when it starts; a reload
//! replaces it for later handshakes only, so established connections keep
//! the session they negotiated.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::{TlsError, load};
use crate::config::ListenerConfig;

/// What a handshake needs; replaced as a whole on reload.
struct Current {
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
}

/// The TLS side of one listener.
pub struct ListenerTls {
    name: String,
    current: RwLock<Arc<Current>>,
}

impl std::fmt::Debug for ListenerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerTls")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ListenerTls {
    /// Loads listener `name`'s certificate, key and client CA as `config`
    /// names them.
    pub fn load(name: &str, config: &ListenerConfig) -> Result<ListenerTls, TlsError> {
        Ok(ListenerTls {
            name: name.to_owned(),
            current: RwLock::new(Arc::new(Self::build(name, config)?)),
        })
    }

    fn build(name: &str, config: &ListenerConfig) -> Result<Current, TlsError> {
        let server = load::server_config(name, config)?;
        Ok(Current {
            acceptor: TlsAcceptor::from(Arc::new(server)),
            handshake_timeout: Duration::from_secs(config.tls_handshake_timeout_secs.max(1)),
        })
    }

    /// The listener's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Re-reads the files `config` names and, if they make a valid
    /// configuration, uses it for every handshake from now on. On error the
    /// configuration in use stays.
    pub fn reload(&self, config: &ListenerConfig) -> Result<(), TlsError> {
        let fresh = Arc::new(Self::build(&self.name, config)?);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    fn current(&self) -> Arc<Current> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs the server side of the handshake on `stream` within the
    /// listener's handshake timeout. A failed or timed-out handshake is logged
    /// and the socket closed (`None`); nothing else is charged for it.
    pub async fn accept(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> Option<TlsStream<TcpStream>> {
        let current = self.current();
        let handshake = current.acceptor.accept(stream);
        match tokio::time::timeout(current.handshake_timeout, handshake).await {
            Ok(Ok(tls)) => Some(tls),
            Ok(Err(error)) => {
                tracing::info!(listener = %self.name, %peer, %error, "TLS handshake failed");
                None
            }
            Err(_) => {
                tracing::info!(
                    listener = %self.name,
                    %peer,
                    timeout_secs = current.handshake_timeout.as_secs(),
                    "TLS handshake timed out"
                );
                None
            }
        }
    }
}
