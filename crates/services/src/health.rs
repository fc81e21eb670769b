//! Readiness of the outside dependencies besides Postgres.

use async_trait::async_trait;

#[async_trait]
pub trait Probe: Send + Sync {
    /// The name readiness reports (`redis`).
    fn name(&self) -> &'static str;
    async fn ready(&self) -> bool;
}

/// Redis answers `PING`.
pub struct RedisProbe {
    pool: deadpool_redis::Pool,
}

impl RedisProbe {
    pub fn new(pool: deadpool_redis::Pool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl Probe for RedisProbe {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn ready(&self) -> bool {
        let Ok(mut connection) = self.pool.get().await else { return false };
        deadpool_redis::redis::cmd("PING").query_async::<String>(&mut *connection).await.is_ok()
    }
}
