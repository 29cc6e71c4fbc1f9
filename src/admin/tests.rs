//! Tests of the administration operations: the pure parts always, the store
//! round trips on a temporary SQLite file.

use super::*;
use crate::core::auth::{check_md5_response, md5_verifier, verify_password};

#[test]
fn emails_are_lower_cased_and_checked() {
    assert_eq!(
        normalize_email("Alice@Example.COM").unwrap(),
        "alice@example.com"
    );
    for bad in [
        "",
        "alice",
        "alice@",
        "@example.com",
        "a b@example.com",
        "älice@example.com",
    ] {
        assert!(
            matches!(normalize_email(bad), Err(AdminError::InvalidEmail(_))),
            "{bad}"
        );
    }
}

#[test]
fn nicks_are_checked() {
    assert_eq!(check_nick("Alice \u{2764}").unwrap(), "Alice \u{2764}");
    assert!(check_nick(&"n".repeat(MAX_NICK_BYTES)).is_ok());
    for bad in [
        String::new(),
        "n".repeat(MAX_NICK_BYTES + 1),
        "a\r\nb".into(),
        "a\tb".into(),
    ] {
        assert!(
            matches!(check_nick(&bad), Err(AdminError::InvalidNick(_))),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn password_secrets_with_md5() {
    let secrets = PasswordSecrets::derive("s3cret", true).await.unwrap();
    assert!(verify_password(&secrets.hash, "s3cret"));
    assert!(!verify_password(&secrets.hash, "other"));
    let (salt, verifier) = secrets.md5().unwrap();
    assert_eq!(verifier, md5_verifier(salt, "s3cret"));
    // What an MSNP2–7 client sends after `USR MD5 S <salt>`.
    assert!(check_md5_response(verifier, &md5_verifier(salt, "s3cret")));
}

#[tokio::test]
async fn password_secrets_without_md5() {
    let secrets = PasswordSecrets::derive("s3cret", false).await.unwrap();
    assert!(secrets.md5().is_none());
    assert!(verify_password(&secrets.hash, "s3cret"));
}

#[tokio::test]
async fn empty_passwords_are_refused() {
    assert!(matches!(
        PasswordSecrets::derive("", true).await,
        Err(AdminError::EmptyPassword)
    ));
}

#[test]
fn store_errors_name_the_account() {
    let e = AdminError::from_store(StoreError::UserExists, "alice@example.com");
    assert_eq!(e.to_string(), "user alice@example.com already exists");
    let e = AdminError::from_store(StoreError::UnknownUser, "bob@example.com");
    assert_eq!(e.to_string(), "user bob@example.com does not exist");
    let e = AdminError::from_store(StoreError::Unavailable("disk".into()), "x@y.z");
    assert!(matches!(e, AdminError::Store(StoreError::Unavailable(_))));
}

// ---- against a real store -------------------------------------------------------
// These need the SQLite backend, which another branch is writing; the lead removes
// the `ignore` at merge.

/// A config whose store is a fresh SQLite file in `dir`.
fn config_in(dir: &tempfile::TempDir) -> Config {
    let mut config = Config::default();
    config.store.url = format!("sqlite://{}", dir.path().join("msnpd.sqlite").display());
    config
}

#[tokio::test]

async fn add_list_delete_users() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(&dir);
    let store = open_store(&config).await.unwrap();

    let alice = add_user(&store, &config, "Alice@Example.com", "pw1", None)
        .await
        .unwrap();
    assert_eq!(alice.email, "alice@example.com");
    assert_eq!(alice.nick, "alice@example.com");
    let bob = add_user(&store, &config, "bob@example.com", "pw2", Some("Bob"))
        .await
        .unwrap();
    assert_eq!(bob.nick, "Bob");

    let err = add_user(&store, &config, "ALICE@example.com", "pw", None)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "user alice@example.com already exists");

    let users = list_users(&store).await.unwrap();
    let emails: Vec<&str> = users.iter().map(|a| a.email.as_str()).collect();
    assert_eq!(emails, ["alice@example.com", "bob@example.com"]);

    delete_user(&store, "alice@example.com").await.unwrap();
    assert!(matches!(
        delete_user(&store, "alice@example.com").await,
        Err(AdminError::UnknownUser(_))
    ));
    assert_eq!(list_users(&store).await.unwrap().len(), 1);
    store.close().await;
}

#[tokio::test]

async fn passwords_and_md5_verifiers_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_in(&dir);
    let store = open_store(&config).await.unwrap();

    add_user(&store, &config, "carol@example.com", "first", None)
        .await
        .unwrap();
    let creds = store.credentials("carol@example.com").await.unwrap();
    assert!(verify_password(&creds.password_hash, "first"));
    let salt = creds.md5_salt.unwrap();
    assert_eq!(creds.md5_verifier.unwrap(), md5_verifier(&salt, "first"));

    set_password(&store, &config, "carol@example.com", "second")
        .await
        .unwrap();
    let creds = store.credentials("carol@example.com").await.unwrap();
    assert!(verify_password(&creds.password_hash, "second"));
    assert!(!verify_password(&creds.password_hash, "first"));
    let salt = creds.md5_salt.unwrap();
    assert_eq!(creds.md5_verifier.unwrap(), md5_verifier(&salt, "second"));

    // With MD5 dialects off, the verifier goes.
    config.auth.md5_dialects = false;
    set_password(&store, &config, "carol@example.com", "third")
        .await
        .unwrap();
    let creds = store.credentials("carol@example.com").await.unwrap();
    assert!(creds.md5_salt.is_none() && creds.md5_verifier.is_none());
    add_user(&store, &config, "dave@example.com", "pw", None)
        .await
        .unwrap();
    let creds = store.credentials("dave@example.com").await.unwrap();
    assert!(creds.md5_verifier.is_none());

    assert!(matches!(
        set_password(&store, &config, "nobody@example.com", "x").await,
        Err(AdminError::UnknownUser(_))
    ));
    store.close().await;
}

#[tokio::test]

async fn tickets_use_the_store_secret_or_the_configured_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_in(&dir);
    let store = open_store(&config).await.unwrap();
    add_user(&store, &config, "erin@example.com", "pw", None)
        .await
        .unwrap();

    let ticket = issue_ticket(&store, &config, "Erin@example.com")
        .await
        .unwrap();
    let key = ticket_key(&store, &config).await.unwrap();
    assert_eq!(
        key.verify(&ticket, SystemTime::now()).as_deref(),
        Ok("erin@example.com")
    );
    assert!(matches!(
        issue_ticket(&store, &config, "nobody@example.com").await,
        Err(AdminError::UnknownUser(_))
    ));
    store.close().await;

    // Another process on the same store agrees on the key.
    let store = open_store(&config).await.unwrap();
    let key = ticket_key(&store, &config).await.unwrap();
    assert!(key.verify(&ticket, SystemTime::now()).is_ok());

    // A configured secret wins over the store's.
    config.auth.ticket_secret = "x".repeat(32);
    let ticket = issue_ticket(&store, &config, "erin@example.com")
        .await
        .unwrap();
    assert!(
        TicketKey::new(&[b'x'; 32])
            .verify(&ticket, SystemTime::now())
            .is_ok()
    );
    assert!(key.verify(&ticket, SystemTime::now()).is_err());
    store.close().await;
}

#[tokio::test]
async fn many_users_share_one_hash_and_get_tickets_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_in(&dir);
    let store = open_store(&config).await.unwrap();
    add_user(&store, &config, "load1@example.com", "other", None)
        .await
        .unwrap();
    let emails: Vec<String> = (0..3).map(|n| format!("Load{n}@example.com")).collect();
    // load1 exists already and is left alone.
    assert_eq!(
        add_many_users(&store, &config, &emails, "pw")
            .await
            .unwrap(),
        2
    );
    for (n, expect) in [(0, "pw"), (1, "other"), (2, "pw")] {
        let creds = store
            .credentials(&format!("load{n}@example.com"))
            .await
            .unwrap();
        assert!(verify_password(&creds.password_hash, expect), "load{n}");
    }
    assert!(matches!(
        add_many_users(&store, &config, &["bad".to_string()], "pw").await,
        Err(AdminError::InvalidEmail(_))
    ));

    let tickets = issue_tickets(&store, &config, &emails).await.unwrap();
    let key = ticket_key(&store, &config).await.unwrap();
    for (n, ticket) in tickets.iter().enumerate() {
        assert_eq!(
            key.verify(ticket, SystemTime::now()).as_deref(),
            Ok(format!("load{n}@example.com").as_str())
        );
    }
    assert!(matches!(
        issue_tickets(&store, &config, &["nobody@example.com".to_string()]).await,
        Err(AdminError::UnknownUser(_))
    ));
    store.close().await;
}
