//! Recharges and withdrawals. Every status change is a conditional update from the states it may
//! leave, so racing requests resolve to one winner.

use chrono::{DateTime, Utc};
use talktime_domain::ids::{AccountId, AdminId, PlanId, TransactionId};
use talktime_domain::tax::TdsYear;
use talktime_domain::transaction::Decision;
use talktime_domain::transaction::Transaction;
use talktime_domain::transaction::{TransactionKind, TransactionStatus};

use crate::{Executor, RepoError};

/// `query_as!(Transaction, …)`: `$head`, every column of `transactions` (written once, here),
/// then `$tail`.
macro_rules! transaction_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Transaction,
            $head
                + r#"id AS "id: TransactionId", account_id AS "account_id: AccountId", type AS "type: TransactionKind", status AS "status: TransactionStatus", coins,
                     amount_paise, plan_id AS "plan_id: PlanId", gateway_order_id, gateway_payment_id, bank_account_enc, bank_account_len,
                     bank_account_last4, bank_ifsc_code, bank_holder_name, transfer_reference, rejection_reason,
                     processed_at, processed_by AS "processed_by: AdminId", tds_paise, tds_coins, tds_rate_hundredths,
                     tds_section, with_pan, approved_at, payout_id, payout_mode, payout_error, created_at, updated_at"#
                + $tail
            $(, $arg)*
        )
    };
}

/// The unique index allowing one PENDING withdrawal per telecaller.
pub const ONE_PENDING_WITHDRAWAL: &str = "transactions_one_pending_withdrawal";

pub struct NewRecharge<'a> {
    pub id: TransactionId,
    pub account: AccountId,
    pub plan: PlanId,
    pub coins: i64,
    pub amount_paise: i64,
    /// What of `amount_paise` is taxable, and the GST rate (hundredths) it was charged at.
    pub taxable_paise: i64,
    pub gst_rate_hundredths: i32,
    pub gateway_order_id: &'a str,
}

pub async fn insert_recharge(ex: impl Executor<'_>, recharge: &NewRecharge<'_>) -> Result<Transaction, RepoError> {
    Ok(transaction_query!("INSERT INTO transactions (id, account_id, type, status, coins, amount_paise, plan_id, gateway_order_id, taxable_paise, gst_rate_hundredths) VALUES ($1, $2, 'RECHARGE', 'PENDING', $3, $4, $5, $6, $7, $8) RETURNING ", "", recharge.id.0, recharge.account.0, recharge.coins, recharge.amount_paise, recharge.plan.0, recharge.gateway_order_id, recharge.taxable_paise, recharge.gst_rate_hundredths)
    .fetch_one(ex)
    .await?)
}

pub async fn find(ex: impl Executor<'_>, id: TransactionId) -> Result<Option<Transaction>, RepoError> {
    Ok(transaction_query!("SELECT ", " FROM transactions WHERE id = $1", id.0).fetch_optional(ex).await?)
}

pub async fn find_by_order(ex: impl Executor<'_>, gateway_order_id: &str) -> Result<Option<Transaction>, RepoError> {
    Ok(transaction_query!("SELECT ", " FROM transactions WHERE gateway_order_id = $1", gateway_order_id)
        .fetch_optional(ex)
        .await?)
}

/// PENDING / CANCELLED / FAILED → SUCCESS for a recharge; `None` when it was not in one of those
/// states (already credited, or not a recharge).
pub async fn mark_recharge_paid(
    tx: &mut crate::Tx,
    id: TransactionId,
    gateway_payment_id: &str,
) -> Result<Option<Transaction>, RepoError> {
    Ok(transaction_query!("UPDATE transactions SET status = 'SUCCESS', gateway_payment_id = $2, updated_at = now() WHERE id = $1 AND type = 'RECHARGE' AND status IN ('PENDING', 'CANCELLED', 'FAILED') RETURNING ", "", id.0, gateway_payment_id)
    .fetch_optional(&mut **tx)
    .await?)
}

/// PENDING → `to` (CANCELLED or FAILED) for a recharge. Whether it changed.
pub async fn close_pending_recharge(
    ex: impl Executor<'_>,
    id: TransactionId,
    to: TransactionStatus,
) -> Result<bool, RepoError> {
    let done = sqlx::query!("UPDATE transactions SET status = $2, updated_at = now() WHERE id = $1 AND type = 'RECHARGE' AND status = 'PENDING'", id.0, to.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// PENDING recharges created more than `min_age_secs` ago, oldest first.
pub async fn pending_recharges(
    ex: impl Executor<'_>,
    min_age_secs: i64,
    limit: i64,
) -> Result<Vec<Transaction>, RepoError> {
    Ok(transaction_query!("SELECT ", " FROM transactions WHERE type = 'RECHARGE' AND status = 'PENDING' AND created_at <= now() - make_interval(secs => $1::double precision) \
         ORDER BY created_at LIMIT $2", min_age_secs as f64, limit)
    .fetch_all(ex)
    .await?)
}

/// PENDING → FAILED for a recharge older than `max_age_secs`. Whether it changed.
pub async fn expire_recharge(ex: impl Executor<'_>, id: TransactionId, max_age_secs: i64) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "UPDATE transactions SET status = 'FAILED', updated_at = now() WHERE id = $1 AND type = 'RECHARGE' \
         AND status = 'PENDING' AND created_at <= now() - make_interval(secs => $2::double precision)",
        id.0,
        max_age_secs as f64
    )
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn has_successful_recharge(ex: impl Executor<'_>, account: AccountId) -> Result<bool, RepoError> {
    Ok(sqlx::query_scalar!("SELECT EXISTS (SELECT 1 FROM transactions WHERE account_id = $1 AND type = 'RECHARGE' AND status = 'SUCCESS') AS \"exists!\"", account.0)
    .fetch_one(ex)
    .await?)
}

pub async fn has_pending_withdrawal(ex: impl Executor<'_>, account: AccountId) -> Result<bool, RepoError> {
    Ok(sqlx::query_scalar!("SELECT EXISTS (SELECT 1 FROM transactions WHERE account_id = $1 AND type = 'WITHDRAWAL' AND status IN ('PENDING', 'APPROVED')) AS \"exists!\"", account.0)
    .fetch_one(ex)
    .await?)
}

/// The bank details copied onto a withdrawal.
pub struct BankSnapshot<'a> {
    pub account_enc: &'a [u8],
    pub account_len: i32,
    pub account_last4: &'a str,
    pub ifsc_code: &'a str,
    pub holder_name: &'a str,
}

/// A withdrawal's rupees: the amount owed, and the TDS withheld from it (docs/tax.md).
pub struct WithdrawalSums<'a> {
    pub amount_paise: i64,
    pub tds_paise: i64,
    pub tds_coins: i64,
    pub tds_rate_hundredths: i32,
    pub tds_section: &'a str,
    pub with_pan: bool,
}

pub async fn insert_withdrawal(
    tx: &mut crate::Tx,
    id: TransactionId,
    account: AccountId,
    coins: i64,
    sums: &WithdrawalSums<'_>,
    bank: &BankSnapshot<'_>,
) -> Result<Transaction, RepoError> {
    Ok(transaction_query!("INSERT INTO transactions (id, account_id, type, status, coins, amount_paise, bank_account_enc, bank_account_len, bank_account_last4, bank_ifsc_code, bank_holder_name, tds_paise, tds_coins, tds_rate_hundredths, tds_section, with_pan) VALUES ($1, $2, 'WITHDRAWAL', 'PENDING', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ", "", id.0, account.0, coins, sums.amount_paise, bank.account_enc, bank.account_len, bank.account_last4, bank.ifsc_code, bank.holder_name, sums.tds_paise, sums.tds_coins, sums.tds_rate_hundredths, sums.tds_section, sums.with_pan)
    .fetch_one(&mut **tx)
    .await?)
}

/// What a telecaller was paid between two moments (a financial year so far), and the TDS
/// withheld on it (index `transactions_paid_withdrawals_idx`).
pub async fn paid_between(
    ex: impl Executor<'_>,
    account: AccountId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<TdsYear, RepoError> {
    Ok(sqlx::query_as!(
        TdsYear,
        r#"SELECT coalesce(sum(amount_paise), 0)::bigint AS "paid!", coalesce(sum(tds_paise), 0)::bigint AS "withheld!"
           FROM transactions WHERE type = 'WITHDRAWAL' AND status = 'SUCCESS' AND processed_at >= $2 AND processed_at < $3
           AND account_id = $1"#,
        account.0,
        from,
        to
    )
    .fetch_one(ex)
    .await?)
}

/// Withdrawals paid between two moments, oldest first: one telecaller's (her statement) or
/// everyone's (the quarter's TDS export).
pub async fn paid_withdrawals(
    ex: impl Executor<'_>,
    account: Option<AccountId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Transaction>, RepoError> {
    Ok(transaction_query!("SELECT ", " FROM transactions WHERE type = 'WITHDRAWAL' AND status = 'SUCCESS' AND processed_at >= $2 AND processed_at < $3 AND ($1::uuid IS NULL OR account_id = $1) ORDER BY processed_at, id", account.map(|a| a.0), from, to)
    .fetch_all(ex)
    .await?)
}

/// PENDING → SUCCESS or REJECTED; `None` when the withdrawal is not PENDING (or not one).
pub async fn decide_withdrawal(
    tx: &mut crate::Tx,
    id: TransactionId,
    decision: &Decision<'_>,
    admin: AdminId,
) -> Result<Option<Transaction>, RepoError> {
    let (status, reference, reason) = match decision {
        Decision::Complete { transfer_reference } => (TransactionStatus::Success, Some(*transfer_reference), None),
        Decision::Reject { reason } => (TransactionStatus::Rejected, None, Some(*reason)),
    };
    Ok(transaction_query!("UPDATE transactions SET status = $2, transfer_reference = $3, rejection_reason = $4, processed_at = now(), processed_by = $5, updated_at = now() WHERE id = $1 AND type = 'WITHDRAWAL' AND status = 'PENDING' RETURNING ", "", id.0, status.as_str(), reference, reason, admin.0)
    .fetch_optional(&mut **tx)
    .await?)
}

/// One owner's transactions of a type, newest first (`limit + 1` rows so the caller knows
/// whether more follow; index `transactions_owner_idx`).
pub async fn owner_page(
    ex: impl Executor<'_>,
    account: AccountId,
    kind: TransactionKind,
    limit: i64,
    offset: i64,
) -> Result<Vec<Transaction>, RepoError> {
    Ok(transaction_query!(
        "SELECT ",
        " FROM transactions WHERE account_id = $1 AND type = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
        account.0,
        kind.as_str(),
        limit + 1,
        offset
    )
    .fetch_all(ex)
    .await?)
}

/// Admin listing by type and optional status, newest first, with the total count.
pub async fn admin_page(
    ex: &crate::Db,
    kind: TransactionKind,
    status: Option<TransactionStatus>,
    limit: i64,
    offset: i64,
) -> Result<talktime_domain::page::Page<Transaction>, RepoError> {
    crate::paged(
        transaction_query!("SELECT ", " FROM transactions WHERE type = $1 AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4", kind.as_str(), status.map(TransactionStatus::as_str), limit, offset)
    .fetch_all(ex.pool()),
        sqlx::query_scalar!(
        "SELECT count(*) AS \"count!\" FROM transactions WHERE type = $1 AND ($2::text IS NULL OR status = $2)",
        kind.as_str(),
        status.map(TransactionStatus::as_str)
    )
    .fetch_one(ex.pool()),
    )
    .await
}

/// Records a webhook delivery; `false` when this event id was handled before.
pub async fn record_webhook_event(tx: &mut crate::Tx, event_id: &str, event_type: &str) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "INSERT INTO webhook_events (event_id, event_type) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        event_id,
        event_type
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A withdrawal, locked until the transaction ends (a payout's outcome is decided under it).
pub async fn lock_withdrawal(tx: &mut crate::Tx, id: TransactionId) -> Result<Option<Transaction>, RepoError> {
    Ok(transaction_query!("SELECT ", " FROM transactions WHERE id = $1 AND type = 'WITHDRAWAL' FOR UPDATE", id.0)
        .fetch_optional(&mut **tx)
        .await?)
}

/// The withdrawal a provider's payout id belongs to.
pub async fn find_by_payout(ex: impl Executor<'_>, payout_id: &str) -> Result<Option<TransactionId>, RepoError> {
    Ok(sqlx::query_scalar!(r#"SELECT id AS "id: TransactionId" FROM transactions WHERE payout_id = $1"#, payout_id)
        .fetch_optional(ex)
        .await?)
}

/// PENDING → APPROVED: the payout provider is to pay it (`admin` `None`: approved by the
/// automatic rule). `None` when it is not PENDING (or not a withdrawal).
pub async fn approve_withdrawal(
    tx: &mut crate::Tx,
    id: TransactionId,
    admin: Option<AdminId>,
) -> Result<Option<Transaction>, RepoError> {
    Ok(transaction_query!("UPDATE transactions SET status = 'APPROVED', approved_at = now(), processed_by = $2, updated_at = now() WHERE id = $1 AND type = 'WITHDRAWAL' AND status = 'PENDING' RETURNING ", "", id.0, admin.map(|a| a.0))
    .fetch_optional(&mut **tx)
    .await?)
}

/// The provider's answer to an APPROVED withdrawal's payout: its id and mode, or its refusal
/// (the payout is asked for again, with the same idempotency key, by the reconciler).
pub async fn record_payout(
    ex: impl Executor<'_>,
    id: TransactionId,
    payout: Result<(&str, &str), &str>,
) -> Result<(), RepoError> {
    let (payout_id, mode, error) = match payout {
        Ok((payout_id, mode)) => (Some(payout_id), Some(mode), None),
        Err(error) => (None, None, Some(error)),
    };
    sqlx::query!(
        "UPDATE transactions SET payout_id = coalesce(payout_id, $2), payout_mode = coalesce($3, payout_mode), \
         payout_error = $4, updated_at = now() WHERE id = $1 AND type = 'WITHDRAWAL' AND approved_at IS NOT NULL",
        id.0,
        payout_id,
        mode,
        error
    )
    .execute(ex)
    .await?;
    Ok(())
}

/// The payout's end: APPROVED → SUCCESS with the bank's reference, or APPROVED / SUCCESS →
/// REJECTED with a reason (failed, rejected or reversed). `None` when it was not in `from`.
pub async fn settle_payout(
    tx: &mut crate::Tx,
    id: TransactionId,
    payout_id: Option<&str>,
    from: TransactionStatus,
    to: TransactionStatus,
    reference: Option<&str>,
    reason: Option<&str>,
) -> Result<Option<Transaction>, RepoError> {
    Ok(transaction_query!("UPDATE transactions SET status = $3, transfer_reference = coalesce($4, transfer_reference), rejection_reason = $5, payout_id = coalesce(payout_id, $6), processed_at = now(), updated_at = now() WHERE id = $1 AND type = 'WITHDRAWAL' AND status = $2 RETURNING ", "", id.0, from.as_str(), to.as_str(), reference, reason, payout_id)
    .fetch_optional(&mut **tx)
    .await?)
}

/// APPROVED withdrawals approved more than `min_age_secs` ago, oldest first (the payout
/// reconciler's scan; index `transactions_approved_withdrawals_idx`).
pub async fn approved_waiting(
    ex: impl Executor<'_>,
    min_age_secs: f64,
    limit: i64,
) -> Result<Vec<Transaction>, RepoError> {
    Ok(transaction_query!("SELECT ", " FROM transactions WHERE type = 'WITHDRAWAL' AND status = 'APPROVED' AND approved_at <= now() - make_interval(secs => $1::double precision) ORDER BY approved_at LIMIT $2", min_age_secs, limit)
    .fetch_all(ex)
    .await?)
}
