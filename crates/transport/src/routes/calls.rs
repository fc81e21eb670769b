//! Call history, feedback and reports, and LiveKit's webhooks about call rooms.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::account::Role;
use talktime_domain::call::HistoryRow;
use talktime_domain::ids::CallId;
use utoipa::ToSchema;
use uuid::Uuid;

use super::rules::PageQuery;
use super::rules::Paging;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAccount, CurrentTelecaller, CurrentUser, ValidJson, ValidQuery};
use crate::views::{Envelope, ok};

const CALLS_PAGING: Paging = Paging { default_limit: 15, max_limit: 50 };

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(user_calls).service(telecaller_calls).service(feedback).service(report).service(livekit_webhook);
}

/// The other party of a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeerView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub name: Option<String>,
    #[schema(inline, example = "avatar-2")]
    pub profile: Option<talktime_domain::account::Avatar>,
}

/// A call in the user's history (`telecaller`, `coinsSpent`) or the telecaller's (`user`,
/// `coinsEarned`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallHistoryView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    #[schema(inline, example = "AUDIO")]
    pub call_type: talktime_domain::call::CallType,
    #[schema(inline, example = "COMPLETED")]
    pub status: talktime_domain::call::CallStatus,
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
    #[schema(inline, example = "USER_ENDED")]
    pub end_reason: Option<talktime_domain::call::EndReason>,
}

impl CallHistoryView {
    fn new(entry: HistoryRow, side: Role) -> Self {
        let peer = PeerView { id: entry.peer_id.0, name: entry.peer_name, profile: entry.peer_profile };
        let user_side = side == Role::User;
        let (telecaller, user) = if user_side { (Some(peer), None) } else { (None, Some(peer)) };
        Self {
            id: entry.id.0,
            call_type: entry.call_type,
            status: entry.status,
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
pub struct CallsView {
    pub calls: Vec<CallHistoryView>,
    pub has_more: bool,
}

async fn history(
    state: &AppState,
    account: &talktime_domain::account::Account,
    query: PageQuery,
) -> Result<HttpResponse, ApiError> {
    let page = CALLS_PAGING.request(query.page, query.limit);
    let found = state.calls.history(account, false, page).await?;
    let calls = found.calls.into_iter().map(|c| CallHistoryView::new(c, account.role)).collect();
    Ok(ok("Calls fetched successfully", CallsView { calls, has_more: found.has_more }))
}

/// The user's calls, newest first.
#[utoipa::path(tag = "calls", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Envelope<CallsView>), (status = 400, body = ErrorBody)))]
#[get("/users/calls")]
pub(crate) async fn user_calls(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    history(&state, &user.0, query.0).await
}

/// The calls a telecaller received, newest first.
#[utoipa::path(tag = "calls", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Envelope<CallsView>), (status = 400, body = ErrorBody)))]
#[get("/telecaller/calls")]
pub(crate) async fn telecaller_calls(
    state: web::Data<AppState>,
    telecaller: CurrentTelecaller,
    query: ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    history(&state, &telecaller.0, query.0).await
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// At most 500 characters.
    #[bound(chars(max = 500))]
    pub comment: Option<String>,
    /// 1–5.
    #[bound(range(min = 1, max = 5))]
    pub rating: Option<i32>,
}

/// Feedback on a completed call, once per side.
#[utoipa::path(tag = "calls", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = FeedbackRequest, responses(
    (status = 200, body = Envelope<Option<String>>),
    (status = 400, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
#[post("/calls/{id}/feedback")]
pub(crate) async fn feedback(
    state: web::Data<AppState>,
    account: CurrentAccount,
    path: web::Path<CallId>,
    body: ValidJson<FeedbackRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let comment = body.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    state.calls.feedback(&account.0, path.into_inner(), body.rating, comment).await?;
    Ok(ok("Thank you for your feedback", Option::<String>::None))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// 10–1000 characters.
    #[bound(trimmed(min = 10, max = 1000))]
    pub description: String,
    /// On a chat: the number of the message reported (docs/chat.md).
    #[serde(default, rename = "messageSeq")]
    #[bound(range(min = 1, max = 9_007_199_254_740_991i64))]
    pub message_seq: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportCreatedView {
    pub report_id: Uuid,
}

/// Report the other party of a call that connected, once per call.
#[utoipa::path(tag = "calls", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ReportRequest, responses(
    (status = 200, body = Envelope<ReportCreatedView>),
    (status = 400, body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
#[post("/calls/{id}/report")]
pub(crate) async fn report(
    state: web::Data<AppState>,
    account: CurrentAccount,
    path: web::Path<CallId>,
    body: ValidJson<ReportRequest>,
) -> Result<HttpResponse, ApiError> {
    // Its length was checked once trimmed (`trimmed(10, 1000)`).
    let description = body.0.description.trim().to_owned();
    let report = state.calls.report(&account.0, path.into_inner(), &description, body.0.message_seq).await?;
    Ok(ok("Report submitted", ReportCreatedView { report_id: report.0 }))
}

/// LiveKit's webhooks (signed with the API key and secret: a JWT in `Authorization` whose
/// `sha256` claim is the body's hash). `participant_joined` starts the meter once both parties
/// are in the room, or takes out anyone joining a room that is not theirs; `participant_left`
/// starts that party's media grace. Other events are acknowledged. Events older than five
/// minutes (`createdAt`) are refused; each event id is acted on once.
#[utoipa::path(tag = "calls", request_body = String, responses(
    (status = 200, body = Envelope<Option<String>>),
    (status = 400, description = "Older than five minutes (`stale_webhook`)", body = ErrorBody),
    (status = 401, description = "Bad signature", body = ErrorBody),
))]
#[post("/webhooks/livekit")]
pub(crate) async fn livekit_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: String,
) -> Result<HttpResponse, ApiError> {
    let authorization = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let webhook = state.media_webhooks.read(&body, authorization)?;
    state.calls.media_webhook(webhook).await?;
    Ok(ok("Webhook received", Option::<String>::None))
}
