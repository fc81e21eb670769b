//! Chat sessions' lifecycle (docs/chat.md): a chat is a call of type `CHAT`, so it is admitted,
//! requested, accepted, ended, swept and settled by the same code as a call; what differs is
//! here: no media (the meter runs from the accept), its own event names, and `chat:end` ending
//! a request as well as an active chat. Messages are `crate::chats`.

use talktime_domain::account::{Account, Presence, Role};
use talktime_domain::call::{Call, CallStatus, CallType, EndReason};
use talktime_domain::ids::{AccountId, CallId};

use super::events::{CallRef, ChatAccepted, PartyCard};
use super::{ACTION_BUDGET, Answer, CallService, INITIATE_BUDGET, Origin};
use crate::ServiceError;
use crate::bus::{Audience, ServerEvent};
use crate::ledger;

impl CallService {
    /// `chat:request` from a user: admitted as a call is (at her chat price), then requested.
    #[tracing::instrument(name = "chat_request", skip_all, fields(user = %user.id, telecaller = %telecaller_id))]
    pub async fn request_chat(
        &self,
        user: &Account,
        origin: Origin,
        telecaller_id: AccountId,
    ) -> Result<Answer, ServiceError> {
        let user = &*self.party(user, Role::User).await?;
        self.spend(user.id, "initiate", INITIATE_BUDGET).await?;
        let admitted = self.admit(user, telecaller_id, CallType::Chat).await?;
        self.ring(user, admitted, origin).await
    }

    /// `chat:accept` by the telecaller while the chat is requested.
    pub async fn accept_chat(&self, telecaller: &Account, origin: Origin, id: CallId) -> Result<Answer, ServiceError> {
        self.accept_session(telecaller, origin, id, true).await
    }

    /// `chat:reject` by the telecaller while the chat is requested.
    pub async fn reject_chat(&self, telecaller: &Account, origin: Origin, id: CallId) -> Result<Answer, ServiceError> {
        self.party(telecaller, Role::Telecaller).await?;
        self.spend(telecaller.id, "action", ACTION_BUDGET).await?;
        self.act(id, telecaller.id, Some(CallStatus::Ringing), EndReason::Rejected, Some(origin), true).await?;
        Ok(Answer::of_session(CallType::Chat, ServerEvent::CallRejected, CallRef { call_id: id.0 }))
    }

    /// `chat:end` by either party: an active chat ends (billed); a request is cancelled by the
    /// user or rejected by the telecaller.
    #[tracing::instrument(name = "chat_end", skip_all, fields(chat = %id, account = %account.id))]
    pub async fn end_chat(&self, account: &Account, origin: Origin, id: CallId) -> Result<Answer, ServiceError> {
        self.party(account, account.role).await?;
        self.spend(account.id, "action", ACTION_BUDGET).await?;
        let as_user = account.role == Role::User;
        let reason = match super::calls::find(self.db.pool(), id).await? {
            Some(chat) if chat.status == CallStatus::Ringing && as_user => EndReason::Cancelled,
            Some(chat) if chat.status == CallStatus::Ringing => EndReason::Rejected,
            _ if as_user => EndReason::UserEnded,
            _ => EndReason::TelecallerEnded,
        };
        let (ended, answer) = self.act(id, account.id, None, reason, Some(origin), true).await?;
        let event = match ended.status {
            CallStatus::Completed => ServerEvent::CallEnded,
            CallStatus::Rejected => ServerEvent::CallRejected,
            _ => ServerEvent::CallCancelled,
        };
        let data = answer.unwrap_or_else(|| serde_json::json!({ "sessionId": id.0 }));
        Ok(Answer { event: event.of_session(CallType::Chat), data })
    }

    /// After a chat's accept committed: both parties learn it (the meter runs from now), her
    /// other sockets that it was answered, the admins that it started; she is ON_CALL.
    pub(super) async fn chat_accepted(
        &self,
        chat: &Call,
        telecaller: &Account,
        origin: Origin,
        max: i64,
    ) -> Result<Answer, ServiceError> {
        let user = self.account(chat.user_id).await?;
        let accepted = ChatAccepted {
            call_id: chat.id.0,
            user: PartyCard::from(&*user),
            telecaller: PartyCard::from(telecaller),
            accepted_at: chat.accepted_at,
            max_duration_seconds: max,
            rate: chat.user_rate,
            inactive_deadline: chat.inactive_deadline,
        };
        self.emit(Audience::account(Role::User, chat.user_id), CallType::Chat, ServerEvent::CallAccepted, &accepted);
        self.emit(
            Audience::Account { role: Role::Telecaller, id: telecaller.id, except: Some(origin.connection) },
            CallType::Chat,
            ServerEvent::CallAccepted,
            &accepted,
        );
        crate::bus::send(self.bus(), Audience::Everyone(Role::Admin), ServerEvent::CallStarted, super::feed(chat));
        self.presence.set(telecaller.id, Presence::OnCall, Some(telecaller)).await;
        self.schedule_billing(chat);
        Ok(Answer::of_session(CallType::Chat, ServerEvent::CallAccepted, accepted))
    }

    /// Recomputes an active session's paid time from what its user holds now (after a gift
    /// spent some of it), inside the caller's transaction; re-arms this node's timers.
    pub(crate) async fn repaid(&self, tx: &mut talktime_repository::Tx, call: &Call) -> Result<(), ServiceError> {
        if call.status != CallStatus::Accepted || call.connected_at.is_none() {
            return Ok(());
        }
        let balance = talktime_repository::ledger::wallet_balance(&mut **tx, call.user_id).await?;
        let max = talktime_domain::call::max_duration_secs(balance, call.user_rate) + i64::from(call.free_seconds);
        if let Some(changed) = super::calls::set_paid_time(tx, call.id, max, super::BALANCE_WARNING_SECS as f64).await?
        {
            self.schedule_billing(&changed);
        }
        Ok(())
    }

    /// The account's balance as events show it.
    pub(crate) async fn balance_of(&self, account: AccountId) -> Result<i64, ServiceError> {
        ledger::balance(&self.db, account).await
    }
}
