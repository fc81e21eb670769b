//! Where state lives: PostgreSQL, and Redis when several nodes share it.

use std::time::Duration;

use super::vars::Vars;

/// PostgreSQL.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

/// Cluster mode: the nodes share the event bus, the connection directory, presence and rate
/// limits through Redis.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    pub redis_url: String,
    /// Prefix of every Redis key and channel (`REDIS_NAMESPACE`; default `talktime:<database>`),
    /// so deployments sharing one Redis never see each other.
    pub namespace: String,
    /// How often a node renews its entries in Redis, and how long they outlive its last renewal
    /// (a crashed node's connections and presence are gone within that).
    pub heartbeat: Duration,
    pub expiry: Duration,
}

pub(super) fn database(v: &mut Vars, prod: bool) -> DatabaseSettings {
    let url = v.get("DATABASE_URL").unwrap_or_else(|| {
        v.refuse_in_production(prod, "DATABASE_URL is missing");
        "postgres://postgres:postgres@127.0.0.1:5432/talktime".into()
    });
    DatabaseSettings { url, max_connections: v.parsed("DATABASE_MAX_CONNECTIONS", 20u32, "a positive integer") }
}

/// `Some` with `REDIS_URL`; the heartbeat settings are checked either way.
pub(super) fn cluster(v: &mut Vars, database: &DatabaseSettings) -> Option<ClusterSettings> {
    let heartbeat = v.millis("NODE_HEARTBEAT_MS", 1_000);
    let expiry = Duration::from_millis(v.parsed("NODE_EXPIRY_MS", 5_000u64, "milliseconds"));
    if expiry < heartbeat * 2 {
        v.problems.push("NODE_EXPIRY_MS must be at least twice NODE_HEARTBEAT_MS".into());
    }
    let namespace = v.get("REDIS_NAMESPACE").unwrap_or_else(|| format!("talktime:{}", database_name(&database.url)));
    v.get("REDIS_URL").map(|redis_url| ClusterSettings { redis_url, namespace, heartbeat, expiry })
}

/// The database a URL names (`postgres://…/talktime?sslmode=…` → `talktime`).
fn database_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    path.rsplit_once('/').map_or("", |(_, name)| name)
}
