//! Building a [`Config`](super::Config): defaults, then the TOML file, then env
//! `MSNPD__SECTION__KEY`, then `-O section.key=value`; unknown keys and bad values
//! are rejected with an error naming the key.

use std::path::Path;

use super::Config;

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A key or value is wrong; the message names the key.
    #[error("{0}")]
    Invalid(String),
}

/// Builds the configuration from an optional file, the process environment
/// (`MSNPD__*` variables) and `-O key=value` overrides.
pub fn load(
    file: Option<&Path>,
    env: &[(String, String)],
    overrides: &[String],
) -> Result<Config, ConfigError> {
    let _ = (file, env, overrides);
    todo!("config loader")
}
