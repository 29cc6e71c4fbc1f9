//! [`LiveConfig`]: the configuration in force in a running server, which a
//! reload (SIGHUP) may replace. Readers take a cheap snapshot (`Arc`) and use
//! it for the rest of what they are doing, so one command or one connection
//! setup never sees half of an old and half of a new configuration.

use std::sync::{Arc, RwLock};

use super::Config;

/// The configuration in force, replaceable as a whole.
#[derive(Debug)]
pub struct LiveConfig(RwLock<Arc<Config>>);

impl LiveConfig {
    /// Starts with `config` in force.
    pub fn new(config: Config) -> LiveConfig {
        LiveConfig(RwLock::new(Arc::new(config)))
    }

    /// A snapshot of the configuration in force now.
    pub fn get(&self) -> Arc<Config> {
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts `config` in force; later [`get`](Self::get)s see it.
    pub fn set(&self, config: Config) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(config);
    }
}
