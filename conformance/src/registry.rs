//! The verb registry (TOML, e.g. msnpd's `protocol-spec/registry.toml`): for
//! each verb, the roles that use it, the dialect range that has it, whether it
//! carries a transaction id or a payload, and whether clients send it. The
//! coverage report reads it to know which verb × dialect pairs need a case.
//!
//! ```toml
//! [verbs.ADD]
//! roles = ["ns"]
//! since = 2
//! until = 9        # optional: without it, the newest dialect the registry names
//! trid = true
//! payload = false
//! client = true    # false for verbs only the server sends (ILN, NLN, RNG, JOI)
//! ```
//!
//! Keys this crate does not know are ignored, so the registry can grow.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::case::verbs::is_verb;
use crate::dialect::{Dialect, DialectSet};

/// A registry could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The TOML is malformed or lacks a key.
    #[error("registry: {0}")]
    Toml(#[from] toml::de::Error),
    /// A value is out of range.
    #[error("registry: verb {verb}: {message}")]
    Invalid {
        /// The verb.
        verb: String,
        /// What is wrong.
        message: String,
    },
    /// The registry has no verbs.
    #[error("registry: no [verbs.*] entries")]
    Empty,
}

/// One verb's entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VerbSpec {
    /// Where the verb is used (`ds`/`dispatch`, `ns`, `sb`); informational.
    pub roles: Vec<String>,
    /// First dialect number that has the verb.
    pub since: u8,
    /// Last dialect number that has it; `None`: up to the registry's newest.
    #[serde(default)]
    pub until: Option<u8>,
    /// Its lines carry a transaction id.
    #[serde(default)]
    pub trid: bool,
    /// A length-prefixed payload follows its line.
    #[serde(default)]
    pub payload: bool,
    /// Clients send it (`false`: only the server does).
    pub client: bool,
}

/// A parsed registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// Verb → entry, sorted by verb.
    pub verbs: BTreeMap<String, VerbSpec>,
}

#[derive(Deserialize)]
struct RegistryFile {
    #[serde(default)]
    verbs: BTreeMap<String, VerbSpec>,
}

impl Registry {
    /// Parses and checks registry text.
    pub fn from_toml(text: &str) -> Result<Registry, RegistryError> {
        let file: RegistryFile = toml::from_str(text)?;
        if file.verbs.is_empty() {
            return Err(RegistryError::Empty);
        }
        for (verb, spec) in &file.verbs {
            let invalid = |message: String| {
                Err(RegistryError::Invalid {
                    verb: verb.clone(),
                    message,
                })
            };
            if !is_verb(verb) {
                return invalid("a verb is three capital letters or digits".to_string());
            }
            if Dialect::new(spec.since).is_none() {
                return invalid(format!("since = {} is not a dialect number", spec.since));
            }
            if let Some(until) = spec.until {
                if Dialect::new(until).is_none() {
                    return invalid(format!("until = {until} is not a dialect number"));
                }
                if until < spec.since {
                    return invalid(format!("until = {until} is before since = {}", spec.since));
                }
            }
        }
        Ok(Registry { verbs: file.verbs })
    }

    /// Reads and checks a registry file.
    pub fn load(path: &Path) -> Result<Registry, RegistryError> {
        let text = std::fs::read_to_string(path).map_err(|source| RegistryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Registry::from_toml(&text)
    }

    /// The newest dialect number the registry names (largest `since` or
    /// `until`): where open-ended entries stop.
    fn newest(&self) -> u8 {
        self.verbs
            .values()
            .map(|s| s.until.unwrap_or(s.since))
            .max()
            .unwrap_or(0)
    }

    /// The dialects the registry spans: from the oldest `since` to the newest
    /// dialect it names.
    pub fn span(&self) -> DialectSet {
        let oldest = self.verbs.values().map(|s| s.since).min().unwrap_or(0);
        let dialects: Vec<Dialect> = (oldest..=self.newest()).filter_map(Dialect::new).collect();
        DialectSet::of(&dialects)
    }

    /// Whether `verb` exists in `dialect`.
    pub fn has(&self, verb: &str, dialect: Dialect) -> bool {
        self.verbs.get(verb).is_some_and(|s| {
            let until = s.until.unwrap_or(self.newest());
            (s.since..=until).contains(&dialect.version())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
        # comment
        [verbs.ADD]
        roles = ["ns"]
        since = 2
        until = 9
        trid = true
        payload = false
        client = true

        [verbs.UUX]
        roles = ["ns"]
        since = 11
        trid = true
        payload = true
        client = true
        notes = "unknown keys are ignored"

        [verbs.ILN]
        roles = ["ns"]
        since = 2
        until = 12
        trid = true
        payload = false
        client = false
    "#;

    #[test]
    fn reads_entries_and_ranges() {
        let r = Registry::from_toml(SAMPLE).unwrap();
        assert_eq!(r.verbs.len(), 3);
        let add = &r.verbs["ADD"];
        assert_eq!((add.since, add.until, add.client), (2, Some(9), true));
        assert!(r.verbs["UUX"].payload);
        assert!(!r.verbs["ILN"].client);
        assert_eq!(r.span().to_string(), "MSNP2-12");
        let d = |v| Dialect::new(v).unwrap();
        assert!(r.has("ADD", d(9)) && !r.has("ADD", d(10)));
        assert!(r.has("UUX", d(12)) && !r.has("UUX", d(10)) && !r.has("UUX", d(13)));
        assert!(!r.has("XYZ", d(8)));
    }

    #[test]
    fn rejects_bad_entries() {
        let entry = |name: &str, range: &str| {
            format!(
                "[verbs.{name}]\nroles=['ns']\n{range}\ntrid=true\npayload=false\nclient=true\n"
            )
        };
        assert!(Registry::from_toml(&entry("ADD", "since=2\nuntil=9")).is_ok());
        for bad in [
            entry("ADD", "since=1"),
            entry("ADD", "since=9\nuntil=2"),
            entry("ADD", "since=2\nuntil=99"),
            entry("add", "since=2"),
            entry("ADD", "until=9"),
            "[verbs.ADD]\nroles=['ns']\nsince=2\n".to_string(),
            "".to_string(),
        ] {
            assert!(Registry::from_toml(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loads_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.toml");
        std::fs::write(&path, SAMPLE).unwrap();
        assert_eq!(Registry::load(&path).unwrap().verbs.len(), 3);
        assert!(matches!(
            Registry::load(&dir.path().join("none.toml")),
            Err(RegistryError::Io { .. })
        ));
    }
}
