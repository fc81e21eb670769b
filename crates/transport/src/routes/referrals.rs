//! Referrals: a user says who referred her (`POST /users/referral`) and sees whom she referred
//! (`GET /users/referrals`); the code is `referralCode` in `/users/me`.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::coupon::ReferralStatus;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::rules::{PageQuery, Paging};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentUser, ValidJson, ValidQuery};
use crate::views::{Envelope, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(give).service(mine);
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralRequest {
    /// Another account's `referralCode`.
    #[bound(trimmed(min = 1, max = 32))]
    pub code: String,
}

/// Who referred her, within 7 days of signing up and before her first recharge, once: 400
/// `referral_invalid` with `reason` (`unknown`, `own_code`, `too_late`, `already_recharged`);
/// 409 `already_referred`.
#[utoipa::path(tag = "users", security(("bearer" = [])), request_body = ReferralRequest,
    responses((status = 200, body = Envelope<Object>), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
#[post("/users/referral")]
pub(crate) async fn give(
    state: web::Data<AppState>,
    user: CurrentUser,
    body: ValidJson<ReferralRequest>,
) -> Result<HttpResponse, ApiError> {
    state.referrals.give_now(&user.0, &body.0.code).await?;
    Ok(ok("Referral recorded", serde_json::json!({ "status": ReferralStatus::Pending })))
}

/// One user she referred.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferralView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub referee: RefereeView,
    /// `PENDING` until the referee's first recharge, then `REWARDED` or `REJECTED`.
    #[schema(inline)]
    pub status: ReferralStatus,
    /// Why it was rejected: `shared_device`, `referrer_monthly_limit`, `phone_already_rewarded`,
    /// `device_already_rewarded`, `referee_gone`.
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefereeView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReferralsView {
    pub referrals: Vec<ReferralView>,
    pub has_more: bool,
}

/// The users she referred, newest first, with where each stands.
#[utoipa::path(tag = "users", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Envelope<ReferralsView>), (status = 400, body = ErrorBody)))]
#[get("/users/referrals")]
pub(crate) async fn mine(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: ValidQuery<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = Paging { default_limit: 15, max_limit: 50 }.request(query.0.page, query.0.limit);
    let (found, has_more) = state.referrals.of_referrer(user.0.id, page.limit(), page.offset()).await?;
    let referrals = found
        .into_iter()
        .map(|r| ReferralView {
            id: r.id,
            referee: RefereeView { id: r.referee_id.0, name: r.referee_name },
            status: r.status,
            reason: r.reason,
            created_at: r.created_at,
            decided_at: r.decided_at,
        })
        .collect();
    Ok(ok("Referrals fetched successfully", ReferralsView { referrals, has_more }))
}
