//! Chargebacks: one row per Razorpay dispute; every change is a conditional update from the
//! state it leaves, so repeated and reordered webhooks move money once.

use talktime_domain::dispute::{Dispute, DisputeStatus};
use talktime_domain::ids::{AccountId, TransactionId};
use talktime_domain::page::Page;

use crate::{RepoError, Tx};

macro_rules! dispute_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            Dispute,
            $head
                + r#"id, gateway_dispute_id, transaction_id AS "transaction_id: TransactionId",
                     account_id AS "account_id: AccountId", status AS "status: DisputeStatus", amount_paise, coins,
                     held_coins, owed_coins, reason, created_at, resolved_at"#
                + $tail
            $(, $arg)*
        )
    };
}

pub struct NewDispute<'a> {
    pub id: uuid::Uuid,
    pub gateway_dispute_id: &'a str,
    pub recharge: TransactionId,
    pub account: AccountId,
    pub amount_paise: i64,
    pub coins: i64,
    pub held_coins: i64,
    pub reason: Option<&'a str>,
}

/// The dispute, locked until the transaction ends.
pub async fn lock(tx: &mut Tx, gateway_dispute_id: &str) -> Result<Option<Dispute>, RepoError> {
    Ok(dispute_query!("SELECT ", " FROM disputes WHERE gateway_dispute_id = $1 FOR UPDATE", gateway_dispute_id)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Opens it; `None` when this dispute id exists already (a concurrent delivery won).
pub async fn open(tx: &mut Tx, d: &NewDispute<'_>) -> Result<Option<Dispute>, RepoError> {
    Ok(dispute_query!("INSERT INTO disputes (id, gateway_dispute_id, transaction_id, account_id, status, amount_paise, coins, held_coins, reason) VALUES ($1, $2, $3, $4, 'OPEN', $5, $6, $7, $8) ON CONFLICT (gateway_dispute_id) DO NOTHING RETURNING ", "", d.id, d.gateway_dispute_id, d.recharge.0, d.account.0, d.amount_paise, d.coins, d.held_coins, d.reason)
    .fetch_optional(&mut **tx)
    .await?)
}

/// OPEN → `to` (LOST with what she still owes, or WON / CLOSED); `None` when not OPEN.
pub async fn resolve(
    tx: &mut Tx,
    id: uuid::Uuid,
    to: DisputeStatus,
    owed_coins: i64,
) -> Result<Option<Dispute>, RepoError> {
    Ok(dispute_query!("UPDATE disputes SET status = $2, owed_coins = $3, resolved_at = now() WHERE id = $1 AND status = 'OPEN' RETURNING ", "", id, to.as_str(), owed_coins)
    .fetch_optional(&mut **tx)
    .await?)
}

/// Her disputes that still have her owe, oldest first, locked.
pub async fn owed(tx: &mut Tx, account: AccountId) -> Result<Vec<Dispute>, RepoError> {
    Ok(dispute_query!(
        "SELECT ",
        " FROM disputes WHERE account_id = $1 AND owed_coins > 0 ORDER BY created_at, id FOR UPDATE",
        account.0
    )
    .fetch_all(&mut **tx)
    .await?)
}

/// Lowers what a dispute has her owe.
pub async fn pay_down(tx: &mut Tx, id: uuid::Uuid, coins: i64) -> Result<(), RepoError> {
    sqlx::query!("UPDATE disputes SET owed_coins = owed_coins - $2 WHERE id = $1", id, coins)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Admin listing, optionally of one status, newest first, with the total.
pub async fn page(
    db: &crate::Db,
    status: Option<DisputeStatus>,
    limit: i64,
    offset: i64,
) -> Result<Page<Dispute>, RepoError> {
    let status = status.map(DisputeStatus::as_str);
    crate::paged(
        dispute_query!("SELECT ", " FROM disputes WHERE ($1::text IS NULL OR status = $1) ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3", status, limit, offset)
            .fetch_all(db.pool()),
        sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM disputes WHERE ($1::text IS NULL OR status = $1)"#,
            status
        )
        .fetch_one(db.pool()),
    )
    .await
}
