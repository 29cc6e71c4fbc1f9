//! The password check shared by every login path (Passport 1.4 over HTTP now,
//! the notification role later): the failed-login throttle first, then store
//! lookup, then argon2 verification off the async runtime.

use std::net::IpAddr;
use std::sync::OnceLock;

use tokio::sync::Semaphore;
use tracing::{error, warn};

use crate::core::auth::{hash_password, verify_password};
use crate::core::model::Account;
use crate::server::limits::LoginThrottle;
use crate::store::{Store, StoreError};

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    /// Unknown account or wrong password (deliberately not told apart).
    #[error("bad credentials")]
    BadCredentials,
    /// Too many recent failures for the account or from the address: refused
    /// without looking at the password.
    #[error("too many failed logins")]
    Throttled,
    /// The credential store could not answer; the client may retry later.
    #[error("credential store unavailable")]
    Unavailable,
}

/// Checks `password` for the account `email` (compared lower-cased) and returns
/// the account as stored.
///
/// The argon2 verification runs on the blocking pool, at most a few at once
/// (each one takes tens of MiB), so a login storm queues here instead of
/// exhausting memory. An unknown account costs the same hash work as a known
/// one, so response time does not reveal which accounts exist. Store failures are logged here and reported as
/// [`LoginError::Unavailable`]; neither the password nor store internals reach
/// the caller's client.
pub async fn check_password(
    store: &Store,
    email: &str,
    password: &str,
) -> Result<Account, LoginError> {
    let email = email.to_lowercase();
    let (account, phc) = match store.credentials(&email).await {
        Ok(creds) => (Some(creds.account), Some(creds.password_hash)),
        Err(StoreError::UnknownUser) => (None, None),
        Err(e) => {
            warn!(error = %e, "credential lookup failed");
            return Err(LoginError::Unavailable);
        }
    };
    let Ok(permit) = verify_slots().acquire().await else {
        error!("password verification slots closed");
        return Err(LoginError::Unavailable);
    };
    let password = password.to_owned();
    let verified = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        match phc {
            Some(phc) => verify_password(&phc, &password),
            None => {
                // Same work as a real check; the result is thrown away.
                let _ = verify_password(decoy_hash(), &password);
                false
            }
        }
    })
    .await;
    match (verified, account) {
        (Ok(true), Some(account)) => Ok(account),
        (Ok(_), _) => Err(LoginError::BadCredentials),
        (Err(e), _) => {
            error!(error = %e, "password verification task failed");
            Err(LoginError::Unavailable)
        }
    }
}

/// A password login from `ip`: refused at once with [`LoginError::Throttled`]
/// while `throttle` holds the account or the address (no store lookup, no
/// hash, so brute force costs no argon2 time past the limits); otherwise
/// [`check_password`], with a wrong password counted against both.
pub async fn password_login(
    store: &Store,
    throttle: &LoginThrottle,
    ip: IpAddr,
    email: &str,
    password: &str,
) -> Result<Account, LoginError> {
    let metrics = crate::obs::metrics();
    if throttle.password_refused(ip, email) {
        metrics.login(crate::obs::LoginMethod::Http, false);
        return Err(LoginError::Throttled);
    }
    let result = check_password(store, email, password).await;
    if result == Err(LoginError::BadCredentials) {
        throttle.password_failed(ip, email);
    }
    metrics.login(crate::obs::LoginMethod::Http, result.is_ok());
    result
}

/// Permits for concurrent argon2 verifications: one per CPU, at least two.
fn verify_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(2, usize::from);
        Semaphore::new(cpus.max(2))
    })
}

/// An argon2 hash of a fixed string, made once, checked against when the account
/// does not exist.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("msnpd decoy password, never a real one"))
}
