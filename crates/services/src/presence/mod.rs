//! Presence and socket notifications: who is connected (the directory), telecallers' published
//! presence (the registry), and what the other services tell an account's sockets (a new
//! balance, a forced close). Calls, payments, push, accounts and admin all notify through this
//! service; it knows nothing of them.

mod directory;
mod registry;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use talktime_domain::account::{Account, AccountStatus, ApprovalStatus, Avatar, Language, Presence, Role};
use talktime_domain::call::CallStatus;
use talktime_domain::ids::AccountId;
use talktime_domain::pricing::RatesInForce;
use talktime_repository::changes::Change;
use talktime_repository::{Db, RepoError, calls, push};
use uuid::Uuid;

pub use self::directory::{ConnectionDirectory, Heartbeat, LocalDirectory, RedisDirectory};
pub use self::registry::{InMemoryPresence, PresenceRegistry, RedisPresence};
use crate::ServiceError;
use crate::bus::{Audience, Delivery, EventBus, item};
use crate::cache::ReadCache;

/// How a node reaches the others: where events go, published presence, who is connected.
#[derive(Clone)]
pub struct Realtime {
    pub bus: Arc<dyn EventBus>,
    pub registry: Arc<dyn PresenceRegistry>,
    pub directory: Arc<dyn ConnectionDirectory>,
}

/// `{_id, name, profile}` of an account: the other party of a call, a caller.
#[derive(Debug, Clone, Serialize)]
pub struct PartyCard {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub name: Option<String>,
    pub profile: Option<Avatar>,
}

impl From<&Account> for PartyCard {
    fn from(account: &Account) -> Self {
        Self { id: account.id.0, name: account.name.clone(), profile: account.profile }
    }
}

/// `{_id, name, profile, language, about, rates}` of a telecaller who came online.
#[derive(Debug, Clone, Serialize)]
pub struct OnlineCard {
    #[serde(flatten)]
    pub party: PartyCard,
    pub language: Option<Language>,
    pub about: Option<String>,
    /// Her prices in force (`null` only when the prices could not be read).
    pub rates: Option<RatesInForce>,
}

/// One telecaller's presence change, as watchers get it inside `presence:update`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChanged {
    pub telecaller_id: Uuid,
    pub presence: Presence,
    pub telecaller: Option<OnlineCard>,
}

/// `presence:counts` for admins.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub online_users: usize,
    pub online_telecallers: usize,
    pub active_calls: i64,
    pub timestamp: DateTime<Utc>,
}

pub struct PresenceService {
    db: Db,
    cache: Arc<ReadCache>,
    realtime: Realtime,
    /// At most one round of "she's online" pushes per telecaller within this.
    online_alert_cooldown: Duration,
    /// One presence recomputation at a time per telecaller (striped by id).
    locks: Vec<tokio::sync::Mutex<()>>,
}

impl PresenceService {
    pub fn new(db: Db, cache: Arc<ReadCache>, realtime: Realtime, online_alert_cooldown: Duration) -> Arc<Self> {
        let locks = (0..64).map(|_| tokio::sync::Mutex::new(())).collect();
        Arc::new(Self { db, cache, realtime, online_alert_cooldown, locks })
    }

    /// Who is connected, on every node.
    pub fn directory(&self) -> &dyn ConnectionDirectory {
        &*self.realtime.directory
    }

    /// Where events go.
    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.realtime.bus
    }

    /// A telecaller's published presence.
    pub async fn get(&self, telecaller: AccountId) -> Presence {
        self.realtime.registry.get(telecaller).await
    }

    /// Recomputes a telecaller's presence (ON_CALL with an accepted call, ONLINE when connected,
    /// approved and active, AWAY when not connected but reachable by push, OFFLINE otherwise)
    /// and announces it when it changed. One recomputation at a time per telecaller, so a late
    /// one never overwrites a newer state.
    pub async fn refresh(&self, telecaller: AccountId) -> Result<(), ServiceError> {
        let _turn = self.turn(telecaller).await;
        let account = self.cache.account(telecaller).await?;
        let listable = account.as_ref().is_some_and(|a| {
            a.status == AccountStatus::Active && a.approval_status() == Some(ApprovalStatus::Approved)
        });
        let active = calls::active_for(self.db.pool(), telecaller).await?;
        let presence = if active.is_some_and(|c| c.status == CallStatus::Accepted) {
            Presence::OnCall
        } else if listable && self.directory().is_connected(Role::Telecaller, telecaller).await {
            Presence::Online
        } else if listable {
            self.unconnected(telecaller).await?
        } else {
            Presence::Offline
        };
        self.announce(telecaller, presence, account.as_deref()).await;
        Ok(())
    }

    /// A telecaller without a connection: AWAY when she can be rung through a push (she turned
    /// it on, and it ends with her last device), else OFFLINE.
    pub async fn unconnected(&self, telecaller: AccountId) -> Result<Presence, ServiceError> {
        let reachable = push::is_push_reachable(self.db.pool(), telecaller).await?;
        Ok(if reachable { Presence::Away } else { Presence::Offline })
    }

    /// Sets a presence known without looking (ON_CALL at accept, OFFLINE with a lost node), in
    /// turn with recomputations.
    pub async fn set(&self, telecaller: AccountId, presence: Presence, account: Option<&Account>) {
        let _turn = self.turn(telecaller).await;
        self.announce(telecaller, presence, account).await;
    }

    /// `PUT /telecaller/availability`: whether she may be rung through a push while her app has
    /// no connection. Answers her presence now.
    #[tracing::instrument(name = "set_reachable_by_push", skip_all, fields(account = %telecaller.id))]
    pub async fn set_reachable_by_push(&self, telecaller: &Account, reachable: bool) -> Result<Presence, ServiceError> {
        push::set_reachable_by_push(self.db.pool(), telecaller.id, reachable).await?;
        self.cache.changed(Change::Account(telecaller.id));
        self.refresh(telecaller.id).await?;
        Ok(self.get(telecaller.id).await)
    }

    /// The account is gone (deleted): a telecaller's presence follows.
    pub async fn account_gone(&self, account: &Account) -> Result<(), ServiceError> {
        if account.role == Role::Telecaller {
            self.refresh(account.id).await?;
        }
        Ok(())
    }

    /// A node starting: telecallers reachable by push are published AWAY (unless connected to
    /// another node), since presence lives in memory or Redis, not in Postgres.
    pub async fn run_publish_reachable(self: Arc<Self>) {
        let reachable = match push::push_reachable_telecallers(self.db.pool()).await {
            Ok(reachable) => reachable,
            Err(error) => return tracing::warn!(%error, "cannot publish the telecallers reachable by push"),
        };
        for telecaller in reachable {
            if let Err(error) = self.refresh(telecaller).await {
                tracing::warn!(%error, %telecaller, "cannot publish a telecaller reachable by push");
            }
        }
    }

    /// How many telecallers are ONLINE or ON_CALL (the `onlineTelecallers` of `presence:update`).
    pub async fn online_telecallers(&self) -> usize {
        self.realtime.registry.count().await
    }

    /// `presence:counts` for admins: distinct connected accounts and live calls.
    pub async fn counts(&self) -> Result<Counts, ServiceError> {
        Ok(Counts {
            online_users: self.directory().online(Role::User).await,
            online_telecallers: self.directory().online(Role::Telecaller).await,
            active_calls: calls::count_accepted(self.db.pool()).await?,
            timestamp: Utc::now(),
        })
    }

    /// Tells every connection of an account its new balance (`wallet:updated`), after a change
    /// that is not a call's own (a recharge credited, a withdrawal held or released, a refund).
    pub fn wallet_changed(&self, role: Role, account: AccountId, balance: i64) {
        crate::bus::wallet_updated(&**self.bus(), role, account, balance);
    }

    /// Closes every connection of an account, on whichever node holds it (logout, suspension,
    /// rejection: close code 4003).
    pub fn disconnect_account(&self, role: Role, account: AccountId) {
        self.bus().publish(Audience::account(role, account), Delivery::Close(4003));
    }

    async fn turn(&self, telecaller: AccountId) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = (telecaller.0.as_u128() % self.locks.len() as u128) as usize;
        self.locks[stripe].lock().await
    }

    /// Records a telecaller's presence and, when that changed it, tells the connections that
    /// watch her (once, whichever node made the change; each node coalesces what its watchers
    /// get into one `presence:update` per flush).
    async fn announce(&self, telecaller: AccountId, presence: Presence, account: Option<&Account>) {
        let before = self.realtime.registry.set(telecaller, presence).await;
        if before == presence {
            return;
        }
        let card = match (account, presence) {
            (Some(a), Presence::Online) => Some(OnlineCard {
                party: PartyCard::from(a),
                language: a.language,
                about: a.telecaller.as_ref().map(|t| t.about.clone()),
                rates: self.cache.config().await.ok().map(|config| config.rates_of(a.host_rates())),
            }),
            _ => None,
        };
        let change = PresenceChanged { telecaller_id: telecaller.0, presence, telecaller: card };
        self.bus().publish(Audience::Watchers(telecaller), Delivery::Change(item(change)));
        // After the change is out: nothing may come between the count moving and the change
        // (a flush in between would tell watchers the count without her). Still before her
        // `session:ready`, as the caller awaits this.
        if !before.is_connected()
            && presence == Presence::Online
            && let Err(error) = self.online_alerts(telecaller, account).await
        {
            tracing::warn!(%error, "could not queue the online alerts");
        }
    }

    /// "She's online" pushes to the users who asked for them (docs/push.md).
    async fn online_alerts(&self, telecaller: AccountId, account: Option<&Account>) -> Result<(), ServiceError> {
        let name = account.and_then(|a| a.name.clone()).unwrap_or_else(|| "A telecaller".to_owned());
        let title = format!("{name} is online");
        let data = serde_json::json!({ "type": "online_alert", "telecallerId": telecaller.0, "telecallerName": name });
        let mut tx = self.db.begin().await?;
        let cooldown = self.online_alert_cooldown.as_secs_f64();
        push::enqueue_online_alerts(&mut tx, telecaller, cooldown, &title, "Call her now", &data).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }
}
