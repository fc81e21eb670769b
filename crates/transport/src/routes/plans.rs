//! Coin packs: the admins' catalog (`/admin/plans`), audited; users list them at `/users/plans`.

use actix_web::{HttpResponse, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::rules::{ADMIN_PAGING, AdminPage, hundredths};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, ValidJson, ValidQuery};
use crate::views::{Envelope, PlanView, ok};
use talktime_domain::ids::PlanId;
use talktime_domain::plan::Plan;
use talktime_services::plans::PlanInput;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_plans).service(create_plan).service(update_plan).service(delete_plan);
}

/// A plan as admins see it: what users see, and whether it is offered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminPlanView {
    #[serde(flatten)]
    pub plan: PlanView,
    pub is_active: bool,
    pub updated_at: DateTime<Utc>,
}

impl From<Plan> for AdminPlanView {
    fn from(p: Plan) -> Self {
        Self { is_active: p.is_active, updated_at: p.updated_at, plan: PlanView::from(p) }
    }
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlanRequest {
    /// Rupees, at least 0.01, at most 2 decimals.
    #[garde(skip)]
    #[schema(minimum = 0.01, maximum = 10_000_000_000f64)]
    pub amount: Option<f64>,
    /// > 0.
    #[bound(range(min = 1, max = 1_000_000_000_000i64))]
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
                None => return Err(ApiError::field("amount", "must be at least 0.01 rupees, with at most 2 decimals")),
            },
        };
        let discount_hundredths = match self.discount_percentage {
            None => None,
            Some(percent) => match hundredths(percent).filter(|h| (0..=9_900).contains(h)) {
                Some(h) => Some(h as i32),
                None => return Err(ApiError::field("discountPercentage", "must be 0 to 99, with at most 2 decimals")),
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
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(AdminPage), responses((status = 200, body = Envelope<AdminPlansView>)))]
#[get("/admin/plans")]
pub(crate) async fn list_plans(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<AdminPage>,
) -> Result<HttpResponse, ApiError> {
    let page = ADMIN_PAGING.request(query.0.page, query.0.limit);
    let talktime_domain::page::Page { rows: plans, total } = state.admin.plans(page).await?;
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
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    request_body = PlanRequest, responses((status = 201, body = Envelope<AdminPlanView>), (status = 400, body = ErrorBody)))]
#[post("/admin/plans")]
pub(crate) async fn create_plan(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    body: ValidJson<PlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let input = body.0.into_input()?;
    if input.amount_paise.is_none() {
        return Err(ApiError::field("amount", "is required"));
    }
    if input.coins.is_none() {
        return Err(ApiError::field("coins", "is required"));
    }
    let plan = state.admin.create_plan(admin.0.id, input).await?;
    Ok(HttpResponse::Created().json(Envelope {
        success: true,
        message: "Plan created".into(),
        data: AdminPlanView::from(plan),
    }))
}

/// Update any field of a plan, `isActive` included.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PlanRequest,
    responses((status = 200, body = Envelope<AdminPlanView>), (status = 404, body = ErrorBody)))]
#[put("/admin/plans/{id}")]
pub(crate) async fn update_plan(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<PlanId>,
    body: ValidJson<PlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let plan = state.admin.update_plan(admin.0.id, path.into_inner(), body.0.into_input()?).await?;
    Ok(ok("Plan updated", AdminPlanView::from(plan)))
}

/// Soft-delete a plan (it disappears from every list; past recharges keep it).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Envelope<Option<String>>), (status = 404, body = ErrorBody)))]
#[delete("/admin/plans/{id}")]
pub(crate) async fn delete_plan(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<PlanId>,
) -> Result<HttpResponse, ApiError> {
    state.admin.delete_plan(admin.0.id, path.into_inner()).await?;
    Ok(ok("Plan deleted", Option::<String>::None))
}
