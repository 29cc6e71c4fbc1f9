//! Every key of the configuration, walked from the shape of [`Config`](super::Config)
//! that the loader checks files against. Documentation checks use it: the
//! shipped `systemd/msnpd.toml` and the `msnpd.toml(5)` manual page must name
//! every key listed here.

use super::loader::{ConfigError, Schema};

/// One configuration key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConfigKey {
    /// A key of a section with fixed keys: `[section] key` (`store.url`).
    Fixed {
        /// The section, e.g. `store`.
        section: String,
        /// The key inside it, e.g. `url`.
        key: String,
    },
    /// A key that every named table of a section has:
    /// `[section.NAME] key` (`listeners.NAME.bind`).
    PerName {
        /// The section, e.g. `listeners`.
        section: String,
        /// The key of each named table, e.g. `bind`.
        key: String,
    },
}

impl ConfigKey {
    /// The section the key belongs to.
    pub fn section(&self) -> &str {
        match self {
            ConfigKey::Fixed { section, .. } | ConfigKey::PerName { section, .. } => section,
        }
    }

    /// The key's own name inside its section (or named table).
    pub fn key(&self) -> &str {
        match self {
            ConfigKey::Fixed { key, .. } | ConfigKey::PerName { key, .. } => key,
        }
    }
}

impl std::fmt::Display for ConfigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigKey::Fixed { section, key } => write!(f, "{section}.{key}"),
            ConfigKey::PerName { section, key } => write!(f, "{section}.NAME.{key}"),
        }
    }
}

/// Every key of the configuration, sorted by section and key.
pub fn all() -> Result<Vec<ConfigKey>, ConfigError> {
    let schema = Schema::of_config()?;
    let Schema::Table(sections) = &schema else {
        return Err(ConfigError::Invalid(
            "internal error: the configuration is not a table".into(),
        ));
    };
    let mut keys = Vec::new();
    for (section, shape) in sections {
        match shape {
            Schema::Table(fields) => keys.extend(fields.keys().map(|key| ConfigKey::Fixed {
                section: section.clone(),
                key: key.clone(),
            })),
            Schema::Map(template) => {
                if let Schema::Table(fields) = &**template {
                    keys.extend(fields.keys().map(|key| ConfigKey::PerName {
                        section: section.clone(),
                        key: key.clone(),
                    }));
                }
            }
            Schema::Leaf { .. } => {
                return Err(ConfigError::Invalid(format!(
                    "internal error: top-level configuration value `{section}`"
                )));
            }
        }
    }
    Ok(keys)
}
