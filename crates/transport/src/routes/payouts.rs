//! Withdrawals paid through the payout provider: an admin approves one
//! (`POST /admin/withdrawals/{id}/approve`), RazorpayX's webhooks say how it ended
//! (`POST /webhooks/razorpayx`).

use actix_web::{HttpRequest, HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::CurrentAdmin;
use crate::views::{AdminTransactionView, Envelope, TransactionOwnerView, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(approve).service(webhook);
}

/// PENDING → APPROVED, once (audited), and the payout of its net amount is asked for at once;
/// a provider's refusal leaves it APPROVED and the reconciler asks again. 409 `payouts_manual`
/// when `PAYOUT_PROVIDER=manual`.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses(
    (status = 200, body = Envelope<AdminTransactionView>),
    (status = 404, body = ErrorBody),
    (status = 409, description = "Already processed, or payouts are manual", body = ErrorBody),
))]
#[post("/admin/withdrawals/{id}/approve")]
pub(crate) async fn approve(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<talktime_domain::ids::TransactionId>,
) -> Result<HttpResponse, ApiError> {
    let approved = state.payouts.approve(Some(admin.0.id), path.into_inner()).await?;
    let owner = TransactionOwnerView::named(approved.account_id.0, None);
    Ok(ok("Withdrawal approved", AdminTransactionView::new(approved, None, owner)))
}

/// RazorpayX's payout webhooks (`payout.processed`, `payout.reversed`, `payout.failed`,
/// `payout.rejected`), signed with `RAZORPAYX_WEBHOOK_SECRET` over the raw body
/// (`X-Razorpay-Signature`); each settles its withdrawal once, whatever their order and
/// repetition.
#[utoipa::path(tag = "payments", request_body = String, responses(
    (status = 200, body = Envelope<Option<String>>),
    (status = 400, description = "Bad signature", body = ErrorBody),
))]
#[post("/webhooks/razorpayx")]
pub(crate) async fn webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let signature = req.headers().get("x-razorpay-signature").and_then(|v| v.to_str().ok());
    let changed = state.payouts.webhook(&body, signature).await?;
    Ok(ok(if changed { "processed" } else { "ignored" }, Option::<String>::None))
}
