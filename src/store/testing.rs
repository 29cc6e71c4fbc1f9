//! Throw-away stores for tests (this crate's and other test suites'): a migrated
//! in-memory SQLite store, and a PostgreSQL schema of its own per test, created in
//! the database named by `MSNPD_TEST_POSTGRES_URL` and dropped afterwards.
//!
//! Test suites that need PostgreSQL call [`postgres_test_url`]: it returns `None`
//! (after printing a `SKIPPED: ...` line) when the variable is unset, and panics
//! instead when `MSNPD_REQUIRE_POSTGRES=1` (CI sets it) so a skipped suite cannot
//! pass unnoticed there.

use super::{Store, StoreResult};

/// Environment variable naming the PostgreSQL database tests may use
/// (e.g. `postgres://postgres@127.0.0.1:5432/test`).
pub const POSTGRES_URL_ENV: &str = "MSNPD_TEST_POSTGRES_URL";

/// Environment variable that, set to `1`, makes a missing [`POSTGRES_URL_ENV`] fail.
pub const REQUIRE_POSTGRES_ENV: &str = "MSNPD_REQUIRE_POSTGRES";

/// The PostgreSQL URL for tests, or `None` (printing
/// `SKIPPED: <suite> (MSNPD_TEST_POSTGRES_URL unset)`) when unset.
///
/// # Panics
/// When the URL is unset and `MSNPD_REQUIRE_POSTGRES=1`.
pub fn postgres_test_url(suite: &str) -> Option<String> {
    match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let required = std::env::var(REQUIRE_POSTGRES_ENV).is_ok_and(|value| value == "1");
            assert!(
                !required,
                "{suite}: {REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_URL_ENV} is unset"
            );
            println!("SKIPPED: {suite} ({POSTGRES_URL_ENV} unset)");
            None
        }
    }
}

/// A fresh, migrated in-memory SQLite store (one connection, private to the caller).
#[cfg(feature = "sqlite")]
pub async fn memory_store() -> StoreResult<Store> {
    let store = Store::connect("sqlite::memory:", 1).await?;
    store.migrate().await?;
    Ok(store)
}

/// A PostgreSQL schema private to one test, in the database of a base URL.
/// Call [`PgScratch::drop_schema`] at the end (also after a failure) to remove it.
#[cfg(feature = "postgres")]
#[derive(Debug)]
pub struct PgScratch {
    admin: sqlx::PgPool,
    schema: String,
    url: String,
}

#[cfg(feature = "postgres")]
impl PgScratch {
    /// Creates schema `msnpd_test_<random>` in the database of `base_url`.
    pub async fn create(base_url: &str) -> StoreResult<PgScratch> {
        use sqlx::postgres::PgPoolOptions;

        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(base_url)
            .await?;
        let schema = format!("msnpd_test_{:016x}", rand::random::<u64>());
        // The name is made of [a-z0-9_] only, so it needs no quoting.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&admin)
            .await?;
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{separator}options[search_path]={schema}");
        Ok(PgScratch { admin, schema, url })
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// A URL whose connections use only this schema.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A migrated store on this schema.
    pub async fn store(&self, max_connections: u32) -> StoreResult<Store> {
        let store = Store::connect(&self.url, max_connections).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Drops the schema and everything in it.
    pub async fn drop_schema(self) -> StoreResult<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA {} CASCADE",
            self.schema
        )))
        .execute(&self.admin)
        .await?;
        self.admin.close().await;
        Ok(())
    }
}
