//! Readiness of the outside dependencies besides Postgres.

use std::sync::Arc;

use async_trait::async_trait;

use crate::bus::RedisBus;
use crate::cluster::Cluster;

#[async_trait]
pub trait Probe: Send + Sync {
    /// The name readiness reports (`redis`).
    fn name(&self) -> &'static str;
    async fn ready(&self) -> bool;
}

/// Redis answers `PING` and this node's bus is subscribed (it hears the other nodes).
pub struct RedisProbe {
    cluster: Cluster,
    bus: Arc<RedisBus>,
}

impl RedisProbe {
    pub fn new(cluster: Cluster, bus: Arc<RedisBus>) -> Self {
        Self { cluster, bus }
    }
}

#[async_trait]
impl Probe for RedisProbe {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn ready(&self) -> bool {
        self.bus.is_subscribed()
            && self.cluster.query::<String>(&deadpool_redis::redis::cmd("PING")).await.is_ok_and(|p| p == "PONG")
    }
}
