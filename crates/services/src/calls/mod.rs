//! Calls: initiate, ring, accept, talk, end; per-second billing; presence; reconnect grace.
//!
//! Every transition is a conditional update in Postgres (see `talktime_repository::calls`), so
//! racing actors resolve to one winner, and every terminal transition's side effects (events,
//! settlement, room closing) run once, by the winner. Deadlines live on the call row: in-process
//! timers act on them promptly, and a sweeper on every node claims overdue calls with
//! `FOR UPDATE SKIP LOCKED`, so calls still end on time after a crash or on another node.

pub mod events;
mod history;
mod presence;

use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use talktime_domain::account::{Account, ApprovalStatus, Presence, Role};
use talktime_domain::call::{self as rules, CallStatus, CallType, EndReason};
use talktime_domain::ids::{AccountId, CallId};
use talktime_repository::calls::{self, Call, NewCall};
use talktime_repository::{Db, RepoError, Tx};

pub use self::history::{HistoryEntry, HistoryPage};
pub use self::presence::CallFigures;
use crate::auth::Budget;
use crate::bus::{Audience, ConnectionId, EventBus, send};
use crate::cache::ReadCache;
use crate::directory::ConnectionDirectory;
use crate::livekit::{LiveKitTokens, RoomService};
use crate::presence::PresenceRegistry;
use crate::rate_limit::RateLimiter;
use crate::{ServiceError, ledger};
use events::*;

/// The user is warned this long before the paid time runs out.
pub const BALANCE_WARNING_SECS: i64 = 60;
const INITIATE_BUDGET: Budget = Budget { limit: 5, window: Duration::from_secs(60) };
const ACTION_BUDGET: Budget = Budget { limit: 20, window: Duration::from_secs(60) };

#[derive(Debug, Clone, Copy)]
pub struct CallSettings {
    pub ring_timeout: Duration,
    pub reconnect_grace: Duration,
    pub sweep_interval: Duration,
    /// Delay before a failed DeleteRoom is tried again.
    pub room_retry: Duration,
    /// How often this node renews its directory entries and looks for nodes that stopped.
    pub heartbeat: Duration,
}

/// The direct answer to a client's message (sent with its `ref`).
#[derive(Debug, Clone)]
pub struct Answer {
    pub event: &'static str,
    pub data: Value,
}

impl Answer {
    fn new(event: &'static str, data: impl serde::Serialize) -> Self {
        Self { event, data: serde_json::to_value(data).unwrap_or(Value::Null) }
    }
}

/// Who asked: the party's role and connection, so the answer goes to that connection only.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub role: Role,
    pub connection: ConnectionId,
}

/// How a node reaches the others: where events go, published presence, who is connected.
#[derive(Clone)]
pub struct Realtime {
    pub bus: Arc<dyn EventBus>,
    pub presence: Arc<dyn PresenceRegistry>,
    pub directory: Arc<dyn ConnectionDirectory>,
}

pub struct CallService {
    db: Db,
    /// Accounts and prices as they are now (coherent with Postgres: see `cache`).
    cache: Arc<ReadCache>,
    bus: Arc<dyn EventBus>,
    presence: Arc<dyn PresenceRegistry>,
    rooms: Arc<dyn RoomService>,
    tokens: LiveKitTokens,
    limiter: Arc<dyn RateLimiter>,
    settings: CallSettings,
    /// Who is connected, on every node.
    directory: Arc<dyn ConnectionDirectory>,
    /// Set when this node stops: its timers and sweeper do nothing more.
    stopped: std::sync::atomic::AtomicBool,
    me: Weak<CallService>,
}

fn unavailable() -> ServiceError {
    ServiceError::conflict("call_unavailable", "This call is no longer available")
}

fn not_found() -> ServiceError {
    ServiceError::not_found("call_not_found", "Call not found")
}

impl CallService {
    pub fn new(
        db: Db,
        cache: Arc<ReadCache>,
        realtime: Realtime,
        rooms: Arc<dyn RoomService>,
        tokens: LiveKitTokens,
        limiter: Arc<dyn RateLimiter>,
        settings: CallSettings,
    ) -> Arc<Self> {
        let Realtime { bus, presence, directory } = realtime;
        Arc::new_cyclic(|me| Self {
            db,
            cache,
            bus,
            presence,
            rooms,
            tokens,
            limiter,
            settings,
            directory,
            stopped: std::sync::atomic::AtomicBool::new(false),
            me: me.clone(),
        })
    }

    async fn spend(&self, account: AccountId, kind: &str, budget: Budget) -> Result<(), ServiceError> {
        budget.spend(&*self.limiter, &format!("call:{kind}:{account}")).await
    }

    fn livekit_join(&self, call: &Call, who: &Account) -> Result<LiveKitJoin, ServiceError> {
        Ok(LiveKitJoin {
            token: self.tokens.mint(call.id, who.id, who.name.as_deref().unwrap_or_default(), call.call_type)?,
            url: self.tokens.url.clone(),
            room_name: call.id.to_string(),
        })
    }

    async fn account(&self, id: AccountId) -> Result<Arc<Account>, ServiceError> {
        self.cache.account(id).await?.ok_or_else(not_found)
    }

    /// A lone node starting (no Redis) after a crash: nobody is connected yet, so the parties of
    /// every live call get the reconnect grace, as if they had just dropped; reconnecting in time
    /// resumes the call, otherwise the sweeper ends it. (With several nodes the directory's
    /// heartbeats do this for a node that died; a graceful stop does it on its way out.)
    pub async fn start_graces_at_startup(db: &Db, reconnect_grace: Duration) -> Result<u64, ServiceError> {
        Ok(calls::start_all_graces(db.pool(), reconnect_grace.as_secs_f64()).await?)
    }

    // ---- client actions -------------------------------------------------------------------

    /// `call:initiate` from a user.
    pub async fn initiate(
        &self,
        user: &Account,
        origin: Origin,
        telecaller_id: AccountId,
        call_type: CallType,
    ) -> Result<Answer, ServiceError> {
        self.spend(user.id, "initiate", INITIATE_BUDGET).await?;
        // The socket's copy of the account may predate a profile change: read it as it is now.
        let user = &*self.account(user.id).await?;
        if !user.is_profile_complete() {
            return Err(ServiceError::invalid("profile_incomplete", "Complete your profile before calling"));
        }
        let telecaller = self
            .cache
            .account(telecaller_id)
            .await?
            .filter(|t| t.role == Role::Telecaller)
            .ok_or_else(|| ServiceError::not_found("telecaller_not_found", "Telecaller not found"))?;
        if telecaller.is_suspended() || telecaller.approval_status() != Some(ApprovalStatus::Approved) {
            return Err(ServiceError::invalid("telecaller_unavailable", "This telecaller is not available"));
        }
        let (user_busy, telecaller_busy) = calls::busy(self.db.pool(), user.id, telecaller.id).await?;
        if user_busy {
            return Err(ServiceError::conflict("already_in_call", "You are already in a call"));
        }
        if !self.directory.is_connected(Role::Telecaller, telecaller.id).await {
            return Err(ServiceError::invalid("telecaller_offline", "This telecaller is offline"));
        }
        if telecaller_busy {
            return Err(ServiceError::conflict("telecaller_busy", "This telecaller is busy"));
        }
        let config = self.cache.config().await?;
        let (user_rate, telecaller_rate) = match call_type {
            CallType::Audio => (config.user_audio_coins_per_sec, config.telecaller_audio_coins_per_sec),
            CallType::Video => (config.user_video_coins_per_sec, config.telecaller_video_coins_per_sec),
        };
        let needed = user_rate.saturating_mul(config.min_call_balance_seconds);
        if ledger::balance(&self.db, user.id).await? < needed {
            return Err(ServiceError::invalid(
                "insufficient_balance",
                format!("You need at least {needed} coins to start this call"),
            ));
        }
        let new = NewCall {
            id: CallId::new(),
            user: user.id,
            telecaller: telecaller.id,
            call_type,
            user_rate,
            telecaller_rate,
            ring_secs: self.settings.ring_timeout.as_secs_f64(),
        };
        let call = match calls::insert_ringing(self.db.pool(), &new).await {
            Ok(call) => call,
            Err(error) if error.is_unique(calls::ONE_ACTIVE_USER) => {
                return Err(ServiceError::conflict("already_in_call", "You are already in a call"));
            }
            Err(error) if error.is_unique(calls::ONE_ACTIVE_TELECALLER) => {
                return Err(ServiceError::conflict("telecaller_busy", "This telecaller is busy"));
            }
            Err(error) => return Err(error.into()),
        };
        self.schedule(call.id, call.ring_deadline);
        send(
            &*self.bus,
            Audience::account(Role::Telecaller, telecaller.id),
            "call:incoming",
            Incoming { call_id: call.id.0, call_type, caller: PartyCard::from(user) },
        );
        let ringing = Ringing { call_id: call.id.0, call_type, telecaller: PartyCard::from(&*telecaller) };
        send(
            &*self.bus,
            Audience::Account { role: Role::User, id: user.id, except: Some(origin.connection) },
            "call:ringing",
            &ringing,
        );
        Ok(Answer::new("call:ringing", ringing))
    }

    /// `call:accept` by the callee; the first of her connections wins.
    pub async fn accept(&self, telecaller: &Account, origin: Origin, call_id: CallId) -> Result<Answer, ServiceError> {
        self.spend(telecaller.id, "action", ACTION_BUDGET).await?;
        let mut tx = self.db.begin().await?;
        let call =
            calls::lock(&mut tx, call_id).await?.filter(|c| c.telecaller_id == telecaller.id).ok_or_else(not_found)?;
        if !rules::can_accept(call.status) {
            return Err(unavailable());
        }
        let balance = talktime_repository::ledger::wallet_balance(&mut *tx, call.user_id).await?;
        let max = rules::max_duration_secs(balance, call.user_rate);
        let call = calls::accept(&mut tx, call_id, telecaller.id, max).await?.ok_or_else(unavailable)?;
        tx.commit().await.map_err(RepoError::from)?;

        let user = self.account(call.user_id).await?;
        let for_user = AcceptedForUser {
            call_id: call.id.0,
            livekit: self.livekit_join(&call, &user)?,
            max_duration_seconds: max,
        };
        send(&*self.bus, Audience::account(Role::User, user.id), "call:accepted", for_user);
        let answer = AcceptedForTelecaller {
            call_id: call.id.0,
            call_type: call.call_type,
            caller: PartyCard::from(&*user),
            livekit: self.livekit_join(&call, telecaller)?,
            max_duration_seconds: max,
        };
        send(
            &*self.bus,
            Audience::Account { role: Role::Telecaller, id: telecaller.id, except: Some(origin.connection) },
            "call:answered-elsewhere",
            CallRef { call_id: call.id.0 },
        );
        send(&*self.bus, Audience::Everyone(Role::Admin), "call:started", feed(&call));
        // She has an accepted call: ON_CALL, with nothing to look up.
        self.announce_presence(telecaller.id, Presence::OnCall, Some(telecaller)).await;
        self.schedule_billing(&call);
        Ok(Answer::new("call:accepted", answer))
    }

    /// `call:reject` by the callee while it rings.
    pub async fn reject(&self, telecaller: &Account, origin: Origin, call_id: CallId) -> Result<Answer, ServiceError> {
        self.spend(telecaller.id, "action", ACTION_BUDGET).await?;
        self.act(call_id, telecaller.id, Some(CallStatus::Ringing), EndReason::Rejected, Some(origin)).await?;
        Ok(Answer::new("call:rejected", CallRef { call_id: call_id.0 }))
    }

    /// `call:cancel` by the caller while it rings.
    pub async fn cancel(&self, user: &Account, origin: Origin, call_id: CallId) -> Result<Answer, ServiceError> {
        self.spend(user.id, "action", ACTION_BUDGET).await?;
        self.act(call_id, user.id, Some(CallStatus::Ringing), EndReason::Cancelled, Some(origin)).await?;
        Ok(Answer::new("call:cancelled", CallRef { call_id: call_id.0 }))
    }

    /// `call:end` by either party of an accepted call.
    pub async fn end(&self, account: &Account, origin: Origin, call_id: CallId) -> Result<Answer, ServiceError> {
        self.spend(account.id, "action", ACTION_BUDGET).await?;
        let reason = if account.role == Role::User { EndReason::UserEnded } else { EndReason::TelecallerEnded };
        let (_, answer) = self.act(call_id, account.id, Some(CallStatus::Accepted), reason, Some(origin)).await?;
        let data = answer.ok_or_else(unavailable)?;
        Ok(Answer { event: "call:ended", data })
    }

    /// Ends the call `call_id` of `party` (checked) for `reason`, if it is in `from`.
    async fn act(
        &self,
        call_id: CallId,
        party: AccountId,
        from: Option<CallStatus>,
        reason: EndReason,
        origin: Option<Origin>,
    ) -> Result<(Call, Option<Value>), ServiceError> {
        let mut tx = self.db.begin().await?;
        let call = calls::lock(&mut tx, call_id)
            .await?
            .filter(|c| c.user_id == party || c.telecaller_id == party)
            .ok_or_else(not_found)?;
        if from.is_some_and(|f| f != call.status) {
            return Err(unavailable());
        }
        let ended = self.end_locked(&mut tx, &call, reason).await?.ok_or_else(unavailable)?;
        tx.commit().await.map_err(RepoError::from)?;
        let answer = self.after_end(&ended, origin).await?;
        Ok((ended, answer))
    }

    /// Ends a call for an operator or a block (`ADMIN`, `ACCOUNT_BLOCKED`), billed to this moment.
    pub async fn end_by_force(&self, call_id: CallId, reason: EndReason) -> Result<Option<Call>, ServiceError> {
        let mut tx = self.db.begin().await?;
        let Some(call) = calls::lock(&mut tx, call_id).await? else { return Ok(None) };
        let Some(ended) = self.end_locked(&mut tx, &call, reason).await? else { return Ok(None) };
        tx.commit().await.map_err(RepoError::from)?;
        self.after_end(&ended, None).await?;
        Ok(Some(ended))
    }

    // ---- the terminal transition ------------------------------------------------------------

    /// The transition, and for an accepted call the settlement, inside the caller's transaction
    /// (the call row is locked). `None` when `reason` does not apply to the call's state.
    async fn end_locked(&self, tx: &mut Tx, call: &Call, reason: EndReason) -> Result<Option<Call>, ServiceError> {
        let Some(to) = rules::end_transition(call.status, reason) else { return Ok(None) };
        let Some(mut ended) = calls::end(tx, call.id, call.status, to, reason).await? else { return Ok(None) };
        if call.status == CallStatus::Accepted {
            let seconds = ended.duration_seconds.unwrap_or(0);
            let balance = talktime_repository::ledger::wallet_balance(&mut **tx, call.user_id).await?;
            let bill = rules::settle(seconds, call.user_rate, call.telecaller_rate, balance);
            calls::record_settlement(tx, call.id, bill.spent, bill.earned, self.settings.room_retry.as_secs_f64())
                .await?;
            ledger::settle_call(tx, call.id.0, call.user_id, call.telecaller_id, bill.spent, bill.earned).await?;
            ended.coins_spent = Some(bill.spent);
            ended.coins_earned = Some(bill.earned);
        }
        Ok(Some(ended))
    }

    /// After the commit: tell both parties and the admins, close the room, update presence.
    /// Answers the `call:ended` data for the connection that ended the call (it is not sent to
    /// that connection here: the caller answers it directly).
    async fn after_end(&self, ended: &Call, origin: Option<Origin>) -> Result<Option<Value>, ServiceError> {
        let except = |role: Role| origin.filter(|o| o.role == role).map(|o| o.connection);
        let to_user = Audience::Account { role: Role::User, id: ended.user_id, except: except(Role::User) };
        let to_telecaller =
            Audience::Account { role: Role::Telecaller, id: ended.telecaller_id, except: except(Role::Telecaller) };
        let reference = CallRef { call_id: ended.id.0 };
        let mut answer = None;
        match ended.status {
            CallStatus::Completed => {
                for (side, audience) in [(Role::User, to_user), (Role::Telecaller, to_telecaller)] {
                    let data = self.ended_payload(ended, side).await?;
                    if origin.is_some_and(|o| o.role == side) {
                        answer = Some(data.clone());
                    }
                    send(&*self.bus, audience, "call:ended", data);
                }
                self.close_room(ended.id);
            }
            CallStatus::Rejected => {
                send(&*self.bus, to_user, "call:rejected", &reference);
                send(&*self.bus, to_telecaller, "call:rejected", &reference);
            }
            CallStatus::Cancelled => {
                send(&*self.bus, to_user, "call:cancelled", &reference);
                send(&*self.bus, to_telecaller, "call:cancelled", &reference);
            }
            CallStatus::Missed => {
                send(&*self.bus, to_user, "call:missed", &reference);
                send(&*self.bus, to_telecaller, "call:missed", &reference);
            }
            CallStatus::Ringing | CallStatus::Accepted => {}
        }
        send(&*self.bus, Audience::Everyone(Role::Admin), "call:finished", feed(ended));
        self.refresh_presence(ended.telecaller_id).await?;
        Ok(answer)
    }

    async fn ended_payload(&self, ended: &Call, side: Role) -> Result<Value, ServiceError> {
        let reason = ended.end_reason.unwrap_or(EndReason::UserEnded);
        let seconds = ended.duration_seconds.unwrap_or(0);
        let data = if side == Role::User {
            serde_json::to_value(EndedForUser {
                call_id: ended.id.0,
                reason,
                duration_in_seconds: seconds,
                coins_spent: ended.coins_spent.unwrap_or(0),
                balance: ledger::balance(&self.db, ended.user_id).await?,
            })
        } else {
            serde_json::to_value(EndedForTelecaller {
                call_id: ended.id.0,
                reason,
                duration_in_seconds: seconds,
                coins_earned: ended.coins_earned.unwrap_or(0),
                balance: ledger::balance(&self.db, ended.telecaller_id).await?,
            })
        };
        Ok(data.unwrap_or(Value::Null))
    }

    /// DeleteRoom now; on failure the sweeper retries until it succeeds.
    fn close_room(&self, call: CallId) {
        let Some(this) = self.me.upgrade() else { return };
        tokio::spawn(async move {
            match this.rooms.delete_room(&call.to_string()).await {
                Ok(()) => {
                    if let Err(error) = calls::mark_room_closed(this.db.pool(), call).await {
                        tracing::warn!(%error, %call, "could not record the closed room");
                    }
                }
                Err(error) => tracing::warn!(%error, %call, "DeleteRoom failed; will retry"),
            }
        });
    }

    // ---- deadlines --------------------------------------------------------------------------

    /// Acts on whatever is due on one call (timers call this; the sweeper does the same for
    /// calls it claims).
    pub async fn sweep_call(&self, id: CallId) -> Result<(), ServiceError> {
        let mut tx = self.db.begin().await?;
        let Some(call) = calls::lock(&mut tx, id).await? else { return Ok(()) };
        self.act_on_due(tx, call).await
    }

    async fn act_on_due(&self, mut tx: Tx, call: Call) -> Result<(), ServiceError> {
        let now = call.now;
        let passed = |deadline: Option<DateTime<Utc>>| deadline.is_some_and(|d| d <= now);
        let reason = match call.status {
            CallStatus::Ringing if passed(call.user_grace_deadline) => Some(EndReason::UserDisconnected),
            CallStatus::Ringing if passed(call.telecaller_grace_deadline) => Some(EndReason::TelecallerDisconnected),
            CallStatus::Ringing if call.ring_deadline <= now => Some(EndReason::RingTimeout),
            CallStatus::Accepted if passed(call.billing_deadline) => Some(EndReason::BalanceExhausted),
            CallStatus::Accepted if passed(call.user_grace_deadline) => Some(EndReason::UserDisconnected),
            CallStatus::Accepted if passed(call.telecaller_grace_deadline) => Some(EndReason::TelecallerDisconnected),
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
            send(
                &*self.bus,
                Audience::account(Role::User, call.user_id),
                "call:balance-low",
                BalanceLow { call_id: call.id.0, seconds_left: left },
            );
        }
        Ok(())
    }

    /// One sweeper pass: every overdue call, then rooms still to close.
    pub async fn sweep_once(&self) -> Result<usize, ServiceError> {
        let mut handled = 0;
        loop {
            let mut tx = self.db.begin().await?;
            let Some(call) = calls::claim_due(&mut tx, BALANCE_WARNING_SECS as f64).await? else { break };
            self.act_on_due(tx, call).await?;
            handled += 1;
        }
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

    /// Stops this node's timers and sweeper (shutdown; calls continue on other nodes).
    pub fn stop(&self) {
        self.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn is_stopped(&self) -> bool {
        self.stopped.load(std::sync::atomic::Ordering::SeqCst)
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

    /// A timer that acts on the call when `at` passes (the sweeper is the safety net).
    fn schedule(&self, call: CallId, at: DateTime<Utc>) {
        let Some(this) = self.me.upgrade() else { return };
        let wait = (at - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(20);
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            if this.is_stopped() {
                return;
            }
            if let Err(error) = this.sweep_call(call).await {
                tracing::warn!(%error, %call, "call timer failed");
            }
        });
    }

    fn schedule_billing(&self, call: &Call) {
        if let Some(deadline) = call.billing_deadline {
            self.schedule(call.id, deadline - chrono::Duration::seconds(BALANCE_WARNING_SECS));
            self.schedule(call.id, deadline);
        }
    }

    /// A recharge landed: an accepted call of this user gets the new paid time (`call:extended`).
    pub async fn on_recharge(&self, user: AccountId) -> Result<(), ServiceError> {
        let Some(call) = calls::active_for(self.db.pool(), user).await? else { return Ok(()) };
        if call.status != CallStatus::Accepted || call.user_id != user {
            return Ok(());
        }
        let balance = ledger::balance(&self.db, user).await?;
        let max = rules::max_duration_secs(balance, call.user_rate);
        let Some(extended) = calls::extend(self.db.pool(), call.id, max, BALANCE_WARNING_SECS as f64).await? else {
            return Ok(());
        };
        let data = Extended { call_id: call.id.0, max_duration_seconds: max };
        send(&*self.bus, Audience::account(Role::User, extended.user_id), "call:extended", &data);
        send(&*self.bus, Audience::account(Role::Telecaller, extended.telecaller_id), "call:extended", &data);
        self.schedule_billing(&extended);
        Ok(())
    }
}

fn feed(call: &Call) -> CallFeed {
    CallFeed {
        call_id: call.id.0,
        user_id: call.user_id.0,
        telecaller_id: call.telecaller_id.0,
        call_type: call.call_type,
        status: call.status,
        end_reason: call.end_reason,
        duration_in_seconds: call.duration_seconds,
        coins_spent: call.coins_spent,
    }
}
