//! Administration shared by the `msnpd` command line and tests: opening the store
//! exactly as `serve` does, managing accounts and issuing login tickets.

use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::core::auth::{self, TicketKey};
use crate::core::lists::{MAX_NICK_BYTES, is_valid_email};
use crate::core::model::Account;
use crate::store::{GroupCommit, Store, StoreError};

/// Why an administration command failed. Messages name the problem and the
/// account.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The account name is not an email address msnpd accepts.
    #[error("`{0}` is not a valid account name (expected user@domain.tld)")]
    InvalidEmail(String),
    /// The password is empty.
    #[error("the password must not be empty")]
    EmptyPassword,
    /// The friendly name is empty, too long or has control characters.
    #[error("invalid nickname: {0}")]
    InvalidNick(String),
    /// `user add` for an account that exists.
    #[error("user {0} already exists")]
    UserExists(String),
    /// The account does not exist.
    #[error("user {0} does not exist")]
    UnknownUser(String),
    /// Hashing the password failed (its worker thread died).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl AdminError {
    /// Maps a store error about `email` to the error naming that account.
    fn from_store(error: StoreError, email: &str) -> AdminError {
        match error {
            StoreError::UserExists => AdminError::UserExists(email.to_owned()),
            StoreError::UnknownUser => AdminError::UnknownUser(email.to_owned()),
            other => AdminError::Store(other),
        }
    }
}

/// Opens the store named by the configuration and applies pending migrations:
/// exactly how `serve` opens it.
pub async fn open_store(config: &Config) -> Result<Store, StoreError> {
    let group_commit = GroupCommit {
        max_batch: config.offline.commit_batch_max,
        window: Duration::from_micros(config.offline.commit_window_us),
        ..GroupCommit::default()
    };
    let store = Store::connect_with(
        &config.store.url,
        config.store.max_connections,
        config.store.sqlite_cache_kib,
        group_commit,
    )
    .await?;
    store
        .login_snapshots()
        .set_capacity(config.store.remembered_logins);
    store.migrate().await?;
    Ok(store)
}

/// The key that signs and checks login tickets: `auth.ticket_secret` when set,
/// else the secret kept in the store (created on first use), so every process on
/// the same store agrees.
pub async fn ticket_key(store: &Store, config: &Config) -> Result<TicketKey, StoreError> {
    let secret = &config.auth.ticket_secret;
    if secret.is_empty() {
        Ok(TicketKey::new(&store.ticket_secret().await?))
    } else {
        Ok(TicketKey::new(secret.as_bytes()))
    }
}

/// Creates an account. The email is lower-cased and must be valid; the nickname
/// defaults to the email. The password is kept as an argon2id hash and, when
/// `auth.md5_dialects` is on, also as an MD5 salt and verifier for MSNP2–7.
pub async fn add_user(
    store: &Store,
    config: &Config,
    email: &str,
    password: &str,
    nick: Option<&str>,
) -> Result<Account, AdminError> {
    let email = normalize_email(email)?;
    let nick = match nick {
        Some(nick) => check_nick(nick)?.to_owned(),
        None => email.clone(),
    };
    let secrets = PasswordSecrets::derive(password, config.auth.md5_dialects).await?;
    store
        .create_user(&email, &nick, &secrets.hash, secrets.md5())
        .await
        .map_err(|e| AdminError::from_store(e, &email))
}

/// Creates every account of `emails` (nickname = email) that does not exist
/// yet, all with `password`. The password is hashed once and the same hash
/// (and MD5 verifier) is stored for each: meant for load-test accounts, where
/// hashing thousands of passwords would take minutes. Returns how many were
/// created; accounts that exist are skipped.
pub async fn add_many_users(
    store: &Store,
    config: &Config,
    emails: &[String],
    password: &str,
) -> Result<usize, AdminError> {
    let emails = emails
        .iter()
        .map(|e| normalize_email(e))
        .collect::<Result<Vec<_>, _>>()?;
    let secrets = PasswordSecrets::derive(password, config.auth.md5_dialects).await?;
    let mut added = 0;
    for email in &emails {
        match store
            .create_user(email, email, &secrets.hash, secrets.md5())
            .await
        {
            Ok(_) => added += 1,
            Err(StoreError::UserExists) => {}
            Err(e) => return Err(AdminError::from_store(e, email)),
        }
    }
    Ok(added)
}

/// Replaces an account's password (and its MD5 verifier, which is dropped when
/// `auth.md5_dialects` is off).
pub async fn set_password(
    store: &Store,
    config: &Config,
    email: &str,
    password: &str,
) -> Result<(), AdminError> {
    let email = normalize_email(email)?;
    let secrets = PasswordSecrets::derive(password, config.auth.md5_dialects).await?;
    store
        .set_password(&email, &secrets.hash, secrets.md5())
        .await
        .map_err(|e| AdminError::from_store(e, &email))
}

/// Deletes an account and every list entry naming it.
pub async fn delete_user(store: &Store, email: &str) -> Result<(), AdminError> {
    let email = normalize_email(email)?;
    store
        .delete_user(&email)
        .await
        .map_err(|e| AdminError::from_store(e, &email))
}

/// Every account, by email.
pub async fn list_users(store: &Store) -> Result<Vec<Account>, AdminError> {
    store.list_users().await.map_err(AdminError::Store)
}

/// A login ticket for an existing account, valid for `auth.ticket_lifetime_secs`,
/// in the `t=...&p=` shape clients send in `USR TWN S`.
pub async fn issue_ticket(
    store: &Store,
    config: &Config,
    email: &str,
) -> Result<String, AdminError> {
    let email = normalize_email(email)?;
    let account = store
        .account(&email)
        .await
        .map_err(|e| AdminError::from_store(e, &email))?;
    let key = ticket_key(store, config).await.map_err(AdminError::Store)?;
    Ok(key.issue(
        &account.email,
        config.auth.ticket_lifetime_secs,
        SystemTime::now(),
    ))
}

/// Login tickets for several existing accounts, in the order given (see
/// [`issue_ticket`]); the signing key is looked up once.
pub async fn issue_tickets(
    store: &Store,
    config: &Config,
    emails: &[String],
) -> Result<Vec<String>, AdminError> {
    let key = ticket_key(store, config).await.map_err(AdminError::Store)?;
    let now = SystemTime::now();
    let mut tickets = Vec::with_capacity(emails.len());
    for email in emails {
        let email = normalize_email(email)?;
        let account = store
            .account(&email)
            .await
            .map_err(|e| AdminError::from_store(e, &email))?;
        tickets.push(key.issue(&account.email, config.auth.ticket_lifetime_secs, now));
    }
    Ok(tickets)
}

/// The account name as stored: ASCII lower case, and valid.
fn normalize_email(email: &str) -> Result<String, AdminError> {
    let email = email.to_ascii_lowercase();
    if is_valid_email(&email) {
        Ok(email)
    } else {
        Err(AdminError::InvalidEmail(email))
    }
}

/// A friendly name the operator may set: not empty, at most
/// [`MAX_NICK_BYTES`], no control characters.
fn check_nick(nick: &str) -> Result<&str, AdminError> {
    if nick.is_empty() {
        Err(AdminError::InvalidNick("it is empty".into()))
    } else if nick.len() > MAX_NICK_BYTES {
        Err(AdminError::InvalidNick(format!(
            "it is longer than {MAX_NICK_BYTES} bytes"
        )))
    } else if nick.chars().any(char::is_control) {
        Err(AdminError::InvalidNick("it has control characters".into()))
    } else {
        Ok(nick)
    }
}

/// What the store keeps of a password.
#[derive(Debug)]
struct PasswordSecrets {
    /// Argon2id PHC string.
    hash: String,
    /// `(salt, verifier)` for MD5 login, when enabled.
    md5: Option<(String, String)>,
}

impl PasswordSecrets {
    /// Hashes `password` on a blocking thread (argon2 takes tens of milliseconds).
    async fn derive(password: &str, md5_dialects: bool) -> Result<PasswordSecrets, AdminError> {
        if password.is_empty() {
            return Err(AdminError::EmptyPassword);
        }
        let md5 = md5_dialects.then(|| {
            let salt = auth::new_md5_salt();
            let verifier = auth::md5_verifier(&salt, password);
            (salt, verifier)
        });
        let owned = password.to_owned();
        let hash = tokio::task::spawn_blocking(move || auth::hash_password(&owned))
            .await
            .map_err(|e| AdminError::Hashing(e.to_string()))?;
        Ok(PasswordSecrets { hash, md5 })
    }

    fn md5(&self) -> Option<(&str, &str)> {
        self.md5.as_ref().map(|(s, v)| (s.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests;
