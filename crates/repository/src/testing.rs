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
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin).await?;
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

/// Moves a phone's live challenge `secs` into the past (its cooldown and expiry with it), as if
/// that much time had passed.
pub async fn age_otp(db: &Db, phone: &str, secs: i64) -> Result<(), RepoError> {
    sqlx::query(
        "UPDATE otp_challenges SET sent_at = sent_at - make_interval(secs => $2::double precision), \
         expires_at = expires_at - make_interval(secs => $2::double precision) WHERE phone = $1",
    )
    .bind(phone)
    .bind(secs as f64)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The stored challenge's (attempts, consumed) for a phone.
pub async fn otp_row(db: &Db, phone: &str) -> Result<Option<(i32, bool)>, RepoError> {
    Ok(sqlx::query_as("SELECT attempts, consumed_at IS NOT NULL FROM otp_challenges WHERE phone = $1")
        .bind(phone)
        .fetch_optional(db.pool())
        .await?)
}

/// Sets an account's status directly, without revoking tokens (as an operator editing the
/// table would), to test that every request re-checks the status.
pub async fn force_status(db: &Db, phone: &str, status: &str) -> Result<(), RepoError> {
    sqlx::query("UPDATE accounts SET status = $2 WHERE phone = $1").bind(phone).bind(status).execute(db.pool()).await?;
    Ok(())
}

pub async fn count_accounts(db: &Db) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM accounts").fetch_one(db.pool()).await?)
}
