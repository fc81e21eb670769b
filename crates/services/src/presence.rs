//! Telecallers' published presence, behind a trait: in memory on one node, in Redis for several.
//! Listings read presence here, never from a database column. `set` answers the previous value,
//! so whichever node makes a change broadcasts it, once.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use dashmap::DashMap;
use deadpool_redis::redis;
use talktime_domain::account::Presence;
use talktime_domain::ids::AccountId;

use crate::cluster::Cluster;

#[async_trait]
pub trait PresenceRegistry: Send + Sync {
    /// Records a telecaller's presence (OFFLINE removes her); answers what it was.
    async fn set(&self, telecaller: AccountId, presence: Presence) -> Presence;
    async fn get(&self, telecaller: AccountId) -> Presence;
    /// The presence of each of `telecallers`, in their order (one round trip).
    async fn get_many(&self, telecallers: &[AccountId]) -> Vec<Presence>;
    /// Every telecaller who is ONLINE or ON_CALL.
    async fn available(&self) -> Vec<(AccountId, Presence)>;
    /// How many telecallers are ONLINE or ON_CALL.
    async fn count(&self) -> usize;
    /// Moves whenever this node changes a presence (changes made by other nodes do not move it).
    fn generation(&self) -> u64;
}

/// A sharded map: no global lock on the hot path. Empty at startup, so nothing is stale after a
/// restart.
#[derive(Default)]
pub struct InMemoryPresence {
    entries: DashMap<AccountId, Presence>,
    generation: AtomicU64,
}

impl InMemoryPresence {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl PresenceRegistry for InMemoryPresence {
    async fn set(&self, telecaller: AccountId, presence: Presence) -> Presence {
        let previous = if presence == Presence::Offline {
            self.entries.remove(&telecaller).map(|(_, p)| p)
        } else {
            self.entries.insert(telecaller, presence)
        };
        let previous = previous.unwrap_or(Presence::Offline);
        if previous != presence {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        previous
    }

    async fn get(&self, telecaller: AccountId) -> Presence {
        self.entries.get(&telecaller).map_or(Presence::Offline, |p| *p)
    }

    async fn get_many(&self, telecallers: &[AccountId]) -> Vec<Presence> {
        telecallers.iter().map(|t| self.entries.get(t).map_or(Presence::Offline, |p| *p)).collect()
    }

    async fn available(&self) -> Vec<(AccountId, Presence)> {
        self.entries.iter().map(|e| (*e.key(), *e.value())).collect()
    }

    async fn count(&self) -> usize {
        self.entries.len()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// One hash in Redis (`presence`: telecaller → ONLINE | ON_CALL), swapped atomically so two
/// nodes never both announce one change. Entries of a node that dies are taken out by the node
/// that notices (see `directory`). While Redis is unreachable, answers come from what this node
/// set itself.
pub struct RedisPresence {
    cluster: Cluster,
    key: String,
    mirror: InMemoryPresence,
}

/// KEYS: the hash. ARGV: telecaller, presence. Answers the previous presence (nil: OFFLINE).
static SWAP: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == 'OFFLINE' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return previous
",
    )
});

impl RedisPresence {
    pub fn new(cluster: Cluster) -> Self {
        let key = cluster.key("presence");
        Self { cluster, key, mirror: InMemoryPresence::new() }
    }

    fn fallback(error: &str) {
        tracing::debug!(%error, "Redis unreachable; presence answers from this node");
    }
}

fn parse(value: Option<String>) -> Presence {
    value.and_then(|v| v.parse().ok()).unwrap_or(Presence::Offline)
}

#[async_trait]
impl PresenceRegistry for RedisPresence {
    async fn set(&self, telecaller: AccountId, presence: Presence) -> Presence {
        let mirrored = self.mirror.set(telecaller, presence).await;
        let mut invocation = SWAP.key(&self.key);
        invocation.arg(telecaller.to_string()).arg(presence.to_string());
        match self.cluster.invoke::<Option<String>>(&invocation).await {
            Ok(previous) => parse(previous),
            Err(error) => {
                Self::fallback(&error);
                mirrored
            }
        }
    }

    async fn get(&self, telecaller: AccountId) -> Presence {
        match self.cluster.query(redis::cmd("HGET").arg(&self.key).arg(telecaller.to_string())).await {
            Ok(value) => parse(value),
            Err(error) => {
                Self::fallback(&error);
                self.mirror.get(telecaller).await
            }
        }
    }

    async fn get_many(&self, telecallers: &[AccountId]) -> Vec<Presence> {
        if telecallers.is_empty() {
            return Vec::new();
        }
        let mut command = redis::cmd("HMGET");
        command.arg(&self.key);
        for telecaller in telecallers {
            command.arg(telecaller.to_string());
        }
        match self.cluster.query::<Vec<Option<String>>>(&command).await {
            Ok(values) => values.into_iter().map(parse).collect(),
            Err(error) => {
                Self::fallback(&error);
                self.mirror.get_many(telecallers).await
            }
        }
    }

    async fn available(&self) -> Vec<(AccountId, Presence)> {
        match self.cluster.query::<Vec<(String, String)>>(redis::cmd("HGETALL").arg(&self.key)).await {
            Ok(entries) => entries
                .into_iter()
                .filter_map(|(id, presence)| Some((id.parse().ok()?, presence.parse().ok()?)))
                .collect(),
            Err(error) => {
                Self::fallback(&error);
                self.mirror.available().await
            }
        }
    }

    async fn count(&self) -> usize {
        match self.cluster.query(redis::cmd("HLEN").arg(&self.key)).await {
            Ok(n) => n,
            Err(error) => {
                Self::fallback(&error);
                self.mirror.count().await
            }
        }
    }

    fn generation(&self) -> u64 {
        self.mirror.generation()
    }
}
