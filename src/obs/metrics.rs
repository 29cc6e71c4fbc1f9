//! The process's Prometheus metrics (`prometheus-client`), served on the admin
//! listener at `/metrics` in the OpenMetrics text format.
//!
//! One process-wide set ([`metrics`]): a scrape describes the process, and the
//! hooks sit deep in layers (the outbox, the store, the limiters) that have no
//! server context to carry a handle. Hot-path hooks cost one atomic add: the
//! per-connection gauges and the login counters are created up front and kept
//! in fixed arrays; labelled counters keyed by a `&'static str` or a number
//! take a read lock for the lookup (no allocation, nothing held across an
//! `.await`). Gauges that describe shared state (online users, open
//! switchboards, the offline queue) are set by the `/metrics` handler just
//! before encoding.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::proto::{Dialect, ErrorCode};
use crate::server::gate::ConnRole;

/// A label set of one static key and value.
type StrLabel = [(&'static str, &'static str); 1];
/// A label set of one static key and a number.
type NumLabel = [(&'static str, u16); 1];

/// Oldest and newest dialect version with a gauge of their own.
const DIALECTS: std::ops::RangeInclusive<u8> = 2..=12;
/// Slots per role: one for "no dialect yet" and one per dialect.
const DIALECT_SLOTS: usize = 12;

/// How a login was attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// `USR TWN S` with a ticket (MSNP8+).
    Ticket,
    /// `USR MD5 S` (MSNP2–7).
    Md5,
    /// The HTTP Passport login (`login2.srf`) that issues tickets.
    Http,
    /// A switchboard `USR`/`ANS` with a cookie.
    SbCookie,
}

impl LoginMethod {
    const ALL: [LoginMethod; 4] = [
        LoginMethod::Ticket,
        LoginMethod::Md5,
        LoginMethod::Http,
        LoginMethod::SbCookie,
    ];

    fn label(self) -> &'static str {
        match self {
            LoginMethod::Ticket => "twn",
            LoginMethod::Md5 => "md5",
            LoginMethod::Http => "http",
            LoginMethod::SbCookie => "sb_cookie",
        }
    }
}

/// Which limit refused something (the `limit` label of
/// `msnpd_limit_rejections_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `limits.max_connections`.
    MaxConnections,
    /// `limits.max_connections_per_ip`.
    ConnectionsPerIp,
    /// `limits.connects_per_ip`.
    ConnectRate,
    /// `limits.login_failures_per_account` / `_per_ip`.
    LoginFailures,
    /// `limits.commands_per_sec`.
    CommandRate,
    /// `limits.invites_per_minute`.
    Invites,
    /// `limits.send_queue_bytes` (a slow reader was disconnected).
    SendQueue,
    /// `limits.outbox_lines` (a session's event queue overflowed).
    Outbox,
    /// `offline.max_queued_per_user`.
    OfflineQueue,
}

impl Limit {
    fn label(self) -> &'static str {
        match self {
            Limit::MaxConnections => "max_connections",
            Limit::ConnectionsPerIp => "max_connections_per_ip",
            Limit::ConnectRate => "connects_per_ip",
            Limit::LoginFailures => "login_failures",
            Limit::CommandRate => "commands_per_sec",
            Limit::Invites => "invites_per_minute",
            Limit::SendQueue => "send_queue_bytes",
            Limit::Outbox => "outbox_lines",
            Limit::OfflineQueue => "max_queued_per_user",
        }
    }
}

/// Every metric of the process.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// `[role][slot]`: slot 0 is "no dialect yet", slot `v - 1` dialect `v`.
    connections: [[Gauge; DIALECT_SLOTS]; 3],
    /// `[method][ok, failed]`.
    logins: [[Counter; 2]; 4],
    commands: Family<StrLabel, Counter>,
    errors: Family<NumLabel, Counter>,
    limits: Family<StrLabel, Counter>,
    send_queue_bytes: Gauge,
    store_latency: Family<StrLabel, Histogram>,
    switchboards: Gauge,
    online_users: Gauge,
    offline_queue: Gauge,
    broadcasts: Counter,
    kicks: Counter,
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

fn role_index(role: ConnRole) -> usize {
    match role {
        ConnRole::Dispatch => 0,
        ConnRole::Notification => 1,
        ConnRole::Switchboard => 2,
    }
}

fn role_label(index: usize) -> &'static str {
    [
        ConnRole::Dispatch,
        ConnRole::Notification,
        ConnRole::Switchboard,
    ][index]
        .label()
}

fn dialect_slot(dialect: Option<Dialect>) -> usize {
    dialect
        .map(|d| usize::from(d.version().clamp(*DIALECTS.start(), *DIALECTS.end())) - 1)
        .unwrap_or(0)
}

fn dialect_label(slot: usize) -> &'static str {
    [
        "none", "MSNP2", "MSNP3", "MSNP4", "MSNP5", "MSNP6", "MSNP7", "MSNP8", "MSNP9", "MSNP10",
        "MSNP11", "MSNP12",
    ][slot]
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("msnpd");

        let family = Family::<[(&'static str, &'static str); 2], Gauge>::default();
        // The family hands out clones sharing one atomic per label set: keep
        // them in an array so the hot path skips the lookup.
        let connections: [[Gauge; DIALECT_SLOTS]; 3] = std::array::from_fn(|r| {
            std::array::from_fn(|slot| {
                family.get_or_create_owned(&[
                    ("role", role_label(r)),
                    ("dialect", dialect_label(slot)),
                ])
            })
        });
        registry.register(
            "connections",
            "Open MSNP connections by role and negotiated dialect",
            family,
        );

        let login_family = Family::<[(&'static str, &'static str); 2], Counter>::default();
        let logins: [[Counter; 2]; 4] = std::array::from_fn(|m| {
            std::array::from_fn(|ok| {
                login_family.get_or_create_owned(&[
                    ("method", LoginMethod::ALL[m].label()),
                    ("result", ["ok", "failed"][ok]),
                ])
            })
        });
        registry.register(
            "logins",
            "Login attempts by method and result",
            login_family.clone(),
        );

        let commands = Family::<StrLabel, Counter>::default();
        registry.register(
            "commands",
            "MSNP commands received by verb",
            commands.clone(),
        );
        let errors = Family::<NumLabel, Counter>::default();
        registry.register(
            "errors_sent",
            "Numeric MSNP errors sent by code",
            errors.clone(),
        );
        let limits = Family::<StrLabel, Counter>::default();
        registry.register(
            "limit_rejections",
            "Requests or connections refused by a limit, by limit",
            limits.clone(),
        );
        let send_queue_bytes = Gauge::default();
        registry.register(
            "send_queue_bytes",
            "Bytes waiting to be written, summed over all MSNP connections",
            send_queue_bytes.clone(),
        );
        let store_latency = Family::<StrLabel, Histogram>::new_with_constructor(|| {
            // 100 µs .. ~3.3 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        registry.register(
            "store_operation_seconds",
            "Latency of store operations by operation",
            store_latency.clone(),
        );
        let switchboards = Gauge::default();
        registry.register("switchboards", "Open switchboards", switchboards.clone());
        let online_users = Gauge::default();
        registry.register(
            "online_users",
            "Users logged in to a notification listener",
            online_users.clone(),
        );
        let offline_queue = Gauge::default();
        registry.register(
            "offline_queue_messages",
            "Messages waiting in the offline queue (-1: the store did not answer)",
            offline_queue.clone(),
        );
        let broadcasts = Counter::default();
        registry.register(
            "admin_broadcasts",
            "Broadcasts sent by operators",
            broadcasts.clone(),
        );
        let kicks = Counter::default();
        registry.register("admin_kicks", "Sessions ended by operators", kicks.clone());

        Metrics {
            registry,
            connections,
            logins,
            commands,
            errors,
            limits,
            send_queue_bytes,
            store_latency,
            switchboards,
            online_users,
            offline_queue,
            broadcasts,
            kicks,
        }
    }

    /// A connection of `role` opened (dialect not known yet); the guard moves it
    /// between dialects and closes it when dropped.
    pub fn connection_opened(&'static self, role: ConnRole) -> ConnectionGauge {
        let role = role_index(role);
        self.connections[role][0].inc();
        ConnectionGauge {
            metrics: self,
            role,
            slot: 0,
            queued: 0,
        }
    }

    /// A login attempt by `method` succeeded (`ok`) or failed.
    pub fn login(&self, method: LoginMethod, ok: bool) {
        let m = LoginMethod::ALL
            .iter()
            .position(|x| *x == method)
            .unwrap_or(0);
        self.logins[m][usize::from(!ok)].inc();
    }

    /// A command with `verb` was received (after parsing).
    pub fn command(&self, verb: &'static str) {
        self.commands.get_or_create(&[("verb", verb)]).inc();
    }

    /// A numeric error `code` was sent.
    pub fn error_sent(&self, code: ErrorCode) {
        self.errors.get_or_create(&[("code", code.number())]).inc();
    }

    /// `limit` refused something.
    pub fn limit_rejection(&self, limit: Limit) {
        self.limits.get_or_create(&[("limit", limit.label())]).inc();
    }

    /// Records a store operation `op` that took `took`.
    pub fn store_op(&self, op: &'static str, took: Duration) {
        self.store_latency
            .get_or_create(&[("op", op)])
            .observe(took.as_secs_f64());
    }

    /// An operator broadcast was sent.
    pub fn broadcast(&self) {
        self.broadcasts.inc();
    }

    /// An operator kicked a session.
    pub fn kick(&self) {
        self.kicks.inc();
    }

    /// Sets the gauges of shared state just before a scrape. `offline_queue`
    /// is `None` when the store did not answer.
    pub fn set_state(&self, online_users: usize, switchboards: usize, offline_queue: Option<u64>) {
        self.online_users
            .set(i64::try_from(online_users).unwrap_or(i64::MAX));
        self.switchboards
            .set(i64::try_from(switchboards).unwrap_or(i64::MAX));
        self.offline_queue.set(
            offline_queue
                .and_then(|n| i64::try_from(n).ok())
                .unwrap_or(-1),
        );
    }

    /// The current connection counts: `(role, dialect, open)` for every
    /// non-zero gauge (for `msnpd stats`).
    pub fn connection_counts(&self) -> Vec<(&'static str, &'static str, i64)> {
        let mut out = Vec::new();
        for (r, row) in self.connections.iter().enumerate() {
            for (slot, gauge) in row.iter().enumerate() {
                let n = gauge.get();
                if n != 0 {
                    out.push((role_label(r), dialect_label(slot), n));
                }
            }
        }
        out
    }

    /// The OpenMetrics text of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Err(e) = encode(&mut text, &self.registry) {
            tracing::error!(error = %e, "cannot encode metrics");
        }
        text
    }
}

/// One open connection's place in the connection gauges and its share of the
/// send-queue gauge; undone when dropped.
#[derive(Debug)]
pub struct ConnectionGauge {
    metrics: &'static Metrics,
    role: usize,
    slot: usize,
    queued: i64,
}

impl ConnectionGauge {
    /// The connection's dialect is now `dialect` (cheap when unchanged).
    pub fn set_dialect(&mut self, dialect: Option<Dialect>) {
        let slot = dialect_slot(dialect);
        if slot != self.slot {
            self.metrics.connections[self.role][self.slot].dec();
            self.metrics.connections[self.role][slot].inc();
            self.slot = slot;
        }
    }

    /// The connection's send queue now holds `bytes` (cheap when unchanged).
    pub fn set_queued(&mut self, bytes: usize) {
        let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
        if bytes != self.queued {
            self.metrics.send_queue_bytes.inc_by(bytes - self.queued);
            self.queued = bytes;
        }
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        self.metrics.connections[self.role][self.slot].dec();
        if self.queued != 0 {
            self.metrics.send_queue_bytes.dec_by(self.queued);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_gauges_follow_the_dialect_and_close() {
        let m: &'static Metrics = Box::leak(Box::new(Metrics::new()));
        let mut g = m.connection_opened(ConnRole::Notification);
        assert_eq!(m.connection_counts(), vec![("ns", "none", 1)]);
        g.set_dialect(Dialect::new(8));
        assert_eq!(m.connection_counts(), vec![("ns", "MSNP8", 1)]);
        g.set_queued(100);
        g.set_queued(40);
        assert!(m.encode().contains("msnpd_send_queue_bytes 40"));
        drop(g);
        assert!(m.connection_counts().is_empty());
        assert!(m.encode().contains("msnpd_send_queue_bytes 0"));
    }

    #[test]
    fn labelled_counters_are_encoded() {
        let m = Metrics::new();
        m.command("USR");
        m.command("USR");
        m.error_sent(ErrorCode::AuthFailed);
        m.login(LoginMethod::Md5, false);
        m.limit_rejection(Limit::CommandRate);
        m.store_op("account", Duration::from_millis(2));
        let text = m.encode();
        assert!(
            text.contains(r#"msnpd_commands_total{verb="USR"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"msnpd_errors_sent_total{code="911"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"msnpd_logins_total{method="md5",result="failed"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"msnpd_limit_rejections_total{limit="commands_per_sec"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"msnpd_store_operation_seconds_count{op="account"} 1"#));
        assert!(text.ends_with("# EOF\n"));
    }
}
