//! Accounts as admins moderate them: users and telecallers listed and detailed, blocked and unblocked, applications approved or rejected (`/admin/users`, `/admin/telecallers`).

use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::ids::AccountId;
use talktime_domain::page::Page;
use talktime_services::admin::AccountDetail;
use utoipa::ToSchema;
use uuid::Uuid;

use super::rules::ADMIN_PAGING;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, ValidJson, ValidQuery};
use crate::views::{Envelope, ProfileView, ok, profile_reply};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(users)
        .service(user)
        .service(block)
        .service(unblock)
        .service(telecallers)
        .service(telecaller)
        .service(approve)
        .service(reject)
        .service(commission);
}

super::rules::paged_query!(UsersQuery, limit 100, "1–100, default 20." {
    /// Phone or name prefix.
    #[bound(chars(max = 50))]
    search: Option<String>,
});

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountRowView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub phone: String,
    pub name: Option<String>,
    #[schema(inline, example = "FEMALE")]
    pub gender: Option<talktime_domain::account::Gender>,
    #[schema(inline, example = "hindi")]
    pub language: Option<talktime_domain::account::Language>,
    #[schema(inline)]
    pub account_status: talktime_domain::account::AccountStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(inline, example = "PENDING")]
    pub approval_status: Option<talktime_domain::account::ApprovalStatus>,
    pub created_at: DateTime<Utc>,
    /// Telecallers: users' ratings of her calls.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<crate::views::RatingView>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountsView {
    pub users: Vec<AccountRowView>,
    pub total: i64,
    pub total_pages: i64,
}

fn rows(rows: Vec<talktime_domain::account::ListedAccount>) -> Vec<AccountRowView> {
    rows.into_iter()
        .map(|r| AccountRowView {
            rating: r.rating().map(Into::into),
            id: r.id.0,
            phone: r.phone,
            name: crate::views::shown_name(r.name, r.status),
            gender: r.gender,
            language: r.language,
            account_status: r.status,
            approval_status: r.approval_status,
            created_at: r.created_at,
        })
        .collect()
}

/// Users, newest first, optionally by phone or name prefix.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(UsersQuery),
    responses((status = 200, body = Envelope<AccountsView>)))]
#[get("/admin/users")]
pub(crate) async fn users(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<UsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = ADMIN_PAGING.request(query.page, query.limit);
    let Page { rows: found, total } = state.admin.users(query.search.as_deref(), page).await?;
    Ok(ok(
        "Users fetched successfully",
        AccountsView { users: rows(found), total, total_pages: page.total_pages(total) },
    ))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComplaintView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub call_id: Uuid,
    pub reporter_id: Uuid,
    /// The reporter's id (the earlier backend's name).
    pub reported_by: Uuid,
    /// "Deleted User" once the reporter deleted the account.
    pub reported_by_name: Option<String>,
    pub description: String,
    #[schema(inline)]
    pub status: talktime_domain::report::ReportStatus,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountDetailView {
    #[serde(flatten)]
    pub profile: ProfileView,
    pub wallet_balance: i64,
    pub complaints: Vec<ComplaintView>,
    pub total_complaints: i64,
    /// Telecallers: `ONLINE`, `ON_CALL`, `AWAY` or `OFFLINE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presence: Option<String>,
    /// Telecallers: bank details with the account number masked, or `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_details: Option<Option<crate::views::BankDetailsView>>,
}

async fn detail(state: &AppState, id: AccountId) -> Result<AccountDetailView, ApiError> {
    let AccountDetail { account, balance, complaints: Page { rows: complaints, total } } =
        state.admin.account_detail(id).await?;
    let (presence, bank_details) = match account.role {
        talktime_domain::account::Role::Telecaller => (
            Some(state.catalog.presence_of(account.id).await.to_string()),
            Some(state.admin.masked_bank_details(account.id).await?.map(crate::views::BankDetailsView::from)),
        ),
        _ => (None, None),
    };
    let figures = state.accounts.figures(&account).await?;
    let mut profile = ProfileView::new(account, &figures);
    // The panel reads them inside `telecallerProfile`, as the earlier backend put them.
    if let Some(inner) = profile.telecaller_profile.as_mut() {
        inner.presence = presence.clone();
        inner.bank_details = bank_details.clone();
    }
    Ok(AccountDetailView {
        profile,
        wallet_balance: balance,
        complaints: complaints
            .into_iter()
            .map(|c| ComplaintView {
                id: c.id.0,
                call_id: c.call_id.0,
                reporter_id: c.reporter_id.0,
                reported_by: c.reporter_id.0,
                reported_by_name: crate::views::shown_name(c.reporter_name, c.reporter_status),
                description: c.description,
                status: c.status,
                created_at: c.created_at,
            })
            .collect(),
        total_complaints: total,
        presence,
        bank_details,
    })
}

/// An account with its wallet balance and the latest complaints against it.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<AccountDetailView>), (status = 404, body = ErrorBody)))]
#[get("/admin/users/{id}")]
pub(crate) async fn user(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok("User fetched successfully", detail(&state, path.into_inner()).await?))
}

/// Suspend any account: tokens revoked, sockets closed, a live call ended and billed to now.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<ProfileView>), (status = 409, body = ErrorBody)))]
#[post("/admin/users/{id}/block")]
pub(crate) async fn block(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    let account = state.admin.block(admin.0.id, path.into_inner()).await?;
    profile_reply(&state, "Account blocked", account).await
}

/// Reactivate a suspended account.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<ProfileView>), (status = 409, body = ErrorBody)))]
#[post("/admin/users/{id}/unblock")]
pub(crate) async fn unblock(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    let account = state.admin.unblock(admin.0.id, path.into_inner()).await?;
    profile_reply(&state, "Account unblocked", account).await
}

super::rules::paged_query!(TelecallersQuery, limit 100, "1–100, default 20." {
    /// `PENDING`, `APPROVED` or `REJECTED` (required).
    #[garde(skip)]
    #[param(inline)]
    status: talktime_domain::account::ApprovalStatus,
});

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TelecallerRowsView {
    pub telecallers: Vec<AccountRowView>,
    pub total: i64,
    pub total_pages: i64,
}

/// Telecallers by approval status, newest application first.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(TelecallersQuery), responses((status = 200, body = Envelope<TelecallerRowsView>)))]
#[get("/admin/telecallers")]
pub(crate) async fn telecallers(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<TelecallersQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = ADMIN_PAGING.request(query.page, query.limit);
    let Page { rows: found, total } = state.admin.telecallers(query.status, page).await?;
    Ok(ok(
        "Telecallers fetched successfully",
        TelecallerRowsView { telecallers: rows(found), total, total_pages: page.total_pages(total) },
    ))
}

/// A telecaller with profile, presence and complaints.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<AccountDetailView>), (status = 404, body = ErrorBody)))]
#[get("/admin/telecallers/{id}")]
pub(crate) async fn telecaller(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok("Telecaller fetched successfully", detail(&state, path.into_inner()).await?))
}

/// PENDING → APPROVED (409 otherwise); clears the rejection note.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<AccountDetailView>), (status = 409, body = ErrorBody)))]
#[patch("/admin/telecallers/{id}/approve")]
pub(crate) async fn approve(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<AccountId>,
) -> Result<HttpResponse, ApiError> {
    let account = state.admin.approve(admin.0.id, path.into_inner()).await?;
    Ok(ok("Telecaller approved", detail(&state, account.id).await?))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    /// 10–500 characters, shown to the telecaller.
    #[bound(trimmed(min = 10, max = 500))]
    pub reason: String,
}

/// PENDING or APPROVED → REJECTED; an approved telecaller goes offline and her live call ends.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RejectRequest,
    responses((status = 200, body = Envelope<AccountDetailView>), (status = 409, body = ErrorBody)))]
#[patch("/admin/telecallers/{id}/reject")]
pub(crate) async fn reject(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<AccountId>,
    body: ValidJson<RejectRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason.trim().to_owned();
    let account = state.admin.reject(admin.0.id, path.into_inner(), &reason).await?;
    Ok(ok("Telecaller rejected", detail(&state, account.id).await?))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommissionRequest {
    /// The platform's share of what a user pays for her calls (0–100, kept to the hundredth), or
    /// `null` to return her to the platform's per call type. Required.
    #[serde(default, deserialize_with = "super::rules::double_option")]
    #[bound(range(min = 0.0, max = 100.0))]
    #[schema(value_type = Option<f64>, required = true)]
    pub percent: Option<Option<f64>>,
}

/// Set one telecaller's commission (audited); `null` returns her to the platform's. Calls already
/// placed keep theirs.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CommissionRequest,
    responses((status = 200, body = Envelope<Object>), (status = 404, body = ErrorBody)))]
#[put("/admin/telecallers/{id}/commission")]
pub(crate) async fn commission(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<AccountId>,
    body: ValidJson<CommissionRequest>,
) -> Result<HttpResponse, ApiError> {
    let Some(percent) = body.0.percent else { return Err(ApiError::field("percent", "is required")) };
    let commission = percent.map(super::rules::percent_hundredths);
    let id = path.into_inner();
    state.admin.set_commission(admin.0.id, id, commission).await?;
    let view = serde_json::json!({
        "telecallerId": id,
        "commissionPercent": commission.map(crate::views::percent),
    });
    Ok(ok("Commission updated", view))
}
