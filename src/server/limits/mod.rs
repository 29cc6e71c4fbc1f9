//! Shared limiter state of a running server, built once from `[limits]`: who
//! may connect ([`ConnectionLimiter`]: per-IP connections, connect rate per IP,
//! the global cap), whose logins are refused without a password check
//! ([`LoginThrottle`]), and the command and invitation rates ([`CommandRate`],
//! [`InviteLimiter`]). The per-connection limits (line and payload sizes, send
//! queue, timeouts) live in the connection actor; `docs/limits.md` lists them all.

mod connections;
mod logins;
mod rates;

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::Quota;

pub use connections::{ConnectionLimiter, ConnectionPermit, ListenerKind, Refusal};
pub use logins::LoginThrottle;
pub use rates::{CommandRate, InviteLimiter};

use crate::config::{IpNet, LimitsConfig};

/// Every shared limiter of one server process.
#[derive(Debug)]
pub struct Limits {
    /// Admission of new connections on every listener.
    pub connections: Arc<ConnectionLimiter>,
    /// Failed-login throttling for every login path.
    pub logins: Arc<LoginThrottle>,
    /// Switchboard invitations per account.
    pub invites: InviteLimiter,
    command_quota: Mutex<Quota>,
}

/// The quotas and sets `[limits]` describes, derived once.
struct Derived {
    exempt: Exemptions,
    connect_quota: Quota,
    login_window: Duration,
    invite_quota: Quota,
    command_quota: Quota,
}

impl Derived {
    fn of(config: &LimitsConfig) -> Derived {
        let per_window = nonzero(config.connects_per_ip);
        let window = Duration::from_secs(config.connect_window_secs.max(1));
        Derived {
            exempt: Exemptions::new(config.exempt_networks.clone()),
            connect_quota: Quota::with_period(window / per_window.get())
                .unwrap_or_else(|| Quota::per_second(per_window))
                .allow_burst(per_window),
            login_window: Duration::from_secs(config.login_failure_window_secs),
            invite_quota: Quota::per_minute(nonzero(config.invites_per_minute)),
            command_quota: Quota::per_second(nonzero(config.commands_per_sec))
                .allow_burst(nonzero(config.command_burst)),
        }
    }
}

impl Limits {
    /// The limiters `config` describes.
    pub fn new(config: &LimitsConfig) -> Limits {
        let d = Derived::of(config);
        Limits {
            connections: Arc::new(ConnectionLimiter::new(
                config.max_connections,
                config.max_connections_per_ip,
                d.connect_quota,
                d.exempt.clone(),
            )),
            logins: Arc::new(LoginThrottle::new(
                config.login_failures_per_account,
                config.login_failures_per_ip,
                d.login_window,
                d.exempt,
            )),
            invites: InviteLimiter::new(d.invite_quota),
            command_quota: Mutex::new(d.command_quota),
        }
    }

    /// Puts the shared limits of `config` in force (a reload): the connection
    /// caps and exemptions at once (open connections keep their slots), the
    /// failed-login counts keep going under the new thresholds, rate buckets
    /// (connect rate, invitations) start full, and the command rate holds for
    /// connections opened afterwards.
    pub fn reconfigure(&self, config: &LimitsConfig) {
        let d = Derived::of(config);
        self.connections.reconfigure(
            config.max_connections,
            config.max_connections_per_ip,
            d.connect_quota,
            d.exempt.clone(),
        );
        self.logins.reconfigure(
            config.login_failures_per_account,
            config.login_failures_per_ip,
            d.login_window,
            d.exempt,
        );
        self.invites.set_quota(d.invite_quota);
        *self.command_quota.lock().unwrap_or_else(|p| p.into_inner()) = d.command_quota;
    }

    /// A fresh command budget for one new connection.
    pub fn command_rate(&self) -> CommandRate {
        CommandRate::new(*self.command_quota.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// `n`, or 1 for 0 (validation rejects 0; this keeps a bad value from panicking).
fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Networks the per-IP limits leave alone.
#[derive(Debug, Clone, Default)]
pub struct Exemptions(Vec<IpNet>);

impl Exemptions {
    /// Exempts the addresses in `networks`.
    pub fn new(networks: Vec<IpNet>) -> Exemptions {
        Exemptions(networks)
    }

    /// Whether `ip` is exempt.
    pub fn covers(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(ip))
    }
}

/// The address a per-IP limit counts `ip` under: an IPv4 address (also when
/// IPv4-mapped) as it is, an IPv6 address by its /64, since one host usually
/// holds a whole /64 (as Ergo counts).
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ip_keys() {
        assert_eq!(ip_key(ip("10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(ip_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(ip_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(
            ip_key(ip("2001:db8:1:2:ffff::1")),
            ip_key(ip("2001:db8:1:2::9"))
        );
    }

    #[test]
    fn exemptions() {
        let e = Exemptions(vec![IpNet::LOOPBACK_V4, IpNet::LOOPBACK_V6]);
        assert!(e.covers(ip("127.0.0.1")));
        assert!(e.covers(ip("::1")));
        assert!(e.covers(ip("::ffff:127.0.0.1")));
        assert!(!e.covers(ip("10.0.0.1")));
        assert!(!Exemptions::default().covers(ip("127.0.0.1")));
    }

    #[test]
    fn built_from_the_defaults() {
        let limits = Limits::new(&LimitsConfig::default());
        let rate = limits.command_rate();
        // The default burst of 100 commands goes through at once.
        assert!((0..100).all(|_| rate.allow()));
        assert!(!rate.allow());
        assert!((0..30).all(|_| limits.invites.allow("a@x.org")));
        assert!(!limits.invites.allow("a@x.org"));
        assert!(limits.invites.allow("b@x.org"));
    }
}
