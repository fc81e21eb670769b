//! Where a user's page-1 order of the telecaller list is kept while they page: an ephemeral
//! store, never Postgres (listing must not write). In memory on one node; in Redis, with a TTL,
//! when several nodes serve the same user. Losing a snapshot only means the next page is cut
//! from a fresh list.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use dashmap::DashMap;
use deadpool_redis::redis;
use talktime_domain::account::Language;
use talktime_domain::ids::AccountId;

use crate::cluster::Cluster;

/// How long a snapshot outlives the page 1 that took it.
pub const SNAPSHOT_TTL: Duration = Duration::from_secs(300);

/// The order page 1 showed, for one language filter and ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub language: Option<Language>,
    pub by: super::ListOrder,
    /// The `maxRate` filter.
    pub max_rate: Option<i64>,
    pub order: Arc<[AccountId]>,
}

#[async_trait]
pub trait SnapshotStore: Send + Sync {
    async fn save(&self, viewer: AccountId, snapshot: Snapshot);
    async fn load(&self, viewer: AccountId) -> Option<Snapshot>;
}

/// One node: a map whose expired entries are swept every few thousand saves. Snapshots taken
/// from the same list share its order (an `Arc`), so a viewer costs a few words.
#[derive(Default)]
pub struct InMemorySnapshots {
    entries: DashMap<AccountId, (Instant, Snapshot)>,
    saves: AtomicU64,
}

impl InMemorySnapshots {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SnapshotStore for InMemorySnapshots {
    async fn save(&self, viewer: AccountId, snapshot: Snapshot) {
        if self.saves.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.entries.retain(|_, (taken, _)| taken.elapsed() < SNAPSHOT_TTL);
        }
        self.entries.insert(viewer, (Instant::now(), snapshot));
    }

    async fn load(&self, viewer: AccountId) -> Option<Snapshot> {
        let entry = self.entries.get(&viewer)?;
        (entry.0.elapsed() < SNAPSHOT_TTL).then(|| entry.1.clone())
    }
}

/// Cluster mode: `snap:<viewer>` holds the language and the ids (16 bytes each), expiring by
/// itself. While Redis is unreachable this node's own memory answers.
pub struct RedisSnapshots {
    cluster: Cluster,
    fallback: InMemorySnapshots,
}

impl RedisSnapshots {
    pub fn new(cluster: Cluster) -> Self {
        Self { cluster, fallback: InMemorySnapshots::new() }
    }

    fn key(&self, viewer: AccountId) -> String {
        self.cluster.key(&format!("snap:{viewer}"))
    }
}

/// `<P, R or C><language or empty>;<maxRate or empty>\n<ids as 16-byte big-endian uuids>`
fn encode(snapshot: &Snapshot) -> Vec<u8> {
    let by = match snapshot.by {
        super::ListOrder::Presence => b'P',
        super::ListOrder::Rating => b'R',
        super::ListOrder::Price => b'C',
    };
    let mut bytes = vec![by];
    bytes.extend(snapshot.language.map(|l| l.as_str().to_owned()).unwrap_or_default().into_bytes());
    bytes.push(b';');
    bytes.extend(snapshot.max_rate.map(|m| m.to_string()).unwrap_or_default().into_bytes());
    bytes.push(b'\n');
    for id in snapshot.order.iter() {
        bytes.extend_from_slice(id.0.as_bytes());
    }
    bytes
}

fn decode(bytes: &[u8]) -> Option<Snapshot> {
    let by = match bytes.first()? {
        b'P' => super::ListOrder::Presence,
        b'R' => super::ListOrder::Rating,
        b'C' => super::ListOrder::Price,
        _ => return None,
    };
    let bytes = &bytes[1..];
    let split = bytes.iter().position(|b| *b == b'\n')?;
    let (header, ids) = (std::str::from_utf8(&bytes[..split]).ok()?, &bytes[split + 1..]);
    let (language, max_rate) = header.split_once(';')?;
    let language = match language {
        "" => None,
        name => Some(name.parse().ok()?),
    };
    let max_rate = match max_rate {
        "" => None,
        max => Some(max.parse().ok()?),
    };
    if ids.len() % 16 != 0 {
        return None;
    }
    let order =
        ids.chunks_exact(16).map(|c| Some(AccountId(uuid::Uuid::from_slice(c).ok()?))).collect::<Option<_>>()?;
    Some(Snapshot { language, by, max_rate, order })
}

#[async_trait]
impl SnapshotStore for RedisSnapshots {
    async fn save(&self, viewer: AccountId, snapshot: Snapshot) {
        let command = redis::cmd("SET")
            .arg(self.key(viewer))
            .arg(encode(&snapshot))
            .arg("EX")
            .arg(SNAPSHOT_TTL.as_secs())
            .to_owned();
        if let Err(error) = self.cluster.query::<()>(&command).await {
            tracing::debug!(%error, "Redis unreachable; the list snapshot stays on this node");
        }
        self.fallback.save(viewer, snapshot).await;
    }

    async fn load(&self, viewer: AccountId) -> Option<Snapshot> {
        match self.cluster.query::<Option<Vec<u8>>>(redis::cmd("GET").arg(self.key(viewer))).await {
            Ok(bytes) => bytes.as_deref().and_then(decode),
            Err(_) => self.fallback.load(viewer).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_round_trip_through_their_encoding() {
        let order: Arc<[AccountId]> = (0..3).map(|_| AccountId::new()).collect();
        for language in [None, Some(Language::Tamil)] {
            for by in super::super::ListOrder::ALL {
                for max_rate in [None, Some(7)] {
                    let snapshot = Snapshot { language, by: *by, max_rate, order: order.clone() };
                    assert_eq!(decode(&encode(&snapshot)), Some(snapshot));
                }
            }
        }
        assert_eq!(decode(b"Ptamil;\n123"), None);
        assert_eq!(decode(b"Pelvish;\n"), None);
        assert_eq!(decode(b"Ptamil;x\n"), None);
        assert_eq!(decode(b"tamil\n"), None);
    }

    #[tokio::test]
    async fn memory_keeps_the_latest_snapshot_per_viewer() {
        let store = InMemorySnapshots::new();
        let viewer = AccountId::new();
        assert_eq!(store.load(viewer).await, None);
        let first = Snapshot {
            language: None,
            by: super::super::ListOrder::Presence,
            max_rate: None,
            order: vec![AccountId::new()].into(),
        };
        let second = Snapshot {
            language: Some(Language::Hindi),
            by: super::super::ListOrder::Rating,
            max_rate: Some(3),
            order: Vec::new().into(),
        };
        store.save(viewer, first).await;
        store.save(viewer, second.clone()).await;
        assert_eq!(store.load(viewer).await, Some(second));
    }
}
