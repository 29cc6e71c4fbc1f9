//! How the probe opens its connections: plain TCP, or TLS (rustls with the
//! `ring` provider, TLS 1.2 and 1.3) trusting only the CA certificates of a
//! PEM file. The server name checked is the host part of the address dialled
//! (an IP address is matched against the certificate's IP addresses).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::tls::load;

/// A byte stream the probe speaks MSNP or HTTP over (TCP or TLS over TCP).
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// The trust roots for the probe's TLS connections.
#[derive(Clone)]
pub struct Roots {
    connector: TlsConnector,
}

impl std::fmt::Debug for Roots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Roots")
    }
}

impl Roots {
    /// Trusts every certificate in the PEM file `path` (a CA, or a
    /// self-signed certificate such as `msnpd gen-cert` writes).
    pub fn from_pem_file(path: &Path) -> Result<Roots, String> {
        let mut store = RootCertStore::empty();
        for cert in load::read_certificates(path).map_err(|e| e.to_string())? {
            store
                .add(cert)
                .map_err(|e| format!("{}: unusable CA certificate: {e}", path.display()))?;
        }
        let config = ClientConfig::builder_with_provider(load::provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS client configuration: {e}"))?
            .with_root_certificates(store)
            .with_no_client_auth();
        Ok(Roots {
            connector: TlsConnector::from(Arc::new(config)),
        })
    }
}

/// The host part of `host:port` or `[v6]:port` (brackets removed).
pub fn host_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    addr.rsplit_once(':').map_or(addr, |(host, _)| host)
}

/// Opens TCP to `addr` and, with `tls`, completes a TLS handshake verifying
/// the host part of `addr`; all within `timeout`. `who` prefixes errors.
pub async fn connect(
    addr: &str,
    tls: Option<&Roots>,
    who: &str,
    timeout: Duration,
) -> Result<Box<dyn Stream>, String> {
    let call = async {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| format!("{who}cannot connect to {addr}: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let Some(roots) = tls else {
            return Ok(Box::new(tcp) as Box<dyn Stream>);
        };
        let name = ServerName::try_from(host_of(addr).to_owned())
            .map_err(|e| format!("{who}bad TLS server name in {addr}: {e}"))?;
        let stream = roots
            .connector
            .connect(name, tcp)
            .await
            .map_err(|e| format!("{who}TLS handshake with {addr} failed: {e}"))?;
        Ok(Box::new(stream) as Box<dyn Stream>)
    };
    tokio::time::timeout(timeout, call)
        .await
        .map_err(|_| format!("{who}connecting to {addr} timed out"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(host_of("127.0.0.1:1863"), "127.0.0.1");
        assert_eq!(host_of("msn.example.com:443"), "msn.example.com");
        assert_eq!(host_of("[::1]:1863"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
    }
}
