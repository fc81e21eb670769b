//! Calls: initiate, ring, accept, talk, end; per-second billing; presence; reconnect grace.
//!
//! Every transition is a conditional update in Postgres (see `talktime_repository::calls`), so
//! racing actors resolve to one winner, and every terminal transition's side effects (events,
//! settlement, room closing) run once, by the winner. Deadlines live on the call row: in-process
//! timers act on them promptly, and a sweeper on every node claims overdue calls with
//! `FOR UPDATE SKIP LOCKED`, so calls still end on time after a crash or on another node.

mod chat;
mod connections;
mod deadlines;
mod ending;
pub mod events;
mod history;
mod media;
mod pushes;
mod recent_tokens;
mod timers;

use std::sync::{Arc, Weak};
use std::time::Duration;

use serde_json::Value;
use talktime_domain::account::{Account, ApprovalStatus, Presence, Role};
use talktime_domain::call::{Call, CallFigures, CallStatus, CallType, EndReason};
use talktime_domain::ids::{AccountId, CallId};
use talktime_domain::pricing;
use talktime_repository::calls::{self, Meter, NewCall};
use talktime_repository::{Db, RepoError, push};

pub use self::history::HistoryPage;
use crate::ServiceError;
use crate::auth::Budget;
use crate::bus::{Audience, ConnectionId, EventBus, ServerEvent, send};
use crate::cache::ReadCache;
use crate::livekit::{LiveKitTokens, RoomService};
use crate::presence::PresenceService;
use crate::rate_limit::RateLimiter;
use ending::feed;
use events::*;
use timers::Timers;

/// The user is warned this long before the paid time runs out.
pub const BALANCE_WARNING_SECS: i64 = 60;
const INITIATE_BUDGET: Budget = Budget { limit: 5, window: Duration::from_secs(60) };
const ACTION_BUDGET: Budget = Budget { limit: 20, window: Duration::from_secs(60) };

#[derive(Debug, Clone, Copy)]
pub struct CallSettings {
    pub ring_timeout: Duration,
    /// How long a call to an AWAY telecaller rings (her phone must wake and her app connect).
    pub push_ring_timeout: Duration,
    pub reconnect_grace: Duration,
    pub sweep_interval: Duration,
    /// Delay before a failed DeleteRoom is tried again.
    pub room_retry: Duration,
    /// How often the media server's rooms are listed and those of no live call closed.
    pub room_sweep: Duration,
    /// How often this node renews its directory entries and looks for nodes that stopped.
    pub heartbeat: Duration,
    /// With LiveKit webhooks: the meter starts when both parties are in the room, which must
    /// happen within this long of the accept. `None`: the meter starts at the accept.
    pub media_timeout: Option<Duration>,
    /// Calls rung through a push per telecaller per hour (`PUSH_RINGS_PER_HOUR`).
    pub push_rings_per_hour: i64,
    /// A rating counts towards her card only from a call billed this long
    /// (`RATING_MIN_BILLED_SECONDS`).
    pub rating_min_billed_secs: i64,
    /// An active chat with no message from either party for this long ends INACTIVE
    /// (`CHAT_INACTIVITY_SECS`).
    pub chat_inactivity: Duration,
}

/// Unanswered calls one user may make to one telecaller within [`RING_WINDOW`].
pub const UNANSWERED_RINGS: i64 = 3;
pub const RING_WINDOW: Duration = Duration::from_secs(600);

/// The direct answer to a client's message (sent with its `ref`).
#[derive(Debug, Clone)]
pub struct Answer {
    pub event: ServerEvent,
    pub data: Value,
}

impl Answer {
    fn new(event: ServerEvent, data: impl serde::Serialize) -> Self {
        Self { event, data: serde_json::to_value(data).unwrap_or(Value::Null) }
    }

    /// The answer to a session's party: a call's as it is, a chat's under chat's names
    /// ([`events::for_session`]).
    fn of_session(call_type: CallType, event: ServerEvent, data: impl serde::Serialize) -> Self {
        Self { event: event.of_session(call_type), data: events::for_session(call_type, data) }
    }
}

/// Who asked: the party's role and connection, so the answer goes to that connection only.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub role: Role,
    pub connection: ConnectionId,
}

/// The media server: its rooms and the tokens to join them.
pub struct Media {
    pub rooms: Arc<dyn RoomService>,
    pub tokens: LiveKitTokens,
}

pub struct CallService {
    db: Db,
    /// Accounts and prices as they are now (coherent with Postgres: see `cache`).
    cache: Arc<ReadCache>,
    /// Presence, who is connected, and notifications to sockets (and the bus behind them).
    presence: Arc<PresenceService>,
    rooms: Arc<dyn RoomService>,
    tokens: LiveKitTokens,
    limiter: Arc<dyn RateLimiter>,
    settings: CallSettings,
    /// Set when this node stops: its timers and sweeper do nothing more.
    stopped: std::sync::atomic::AtomicBool,
    timers: Timers,
    /// Wakes this node's push worker when a ring or its cancel is in the outbox, so it goes out
    /// at once rather than at the worker's next pass.
    push_wake: Arc<tokio::sync::Notify>,
    /// `/metrics`' call figures and when they were counted (one count at a time).
    figures: tokio::sync::Mutex<Option<(std::time::Instant, CallFigures)>>,
    /// Tokens `session:ready` handed out lately, repeated within their window.
    recent_tokens: recent_tokens::RecentTokens,
    me: Weak<CallService>,
}

/// A call that passed admission, not yet in the database.
struct Admitted {
    call: NewCall,
    telecaller: Arc<Account>,
}

fn unavailable() -> ServiceError {
    ServiceError::conflict("call_unavailable", "This call is no longer available")
}

/// No longer available, as a call or (with `chat`) a chat.
fn unavailable_of(chat: bool) -> ServiceError {
    if chat { ServiceError::conflict("chat_unavailable", "This chat is no longer available") } else { unavailable() }
}

fn not_found() -> ServiceError {
    ServiceError::not_found("call_not_found", "Call not found")
}

/// Not found, as a call or (with `chat`) a chat.
fn not_found_of(chat: bool) -> ServiceError {
    if chat { ServiceError::not_found("chat_not_found", "Chat not found") } else { not_found() }
}

impl CallService {
    pub fn new(
        db: Db,
        cache: Arc<ReadCache>,
        presence: Arc<PresenceService>,
        media: Media,
        limiter: Arc<dyn RateLimiter>,
        push_wake: Arc<tokio::sync::Notify>,
        settings: CallSettings,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            db,
            cache,
            presence,
            rooms: media.rooms,
            tokens: media.tokens,
            limiter,
            settings,
            stopped: std::sync::atomic::AtomicBool::new(false),
            timers: Timers::default(),
            recent_tokens: Default::default(),
            figures: Default::default(),
            push_wake,
            me: me.clone(),
        })
    }

    /// Where this service's events go: the presence service's bus.
    fn bus(&self) -> &dyn EventBus {
        &**self.presence.bus()
    }

    /// Publishes a session's event: a call's as it is, a chat's under chat's names.
    fn emit(&self, audience: Audience, call_type: CallType, event: ServerEvent, data: impl serde::Serialize) {
        send(self.bus(), audience, event.of_session(call_type), events::for_session(call_type, data));
    }

    /// The presence service this one notifies through.
    pub fn presence(&self) -> &Arc<PresenceService> {
        &self.presence
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

    /// The acting party as they are now, not as their socket's handshake saw them: an account
    /// blocked, rejected, logged out or turned telecaller since cannot act through an old socket.
    pub(crate) async fn party(&self, socket: &Account, role: Role) -> Result<Arc<Account>, ServiceError> {
        let now = self.cache.account(socket.id).await?.ok_or_else(|| {
            ServiceError::unauthorized("token_revoked", "This session has ended, please log in again")
        })?;
        if now.token_version != socket.token_version {
            return Err(ServiceError::unauthorized("token_revoked", "This session has ended, please log in again"));
        }
        if now.is_suspended() {
            return Err(ServiceError::suspended());
        }
        if now.role != role {
            return Err(ServiceError::forbidden("forbidden_role", "This account can no longer do that"));
        }
        if role == Role::Telecaller && now.approval_status() != Some(ApprovalStatus::Approved) {
            return Err(ServiceError::forbidden("telecaller_not_approved", "Your telecaller profile is not approved"));
        }
        Ok(now)
    }

    /// A lone node starting (no Redis) after a crash: nobody is connected yet, so the parties of
    /// every live call get the reconnect grace, as if they had just dropped; reconnecting in time
    /// resumes the call, otherwise the sweeper ends it. (With several nodes the directory's
    /// heartbeats do this for a node that died; a graceful stop does it on its way out.)
    pub async fn start_graces_at_startup(db: &Db, reconnect_grace: Duration) -> Result<u64, ServiceError> {
        Ok(calls::start_all_graces(db.pool(), reconnect_grace.as_secs_f64()).await?)
    }

    // ---- client actions -------------------------------------------------------------------

    /// `call:initiate` from a user: admitted, then rung.
    #[tracing::instrument(name = "initiate", skip_all, fields(user = %user.id, telecaller = %telecaller_id))]
    pub async fn initiate(
        &self,
        user: &Account,
        origin: Origin,
        telecaller_id: AccountId,
        call_type: CallType,
    ) -> Result<Answer, ServiceError> {
        // The socket's copy of the account may predate a profile change: read it as it is now
        // (first: an account that may no longer act is refused at once, its budget untouched).
        let user = &*self.party(user, Role::User).await?;
        self.spend(user.id, "initiate", INITIATE_BUDGET).await?;
        let admitted = self.admit(user, telecaller_id, call_type).await?;
        self.ring(user, admitted, origin).await
    }

    /// The rules a call must pass before it exists: a complete caller, an approved telecaller
    /// who is connected or reachable by push, neither busy, the ring limits, and the balance for
    /// the minimum call at the rates in force.
    async fn admit(
        &self,
        user: &Account,
        telecaller_id: AccountId,
        call_type: CallType,
    ) -> Result<Admitted, ServiceError> {
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
        // Everything admission reads from Postgres, in one round trip.
        let seen = calls::admission(self.db.pool(), user.id, telecaller.id, RING_WINDOW.as_secs_f64()).await?;
        if seen.user_busy {
            return Err(ServiceError::conflict("already_in_call", "You are already in a call or chat"));
        }
        // Without a connection she can still be rung through a push when she is AWAY.
        let by_push = !self.presence.directory().is_connected(Role::Telecaller, telecaller.id).await;
        if by_push && !push::is_push_reachable(self.db.pool(), telecaller.id).await? {
            return Err(ServiceError::invalid("telecaller_offline", "This telecaller is offline"));
        }
        if seen.telecaller_busy {
            return Err(ServiceError::conflict("telecaller_busy", "This telecaller is busy"));
        }
        self.ring_limits(&seen, by_push)?;
        // Her price and share as they are now, copied onto the call: a later change never
        // touches it.
        let config = self.cache.config().await?;
        let commission = telecaller.telecaller.as_ref().and_then(|t| t.commission_hundredths);
        let terms = pricing::terms_between(&config, telecaller.host_rates(), commission, call_type);
        // A first call's free seconds count towards the minimum (chats have none).
        let (offered, min_secs) = if call_type.is_chat() {
            (0, config.min_chat_balance_seconds)
        } else {
            (config.first_call_free_seconds, config.min_call_balance_seconds)
        };
        let free = if seen.billed_before { 0 } else { offered.max(0) };
        let paid_secs = (min_secs - i64::from(free)).max(0);
        let needed = terms.user_rate.saturating_mul(paid_secs);
        let (balance, owed) = (seen.balance, seen.owed);
        if owed > 0 {
            return Err(ServiceError::invalid(
                "payment_reversed",
                format!("A payment of yours was reversed: recharge to settle the {owed} coins you owe before calling"),
            )
            .with_details(serde_json::json!({ "owed": owed })));
        }
        if balance < needed {
            return Err(ServiceError::invalid(
                "insufficient_balance",
                format!("You need at least {needed} coins to start this {}", noun(call_type)),
            ));
        }
        let ring = if by_push { self.settings.push_ring_timeout } else { self.settings.ring_timeout };
        let call = NewCall {
            id: CallId::new(),
            user: user.id,
            telecaller: telecaller.id,
            call_type,
            user_rate: terms.user_rate,
            telecaller_rate: terms.telecaller_rate,
            commission_hundredths: terms.commission_hundredths,
            ring_secs: ring.as_secs_f64(),
            rung_by_push: by_push,
        };
        Ok(Admitted { call, telecaller })
    }

    /// Puts an admitted call in (the database has the last word on one active call per party),
    /// queues her push when she is rung that way, and tells both parties.
    async fn ring(&self, user: &Account, admitted: Admitted, origin: Origin) -> Result<Answer, ServiceError> {
        let Admitted { call: new, telecaller } = admitted;
        // Both accounts stay until the call is in (a deletion waits, then sees the call).
        let call = self
            .put_in(user, &new)
            .await?
            .ok_or_else(|| ServiceError::invalid("telecaller_unavailable", "This telecaller is not available"))?;
        self.schedule(call.id, call.ring_deadline);
        let call_type = call.call_type;
        self.emit(
            Audience::account(Role::Telecaller, telecaller.id),
            call_type,
            ServerEvent::CallIncoming,
            Incoming { call_id: call.id.0, call_type, caller: PartyCard::from(user), rate: call.user_rate },
        );
        let ringing =
            Ringing { call_id: call.id.0, call_type, telecaller: PartyCard::from(&*telecaller), rate: call.user_rate };
        let to_user = Audience::Account { role: Role::User, id: user.id, except: Some(origin.connection) };
        self.emit(to_user, call_type, ServerEvent::CallRinging, &ringing);
        Ok(Answer::of_session(call_type, ServerEvent::CallRinging, ringing))
    }

    /// The call in, one statement; a call rung through a push commits with her push in the
    /// outbox, which this node's worker is woken to send. `None`: a party is gone.
    async fn put_in(&self, user: &Account, new: &NewCall) -> Result<Option<Call>, ServiceError> {
        let refused = |error: RepoError| match error {
            error if error.is_unique(calls::ONE_ACTIVE_USER) => {
                ServiceError::conflict("already_in_call", "You are already in a call")
            }
            error if error.is_unique(calls::ONE_ACTIVE_TELECALLER) => {
                ServiceError::conflict("telecaller_busy", "This telecaller is busy")
            }
            error => error.into(),
        };
        if !new.rung_by_push {
            return calls::insert_ringing(self.db.pool(), new).await.map_err(refused);
        }
        let mut tx = self.db.begin().await?;
        let Some(call) = calls::insert_ringing(&mut *tx, new).await.map_err(refused)? else { return Ok(None) };
        pushes::incoming_call(&mut tx, &call, user).await?;
        tx.commit().await.map_err(RepoError::from)?;
        self.push_wake.notify_one();
        Ok(Some(call))
    }

    /// Nobody can keep a telecaller (or her phone) ringing: a user gets `UNANSWERED_RINGS`
    /// unanswered calls to her per `RING_WINDOW`, and she is rung through a push at most
    /// `push_rings_per_hour` times an hour.
    fn ring_limits(&self, seen: &calls::Admission, by_push: bool) -> Result<(), ServiceError> {
        if seen.unanswered >= UNANSWERED_RINGS || (by_push && seen.push_rings >= self.settings.push_rings_per_hour) {
            return Err(ServiceError::conflict(
                "too_many_rings",
                "This telecaller was called too often without an answer; try again later",
            ));
        }
        Ok(())
    }

    /// `call:accept` by the callee; the first of her connections wins, before the ring deadline.
    /// After the commit the room is created and both tokens minted; if any of that fails the
    /// call ends SETUP_FAILED at no charge.
    #[tracing::instrument(name = "accept", skip_all, fields(call = %call_id, telecaller = %telecaller.id))]
    pub async fn accept(&self, telecaller: &Account, origin: Origin, call_id: CallId) -> Result<Answer, ServiceError> {
        self.accept_session(telecaller, origin, call_id, false).await
    }

    /// Accepts a call or (with `chat`) a chat: a session of the other kind is not found.
    async fn accept_session(
        &self,
        telecaller: &Account,
        origin: Origin,
        call_id: CallId,
        chat: bool,
    ) -> Result<Answer, ServiceError> {
        let telecaller = &*self.party(telecaller, Role::Telecaller).await?;
        self.spend(telecaller.id, "action", ACTION_BUDGET).await?;
        let config = self.cache.config().await?;
        let offered = if chat { 0 } else { config.first_call_free_seconds };
        let meter = match self.settings.media_timeout {
            _ if chat => Meter::Chat { inactive_secs: self.settings.chat_inactivity.as_secs_f64() },
            Some(within) => Meter::FromMedia { within_secs: within.as_secs_f64() },
            None => Meter::FromAccept,
        };
        // One statement: the conditional update, the balance and the free seconds.
        let Some(call) = calls::accept(self.db.pool(), call_id, telecaller.id, chat, offered, meter).await? else {
            // Why not (the rare path): not hers or not of this kind, or no longer ringing.
            let found = calls::find(self.db.pool(), call_id)
                .await?
                .filter(|c| c.telecaller_id == telecaller.id && c.call_type.is_chat() == chat);
            return Err(if found.is_some() { unavailable() } else { not_found_of(chat) });
        };
        let max = call.max_duration_seconds.unwrap_or(0);
        if call.call_type.is_chat() {
            return self.chat_accepted(&call, telecaller, origin, max).await;
        }

        let (for_user, answer) = match self.set_up(&call, telecaller, max).await {
            Ok(both) => both,
            Err(error) => {
                self.fail_setup(call.id, &error).await;
                return Err(ServiceError::upstream("setup_failed", "The call could not be set up", error));
            }
        };
        send(self.bus(), Audience::account(Role::User, call.user_id), ServerEvent::CallAccepted, for_user);
        send(
            self.bus(),
            Audience::Account { role: Role::Telecaller, id: telecaller.id, except: Some(origin.connection) },
            ServerEvent::CallAnsweredElsewhere,
            CallRef { call_id: call.id.0 },
        );
        send(self.bus(), Audience::Everyone(Role::Admin), ServerEvent::CallStarted, feed(&call));
        // She has an accepted call: ON_CALL, with nothing to look up.
        self.presence.set(telecaller.id, Presence::OnCall, Some(telecaller)).await;
        self.schedule_billing(&call);
        Ok(Answer::new(ServerEvent::CallAccepted, answer))
    }

    /// The accept's follow-ups: the room, the caller's card, both tokens.
    async fn set_up(
        &self,
        call: &Call,
        telecaller: &Account,
        max: i64,
    ) -> Result<(AcceptedForUser, AcceptedForTelecaller), ServiceError> {
        self.rooms.create_room(&call.id.to_string()).await.map_err(|e| {
            ServiceError::upstream("media_server_failed", "The media server did not create the room", e)
        })?;
        let user = self.account(call.user_id).await?;
        let for_user = AcceptedForUser {
            call_id: call.id.0,
            livekit: self.livekit_join(call, &user)?,
            max_duration_seconds: max,
            rate: call.user_rate,
        };
        let for_telecaller = AcceptedForTelecaller {
            call_id: call.id.0,
            call_type: call.call_type,
            caller: PartyCard::from(&*user),
            livekit: self.livekit_join(call, telecaller)?,
            max_duration_seconds: max,
            rate: call.user_rate,
        };
        Ok((for_user, for_telecaller))
    }

    /// `call:reject` by the callee while it rings.
    #[tracing::instrument(name = "reject", skip_all, fields(call = %call_id, telecaller = %telecaller.id))]
    pub async fn reject(&self, telecaller: &Account, origin: Origin, call_id: CallId) -> Result<Answer, ServiceError> {
        self.party(telecaller, Role::Telecaller).await?;
        self.spend(telecaller.id, "action", ACTION_BUDGET).await?;
        let (call, _) = self
            .act(call_id, telecaller.id, Some(CallStatus::Ringing), EndReason::Rejected, Some(origin), false)
            .await?;
        Ok(Answer::of_session(call.call_type, ServerEvent::CallRejected, CallRef { call_id: call_id.0 }))
    }

    /// `call:cancel` by the caller while it rings.
    #[tracing::instrument(name = "cancel", skip_all, fields(call = %call_id, user = %user.id))]
    pub async fn cancel(&self, user: &Account, origin: Origin, call_id: CallId) -> Result<Answer, ServiceError> {
        self.party(user, Role::User).await?;
        self.spend(user.id, "action", ACTION_BUDGET).await?;
        let (call, _) =
            self.act(call_id, user.id, Some(CallStatus::Ringing), EndReason::Cancelled, Some(origin), false).await?;
        Ok(Answer::of_session(call.call_type, ServerEvent::CallCancelled, CallRef { call_id: call_id.0 }))
    }

    /// `call:end` by either party of an accepted call.
    #[tracing::instrument(name = "end", skip_all, fields(call = %call_id, account = %account.id))]
    pub async fn end(&self, account: &Account, origin: Origin, call_id: CallId) -> Result<Answer, ServiceError> {
        self.party(account, account.role).await?;
        self.spend(account.id, "action", ACTION_BUDGET).await?;
        let reason = if account.role == Role::User { EndReason::UserEnded } else { EndReason::TelecallerEnded };
        let (call, answer) =
            self.act(call_id, account.id, Some(CallStatus::Accepted), reason, Some(origin), false).await?;
        let data = answer.ok_or_else(unavailable)?;
        Ok(Answer { event: ServerEvent::CallEnded.of_session(call.call_type), data })
    }
}

/// What a session is called in messages.
fn noun(call_type: CallType) -> &'static str {
    if call_type.is_chat() { "chat" } else { "call" }
}
