//! Connections, presence and the session snapshot.

use std::sync::Arc;

use talktime_domain::account::{Account, AccountStatus, ApprovalStatus, Presence, Role};
use talktime_domain::call::CallStatus;
use talktime_domain::ids::AccountId;
use talktime_repository::calls;

use super::CallService;
use super::events::*;
use crate::bus::{Audience, Delivery, item};
use crate::{ServiceError, ledger};

/// How long `/metrics`' call figures are reused.
pub const FIGURES_TTL: std::time::Duration = std::time::Duration::from_secs(15);

/// Call figures for monitoring.
#[derive(Debug, Clone)]
pub struct CallFigures {
    pub by_status: Vec<(String, i64)>,
    pub setups: i64,
    pub settlements: i64,
}

impl CallService {
    /// A connection opened: a reconnect within the grace resumes the active call; the snapshot
    /// is what `session:ready` carries.
    #[tracing::instrument(name = "connected", skip_all, fields(account = %account.id, role = %role))]
    pub async fn connected(&self, account: &Account, role: Role) -> Result<SessionReady, ServiceError> {
        self.directory.opened(role, account.id).await;
        self.resumed(role, account.id).await?;
        self.session(account, role).await
    }

    /// A connection closed. When the account has no connection left on any node, its active
    /// call gets the reconnect grace, and a telecaller's presence is updated.
    #[tracing::instrument(name = "disconnected", skip_all, fields(account = %account, role = %role))]
    pub async fn disconnected(&self, account: AccountId, role: Role) -> Result<(), ServiceError> {
        if self.directory.closed(role, account).await {
            return Ok(());
        }
        self.gone(role, account).await
    }

    /// The account has no connection left: its call gets the grace, her presence is recomputed
    /// (ON_CALL through the grace, else OFFLINE).
    async fn gone(&self, role: Role, account: AccountId) -> Result<(), ServiceError> {
        if role == Role::Admin {
            return Ok(());
        }
        self.start_grace(account).await?;
        if role == Role::Telecaller {
            self.refresh_presence(account).await?;
        }
        Ok(())
    }

    /// The account is (again) connected: its call's grace is off, her presence recomputed.
    async fn resumed(&self, role: Role, account: AccountId) -> Result<(), ServiceError> {
        if role != Role::Admin {
            calls::set_grace(self.db.pool(), account, None).await?;
        }
        if role == Role::Telecaller {
            self.refresh_presence(account).await?;
        }
        Ok(())
    }

    /// Starts the reconnect grace on the account's active call, with a timer on this node.
    pub(super) async fn start_grace(&self, account: AccountId) -> Result<(), ServiceError> {
        let grace = self.settings.reconnect_grace.as_secs_f64();
        if let Some(call) = calls::set_grace(self.db.pool(), account, Some(grace)).await?
            && let Some(deadline) = call.grace_deadline_of(account)
        {
            self.schedule(call.id, deadline);
        }
        Ok(())
    }

    /// The account's last connection was on a node that died. Its call gets the grace (ended
    /// by this node's timer or any sweeper), and a telecaller's presence goes with her node:
    /// OFFLINE (or AWAY), even mid-call, until she connects again.
    async fn lost(&self, role: Role, account: AccountId) -> Result<(), ServiceError> {
        if role == Role::Admin {
            return Ok(());
        }
        self.start_grace(account).await?;
        if role == Role::Telecaller {
            let presence = self.unconnected_presence(account).await?;
            self.set_presence(account, presence, None).await;
        }
        Ok(())
    }

    /// This node is shutting down: its connections leave the directory now, so the other nodes
    /// see them gone at once (rather than at expiry), treated as ordinary disconnects: calls get
    /// the reconnect grace and resume on whichever node the apps reconnect to.
    pub async fn leave(&self) {
        for (role, account) in self.directory.leave().await {
            if let Err(error) = self.gone(role, account).await {
                tracing::warn!(%error, %account, "cannot hand over a connection");
            }
        }
    }

    /// Waits (briefly) until the events published so far have left this node: the last step
    /// before it exits.
    pub async fn flush_events(&self) {
        self.bus.flush().await;
    }

    /// Runs this node's directory heartbeat until the node stops, acting on what it finds.
    pub async fn run_heartbeat(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.settings.heartbeat);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if self.is_stopped() {
                return;
            }
            let beat = self.directory.heartbeat().await;
            for (role, account) in beat.lost {
                if let Err(error) = self.lost(role, account).await {
                    tracing::warn!(%error, %account, "cannot act on a lost connection");
                }
            }
            for (role, account) in beat.restored {
                if let Err(error) = self.resumed(role, account).await {
                    tracing::warn!(%error, %account, "cannot restore a connection");
                }
            }
        }
    }

    async fn session(&self, account: &Account, role: Role) -> Result<SessionReady, ServiceError> {
        let active_call = match calls::active_for(self.db.pool(), account.id).await? {
            Some(call) => {
                let peer_id = if call.user_id == account.id { call.telecaller_id } else { call.user_id };
                let peer = self.account(peer_id).await?;
                // A token only for a call that is ACCEPTED, minted at most once per window per
                // party (recent_tokens).
                let livekit = if call.status == CallStatus::Accepted {
                    Some(self.recent_tokens.get_or_mint(call.id, account.id, || self.livekit_join(&call, account))?)
                } else {
                    None
                };
                Some(ActiveCall {
                    call_id: call.id.0,
                    call_type: call.call_type,
                    status: call.status,
                    peer: PartyCard::from(&*peer),
                    accepted_at: call.accepted_at,
                    max_duration_seconds: call.max_duration_seconds,
                    livekit,
                })
            }
            None => None,
        };
        let online_telecallers = if role == Role::User { Some(self.presence.count().await) } else { None };
        Ok(SessionReady { active_call, balance: ledger::balance(&self.db, account.id).await?, online_telecallers })
    }

    /// Recomputes a telecaller's presence (ON_CALL with an accepted call, ONLINE when connected,
    /// approved and active, AWAY when not connected but reachable by push, OFFLINE otherwise)
    /// and announces it when it changed. One recomputation at a time per telecaller, so a late
    /// one never overwrites a newer state.
    pub async fn refresh_presence(&self, telecaller: AccountId) -> Result<(), ServiceError> {
        let _turn = self.presence_turn(telecaller).await;
        let account = self.cache.account(telecaller).await?;
        let listable = account.as_ref().is_some_and(|a| {
            a.status == AccountStatus::Active && a.approval_status() == Some(ApprovalStatus::Approved)
        });
        let active = calls::active_for(self.db.pool(), telecaller).await?;
        let presence = if active.is_some_and(|c| c.status == CallStatus::Accepted) {
            Presence::OnCall
        } else if listable && self.directory.is_connected(Role::Telecaller, telecaller).await {
            Presence::Online
        } else if listable {
            self.unconnected_presence(telecaller).await?
        } else {
            Presence::Offline
        };
        self.announce_presence(telecaller, presence, account.as_deref()).await;
        Ok(())
    }

    /// A telecaller without a connection: AWAY when she can be rung through a push (she turned
    /// it on, and it ends with her last device), else OFFLINE.
    async fn unconnected_presence(&self, telecaller: AccountId) -> Result<Presence, ServiceError> {
        let reachable = talktime_repository::push::is_push_reachable(self.db.pool(), telecaller).await?;
        Ok(if reachable { Presence::Away } else { Presence::Offline })
    }

    /// `PUT /telecaller/availability`: whether she may be rung through a push while her app has
    /// no connection. Answers her presence now.
    pub async fn set_reachable_by_push(&self, telecaller: &Account, reachable: bool) -> Result<Presence, ServiceError> {
        talktime_repository::push::set_reachable_by_push(self.db.pool(), telecaller.id, reachable).await?;
        self.cache.changed(talktime_repository::changes::Change::Account(telecaller.id));
        self.refresh_presence(telecaller.id).await?;
        Ok(self.presence.get(telecaller.id).await)
    }

    /// The account is gone (deleted): a telecaller's presence follows.
    pub async fn account_gone(&self, account: &Account) -> Result<(), ServiceError> {
        if account.role == Role::Telecaller {
            self.refresh_presence(account.id).await?;
        }
        Ok(())
    }

    /// A node starting: telecallers reachable by push are published AWAY (unless connected to
    /// another node), since presence lives in memory or Redis, not in Postgres.
    pub async fn run_publish_reachable(self: Arc<Self>) {
        let reachable = match talktime_repository::push::push_reachable_telecallers(self.db.pool()).await {
            Ok(reachable) => reachable,
            Err(error) => return tracing::warn!(%error, "cannot publish the telecallers reachable by push"),
        };
        for telecaller in reachable {
            if let Err(error) = self.refresh_presence(telecaller).await {
                tracing::warn!(%error, %telecaller, "cannot publish a telecaller reachable by push");
            }
        }
    }

    /// Sets a presence known without looking (ON_CALL at accept, OFFLINE with a lost node), in
    /// turn with recomputations.
    pub(super) async fn set_presence(&self, telecaller: AccountId, presence: Presence, account: Option<&Account>) {
        let _turn = self.presence_turn(telecaller).await;
        self.announce_presence(telecaller, presence, account).await;
    }

    async fn presence_turn(&self, telecaller: AccountId) -> tokio::sync::MutexGuard<'_, ()> {
        let stripe = (telecaller.0.as_u128() % self.presence_locks.len() as u128) as usize;
        self.presence_locks[stripe].lock().await
    }

    /// Records a telecaller's presence and, when that changed it, tells the connections that
    /// watch her (once, whichever node made the change; each node coalesces what its watchers
    /// get into one `presence:update` per flush).
    async fn announce_presence(&self, telecaller: AccountId, presence: Presence, account: Option<&Account>) {
        let before = self.presence.set(telecaller, presence).await;
        if before == presence {
            return;
        }
        let card = match (account, presence) {
            (Some(a), Presence::Online) => Some(TelecallerCard {
                id: a.id.0,
                name: a.name.clone(),
                profile: a.profile,
                language: a.language,
                about: a.telecaller.as_ref().map(|t| t.about.clone()),
            }),
            _ => None,
        };
        let change = PresenceChanged { telecaller_id: telecaller.0, presence, telecaller: card };
        self.bus.publish(Audience::Watchers(telecaller), Delivery::Change(item(change)));
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

    /// How many telecallers are ONLINE or ON_CALL (the `onlineTelecallers` of `presence:update`).
    pub async fn online_telecallers(&self) -> usize {
        self.presence.count().await
    }

    /// Tells every connection of an account its new balance ([`crate::bus::wallet_updated`]).
    pub fn wallet_changed(&self, role: Role, account: AccountId, balance: i64) {
        crate::bus::wallet_updated(&*self.bus, role, account, balance);
    }

    /// Closes every connection of an account, on whichever node holds it (logout, suspension,
    /// rejection: close code 4003).
    pub fn disconnect_account(&self, role: Role, account: AccountId) {
        self.bus.publish(Audience::account(role, account), Delivery::Close(4003));
    }

    /// Call figures for `/metrics`, counted at most once per [`FIGURES_TTL`] per node: a scrape
    /// (or many) reads the cached ones instead of counting whole tables.
    pub async fn figures(&self) -> Result<CallFigures, ServiceError> {
        let mut cached = self.figures.lock().await;
        if let Some((at, figures)) = cached.as_ref()
            && at.elapsed() < FIGURES_TTL
        {
            return Ok(figures.clone());
        }
        let (by_status, setups, settlements) = calls::figures(self.db.pool()).await?;
        let figures = CallFigures { by_status, setups, settlements };
        *cached = Some((std::time::Instant::now(), figures.clone()));
        Ok(figures)
    }

    /// `presence:counts` for admins: distinct connected accounts and live calls.
    pub async fn counts(&self) -> Result<Counts, ServiceError> {
        Ok(Counts {
            online_users: self.directory.online(Role::User).await,
            online_telecallers: self.directory.online(Role::Telecaller).await,
            active_calls: calls::count_accepted(self.db.pool()).await?,
            timestamp: chrono::Utc::now(),
        })
    }
}

impl CallService {
    /// "She's online" pushes to the users who asked for them (docs/push.md).
    async fn online_alerts(&self, telecaller: AccountId, account: Option<&Account>) -> Result<(), ServiceError> {
        let name = account.and_then(|a| a.name.clone()).unwrap_or_else(|| "A telecaller".to_owned());
        let title = format!("{name} is online");
        let data = serde_json::json!({ "type": "online_alert", "telecallerId": telecaller.0, "telecallerName": name });
        let mut tx = self.db.begin().await?;
        talktime_repository::push::enqueue_online_alerts(
            &mut tx,
            telecaller,
            self.settings.online_alert_cooldown.as_secs_f64(),
            &title,
            "Call her now",
            &data,
        )
        .await?;
        tx.commit().await.map_err(talktime_repository::RepoError::from)?;
        Ok(())
    }
}
