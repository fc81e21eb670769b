//! Reports of a call's other party, as admins review them (`/admin/reports`).

use actix_web::{HttpResponse, get, patch, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::rules::ADMIN_PAGING;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, ValidJson, ValidQuery};
use crate::views::{Envelope, ok};
use talktime_domain::account::{AccountStatus, Role};
use talktime_domain::report::ReportRow;
use talktime_domain::report::ReportStatus;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(reports).service(report).service(report_status);
}

super::rules::paged_query!(ReportsQuery, limit 100, "1–100, default 20." {
    #[garde(skip)]
    #[param(inline)]
    status: Option<ReportStatus>,
});

/// A party of a report, as the admin panel shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartyView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub name: Option<String>,
    pub phone: String,
    /// `USER` or `TELECALLER`.
    #[schema(inline)]
    pub role: Role,
    /// `ACTIVE`, `SUSPENDED` or `DELETED`.
    #[schema(inline)]
    pub account_status: AccountStatus,
}

impl PartyView {
    fn new(id: Uuid, name: Option<String>, phone: String, role: Role, account_status: AccountStatus) -> Self {
        Self { id, name: crate::views::shown_name(name, account_status), phone, role, account_status }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub call_id: Uuid,
    /// The reporter's id (the earlier backend's name).
    pub reported_by: Uuid,
    pub reported_by_name: Option<String>,
    /// The reported party's id.
    pub reported_against: Uuid,
    pub reported_against_name: Option<String>,
    pub reporter: PartyView,
    pub reported: PartyView,
    pub description: String,
    #[schema(inline)]
    pub status: talktime_domain::report::ReportStatus,
    pub admin_notes: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ReportRow> for ReportView {
    fn from(r: ReportRow) -> Self {
        Self {
            id: r.id.0,
            call_id: r.call_id.0,
            reported_by: r.reporter_id.0,
            reported_by_name: crate::views::shown_name(r.reporter_name.clone(), r.reporter_status),
            reported_against: r.reported_id.0,
            reported_against_name: crate::views::shown_name(r.reported_name.clone(), r.reported_status),
            reporter: PartyView::new(
                r.reporter_id.0,
                r.reporter_name,
                r.reporter_phone,
                r.reporter_role,
                r.reporter_status,
            ),
            reported: PartyView::new(
                r.reported_id.0,
                r.reported_name,
                r.reported_phone,
                r.reported_role,
                r.reported_status,
            ),
            description: r.description,
            status: r.status,
            admin_notes: r.admin_notes,
            resolved_at: r.resolved_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportsView {
    pub reports: Vec<ReportView>,
    pub total: i64,
    pub total_pages: i64,
}

/// Reports, newest first, optionally of one status.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(ReportsQuery),
    responses((status = 200, body = Envelope<ReportsView>)))]
#[get("/admin/reports")]
pub(crate) async fn reports(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<ReportsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = ADMIN_PAGING.request(query.page, query.limit);
    let talktime_domain::page::Page { rows, total } = state.admin.reports(query.status, page).await?;
    Ok(ok(
        "Reports fetched successfully",
        ReportsView {
            reports: rows.into_iter().map(ReportView::from).collect(),
            total,
            total_pages: page.total_pages(total),
        },
    ))
}

/// A report with its call (coins included).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<Object>), (status = 404, body = ErrorBody)))]
#[get("/admin/reports/{id}")]
pub(crate) async fn report(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<talktime_domain::ids::ReportId>,
) -> Result<HttpResponse, ApiError> {
    let talktime_services::reports::ReportDetail { report, call, feedback } =
        state.admin.report(path.into_inner()).await?;
    let call = call.map(|c| {
        let said = |author: Uuid| {
            feedback
                .iter()
                .find(|f| f.author_id.0 == author)
                .map(|f| json!({ "rating": f.rating, "comment": f.comment, "createdAt": f.created_at }))
        };
        json!({
            "_id": c.id.0, "callType": c.call_type, "status": c.status, "endReason": c.end_reason,
            "createdAt": c.created_at, "acceptedAt": c.accepted_at, "endedAt": c.ended_at,
            "durationInSeconds": c.duration_seconds, "coinsSpent": c.coins_spent, "coinsEarned": c.coins_earned,
            "userFeedback": said(c.user_id.0), "telecallerFeedback": said(c.telecaller_id.0),
        })
    });
    let mut view = serde_json::to_value(ReportView::from(report)).unwrap_or_default();
    view["call"] = call.unwrap_or_default();
    Ok(ok("Report fetched successfully", view))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReportStatusRequest {
    /// `UNDER_REVIEW`, `RESOLVED` or `DISMISSED`.
    #[garde(skip)]
    #[schema(inline)]
    pub status: ReportStatus,
    /// At most 2000 characters.
    #[bound(chars(max = 2000))]
    pub admin_notes: Option<String>,
}

/// PENDING → UNDER_REVIEW → RESOLVED / DISMISSED, and back to UNDER_REVIEW (409 otherwise).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ReportStatusRequest,
    responses((status = 200, body = Envelope<ReportView>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/admin/reports/{id}/status")]
pub(crate) async fn report_status(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<talktime_domain::ids::ReportId>,
    body: ValidJson<ReportStatusRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let moved =
        state.admin.move_report(admin.0.id, path.into_inner(), body.status, body.admin_notes.as_deref()).await?;
    Ok(ok("Report updated", ReportView::from(moved)))
}
