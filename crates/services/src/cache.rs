//! Per-node read caches for the hottest reads: the account (or admin) behind every request, the
//! app config, telecaller cards and each user's favorites.
//!
//! Coherence comes from Postgres, the source of truth: triggers announce every change to those
//! tables on a channel each node listens to (`talktime_repository::changes`), whatever made the
//! change, and the node evicts the entry. On top of that, a service that writes evicts on its own
//! node as soon as it commits, so the node that served a logout or a block refuses the very next
//! request; other nodes hear the commit's notification as soon as Postgres delivers it to their
//! listener, right after the commit but not synchronously with it: a request reaching another
//! node in that instant (longer if that node is starved of CPU) may still be served from its
//! cache (docs/testing.md). While the feed is not connected (or its probe goes unanswered),
//! nothing is served from the caches and they start empty again afterwards, as nothing said
//! meanwhile was heard.
//!
//! A fill that raced an eviction is thrown away: every eviction moves an epoch, and an entry
//! read from the database before the epoch moved is not kept.

use std::hash::Hash;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use dashmap::DashMap;
use talktime_domain::account::Account;
use talktime_domain::account::TelecallerCard;
use talktime_domain::admin::Admin;
use talktime_domain::ids::{AccountId, AdminId};
use talktime_domain::pricing::AppConfig;
use talktime_repository::changes::{self, Change, ChangeFeed};
use talktime_repository::{Db, RepoError, accounts, admins, pricing, telecallers};

/// A map grows to at most this many entries before it starts over.
const CAPACITY: usize = 200_000;
/// How often the feed probes itself, and how long a probe may take to come back.
const PROBE_EVERY: Duration = Duration::from_secs(5);
/// The counter half of a probe's number.
const LOW: u64 = 0xffff_ffff;

pub struct ReadCache {
    db: Db,
    /// The feed is connected and heard its last probe: entries may be served.
    live: AtomicBool,
    epoch: AtomicU64,
    accounts: DashMap<AccountId, Arc<Account>>,
    admins: DashMap<AdminId, Arc<Admin>>,
    /// `None`: not a listable telecaller (so a card that went away is not read again and again).
    cards: DashMap<AccountId, Option<Arc<TelecallerCard>>>,
    favorites: DashMap<AccountId, Arc<[AccountId]>>,
    config: RwLock<Option<Arc<AppConfig>>>,
}

impl ReadCache {
    /// Caches that serve nothing until [`ReadCache::run_feed`] has connected.
    pub fn new(db: Db) -> Arc<Self> {
        Arc::new(Self {
            db,
            live: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            accounts: DashMap::new(),
            admins: DashMap::new(),
            cards: DashMap::new(),
            favorites: DashMap::new(),
            config: RwLock::new(None),
        })
    }

    /// Moves whenever anything is evicted: what was read before is not to be trusted.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(SeqCst)
    }

    fn serving(&self) -> bool {
        self.live.load(SeqCst)
    }

    /// Something changed (this node wrote it, or the feed said so): its entries go.
    pub fn changed(&self, change: Change) {
        self.epoch.fetch_add(1, SeqCst);
        match change {
            Change::Account(id) => {
                self.accounts.remove(&id);
                self.cards.remove(&id);
            }
            Change::Admin(id) => {
                self.admins.remove(&id);
            }
            Change::Favorites(user) => {
                self.favorites.remove(&user);
            }
            Change::Config => *self.config.write().unwrap_or_else(|e| e.into_inner()) = None,
            // Rarely (a rating given or hidden): the cards reload on the next listing.
            Change::Ratings => self.cards.clear(),
            Change::Ping(_) => {}
        }
    }

    fn clear(&self) {
        self.epoch.fetch_add(1, SeqCst);
        self.accounts.clear();
        self.admins.clear();
        self.cards.clear();
        self.favorites.clear();
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Keeps `value`, read from the database when the epoch was `epoch`, unless something was
    /// evicted since.
    fn keep<K: Eq + Hash + Copy, V: Clone>(&self, map: &DashMap<K, V>, key: K, value: &V, epoch: u64) {
        if !self.serving() || self.epoch() != epoch {
            return;
        }
        if map.len() >= CAPACITY {
            map.clear();
        }
        map.insert(key, value.clone());
        // An eviction between the check above and the insert: drop what may be stale.
        if self.epoch() != epoch {
            map.remove(&key);
        }
    }

    fn hit<K: Eq + Hash, V: Clone>(&self, map: &DashMap<K, V>, key: &K) -> Option<V> {
        if !self.serving() {
            return None;
        }
        map.get(key).map(|v| v.clone())
    }

    /// A phone account as it is now.
    pub async fn account(&self, id: AccountId) -> Result<Option<Arc<Account>>, RepoError> {
        if let Some(account) = self.hit(&self.accounts, &id) {
            return Ok(Some(account));
        }
        let epoch = self.epoch();
        let account = accounts::find_by_id(self.db.pool(), id).await?.map(Arc::new);
        if let Some(found) = &account {
            self.keep(&self.accounts, id, found, epoch);
        }
        Ok(account)
    }

    /// An admin as they are now.
    pub async fn admin(&self, id: AdminId) -> Result<Option<Arc<Admin>>, RepoError> {
        if let Some(admin) = self.hit(&self.admins, &id) {
            return Ok(Some(admin));
        }
        let epoch = self.epoch();
        let admin = admins::find_by_id(self.db.pool(), id).await?.map(Arc::new);
        if let Some(found) = &admin {
            self.keep(&self.admins, id, found, epoch);
        }
        Ok(admin)
    }

    pub async fn config(&self) -> Result<Arc<AppConfig>, RepoError> {
        if self.serving()
            && let Some(config) = self.config.read().unwrap_or_else(|e| e.into_inner()).clone()
        {
            return Ok(config);
        }
        let epoch = self.epoch();
        let config = Arc::new(pricing::get(self.db.pool()).await?);
        if self.serving() && self.epoch() == epoch {
            let mut slot = self.config.write().unwrap_or_else(|e| e.into_inner());
            // Checked again under the lock: an eviction takes the same lock.
            if self.epoch() == epoch {
                *slot = Some(config.clone());
            }
        }
        Ok(config)
    }

    /// The cards of the listable telecallers among `ids` (approved and active), in the order of
    /// `ids`; `None` for the others. One query for whatever was not cached.
    pub async fn cards(&self, ids: &[AccountId]) -> Result<Vec<Option<Arc<TelecallerCard>>>, RepoError> {
        let mut found: Vec<Option<Option<Arc<TelecallerCard>>>> =
            ids.iter().map(|id| self.hit(&self.cards, id)).collect();
        let missing: Vec<uuid::Uuid> =
            ids.iter().zip(&found).filter(|(_, hit)| hit.is_none()).map(|(id, _)| id.0).collect();
        if !missing.is_empty() {
            let epoch = self.epoch();
            let loaded: std::collections::HashMap<AccountId, Arc<TelecallerCard>> =
                telecallers::listable_among(self.db.pool(), &missing)
                    .await?
                    .into_iter()
                    .map(|card| (card.id, Arc::new(card)))
                    .collect();
            for (id, slot) in ids.iter().zip(found.iter_mut()).filter(|(_, hit)| hit.is_none()) {
                let card = loaded.get(id).cloned();
                self.keep(&self.cards, *id, &card, epoch);
                *slot = Some(card);
            }
        }
        Ok(found.into_iter().map(Option::flatten).collect())
    }

    /// The telecallers this user saved, sorted.
    pub async fn favorites(&self, user: AccountId) -> Result<Arc<[AccountId]>, RepoError> {
        if let Some(saved) = self.hit(&self.favorites, &user) {
            return Ok(saved);
        }
        let epoch = self.epoch();
        let mut saved = telecallers::favorite_ids(self.db.pool(), user).await?;
        saved.sort_unstable();
        let saved: Arc<[AccountId]> = saved.into();
        self.keep(&self.favorites, user, &saved, epoch);
        Ok(saved)
    }

    /// Follows the change feed for as long as the caches exist, reconnecting when it drops.
    pub async fn run_feed(self: Arc<Self>) {
        // This node's probes carry its number in the high half, a counter in the low half.
        let node = u64::from(getrandom::u32().unwrap_or_default()) << 32;
        let mut backoff = Duration::from_millis(100);
        loop {
            match ChangeFeed::listen(&self.db).await {
                Ok(feed) => {
                    backoff = Duration::from_millis(100);
                    self.follow(feed, node).await;
                }
                Err(error) => tracing::warn!(%error, "cannot listen for changes; caches are off"),
            }
            self.live.store(false, SeqCst);
            self.clear();
            if Arc::strong_count(&self) == 1 {
                return;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    /// Serves from the caches while `feed` is heard; returns when it fails or stops hearing its
    /// own probes.
    async fn follow(&self, mut feed: ChangeFeed, node: u64) {
        // What was kept before this feed connected may have missed changes.
        self.clear();
        self.live.store(true, SeqCst);
        let mut probe = tokio::time::interval(PROBE_EVERY);
        probe.tick().await;
        let (mut sent, mut heard) = (0u64, 0u64);
        loop {
            tokio::select! {
                change = feed.next() => match change {
                    Ok(Some(Change::Ping(id))) => {
                        if id & !LOW == node {
                            heard = heard.max(id & LOW);
                        }
                    }
                    Ok(Some(change)) => self.changed(change),
                    Ok(None) => {
                        tracing::warn!("change feed connection lost; caches start over");
                        return;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "change feed failed; caches are off");
                        return;
                    }
                },
                _ = probe.tick() => {
                    if sent > heard {
                        tracing::warn!("change feed stopped hearing itself; caches are off");
                        return;
                    }
                    sent += 1;
                    if let Err(error) = changes::ping(&self.db, node | sent).await {
                        tracing::debug!(%error, "change feed probe not sent");
                    }
                }
            }
        }
    }
}
