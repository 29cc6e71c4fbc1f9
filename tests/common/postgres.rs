//! Throw-away PostgreSQL databases for integration tests, from
//! `MSNPD_TEST_POSTGRES_URL`. Without it the test is skipped with a printed
//! reason, unless `MSNPD_REQUIRE_POSTGRES=1` (CI) makes that a failure.

use sqlx::Connection;

/// A database created for one test.
pub struct TempDatabase {
    admin_url: String,
    name: String,
    /// URL of the new database.
    pub url: String,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Creates a fresh database, or returns `None` (skip) when PostgreSQL is not configured.
pub fn fresh_database(tag: &str) -> Option<TempDatabase> {
    let Ok(admin_url) = std::env::var("MSNPD_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("MSNPD_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "MSNPD_REQUIRE_POSTGRES=1 but MSNPD_TEST_POSTGRES_URL is unset"
        );
        println!("SKIPPED: PostgreSQL test `{tag}` (MSNPD_TEST_POSTGRES_URL unset)");
        return None;
    };
    let name = format!("msnpd_{tag}_{:016x}", rand::random::<u64>());
    runtime().block_on(async {
        let mut conn = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let base = match admin_url.find('?') {
        Some(q) => &admin_url[..q],
        None => &admin_url,
    };
    let base = &base[..base.rfind('/').unwrap()];
    Some(TempDatabase {
        url: format!("{base}/{name}"),
        admin_url,
        name,
    })
}

impl TempDatabase {
    /// Drops the database (after the server using it has stopped).
    pub fn drop_database(self) {
        runtime().block_on(async {
            let mut conn = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
                .execute(&mut conn)
                .await
                .unwrap();
        });
    }
}
