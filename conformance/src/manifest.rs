//! The manifest of a server under test (TOML): where it listens, what it
//! claims (dialects, roles, features), how clients log in (`[auth]`), and how
//! the runner gets accounts (`[provision]`). Every key is documented in
//! `conformance/README.md`; `conformance/manifests/` has examples.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::case::Role;
use crate::client::http::Url;
use crate::dialect::{Dialect, DialectSet};

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
    /// How clients log in.
    #[serde(default)]
    pub auth: Auth,
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

/// A login method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// `USR TWN` with a Passport 1.4 ticket (MSNP8–MSNP12).
    Ticket,
    /// `USR MD5` with the server's salt (MSNP2–MSNP7).
    Md5,
}

impl AuthMethod {
    /// The method clients of `dialect` log in with.
    pub fn for_dialect(dialect: Dialect) -> AuthMethod {
        if dialect.version() <= 7 {
            AuthMethod::Md5
        } else {
            AuthMethod::Ticket
        }
    }
}

impl std::fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthMethod::Ticket => "ticket",
            AuthMethod::Md5 => "md5",
        })
    }
}

/// `[auth]`: the login methods the server offers and, for tickets, where the
/// Passport 1.4 login server is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// Methods claimed; empty: the ones the claimed dialects need
    /// (`md5` for MSNP2–7, `ticket` for MSNP8+).
    #[serde(default)]
    pub methods: Vec<AuthMethod>,
    /// Passport 1.4 nexus URL (`http://` only), e.g.
    /// `http://127.0.0.1:1865/rdr/pprdr.asp`; its `PassportURLs` header names
    /// the login URL.
    #[serde(default)]
    pub nexus: Option<String>,
    /// Instead of `nexus`: the Passport 1.4 login URL itself, for servers
    /// without a nexus.
    #[serde(default)]
    pub login_url: Option<String>,
}

impl Auth {
    /// Ticket login through the nexus at `nexus`.
    pub fn ticket(nexus: impl Into<String>) -> Auth {
        Auth {
            methods: vec![AuthMethod::Ticket],
            nexus: Some(nexus.into()),
            login_url: None,
        }
    }
}

/// Where the runner gets Passport 1.4 tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassportEndpoint<'a> {
    /// Ask this nexus for the login URL first.
    Nexus(&'a str),
    /// Use this login URL directly.
    LoginUrl(&'a str),
}

impl std::fmt::Display for PassportEndpoint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PassportEndpoint::Nexus(url) => write!(f, "nexus {url}"),
            PassportEndpoint::LoginUrl(url) => write!(f, "login URL {url}"),
        }
    }
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
        if self.ports.ns == 0 || self.ports.dispatch == Some(0) {
            return invalid("port 0 is not a port a server listens on");
        }
        for account in &self.provision.accounts {
            if !account.email.contains('@') {
                return Err(ManifestError::Invalid(format!(
                    "provision.accounts: `{}` is not an email address",
                    account.email
                )));
            }
        }
        self.validate_auth()
    }

    fn validate_auth(&self) -> Result<(), ManifestError> {
        let invalid = |m: String| Err(ManifestError::Invalid(m));
        let methods = self.auth_methods();
        for method in [AuthMethod::Md5, AuthMethod::Ticket] {
            let needing: Vec<Dialect> = self
                .dialects
                .dialects()
                .into_iter()
                .filter(|d| AuthMethod::for_dialect(*d) == method)
                .collect();
            if !needing.is_empty() && !methods.contains(&method) {
                return invalid(format!(
                    "the claimed dialects {} log in with `{method}`, which auth.methods does not list",
                    DialectSet::of(&needing)
                ));
            }
        }
        match (&self.auth.nexus, &self.auth.login_url) {
            (Some(_), Some(_)) => {
                return invalid("give auth.nexus or auth.login_url, not both".into());
            }
            (None, None) if methods.contains(&AuthMethod::Ticket) => {
                return invalid(
                    "ticket login needs auth.nexus (or auth.login_url) for Passport 1.4".into(),
                );
            }
            _ => {}
        }
        for (key, url) in [
            ("auth.nexus", &self.auth.nexus),
            ("auth.login_url", &self.auth.login_url),
        ] {
            let Some(url) = url else { continue };
            if url.starts_with("https://") {
                return invalid(format!(
                    "{key} `{url}`: the runner speaks plain HTTP only (use an http:// URL)"
                ));
            }
            if let Err(e) = Url::parse(url) {
                return invalid(format!("{key} `{url}`: {e}"));
            }
        }
        Ok(())
    }

    /// The login methods claimed: `auth.methods`, or when it is empty, the
    /// ones the claimed dialects need.
    pub fn auth_methods(&self) -> Vec<AuthMethod> {
        if !self.auth.methods.is_empty() {
            return self.auth.methods.clone();
        }
        let mut methods: Vec<AuthMethod> = self
            .dialects
            .dialects()
            .into_iter()
            .map(AuthMethod::for_dialect)
            .collect();
        methods.sort();
        methods.dedup();
        methods
    }

    /// Where Passport 1.4 tickets come from, if the manifest says.
    pub fn passport_endpoint(&self) -> Option<PassportEndpoint<'_>> {
        match (&self.auth.login_url, &self.auth.nexus) {
            (Some(url), _) => Some(PassportEndpoint::LoginUrl(url)),
            (None, Some(url)) => Some(PassportEndpoint::Nexus(url)),
            (None, None) => None,
        }
    }

    /// A summary of what the manifest says, one item per line, for
    /// `msnp-conform check-manifest`.
    pub fn describe(&self) -> String {
        let list = |items: Vec<String>| {
            if items.is_empty() {
                "(none)".to_string()
            } else {
                items.join(" ")
            }
        };
        let methods: Vec<String> = self.auth_methods().iter().map(|m| m.to_string()).collect();
        let passport = match self.passport_endpoint() {
            Some(endpoint) => format!(", Passport 1.4 {endpoint}"),
            None => String::new(),
        };
        let accounts = match &self.provision.command {
            Some(command) => format!(
                "a fresh account per label, made by `{}` (domain {})",
                command.join(" "),
                self.provision.domain
            ),
            None => format!(
                "{} fixed account(s): {}",
                self.provision.accounts.len(),
                list(
                    self.provision
                        .accounts
                        .iter()
                        .map(|a| a.email.clone())
                        .collect()
                )
            ),
        };
        let dispatch = self
            .ports
            .dispatch
            .map_or_else(|| "none".to_string(), |p| p.to_string());
        format!(
            "name:         {}\n\
             server:       {} (notification port {}, dispatch port {dispatch})\n\
             dialects:     {}\n\
             roles:        {}\n\
             features:     {}\n\
             auth:         {}{passport}\n\
             accounts:     {accounts}\n\
             line timeout: {} ms\n",
            self.name,
            self.host,
            self.ports.ns,
            self.dialects,
            list(self.roles.iter().map(|r| r.to_string()).collect()),
            list(self.features.clone()),
            methods.join(" "),
            self.line_timeout_ms,
        )
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

    #[test]
    fn reads_the_shipped_example() {
        let text = include_str!("../manifests/msnpd.toml");
        let m = Manifest::from_toml(text).unwrap();
        assert_eq!(m.ns_addr(), "127.0.0.1:1863");
        assert_eq!(m.dialects.to_string(), "MSNP2-12");
        assert_eq!(m.auth_methods(), vec![AuthMethod::Md5, AuthMethod::Ticket]);
        assert_eq!(m.roles, vec![Role::Ns, Role::Sb]);
        assert!(m.provision.command.is_some());
        assert_eq!(m.line_timeout(), Duration::from_secs(5));
        let text = m.describe();
        assert!(
            text.contains("server:       127.0.0.1 (notification port 1863, dispatch port none)"),
            "{text}"
        );
        assert!(
            text.contains(
                "auth:         md5 ticket, Passport 1.4 nexus http://127.0.0.1:1865/rdr/pprdr.asp"
            ),
            "{text}"
        );
        assert!(text.contains("features:     (none)"), "{text}");
    }

    #[test]
    fn reads_fixed_accounts() {
        let m = Manifest::from_toml(
            r#"
            name = "other"
            host = "localhost"
            dialects = ["MSNP8-9", "MSNP11"]
            features = ["challenges"]
            line_timeout_ms = 100
            [ports]
            ns = 1863
            [auth]
            nexus = "http://localhost/rdr/pprdr.asp"
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
        assert_eq!(m.auth_methods(), vec![AuthMethod::Ticket]);
        assert_eq!(
            m.passport_endpoint(),
            Some(PassportEndpoint::Nexus("http://localhost/rdr/pprdr.asp"))
        );
    }

    #[test]
    fn reads_every_shipped_manifest() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests");
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                Manifest::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                count += 1;
            }
        }
        assert!(count >= 2);
    }

    #[test]
    fn checks_auth_against_dialects() {
        let base = "name='x'\nhost='h'\n[ports]\nns=1\n[provision]\ncommand=['x']\n";
        let with = |dialects: &str, auth: &str| {
            Manifest::from_toml(&format!("dialects=[{dialects}]\n{base}[auth]\n{auth}\n"))
        };
        // MD5 dialects need no Passport endpoint; methods default from dialects.
        let m = with("'MSNP2-7'", "").unwrap();
        assert_eq!(m.auth_methods(), vec![AuthMethod::Md5]);
        assert_eq!(m.passport_endpoint(), None);
        let m = with("'MSNP5-8'", "login_url='http://h/login2.srf'").unwrap();
        assert_eq!(m.auth_methods(), vec![AuthMethod::Ticket, AuthMethod::Md5]);
        assert_eq!(
            m.passport_endpoint(),
            Some(PassportEndpoint::LoginUrl("http://h/login2.srf"))
        );
        // Ticket dialects need a nexus or login URL, one of them, plain HTTP.
        assert!(with("'MSNP8'", "").is_err());
        assert!(with("'MSNP8'", "nexus='http://h/'\nlogin_url='http://h/l'").is_err());
        assert!(with("'MSNP8'", "nexus='https://h/'").is_err());
        assert!(with("'MSNP8'", "nexus='ftp://h/'").is_err());
        // Explicit methods must cover the claimed dialects.
        assert!(with("'MSNP7-8'", "methods=['ticket']\nnexus='http://h/'").is_err());
        assert!(with("'MSNP8'", "methods=['md5']\nnexus='http://h/'").is_err());
        assert!(with("'MSNP8'", "methods=['sso']\nnexus='http://h/'").is_err());
        assert!(with("'MSNP8'", "methods=['ticket']\nnexus='http://h/'\nx=1").is_err());
        assert!(with("'MSNP8'", "methods=['ticket', 'md5']\nnexus='http://h/'").is_ok());
    }

    #[test]
    fn rejects_bad_manifests() {
        let base =
            "name='x'\nhost='h'\ndialects=['MSNP8']\n[auth]\nnexus='http://h/'\n[ports]\nns=1\n";
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
        let port0 = base.replace("ns=1", "ns=0");
        assert!(Manifest::from_toml(&format!("{port0}[provision]\ncommand=['x']\n")).is_err());
        let bad_email = format!("{base}[[provision.accounts]]\nemail='a'\npassword='b'\n");
        assert!(Manifest::from_toml(&bad_email).is_err());
        let dispatch = base.replace("dialects", "roles=['ns','dispatch']\ndialects");
        assert!(Manifest::from_toml(&format!("{dispatch}[provision]\ncommand=['x']\n")).is_err());
        let ok = format!("{base}[provision]\ncommand=['x']\n");
        assert!(Manifest::from_toml(&ok).is_ok());
    }
}
