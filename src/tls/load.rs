//! Building a rustls [`ServerConfig`] from the PEM files a listener names:
//! the certificate chain, its private key, and (for client certificates) the
//! CA bundle, with the `ring` provider and TLS 1.2 and 1.3 only.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;
use crate::config::{ClientAuth, ListenerConfig};

/// The protocol versions served: TLS 1.3 and 1.2 (never older).
const VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The crypto provider: rustls's `ring` backend with its default (modern)
/// cipher suites and key exchange groups.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds the server configuration of listener `name` from the files `config`
/// names. Reads every file afresh (so it also serves reloads).
pub fn server_config(name: &str, config: &ListenerConfig) -> Result<ServerConfig, TlsError> {
    let missing = |key| TlsError::Missing {
        listener: name.to_owned(),
        key,
    };
    let cert_path = config
        .tls_cert
        .as_deref()
        .ok_or_else(|| missing("tls_cert"))?;
    let key_path = config
        .tls_key
        .as_deref()
        .ok_or_else(|| missing("tls_key"))?;
    let chain = read_certificates(cert_path)?;
    let key = read_private_key(key_path)?;
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(VERSIONS)
        .map_err(|e| TlsError::Rejected {
            listener: name.to_owned(),
            cert: cert_path.to_owned(),
            key: key_path.to_owned(),
            why: e.to_string(),
        })?;
    let builder = match config.tls_client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Optional | ClientAuth::Required => {
            let ca_path = config
                .tls_client_ca
                .as_deref()
                .ok_or_else(|| missing("tls_client_ca"))?;
            let mut roots = RootCertStore::empty();
            for cert in read_certificates(ca_path)? {
                roots.add(cert).map_err(|e| TlsError::Bad {
                    path: ca_path.to_owned(),
                    why: format!("unusable CA certificate: {e}"),
                })?;
            }
            let mut verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            if config.tls_client_auth == ClientAuth::Optional {
                verifier = verifier.allow_unauthenticated();
            }
            let verifier = verifier.build().map_err(|e| TlsError::Bad {
                path: ca_path.to_owned(),
                why: format!("cannot verify clients with it: {e}"),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Rejected {
            listener: name.to_owned(),
            cert: cert_path.to_owned(),
            key: key_path.to_owned(),
            why: e.to_string(),
        })
}

/// Reads every `CERTIFICATE` block of a PEM file (at least one).
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Bad {
            path: path.to_owned(),
            why: format!("bad PEM: {e}"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Bad {
            path: path.to_owned(),
            why: "no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into(),
        });
    }
    Ok(certs)
}

/// Reads the first private key (PKCS#8, PKCS#1 or SEC1) of a PEM file.
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError::Bad {
        path: path.to_owned(),
        why: match e {
            rustls_pki_types::pem::Error::NoItemsFound => {
                "no PEM private key (-----BEGIN PRIVATE KEY-----) in it".into()
            }
            other => format!("bad PEM: {other}"),
        },
    })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}
