//! Failed-login throttling: after N failures of one account (or from one IP
//! address) within a window, that account's password logins (or every login
//! from that address) are refused at once, before the store or a password hash
//! is touched, until the window that began at the first failure ends. This keeps
//! the CPU argon2 may use under brute force bounded by the limits, not by the
//! attacker.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use super::{Exemptions, ip_key};

/// Entries kept before a sweep of expired ones (doubles with the live count).
const SWEEP_FLOOR: usize = 1024;

/// The failed-login state of every login path.
#[derive(Debug)]
pub struct LoginThrottle {
    per_account: FailureWindow<String>,
    per_ip: FailureWindow<IpAddr>,
    exempt: RwLock<Exemptions>,
}

impl LoginThrottle {
    /// Refuses an account after `per_account` failures and an address after
    /// `per_ip` failures within `window`; `exempt` addresses have no per-IP limit.
    pub fn new(
        per_account: u32,
        per_ip: u32,
        window: Duration,
        exempt: Exemptions,
    ) -> LoginThrottle {
        LoginThrottle {
            per_account: FailureWindow::new("account", per_account, window),
            per_ip: FailureWindow::new("address", per_ip, window),
            exempt: RwLock::new(exempt),
        }
    }

    /// Puts new limits in force (a reload); failures already counted stay.
    pub fn reconfigure(&self, per_account: u32, per_ip: u32, window: Duration, exempt: Exemptions) {
        self.per_account.reconfigure(per_account, window);
        self.per_ip.reconfigure(per_ip, window);
        *self.exempt.write().unwrap_or_else(|p| p.into_inner()) = exempt;
    }

    fn exempt(&self, ip: IpAddr) -> bool {
        self.exempt
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .covers(ip)
    }

    /// Whether a password login for `account` from `ip` must be refused now,
    /// without checking the password.
    pub fn password_refused(&self, ip: IpAddr, account: &str) -> bool {
        let refused = self.password_refused_at(ip, account, Instant::now());
        if refused {
            crate::obs::metrics().limit_rejection(crate::obs::Limit::LoginFailures);
        }
        refused
    }

    /// Whether a ticket login from `ip` must be refused now. Only the address
    /// counts: a ticket holder may log in while someone guesses the password.
    pub fn ticket_refused(&self, ip: IpAddr) -> bool {
        let refused = self.ip_blocked(ip, Instant::now());
        if refused {
            crate::obs::metrics().limit_rejection(crate::obs::Limit::LoginFailures);
        }
        refused
    }

    /// Notes a failed password login for `account` from `ip`.
    pub fn password_failed(&self, ip: IpAddr, account: &str) {
        self.password_failed_at(ip, account, Instant::now());
    }

    /// Notes a failed ticket login from `ip`.
    pub fn ticket_failed(&self, ip: IpAddr) {
        self.ip_failed(ip, Instant::now());
    }

    fn password_refused_at(&self, ip: IpAddr, account: &str, now: Instant) -> bool {
        self.ip_blocked(ip, now) || self.per_account.blocked(&account.to_ascii_lowercase(), now)
    }

    fn password_failed_at(&self, ip: IpAddr, account: &str, now: Instant) {
        self.per_account.record(account.to_ascii_lowercase(), now);
        self.ip_failed(ip, now);
    }

    fn ip_blocked(&self, ip: IpAddr, now: Instant) -> bool {
        !self.exempt(ip) && self.per_ip.blocked(&ip_key(ip), now)
    }

    fn ip_failed(&self, ip: IpAddr, now: Instant) {
        if !self.exempt(ip) {
            self.per_ip.record(ip_key(ip), now);
        }
    }
}

/// Failures per key within a window that starts at the key's first failure.
#[derive(Debug)]
struct FailureWindow<K> {
    what: &'static str,
    state: Mutex<Table<K>>,
}

#[derive(Debug)]
struct Table<K> {
    max: u32,
    window: Duration,
    entries: HashMap<K, Entry>,
    sweep_at: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    since: Instant,
    failures: u32,
}

impl<K> Table<K> {
    fn live(&self, entry: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(entry.since) < self.window
    }
}

impl<K: Hash + Eq + Clone + std::fmt::Display> FailureWindow<K> {
    fn new(what: &'static str, max: u32, window: Duration) -> Self {
        FailureWindow {
            what,
            state: Mutex::new(Table {
                max: max.max(1),
                window,
                entries: HashMap::new(),
                sweep_at: SWEEP_FLOOR,
            }),
        }
    }

    fn reconfigure(&self, max: u32, window: Duration) {
        let mut table = self.state.lock().unwrap_or_else(|p| p.into_inner());
        table.max = max.max(1);
        table.window = window;
    }

    fn blocked(&self, key: &K, now: Instant) -> bool {
        let table = self.state.lock().unwrap_or_else(|p| p.into_inner());
        table
            .entries
            .get(key)
            .is_some_and(|e| table.live(e, now) && e.failures >= table.max)
    }

    fn record(&self, key: K, now: Instant) {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let table = &mut *guard;
        if table.entries.len() >= table.sweep_at {
            let window = table.window;
            table
                .entries
                .retain(|_, e| now.saturating_duration_since(e.since) < window);
            table.sweep_at = (table.entries.len() * 2).max(SWEEP_FLOOR);
        }
        let (max, window) = (table.max, table.window);
        let entry = table.entries.entry(key.clone()).or_insert(Entry {
            since: now,
            failures: 0,
        });
        if now.saturating_duration_since(entry.since) >= window {
            *entry = Entry {
                since: now,
                failures: 0,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
        if entry.failures == max {
            tracing::warn!(
                "{} {key}: {} failed logins; refusing its logins for up to {} s",
                self.what,
                max,
                window.as_secs()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IpNet;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn throttle() -> LoginThrottle {
        LoginThrottle::new(
            3,
            5,
            Duration::from_secs(60),
            Exemptions(vec![IpNet::LOOPBACK_V4]),
        )
    }

    #[test]
    fn account_blocks_after_n_failures_until_the_window_ends() {
        let t = throttle();
        let t0 = Instant::now();
        let a = ip("10.0.0.1");
        let b = ip("10.0.0.2");
        for i in 0..3 {
            assert!(!t.password_refused_at(a, "u@x.org", t0), "{i}");
            t.password_failed_at(if i % 2 == 0 { a } else { b }, "U@x.org", t0);
        }
        // From any address, in any spelling.
        assert!(t.password_refused_at(ip("10.9.9.9"), "u@X.org", t0));
        assert!(!t.password_refused_at(a, "other@x.org", t0));
        // Tickets are judged by address only.
        assert!(!t.ip_blocked(a, t0));
        let later = t0 + Duration::from_secs(60);
        assert!(!t.password_refused_at(a, "u@x.org", later));
        // A new window starts with the next failure.
        t.password_failed_at(a, "u@x.org", later);
        assert!(!t.password_refused_at(a, "u@x.org", later));
    }

    #[test]
    fn address_blocks_after_n_failures() {
        let t = throttle();
        let t0 = Instant::now();
        let a = ip("10.0.0.1");
        for i in 0..5 {
            assert!(!t.ip_blocked(a, t0), "{i}");
            t.password_failed_at(a, &format!("u{i}@x.org"), t0);
        }
        assert!(t.ip_blocked(a, t0));
        assert!(t.password_refused_at(a, "fresh@x.org", t0));
        assert!(!t.ip_blocked(ip("10.0.0.2"), t0));
        assert!(!t.password_refused_at(ip("10.0.0.2"), "fresh@x.org", t0));
    }

    #[test]
    fn ticket_failures_count_per_address() {
        let t = throttle();
        let a = ip("2001:db8::1");
        for _ in 0..5 {
            assert!(!t.ticket_refused(a));
            t.ticket_failed(a);
        }
        // The whole /64.
        assert!(t.ticket_refused(ip("2001:db8::2")));
        assert!(!t.ticket_refused(ip("2001:db8:0:1::1")));
    }

    #[test]
    fn exempt_addresses_have_no_ip_limit_but_accounts_still_count() {
        let t = throttle();
        let lo = ip("127.0.0.1");
        for i in 0..10 {
            t.password_failed_at(lo, &format!("u{i}@x.org"), Instant::now());
            t.ticket_failed(lo);
        }
        assert!(!t.ticket_refused(lo));
        for _ in 0..3 {
            t.password_failed(lo, "victim@x.org");
        }
        assert!(t.password_refused(lo, "victim@x.org"));
    }

    #[test]
    fn expired_entries_are_swept() {
        let w = FailureWindow::new("account", 2, Duration::from_secs(1));
        let t0 = Instant::now();
        for i in 0..SWEEP_FLOOR {
            w.record(format!("k{i}"), t0);
        }
        let later = t0 + Duration::from_secs(2);
        w.record("fresh".to_string(), later);
        let table = w.state.lock().unwrap();
        assert_eq!(table.entries.len(), 1);
        assert_eq!(table.sweep_at, SWEEP_FLOOR);
    }
}
