//! The manifest of a server under test (TOML): where it listens, what it
//! claims (dialects, roles, features), and how the runner gets accounts.
//! `conformance/manifests/msnpd.toml` is a documented example.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::case::Role;
use crate::dialect::DialectSet;

/// A manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("manifest: {0}")]
    Toml(#[from] toml::de::Error),
    /// The values do not make sense together.
    #[error("manifest: {0}")]
    Invalid(String),
}

/// Everything the runner knows about a server under test.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// A name for reports.
    pub name: String,
    /// Host (name or address) of the server.
    pub host: String,
    /// Its ports.
    pub ports: Ports,
    /// Passport nexus URL, e.g. `http://127.0.0.1:1865/rdr/pprdr.asp`.
    pub nexus: String,
    /// Dialects the server claims, e.g. `["MSNP8"]` or `["MSNP8-12"]`.
    #[serde(deserialize_with = "dialect_list")]
    pub dialects: DialectSet,
    /// Roles the server claims. Default `["ns", "sb"]`.
    #[serde(default = "default_roles")]
    pub roles: Vec<Role>,
    /// Optional behaviours the server claims, e.g. `challenges`, `dispatch`.
    #[serde(default)]
    pub features: Vec<String>,
    /// How long to wait for each expected line, in milliseconds. Default 5000.
    #[serde(default = "default_line_timeout_ms")]
    pub line_timeout_ms: u64,
    /// How accounts are made.
    pub provision: Provision,
}

/// `[ports]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ports {
    /// Notification server port.
    pub ns: u16,
    /// Dispatch server port, if the server has one.
    #[serde(default)]
    pub dispatch: Option<u16>,
}

/// `[provision]`: either `command` (run once per fresh account) or a fixed
/// list of `accounts`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provision {
    /// Domain of generated accounts. Default `conform.test`.
    #[serde(default = "default_domain")]
    pub domain: String,
    /// Program and arguments; `{email}`, `{password}` and `{nick}` are
    /// replaced in each argument. Must exit 0.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Extra environment for `command`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Existing accounts, used in order by each case (they are reused, so
    /// cases that change contact lists may see each other's leftovers).
    #[serde(default)]
    pub accounts: Vec<FixedAccount>,
}

/// One existing account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedAccount {
    /// Its email (passport name).
    pub email: String,
    /// Its password.
    pub password: String,
    /// Its friendly name, if known.
    #[serde(default)]
    pub nick: Option<String>,
}

fn default_roles() -> Vec<Role> {
    vec![Role::Ns, Role::Sb]
}

fn default_line_timeout_ms() -> u64 {
    5000
}

fn default_domain() -> String {
    "conform.test".to_string()
}

fn dialect_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DialectSet, D::Error> {
    let items = Vec::<String>::deserialize(deserializer)?;
    items.join(" ").parse().map_err(serde::de::Error::custom)
}

impl Manifest {
    /// Parses and checks a manifest.
    pub fn from_toml(text: &str) -> Result<Manifest, ManifestError> {
        let manifest: Manifest = toml::from_str(text)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Reads, parses and checks a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Manifest::from_toml(&text)
    }

    /// Checks the values that TOML types cannot.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let invalid = |m: &str| Err(ManifestError::Invalid(m.to_string()));
        match (&self.provision.command, self.provision.accounts.is_empty()) {
            (Some(_), false) => {
                return invalid("give provision.command or provision.accounts, not both");
            }
            (None, true) => return invalid("give provision.command or provision.accounts"),
            (Some(c), _) if c.is_empty() => return invalid("provision.command is empty"),
            _ => {}
        }
        if self.line_timeout_ms == 0 {
            return invalid("line_timeout_ms must be positive");
        }
        if self.host.is_empty() {
            return invalid("host is empty");
        }
        if self.roles.contains(&Role::Dispatch) && self.ports.dispatch.is_none() {
            return invalid("role `dispatch` needs ports.dispatch");
        }
        Ok(())
    }

    /// `host:port` of the notification server.
    pub fn ns_addr(&self) -> String {
        format!("{}:{}", self.host, self.ports.ns)
    }

    /// `host:port` of the dispatch server, if any.
    pub fn dispatch_addr(&self) -> Option<String> {
        self.ports.dispatch.map(|p| format!("{}:{p}", self.host))
    }

    /// The per-line timeout.
    pub fn line_timeout(&self) -> Duration {
        Duration::from_millis(self.line_timeout_ms)
    }

    /// Whether the manifest claims `feature`.
    pub fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;

    #[test]
    fn reads_the_shipped_example() {
        let text = include_str!("../manifests/msnpd.toml");
        let m = Manifest::from_toml(text).unwrap();
        assert_eq!(m.ns_addr(), "127.0.0.1:1863");
        assert!(m.dialects.contains(Dialect::MSNP8));
        assert_eq!(m.roles, vec![Role::Ns, Role::Sb]);
        assert!(m.provision.command.is_some());
        assert_eq!(m.line_timeout(), Duration::from_secs(5));
    }

    #[test]
    fn reads_fixed_accounts() {
        let m = Manifest::from_toml(
            r#"
            name = "other"
            host = "localhost"
            nexus = "http://localhost/rdr/pprdr.asp"
            dialects = ["MSNP8-9", "MSNP11"]
            features = ["challenges"]
            line_timeout_ms = 100
            [ports]
            ns = 1863
            [[provision.accounts]]
            email = "a@x.test"
            password = "pw"
            nick = "A"
            "#,
        )
        .unwrap();
        assert_eq!(m.dialects.to_string(), "MSNP8-9 MSNP11");
        assert!(m.has_feature("challenges"));
        assert_eq!(m.provision.accounts.len(), 1);
        assert_eq!(m.provision.domain, "conform.test");
        assert_eq!(m.dispatch_addr(), None);
    }

    #[test]
    fn rejects_bad_manifests() {
        let base = "name='x'\nhost='h'\nnexus='http://h/'\ndialects=['MSNP8']\n[ports]\nns=1\n";
        assert!(Manifest::from_toml(base).is_err()); // no provision
        let both = format!(
            "{base}[provision]\ncommand=['x']\n[[provision.accounts]]\nemail='a'\npassword='b'\n"
        );
        assert!(Manifest::from_toml(&both).is_err());
        let empty = format!("{base}[provision]\ncommand=[]\n");
        assert!(Manifest::from_toml(&empty).is_err());
        let unknown = format!("{base}[provision]\ncommand=['x']\nfoo=1\n");
        assert!(Manifest::from_toml(&unknown).is_err());
        let dialect = base.replace("MSNP8", "MSNP99");
        assert!(Manifest::from_toml(&format!("{dialect}[provision]\ncommand=['x']\n")).is_err());
        let ok = format!("{base}[provision]\ncommand=['x']\n");
        assert!(Manifest::from_toml(&ok).is_ok());
    }
}
