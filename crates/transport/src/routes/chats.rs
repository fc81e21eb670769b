//! Paid chat over REST (docs/chat.md): each side's chat history, a session's messages (the app
//! fetches what it missed after a reconnect), feedback and reports on a chat, and the admins'
//! live chats, ending one, and reading a reported conversation (audited). The session's
//! lifecycle and messages themselves travel over the sockets.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use talktime_domain::account::{Account, Role};
use talktime_domain::call::HistoryRow;
use talktime_domain::chat::{ChatMessage, ChatStatus};
use talktime_domain::ids::{CallId, ReportId};
use talktime_services::chats::Conversation;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::calls::PeerView;
use super::rules::{ADMIN_PAGING, PageQuery, Paging};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, CurrentTelecaller, CurrentUser, ValidQuery};
use crate::views::{Envelope, ok};

const CHATS_PAGING: Paging = Paging { default_limit: 15, max_limit: 50 };

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(user_chats)
        .service(telecaller_chats)
        .service(user_messages)
        .service(telecaller_messages)
        .service(admin_chats)
        .service(end_chat)
        .service(reported_messages);
}

/// A chat in the user's history (`telecaller`, `coinsSpent`) or the telecaller's (`user`,
/// `coinsEarned`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatHistoryView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[schema(inline, example = "COMPLETED")]
    pub status: ChatStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telecaller: Option<PeerView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<PeerView>,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_in_seconds: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coins_spent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coins_earned: Option<i64>,
    #[schema(inline, example = "INACTIVE")]
    pub end_reason: Option<talktime_domain::call::EndReason>,
}

impl ChatHistoryView {
    fn new(entry: HistoryRow, side: Role) -> Self {
        let peer = PeerView { id: entry.peer_id.0, name: entry.peer_name, profile: entry.peer_profile };
        let user_side = side == Role::User;
        let (telecaller, user) = if user_side { (Some(peer), None) } else { (None, Some(peer)) };
        Self {
            id: entry.id.0,
            status: entry.status.into(),
            telecaller,
            user,
            created_at: entry.created_at,
            accepted_at: entry.accepted_at,
            ended_at: entry.ended_at,
            duration_in_seconds: entry.duration_seconds.unwrap_or(0),
            coins_spent: user_side.then_some(entry.coins.unwrap_or(0)),
            coins_earned: (!user_side).then_some(entry.coins.unwrap_or(0)),
            end_reason: entry.end_reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChatsView {
    pub chats: Vec<ChatHistoryView>,
    pub has_more: bool,
}

async fn history(state: &AppState, account: &Account, query: PageQuery) -> Result<HttpResponse, ApiError> {
    let page = CHATS_PAGING.request(query.page, query.limit);
    let found = state.calls.history(account, true, page).await?;
    let chats = found.calls.into_iter().map(|c| ChatHistoryView::new(c, account.role)).collect();
    Ok(ok("Chats fetched successfully", ChatsView { chats, has_more: found.has_more }))
}

/// The user's chats, newest first.
#[utoipa::path(tag = "chats", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Envelope<ChatsView>), (status = 400, body = ErrorBody)))]
#[get("/users/chats")]
pub(crate) async fn user_chats(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    history(&state, &user.0, query.0).await
}

/// The chats a telecaller had, newest first.
#[utoipa::path(tag = "chats", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Envelope<ChatsView>), (status = 400, body = ErrorBody)))]
#[get("/telecaller/chats")]
pub(crate) async fn telecaller_chats(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    query: ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    history(&state, &telecaller.0, query.0).await
}

#[talktime_macros::bounds]
#[derive(Debug, serde::Deserialize, garde::Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Messages numbered after this one (default 0: from the first).
    #[bound(range(min = 0, max = 9_007_199_254_740_991i64))]
    pub after: Option<i64>,
    /// 1–200, default 100.
    #[bound(range(min = 1, max = 200))]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub seq: i64,
    pub from: Uuid,
    pub text: String,
    pub sent_at: DateTime<Utc>,
}

impl From<ChatMessage> for MessageView {
    fn from(m: ChatMessage) -> Self {
        Self { seq: m.seq, from: m.sender_id.0, text: m.body, sent_at: m.created_at }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionGiftView {
    pub gift_id: Uuid,
    pub name: String,
    pub coins: i64,
    pub from: Uuid,
    pub sent_at: DateTime<Utc>,
}

/// A session's messages after `after` (oldest first) and every gift sent in it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationView {
    pub session_id: Uuid,
    pub messages: Vec<MessageView>,
    pub gifts: Vec<SessionGiftView>,
    /// More messages follow the last one here.
    pub has_more: bool,
}

fn conversation_view(found: Conversation) -> ConversationView {
    ConversationView {
        session_id: found.session.0,
        messages: found.messages.into_iter().map(MessageView::from).collect(),
        gifts: found
            .gifts
            .into_iter()
            .map(|g| SessionGiftView {
                gift_id: g.gift_id.0,
                name: g.name,
                coins: g.coins,
                from: g.user_id.0,
                sent_at: g.created_at,
            })
            .collect(),
        has_more: found.has_more,
    }
}

async fn messages(
    state: &AppState,
    account: &Account,
    id: CallId,
    query: MessagesQuery,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit.unwrap_or(100);
    let found = state.chats.conversation(account, id, query.after.unwrap_or(0), limit).await?;
    Ok(ok("Messages fetched successfully", conversation_view(found)))
}

/// One of the user's chats: its messages after `after`, and its gifts.
#[utoipa::path(tag = "chats", security(("bearer" = [])), params(("id" = Uuid, Path), MessagesQuery),
    responses((status = 200, body = Envelope<ConversationView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/users/chats/{id}/messages")]
pub(crate) async fn user_messages(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<CallId>,
    query: ValidQuery<MessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    messages(&state, &user.0, path.into_inner(), query.0).await
}

/// One of the telecaller's chats: its messages after `after`, and its gifts.
#[utoipa::path(tag = "chats", security(("bearer" = [])), params(("id" = Uuid, Path), MessagesQuery),
    responses((status = 200, body = Envelope<ConversationView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/telecaller/chats/{id}/messages")]
pub(crate) async fn telecaller_messages(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    path: web::Path<CallId>,
    query: ValidQuery<MessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    messages(&state, &telecaller.0, path.into_inner(), query.0).await
}

super::rules::paged_query!(ChatsQuery, limit 100, "1–100, default 20." {
    /// `ACTIVE` lists live chats, `REQUESTED` unanswered requests.
    #[garde(skip)]
    #[param(inline)]
    status: Option<ChatStatus>,
});

/// Chats, newest first; live ones carry `elapsedSeconds` and `coinsSoFar`.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(ChatsQuery),
    responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/chats")]
pub(crate) async fn admin_chats(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<ChatsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = ADMIN_PAGING.request(query.page, query.limit);
    let talktime_domain::page::Page { rows, total } =
        state.admin.calls(query.status.map(Into::into), true, page).await?;
    let chats: Vec<_> = rows.into_iter().map(super::call_moderation::admin_row).collect();
    Ok(ok(
        "Chats fetched successfully",
        json!({ "chats": chats, "total": total, "totalPages": page.total_pages(total) }),
    ))
}

/// End a live chat now (reason `ADMIN`), billed to this moment (audited).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<Object>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/chats/{id}/end")]
pub(crate) async fn end_chat(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<CallId>,
) -> Result<HttpResponse, ApiError> {
    let ended = state.admin.end_call(admin.0.id, path.into_inner(), true).await?;
    Ok(ok(
        "Chat ended",
        json!({ "_id": ended.id.0, "status": ChatStatus::from(ended.status), "endReason": ended.end_reason,
                "durationInSeconds": ended.duration_seconds, "coinsSpent": ended.coins_spent }),
    ))
}

/// The messages of a reported chat, read from the report (audited: `chat.messages.read`).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path), MessagesQuery), responses((status = 200, body = Envelope<ConversationView>),
        (status = 400, description = "The report is not about a chat", body = ErrorBody), (status = 404, body = ErrorBody)))]
#[get("/admin/reports/{id}/messages")]
pub(crate) async fn reported_messages(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<ReportId>,
    query: ValidQuery<MessagesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.0.limit.unwrap_or(100);
    let after = query.0.after.unwrap_or(0);
    let found = state.chats.reported_conversation(admin.0.id, path.into_inner(), after, limit).await?;
    Ok(ok("Messages fetched successfully", conversation_view(found)))
}
