//! Admins and calls (`/admin/calls`): the list with live billing, ending a call, refunding one;
//! and the feedback left on calls (`/admin/feedback`), whose ratings an admin may hide.

use actix_web::{HttpResponse, get, patch, post, web};
use garde::Validate;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::rules::ADMIN_PAGING;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, ValidJson, ValidQuery};
use crate::views::ok;
use talktime_domain::ids::CallId;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(calls).service(end_call).service(refund_call).service(hide_feedback);
}

super::rules::paged_query!(CallsQuery, limit 100, "1–100, default 20." {
    /// A call status; `ACCEPTED` lists live calls.
    #[garde(skip)]
    #[param(inline)]
    status: Option<talktime_domain::call::CallStatus>,
});

/// Calls, newest first; live ones carry `elapsedSeconds` and `coinsSoFar`.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(CallsQuery),
    responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/calls")]
pub(crate) async fn calls(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<CallsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = ADMIN_PAGING.request(query.page, query.limit);
    let talktime_domain::page::Page { rows, total } = state.admin.calls(query.status, false, page).await?;
    let calls: Vec<_> = rows.into_iter().map(admin_row).collect();
    Ok(ok(
        "Calls fetched successfully",
        json!({ "calls": calls, "total": total, "totalPages": page.total_pages(total) }),
    ))
}

/// A call or chat in the admins' list.
pub(super) fn admin_row(c: talktime_domain::call::AdminCallRow) -> serde_json::Value {
    json!({
        "_id": c.id, "callType": c.call_type, "status": c.status, "endReason": c.end_reason,
        "user": { "_id": c.user_id, "name": c.user_name },
        "telecaller": { "_id": c.telecaller_id, "name": c.telecaller_name },
        "createdAt": c.created_at, "acceptedAt": c.accepted_at, "endedAt": c.ended_at,
        "durationInSeconds": c.duration_seconds, "coinsSpent": c.coins_spent, "coinsEarned": c.coins_earned,
        "elapsedSeconds": c.elapsed_seconds,
        "coinsSoFar": c.elapsed_seconds.map(|s| s * c.user_rate),
    })
}

/// End a live call now (reason `ADMIN`), billed to this moment.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<Object>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/calls/{id}/end")]
pub(crate) async fn end_call(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<CallId>,
) -> Result<HttpResponse, ApiError> {
    let ended = state.admin.end_call(admin.0.id, path.into_inner(), false).await?;
    Ok(ok(
        "Call ended",
        json!({ "_id": ended.id.0, "status": ended.status, "endReason": ended.end_reason,
                "durationInSeconds": ended.duration_seconds, "coinsSpent": ended.coins_spent }),
    ))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Coins to give back: at least 1, at most what the call cost.
    #[bound(range(min = 1))]
    pub coins: i64,
    /// Why (for the audit log), 5–500 characters.
    #[bound(trimmed(min = 5, max = 500))]
    pub reason: String,
}

/// Refund coins of a completed call to its user, once per call: the telecaller gives back her
/// share as far as her wallet allows, revenue the rest (`REFUND` journal, audited).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RefundRequest, responses(
    (status = 200, body = Envelope<Object>),
    (status = 400, description = "Not a completed paid call, or more than it cost", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "Refunded already", body = ErrorBody)))]
#[post("/admin/calls/{id}/refund")]
pub(crate) async fn refund_call(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<CallId>,
    body: ValidJson<RefundRequest>,
) -> Result<HttpResponse, ApiError> {
    let RefundRequest { coins, reason } = body.0;
    let refund = state.admin.refund_call(admin.0.id, path.into_inner(), coins, reason.trim()).await?;
    Ok(ok(
        "Call refunded",
        json!({ "callId": refund.call.0, "coins": refund.coins, "fromTelecaller": refund.from_telecaller,
                "fromRevenue": refund.from_revenue, "userBalance": refund.user_balance,
                "telecallerBalance": refund.telecaller_balance }),
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HideFeedbackRequest {
    /// `true` hides the feedback (its rating stops counting on the telecaller's card), `false`
    /// shows it again.
    #[garde(skip)]
    pub hidden: bool,
}

/// Hide or show one side's feedback on a call (audited). A user's hidden rating stops counting
/// on the telecaller's card; repeating the same request changes nothing.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("callId" = Uuid, Path), ("authorId" = Uuid, Path, description = "Who wrote the feedback")),
    request_body = HideFeedbackRequest, responses(
    (status = 200, body = Envelope<Object>),
    (status = 404, description = "No such feedback", body = ErrorBody)))]
#[patch("/admin/feedback/{callId}/{authorId}")]
pub(crate) async fn hide_feedback(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<(CallId, talktime_domain::ids::AccountId)>,
    body: ValidJson<HideFeedbackRequest>,
) -> Result<HttpResponse, ApiError> {
    let (call, author) = path.into_inner();
    let hidden = body.0.hidden;
    state.admin.hide_feedback(admin.0.id, call, author, hidden).await?;
    Ok(ok(
        if hidden { "Feedback hidden" } else { "Feedback shown" },
        json!({ "callId": call, "authorId": author, "hidden": hidden }),
    ))
}
