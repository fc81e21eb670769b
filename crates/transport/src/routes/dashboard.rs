//! The admins' dashboard (`/admin/dashboard/*`).

use actix_web::{HttpResponse, get, web};
use garde::Validate;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

use super::rules::{listed, listed_param};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{CurrentAdmin, ValidQuery};
use crate::views::ok;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(stats).service(distribution).service(trends);
}

fn rupees(paise: i64) -> f64 {
    paise as f64 / 100.0
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
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
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
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
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
