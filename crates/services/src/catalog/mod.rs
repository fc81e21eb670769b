//! What users browse: coin plans, online telecallers and their favorites.
//!
//! The telecaller list is served from memory: a per-node listing of the available, listable
//! telecallers (rebuilt when this node changes a presence, when a cached account changes, and at
//! least every second for what other nodes changed), cards and favorites from the read cache,
//! presence from the registry. A request with warm caches reads nothing from Postgres and writes
//! nothing anywhere but the paging snapshot's ephemeral store.

mod snapshots;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use talktime_domain::account::{Account, Language, Presence};
use talktime_domain::account::{FavoriteAdded, TelecallerCard};
use talktime_domain::ids::AccountId;
use talktime_domain::plan::Plan;
use talktime_domain::pricing::{AppConfig, RatesInForce};
pub use talktime_domain::rating::ListOrder;
use talktime_repository::changes::Change;
use talktime_repository::plans;
use talktime_repository::telecallers::{self, Standing};
use talktime_repository::{Db, RepoError};

use crate::ServiceError;
use crate::cache::ReadCache;
use crate::presence::PresenceRegistry;
pub use snapshots::{InMemorySnapshots, RedisSnapshots, SNAPSHOT_TTL, Snapshot, SnapshotStore};

/// A listing is rebuilt at least this often (presence changed on other nodes is not announced
/// to this one's registry).
const LISTING_MAX_AGE: Duration = Duration::from_secs(1);

/// A user may save at most this many telecallers.
pub const FAVORITES_CAP: i64 = 50;

/// `page` ≥ 1 and `limit` already validated.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: u32,
    pub limit: u32,
}

impl PageRequest {
    /// Rows to skip.
    pub fn offset(self) -> i64 {
        i64::from(self.page.saturating_sub(1)).saturating_mul(i64::from(self.limit))
    }

    pub fn limit(self) -> i64 {
        i64::from(self.limit)
    }

    /// Pages needed for `total` rows.
    pub fn total_pages(self, total: i64) -> i64 {
        let limit = self.limit().max(1);
        (total + limit - 1) / limit
    }
}

/// A telecaller card with her presence now.
#[derive(Debug, Clone)]
pub struct ListedTelecaller {
    pub card: Arc<TelecallerCard>,
    pub presence: Presence,
    pub is_favorite: bool,
    /// In the favorites list: whether the user asked for a push when she comes online.
    pub alerts: Option<bool>,
    /// Her prices in force (her own, or the platform's default).
    pub rates: RatesInForce,
}

#[derive(Debug, Clone)]
pub struct TelecallerPage {
    pub telecallers: Vec<ListedTelecaller>,
    pub has_more: bool,
    pub audio_call_charge: i64,
    pub video_call_charge: i64,
}

#[derive(Debug, Clone)]
pub struct FavoritePage {
    pub favorites: Vec<ListedTelecaller>,
    pub has_more: bool,
}

/// One ordering of the listing: a language filter, an order and a `maxRate`.
type OrderKey = (Option<Language>, ListOrder, Option<i64>);

/// The available, listable telecallers as this node last saw them: ONLINE, ON_CALL, AWAY, each
/// by id.
struct Listing {
    built: Instant,
    generation: u64,
    epoch: u64,
    entries: Vec<(Arc<TelecallerCard>, Presence)>,
    /// The prices as they were when it was built (a change moves the cache's epoch).
    config: Arc<AppConfig>,
    /// The order per language filter, made once and shared by every snapshot taken from it.
    orders: Mutex<HashMap<OrderKey, Arc<[AccountId]>>>,
}

impl Listing {
    fn order(&self, language: Option<Language>, by: ListOrder, max_rate: Option<i64>) -> Arc<[AccountId]> {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        orders
            .entry((language, by, max_rate))
            .or_insert_with(|| {
                let rates = |card: &TelecallerCard| self.config.rates_of(card.rates);
                let mut chosen: Vec<&(Arc<TelecallerCard>, Presence)> = self
                    .entries
                    .iter()
                    .filter(|(card, _)| language.is_none() || card.language == language)
                    .filter(|(card, _)| max_rate.is_none_or(|max| rates(card).audio <= max))
                    .collect();
                // Stable: within one presence and one rating or price, the id order stays.
                match by {
                    ListOrder::Presence => {}
                    ListOrder::Rating => {
                        let rating = |card: &TelecallerCard| card.rating.average().unwrap_or(f64::NEG_INFINITY);
                        chosen.sort_by(|(a, pa), (b, pb)| {
                            pa.listing_rank().cmp(&pb.listing_rank()).then(rating(b).total_cmp(&rating(a)))
                        });
                    }
                    ListOrder::Price => chosen.sort_by_key(|(card, presence)| {
                        let rates = rates(card);
                        (presence.listing_rank(), rates.audio, rates.video)
                    }),
                }
                chosen.into_iter().map(|(card, _)| card.id).collect()
            })
            .clone()
    }
}

/// What the list shows: a language, an order, a highest audio price.
#[derive(Debug, Clone, Copy)]
pub struct ListFilter {
    pub language: Option<Language>,
    pub by: ListOrder,
    /// Only telecallers whose audio price in force is at most this (`maxRate`).
    pub max_rate: Option<i64>,
}

/// The plans a user may buy now.
#[derive(Debug, Clone)]
pub struct PlanOffer {
    pub plans: Vec<Plan>,
    /// The user has never recharged (apps show first-recharge offers).
    pub is_first_recharge: bool,
}

pub struct CatalogService {
    db: Db,
    presence: Arc<dyn PresenceRegistry>,
    cache: Arc<ReadCache>,
    snapshots: Arc<dyn SnapshotStore>,
    listing: std::sync::RwLock<Option<Arc<Listing>>>,
    /// Held while a listing is rebuilt, so one request rebuilds and the others reuse it.
    rebuilding: tokio::sync::Mutex<()>,
}

impl CatalogService {
    pub fn new(
        db: Db,
        presence: Arc<dyn PresenceRegistry>,
        cache: Arc<ReadCache>,
        snapshots: Arc<dyn SnapshotStore>,
    ) -> Self {
        Self { db, presence, cache, snapshots, listing: Default::default(), rebuilding: Default::default() }
    }

    /// Active, not deleted plans by price, and whether the user has never recharged.
    pub async fn plans(&self, user: &Account) -> Result<PlanOffer, ServiceError> {
        let plans = plans::list_active(self.db.pool()).await?;
        let first = !talktime_repository::transactions::has_successful_recharge(self.db.pool(), user.id).await?;
        Ok(PlanOffer { plans, is_first_recharge: first })
    }

    /// The current listing, rebuilt if presence or a listed account changed since, or if it is
    /// over a second old. One rebuild at a time; requests meanwhile wait for it.
    async fn listing(&self) -> Result<Arc<Listing>, ServiceError> {
        if let Some(listing) = self.current_listing() {
            return Ok(listing);
        }
        let _rebuilding = self.rebuilding.lock().await;
        if let Some(listing) = self.current_listing() {
            return Ok(listing);
        }
        let (generation, epoch) = (self.presence.generation(), self.cache.epoch());
        let config = self.cache.config().await?;
        let available = self.presence.available().await;
        let ids: Vec<AccountId> = available.iter().map(|(id, _)| *id).collect();
        let cards = self.cache.cards(&ids).await?;
        let mut entries: Vec<(Arc<TelecallerCard>, Presence)> =
            cards.into_iter().zip(available).filter_map(|(card, (_, presence))| Some((card?, presence))).collect();
        entries.sort_by_key(|(card, presence)| (presence.listing_rank(), card.id));
        let listing =
            Arc::new(Listing { built: Instant::now(), generation, epoch, entries, config, orders: Mutex::default() });
        *self.listing.write().unwrap_or_else(|e| e.into_inner()) = Some(listing.clone());
        Ok(listing)
    }

    fn current_listing(&self) -> Option<Arc<Listing>> {
        let listing = self.listing.read().unwrap_or_else(|e| e.into_inner()).clone()?;
        let fresh = listing.generation == self.presence.generation()
            && listing.epoch == self.cache.epoch()
            && listing.built.elapsed() < LISTING_MAX_AGE;
        fresh.then_some(listing)
    }

    /// Approved, active telecallers who are ONLINE, ON_CALL or AWAY, in that order.
    ///
    /// Page 1 takes a snapshot of the ordered list (in the snapshot store, so any node can serve
    /// the next page); later pages slice that snapshot and drop whoever is no longer available.
    /// So a telecaller who stays online appears exactly once while the user pages, whatever
    /// happens around her; someone who comes online mid-paging shows up on the next page 1.
    pub async fn online_telecallers(
        &self,
        viewer: &Account,
        page: PageRequest,
        filter: ListFilter,
    ) -> Result<TelecallerPage, ServiceError> {
        let ListFilter { language, by, max_rate } = filter;
        let snapshot = match page.page {
            1 => None,
            _ => self
                .snapshots
                .load(viewer.id)
                .await
                .filter(|s| s.language == language && s.by == by && s.max_rate == max_rate),
        };
        let order = match snapshot {
            Some(snapshot) => snapshot.order,
            None => {
                let order = self.listing().await?.order(language, by, max_rate);
                self.snapshots.save(viewer.id, Snapshot { language, by, max_rate, order: order.clone() }).await;
                order
            }
        };
        let start = usize::try_from(page.offset()).unwrap_or(usize::MAX).min(order.len());
        let end = start.saturating_add(page.limit as usize).min(order.len());
        let slice = &order[start..end];
        // Whoever went offline, or was blocked or rejected, since the snapshot drops out.
        let presence = self.presence.get_many(slice).await;
        let cards = self.cache.cards(slice).await?;
        let favorites = self.cache.favorites(viewer.id).await?;
        let config = self.cache.config().await?;
        let telecallers = cards
            .into_iter()
            .zip(presence)
            .filter(|(_, presence)| *presence != Presence::Offline)
            .filter_map(|(card, presence)| {
                let card = card?;
                let is_favorite = favorites.binary_search(&card.id).is_ok();
                let rates = config.rates_of(card.rates);
                Some(ListedTelecaller { card, presence, is_favorite, alerts: None, rates })
            })
            .collect();
        Ok(TelecallerPage {
            telecallers,
            has_more: end < order.len(),
            audio_call_charge: config.user_audio_coins_per_sec,
            video_call_charge: config.user_video_coins_per_sec,
        })
    }

    /// A telecaller's live presence.
    pub async fn presence_of(&self, telecaller: AccountId) -> Presence {
        self.presence.get(telecaller).await
    }

    /// The user's saved telecallers who are approved and active, newest saved first.
    pub async fn favorites(&self, user: &Account, page: PageRequest) -> Result<FavoritePage, ServiceError> {
        let mut cards = telecallers::favorites_page(self.db.pool(), user.id, page.limit(), page.offset()).await?;
        let has_more = talktime_domain::page::cut_to(&mut cards, page.limit());
        let ids: Vec<AccountId> = cards.iter().map(|(c, _)| c.id).collect();
        let presence = self.presence.get_many(&ids).await;
        let config = self.cache.config().await?;
        let favorites = cards
            .into_iter()
            .zip(presence)
            .map(|((card, alerts), presence)| ListedTelecaller {
                rates: config.rates_of(card.rates),
                card: Arc::new(card),
                presence,
                is_favorite: true,
                alerts: Some(alerts),
            })
            .collect();
        Ok(FavoritePage { favorites, has_more })
    }

    /// Turns the online alerts about a favorite on or off (404 when she is not a favorite).
    pub async fn set_alerts(&self, user: &Account, telecaller: AccountId, enabled: bool) -> Result<(), ServiceError> {
        if telecallers::set_alerts(self.db.pool(), user.id, telecaller, enabled).await? {
            Ok(())
        } else {
            Err(ServiceError::not_found("favorite_not_found", "This telecaller is not in your favorites"))
        }
    }

    pub async fn add_favorite(&self, user: &Account, telecaller: AccountId) -> Result<FavoriteAdded, ServiceError> {
        if telecaller == user.id {
            return Err(ServiceError::invalid("cannot_favorite_self", "You cannot add yourself to favorites"));
        }
        match telecallers::standing(self.db.pool(), telecaller).await? {
            Standing::NotATelecaller => {
                return Err(ServiceError::not_found("telecaller_not_found", "Telecaller not found"));
            }
            Standing::Unavailable => {
                return Err(ServiceError::invalid(
                    "telecaller_unavailable",
                    "This telecaller is not approved or not active",
                ));
            }
            Standing::Listable => {}
        }
        let mut tx = self.db.begin().await?;
        let outcome = telecallers::add_favorite(&mut tx, user.id, telecaller, FAVORITES_CAP).await?;
        tx.commit().await.map_err(RepoError::from)?;
        self.cache.changed(Change::Favorites(user.id));
        if outcome == FavoriteAdded::Full {
            return Err(ServiceError::invalid(
                "favorites_limit_reached",
                format!("You can save at most {FAVORITES_CAP} favorites"),
            ));
        }
        Ok(outcome)
    }

    pub async fn remove_favorite(&self, user: &Account, telecaller: AccountId) -> Result<(), ServiceError> {
        telecallers::remove_favorite(self.db.pool(), user.id, telecaller).await?;
        self.cache.changed(Change::Favorites(user.id));
        Ok(())
    }
}
