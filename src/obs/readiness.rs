//! The readiness check behind `/readyz`: the process is ready when every
//! listener is bound and serving (set by the daemon) and the store answers a
//! cheap check within [`STORE_TIMEOUT`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::store::Store;

/// How long the store has to answer the readiness check.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the daemon's listeners are bound and serving.
#[derive(Debug, Default)]
pub struct Readiness {
    serving: AtomicBool,
    /// A store check is running (one at a time: a stuck store does not pile
    /// up checks).
    checking: Arc<AtomicBool>,
}

impl Readiness {
    /// Not serving yet.
    pub fn new() -> Readiness {
        Readiness::default()
    }

    /// Every listener is bound and running (`true`), or shutdown began (`false`).
    pub fn set_serving(&self, serving: bool) {
        self.serving.store(serving, Ordering::Release);
    }

    /// Whether every listener is bound and running.
    pub fn serving(&self) -> bool {
        self.serving.load(Ordering::Acquire)
    }

    /// `Ok` when ready, else why not (a short reason for the `503` body and
    /// the log; never store internals beyond the error text).
    pub async fn check(&self, store: &Store) -> Result<(), String> {
        if !self.serving() {
            return Err("listeners not serving (starting or shutting down)".into());
        }
        if self.checking.swap(true, Ordering::AcqRel) {
            return Err("store: the previous check has not finished".into());
        }
        // The check runs to its end in its own task even when this wait gives
        // up, so a store call is never abandoned half-way (a transaction
        // begun and never ended would keep the store locked).
        let checking = Arc::clone(&self.checking);
        let store = store.clone();
        let check = tokio::spawn(async move {
            let _done = ClearOnDrop(checking);
            store.check_ready().await
        });
        match tokio::time::timeout(STORE_TIMEOUT, check).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(format!("store: {e}")),
            Ok(Err(e)) => Err(format!("store check failed: {e}")),
            Err(_) => Err(format!(
                "store did not answer within {} ms",
                STORE_TIMEOUT.as_millis()
            )),
        }
    }
}

/// Clears the "check running" flag when the check ends, however it ends.
struct ClearOnDrop(Arc<AtomicBool>);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}
