//! Coupons: admins create, list, inspect and edit them (`/admin/coupons`, audited); users preview
//! one against a plan (`/users/coupons/check`) before applying it with `couponCode` on
//! `/payment/create-order`.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::coupon::CouponSettings;
use talktime_domain::coupon::{Coupon, CouponKind, Redemption, RedemptionStatus};
use talktime_domain::ids::PlanId;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::rules::{ADMIN_PAGING, AdminPage, double_option};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, CurrentUser, ValidJson, ValidQuery};
use crate::views::{Envelope, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create).service(list).service(detail).service(edit).service(check);
}

/// Letters, digits, `-` and `_`.
fn code_rule(value: &str, _: &()) -> garde::Result {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(())
    } else {
        Err(garde::Error::new("only letters, digits, - and _"))
    }
}

/// A coupon as admins see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub code: String,
    #[schema(inline)]
    pub kind: CouponKind,
    /// Coins (`BONUS_COINS`) or a whole percent.
    pub value: i64,
    pub max_redemptions: Option<i32>,
    pub per_user_limit: i32,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub new_users_only: bool,
    /// Plans it applies to (empty: all).
    pub plan_ids: Vec<Uuid>,
    pub is_active: bool,
    /// Redemptions reserved by open orders or consumed.
    pub redemptions: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Coupon> for CouponView {
    fn from(c: Coupon) -> Self {
        Self {
            id: c.id,
            code: c.code,
            kind: c.kind,
            value: c.value,
            max_redemptions: c.max_redemptions,
            per_user_limit: c.per_user_limit,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            new_users_only: c.new_users_only,
            plan_ids: c.plan_ids,
            is_active: c.is_active,
            redemptions: c.used,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateCouponRequest {
    /// 3–32 letters, digits, `-`, `_`; matched whatever the case.
    #[garde(custom(code_rule))]
    #[bound(chars(min = 3, max = 32))]
    pub code: String,
    #[garde(skip)]
    #[schema(inline)]
    pub kind: CouponKind,
    /// Coins for `BONUS_COINS`; a whole percent for `BONUS_PERCENT` (≤ 100) and
    /// `DISCOUNT_PERCENT` (≤ 99).
    #[bound(range(min = 1, max = 1_000_000_000))]
    pub value: i64,
    /// Redemptions in all (absent: no limit).
    #[bound(range(min = 1, max = 100_000_000))]
    pub max_redemptions: Option<i32>,
    /// Redemptions per user (default 1).
    #[bound(range(min = 1, max = 1_000))]
    pub per_user_limit: Option<i32>,
    #[garde(skip)]
    pub valid_from: Option<DateTime<Utc>>,
    #[garde(skip)]
    pub valid_until: Option<DateTime<Utc>>,
    /// Only for users who never recharged.
    #[garde(skip)]
    pub new_users_only: Option<bool>,
    /// Only for these plans (absent or empty: all).
    #[garde(length(max = 100))]
    pub plan_ids: Option<Vec<Uuid>>,
}

/// Create a coupon (audited `coupon.create`); 409 `coupon_code_taken`.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), request_body = CreateCouponRequest,
    responses((status = 201, body = Envelope<CouponView>), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/admin/coupons")]
pub(crate) async fn create(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    body: ValidJson<CreateCouponRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let settings = CouponSettings {
        code: b.code.trim().to_owned(),
        kind: b.kind,
        value: b.value,
        max_redemptions: b.max_redemptions,
        per_user_limit: b.per_user_limit.unwrap_or(1),
        valid_from: b.valid_from,
        valid_until: b.valid_until,
        new_users_only: b.new_users_only.unwrap_or(false),
        plan_ids: b.plan_ids.unwrap_or_default(),
        is_active: true,
    };
    let coupon = state.coupons.create(admin.0.id, settings).await?;
    Ok(HttpResponse::Created().json(Envelope {
        success: true,
        message: "Coupon created".into(),
        data: CouponView::from(coupon),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponsView {
    pub coupons: Vec<CouponView>,
    pub total: i64,
    pub total_pages: i64,
}

/// Coupons, newest first.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(AdminPage),
    responses((status = 200, body = Envelope<CouponsView>)))]
#[get("/admin/coupons")]
pub(crate) async fn list(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<AdminPage>,
) -> Result<HttpResponse, ApiError> {
    let page = ADMIN_PAGING.request(query.0.page, query.0.limit);
    let found = state.coupons.list(page.limit(), page.offset()).await?;
    let view = CouponsView {
        coupons: found.rows.into_iter().map(CouponView::from).collect(),
        total: found.total,
        total_pages: page.total_pages(found.total),
    };
    Ok(ok("Coupons fetched successfully", view))
}

/// One redemption: who, which order, where it stands, what it gave.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RedemptionView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub user_id: Uuid,
    pub transaction_id: Uuid,
    #[schema(inline)]
    pub status: RedemptionStatus,
    /// Paise off the order.
    pub discount: i64,
    pub bonus_coins: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Redemption> for RedemptionView {
    fn from(r: Redemption) -> Self {
        Self {
            id: r.id,
            user_id: r.account_id.0,
            transaction_id: r.transaction_id.0,
            status: r.status,
            discount: r.discount_paise,
            bonus_coins: r.bonus_coins,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponDetailView {
    pub coupon: CouponView,
    /// Its redemptions, newest first (paged by `page`, `limit`).
    pub redemptions: Vec<RedemptionView>,
    pub total: i64,
    pub total_pages: i64,
}

/// One coupon and its redemptions.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(("id" = Uuid, Path), AdminPage),
    responses((status = 200, body = Envelope<CouponDetailView>), (status = 404, body = ErrorBody)))]
#[get("/admin/coupons/{id}")]
pub(crate) async fn detail(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<Uuid>,
    query: ValidQuery<AdminPage>,
) -> Result<HttpResponse, ApiError> {
    let page = ADMIN_PAGING.request(query.0.page, query.0.limit);
    let (coupon, found) = state.coupons.detail(path.into_inner(), page.limit(), page.offset()).await?;
    let view = CouponDetailView {
        coupon: coupon.into(),
        redemptions: found.rows.into_iter().map(RedemptionView::from).collect(),
        total: found.total,
        total_pages: page.total_pages(found.total),
    };
    Ok(ok("Coupon fetched successfully", view))
}

/// What to change; absent fields stay, `null` clears a limit or a date.
#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EditCouponRequest {
    #[garde(inner(custom(code_rule)))]
    #[bound(chars(min = 3, max = 32))]
    pub code: Option<String>,
    #[bound(range(min = 1, max = 1_000_000_000))]
    pub value: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[bound(range(min = 1, max = 100_000_000))]
    #[schema(value_type = Option<i32>)]
    pub max_redemptions: Option<Option<i32>>,
    #[bound(range(min = 1, max = 1_000))]
    pub per_user_limit: Option<i32>,
    #[serde(default, deserialize_with = "double_option")]
    #[garde(skip)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_from: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[garde(skip)]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub valid_until: Option<Option<DateTime<Utc>>>,
    #[garde(skip)]
    pub new_users_only: Option<bool>,
    #[garde(inner(length(max = 100)))]
    pub plan_ids: Option<Vec<Uuid>>,
    /// `false` deactivates it (a coupon is never deleted: its redemptions stay).
    #[garde(skip)]
    pub is_active: Option<bool>,
}

/// Edit a coupon, or deactivate it with `isActive: false` (audited `coupon.update`).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(("id" = Uuid, Path)),
    request_body = EditCouponRequest,
    responses((status = 200, body = Envelope<CouponView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`coupon_code_taken`", body = ErrorBody)))]
#[patch("/admin/coupons/{id}")]
pub(crate) async fn edit(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<Uuid>,
    body: ValidJson<EditCouponRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let coupon = state
        .coupons
        .update(admin.0.id, path.into_inner(), move |s| {
            if let Some(code) = b.code {
                s.code = code.trim().to_owned();
            }
            s.value = b.value.unwrap_or(s.value);
            s.max_redemptions = b.max_redemptions.unwrap_or(s.max_redemptions);
            s.per_user_limit = b.per_user_limit.unwrap_or(s.per_user_limit);
            s.valid_from = b.valid_from.unwrap_or(s.valid_from);
            s.valid_until = b.valid_until.unwrap_or(s.valid_until);
            s.new_users_only = b.new_users_only.unwrap_or(s.new_users_only);
            if let Some(plans) = b.plan_ids {
                s.plan_ids = plans;
            }
            s.is_active = b.is_active.unwrap_or(s.is_active);
        })
        .await?;
    Ok(ok("Coupon updated", CouponView::from(coupon)))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CheckCouponRequest {
    #[bound(trimmed(min = 1, max = 32))]
    pub code: String,
    #[garde(skip)]
    #[schema(inline)]
    pub plan_id: PlanId,
}

/// What a coupon does to a plan's order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CouponQuoteView {
    pub code: String,
    #[schema(inline)]
    pub kind: CouponKind,
    pub value: i64,
    pub plan_id: Uuid,
    /// The plan's price after its own discount, in paise.
    pub original_amount: i64,
    /// Paise off.
    pub discount: i64,
    /// What the order will charge, in paise.
    pub amount: i64,
    pub coins: i64,
    /// Promotional coins the capture brings.
    pub bonus_coins: i64,
}

/// Preview a coupon on a plan: 400 `coupon_invalid` with `reason` (`expired`, `exhausted`,
/// `not_eligible`, `unknown`) when it does not apply.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = CheckCouponRequest,
    responses((status = 200, body = Envelope<CouponQuoteView>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
#[post("/users/coupons/check")]
pub(crate) async fn check(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: ValidJson<CheckCouponRequest>,
) -> Result<HttpResponse, ApiError> {
    let quote = state.coupons.quote(&user.0, &body.0.code, body.0.plan_id).await?;
    let view = CouponQuoteView {
        code: quote.coupon.code,
        kind: quote.coupon.kind,
        value: quote.coupon.value,
        plan_id: quote.plan.id.0,
        original_amount: quote.price.0,
        discount: quote.applied.discount.0,
        amount: quote.applied.amount.0,
        coins: quote.plan.coins,
        bonus_coins: quote.applied.bonus_coins,
    };
    Ok(ok("Coupon applies", view))
}
