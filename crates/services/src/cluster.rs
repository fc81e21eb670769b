//! Cluster mode (`REDIS_URL` set): what the Redis adapters share. One connection pool for
//! commands, the key namespace of this deployment, and this node's id.
//!
//! Keys (all under the namespace, `talktime:<database>` unless `REDIS_NAMESPACE` says otherwise,
//! so deployments or test runs sharing one Redis never see each other):
//! - `rl:<key>`: rate-limit windows (`rate_limit::RedisRateLimiter`);
//! - `nodes`, `node:<id>`, `conn:<ROLE>:<account>`, `online:<ROLE>`: who is connected where
//!   (`directory::RedisDirectory`);
//! - `presence`: telecallers' published presence (`presence::RedisPresence`);
//! - `events`: the pub/sub channel (`bus::RedisBus`).

use std::time::Duration;

use deadpool_redis::redis;

#[derive(Clone)]
pub struct Cluster {
    pub pool: deadpool_redis::Pool,
    /// For the dedicated pub/sub connection, which is not pooled.
    pub client: redis::Client,
    pub namespace: String,
    /// This process, for as long as it runs (a restarted node is a new node).
    pub node: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClusterError(String);

impl Cluster {
    /// A pool that gives up on Redis quickly, so an outage costs a request only milliseconds
    /// before the in-memory fallbacks answer. Nothing connects yet.
    pub fn new(url: &str, namespace: &str) -> Result<Self, ClusterError> {
        let mut config = deadpool_redis::Config::from_url(url);
        let quick = Some(Duration::from_millis(300));
        config.pool = Some(deadpool_redis::PoolConfig {
            timeouts: deadpool_redis::Timeouts { wait: quick, create: quick, recycle: quick },
            ..deadpool_redis::PoolConfig::default()
        });
        let pool =
            config.create_pool(Some(deadpool_redis::Runtime::Tokio1)).map_err(|e| ClusterError(e.to_string()))?;
        let client = redis::Client::open(url).map_err(|e| ClusterError(e.to_string()))?;
        Ok(Self { pool, client, namespace: namespace.to_owned(), node: uuid::Uuid::now_v7().to_string() })
    }

    /// `<namespace>:<suffix>`
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.namespace)
    }

    /// Runs one command on a pooled connection; any failure (or no answer within a second, from
    /// a Redis that hangs rather than refuses) is a string for the log.
    pub(crate) async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Result<T, String> {
        answer(async {
            let mut connection = self.pool.get().await.map_err(|e| e.to_string())?;
            command.query_async(&mut *connection).await.map_err(|e| e.to_string())
        })
        .await
    }

    /// Runs one script, as `query` runs a command.
    pub(crate) async fn invoke<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, String> {
        answer(async {
            let mut connection = self.pool.get().await.map_err(|e| e.to_string())?;
            invocation.invoke_async(&mut *connection).await.map_err(|e| e.to_string())
        })
        .await
    }
}

const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// Bounds one exchange with Redis.
pub(crate) async fn answer<T>(work: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(COMMAND_TIMEOUT, work).await.unwrap_or_else(|_| Err("Redis did not answer in time".into()))
}
