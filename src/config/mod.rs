//! The one typed, documented configuration of msnpd. Every field has its default
//! in its doc comment; `loader.rs` builds it from defaults, the TOML file, the
//! environment (`MSNPD__SECTION__KEY`) and `-O section.key=value`, in that order.

pub mod keys;
mod live;
pub mod loader;
mod network;
pub mod reload;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use live::LiveConfig;
pub use network::{IpNet, IpNetError};

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
    /// Graceful shutdown.
    pub shutdown: ShutdownConfig,
    /// The operator API (`msnpd kick`, `broadcast`, `stats`).
    pub admin: AdminConfig,
    /// The synthetic health check `msnpd probe`.
    pub probe: ProbeConfig,
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
    /// SQLite only: the page cache of each pooled connection, in KiB, so the
    /// caches take at most `max_connections` times this. Default 512.
    pub sqlite_cache_kib: u32,
    /// How many recently seen accounts' login data (account, contact list,
    /// phones) are kept in memory so ticket holders can still log in while the
    /// store is unavailable; 0 turns it off. Default 10000.
    pub remembered_logins: usize,
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

/// `[limits]`: what one client, one address or one account may use. Every
/// limit is enforced where it is cheapest to refuse; `docs/limits.md` lists
/// what an offender sees and the test that pushes past each one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Longest command line in bytes, CRLF included; longer closes the
    /// connection. Default 2048.
    pub max_line_bytes: usize,
    /// Largest `MSG` payload in bytes; larger gets `201` and a close.
    /// Default 1664 (what clients expect).
    pub max_msg_payload_bytes: usize,
    /// Largest payload of other payload verbs (`QRY`, `UUX`, ...); larger gets
    /// `201` and a close. Default 8192.
    pub max_other_payload_bytes: usize,
    /// Most events (presence, switchboard messages, ...) waiting for one
    /// connection to take them up. A connection takes events up even while its
    /// socket is full, so this fills only while it waits on the store; past it
    /// the connection is closed as too slow. Default 1024.
    pub outbox_lines: usize,
    /// Most bytes waiting to be written to one connection (the send queue).
    /// A reader that falls this far behind is disconnected; nobody waits for
    /// it. Default 262144 (256 KiB; Ergo uses 96 KiB, InspIRCd a 1 MiB hard
    /// sendq).
    pub send_queue_bytes: usize,
    /// Seconds a connection may stay unauthenticated. Default 60 (Ergo's
    /// registration timeout).
    pub preauth_timeout_secs: u64,
    /// Seconds without a complete command before a connection is closed; must be
    /// greater than `protocol.ping_interval_secs` (the `PNG` interval `QNG`
    /// asks for). Default 300.
    pub idle_timeout_secs: u64,
    /// Most participants in one switchboard. Default 20.
    pub max_switchboard_users: usize,
    /// Most open connections of the whole process, over the MSNP and HTTP
    /// listeners (the admin listener is not counted, so a full server can still
    /// be looked at). One more is accepted and closed at once. Default 16384
    /// (keep it below the process's file descriptor limit).
    pub max_connections: usize,
    /// Most open connections from one IP address (IPv6: one /64), over all
    /// listeners together. Default 64 (Ergo allows 16 per IRC user; an MSN
    /// user holds a notification connection, one per conversation and short
    /// HTTP logins).
    pub max_connections_per_ip: usize,
    /// New connections one IP address (IPv6: one /64) may open per
    /// `connect_window_secs`, as a token bucket refilling evenly over the
    /// window. Default 120.
    pub connects_per_ip: u32,
    /// The window of `connects_per_ip`, in seconds. Default 60.
    pub connect_window_secs: u64,
    /// Networks exempt from the per-IP limits (connections, connect rate and
    /// failed logins per IP), e.g. a local TLS proxy through which every client
    /// seems to come from one address. Default `["127.0.0.0/8", "::1/128"]`
    /// (loopback, as Ergo exempts `localhost`).
    pub exempt_networks: Vec<IpNet>,
    /// Failed password logins (`USR MD5 S`, the HTTP login) one account may
    /// have within `login_failure_window_secs`; after that its logins are
    /// refused at once (`911` / `401`) without checking the password until the
    /// window ends. Default 5 (fail2ban's `maxretry`).
    pub login_failures_per_account: u32,
    /// Failed logins (password or ticket) from one IP address (IPv6: one /64)
    /// within `login_failure_window_secs`; after that, logins from it are
    /// refused at once. Default 20.
    pub login_failures_per_ip: u32,
    /// The window of the failed-login limits, in seconds, counted from the first
    /// failure in it. Default 600 (fail2ban's `findtime`).
    pub login_failure_window_secs: u64,
    /// Commands one connection may send per second, sustained (`OUT` is never
    /// refused). A command over the rate is not run: it gets `800` (state
    /// changes: `CHG`, `REA`, `PRP`, `UUX`, `BLP`, `GTC`) or `713`, and `PNG`
    /// closes the connection. Default 50.
    pub commands_per_sec: u32,
    /// Commands one connection may send at once before `commands_per_sec`
    /// applies. Default 100.
    pub command_burst: u32,
    /// Switchboard invitations (`CAL`) one account may send per minute, over all
    /// its switchboards (also the burst); more get `713`. Default 30.
    pub invites_per_minute: u32,
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

/// `[shutdown]`: what SIGTERM (and SIGINT) does. The server stops accepting,
/// tells every notification client `OUT SSD`, delivers what its connections
/// already took, flushes the store and exits 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShutdownConfig {
    /// Seconds connections get to write their last lines (`OUT SSD`, queued
    /// messages) and close before the server stops waiting for them and
    /// closes the store anyway. Keep it below systemd's `TimeoutStopSec`
    /// (90 s by default). Can change on reload. Default 10.
    pub drain_timeout_secs: u64,
}

/// `[admin]`: the operator API served on the admin listener under `/admin/`
/// (`/healthz`, `/readyz` and `/metrics` need no token).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Bearer token that admin actions (`msnpd kick`, `broadcast`, `stats`, and
    /// `user del` disconnecting the user) must present. Default empty: use
    /// `token_file`; with both empty every admin action is refused.
    pub token: String,
    /// File whose first line is the token (surrounding whitespace ignored),
    /// read at start-up by the server and by each CLI call. Used when `token`
    /// is empty. Default empty.
    pub token_file: String,
    /// Where the CLI finds the running server's admin listener, `host:port`.
    /// Default empty: the first admin listener's `advertise`, else its `bind`.
    pub address: String,
}

/// `[probe]`: the two accounts `msnpd probe` logs in (create them with
/// `msnpd user add`; see docs/operations.md). Flags of `msnpd probe` win.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProbeConfig {
    /// The first probe account. Default empty.
    pub account_a: String,
    /// The second probe account. Default empty.
    pub account_b: String,
    /// The password of both probe accounts. Default empty.
    pub password: String,
    /// The nexus (the `http` listener) the probe gets its tickets from:
    /// `host:port` (plain HTTP) or `https://host:port`. Default empty: the
    /// first http listener's `advertise`, else its `bind`, with `https://`
    /// when that listener has `tls = "implicit"`.
    pub nexus: String,
    /// Seconds each probe step may take before the probe fails. Default 10.
    pub timeout_secs: u64,
    /// Speak TLS on every MSNP connection the probe makes (dispatch,
    /// notification, switchboard): for listeners with `tls = "implicit"`.
    /// Needs `ca_file`. Default false.
    pub tls: bool,
    /// PEM file with the CA certificates (or the self-signed certificate)
    /// the probe trusts for TLS: used with `tls` and for `https://` nexus
    /// and login URLs, and required by them. No system roots are used.
    /// Default empty.
    pub ca_file: String,
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
    /// HTTP admin endpoint: `/healthz`, `/readyz`, `/metrics` and the
    /// operator API under `/admin/`.
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

/// Whether a TLS listener asks clients for a certificate (checked against
/// `tls_client_ca`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// Clients are not asked for a certificate.
    None,
    /// A client may present a certificate; if it does, it must be signed by
    /// `tls_client_ca`. Clients without one are served too.
    Optional,
    /// Every client must present a certificate signed by `tls_client_ca`; the
    /// handshake fails otherwise.
    Required,
}

/// `[listeners.NAME]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// What this listener serves.
    pub role: Role,
    /// Address to bind, `ip:port` (port 0 picks a free port).
    pub bind: String,
    /// `none` (plain TCP) or `implicit` (TLS from the first byte; needs
    /// `tls_cert` and `tls_key`). Default `none`.
    #[serde(default = "default_tls")]
    pub tls: TlsMode,
    /// PEM file with the certificate chain, the listener's own certificate
    /// first. Required with `tls = "implicit"`; re-read on SIGHUP. Default none.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM file with the private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1).
    /// Required with `tls = "implicit"`; re-read on SIGHUP. Default none.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// PEM file with the CA certificates client certificates must chain to.
    /// Required when `tls_client_auth` is not `none`; re-read on SIGHUP.
    /// Default none.
    #[serde(default)]
    pub tls_client_ca: Option<PathBuf>,
    /// Client certificates: `none`, `optional` or `required`. Default `none`.
    #[serde(default = "default_client_auth")]
    pub tls_client_auth: ClientAuth,
    /// Seconds a client has to complete the TLS handshake before it is
    /// closed (the pre-auth timeout starts after it). Default 10.
    #[serde(default = "default_handshake_timeout")]
    pub tls_handshake_timeout_secs: u64,
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

fn default_client_auth() -> ClientAuth {
    ClientAuth::None
}

/// The default of `tls_handshake_timeout_secs`.
pub const DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECS: u64 = 10;

fn default_handshake_timeout() -> u64 {
    DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECS
}

fn default_true() -> bool {
    true
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: "sqlite://./msnpd-data/msnpd.sqlite".into(),
            max_connections: 8,
            sqlite_cache_kib: crate::store::DEFAULT_SQLITE_CACHE_KIB,
            remembered_logins: crate::store::login_snapshots::DEFAULT_CAPACITY,
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
            send_queue_bytes: 256 * 1024,
            preauth_timeout_secs: 60,
            idle_timeout_secs: 300,
            max_switchboard_users: 20,
            max_connections: 16_384,
            max_connections_per_ip: 64,
            connects_per_ip: 120,
            connect_window_secs: 60,
            exempt_networks: vec![IpNet::LOOPBACK_V4, IpNet::LOOPBACK_V6],
            login_failures_per_account: 5,
            login_failures_per_ip: 20,
            login_failure_window_secs: 600,
            commands_per_sec: 50,
            command_burst: 100,
            invites_per_minute: 30,
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

impl Default for ShutdownConfig {
    fn default() -> Self {
        ShutdownConfig {
            drain_timeout_secs: 10,
        }
    }
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            account_a: String::new(),
            account_b: String::new(),
            password: String::new(),
            nexus: String::new(),
            timeout_secs: 10,
            tls: false,
            ca_file: String::new(),
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
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            tls_client_auth: ClientAuth::None,
            tls_handshake_timeout_secs: DEFAULT_TLS_HANDSHAKE_TIMEOUT_SECS,
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
            shutdown: ShutdownConfig::default(),
            admin: AdminConfig::default(),
            probe: ProbeConfig::default(),
            listeners,
        }
    }
}

impl AdminConfig {
    /// The configured token: `token`, else the first line of `token_file`;
    /// `Ok(None)` when neither is set. Errors name the unreadable file.
    pub fn load_token(&self) -> Result<Option<String>, String> {
        if !self.token.is_empty() {
            return Ok(Some(self.token.clone()));
        }
        if self.token_file.is_empty() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&self.token_file)
            .map_err(|e| format!("admin.token_file {}: {e}", self.token_file))?;
        let token = text.lines().next().unwrap_or_default().trim().to_string();
        if token.is_empty() {
            return Err(format!("admin.token_file {} is empty", self.token_file));
        }
        Ok(Some(token))
    }
}
