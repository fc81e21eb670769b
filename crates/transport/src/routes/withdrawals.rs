//! Money as admins handle it: recharges and withdrawals listed (`/admin/transactions`), and
//! withdrawals completed or rejected, once each (`/admin/withdrawals/{id}/…`).

use actix_web::{HttpResponse, get, post, web};
use garde::Validate;
use serde::{Deserialize, Serialize};
use talktime_domain::transaction::Decision;
use talktime_services::wallet::WithdrawalOutcome;
use utoipa::ToSchema;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{CurrentAdmin, OptionalJson, ValidJson, ValidQuery};
use crate::views::{AdminTransactionView, Envelope, TransactionOwnerView, ok};
use talktime_domain::transaction::{TransactionKind, TransactionStatus};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(transactions).service(transaction).service(complete_withdrawal).service(reject_withdrawal);
}

/// Admin list pages: `{<items>, total, totalPages}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminTransactionsView {
    pub transactions: Vec<AdminTransactionView>,
    pub total: i64,
    pub total_pages: i64,
}

super::rules::paged_query!(TransactionsQuery, limit 100, "1–100, default 20." {
    /// `RECHARGE` or `WITHDRAWAL` (required).
    #[serde(rename = "type")]
    #[garde(skip)]
    #[param(inline)]
    kind: TransactionKind,
    /// `PENDING`, `SUCCESS`, `FAILED`, `CANCELLED` or `REJECTED`.
    #[garde(skip)]
    #[param(inline)]
    status: Option<TransactionStatus>,
});

/// Transactions of one type, optionally of one status, newest first.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(TransactionsQuery), responses(
    (status = 200, body = Envelope<AdminTransactionsView>),
    (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody),
))]
#[get("/admin/transactions")]
pub(crate) async fn transactions(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<TransactionsQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let page = super::rules::Paging { default_limit: 20, max_limit: 100 }.request(query.page, query.limit);
    let found = state.wallet.admin_transactions(query.kind, query.status, page).await?;
    Ok(ok(
        "Transactions fetched successfully",
        AdminTransactionsView {
            transactions: found
                .transactions
                .into_iter()
                .map(|(t, name)| {
                    let owner = TransactionOwnerView::named(t.account_id.0, name);
                    AdminTransactionView::new(t, None, owner)
                })
                .collect(),
            total: found.total,
            total_pages: page.total_pages(found.total),
        },
    ))
}

/// One transaction in full (a withdrawal shows the whole account number to pay).
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), responses(
    (status = 200, body = Envelope<AdminTransactionView>),
    (status = 404, body = ErrorBody),
))]
#[get("/admin/transactions/{id}")]
pub(crate) async fn transaction(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    path: web::Path<talktime_domain::ids::TransactionId>,
) -> Result<HttpResponse, ApiError> {
    let found = state.wallet.admin_transaction(path.into_inner()).await?;
    let owner = TransactionOwnerView {
        id: found.transaction.account_id.0,
        name: found.owner.as_ref().and_then(|a| a.name.clone()),
        phone: found.owner.map(|a| a.phone),
        wallet_balance: Some(found.balance),
    };
    Ok(ok(
        "Transaction fetched successfully",
        AdminTransactionView::new(found.transaction, found.account_number, owner),
    ))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CompleteWithdrawalRequest {
    /// The bank transfer's reference, 5–100 characters.
    #[bound(trimmed(min = 5, max = 100))]
    pub transfer_reference: String,
}

/// A withdrawal just decided, with the telecaller's balance after it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecidedWithdrawalView {
    #[serde(flatten)]
    pub withdrawal: AdminTransactionView,
    /// Completed: the coins paid out (they were held from the wallet when requested).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coins_deducted: Option<i64>,
    /// The telecaller's wallet balance now.
    pub new_balance: i64,
}

impl DecidedWithdrawalView {
    fn new(outcome: WithdrawalOutcome, completed: bool) -> Self {
        let coins = outcome.withdrawal.coins;
        let owner = TransactionOwnerView::named(outcome.withdrawal.account_id.0, None);
        Self {
            withdrawal: AdminTransactionView::new(outcome.withdrawal, None, owner),
            coins_deducted: completed.then_some(coins),
            new_balance: outcome.balance,
        }
    }
}

/// PENDING → SUCCESS, once: the held coins leave the platform.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CompleteWithdrawalRequest, responses(
    (status = 200, body = Envelope<DecidedWithdrawalView>),
    (status = 404, body = ErrorBody),
    (status = 409, description = "Already processed", body = ErrorBody),
))]
#[post("/admin/withdrawals/{id}/complete")]
pub(crate) async fn complete_withdrawal(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<talktime_domain::ids::TransactionId>,
    body: ValidJson<CompleteWithdrawalRequest>,
) -> Result<HttpResponse, ApiError> {
    let reference = body.0.transfer_reference.trim().to_owned();
    let decision = Decision::Complete { transfer_reference: &reference };
    let done = state.wallet.decide(admin.0.id, path.into_inner(), decision).await?;
    Ok(ok("Withdrawal completed", DecidedWithdrawalView::new(done, true)))
}

#[talktime_macros::bounds]
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectWithdrawalRequest {
    /// 5–500 characters, shown to the telecaller; "No reason given" when absent (the body may be
    /// left out).
    #[bound(trimmed(min = 5, max = 500))]
    pub reason: Option<String>,
}

/// PENDING → REJECTED, once: the held coins return to the wallet.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Option<RejectWithdrawalRequest>, responses(
    (status = 200, body = Envelope<DecidedWithdrawalView>),
    (status = 404, body = ErrorBody),
    (status = 409, description = "Already processed", body = ErrorBody),
))]
#[post("/admin/withdrawals/{id}/reject")]
pub(crate) async fn reject_withdrawal(
    state: web::Data<AppState>,
    admin: CurrentAdmin,
    path: web::Path<talktime_domain::ids::TransactionId>,
    body: OptionalJson<RejectWithdrawalRequest>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.0.reason.map_or_else(|| "No reason given".to_owned(), |r| r.trim().to_owned());
    let done = state.wallet.decide(admin.0.id, path.into_inner(), Decision::Reject { reason: &reason }).await?;
    Ok(ok("Withdrawal rejected", DecidedWithdrawalView::new(done, false)))
}
