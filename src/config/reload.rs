//! The reload diff: which keys differ between the configuration in force and
//! the one a reload (SIGHUP) just read, which of them can change in a running
//! server, and the configuration to put in force — the new values of the keys
//! that can change live, the old values of every other key.
//!
//! Keys are compared as dotted paths of the serialized configuration
//! (`limits.max_connections`, `listeners.ns.bind`), so every key of the
//! [`Config`] type is covered without a list to keep in step: a key is live
//! only if [`LIVE_KEYS`] names it, everything else needs a restart and is
//! refused by name.

use std::collections::BTreeMap;

use toml::{Table, Value};

use super::Config;
use super::loader::{ConfigError, validate};

/// Keys a running server applies on reload, as dotted patterns where `*`
/// stands for one whole segment (a listener name or a key of a section).
/// What "applies" means for each is written in `docs/operations.md`: limits
/// and per-connection settings hold for connections accepted afterwards, the
/// shared limiters change at once, the log filter at once, the dialect range
/// for the next `VER`.
pub const LIVE_KEYS: &[&str] = &[
    "limits.*",
    "log.level",
    "protocol.min_dialect",
    "protocol.max_dialect",
    "protocol.challenges",
    "protocol.ping_interval_secs",
    "auth.md5_dialects",
    "offline.max_queued_per_user",
    "offline.history",
    "shutdown.drain_timeout_secs",
    // Read again by the TLS reload hook (new handshakes use them).
    "listeners.*.tls_cert",
    "listeners.*.tls_key",
    "listeners.*.tls_client_ca",
    "listeners.*.tls_client_auth",
    "listeners.*.tls_handshake_timeout_secs",
    // Read by the command line (`msnpd probe`, `kick`, ...), not the server.
    "probe.*",
    "admin.address",
];

/// Keys that [`LIVE_KEYS`] would match but that are fixed at start (the
/// switchboard hub is built with its room size).
const FIXED_KEYS: &[&str] = &["limits.max_switchboard_users"];

/// What a reload will do.
#[derive(Debug, Clone, PartialEq)]
pub struct ReloadPlan {
    /// The configuration to put in force.
    pub config: Config,
    /// Changed keys that take effect, in key order.
    pub applied: Vec<String>,
    /// Changed keys that keep their old value until a restart, in key order.
    pub refused: Vec<String>,
}

impl ReloadPlan {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty() && self.refused.is_empty()
    }
}

/// Whether `key` (a dotted path) can change in a running server.
pub fn is_live(key: &str) -> bool {
    let matches = |pattern: &str| {
        let (keys, pats) = (key.split('.'), pattern.split('.'));
        keys.clone().count() == pats.clone().count()
            && keys.zip(pats).all(|(k, p)| p == "*" || p == k)
    };
    LIVE_KEYS.iter().any(|p| matches(p)) && !FIXED_KEYS.contains(&key)
}

/// Compares `current` with `wanted` (both complete, validated configurations)
/// and builds the configuration to put in force. Fails only if the mix of new
/// live values and old fixed values breaks a rule between keys (e.g.
/// `limits.idle_timeout_secs` against a `protocol.ping_interval_secs` that
/// could not change).
pub fn plan(current: &Config, wanted: &Config) -> Result<ReloadPlan, ConfigError> {
    let old = flatten(current)?;
    let new = flatten(wanted)?;
    let mut applied = Vec::new();
    let mut refused = Vec::new();
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut merged = old.clone();
    // A listener added or removed by the new file needs a restart: none of its
    // keys (not even the live TLS ones) apply.
    let in_both = |key: &str| match key.strip_prefix("listeners.") {
        Some(rest) => rest.split('.').next().is_some_and(|name| {
            current.listeners.contains_key(name) && wanted.listeners.contains_key(name)
        }),
        None => true,
    };
    for key in keys {
        if old.get(key) == new.get(key) {
            continue;
        }
        if is_live(key) && in_both(key) {
            match new.get(key) {
                Some(value) => merged.insert(key.clone(), value.clone()),
                None => merged.remove(key),
            };
            applied.push(key.clone());
        } else {
            refused.push(key.clone());
        }
    }
    let config = if applied.is_empty() {
        current.clone()
    } else {
        let config = unflatten(merged)?;
        validate(&config)?;
        config
    };
    Ok(ReloadPlan {
        config,
        applied,
        refused,
    })
}

/// Every leaf of the serialized configuration by its dotted key (arrays are
/// leaves).
fn flatten(config: &Config) -> Result<BTreeMap<String, Value>, ConfigError> {
    fn walk(prefix: &str, table: &Table, out: &mut BTreeMap<String, Value>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                Value::Table(inner) => walk(&path, inner, out),
                leaf => {
                    out.insert(path, leaf.clone());
                }
            }
        }
    }
    let Ok(Value::Table(table)) = Value::try_from(config) else {
        return Err(ConfigError::Invalid(
            "internal error: the configuration does not serialize as a table".into(),
        ));
    };
    let mut out = BTreeMap::new();
    walk("", &table, &mut out);
    Ok(out)
}

/// The configuration whose leaves are `leaves`.
fn unflatten(leaves: BTreeMap<String, Value>) -> Result<Config, ConfigError> {
    let mut root = Table::new();
    for (key, value) in leaves {
        let mut table = &mut root;
        let mut segments: Vec<&str> = key.split('.').collect();
        let last = segments.pop().unwrap_or_default();
        for segment in segments {
            let entry = table
                .entry(segment.to_owned())
                .or_insert_with(|| Value::Table(Table::new()));
            table = match entry {
                Value::Table(inner) => inner,
                _ => {
                    return Err(ConfigError::Invalid(format!(
                        "internal error: `{key}` is below a value"
                    )));
                }
            };
        }
        table.insert(last.to_owned(), value);
    }
    Value::Table(root)
        .try_into()
        .map_err(|e| ConfigError::Invalid(format!("internal error rebuilding the config: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ListenerConfig;

    #[test]
    fn live_keys() {
        assert!(is_live("limits.max_connections"));
        assert!(is_live("log.level"));
        assert!(is_live("protocol.max_dialect"));
        assert!(!is_live("limits.max_switchboard_users"));
        assert!(!is_live("log.format"));
        assert!(!is_live("listeners.ns.bind"));
        assert!(!is_live("store.url"));
        assert!(!is_live("limits"));
        assert!(!is_live("logx.level"));
    }

    #[test]
    fn nothing_changed() {
        let config = Config::default();
        let plan = plan(&config, &config.clone()).unwrap();
        assert!(plan.is_empty());
        assert_eq!(plan.config, config);
    }

    #[test]
    fn live_keys_apply_and_fixed_keys_keep_their_old_value() {
        let current = Config::default();
        let mut wanted = current.clone();
        wanted.limits.max_connections = 7;
        wanted.log.level = "debug".into();
        wanted.store.url = "sqlite://./other.sqlite".into();
        wanted.limits.max_switchboard_users = 3;
        wanted.listeners.get_mut("ns").unwrap().bind = "127.0.0.1:9".into();
        wanted.listeners.insert(
            "extra".into(),
            ListenerConfig {
                role: crate::config::Role::Switchboard,
                bind: "127.0.0.1:0".into(),
                ..current.listeners["sb"].clone()
            },
        );
        let plan = plan(&current, &wanted).unwrap();
        assert_eq!(plan.applied, ["limits.max_connections", "log.level"]);
        assert_eq!(
            plan.refused,
            [
                "limits.max_switchboard_users",
                "listeners.extra.bind",
                "listeners.extra.enabled",
                "listeners.extra.role",
                "listeners.extra.tls",
                "listeners.extra.tls_client_auth",
                "listeners.extra.tls_handshake_timeout_secs",
                "listeners.ns.bind",
                "store.url",
            ]
        );
        let mut expected = current.clone();
        expected.limits.max_connections = 7;
        expected.log.level = "debug".into();
        assert_eq!(plan.config, expected);
    }

    #[test]
    fn a_mix_that_breaks_a_rule_between_keys_is_an_error() {
        let current = Config::default();
        let mut wanted = current.clone();
        // idle timeout lowered below the ping interval: the new file is
        // consistent only with a ping interval that is also lowered...
        wanted.limits.idle_timeout_secs = 20;
        wanted.protocol.ping_interval_secs = 10;
        assert!(plan(&current, &wanted).is_ok());
        // ...and with a fixed key in the way, the mix is refused.
        let mut current = current;
        current.protocol.ping_interval_secs = 60;
        let mut wanted = current.clone();
        wanted.limits.idle_timeout_secs = 30;
        assert!(validate(&wanted).is_err());
        assert!(plan(&current, &wanted).is_err());
    }
}
