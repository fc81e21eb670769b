//! Postgres access for Talktime. Every SQL statement of the project lives in this crate.
//!
//! Functions take any executor (`&Db`'s pool, a connection, or a transaction from [`Db::begin`]),
//! so the services layer decides what must be atomic without writing SQL.

pub mod accounts;
pub mod admins;
pub mod audit;
pub mod bank;
pub mod calls;
pub mod changes;
pub mod chats;
pub mod coupons;
pub mod dashboard;
pub mod disputes;
mod error;
pub mod gifts;
pub mod import;
pub mod kyc;
pub mod ledger;
pub mod notifications;
pub mod otp;
pub mod payouts;
pub mod plans;
pub mod pricing;
pub mod promotions;
pub mod push;
pub mod ratings;
pub mod referrals;
pub mod reports;
pub mod seed;
pub mod tax;
pub mod telecallers;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transactions;

use std::time::Duration;

pub use error::RepoError;
pub use sqlx::PgExecutor as Executor;
use sqlx::postgres::PgPoolOptions;

/// A page of rows and how many there are in all, read concurrently on two pooled connections
/// (one round trip of latency, not two): the shape of every admin list.
pub(crate) async fn paged<T>(
    rows: impl Future<Output = Result<Vec<T>, sqlx::Error>>,
    total: impl Future<Output = Result<i64, sqlx::Error>>,
) -> Result<talktime_domain::page::Page<T>, RepoError> {
    let (rows, total) = futures_util::future::try_join(rows, total).await?;
    Ok(talktime_domain::page::Page { rows, total })
}

/// An open database transaction; commit it with [`Tx::commit`] or drop it to roll back.
pub type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

/// The embedded migrations of `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// A pool of Postgres connections.
#[derive(Clone, Debug)]
pub struct Db {
    pool: sqlx::PgPool,
}

impl Db {
    /// Connects lazily checked: fails fast when the server does not answer within 5 s.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, RepoError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }

    /// Applies pending migrations.
    pub async fn migrate(&self) -> Result<(), RepoError> {
        MIGRATOR.run(&self.pool).await.map_err(|e| RepoError::Migration(e.to_string()))
    }

    pub async fn begin(&self) -> Result<Tx, RepoError> {
        Ok(self.pool.begin().await?)
    }

    /// One connection, for statements that need `&mut PgConnection`.
    pub async fn acquire(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Postgres>, RepoError> {
        Ok(self.pool.acquire().await?)
    }

    /// The pool, usable as an executor for single statements.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    /// `SELECT 1`: readiness.
    pub async fn ping(&self) -> Result<(), RepoError> {
        sqlx::query!("SELECT 1 AS one").fetch_one(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
