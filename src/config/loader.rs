//! Building a [`Config`]: defaults, then the TOML file, then env
//! `MSNPD__SECTION__KEY`, then `-O section.key=value`; unknown keys and bad values
//! are rejected with an error naming the key.
//!
//! Every source is turned into a TOML table, checked against the shape of the
//! [`Config`] type (so an unknown key is reported with its full dotted name and
//! where it came from), deep-merged over the previous ones, deserialized (type
//! errors name the key through `serde_path_to_error`) and finally validated
//! ([`validate`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;

use toml::{Table, Value};

use super::{ClientAuth, Config, ListenerConfig, Role, TlsMode};

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

/// Longest group-commit window accepted, in microseconds.
const MAX_COMMIT_WINDOW_US: u64 = 1_000_000;

/// Prefix of the environment variables that set configuration keys.
pub const ENV_PREFIX: &str = "MSNPD__";

/// Builds the configuration from an optional file, the process environment
/// (`MSNPD__*` variables) and `-O key=value` overrides.
///
/// Env names map to keys by dropping `MSNPD__`, splitting at `__` and lower-casing
/// (`MSNPD__LISTENERS__NS__BIND` → `listeners.ns.bind`); variables without the
/// prefix are ignored. Env and `-O` values are read as TOML values when they parse
/// as one (`8`, `true`, `{ role = "switchboard", bind = "127.0.0.1:0" }`) and as
/// plain strings otherwise; keys whose type is a string always take the raw text.
pub fn load(
    file: Option<&Path>,
    env: &[(String, String)],
    overrides: &[String],
) -> Result<Config, ConfigError> {
    let schema = Schema::of_config()?;
    let mut tree = match Value::try_from(Config::default()) {
        Ok(Value::Table(table)) => table,
        Ok(_) | Err(_) => return Err(internal("the defaults do not serialize as a table")),
    };
    let mut origins = Origins::default();

    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let table: Table = text
            .parse()
            .map_err(|e| ConfigError::Invalid(format!("cannot parse {}: {e}", path.display())))?;
        let origin = format!("in {}", path.display());
        add_source(&schema, &mut tree, &mut origins, table, &origin)?;
    }

    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let origin = format!("from {name}");
        let segments: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if segments.iter().any(String::is_empty) {
            return Err(ConfigError::Invalid(format!(
                "bad environment variable {name}: expected {ENV_PREFIX}SECTION__KEY"
            )));
        }
        let fragment = fragment(&segments, coerce(&schema, &segments, raw));
        add_source(&schema, &mut tree, &mut origins, fragment, &origin)?;
    }

    for item in overrides {
        let origin = format!("from -O {item}");
        let Some((key, raw)) = item.split_once('=') else {
            return Err(ConfigError::Invalid(format!(
                "bad override `{item}`: expected -O section.key=value"
            )));
        };
        let segments: Vec<String> = key.trim().split('.').map(str::to_owned).collect();
        if segments.iter().any(String::is_empty) {
            return Err(ConfigError::Invalid(format!(
                "bad override `{item}`: expected -O section.key=value"
            )));
        }
        let fragment = fragment(&segments, coerce(&schema, &segments, raw));
        add_source(&schema, &mut tree, &mut origins, fragment, &origin)?;
    }

    let config: Config = serde_path_to_error::deserialize(Value::Table(tree)).map_err(|e| {
        let key = e.path().to_string();
        ConfigError::Invalid(format!(
            "invalid value for `{key}`{}: {}",
            origins.describe(&key),
            e.inner().message()
        ))
    })?;
    validate(&config)?;
    Ok(config)
}

/// [`load`] with the environment of this process.
pub fn load_from_process(file: Option<&Path>, overrides: &[String]) -> Result<Config, ConfigError> {
    let mut env = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(ENV_PREFIX) {
            continue;
        }
        let value = value.into_string().map_err(|_| {
            ConfigError::Invalid(format!("environment variable {name} is not valid UTF-8"))
        })?;
        env.push((name.to_owned(), value));
    }
    load(file, &env, overrides)
}

/// Checks the rules the types cannot express. Every problem found is reported,
/// one per line, each naming its key.
pub fn validate(config: &Config) -> Result<(), ConfigError> {
    let mut problems = Vec::new();
    let mut bad =
        |key: &str, why: String| problems.push(format!("invalid value for `{key}`: {why}"));

    // [store]
    let url = config.store.url.as_str();
    if url.starts_with("sqlite:") {
        if !cfg!(feature = "sqlite") {
            bad("store.url", "this build has no SQLite support".into());
        }
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        if !cfg!(feature = "postgres") {
            bad("store.url", "this build has no PostgreSQL support".into());
        }
    } else {
        bad(
            "store.url",
            format!("`{url}` is neither sqlite://PATH nor postgres://..."),
        );
    }
    if config.store.max_connections == 0 {
        bad("store.max_connections", "must be greater than 0".into());
    }
    if config.store.sqlite_cache_kib == 0 {
        bad("store.sqlite_cache_kib", "must be greater than 0".into());
    }

    // [auth]
    let secret_len = config.auth.ticket_secret.chars().count();
    if secret_len != 0 && secret_len < 32 {
        bad(
            "auth.ticket_secret",
            format!("must be empty or at least 32 characters long (it has {secret_len})"),
        );
    }
    if config.auth.ticket_lifetime_secs == 0 {
        bad("auth.ticket_lifetime_secs", "must be greater than 0".into());
    }

    // [protocol]
    let p = &config.protocol;
    for (key, value) in [
        ("protocol.min_dialect", p.min_dialect),
        ("protocol.max_dialect", p.max_dialect),
    ] {
        if !(2..=12).contains(&value) {
            bad(key, format!("{value} is not a dialect between 2 and 12"));
        }
    }
    if p.min_dialect > p.max_dialect {
        bad(
            "protocol.min_dialect",
            format!(
                "{} is newer than protocol.max_dialect ({})",
                p.min_dialect, p.max_dialect
            ),
        );
    }
    if p.cookie_lifetime_secs == 0 {
        bad(
            "protocol.cookie_lifetime_secs",
            "must be greater than 0".into(),
        );
    }
    if p.ping_interval_secs == 0 {
        bad(
            "protocol.ping_interval_secs",
            "must be greater than 0".into(),
        );
    }

    // [limits]
    let l = &config.limits;
    for (key, value) in [
        ("limits.max_line_bytes", l.max_line_bytes as u64),
        (
            "limits.max_msg_payload_bytes",
            l.max_msg_payload_bytes as u64,
        ),
        (
            "limits.max_other_payload_bytes",
            l.max_other_payload_bytes as u64,
        ),
        ("limits.outbox_lines", l.outbox_lines as u64),
        ("limits.send_queue_bytes", l.send_queue_bytes as u64),
        ("limits.preauth_timeout_secs", l.preauth_timeout_secs),
        ("limits.idle_timeout_secs", l.idle_timeout_secs),
        (
            "limits.max_switchboard_users",
            l.max_switchboard_users as u64,
        ),
        ("limits.max_connections", l.max_connections as u64),
        (
            "limits.max_connections_per_ip",
            l.max_connections_per_ip as u64,
        ),
        ("limits.connects_per_ip", u64::from(l.connects_per_ip)),
        ("limits.connect_window_secs", l.connect_window_secs),
        (
            "limits.login_failures_per_account",
            u64::from(l.login_failures_per_account),
        ),
        (
            "limits.login_failures_per_ip",
            u64::from(l.login_failures_per_ip),
        ),
        (
            "limits.login_failure_window_secs",
            l.login_failure_window_secs,
        ),
        ("limits.commands_per_sec", u64::from(l.commands_per_sec)),
        ("limits.command_burst", u64::from(l.command_burst)),
        ("limits.invites_per_minute", u64::from(l.invites_per_minute)),
    ] {
        if value == 0 {
            bad(key, "must be greater than 0".into());
        }
    }
    if l.idle_timeout_secs != 0
        && p.ping_interval_secs != 0
        && l.idle_timeout_secs <= u64::from(p.ping_interval_secs)
    {
        bad(
            "limits.idle_timeout_secs",
            format!(
                "{} must be greater than protocol.ping_interval_secs ({}), the PNG interval \
                 QNG asks clients for",
                l.idle_timeout_secs, p.ping_interval_secs
            ),
        );
    }

    // [offline]
    let o = &config.offline;
    for (key, value) in [
        ("offline.max_queued_per_user", o.max_queued_per_user),
        ("offline.commit_batch_max", o.commit_batch_max),
    ] {
        if value == 0 {
            bad(key, "must be greater than 0".into());
        }
    }
    if o.commit_window_us > MAX_COMMIT_WINDOW_US {
        bad(
            "offline.commit_window_us",
            format!("must be at most {MAX_COMMIT_WINDOW_US} (one second)"),
        );
    }

    // [shutdown]
    if config.shutdown.drain_timeout_secs == 0 {
        bad(
            "shutdown.drain_timeout_secs",
            "must be greater than 0".into(),
        );
    }

    // [probe]
    if config.probe.timeout_secs == 0 {
        bad("probe.timeout_secs", "must be greater than 0".into());
    }

    // [log]
    if let Err(e) = tracing_subscriber::EnvFilter::try_new(&config.log.level) {
        bad("log.level", format!("`{}`: {e}", config.log.level));
    }

    // [listeners.NAME]
    let enabled: BTreeMap<&str, &ListenerConfig> = config
        .listeners
        .iter()
        .filter(|(_, l)| l.enabled)
        .map(|(name, l)| (name.as_str(), l))
        .collect();
    let notification: BTreeSet<&str> = enabled
        .iter()
        .filter(|(_, l)| l.role == Role::Notification)
        .map(|(name, _)| *name)
        .collect();
    let mut bound: BTreeMap<SocketAddr, &str> = BTreeMap::new();
    for (name, listener) in &config.listeners {
        let key = |field: &str| format!("listeners.{name}.{field}");
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        {
            bad(
                &format!("listeners.{name}"),
                "listener names use only a-z, 0-9, `_` and `-`".into(),
            );
        }
        match listener.bind.parse::<SocketAddr>() {
            Ok(addr) => {
                if listener.enabled
                    && addr.port() != 0
                    && let Some(other) = bound.insert(addr, name)
                {
                    bad(
                        &key("bind"),
                        format!("{addr} is also bound by listener `{other}`"),
                    );
                }
            }
            Err(_) => bad(
                &key("bind"),
                format!("`{}` is not an ip:port address", listener.bind),
            ),
        }
        if let Some(advertise) = &listener.advertise
            && !is_host_port(advertise)
        {
            bad(
                &key("advertise"),
                format!("`{advertise}` is not a host:port address"),
            );
        }
        check_tls(listener, &key, &mut bad);
        match (listener.role, &listener.target) {
            (Role::Dispatch, Some(target)) => {
                if listener.enabled && !notification.contains(target.as_str()) {
                    bad(
                        &key("target"),
                        format!("there is no enabled notification listener named `{target}`"),
                    );
                }
            }
            (Role::Dispatch, None) => {
                if listener.enabled && notification.is_empty() {
                    bad(
                        &key("role"),
                        "a dispatch listener needs an enabled notification listener".into(),
                    );
                }
            }
            (_, Some(_)) => bad(
                &key("target"),
                "only dispatch listeners have a target".into(),
            ),
            (_, None) => {}
        }
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConfigError::Invalid(problems.join("\n")))
    }
}

/// The TLS keys of one listener: `implicit` needs a certificate and a key,
/// client authentication needs a CA, and none of them mean anything without TLS.
fn check_tls(
    listener: &ListenerConfig,
    key: &dyn Fn(&str) -> String,
    bad: &mut dyn FnMut(&str, String),
) {
    if listener.tls_handshake_timeout_secs == 0 {
        bad(
            &key("tls_handshake_timeout_secs"),
            "must be greater than 0".into(),
        );
    }
    let empty =
        |path: &Option<std::path::PathBuf>| path.as_ref().is_some_and(|p| p.as_os_str().is_empty());
    for (field, path) in [
        ("tls_cert", &listener.tls_cert),
        ("tls_key", &listener.tls_key),
        ("tls_client_ca", &listener.tls_client_ca),
    ] {
        if empty(path) {
            bad(
                &key(field),
                "must not be empty (leave it out instead)".into(),
            );
        }
    }
    match listener.tls {
        TlsMode::Implicit => {
            if listener.tls_cert.is_none() {
                bad(
                    &key("tls_cert"),
                    "`tls = \"implicit\"` needs a certificate file".into(),
                );
            }
            if listener.tls_key.is_none() {
                bad(
                    &key("tls_key"),
                    "`tls = \"implicit\"` needs a private key file".into(),
                );
            }
            match (listener.tls_client_auth, &listener.tls_client_ca) {
                (ClientAuth::None, Some(_)) => bad(
                    &key("tls_client_ca"),
                    "is only used when `tls_client_auth` is `optional` or `required`".into(),
                ),
                (ClientAuth::Optional | ClientAuth::Required, None) => bad(
                    &key("tls_client_auth"),
                    "client certificates need `tls_client_ca`".into(),
                ),
                _ => {}
            }
        }
        TlsMode::None => {
            for (field, set) in [
                ("tls_cert", listener.tls_cert.is_some()),
                ("tls_key", listener.tls_key.is_some()),
                ("tls_client_ca", listener.tls_client_ca.is_some()),
                (
                    "tls_client_auth",
                    listener.tls_client_auth != ClientAuth::None,
                ),
            ] {
                if set {
                    bad(&key(field), "is only used with `tls = \"implicit\"`".into());
                }
            }
        }
    }
}

/// Whether `text` is `host:port` with a non-empty host and a numeric port, as
/// clients need it in `XFR` and `RNG` (no spaces or commas).
fn is_host_port(text: &str) -> bool {
    let Some((host, port)) = text.rsplit_once(':') else {
        return false;
    };
    !host.is_empty()
        && port.parse::<u16>().is_ok()
        && host.bytes().all(|b| b.is_ascii_graphic() && b != b',')
}

fn internal(what: &str) -> ConfigError {
    ConfigError::Invalid(format!(
        "internal error in the configuration loader: {what}"
    ))
}

/// The shape of [`Config`], derived from its serialized defaults: which keys
/// exist and which hold strings.
#[derive(Debug)]
pub(super) enum Schema {
    /// A value; `string` when it is a string (or a string-like enum).
    Leaf { string: bool },
    /// A table with fixed keys.
    Table(BTreeMap<String, Schema>),
    /// A table whose keys are names (listeners), each with the same shape.
    Map(Box<Schema>),
}

impl Schema {
    pub(super) fn of_config() -> Result<Schema, ConfigError> {
        let mut schema = match Value::try_from(Config::default()) {
            Ok(value) => Schema::of_value(&value),
            Err(_) => return Err(internal("the defaults do not serialize")),
        };
        // Every optional field set, so that the template knows all keys.
        let template = ListenerConfig {
            role: Role::Notification,
            bind: String::new(),
            tls: TlsMode::None,
            tls_cert: Some(Default::default()),
            tls_key: Some(Default::default()),
            tls_client_ca: Some(Default::default()),
            tls_client_auth: ClientAuth::None,
            tls_handshake_timeout_secs: 0,
            advertise: Some(String::new()),
            target: Some(String::new()),
            enabled: true,
        };
        let template = match Value::try_from(template) {
            Ok(value) => Schema::of_value(&value),
            Err(_) => return Err(internal("the listener template does not serialize")),
        };
        match &mut schema {
            Schema::Table(fields) => {
                fields.insert("listeners".into(), Schema::Map(Box::new(template)));
            }
            _ => return Err(internal("the defaults are not a table")),
        }
        Ok(schema)
    }

    fn of_value(value: &Value) -> Schema {
        match value {
            Value::Table(table) => Schema::Table(
                table
                    .iter()
                    .map(|(k, v)| (k.clone(), Schema::of_value(v)))
                    .collect(),
            ),
            Value::String(_) => Schema::Leaf { string: true },
            _ => Schema::Leaf { string: false },
        }
    }

    /// The shape at `path`, if the path exists.
    fn at(&self, path: &[String]) -> Option<&Schema> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        match self {
            Schema::Table(fields) => fields.get(first)?.at(rest),
            Schema::Map(inner) => inner.at(rest),
            Schema::Leaf { .. } => None,
        }
    }

    /// Rejects keys of `value` (found at `path`) that the shape lacks.
    fn check(
        &self,
        value: &Value,
        path: &mut Vec<String>,
        origin: &str,
    ) -> Result<(), ConfigError> {
        let Value::Table(table) = value else {
            // Type mismatches are reported by deserialization, with the key.
            return Ok(());
        };
        for (key, child) in table {
            let shape = match self {
                Schema::Table(fields) => fields.get(key),
                Schema::Map(inner) => Some(&**inner),
                // A plain value given sub-keys (`store.url.x`).
                Schema::Leaf { .. } => None,
            };
            path.push(key.clone());
            match shape {
                Some(shape) => shape.check(child, path, origin)?,
                None => {
                    return Err(ConfigError::Invalid(format!(
                        "unknown key `{}` ({origin})",
                        path.join(".")
                    )));
                }
            }
            path.pop();
        }
        Ok(())
    }
}

/// The value an env variable or `-O` sets: the raw text for string keys, else the
/// text parsed as a TOML value if it is one, else the raw text.
fn coerce(schema: &Schema, path: &[String], raw: &str) -> Value {
    if let Some(Schema::Leaf { string: true }) = schema.at(path) {
        return Value::String(raw.to_owned());
    }
    raw.parse::<Value>()
        .unwrap_or_else(|_| Value::String(raw.to_owned()))
}

/// A table holding `value` at `path` (`["a", "b"]` → `{ a = { b = value } }`).
fn fragment(path: &[String], value: Value) -> Table {
    let mut value = value;
    for key in path.iter().skip(1).rev() {
        let mut table = Table::new();
        table.insert(key.clone(), value);
        value = Value::Table(table);
    }
    let mut table = Table::new();
    if let Some(first) = path.first() {
        table.insert(first.clone(), value);
    }
    table
}

/// Checks a source's table, notes where its keys came from and merges it in.
fn add_source(
    schema: &Schema,
    tree: &mut Table,
    origins: &mut Origins,
    source: Table,
    origin: &str,
) -> Result<(), ConfigError> {
    let source = Value::Table(source);
    schema.check(&source, &mut Vec::new(), origin)?;
    origins.record(&source, &mut Vec::new(), origin);
    if let Value::Table(source) = source {
        merge(tree, source);
    }
    Ok(())
}

/// Deep merge: tables merge key by key, anything else replaces.
fn merge(base: &mut Table, over: Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(Value::Table(base)), Value::Table(over)) => merge(base, over),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// Which source last set each key, for error messages.
#[derive(Debug, Default)]
struct Origins(BTreeMap<String, String>);

impl Origins {
    fn record(&mut self, value: &Value, path: &mut Vec<String>, origin: &str) {
        match value {
            Value::Table(table) if !table.is_empty() => {
                for (key, child) in table {
                    path.push(key.clone());
                    self.record(child, path, origin);
                    path.pop();
                }
            }
            _ => {
                self.0.insert(path.join("."), origin.to_owned());
            }
        }
    }

    /// ` (from ...)` for `key` or the first key below it, or nothing.
    fn describe(&self, key: &str) -> String {
        let below = format!("{key}.");
        self.0
            .get(key)
            .or_else(|| {
                self.0
                    .range(below.clone()..)
                    .take_while(|(k, _)| k.starts_with(&below))
                    .map(|(_, v)| v)
                    .next()
            })
            .map(|origin| format!(" ({origin})"))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
