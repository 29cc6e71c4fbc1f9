//! Reloading a running server (SIGHUP): read the configuration again the way
//! it was read at start (file, `MSNPD__*` env, `-O`), work out with
//! [`crate::config::reload::plan`] which changed keys can apply live, put them in
//! force (the live configuration, the shared limiters) and run the reload
//! hooks (the log filter; TLS certificates plug in the same way). A file
//! that no longer reads or validates changes nothing: the old configuration
//! stays in force.
//!
//! [`Reloader::reload`] returns a [`ReloadReport`] and logs one line per
//! refused key, so an operator sees exactly what did not change.

use std::sync::Arc;

use crate::config::reload::{self as plan, ReloadPlan};
use crate::config::{Config, LiveConfig, loader::ConfigError};
use crate::server::limits::Limits;

/// Reads the configuration again, as at start.
pub type LoadConfig = Box<dyn Fn() -> Result<Config, ConfigError> + Send + Sync>;

/// Something a reload updates beyond the configuration snapshot and the
/// limiters: the log filter, TLS certificates, ...
pub trait ReloadHook: Send + Sync {
    /// What it reloads, for the log (`log filter`, `tls`).
    fn name(&self) -> &str;
    /// Called on every reload that read a valid configuration, after
    /// `config` was put in force (also when no key changed, so files such as
    /// certificates are read again). An error is logged and reported; the
    /// hook keeps what it had.
    fn apply(&self, config: &Config) -> Result<(), String>;
}

/// What one reload did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReloadReport {
    /// The configuration could not be read or validated (nothing changed).
    pub error: Option<String>,
    /// Changed keys now in force.
    pub applied: Vec<String>,
    /// Changed keys that need a restart (old value kept).
    pub refused: Vec<String>,
    /// Hooks that failed, with their error.
    pub hook_errors: Vec<(String, String)>,
}

impl ReloadReport {
    /// A one-line summary (for `systemctl status` and the log).
    pub fn summary(&self) -> String {
        match &self.error {
            Some(error) => format!("reload failed, old configuration kept: {error}"),
            None => format!(
                "reloaded: {} key(s) applied, {} refused, {} hook error(s)",
                self.applied.len(),
                self.refused.len(),
                self.hook_errors.len()
            ),
        }
    }
}

/// Reloads a running server.
pub struct Reloader {
    load: LoadConfig,
    hooks: Vec<Arc<dyn ReloadHook>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hooks: Vec<&str> = self.hooks.iter().map(|h| h.name()).collect();
        f.debug_struct("Reloader").field("hooks", &hooks).finish()
    }
}

impl Reloader {
    /// A reloader reading the configuration with `load`.
    pub fn new(load: LoadConfig) -> Reloader {
        Reloader {
            load,
            hooks: Vec::new(),
        }
    }

    /// Adds a hook run on every reload, in the order added.
    pub fn with_hook(mut self, hook: Arc<dyn ReloadHook>) -> Reloader {
        self.hooks.push(hook);
        self
    }

    /// Reads the configuration and puts what can change live in force.
    /// Blocking (it reads files): run it off the async workers.
    pub fn reload(&self, live: &LiveConfig, limits: &Limits) -> ReloadReport {
        let mut report = ReloadReport::default();
        let current = live.get();
        let plan = match (self.load)().and_then(|wanted| plan::plan(&current, &wanted)) {
            Ok(plan) => plan,
            Err(error) => {
                let error = error.to_string().replace('\n', "; ");
                tracing::error!(%error, "reload: bad configuration; keeping the old one");
                report.error = Some(error);
                return report;
            }
        };
        let ReloadPlan {
            config,
            applied,
            refused,
        } = plan;
        for key in &refused {
            tracing::warn!(
                key = %key,
                "reload: `{key}` cannot change while running; keeping the old value until a restart"
            );
        }
        if !applied.is_empty() {
            limits.reconfigure(&config.limits);
            live.set(config.clone());
            tracing::info!(keys = ?applied, "reload: applied");
        }
        for hook in &self.hooks {
            if let Err(error) = hook.apply(&config) {
                tracing::error!(hook = hook.name(), %error, "reload: hook failed");
                report.hook_errors.push((hook.name().to_owned(), error));
            }
        }
        report.applied = applied;
        report.refused = refused;
        report
    }
}
