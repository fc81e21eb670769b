//! Test support: a fresh, migrated database per test on the local Postgres server.
//!
//! The server is `TEST_DATABASE_URL` (default `postgres://postgres:postgres@127.0.0.1:5432/postgres`).
//! Each database is named `tt_test_<uuid>`; `scripts/test.sh` drops leftovers before a run.

use sqlx::Connection;

use crate::{Db, RepoError};

pub struct TestDatabase {
    /// Connection URL of the new database.
    pub url: String,
    pub name: String,
    pub db: Db,
}

pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".to_owned())
}

impl TestDatabase {
    /// Creates and migrates a new database.
    pub async fn new() -> Result<Self, RepoError> {
        let server = server_url();
        let name = format!("tt_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&server).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let url = match server.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{name}"),
            None => format!("{server}/{name}"),
        };
        let db = Db::connect(&url, 10).await?;
        db.migrate().await?;
        Ok(Self { url, name, db })
    }
}
