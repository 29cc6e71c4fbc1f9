//! [`TlsListeners`]: every TLS listener of the process by name, and
//! [`TlsListeners::reload_tls`], which re-reads their certificate files
//! (SIGHUP). A listener whose files are broken keeps the certificate it has
//! and the error is logged naming the file.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{ListenerTls, TlsError};
use crate::config::{ListenerConfig, TlsMode};

/// The TLS listeners of a running server.
#[derive(Debug, Default, Clone)]
pub struct TlsListeners {
    by_name: BTreeMap<String, Arc<ListenerTls>>,
}

impl TlsListeners {
    /// Loads the TLS side of every enabled `tls = "implicit"` listener.
    /// Fails on the first listener whose files are unusable.
    pub fn load(listeners: &BTreeMap<String, ListenerConfig>) -> Result<TlsListeners, TlsError> {
        let mut by_name = BTreeMap::new();
        for (name, config) in listeners
            .iter()
            .filter(|(_, l)| l.enabled && l.tls == TlsMode::Implicit)
        {
            by_name.insert(name.clone(), Arc::new(ListenerTls::load(name, config)?));
        }
        Ok(TlsListeners { by_name })
    }

    /// The TLS handle of listener `name`, if it serves TLS.
    pub fn get(&self, name: &str) -> Option<Arc<ListenerTls>> {
        self.by_name.get(name).cloned()
    }

    /// Whether no listener serves TLS.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Re-reads the certificate, key and client CA files of every TLS
    /// listener from `listeners` (the configuration now in force: the same
    /// paths re-read, or new paths from a reloaded configuration) and swaps
    /// each listener whose files load. New handshakes use the new
    /// certificates; established connections are not touched. A listener
    /// that is no longer `implicit` in `listeners` keeps its current
    /// configuration (a listener cannot change its TLS mode while running).
    /// Logs one line per listener; returns the errors (the listeners named
    /// in them keep their old certificates).
    pub fn reload_tls(&self, listeners: &BTreeMap<String, ListenerConfig>) -> Vec<TlsError> {
        let mut errors = Vec::new();
        for (name, tls) in &self.by_name {
            let Some(config) = listeners
                .get(name)
                .filter(|l| l.enabled && l.tls == TlsMode::Implicit)
            else {
                tracing::warn!(
                    listener = %name,
                    "TLS is no longer configured; the running listener keeps its certificate"
                );
                continue;
            };
            match tls.reload(config) {
                Ok(()) => tracing::info!(listener = %name, "TLS certificate reloaded"),
                Err(error) => {
                    tracing::error!(
                        listener = %name,
                        %error,
                        "TLS reload failed; keeping the certificate in use"
                    );
                    errors.push(error);
                }
            }
        }
        errors
    }
}

/// On every configuration reload (SIGHUP), each TLS listener reads its
/// certificate, key and client CA again from the reloaded settings.
impl crate::reload::ReloadHook for TlsListeners {
    fn name(&self) -> &str {
        "tls"
    }

    fn apply(&self, config: &crate::config::Config) -> Result<(), String> {
        let errors = self.reload_tls(&config.listeners);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    //! Reloads with real in-process handshakes (a tokio-rustls client over an
    //! in-memory pipe): good files swap the certificate, broken ones keep it.

    use std::path::Path;

    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use rustls::{ClientConfig, RootCertStore};
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::TlsConnector;

    use super::*;
    use crate::config::{Config, ListenerConfig};
    use crate::tls::gen_cert;

    fn write_pair(dir: &Path, name: &str) -> String {
        let (cert, key) = gen_cert::self_signed(&[name.to_owned()]).unwrap();
        std::fs::write(dir.join("cert.pem"), &cert).unwrap();
        std::fs::write(dir.join("key.pem"), key).unwrap();
        cert
    }

    fn listeners(dir: &Path) -> BTreeMap<String, ListenerConfig> {
        let mut ns = Config::default().listeners["ns"].clone();
        ns.tls = TlsMode::Implicit;
        ns.tls_cert = Some(dir.join("cert.pem"));
        ns.tls_key = Some(dir.join("key.pem"));
        BTreeMap::from([("ns".to_owned(), ns)])
    }

    /// The certificate the listener presents to a client trusting `trusted`.
    async fn presented(tls: &ListenerTls, trusted: &[&str], name: &'static str) -> Vec<u8> {
        let mut roots = RootCertStore::empty();
        for pem in trusted {
            roots
                .add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
                .unwrap();
        }
        let config = ClientConfig::builder_with_provider(crate::tls::load::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let name = ServerName::try_from(name).unwrap();
            let tls = TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await
                .unwrap();
            tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
        });
        let (stream, peer) = listener.accept().await.unwrap();
        let server = tls.accept(stream, peer).await;
        assert!(server.is_some());
        client.await.unwrap()
    }

    fn der(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn reload_swaps_good_files_and_keeps_the_old_on_broken_ones() {
        let dir = tempfile::tempdir().unwrap();
        let first = write_pair(dir.path(), "first.example");
        let config = listeners(dir.path());
        let all = TlsListeners::load(&config).unwrap();
        let ns = all.get("ns").unwrap();
        assert_eq!(
            presented(&ns, &[&first], "first.example").await,
            der(&first)
        );

        // A broken certificate: the error names the file, the old one stays.
        std::fs::write(dir.path().join("cert.pem"), "not a certificate").unwrap();
        let errors = all.reload_tls(&config);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .to_string()
                .contains(&dir.path().join("cert.pem").display().to_string()),
            "{}",
            errors[0]
        );
        assert_eq!(
            presented(&ns, &[&first], "first.example").await,
            der(&first)
        );

        // A key that does not belong to the certificate: refused, old one stays.
        let second = write_pair(dir.path(), "second.example");
        let (_, other_key) = gen_cert::self_signed(&["x.example".to_owned()]).unwrap();
        std::fs::write(dir.path().join("key.pem"), other_key).unwrap();
        let errors = all.reload_tls(&config);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(
            presented(&ns, &[&first], "first.example").await,
            der(&first)
        );

        // Good files: new handshakes get the new certificate.
        let second_again = write_pair(dir.path(), "second.example");
        assert_ne!(second, second_again);
        assert!(all.reload_tls(&config).is_empty());
        assert_eq!(
            presented(&ns, &[&second_again], "second.example").await,
            der(&second_again)
        );

        // A missing file is an error naming it too.
        std::fs::remove_file(dir.path().join("key.pem")).unwrap();
        let errors = all.reload_tls(&config);
        assert!(errors[0].to_string().contains("key.pem"), "{}", errors[0]);
    }
}
