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
