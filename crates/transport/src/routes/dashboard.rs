//! The admins' dashboard (`/admin/dashboard/*`).

use actix_web::{HttpResponse, get, web};
use garde::Validate;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use talktime_domain::dashboard::{DistributionPeriod, TrendPeriod};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{CurrentAdmin, ValidQuery};
use crate::views::ok;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(stats).service(distribution).service(trends).service(promotions);
}

fn rupees(paise: i64) -> f64 {
    talktime_domain::money::Paise(paise).as_rupees()
}

/// Revenue (rupees), users, telecallers, calls, and coins from the ledger.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
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
            "coins": { "inWallets": s.coins_in_wallets, "promoOutstanding": s.promo_outstanding, "heldForWithdrawal": s.coins_held, "platformEarned": s.coins_earned_by_platform },
        }),
    ))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DistributionQuery {
    /// `today`, `last7days`, `last30days` or `all`.
    #[garde(skip)]
    #[param(inline)]
    pub period: DistributionPeriod,
}

/// Users and telecallers created in the period (UTC days).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(DistributionQuery), responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/dashboard/user-distribution")]
pub(crate) async fn distribution(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<DistributionQuery>,
) -> Result<HttpResponse, ApiError> {
    let found = state.admin.distribution(query.0.period).await?;
    Ok(ok("Distribution fetched successfully", json!({ "users": found.users, "telecallers": found.telecallers })))
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TrendsQuery {
    /// `last24hours` (24 hourly points), `last7days` or `last30days` (daily points).
    #[garde(skip)]
    #[param(inline)]
    pub period: TrendPeriod,
}

/// Successful recharges and withdrawals (rupees) per UTC hour or day.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(TrendsQuery), responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/dashboard/recharge-withdrawal-trends")]
pub(crate) async fn trends(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<TrendsQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = query.0.period;
    let label = if period == TrendPeriod::Last24Hours { "%Y-%m-%dT%H:00Z" } else { "%Y-%m-%d" };
    let points: Vec<_> = state
        .admin
        .trends(period)
        .await?
        .into_iter()
        .map(|p| {
            let (recharge, withdrawal) = (rupees(p.recharge_paise), rupees(p.withdrawal_paise));
            json!({ "label": p.start.format(label).to_string(), "recharge": recharge, "withdrawal": withdrawal })
        })
        .collect();
    Ok(ok("Trends fetched successfully", json!({ "period": period, "trends": points })))
}

/// Promotions in the period (UTC days): promotional coins outstanding (the liability, now), the
/// marketing account (the net cost so far), promotional coins spent in calls and free seconds'
/// worth, coins expired, grants by cause, coupon redemptions.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(DistributionQuery), responses((status = 200, body = Envelope<Object>)))]
#[get("/admin/dashboard/promotions")]
pub(crate) async fn promotions(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<DistributionQuery>,
) -> Result<HttpResponse, ApiError> {
    let period = query.0.period;
    let f = state.admin.promotions(period).await?;
    let grants: serde_json::Map<String, serde_json::Value> = f
        .grants
        .iter()
        .map(|(cause, coins, lots)| (cause.to_string(), json!({ "coins": coins, "count": lots })))
        .collect();
    Ok(ok(
        "Promotions fetched successfully",
        json!({
            "period": period,
            "outstanding": f.outstanding,
            "marketingBalance": f.marketing_balance,
            "spent": { "promoCoins": f.promo_spent, "freeCallCoins": f.free_call_coins },
            "expired": f.expired,
            "grants": grants,
            "coupons": { "redemptions": f.coupon_redemptions, "discount": rupees(f.coupon_discount_paise) },
        }),
    ))
}
