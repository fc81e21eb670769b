//! Connections (graces on disconnect, resumption, lost nodes) and the session snapshot.

use std::sync::Arc;

use talktime_domain::account::{Account, Role};
use talktime_domain::call::{CallFigures, CallStatus};
use talktime_domain::ids::AccountId;
use talktime_repository::calls;

use super::CallService;
use super::events::*;
use crate::{ServiceError, ledger};

/// How long `/metrics`' call figures are reused.
pub const FIGURES_TTL: std::time::Duration = std::time::Duration::from_secs(15);

impl CallService {
    /// A connection opened: a reconnect within the grace resumes the active call; the snapshot
    /// is what `session:ready` carries.
    #[tracing::instrument(name = "connected", skip_all, fields(account = %account.id, role = %role))]
    pub async fn connected(&self, account: &Account, role: Role) -> Result<SessionReady, ServiceError> {
        self.presence.directory().opened(role, account.id).await;
        self.resumed(role, account.id).await?;
        self.session(account, role).await
    }

    /// A connection closed. When the account has no connection left on any node, its active
    /// call gets the reconnect grace, and a telecaller's presence is updated.
    #[tracing::instrument(name = "disconnected", skip_all, fields(account = %account, role = %role))]
    pub async fn disconnected(&self, account: AccountId, role: Role) -> Result<(), ServiceError> {
        if self.presence.directory().closed(role, account).await {
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
            self.presence.refresh(account).await?;
        }
        Ok(())
    }

    /// The account is (again) connected: its call's grace is off, her presence recomputed.
    async fn resumed(&self, role: Role, account: AccountId) -> Result<(), ServiceError> {
        if role != Role::Admin {
            calls::set_grace(self.db.pool(), account, None).await?;
        }
        if role == Role::Telecaller {
            self.presence.refresh(account).await?;
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
            let presence = self.presence.unconnected(account).await?;
            self.presence.set(account, presence, None).await;
        }
        Ok(())
    }

    /// This node is shutting down: its connections leave the directory now, so the other nodes
    /// see them gone at once (rather than at expiry), treated as ordinary disconnects: calls get
    /// the reconnect grace and resume on whichever node the apps reconnect to.
    pub async fn leave(&self) {
        for (role, account) in self.presence.directory().leave().await {
            if let Err(error) = self.gone(role, account).await {
                tracing::warn!(%error, %account, "cannot hand over a connection");
            }
        }
    }

    /// Waits (briefly) until the events published so far have left this node: the last step
    /// before it exits.
    pub async fn flush_events(&self) {
        self.presence.bus().flush().await;
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
            let beat = self.presence.directory().heartbeat().await;
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
        let active = calls::active_for(self.db.pool(), account.id).await?;
        let (call, chat) = match active {
            Some(c) if c.call_type.is_chat() => (None, Some(c)),
            other => (other, None),
        };
        let active_chat = match chat {
            Some(chat) => {
                let peer_id = if chat.user_id == account.id { chat.telecaller_id } else { chat.user_id };
                Some(ActiveChat {
                    session_id: chat.id.0,
                    status: chat.status.into(),
                    peer: PartyCard::from(&*self.account(peer_id).await?),
                    accepted_at: chat.accepted_at,
                    max_duration_seconds: chat.max_duration_seconds,
                    rate: chat.user_rate,
                    last_seq: chat.last_seq,
                    inactive_deadline: chat.inactive_deadline,
                })
            }
            None => None,
        };
        let active_call = match call {
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
                    rate: call.user_rate,
                    livekit,
                })
            }
            None => None,
        };
        let online_telecallers = if role == Role::User { Some(self.presence.online_telecallers().await) } else { None };
        Ok(SessionReady {
            active_call,
            active_chat,
            balance: ledger::balance(&self.db, account.id).await?,
            online_telecallers,
        })
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
        let figures = calls::figures(self.db.pool()).await?;
        *cached = Some((std::time::Instant::now(), figures.clone()));
        Ok(figures)
    }
}
