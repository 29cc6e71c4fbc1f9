//! Throw-away PostgreSQL schemas for integration tests, from
//! `MSNPD_TEST_POSTGRES_URL` (see `msnpd::store::testing`). Without it the test is
//! skipped with a printed reason, unless `MSNPD_REQUIRE_POSTGRES=1` (CI) makes that
//! a failure.

use msnpd::store::testing::{PgScratch, postgres_test_url};

/// A schema created for one test.
pub struct TempDatabase {
    scratch: PgScratch,
    /// Store URL whose connections use only that schema.
    pub url: String,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Creates a fresh schema, or returns `None` (skip) when PostgreSQL is not configured.
pub fn fresh_database(tag: &str) -> Option<TempDatabase> {
    let base = postgres_test_url(tag)?;
    let scratch = runtime().block_on(PgScratch::create(&base)).unwrap();
    Some(TempDatabase {
        url: scratch.url().to_string(),
        scratch,
    })
}

impl TempDatabase {
    /// Drops the schema (after the server using it has stopped).
    pub fn drop_database(self) {
        runtime().block_on(self.scratch.drop_schema()).unwrap();
    }
}
