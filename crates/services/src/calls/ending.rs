//! The terminal transition: the conditional update, the settlement for an accepted call, and
//! what follows the commit (events, the room closed, presence, timers dropped). Whoever wins the
//! transition runs this once.

use serde_json::Value;
use talktime_domain::account::Role;
use talktime_domain::call::Call;
use talktime_domain::call::{self as rules, CallStatus, EndReason};
use talktime_domain::ids::{AccountId, CallId};
use talktime_repository::calls;
use talktime_repository::{RepoError, Tx};

use super::events::{self, *};
use super::pushes;
use super::{CallService, Origin, not_found_of, unavailable_of};
use crate::bus::{Audience, ServerEvent, send};
use crate::{ServiceError, ledger};

impl CallService {
    /// Ends the call `call_id` of `party` (checked) for `reason`, if it is in `from`. Answers the
    /// ended call and, for an accepted one, the `call:ended` data for the asking connection.
    pub(super) async fn act(
        &self,
        call_id: CallId,
        party: AccountId,
        from: Option<CallStatus>,
        reason: EndReason,
        origin: Option<Origin>,
        chat: bool,
    ) -> Result<(Call, Option<Value>), ServiceError> {
        if from == Some(CallStatus::Accepted) {
            return self.end_accepted(call_id, party, reason, origin, chat).await;
        }
        // A cancel or reject in one round trip; a push-rung call, or a refusal, takes the lock.
        if from == Some(CallStatus::Ringing)
            && let Some(to) = rules::end_transition(CallStatus::Ringing, reason)
            && let Some(ended) = calls::end_ringing(self.db.pool(), call_id, to, reason, Some((party, chat))).await?
        {
            let answer = self.after_end(&ended, origin).await?;
            return Ok((ended, answer));
        }
        let mut tx = self.db.begin().await?;
        let call = calls::lock(&mut tx, call_id)
            .await?
            .filter(|c| (c.user_id == party || c.telecaller_id == party) && c.call_type.is_chat() == chat)
            .ok_or_else(|| not_found_of(chat))?;
        if from.is_some_and(|f| f != call.status) {
            return Err(unavailable_of(chat));
        }
        let ended = self.end_locked(&mut tx, &call, reason).await?.ok_or_else(|| unavailable_of(chat))?;
        tx.commit().await.map_err(RepoError::from)?;
        let answer = self.after_end(&ended, origin).await?;
        Ok((ended, answer))
    }

    /// [`act`](Self::act) on an ACCEPTED call: the end and its settlement are one round trip
    /// (no lock taken first); only a refusal looks again, to tell "not found" from "no longer".
    async fn end_accepted(
        &self,
        call_id: CallId,
        party: AccountId,
        reason: EndReason,
        origin: Option<Origin>,
        chat: bool,
    ) -> Result<(Call, Option<Value>), ServiceError> {
        let ended = match rules::end_transition(CallStatus::Accepted, reason) {
            Some(_) => {
                ledger::settle_session(self.db.pool(), call_id, Some(party), chat, reason, self.room_retry()).await?
            }
            None => None,
        };
        let Some(ended) = ended else {
            let found = calls::find(self.db.pool(), call_id)
                .await?
                .filter(|c| (c.user_id == party || c.telecaller_id == party) && c.call_type.is_chat() == chat);
            return Err(if found.is_some() { unavailable_of(chat) } else { not_found_of(chat) });
        };
        let answer = self.after_end(&ended, origin).await?;
        Ok((ended, answer))
    }

    fn room_retry(&self) -> f64 {
        self.settings.room_retry.as_secs_f64()
    }

    /// Ends a call for an operator, a block or a failure (`ADMIN`, `ACCOUNT_BLOCKED`,
    /// `SETUP_FAILED`), billed to this moment (nothing for a setup failure).
    pub async fn end_by_force(&self, call_id: CallId, reason: EndReason) -> Result<Option<Call>, ServiceError> {
        let mut tx = self.db.begin().await?;
        let Some(call) = calls::lock(&mut tx, call_id).await? else { return Ok(None) };
        let Some(ended) = self.end_locked(&mut tx, &call, reason).await? else { return Ok(None) };
        tx.commit().await.map_err(RepoError::from)?;
        self.after_end(&ended, None).await?;
        Ok(Some(ended))
    }

    /// The transition, and for an accepted call the settlement, inside the caller's transaction
    /// (the call row is locked). `None` when `reason` does not apply to the call's state.
    pub(super) async fn end_locked(
        &self,
        tx: &mut Tx,
        call: &Call,
        reason: EndReason,
    ) -> Result<Option<Call>, ServiceError> {
        let Some(to) = rules::end_transition(call.status, reason) else { return Ok(None) };
        if call.status == CallStatus::Accepted {
            let chat = call.call_type.is_chat();
            return ledger::settle_session(&mut **tx, call.id, None, chat, reason, self.room_retry()).await;
        }
        let Some(ended) = calls::end_ringing(&mut **tx, call.id, to, reason, None).await? else { return Ok(None) };
        if ended.status == CallStatus::Missed {
            pushes::missed_call(tx, &ended).await?;
        } else if call.status == CallStatus::Ringing && call.rung_by_push && reason != EndReason::Rejected {
            pushes::call_cancelled(tx, &ended).await?;
        }
        Ok(Some(ended))
    }

    /// After the commit: tell both parties and the admins, close the room, drop the call's
    /// timers, update presence. Answers the `call:ended` data for the connection that ended the
    /// call (it is not sent to that connection here: the caller answers it directly).
    pub(super) async fn after_end(&self, ended: &Call, origin: Option<Origin>) -> Result<Option<Value>, ServiceError> {
        self.timers.cancel(ended.id);
        if ended.rung_by_push {
            // A cancel (or missed-call) push may be in the outbox: this node's worker sends it now.
            self.push_wake.notify_one();
        }
        let except = |role: Role| origin.filter(|o| o.role == role).map(|o| o.connection);
        let to_user = Audience::Account { role: Role::User, id: ended.user_id, except: except(Role::User) };
        let to_telecaller =
            Audience::Account { role: Role::Telecaller, id: ended.telecaller_id, except: except(Role::Telecaller) };
        let reference = CallRef { call_id: ended.id.0 };
        let kind = ended.call_type;
        let mut answer = None;
        let ringing_end = match ended.status {
            CallStatus::Completed => {
                let balances = ledger::balances_of(&self.db, ended.user_id, ended.telecaller_id).await?;
                for (side, audience) in [(Role::User, to_user.clone()), (Role::Telecaller, to_telecaller.clone())] {
                    let data = events::for_session(kind, ended_payload(ended, side, balances));
                    if origin.is_some_and(|o| o.role == side) {
                        answer = Some(data.clone());
                    }
                    send(self.bus(), audience, ServerEvent::CallEnded.of_session(kind), data);
                }
                if !kind.is_chat() {
                    self.close_room(ended.id);
                }
                None
            }
            CallStatus::Rejected => Some(ServerEvent::CallRejected),
            CallStatus::Cancelled => Some(ServerEvent::CallCancelled),
            CallStatus::Missed => Some(ServerEvent::CallMissed),
            CallStatus::Ringing | CallStatus::Accepted => None,
        };
        if let Some(event) = ringing_end {
            self.emit(to_user, kind, event, &reference);
            self.emit(to_telecaller, kind, event, &reference);
        }
        send(self.bus(), Audience::Everyone(Role::Admin), ServerEvent::CallFinished, feed(ended));
        self.presence.refresh(ended.telecaller_id).await?;
        Ok(answer)
    }

    /// DeleteRoom now; on failure the sweeper retries until it succeeds.
    pub(super) fn close_room(&self, call: CallId) {
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
}

/// The admins' feed item for a call that started or finished.
pub(super) fn feed(call: &Call) -> CallFeed {
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

/// `call:ended` for one side, with both parties' balances after the settlement (user's, hers).
fn ended_payload(ended: &Call, side: Role, (user_balance, telecaller_balance): (i64, i64)) -> Value {
    let reason = ended.end_reason.unwrap_or(EndReason::UserEnded);
    let seconds = ended.duration_seconds.unwrap_or(0);
    let data = if side == Role::User {
        serde_json::to_value(EndedForUser {
            call_id: ended.id.0,
            reason,
            duration_in_seconds: seconds,
            coins_spent: ended.coins_spent.unwrap_or(0),
            balance: user_balance,
        })
    } else {
        serde_json::to_value(EndedForTelecaller {
            call_id: ended.id.0,
            reason,
            duration_in_seconds: seconds,
            coins_earned: ended.coins_earned.unwrap_or(0),
            balance: telecaller_balance,
        })
    };
    data.unwrap_or(Value::Null)
}
