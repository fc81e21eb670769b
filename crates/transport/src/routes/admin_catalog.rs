//! `/admin`: plans, prices, reports, live calls and the dashboard.

use actix_web::{HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use talktime_domain::ids::CallId;
use talktime_domain::money::{MAX_COINS_PER_SECOND, MAX_MIN_BALANCE_SECONDS, MAX_SETTING_COINS};
use talktime_services::admin_catalog::{ConfigInput, PlanInput};
use talktime_services::admin_types::{AdminPlan, ReportRow};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::admin_accounts::PageOnly;
use super::rules::{MAX_PAGE, Paging, hundredths, listed, listed_param, one_of, one_of_schema};
use crate::AppState;
use crate::error::{ApiError, ErrorBody, FieldError};
use crate::extract::{CurrentAdmin, ValidJson, ValidQuery};
use crate::views::{Envelope, ok};

const ADMIN_PAGING: Paging = Paging { default_limit: 20, max_limit: 100 };

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list_plans)
        .service(create_plan)
        .service(update_plan)
        .service(delete_plan)
        .service(get_config)
        .service(put_config)
        .service(reports)
        .service(report)
        .service(report_status)
        .service(calls)
        .service(end_call)
        .service(refund_call)
        .service(stats)
        .service(distribution)
        .service(trends);
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::validation(vec![FieldError { field: field.to_owned(), message: message.to_owned() }])
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminPlanView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    /// Rupees.
    pub amount: f64,
    pub coins: i64,
    /// Percent, up to two decimals.
    #[schema(value_type = f64)]
    pub discount_percentage: serde_json::Number,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<AdminPlan> for AdminPlanView {
    fn from(p: AdminPlan) -> Self {
        Self {
            id: p.id,
            amount: p.amount_paise as f64 / 100.0,
            coins: p.coins,
            discount_percentage: crate::views::percent(p.discount_hundredths),
            is_active: p.is_active,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanRequest {
    /// Rupees, at least 0.01, at most 2 decimals.
    #[garde(skip)]
    #[schema(minimum = 0.01, maximum = 10_000_000_000f64)]
    pub amount: Option<f64>,
    /// > 0.
    #[garde(inner(range(min = 1, max = MAX_SETTING_COINS)))]
    #[schema(minimum = 1, maximum = 1_000_000_000_000i64)] // MAX_SETTING_COINS (a test keeps them equal)
    pub coins: Option<i64>,
    /// 0–99 percent, at most 2 decimals.
    #[garde(skip)]
    #[schema(minimum = 0, maximum = 99)]
    pub discount_percentage: Option<f64>,
    #[garde(skip)]
    pub is_active: Option<bool>,
}

impl PlanRequest {
    fn into_input(self) -> Result<PlanInput, ApiError> {
        let amount_paise = match self.amount {
            None => None,
            Some(rupees) => match hundredths(rupees).filter(|paise| (1..=1_000_000_000_000).contains(paise)) {
                Some(paise) => Some(paise),
                None => return Err(invalid("amount", "must be at least 0.01 rupees, with at most 2 decimals")),
            },
        };
        let discount_hundredths = match self.discount_percentage {
            None => None,
            Some(percent) => match hundredths(percent).filter(|h| (0..=9_900).contains(h)) {
                Some(h) => Some(h as i32),
                None => return Err(invalid("discountPercentage", "must be 0 to 99, with at most 2 decimals")),
            },
        };
        Ok(PlanInput { amount_paise, coins: self.coins, discount_hundredths, is_active: self.is_active })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminPlansView {
    pub plans: Vec<AdminPlanView>,
    pub page: u32,
    pub limit: u32,
    pub total: i64,
    pub total_pages: i64,
}

/// The plans (active or not, deleted ones excluded), by price, paged like the other admin lists.
#[utoipa::path(get, path = "/admin/plans", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(PageOnly), responses((status = 200, body = Envelope<AdminPlansView>)))]
#[get("/admin/plans")]
pub(crate) async fn list_plans(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<PageOnly>,
) -> Result<HttpResponse, ApiError> {
    let page = ADMIN_PAGING.request(query.0.page, query.0.limit);
    let (plans, total) = state.admin.plans(page.limit(), page.offset()).await?;
    Ok(ok(
        "Plans fetched successfully",
        AdminPlansView {
            plans: plans.into_iter().map(AdminPlanView::from).collect(),
            page: page.page,
            limit: page.limit,
            total,
            total_pages: page.total_pages(total),
        },
    ))
}

/// Create a plan: `amount` > 0 rupees, `coins` > 0, `discountPercentage` 0–99.
#[utoipa::path(post, path = "/admin/plans", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    request_body = PlanRequest, responses((status = 201, body = Envelope<AdminPlanView>), (status = 400, body = ErrorBody)))]
#[post("/admin/plans")]
pub(crate) async fn create_plan(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    body: ValidJson<PlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0.into_input()?;
    if input.amount_paise.is_none() {
        return Err(invalid("amount", "is required"));
    }
    if input.coins.is_none() {
        return Err(invalid("coins", "is required"));
    }
    let plan = state.admin.create_plan(admin.0.id, input).await?;
    Ok(HttpResponse::Created().json(Envelope {
        success: true,
        message: "Plan created".into(),
        data: AdminPlanView::from(plan),
    }))
}

/// Update any field of a plan, `isActive` included.
#[utoipa::path(put, path = "/admin/plans/{id}", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PlanRequest,
    responses((status = 200, body = Envelope<AdminPlanView>), (status = 404, body = ErrorBody)))]
#[put("/admin/plans/{id}")]
pub(crate) async fn update_plan(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<Uuid>,
    body: ValidJson<PlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let plan = state.admin.update_plan(admin.0.id, path.into_inner(), body.0.into_input()?).await?;
    Ok(ok("Plan updated", AdminPlanView::from(plan)))
}

/// Soft-delete a plan (it disappears from every list; past recharges keep it).
#[utoipa::path(delete, path = "/admin/plans/{id}", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<Option<String>>), (status = 404, body = ErrorBody)))]
#[delete("/admin/plans/{id}")]
pub(crate) async fn delete_plan(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state.admin.delete_plan(admin.0.id, path.into_inner()).await?;
    Ok(ok("Plan deleted", Option::<String>::None))
}

fn leaf(value: serde_json::Value, label: &str, description: &str) -> serde_json::Value {
    json!({ "value": value, "label": label, "description": description })
}

fn config_view(c: &talktime_services::admin_types::AppConfig) -> serde_json::Value {
    json!({
        "withdrawal": {
            "inrToCoinRatio": leaf(json!(c.inr_to_coin_ratio_hundredths as f64 / 100.0), "Coins per rupee", "How many coins make one rupee when a telecaller withdraws"),
            "minWithdrawalCoins": leaf(json!(c.min_withdrawal_coins), "Minimum withdrawal", "The fewest coins a telecaller may withdraw at once"),
        },
        "videoCall": {
            "userCoinPerSec": leaf(json!(c.user_video_coins_per_sec), "User video rate", "Coins per second a user pays for a video call"),
            "telecallerCoinPerSec": leaf(json!(c.telecaller_video_coins_per_sec), "Telecaller video earning", "Coins per second a telecaller earns on a video call"),
        },
        "audioCall": {
            "userCoinPerSec": leaf(json!(c.user_audio_coins_per_sec), "User audio rate", "Coins per second a user pays for an audio call"),
            "telecallerCoinPerSec": leaf(json!(c.telecaller_audio_coins_per_sec), "Telecaller audio earning", "Coins per second a telecaller earns on an audio call"),
        },
        "call": {
            "minBalanceSeconds": leaf(json!(c.min_call_balance_seconds), "Minimum call balance", "Seconds of talk a user must afford to start a call"),
        },
        "updatedAt": c.updated_at,
    })
}

/// The prices, grouped, each with a label and a description.
#[utoipa::path(get, path = "/admin/config", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/config")]
pub(crate) async fn get_config(state: web::Data<AppState>, _admin: CurrentAdmin) -> Result<HttpResponse, ApiError> {
    Ok(ok("Config fetched successfully", config_view(&state.admin.config().await?)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigRequest {
    /// ≥ 0.01.
    #[garde(skip)]
    #[schema(minimum = 0.01, maximum = 1_000_000_000f64)]
    pub inr_to_coin_ratio: Option<f64>,
    #[garde(inner(range(min = 1, max = MAX_SETTING_COINS)))]
    #[schema(minimum = 1, maximum = 1_000_000_000_000i64)] // MAX_SETTING_COINS (a test keeps them equal)
    pub min_withdrawal_coins: Option<i64>,
    #[garde(inner(range(min = 1, max = MAX_COINS_PER_SECOND)))]
    #[schema(minimum = 1, maximum = 1_000_000)] // MAX_COINS_PER_SECOND
    pub user_video_call_coin_per_sec: Option<i64>,
    #[garde(inner(range(min = 1, max = MAX_COINS_PER_SECOND)))]
    #[schema(minimum = 1, maximum = 1_000_000)] // MAX_COINS_PER_SECOND
    pub user_audio_call_coin_per_sec: Option<i64>,
    #[garde(inner(range(min = 1, max = MAX_COINS_PER_SECOND)))]
    #[schema(minimum = 1, maximum = 1_000_000)] // MAX_COINS_PER_SECOND
    pub telecaller_video_call_coin_per_sec: Option<i64>,
    #[garde(inner(range(min = 1, max = MAX_COINS_PER_SECOND)))]
    #[schema(minimum = 1, maximum = 1_000_000)] // MAX_COINS_PER_SECOND
    pub telecaller_audio_call_coin_per_sec: Option<i64>,
    #[garde(inner(range(min = 1, max = MAX_MIN_BALANCE_SECONDS)))]
    #[schema(minimum = 1, maximum = 86_400)] // MAX_MIN_BALANCE_SECONDS
    pub min_call_balance_seconds: Option<i64>,
}

/// Change prices (the flat keys the admin panel sends, at least one). New prices apply to calls
/// that start afterwards.
#[utoipa::path(put, path = "/admin/config", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    request_body = ConfigRequest, responses((status = 200, body = Envelope<Object>), (status = 400, body = ErrorBody)))]
#[put("/admin/config")]
pub(crate) async fn put_config(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    body: ValidJson<ConfigRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let ratio = match b.inr_to_coin_ratio {
        None => None,
        Some(r) if (0.01..=1e9).contains(&r) => Some((r * 100.0).round() as i64),
        Some(_) => return Err(invalid("inrToCoinRatio", "must be at least 0.01")),
    };
    let input = ConfigInput {
        inr_to_coin_ratio_hundredths: ratio,
        min_withdrawal_coins: b.min_withdrawal_coins,
        user_video_coins_per_sec: b.user_video_call_coin_per_sec,
        user_audio_coins_per_sec: b.user_audio_call_coin_per_sec,
        telecaller_video_coins_per_sec: b.telecaller_video_call_coin_per_sec,
        telecaller_audio_coins_per_sec: b.telecaller_audio_call_coin_per_sec,
        min_call_balance_seconds: b.min_call_balance_seconds,
    };
    if input.is_empty() {
        return Err(ApiError::validation(vec![FieldError {
            field: "body".into(),
            message: "give at least one setting".into(),
        }]));
    }
    let saved = state.admin.update_config(admin.0.id, input).await?;
    Ok(ok("Config updated", config_view(&saved)))
}

const REPORT_STATUSES: &[&str] = &["PENDING", "UNDER_REVIEW", "RESOLVED", "DISMISSED"];
listed_param!(ReportStatuses, REPORT_STATUSES);
listed_param!(CallStatuses, talktime_domain::call::CallStatus::ALL);

fn report_status_schema() -> utoipa::openapi::Object {
    one_of_schema(REPORT_STATUSES)
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportsQuery {
    #[garde(inner(custom(listed(REPORT_STATUSES))))]
    #[param(value_type = Option<ReportStatuses>, inline)]
    pub status: Option<String>,
    #[garde(inner(range(min = 1, max = MAX_PAGE)))]
    #[param(minimum = 1, maximum = 1_000_000)] // MAX_PAGE
    pub page: Option<u32>,
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A party of a report, as the admin panel shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PartyView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub name: Option<String>,
    pub phone: String,
    /// `USER` or `TELECALLER`.
    pub role: String,
    /// `ACTIVE`, `SUSPENDED` or `DELETED`.
    pub account_status: String,
}

impl PartyView {
    fn new(id: Uuid, name: Option<String>, phone: String, role: String, account_status: String) -> Self {
        Self { id, name: crate::views::shown_name(name, &account_status), phone, role, account_status }
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
    pub status: String,
    pub admin_notes: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ReportRow> for ReportView {
    fn from(r: ReportRow) -> Self {
        Self {
            id: r.id,
            call_id: r.call_id,
            reported_by: r.reporter_id,
            reported_by_name: crate::views::shown_name(r.reporter_name.clone(), &r.reporter_status),
            reported_against: r.reported_id,
            reported_against_name: crate::views::shown_name(r.reported_name.clone(), &r.reported_status),
            reporter: PartyView::new(
                r.reporter_id,
                r.reporter_name,
                r.reporter_phone,
                r.reporter_role,
                r.reporter_status,
            ),
            reported: PartyView::new(
                r.reported_id,
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
#[utoipa::path(get, path = "/admin/reports", tag = "admin", security(("cookie" = []), ("bearer" = [])), params(ReportsQuery),
    responses((status = 200, body = Envelope<ReportsView>)))]
#[get("/admin/reports")]
pub(crate) async fn reports(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<ReportsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = ADMIN_PAGING.request(query.page, query.limit);
    let (rows, total) = state.admin.reports(query.status.as_deref(), page.limit(), page.offset()).await?;
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
#[utoipa::path(get, path = "/admin/reports/{id}", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<Object>), (status = 404, body = ErrorBody)))]
#[get("/admin/reports/{id}")]
pub(crate) async fn report(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (report, call, feedback) = state.admin.report(path.into_inner()).await?;
    let call = call.map(|c| {
        let said = |author: Uuid| {
            feedback
                .iter()
                .find(|f| f.author_id == author)
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

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReportStatusRequest {
    /// `UNDER_REVIEW`, `RESOLVED` or `DISMISSED`.
    #[garde(custom(listed(REPORT_STATUSES)))]
    #[schema(schema_with = report_status_schema)]
    pub status: String,
    /// At most 2000 characters.
    #[garde(inner(length(chars, max = 2000)))]
    #[schema(max_length = 2000)]
    pub admin_notes: Option<String>,
}

/// PENDING → UNDER_REVIEW → RESOLVED / DISMISSED, and back to UNDER_REVIEW (409 otherwise).
#[utoipa::path(patch, path = "/admin/reports/{id}/status", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = ReportStatusRequest,
    responses((status = 200, body = Envelope<ReportView>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[patch("/admin/reports/{id}/status")]
pub(crate) async fn report_status(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<Uuid>,
    body: ValidJson<ReportStatusRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let moved =
        state.admin.move_report(admin.0.id, path.into_inner(), &body.status, body.admin_notes.as_deref()).await?;
    Ok(ok("Report updated", ReportView::from(moved)))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CallsQuery {
    /// A call status; `ACCEPTED` lists live calls.
    #[garde(inner(custom(one_of::<talktime_domain::call::CallStatus>)))]
    #[param(value_type = Option<CallStatuses>, inline)]
    pub status: Option<String>,
    #[garde(inner(range(min = 1, max = MAX_PAGE)))]
    #[param(minimum = 1, maximum = 1_000_000)] // MAX_PAGE
    pub page: Option<u32>,
    #[garde(inner(range(min = 1, max = 100)))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Calls, newest first; live ones carry `elapsedSeconds` and `coinsSoFar`.
#[utoipa::path(get, path = "/admin/calls", tag = "admin", security(("cookie" = []), ("bearer" = [])), params(CallsQuery),
    responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/calls")]
pub(crate) async fn calls(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<CallsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = ADMIN_PAGING.request(query.page, query.limit);
    let (rows, total) = state.admin.calls(query.status.as_deref(), page.limit(), page.offset()).await?;
    let calls: Vec<_> = rows
        .into_iter()
        .map(|c| {
            json!({
                "_id": c.id, "callType": c.call_type, "status": c.status, "endReason": c.end_reason,
                "user": { "_id": c.user_id, "name": c.user_name },
                "telecaller": { "_id": c.telecaller_id, "name": c.telecaller_name },
                "createdAt": c.created_at, "acceptedAt": c.accepted_at, "endedAt": c.ended_at,
                "durationInSeconds": c.duration_seconds, "coinsSpent": c.coins_spent, "coinsEarned": c.coins_earned,
                "elapsedSeconds": c.elapsed_seconds,
                "coinsSoFar": c.elapsed_seconds.map(|s| s * c.user_rate),
            })
        })
        .collect();
    Ok(ok(
        "Calls fetched successfully",
        json!({ "calls": calls, "total": total, "totalPages": page.total_pages(total) }),
    ))
}

/// End a live call now (reason `ADMIN`), billed to this moment.
#[utoipa::path(post, path = "/admin/calls/{id}/end", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<Object>), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/calls/{id}/end")]
pub(crate) async fn end_call(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let ended = state.admin.end_call(admin.0.id, CallId(path.into_inner())).await?;
    Ok(ok(
        "Call ended",
        json!({ "_id": ended.id.0, "status": ended.status, "endReason": ended.end_reason,
                "durationInSeconds": ended.duration_seconds, "coinsSpent": ended.coins_spent }),
    ))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Coins to give back: at least 1, at most what the call cost.
    #[garde(range(min = 1))]
    #[schema(minimum = 1)]
    pub coins: i64,
    /// Why (for the audit log), 5–500 characters.
    #[garde(custom(super::rules::trimmed(5, 500)))]
    #[schema(min_length = 5, max_length = 500)]
    pub reason: String,
}

/// Refund coins of a completed call to its user, once per call: the telecaller gives back her
/// share as far as her wallet allows, revenue the rest (`REFUND` journal, audited).
#[utoipa::path(post, path = "/admin/calls/{id}/refund", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = RefundRequest, responses(
    (status = 200, body = Envelope<Object>),
    (status = 400, description = "Not a completed paid call, or more than it cost", body = ErrorBody),
    (status = 404, body = ErrorBody),
    (status = 409, description = "Refunded already", body = ErrorBody)))]
#[post("/admin/calls/{id}/refund")]
pub(crate) async fn refund_call(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<Uuid>,
    body: ValidJson<RefundRequest>,
) -> Result<HttpResponse, ApiError> {
    let RefundRequest { coins, reason } = body.0;
    let refund = state.admin.refund_call(admin.0.id, CallId(path.into_inner()), coins, reason.trim()).await?;
    Ok(ok(
        "Call refunded",
        json!({ "callId": refund.call.0, "coins": refund.coins, "fromTelecaller": refund.from_telecaller,
                "fromRevenue": refund.from_revenue, "userBalance": refund.user_balance,
                "telecallerBalance": refund.telecaller_balance }),
    ))
}

fn rupees(paise: i64) -> f64 {
    paise as f64 / 100.0
}

/// Revenue (rupees), users, telecallers, calls, and coins from the ledger.
#[utoipa::path(get, path = "/admin/dashboard/stats", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/dashboard/stats")]
pub(crate) async fn stats(state: web::Data<AppState>, _admin: CurrentAdmin) -> Result<HttpResponse, ApiError> {
    let s = state.admin.stats().await?;
    let average = if s.completed_calls > 0 { s.call_seconds / s.completed_calls } else { 0 };
    Ok(ok(
        "Stats fetched successfully",
        json!({
            "revenue": {
                "totalRecharges": rupees(s.recharge_paise),
                "totalWithdrawals": rupees(s.withdrawal_paise),
                "platformProfit": rupees(s.recharge_paise - s.withdrawal_paise),
            },
            "users": { "total": s.users_total, "newThisMonth": s.users_new_this_month, "incompleteProfiles": s.incomplete_profiles },
            "telecallers": { "total": s.telecallers_total, "approved": s.telecallers_approved, "pending": s.telecallers_pending, "rejected": s.telecallers_rejected },
            "calls": { "total": s.calls_total, "totalDurationMinutes": s.call_seconds / 60, "averageDurationSeconds": average },
            "coins": { "inWallets": s.coins_in_wallets, "heldForWithdrawal": s.coins_held, "platformEarned": s.coins_earned_by_platform },
        }),
    ))
}

const DISTRIBUTION_PERIODS: &[&str] = &["today", "last7days", "last30days", "all"];
const TREND_PERIODS: &[&str] = &["last24hours", "last7days", "last30days"];
listed_param!(DistributionPeriods, DISTRIBUTION_PERIODS);
listed_param!(TrendPeriods, TREND_PERIODS);

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DistributionQuery {
    /// `today`, `last7days`, `last30days` or `all`.
    #[garde(custom(listed(DISTRIBUTION_PERIODS)))]
    #[param(value_type = DistributionPeriods, inline)]
    pub period: String,
}

/// Users and telecallers created in the period (UTC days).
#[utoipa::path(get, path = "/admin/dashboard/user-distribution", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(DistributionQuery), responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/dashboard/user-distribution")]
pub(crate) async fn distribution(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<DistributionQuery>,
) -> Result<HttpResponse, ApiError> {
    let (users, telecallers) = state.admin.distribution(&query.0.period).await?;
    Ok(ok("Distribution fetched successfully", json!({ "users": users, "telecallers": telecallers })))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendsQuery {
    /// `last24hours` (24 hourly points), `last7days` or `last30days` (daily points).
    #[garde(custom(listed(TREND_PERIODS)))]
    #[param(value_type = TrendPeriods, inline)]
    pub period: String,
}

/// Successful recharges and withdrawals (rupees) per UTC hour or day.
#[utoipa::path(get, path = "/admin/dashboard/recharge-withdrawal-trends", tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(TrendsQuery), responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/dashboard/recharge-withdrawal-trends")]
pub(crate) async fn trends(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<TrendsQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = query.0.period;
    let hourly = period == "last24hours";
    let points: Vec<_> = state
        .admin
        .trends(&period)
        .await?
        .into_iter()
        .map(|(start, recharge, withdrawal)| {
            let label =
                if hourly { start.format("%Y-%m-%dT%H:00Z").to_string() } else { start.format("%Y-%m-%d").to_string() };
            json!({ "label": label, "recharge": rupees(recharge), "withdrawal": rupees(withdrawal) })
        })
        .collect();
    Ok(ok("Trends fetched successfully", json!({ "period": period, "trends": points })))
}
