//! Telecallers' live presence, behind a trait: in memory on one node (a Redis implementation
//! follows for several nodes). Listings read presence here, never from a database column.

use async_trait::async_trait;
use dashmap::DashMap;
use talktime_domain::account::Presence;
use talktime_domain::ids::AccountId;

#[async_trait]
pub trait PresenceRegistry: Send + Sync {
    /// Records a telecaller's presence; OFFLINE removes her.
    async fn set(&self, telecaller: AccountId, presence: Presence);
    async fn get(&self, telecaller: AccountId) -> Presence;
    /// Every telecaller who is ONLINE or ON_CALL.
    async fn available(&self) -> Vec<(AccountId, Presence)>;
}

/// A sharded map: no global lock on the hot path. Empty at startup, so nothing is stale after a
/// restart.
#[derive(Default)]
pub struct InMemoryPresence {
    entries: DashMap<AccountId, Presence>,
}

impl InMemoryPresence {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl PresenceRegistry for InMemoryPresence {
    async fn set(&self, telecaller: AccountId, presence: Presence) {
        if presence == Presence::Offline {
            self.entries.remove(&telecaller);
        } else {
            self.entries.insert(telecaller, presence);
        }
    }

    async fn get(&self, telecaller: AccountId) -> Presence {
        self.entries.get(&telecaller).map(|p| *p).unwrap_or(Presence::Offline)
    }

    async fn available(&self) -> Vec<(AccountId, Presence)> {
        self.entries.iter().map(|e| (*e.key(), *e.value())).collect()
    }
}
