//! Chargebacks as admins follow them (`GET /admin/disputes`); Razorpay's dispute webhooks arrive
//! at `/payment/webhook` with the other payment events.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use talktime_domain::dispute::{Dispute, DisputeStatus};
use talktime_domain::money::Paise;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use super::rules::ADMIN_PAGING;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, ValidQuery};
use crate::views::{Envelope, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(disputes);
}

/// A chargeback on a recharge: `amount` in rupees; the recharge's `coins`, those frozen when it
/// opened (`heldCoins`), and what a lost one still has her owe (`owedCoins`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisputeView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub gateway_dispute_id: String,
    pub transaction_id: Uuid,
    pub user_id: Uuid,
    #[schema(inline)]
    pub status: DisputeStatus,
    pub amount: f64,
    pub coins: i64,
    pub held_coins: i64,
    pub owed_coins: i64,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

impl From<Dispute> for DisputeView {
    fn from(d: Dispute) -> Self {
        Self {
            id: d.id,
            gateway_dispute_id: d.gateway_dispute_id,
            transaction_id: d.transaction_id.0,
            user_id: d.account_id.0,
            status: d.status,
            amount: Paise(d.amount_paise).as_rupees(),
            coins: d.coins,
            held_coins: d.held_coins,
            owed_coins: d.owed_coins,
            reason: d.reason,
            created_at: d.created_at,
            resolved_at: d.resolved_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisputesView {
    pub disputes: Vec<DisputeView>,
    pub total: i64,
    pub total_pages: i64,
}

super::rules::paged_query!(DisputesQuery, limit 100, "1–100, default 20." {
    /// `OPEN` (the default), `LOST`, `WON` or `CLOSED`.
    #[garde(skip)]
    #[param(inline)]
    status: Option<DisputeStatus>,
});

/// Chargebacks, newest first: the open ones unless `status` asks for others.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(DisputesQuery),
    responses((status = 200, body = Envelope<DisputesView>), (status = 400, body = ErrorBody)))]
#[get("/admin/disputes")]
pub(crate) async fn disputes(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<DisputesQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = ADMIN_PAGING.request(query.page, query.limit);
    let status = query.status.unwrap_or(DisputeStatus::Open);
    let found = state.disputes.list(Some(status), page).await?;
    Ok(ok(
        "Disputes fetched successfully",
        DisputesView {
            disputes: found.rows.into_iter().map(DisputeView::from).collect(),
            total: found.total,
            total_pages: page.total_pages(found.total),
        },
    ))
}
