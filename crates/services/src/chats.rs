//! Chat messages (docs/chat.md): stored in Postgres numbered per session, delivered to every
//! socket of both parties, masked for contacts; typing and read receipts go to the other party
//! only and are not stored. The session itself (request, accept, meter, end) is
//! [`crate::calls::CallService`]'s: a chat is a call of type `CHAT`.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use talktime_domain::account::{Account, Role};
use talktime_domain::call::{Call, CallStatus};
use talktime_domain::chat::{ChatMessage, MAX_CLIENT_ID_CHARS, MessageText};
use talktime_domain::gift::GiftSent;
use talktime_domain::ids::{AccountId, AdminId, CallId, ReportId};
use talktime_repository::{Db, RepoError, audit, calls, chats, gifts, reports};

use crate::ServiceError;
use crate::bus::{Audience, EventBus, ServerEvent, send};
use crate::calls::{Answer, CallService, Origin};
use crate::rate_limit::{Budget, RateLimiter};

#[derive(Debug, Clone, Copy)]
pub struct ChatSettings {
    /// Mask telephone numbers, e-mail addresses and links (`CHAT_MASK_CONTACTS`).
    pub mask_contacts: bool,
    /// The inactivity window a message restarts (`CHAT_INACTIVITY_SECS`).
    pub inactivity: Duration,
}

/// Messages one account may send per minute (a person types far fewer).
const MESSAGE_BUDGET: Budget = Budget { limit: 60, window: Duration::from_secs(60) };
/// `chat:typing` at most once per second per account; more are dropped silently.
const TYPING_BUDGET: Budget = Budget { limit: 1, window: Duration::from_secs(1) };
/// Messages a page of `GET …/chats/{id}/messages` holds at most.
pub const MAX_PAGE: i64 = 200;

/// `chat:message` as both parties receive it (the sender's answer carries its `clientId`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageEvent {
    pub session_id: uuid::Uuid,
    pub seq: i64,
    pub from: uuid::Uuid,
    pub text: String,
    pub sent_at: chrono::DateTime<chrono::Utc>,
    pub client_id: String,
}

/// A session's messages after a number, and its gifts.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub session: CallId,
    pub messages: Vec<ChatMessage>,
    pub gifts: Vec<GiftSent>,
    /// More messages follow the last one here.
    pub has_more: bool,
}

pub struct ChatService {
    db: Db,
    calls: Arc<CallService>,
    limiter: Arc<dyn RateLimiter>,
    settings: ChatSettings,
}

fn not_found() -> ServiceError {
    ServiceError::not_found("chat_not_found", "Chat not found")
}

fn unavailable() -> ServiceError {
    ServiceError::conflict("chat_unavailable", "This chat is not active")
}

/// The other party of a session.
fn peer_of(chat: &Call, account: AccountId) -> (Role, AccountId) {
    if chat.user_id == account { (Role::Telecaller, chat.telecaller_id) } else { (Role::User, chat.user_id) }
}

impl ChatService {
    pub fn new(db: Db, calls: Arc<CallService>, limiter: Arc<dyn RateLimiter>, settings: ChatSettings) -> Self {
        Self { db, calls, limiter, settings }
    }

    fn bus(&self) -> &dyn EventBus {
        &**self.calls.presence().bus()
    }

    /// One of `account`'s chat sessions (any state).
    async fn own_chat(&self, account: AccountId, id: CallId) -> Result<Call, ServiceError> {
        calls::find(self.db.pool(), id)
            .await?
            .filter(|c| c.call_type.is_chat() && (c.user_id == account || c.telecaller_id == account))
            .ok_or_else(not_found)
    }

    /// `chat:message`: stored once per `clientId` under the next number, masked, delivered to
    /// both parties' sockets (the asking one gets it as the answer). A retry answers what was
    /// stored and delivers nothing again.
    #[tracing::instrument(name = "chat_message", skip_all, fields(chat = %id, account = %account.id))]
    pub async fn send_message(
        &self,
        account: &Account,
        origin: Origin,
        id: CallId,
        client_id: &str,
        text: &str,
    ) -> Result<Answer, ServiceError> {
        let account = self.calls.party(account, account.role).await?;
        check_client_id(client_id)?;
        let text = MessageText::parse(text).map_err(|e| ServiceError::invalid("invalid_message", e.to_string()))?;
        let text = if self.settings.mask_contacts { text.masked() } else { text };
        MESSAGE_BUDGET.spend(&*self.limiter, &format!("chat:message:{}", account.id)).await?;
        let inactive = self.settings.inactivity.as_secs_f64();
        let posted = match chats::post(self.db.pool(), id, account.id, client_id, text.as_str(), inactive).await {
            // A concurrent retry of the same clientId stored it first: this one reads it.
            Err(error) if error.is_unique(chats::ONCE_PER_CLIENT_ID) => {
                chats::post(self.db.pool(), id, account.id, client_id, text.as_str(), inactive).await?
            }
            other => other?,
        };
        let Some(posted) = posted else {
            self.own_chat(account.id, id).await?;
            return Err(unavailable());
        };
        let event = MessageEvent {
            session_id: id.0,
            seq: posted.seq,
            from: account.id.0,
            text: posted.body,
            sent_at: posted.created_at,
            client_id: client_id.to_owned(),
        };
        if !posted.duplicate {
            let chat = self.own_chat(account.id, id).await?;
            let (peer_role, peer) = peer_of(&chat, account.id);
            let mine = Audience::Account { role: account.role, id: account.id, except: Some(origin.connection) };
            send(self.bus(), mine, ServerEvent::ChatMessage, &event);
            send(self.bus(), Audience::account(peer_role, peer), ServerEvent::ChatMessage, &event);
        }
        Ok(Answer { event: ServerEvent::ChatMessage, data: serde_json::to_value(event).unwrap_or_default() })
    }

    /// `chat:typing`: to the other party, at most once a second (more are dropped).
    pub async fn typing(&self, account: &Account, id: CallId) -> Result<(), ServiceError> {
        if TYPING_BUDGET.spend(&*self.limiter, &format!("chat:typing:{}", account.id)).await.is_err() {
            return Ok(());
        }
        let chat = self.active_chat(account, id).await?;
        let (role, peer) = peer_of(&chat, account.id);
        let data = json!({ "sessionId": id.0, "from": account.id.0 });
        send(self.bus(), Audience::account(role, peer), ServerEvent::ChatTyping, data);
        Ok(())
    }

    /// `chat:read`: the other party learns `account` read up to `seq`.
    pub async fn read(&self, account: &Account, id: CallId, seq: i64) -> Result<(), ServiceError> {
        let chat = self.own_chat(account.id, id).await?;
        if seq < 1 || seq > chat.last_seq {
            return Err(ServiceError::invalid("message_not_found", "No such message in this chat"));
        }
        let (role, peer) = peer_of(&chat, account.id);
        let data = json!({ "sessionId": id.0, "seq": seq, "by": account.id.0 });
        send(self.bus(), Audience::account(role, peer), ServerEvent::ChatRead, data);
        Ok(())
    }

    async fn active_chat(&self, account: &Account, id: CallId) -> Result<Call, ServiceError> {
        let chat = self.own_chat(account.id, id).await?;
        if chat.status != CallStatus::Accepted {
            return Err(unavailable());
        }
        Ok(chat)
    }

    /// `GET /users/chats/{id}/messages?after=`: a party's session, its messages after `after`
    /// (at most `limit`) and its gifts.
    pub async fn conversation(
        &self,
        account: &Account,
        id: CallId,
        after: i64,
        limit: i64,
    ) -> Result<Conversation, ServiceError> {
        self.own_chat(account.id, id).await?;
        self.read_conversation(id, after, limit).await
    }

    async fn read_conversation(&self, id: CallId, after: i64, limit: i64) -> Result<Conversation, ServiceError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let (mut messages, gifts) = futures_util::future::try_join(
            chats::after(self.db.pool(), id, after.max(0), limit + 1),
            gifts::sent_in(self.db.pool(), id),
        )
        .await?;
        let has_more = talktime_domain::page::cut_to(&mut messages, limit);
        Ok(Conversation { session: id, messages, gifts, has_more })
    }

    /// `GET /admin/reports/{id}/messages`: an operator reads a reported chat's messages, only
    /// from a report about it; the reading is audited.
    pub async fn reported_conversation(
        &self,
        by: AdminId,
        report: ReportId,
        after: i64,
        limit: i64,
    ) -> Result<Conversation, ServiceError> {
        let report = reports::find(&self.db, report)
            .await?
            .ok_or_else(|| ServiceError::not_found("report_not_found", "Report not found"))?;
        let chat = calls::find(self.db.pool(), report.call_id).await?.filter(|c| c.call_type.is_chat());
        let chat =
            chat.ok_or_else(|| ServiceError::invalid("report_not_on_chat", "This report is not about a chat"))?;
        let mut tx = self.db.begin().await?;
        let after_json = json!({ "reportId": report.id.0, "after": after, "limit": limit });
        audit::audit(&mut tx, by, "chat.messages.read", "chat", Some(chat.id.0), json!(null), after_json).await?;
        tx.commit().await.map_err(RepoError::from)?;
        self.read_conversation(chat.id, after, limit).await
    }
}

pub(crate) fn check_client_id(client_id: &str) -> Result<(), ServiceError> {
    let chars = client_id.chars().count();
    if chars == 0 || chars > MAX_CLIENT_ID_CHARS || client_id.chars().any(char::is_control) {
        return Err(ServiceError::invalid("invalid_client_id", "clientId is 1 to 64 printable characters"));
    }
    Ok(())
}
