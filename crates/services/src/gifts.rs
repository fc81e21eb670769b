//! Gifts (docs/chat.md#gifts): the catalogue operators keep, and gifts a user sends during an
//! accepted call or an active chat. A gift's coins move in one transaction with its record:
//! from her wallets (promotional first) to the telecaller at her share of the session, the rest
//! to revenue (marketing takes back the promotional part's commission), once per `clientId`.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use talktime_domain::account::{Account, Role};
use talktime_domain::call::CallStatus;
use talktime_domain::dashboard::DistributionPeriod;
use talktime_domain::gift::{Gift, GiftSent, spendable_during};
use talktime_domain::ids::{AdminId, CallId, GiftId, GiftSendId};
use talktime_domain::page::Page;
use talktime_domain::promotion::Funding;
use talktime_repository::gifts::{self, GiftFigures, NewSend, Removed};
use talktime_repository::{Db, RepoError, audit, calls, promotions};

use crate::ServiceError;
use crate::bus::{Audience, ServerEvent, send};
use crate::cache::ReadCache;
use crate::calls::{Answer, CallService, Origin};
use crate::catalog::PageRequest;
use crate::chats::check_client_id;
use crate::ledger;

/// `gift:received`, to both parties.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GiftEvent {
    pub gift_id: uuid::Uuid,
    pub name: String,
    pub coins: i64,
    pub from: uuid::Uuid,
    pub session_id: uuid::Uuid,
    pub sent_at: chrono::DateTime<chrono::Utc>,
}

impl From<&GiftSent> for GiftEvent {
    fn from(g: &GiftSent) -> Self {
        Self {
            gift_id: g.gift_id.0,
            name: g.name.clone(),
            coins: g.coins,
            from: g.user_id.0,
            session_id: g.call_id.0,
            sent_at: g.created_at,
        }
    }
}

/// A catalogue entry as an admin writes it (`None`: unchanged on an edit).
#[derive(Debug, Clone, Default)]
pub struct GiftInput {
    pub name: Option<String>,
    pub icon: Option<String>,
    pub coins: Option<i64>,
    pub active: Option<bool>,
}

pub struct GiftService {
    db: Db,
    cache: Arc<ReadCache>,
    calls: Arc<CallService>,
}

fn not_found() -> ServiceError {
    ServiceError::not_found("gift_not_found", "Gift not found")
}

fn gift_json(g: &Gift) -> serde_json::Value {
    json!({ "name": g.name, "icon": g.icon, "coins": g.coins, "active": g.active })
}

impl GiftService {
    pub fn new(db: Db, cache: Arc<ReadCache>, calls: Arc<CallService>) -> Self {
        Self { db, cache, calls }
    }

    /// `GET /users/gifts`: what can be sent, cheapest first.
    pub async fn catalogue(&self) -> Result<Vec<Gift>, ServiceError> {
        Ok(gifts::active(self.db.pool()).await?)
    }

    /// `gift:send` by the user of an accepted call or active chat.
    #[tracing::instrument(name = "gift_send", skip_all, fields(user = %user.id, session = %session))]
    pub async fn send(
        &self,
        user: &Account,
        origin: Origin,
        gift: GiftId,
        session: CallId,
        client_id: &str,
    ) -> Result<Answer, ServiceError> {
        let user = self.calls.party(user, Role::User).await?;
        check_client_id(client_id)?;
        if let Some(sent) = gifts::sent_by_client_id(self.db.pool(), user.id, client_id).await? {
            return self.answer(&sent).await;
        }
        let gift = gifts::find(self.db.pool(), gift).await?.filter(|g| g.active).ok_or_else(not_found)?;
        // Before the transaction: a cache miss inside it would wait for a second connection.
        let config = self.cache.config().await?;
        let mut tx = self.db.begin().await?;
        let call = calls::lock(&mut tx, session)
            .await?
            .filter(|c| c.user_id == user.id)
            .ok_or_else(|| ServiceError::not_found("session_not_found", "Call or chat not found"))?;
        if call.status != CallStatus::Accepted {
            return Err(ServiceError::conflict("session_not_active", "Gifts are sent during an accepted call or chat"));
        }
        let (paid, promo) = talktime_repository::ledger::lock_balances(&mut tx, user.id).await?;
        let elapsed = call.connected_at.map(|at| (call.now - at).num_seconds()).unwrap_or(0);
        let spendable = spendable_during(paid + promo, elapsed, i64::from(call.free_seconds), call.user_rate);
        if gift.coins > spendable {
            return Err(ServiceError::invalid(
                "insufficient_balance",
                format!("This gift costs {} coins; you have {spendable} to spend", gift.coins),
            ));
        }
        let commission = call.commission_hundredths.unwrap_or(config.prices(call.call_type).commission_hundredths);
        let earned = talktime_domain::pricing::her_share(gift.coins, commission);
        let funding = Funding::split(gift.coins, 0, earned, promo);
        let id = GiftSendId::new();
        let record = NewSend {
            id,
            gift: gift.id,
            call: call.id,
            user: user.id,
            telecaller: call.telecaller_id,
            client_id,
            coins: gift.coins,
            promo_coins: funding.promo,
            earned: funding.earned,
        };
        if !gifts::insert_send(&mut tx, &record).await? {
            // A concurrent retry of this clientId won: answer what it sent.
            drop(tx);
            let sent = gifts::sent_by_client_id(self.db.pool(), user.id, client_id).await?.ok_or_else(not_found)?;
            return self.answer(&sent).await;
        }
        promotions::consume(&mut tx, user.id, funding.promo).await?;
        ledger::send_gift(&mut tx, id, user.id, call.telecaller_id, &funding).await?;
        self.calls.repaid(&mut tx, &call).await?;
        tx.commit().await.map_err(RepoError::from)?;
        let sent = gifts::sent_by_client_id(self.db.pool(), user.id, client_id).await?.ok_or_else(not_found)?;
        let event = GiftEvent::from(&sent);
        let mine = Audience::Account { role: Role::User, id: user.id, except: Some(origin.connection) };
        send(self.calls.presence().bus().as_ref(), mine, ServerEvent::GiftReceived, &event);
        let hers = Audience::account(Role::Telecaller, call.telecaller_id);
        send(self.calls.presence().bus().as_ref(), hers, ServerEvent::GiftReceived, &event);
        self.answer(&sent).await
    }

    /// The sender's answer: the gift and her balance now.
    async fn answer(&self, sent: &GiftSent) -> Result<Answer, ServiceError> {
        let mut data = serde_json::to_value(GiftEvent::from(sent)).unwrap_or_default();
        data["balance"] = json!(self.calls.balance_of(sent.user_id).await?);
        Ok(Answer { event: ServerEvent::GiftReceived, data })
    }

    // ---- operators --------------------------------------------------------------------------

    pub async fn page(&self, page: PageRequest) -> Result<Page<Gift>, ServiceError> {
        Ok(gifts::page(&self.db, page.limit(), page.offset()).await?)
    }

    /// `POST /admin/gifts` (audited).
    pub async fn create(&self, by: AdminId, name: &str, icon: &str, coins: i64) -> Result<Gift, ServiceError> {
        let mut tx = self.db.begin().await?;
        let gift = gifts::insert(&mut *tx, name, icon, coins).await?;
        audit::audit(&mut tx, by, "gift.create", "gift", Some(gift.id.0), json!(null), gift_json(&gift)).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(gift)
    }

    /// `PATCH /admin/gifts/{id}` (audited). A new price applies to gifts sent afterwards.
    pub async fn update(&self, by: AdminId, id: GiftId, input: GiftInput) -> Result<Gift, ServiceError> {
        let mut tx = self.db.begin().await?;
        let before = gifts::find(&mut *tx, id).await?.ok_or_else(not_found)?;
        let GiftInput { name, icon, coins, active } = input;
        let gift = gifts::update(&mut *tx, id, name.as_deref(), icon.as_deref(), coins, active)
            .await?
            .ok_or_else(not_found)?;
        audit::audit(&mut tx, by, "gift.update", "gift", Some(id.0), gift_json(&before), gift_json(&gift)).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(gift)
    }

    /// `DELETE /admin/gifts/{id}` (audited): a gift never sent is deleted; one that was is
    /// deactivated (the histories name it). Answers whether it was deleted.
    pub async fn remove(&self, by: AdminId, id: GiftId) -> Result<bool, ServiceError> {
        let mut tx = self.db.begin().await?;
        let before = gifts::find(&mut *tx, id).await?.ok_or_else(not_found)?;
        let removed = gifts::remove(&mut tx, id).await?;
        let (action, deleted) = match removed {
            Removed::Deleted => ("gift.delete", true),
            Removed::Deactivated => ("gift.deactivate", false),
            Removed::NotFound => return Err(not_found()),
        };
        audit::audit(&mut tx, by, action, "gift", Some(id.0), gift_json(&before), json!({ "deleted": deleted }))
            .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(deleted)
    }

    /// Gift revenue and the ten top gifts in the period (the dashboard).
    pub async fn figures(&self, period: DistributionPeriod) -> Result<GiftFigures, ServiceError> {
        let since = crate::dashboard::since(period).unwrap_or(chrono::DateTime::UNIX_EPOCH);
        Ok(gifts::figures(self.db.pool(), since, 10).await?)
    }

    /// A page of the gifts a user sent or a telecaller received, newest first (her
    /// transactions), and whether more follow.
    pub async fn of_account(
        &self,
        account: &Account,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<GiftSent>, bool), ServiceError> {
        let sent = account.role == talktime_domain::account::Role::User;
        let mut found = gifts::of_account(self.db.pool(), account.id, sent, limit + 1, offset).await?;
        let more = talktime_domain::page::cut_to(&mut found, limit);
        Ok((found, more))
    }
}
