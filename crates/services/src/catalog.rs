//! What users browse: coin plans, online telecallers and their favorites.

use std::collections::HashMap;
use std::sync::Arc;

use talktime_domain::account::{Account, Presence};
use talktime_domain::ids::AccountId;
use talktime_repository::app_config;
use talktime_repository::plans;
use talktime_repository::telecallers::{self, Standing, TelecallerCard};
use talktime_repository::{Db, RepoError};

use crate::ServiceError;
use crate::presence::PresenceRegistry;
pub use talktime_repository::plans::Plan;
pub use talktime_repository::telecallers::FavoriteAdded;

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
    pub card: TelecallerCard,
    pub presence: Presence,
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

pub struct CatalogService {
    db: Db,
    presence: Arc<dyn PresenceRegistry>,
}

impl CatalogService {
    pub fn new(db: Db, presence: Arc<dyn PresenceRegistry>) -> Self {
        Self { db, presence }
    }

    /// Active, not deleted plans by price, and whether the user has never recharged.
    pub async fn plans(&self, user: &Account) -> Result<(Vec<Plan>, bool), ServiceError> {
        let plans = plans::list_active(self.db.pool()).await?;
        let first = !talktime_repository::transactions::has_successful_recharge(self.db.pool(), user.id).await?;
        Ok((plans, first))
    }

    /// Approved, active telecallers who are ONLINE or ON_CALL, ONLINE first.
    ///
    /// Page 1 takes a snapshot of the ordered list (stored in Postgres, so any node can serve the
    /// next page); later pages slice that snapshot and drop whoever went offline meanwhile. So a
    /// telecaller who stays online appears exactly once while the user pages, whatever happens
    /// around her; someone who comes online mid-paging shows up on the next page 1.
    pub async fn online_telecallers(
        &self,
        viewer: &Account,
        page: PageRequest,
        language: Option<&str>,
    ) -> Result<TelecallerPage, ServiceError> {
        let available: HashMap<AccountId, Presence> = self.presence.available().await.into_iter().collect();
        let snapshot = match page.page {
            1 => None,
            _ => telecallers::load_snapshot(self.db.pool(), viewer.id)
                .await?
                .filter(|s| s.language.as_deref() == language),
        };
        let (order, mut cards) = match snapshot {
            Some(snapshot) => (snapshot.ids, None),
            None => {
                let ids: Vec<uuid::Uuid> = available.keys().map(|id| id.0).collect();
                let mut listable = telecallers::listable_among(self.db.pool(), viewer.id, &ids, language).await?;
                listable.sort_by_key(|card| (available.get(&card.id) != Some(&Presence::Online), card.id));
                let order: Vec<uuid::Uuid> = listable.iter().map(|c| c.id.0).collect();
                telecallers::save_snapshot(self.db.pool(), viewer.id, language, &order).await?;
                (order, Some(listable))
            }
        };

        let start = usize::try_from(page.offset()).unwrap_or(usize::MAX).min(order.len());
        let end = start.saturating_add(page.limit as usize).min(order.len());
        let slice = &order[start..end];
        let has_more = end < order.len();
        let by_id: HashMap<uuid::Uuid, TelecallerCard> = match cards.take() {
            Some(fresh) => fresh.into_iter().map(|c| (c.id.0, c)).collect(),
            // Re-read the slice: an account blocked or rejected since the snapshot drops out.
            None => telecallers::listable_among(self.db.pool(), viewer.id, slice, language)
                .await?
                .into_iter()
                .map(|c| (c.id.0, c))
                .collect(),
        };
        let telecallers = slice
            .iter()
            .filter_map(|id| {
                let presence = *available.get(&AccountId(*id))?;
                by_id.get(id).map(|card| ListedTelecaller { card: card.clone(), presence })
            })
            .collect();
        let config = app_config::get(self.db.pool()).await?;
        Ok(TelecallerPage {
            telecallers,
            has_more,
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
        let has_more = cards.len() > page.limit as usize;
        cards.truncate(page.limit as usize);
        let mut favorites = Vec::with_capacity(cards.len());
        for card in cards {
            let presence = self.presence.get(card.id).await;
            favorites.push(ListedTelecaller { card, presence });
        }
        Ok(FavoritePage { favorites, has_more })
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
        Ok(())
    }
}
