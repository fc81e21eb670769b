//! Deadlines: the node's timers act on its calls promptly; the sweeper on every node claims
//! whatever is overdue from Postgres, so calls still end on time after a crash or elsewhere.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use talktime_domain::account::Role;
use talktime_domain::call::Call;
use talktime_domain::call::{self as rules, CallStatus, EndReason};
use talktime_domain::ids::{AccountId, CallId};
use talktime_repository::calls;
use talktime_repository::{RepoError, Tx};

use super::events::*;
use super::{BALANCE_WARNING_SECS, CallService};
use crate::bus::{Audience, ServerEvent};
use crate::{ServiceError, ledger};

impl CallService {
    /// Acts on whatever is due on one call (timers call this; the sweeper does the same for
    /// calls it claims).
    #[tracing::instrument(name = "sweep_call", skip_all, fields(call = %id))]
    pub async fn sweep_call(&self, id: CallId) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        let Some(call) = calls::lock(&mut tx, id).await? else { return Ok(()) };
        self.act_on_due(tx, call).await
    }

    async fn act_on_due(&self, mut tx: Tx, call: Call) -> Result<(), ServiceError> {
        let now = call.now;
        let passed = |deadline: Option<DateTime<Utc>>| deadline.is_some_and(|d| d <= now);
        if call.status == CallStatus::Accepted && call.connected_at.is_none() && passed(call.media_deadline) {
            return self.media_overdue(tx, call).await;
        }
        let reason = match call.status {
            CallStatus::Ringing if passed(call.user_grace_deadline) => Some(EndReason::UserDisconnected),
            CallStatus::Ringing if passed(call.telecaller_grace_deadline) => Some(EndReason::TelecallerDisconnected),
            CallStatus::Ringing if call.ring_deadline <= now => Some(EndReason::RingTimeout),
            CallStatus::Accepted if passed(call.billing_deadline) => Some(EndReason::BalanceExhausted),
            CallStatus::Accepted if passed(call.user_grace_deadline) => Some(EndReason::UserDisconnected),
            CallStatus::Accepted if passed(call.telecaller_grace_deadline) => Some(EndReason::TelecallerDisconnected),
            CallStatus::Accepted if passed(call.user_media_grace_deadline) => Some(EndReason::UserDisconnected),
            CallStatus::Accepted if passed(call.telecaller_media_grace_deadline) => {
                Some(EndReason::TelecallerDisconnected)
            }
            CallStatus::Accepted if passed(call.inactive_deadline) => Some(EndReason::Inactive),
            _ => None,
        };
        if let Some(reason) = reason {
            if let Some(ended) = self.end_locked(&mut tx, &call, reason).await? {
                tx.commit().await.map_err(RepoError::from)?;
                self.after_end(&ended, None).await?;
            }
            return Ok(());
        }
        let warning_due = call.status == CallStatus::Accepted
            && !call.balance_low_sent
            && call.billing_deadline.is_some_and(|d| d - chrono::Duration::seconds(BALANCE_WARNING_SECS) <= now);
        if warning_due && calls::mark_balance_low(&mut *tx, call.id).await? {
            tx.commit().await.map_err(RepoError::from)?;
            let left = call.billing_deadline.map(|d| (d - now).num_seconds().max(0)).unwrap_or(0);
            self.emit(
                Audience::account(Role::User, call.user_id),
                call.call_type,
                ServerEvent::CallBalanceLow,
                BalanceLow { call_id: call.id.0, seconds_left: left },
            );
        }
        // A message moved the chat's inactivity deadline since its timer was set: wait for it.
        if let Some(deadline) = call.inactive_deadline.filter(|d| *d > now) {
            self.schedule(call.id, deadline);
        }
        Ok(())
    }

    /// One sweeper pass: every overdue call (one that fails is logged and left for the next
    /// pass, the others go on), parties of live calls connected nowhere (a disconnect whose
    /// handling failed gets its grace now), then rooms still to close.
    pub async fn sweep_once(&self) -> Result<usize, ServiceError> {
        let mut handled = 0;
        let mut failed = Vec::new();
        loop {
            let mut tx = self.db.begin().await?;
            let Some(call) = calls::claim_due(&mut tx, BALANCE_WARNING_SECS as f64, &failed).await? else { break };
            let id = call.id;
            match self.act_on_due(tx, call).await {
                Ok(()) => handled += 1,
                Err(error) => {
                    tracing::warn!(%error, call = %id, "sweeper could not act on a call; trying the others");
                    failed.push(id.0);
                }
            }
        }
        self.guard_orphans().await?;
        while let Some(call) = calls::claim_room_cleanup(self.db.pool(), self.settings.room_retry.as_secs_f64()).await?
        {
            match self.rooms.delete_room(&call.to_string()).await {
                Ok(()) => calls::mark_room_closed(self.db.pool(), call).await?,
                Err(error) => {
                    tracing::warn!(%error, %call, "DeleteRoom retry failed");
                    break;
                }
            }
        }
        Ok(handled)
    }

    /// Closes every room the media server has open that belongs to no live call: with LiveKit's
    /// default (rooms created on join), a party who kept a token could otherwise rejoin after
    /// the call and talk unbilled. Answers how many rooms it closed.
    pub async fn sweep_stray_rooms(&self) -> Result<usize, ServiceError> {
        let open = self
            .rooms
            .rooms()
            .await
            .map_err(|e| ServiceError::upstream("media_server_failed", "LiveKit ListRooms failed", e))?;
        let ids: Vec<uuid::Uuid> = open.iter().filter_map(|name| name.parse::<CallId>().ok()).map(|id| id.0).collect();
        let live = calls::live_among(self.db.pool(), &ids).await?;
        let mut closed = 0;
        for room in open.iter().filter(|name| !name.parse::<CallId>().is_ok_and(|id| live.contains(&id))) {
            match self.rooms.delete_room(room).await {
                Ok(()) => {
                    tracing::warn!(room, "closed a media room that belongs to no live call");
                    closed += 1;
                }
                Err(error) => tracing::warn!(%error, room, "cannot close a stray media room"),
            }
        }
        Ok(closed)
    }

    /// Gives the grace to every party of a live call who is connected to no node (its
    /// disconnect may have been lost: the handling failed, or the node died mid-way).
    async fn guard_orphans(&self) -> Result<(), ServiceError> {
        for (_, party, is_user) in calls::unguarded_parties(self.db.pool()).await? {
            let role = if is_user { Role::User } else { Role::Telecaller };
            if !self.presence.directory().is_connected(role, party).await {
                self.start_grace(party).await?;
            }
        }
        Ok(())
    }

    /// Stops this node's timers and sweeper (shutdown; calls continue on other nodes).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Runs the sweeper until the node stops.
    pub async fn run_sweeper(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.settings.sweep_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if self.is_stopped() {
                return;
            }
            if let Err(error) = self.sweep_once().await {
                tracing::warn!(%error, "call sweeper pass failed");
            }
        }
    }

    /// Runs the stray-room sweep every `room_sweep` until the node stops.
    pub async fn run_room_sweeper(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(self.settings.room_sweep);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if self.is_stopped() {
                return;
            }
            if let Err(error) = self.sweep_stray_rooms().await {
                tracing::warn!(%error, "stray room sweep failed");
            }
            // Webhook ids outlive the age past which their events are refused anyway.
            if let Err(error) = calls::prune_media_events(self.db.pool(), 3_600.0).await {
                tracing::warn!(%error, "cannot prune handled webhook ids");
            }
        }
    }

    /// Runs this node's timers until the node stops: each due call is handled on a task of its
    /// own, so a slow one holds up no other.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let call = self.timers.next_due().await;
            if self.is_stopped() {
                return;
            }
            let this = self.clone();
            tokio::spawn(async move {
                if let Err(error) = this.sweep_call(call).await {
                    tracing::warn!(%error, %call, "call timer failed");
                }
            });
        }
    }

    /// Deadlines this node's timers wait for (`/metrics`).
    pub fn timer_count(&self) -> usize {
        self.timers.len()
    }

    /// A timer that acts on the call when `at` passes (the sweeper is the safety net).
    pub(super) fn schedule(&self, call: CallId, at: DateTime<Utc>) {
        let wait = (at - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(20);
        self.timers.schedule(call, tokio::time::Instant::now() + wait);
    }

    pub(super) fn schedule_billing(&self, call: &Call) {
        if let Some(deadline) = call.billing_deadline {
            self.schedule(call.id, deadline - chrono::Duration::seconds(BALANCE_WARNING_SECS));
            self.schedule(call.id, deadline);
        }
        if let Some(deadline) = call.media_deadline {
            self.schedule(call.id, deadline);
        }
        if let Some(deadline) = call.inactive_deadline {
            self.schedule(call.id, deadline);
        }
    }

    /// A recharge landed: an accepted call of this user gets the new paid time (`call:extended`).
    pub async fn on_recharge(&self, user: AccountId) -> Result<(), ServiceError> {
        let Some(call) = calls::active_for(self.db.pool(), user).await? else { return Ok(()) };
        if call.status != CallStatus::Accepted || call.user_id != user || call.connected_at.is_none() {
            return Ok(());
        }
        let balance = ledger::balance(&self.db, user).await?;
        let max = rules::max_duration_secs(balance, call.user_rate) + i64::from(call.free_seconds);
        let Some(extended) = calls::extend(self.db.pool(), call.id, max, BALANCE_WARNING_SECS as f64).await? else {
            return Ok(());
        };
        let data = Extended { call_id: call.id.0, max_duration_seconds: max };
        let kind = extended.call_type;
        self.emit(Audience::account(Role::User, extended.user_id), kind, ServerEvent::CallExtended, &data);
        self.emit(Audience::account(Role::Telecaller, extended.telecaller_id), kind, ServerEvent::CallExtended, &data);
        self.schedule_billing(&extended);
        Ok(())
    }
}
