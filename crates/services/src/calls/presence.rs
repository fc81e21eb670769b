//! Connections, presence and the session snapshot.

use talktime_domain::account::{Account, ApprovalStatus, Presence, Role};
use talktime_domain::call::CallStatus;
use talktime_domain::ids::AccountId;
use talktime_repository::{accounts, calls};

use super::CallService;

/// Call figures for monitoring.
#[derive(Debug, Clone)]
pub struct CallFigures {
    pub by_status: Vec<(String, i64)>,
    pub setups: i64,
    pub settlements: i64,
}
use super::events::*;
use crate::bus::{Audience, send};
use crate::{ServiceError, ledger};

impl CallService {
    pub(super) fn is_connected(&self, role: Role, account: AccountId) -> bool {
        self.connections.get(&(role, account)).is_some_and(|n| *n > 0)
    }

    /// A connection opened: a reconnect within the grace resumes the active call; the snapshot
    /// is what `session:ready` carries.
    pub async fn connected(&self, account: &Account, role: Role) -> Result<SessionReady, ServiceError> {
        *self.connections.entry((role, account.id)).or_insert(0) += 1;
        if role != Role::Admin {
            calls::set_grace(self.db.pool(), account.id, None).await?;
        }
        if role == Role::Telecaller {
            self.refresh_presence(account.id).await?;
        }
        self.session(account, role).await
    }

    /// A connection closed. When it was the account's last one, its active call gets the
    /// reconnect grace, and a telecaller's presence is updated.
    pub async fn disconnected(&self, account: AccountId, role: Role) -> Result<(), ServiceError> {
        let remaining = {
            let mut entry = self.connections.entry((role, account)).or_insert(1);
            *entry = entry.saturating_sub(1);
            *entry
        };
        if remaining > 0 {
            return Ok(());
        }
        self.connections.remove_if(&(role, account), |_, n| *n == 0);
        if role == Role::Admin {
            return Ok(());
        }
        let grace = self.settings.reconnect_grace.as_secs_f64();
        if let Some(call) = calls::set_grace(self.db.pool(), account, Some(grace)).await? {
            let deadline =
                if call.user_id == account { call.user_grace_deadline } else { call.telecaller_grace_deadline };
            if let Some(deadline) = deadline {
                self.schedule(call.id, deadline);
            }
        }
        if role == Role::Telecaller {
            self.refresh_presence(account).await?;
        }
        Ok(())
    }

    async fn session(&self, account: &Account, role: Role) -> Result<SessionReady, ServiceError> {
        let active_call = match calls::active_for(self.db.pool(), account.id).await? {
            Some(call) => {
                let peer_id = if call.user_id == account.id { call.telecaller_id } else { call.user_id };
                let peer = self.account(peer_id).await?;
                let livekit =
                    if call.status == CallStatus::Accepted { Some(self.livekit_join(&call, account)?) } else { None };
                Some(ActiveCall {
                    call_id: call.id.0,
                    call_type: call.call_type,
                    status: call.status,
                    peer: PartyCard::from(&peer),
                    accepted_at: call.accepted_at,
                    max_duration_seconds: call.max_duration_seconds,
                    livekit,
                })
            }
            None => None,
        };
        let online_telecallers = if role == Role::User { Some(self.presence.available().await.len()) } else { None };
        Ok(SessionReady { active_call, balance: ledger::balance(&self.db, account.id).await?, online_telecallers })
    }

    /// Recomputes a telecaller's presence (ON_CALL with an accepted call, ONLINE when connected,
    /// approved and active, OFFLINE otherwise) and broadcasts it to users when it changed.
    pub async fn refresh_presence(&self, telecaller: AccountId) -> Result<(), ServiceError> {
        let account = accounts::find_by_id(self.db.pool(), telecaller).await?;
        let listable = account
            .as_ref()
            .is_some_and(|a| !a.is_suspended() && a.approval_status() == Some(ApprovalStatus::Approved));
        let active = calls::active_for(self.db.pool(), telecaller).await?;
        let presence = if active.is_some_and(|c| c.status == CallStatus::Accepted) {
            Presence::OnCall
        } else if listable && self.is_connected(Role::Telecaller, telecaller) {
            Presence::Online
        } else {
            Presence::Offline
        };
        self.presence.set(telecaller, presence).await;
        // Only telecallers who are not OFFLINE are remembered, so the map stays small.
        let previous = if presence == Presence::Offline {
            self.published.remove(&telecaller).map(|(_, p)| p)
        } else {
            self.published.insert(telecaller, presence)
        };
        if previous.unwrap_or(Presence::Offline) == presence {
            return Ok(());
        }
        let card = match (&account, presence) {
            (Some(a), Presence::Online) => Some(TelecallerCard {
                id: a.id.0,
                name: a.name.clone(),
                profile: a.profile,
                language: a.language,
                about: a.telecaller.as_ref().map(|t| t.about.clone()),
            }),
            _ => None,
        };
        send(
            &*self.bus,
            Audience::Everyone(Role::User),
            "telecaller:presence-changed",
            PresenceChanged { telecaller_id: telecaller.0, presence, telecaller: card },
        );
        Ok(())
    }

    /// Closes every connection of an account, on whichever node holds it (logout, suspension,
    /// rejection: close code 4003).
    pub fn disconnect_account(&self, role: Role, account: AccountId) {
        self.bus.publish(Audience::account(role, account), crate::bus::Delivery::Close(4003));
    }

    /// Call figures for `/metrics`.
    pub async fn figures(&self) -> Result<CallFigures, ServiceError> {
        let (by_status, setups, settlements) = calls::figures(self.db.pool()).await?;
        Ok(CallFigures { by_status, setups, settlements })
    }

    /// `presence:counts` for admins: distinct connected accounts and live calls.
    pub async fn counts(&self) -> Result<Counts, ServiceError> {
        let count = |role: Role| self.connections.iter().filter(|e| e.key().0 == role && *e.value() > 0).count();
        Ok(Counts {
            online_users: count(Role::User),
            online_telecallers: count(Role::Telecaller),
            active_calls: calls::count_accepted(self.db.pool()).await?,
            timestamp: chrono::Utc::now(),
        })
    }
}
