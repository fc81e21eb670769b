//! Telecallers' published presence, behind a trait: in memory on one node, in Redis for several.
//! Listings read presence here, never from a database column. `set` answers the previous value,
//! so whichever node makes a change broadcasts it, once. Connected telecallers (ONLINE, ON_CALL)
//! and AWAY ones are kept apart, so counting the connected ones stays one lookup.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use dashmap::{DashMap, DashSet};
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
    /// Every telecaller who is ONLINE, ON_CALL or AWAY.
    async fn available(&self) -> Vec<(AccountId, Presence)>;
    /// How many telecallers are ONLINE or ON_CALL.
    async fn count(&self) -> usize;
    /// Moves whenever this node changes a presence (changes made by other nodes do not move it).
    fn generation(&self) -> u64;
}

/// Sharded maps: no global lock on the hot path. Empty at startup, so nothing is stale after a
/// restart (AWAY is published again from Postgres when a node starts).
#[derive(Default)]
pub struct InMemoryPresence {
    /// ONLINE or ON_CALL.
    connected: DashMap<AccountId, Presence>,
    away: DashSet<AccountId>,
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
        let was_connected = if presence.is_connected() {
            self.connected.insert(telecaller, presence)
        } else {
            self.connected.remove(&telecaller).map(|(_, p)| p)
        };
        let was_away = if presence == Presence::Away {
            !self.away.insert(telecaller)
        } else {
            self.away.remove(&telecaller).is_some()
        };
        let previous = was_connected.or(was_away.then_some(Presence::Away)).unwrap_or(Presence::Offline);
        if previous != presence {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        previous
    }

    async fn get(&self, telecaller: AccountId) -> Presence {
        match self.connected.get(&telecaller) {
            Some(presence) => *presence,
            None if self.away.contains(&telecaller) => Presence::Away,
            None => Presence::Offline,
        }
    }

    async fn get_many(&self, telecallers: &[AccountId]) -> Vec<Presence> {
        let mut presence = Vec::with_capacity(telecallers.len());
        for telecaller in telecallers {
            presence.push(self.get(*telecaller).await);
        }
        presence
    }

    async fn available(&self) -> Vec<(AccountId, Presence)> {
        let connected = self.connected.iter().map(|e| (*e.key(), *e.value()));
        connected.chain(self.away.iter().map(|id| (*id, Presence::Away))).collect()
    }

    async fn count(&self) -> usize {
        self.connected.len()
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

/// A hash in Redis (`presence`: telecaller → ONLINE | ON_CALL) and a set (`presence:away`),
/// changed together by one script so two nodes never both announce one change. Entries of a
/// node that dies are taken out by the node that notices (see `directory`). While Redis is
/// unreachable, answers come from what this node set itself.
pub struct RedisPresence {
    cluster: Cluster,
    connected_key: String,
    away_key: String,
    mirror: InMemoryPresence,
}

/// KEYS: the hash, the away set. ARGV: telecaller, presence. Answers the previous presence
/// (nil: OFFLINE).
static SWAP: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local previous = redis.call('HGET', KEYS[1], ARGV[1])
if not previous and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then previous = 'AWAY' end
if ARGV[2] == 'ONLINE' or ARGV[2] == 'ON_CALL' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
else redis.call('HDEL', KEYS[1], ARGV[1]) end
if ARGV[2] == 'AWAY' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
return previous
",
    )
});

/// KEYS: the hash, the away set. ARGV: telecallers. Answers each one's presence, in order.
static GET_MANY: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local out = {}
for i, id in ipairs(ARGV) do
  local presence = redis.call('HGET', KEYS[1], id)
  if not presence then
    if redis.call('SISMEMBER', KEYS[2], id) == 1 then presence = 'AWAY' else presence = 'OFFLINE' end
  end
  out[i] = presence
end
return out
",
    )
});

impl RedisPresence {
    pub fn new(cluster: Cluster) -> Self {
        let (connected_key, away_key) = (cluster.key("presence"), cluster.key("presence:away"));
        Self { cluster, connected_key, away_key, mirror: InMemoryPresence::new() }
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
        let mut invocation = SWAP.key(&self.connected_key);
        invocation.key(&self.away_key).arg(telecaller.to_string()).arg(presence.to_string());
        match self.cluster.invoke::<Option<String>>(&invocation).await {
            Ok(previous) => parse(previous),
            Err(error) => {
                Self::fallback(&error);
                mirrored
            }
        }
    }

    async fn get(&self, telecaller: AccountId) -> Presence {
        self.get_many(&[telecaller]).await.pop().unwrap_or(Presence::Offline)
    }

    async fn get_many(&self, telecallers: &[AccountId]) -> Vec<Presence> {
        if telecallers.is_empty() {
            return Vec::new();
        }
        let mut invocation = GET_MANY.key(&self.connected_key);
        invocation.key(&self.away_key);
        for telecaller in telecallers {
            invocation.arg(telecaller.to_string());
        }
        match self.cluster.invoke::<Vec<String>>(&invocation).await {
            Ok(values) if values.len() == telecallers.len() => values.into_iter().map(|v| parse(Some(v))).collect(),
            Ok(_) => self.mirror.get_many(telecallers).await,
            Err(error) => {
                Self::fallback(&error);
                self.mirror.get_many(telecallers).await
            }
        }
    }

    async fn available(&self) -> Vec<(AccountId, Presence)> {
        let (mut all_connected, mut all_away) = (redis::cmd("HGETALL"), redis::cmd("SMEMBERS"));
        all_connected.arg(&self.connected_key);
        all_away.arg(&self.away_key);
        let connected = self.cluster.query::<Vec<(String, String)>>(&all_connected);
        let away = self.cluster.query::<Vec<String>>(&all_away);
        match tokio::try_join!(connected, away) {
            Ok((connected, away)) => connected
                .into_iter()
                .filter_map(|(id, presence)| Some((id.parse().ok()?, presence.parse().ok()?)))
                .chain(away.into_iter().filter_map(|id| Some((id.parse().ok()?, Presence::Away))))
                .collect(),
            Err(error) => {
                Self::fallback(&error);
                self.mirror.available().await
            }
        }
    }

    async fn count(&self) -> usize {
        match self.cluster.query(redis::cmd("HLEN").arg(&self.connected_key)).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn away_is_listed_but_not_counted_and_every_swap_answers_what_was() {
        let presence = InMemoryPresence::new();
        let (her, other) = (AccountId(uuid::Uuid::now_v7()), AccountId(uuid::Uuid::now_v7()));
        assert_eq!(presence.set(her, Presence::Away).await, Presence::Offline);
        assert_eq!(presence.set(other, Presence::OnCall).await, Presence::Offline);
        assert_eq!(presence.count().await, 1, "AWAY is not online");
        assert_eq!(presence.get_many(&[her, other]).await, [Presence::Away, Presence::OnCall]);
        assert_eq!(presence.available().await.len(), 2);
        assert_eq!(presence.set(her, Presence::Online).await, Presence::Away);
        assert_eq!(presence.count().await, 2);
        assert_eq!(presence.set(her, Presence::Away).await, Presence::Online);
        assert_eq!(presence.set(her, Presence::Offline).await, Presence::Away);
        assert_eq!(presence.get(her).await, Presence::Offline);
        assert_eq!(presence.available().await, [(other, Presence::OnCall)]);
    }
}
