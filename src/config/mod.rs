//! The one typed, documented configuration of msnpd. Every field has its default
//! in its doc comment; `loader.rs` builds it from defaults, the TOML file, the
//! environment (`MSNPD__SECTION__KEY`) and `-O section.key=value`, in that order.

pub mod loader;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Storage backend.
    pub store: StoreConfig,
    /// Login and tickets.
    pub auth: AuthConfig,
    /// Protocol behaviour.
    pub protocol: ProtocolConfig,
    /// Limits on clients.
    pub limits: LimitsConfig,
    /// Offline messages, conversation history and their group commit.
    pub offline: OfflineConfig,
    /// Logging.
    pub log: LogConfig,
    /// Listeners by name (`ns`, `sb`, `http`, `admin` in the embedded default).
    /// The name is the key in the ready file.
    pub listeners: BTreeMap<String, ListenerConfig>,
}

/// `[store]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// Store URL: `sqlite://PATH` (file and directory are created) or
    /// `postgres://...`. Default `sqlite://./msnpd-data/msnpd.sqlite`.
    pub url: String,
    /// Largest number of pooled database connections. Default 8.
    pub max_connections: u32,
}

/// `[auth]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Secret for signing login tickets (at least 32 characters). Default empty:
    /// a random secret is created once and kept in the store, so `msnpd ticket`
    /// and every server on the same store agree.
    pub ticket_secret: String,
    /// How long a login ticket stays valid, in seconds. Default 86400 (one day).
    pub ticket_lifetime_secs: u64,
    /// Whether MSNP2–7 (MD5 challenge login) are served; when on, `user add` and
    /// `user passwd` also keep an MD5 verifier. Default true.
    pub md5_dialects: bool,
}

/// `[protocol]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtocolConfig {
    /// Oldest dialect served (2..=12). Default 2.
    pub min_dialect: u8,
    /// Newest dialect served (2..=12). Default 12.
    pub max_dialect: u8,
    /// Send `CHL` challenges after login and require a correct `QRY`. Off by
    /// default: some third-party clients never answer challenges. Default false.
    pub challenges: bool,
    /// Seconds a switchboard cookie (from `XFR SB` or `RNG`) stays valid. Default 60.
    pub cookie_lifetime_secs: u64,
    /// Seconds sent in `QNG` (MSNP9+) until the client's next `PNG`. Default 60.
    pub ping_interval_secs: u32,
}

/// `[limits]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Longest command line in bytes, CRLF included. Default 2048.
    pub max_line_bytes: usize,
    /// Largest `MSG` payload in bytes. Default 1664 (what clients expect).
    pub max_msg_payload_bytes: usize,
    /// Largest payload of other payload verbs (`QRY`, `UUX`, ...). Default 8192.
    pub max_other_payload_bytes: usize,
    /// Most server lines queued for one connection before it is disconnected as
    /// a slow reader. Default 1024.
    pub outbox_lines: usize,
    /// Seconds a connection may stay unauthenticated. Default 60.
    pub preauth_timeout_secs: u64,
    /// Seconds without any command before a connection is closed. Default 300.
    pub idle_timeout_secs: u64,
    /// Most participants in one switchboard. Default 20.
    pub max_switchboard_users: usize,
}

/// `[offline]`: messages for contacts who are not in the conversation, and
/// per-conversation history (see `protocol-spec/offline-messages.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OfflineConfig {
    /// Store switchboard messages for invited contacts who are offline (and for
    /// participants who left) and deliver them at their next login. Off, `CAL`
    /// of an offline contact answers `217` and a message with nobody else in
    /// the room gets `NAK`, as the original service did. Default false.
    pub enabled: bool,
    /// Most messages waiting for one user; a message that would exceed it is
    /// refused (`NAK`) and logged. Default 1000.
    pub max_queued_per_user: usize,
    /// Keep every relayed or stored text message in per-conversation history
    /// with a sequence number (independent of `enabled`). Default true.
    pub history: bool,
    /// Most message writes committed in one transaction (group commit).
    /// Default 256.
    pub commit_batch_max: usize,
    /// Microseconds the store writer waits for more message writes after the
    /// first of a batch (0: take only what is already queued). Default 1000.
    pub commit_window_us: u64,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Level filter (`error`, `warn`, `info`, `debug`, `trace`, or a tracing
    /// filter directive). Default `info`.
    pub level: String,
    /// `text` or `json`. Default `text`.
    pub format: LogFormat,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Dispatch: answers `VER`/`CVR`/`USR ... I` with `XFR NS` to a notification listener.
    Dispatch,
    /// Notification: login, lists, presence.
    Notification,
    /// Switchboard: conversations.
    Switchboard,
    /// HTTP: the Passport 1.4 nexus and login endpoint.
    Http,
    /// HTTP admin endpoint: `/healthz`.
    Admin,
}

/// Transport security of a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain TCP.
    None,
    /// TLS from the first byte.
    Implicit,
}

/// `[listeners.NAME]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// What this listener serves.
    pub role: Role,
    /// Address to bind, `ip:port` (port 0 picks a free port).
    pub bind: String,
    /// `none` or `implicit`. Default `none`. (Only `none` is implemented so far.)
    #[serde(default = "default_tls")]
    pub tls: TlsMode,
    /// Address clients are told to connect to (in `XFR`, `RNG`, `PassportURLs`).
    /// Default: the bound address.
    #[serde(default)]
    pub advertise: Option<String>,
    /// Dispatch listeners only: the name of the notification listener clients are
    /// sent to. Default: the first notification listener by name.
    #[serde(default)]
    pub target: Option<String>,
    /// Set false to drop a listener of the defaults. Default true.
    #[serde(default = "default_true")]
    pub enabled: bool,
}

fn default_tls() -> TlsMode {
    TlsMode::None
}

fn default_true() -> bool {
    true
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: "sqlite://./msnpd-data/msnpd.sqlite".into(),
            max_connections: 8,
        }
    }
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            ticket_secret: String::new(),
            ticket_lifetime_secs: 86_400,
            md5_dialects: true,
        }
    }
}

impl Default for ProtocolConfig {
    fn default() -> Self {
        ProtocolConfig {
            min_dialect: 2,
            max_dialect: 12,
            challenges: false,
            cookie_lifetime_secs: 60,
            ping_interval_secs: 60,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_line_bytes: 2048,
            max_msg_payload_bytes: 1664,
            max_other_payload_bytes: 8192,
            outbox_lines: 1024,
            preauth_timeout_secs: 60,
            idle_timeout_secs: 300,
            max_switchboard_users: 20,
        }
    }
}

impl Default for OfflineConfig {
    fn default() -> Self {
        OfflineConfig {
            enabled: false,
            max_queued_per_user: 1000,
            history: true,
            commit_batch_max: 256,
            commit_window_us: 1000,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        let listener = |role, bind: &str| ListenerConfig {
            role,
            bind: bind.into(),
            tls: TlsMode::None,
            advertise: None,
            target: None,
            enabled: true,
        };
        let mut listeners = BTreeMap::new();
        listeners.insert("ns".into(), listener(Role::Notification, "127.0.0.1:1863"));
        listeners.insert("sb".into(), listener(Role::Switchboard, "127.0.0.1:1864"));
        listeners.insert("http".into(), listener(Role::Http, "127.0.0.1:1865"));
        listeners.insert("admin".into(), listener(Role::Admin, "127.0.0.1:1866"));
        Config {
            store: StoreConfig::default(),
            auth: AuthConfig::default(),
            protocol: ProtocolConfig::default(),
            limits: LimitsConfig::default(),
            offline: OfflineConfig::default(),
            log: LogConfig::default(),
            listeners,
        }
    }
}
