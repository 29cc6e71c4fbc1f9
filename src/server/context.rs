//! What every connection of the running server shares: configuration, store,
//! router, switchboard hub, ticket key, limiters, offline-message state and the
//! advertised addresses.

use std::sync::Arc;

use super::limits::Limits;
use crate::config::LiveConfig;
use crate::core::auth::TicketKey;
use crate::core::switchboard::SwitchboardHub;
use crate::proto::Dialect;
use crate::route::Router;
use crate::server::offline::OfflineState;
use crate::store::Store;

/// Shared server state, one per process.
#[derive(Debug)]
pub struct ServerContext {
    /// The configuration in force (replaced by a reload; take a snapshot
    /// with `config.get()`).
    pub config: LiveConfig,
    /// The store.
    pub store: Store,
    /// How events reach users.
    pub router: Router,
    /// Switchboards and their cookies.
    pub hub: Arc<SwitchboardHub>,
    /// Signs and checks login tickets.
    pub tickets: TicketKey,
    /// `host:port` clients are sent to for switchboards (`XFR SB`, `RNG`).
    pub sb_addr: String,
    /// The shared limiters (connections, logins, rates).
    pub limits: Arc<Limits>,
    /// Message clock and the offline deliveries in progress.
    pub offline: OfflineState,
}

impl ServerContext {
    /// Whether `dialect` is served under the configuration.
    pub fn serves(&self, dialect: Dialect) -> bool {
        let config = self.config.get();
        let p = &config.protocol;
        let v = dialect.version();
        v >= p.min_dialect
            && v <= p.max_dialect
            && (config.auth.md5_dialects || !dialect.uses_md5_auth())
    }
}
