//! Rate limits on what a client does once connected, as governor token
//! buckets: commands per connection ([`CommandRate`], one bucket each) and
//! switchboard invitations per account ([`InviteLimiter`], one bucket per
//! account over all its switchboards). The gate charges both.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

/// How many checks pass between sweeps of the per-account table.
const SWEEP_EVERY: u64 = 1024;

/// One connection's command budget.
#[derive(Debug)]
pub struct CommandRate<C: Clock = MonotonicClock> {
    bucket: RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<C::Instant>>,
}

impl CommandRate {
    /// A full bucket of `quota`.
    pub fn new(quota: Quota) -> Self {
        Self::with_clock(quota, MonotonicClock)
    }
}

impl<C: Clock> CommandRate<C> {
    /// A full bucket of `quota` on `clock`.
    pub fn with_clock(quota: Quota, clock: C) -> Self {
        CommandRate {
            bucket: RateLimiter::direct_with_clock(quota, clock),
        }
    }

    /// Takes one command's token; `false` when the connection is over its rate.
    pub fn allow(&self) -> bool {
        self.bucket.check().is_ok()
    }
}

/// Invitation budgets, one per account.
#[derive(Debug)]
pub struct InviteLimiter<C: Clock = MonotonicClock> {
    buckets: RwLock<Buckets<C>>,
    clock: C,
    checks: AtomicU64,
}

type Buckets<C> =
    RateLimiter<String, HashMapStateStore<String>, C, NoOpMiddleware<<C as Clock>::Instant>>;

impl InviteLimiter {
    /// A limiter granting each account `quota`.
    pub fn new(quota: Quota) -> Self {
        Self::with_clock(quota, MonotonicClock)
    }
}

impl<C: Clock + Clone> InviteLimiter<C> {
    /// A limiter granting each account `quota`, on `clock`.
    pub fn with_clock(quota: Quota, clock: C) -> Self {
        InviteLimiter {
            buckets: RwLock::new(RateLimiter::new(
                quota,
                HashMapStateStore::default(),
                clock.clone(),
            )),
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// Grants `quota` from now on (a reload); every account starts with a full
    /// bucket again.
    pub fn set_quota(&self, quota: Quota) {
        let fresh = RateLimiter::new(quota, HashMapStateStore::default(), self.clock.clone());
        *self.buckets.write().unwrap_or_else(|p| p.into_inner()) = fresh;
    }

    /// Takes one invitation's token for `account` (compared lower-cased);
    /// `false` when the account is over its rate.
    pub fn allow(&self, account: &str) -> bool {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            let buckets = self.buckets.read().unwrap_or_else(|p| p.into_inner());
            buckets.retain_recent();
            buckets.shrink_to_fit();
        }
        self.buckets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .check_key(&account.to_ascii_lowercase())
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    fn n(v: u32) -> NonZeroU32 {
        NonZeroU32::new(v).unwrap()
    }

    #[test]
    fn commands_burst_then_refill_at_the_rate() {
        let clock = FakeRelativeClock::default();
        let rate =
            CommandRate::with_clock(Quota::per_second(n(2)).allow_burst(n(4)), clock.clone());
        assert!((0..4).all(|_| rate.allow()));
        assert!(!rate.allow());
        clock.advance(Duration::from_millis(499));
        assert!(!rate.allow());
        clock.advance(Duration::from_millis(1));
        assert!(rate.allow());
        assert!(!rate.allow());
        clock.advance(Duration::from_secs(10));
        assert!((0..4).all(|_| rate.allow()));
        assert!(!rate.allow());
    }

    #[test]
    fn invites_per_account() {
        let clock = FakeRelativeClock::default();
        let invites = InviteLimiter::with_clock(Quota::per_minute(n(3)), clock.clone());
        assert!((0..3).all(|_| invites.allow("a@x.org")));
        assert!(!invites.allow("A@x.org"));
        assert!(invites.allow("b@x.org"));
        clock.advance(Duration::from_secs(20));
        assert!(invites.allow("a@x.org"));
        assert!(!invites.allow("a@x.org"));
    }

    #[test]
    fn idle_accounts_are_swept() {
        let clock = FakeRelativeClock::default();
        let invites = InviteLimiter::with_clock(Quota::per_minute(n(3)), clock.clone());
        for i in 0..SWEEP_EVERY - 1 {
            invites.allow(&format!("u{i}@x.org"));
        }
        clock.advance(Duration::from_secs(120));
        invites.allow("last@x.org");
        let buckets = invites.buckets.read().unwrap().len();
        assert!(buckets <= 1, "{buckets}");
    }
}
