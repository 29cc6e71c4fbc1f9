//! Admission of new connections: the connect rate per IP (a governor token
//! bucket per address), open connections per IP, and the global cap. Listeners
//! ask [`ConnectionLimiter::admit`] right after `accept` and hold the returned
//! [`ConnectionPermit`] for the connection's life; dropping it gives the slots back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use governor::clock::MonotonicClock;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};

use super::{Exemptions, ip_key};

/// How many admissions pass between sweeps of the connect-rate table.
const SWEEP_EVERY: u64 = 1024;

/// Which kind of listener a connection arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// An MSNP listener (dispatch, notification, switchboard).
    Msnp,
    /// The HTTP nexus and login listener.
    Http,
    /// The admin listener: per-IP limits apply, the global cap does not, so a
    /// full server can still be looked at.
    Admin,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The process holds `max_connections` already.
    #[error("server full")]
    ServerFull,
    /// The address holds `max_connections_per_ip` already.
    #[error("too many connections from this address")]
    TooManyFromIp,
    /// The address opened `connects_per_ip` connections within the window.
    #[error("connecting too fast from this address")]
    TooFastFromIp,
}

type KeyedLimiter = RateLimiter<IpAddr, HashMapStateStore<IpAddr>, MonotonicClock>;

/// Counts open connections and decides whether a new one may stay.
#[derive(Debug)]
pub struct ConnectionLimiter {
    max_total: AtomicUsize,
    max_per_ip: AtomicUsize,
    exempt: RwLock<Exemptions>,
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    connect_rate: RwLock<KeyedLimiter>,
    admissions: AtomicU64,
    refused: AtomicU64,
}

impl ConnectionLimiter {
    /// A limiter allowing `max_total` connections, `max_per_ip` per address and
    /// new connections per address at `connect_quota`; addresses in `exempt`
    /// skip the per-IP limits.
    pub fn new(
        max_total: usize,
        max_per_ip: usize,
        connect_quota: Quota,
        exempt: Exemptions,
    ) -> ConnectionLimiter {
        ConnectionLimiter {
            max_total: AtomicUsize::new(max_total),
            max_per_ip: AtomicUsize::new(max_per_ip),
            exempt: RwLock::new(exempt),
            total: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            connect_rate: RwLock::new(RateLimiter::new(
                connect_quota,
                HashMapStateStore::default(),
                MonotonicClock,
            )),
            admissions: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// Puts new limits in force (a reload). Open connections keep their
    /// slots and count against the new limits; the connect-rate buckets start
    /// full again.
    pub fn reconfigure(
        &self,
        max_total: usize,
        max_per_ip: usize,
        connect_quota: Quota,
        exempt: Exemptions,
    ) {
        self.max_total.store(max_total, Ordering::Release);
        self.max_per_ip.store(max_per_ip, Ordering::Release);
        *self.exempt.write().unwrap_or_else(|p| p.into_inner()) = exempt;
        *self.connect_rate.write().unwrap_or_else(|p| p.into_inner()) =
            RateLimiter::new(connect_quota, HashMapStateStore::default(), MonotonicClock);
    }

    /// Decides on a connection from `peer` that just arrived on a `kind`
    /// listener. Checked in order: connect rate of the address, the global cap,
    /// open connections of the address. Costs a few map operations, never I/O.
    pub fn admit(
        self: &Arc<Self>,
        peer: IpAddr,
        kind: ListenerKind,
    ) -> Result<ConnectionPermit, Refusal> {
        if self.admissions.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            let rate = self.connect_rate.read().unwrap_or_else(|p| p.into_inner());
            rate.retain_recent();
            rate.shrink_to_fit();
        }
        let result = self.try_admit(peer, kind);
        if let Err(refusal) = &result {
            self.refused.fetch_add(1, Ordering::Relaxed);
            crate::obs::metrics().limit_rejection(match refusal {
                Refusal::ServerFull => crate::obs::Limit::MaxConnections,
                Refusal::TooManyFromIp => crate::obs::Limit::ConnectionsPerIp,
                Refusal::TooFastFromIp => crate::obs::Limit::ConnectRate,
            });
        }
        result
    }

    fn try_admit(
        self: &Arc<Self>,
        peer: IpAddr,
        kind: ListenerKind,
    ) -> Result<ConnectionPermit, Refusal> {
        let exempt = self
            .exempt
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .covers(peer);
        let key = (!exempt).then(|| ip_key(peer));
        if let Some(key) = key
            && self
                .connect_rate
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .check_key(&key)
                .is_err()
        {
            return Err(Refusal::TooFastFromIp);
        }
        // Built up step by step: dropping it on a later refusal undoes the earlier steps.
        let mut permit = ConnectionPermit {
            limiter: Arc::clone(self),
            counted: false,
            ip: None,
        };
        if kind != ListenerKind::Admin {
            if self.total.fetch_add(1, Ordering::AcqRel) >= self.max_total.load(Ordering::Acquire) {
                self.total.fetch_sub(1, Ordering::AcqRel);
                return Err(Refusal::ServerFull);
            }
            permit.counted = true;
        }
        if let Some(key) = key {
            let mut map = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
            let open = map.entry(key).or_insert(0);
            if *open >= self.max_per_ip.load(Ordering::Acquire) {
                if *open == 0 {
                    map.remove(&key);
                }
                return Err(Refusal::TooManyFromIp);
            }
            *open += 1;
            permit.ip = Some(key);
        }
        Ok(permit)
    }

    /// Open connections counted against the global cap.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// Open connections of `peer`'s address (0 when exempt).
    pub fn open_from(&self, peer: IpAddr) -> usize {
        let map = self.per_ip.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&ip_key(peer)).copied().unwrap_or(0)
    }

    /// Connections refused since start.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// One admitted connection's slots; dropping it gives them back.
#[derive(Debug)]
pub struct ConnectionPermit {
    limiter: Arc<ConnectionLimiter>,
    counted: bool,
    ip: Option<IpAddr>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        if self.counted {
            self.limiter.total.fetch_sub(1, Ordering::AcqRel);
        }
        if let Some(key) = self.ip {
            let mut map = self
                .limiter
                .per_ip
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(open) = map.get_mut(&key) {
                *open = open.saturating_sub(1);
                if *open == 0 {
                    map.remove(&key);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::*;
    use crate::config::IpNet;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    /// A limiter whose connect budget does not refill during a test.
    fn limiter(total: usize, per_ip: usize, connects: u32) -> Arc<ConnectionLimiter> {
        let n = NonZeroU32::new(connects).unwrap();
        let quota = Quota::with_period(Duration::from_secs(3600))
            .unwrap()
            .allow_burst(n);
        Arc::new(ConnectionLimiter::new(
            total,
            per_ip,
            quota,
            Exemptions(vec![IpNet::LOOPBACK_V4]),
        ))
    }

    #[test]
    fn per_ip_count_and_release() {
        let l = limiter(100, 2, 100);
        let a = ip("10.0.0.1");
        let p1 = l.admit(a, ListenerKind::Msnp).unwrap();
        let p2 = l.admit(a, ListenerKind::Http).unwrap();
        assert_eq!(
            l.admit(a, ListenerKind::Msnp).unwrap_err(),
            Refusal::TooManyFromIp
        );
        // Another address is not affected.
        let other = l.admit(ip("10.0.0.2"), ListenerKind::Msnp).unwrap();
        assert_eq!(l.open_from(a), 2);
        drop(p1);
        let p3 = l.admit(a, ListenerKind::Msnp).unwrap();
        assert_eq!(l.open(), 3);
        drop((p2, p3, other));
        assert_eq!(l.open(), 0);
        assert_eq!(l.open_from(a), 0);
        assert!(l.per_ip.lock().unwrap().is_empty());
        assert_eq!(l.refused(), 1);
    }

    #[test]
    fn ipv6_counts_per_64() {
        let l = limiter(100, 1, 100);
        let _p = l.admit(ip("2001:db8::1"), ListenerKind::Msnp).unwrap();
        assert_eq!(
            l.admit(ip("2001:db8::2"), ListenerKind::Msnp).unwrap_err(),
            Refusal::TooManyFromIp
        );
        assert!(l.admit(ip("2001:db8:0:1::1"), ListenerKind::Msnp).is_ok());
    }

    #[test]
    fn connect_rate() {
        let l = limiter(100, 100, 3);
        let a = ip("10.0.0.1");
        for _ in 0..3 {
            drop(l.admit(a, ListenerKind::Msnp).unwrap());
        }
        assert_eq!(
            l.admit(a, ListenerKind::Msnp).unwrap_err(),
            Refusal::TooFastFromIp
        );
        assert!(l.admit(ip("10.0.0.2"), ListenerKind::Msnp).is_ok());
    }

    #[test]
    fn global_cap_spares_admin() {
        let l = limiter(2, 100, 100);
        let _a = l.admit(ip("10.0.0.1"), ListenerKind::Msnp).unwrap();
        let _b = l.admit(ip("10.0.0.2"), ListenerKind::Http).unwrap();
        assert_eq!(
            l.admit(ip("10.0.0.3"), ListenerKind::Msnp).unwrap_err(),
            Refusal::ServerFull
        );
        // The refused connection left no per-IP slot behind.
        assert_eq!(l.open_from(ip("10.0.0.3")), 0);
        assert!(l.admit(ip("10.0.0.3"), ListenerKind::Admin).is_ok());
        assert_eq!(l.open(), 2);
    }

    #[test]
    fn exempt_addresses_skip_per_ip_limits_not_the_cap() {
        let l = limiter(3, 1, 1);
        let lo = ip("127.0.0.1");
        let permits: Vec<_> = (0..3)
            .map(|_| l.admit(lo, ListenerKind::Msnp).unwrap())
            .collect();
        assert_eq!(l.open_from(lo), 0);
        assert_eq!(
            l.admit(lo, ListenerKind::Msnp).unwrap_err(),
            Refusal::ServerFull
        );
        drop(permits);
    }
}
