//! What the payout provider knows of a telecaller: her contact, and a fund account per set of
//! bank details, created once and remembered.

use talktime_domain::ids::AccountId;

use crate::{Executor, RepoError};

pub async fn contact(ex: impl Executor<'_>, telecaller: AccountId) -> Result<Option<String>, RepoError> {
    Ok(sqlx::query_scalar!("SELECT contact_id FROM payout_contacts WHERE telecaller_id = $1", telecaller.0)
        .fetch_optional(ex)
        .await?)
}

/// Remembers her contact; the first one stored wins (and is returned).
pub async fn save_contact(ex: impl Executor<'_>, telecaller: AccountId, contact_id: &str) -> Result<String, RepoError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO payout_contacts (telecaller_id, contact_id) VALUES ($1, $2) \
         ON CONFLICT (telecaller_id) DO UPDATE SET contact_id = payout_contacts.contact_id RETURNING contact_id",
        telecaller.0,
        contact_id
    )
    .fetch_one(ex)
    .await?)
}

pub async fn fund_account(
    ex: impl Executor<'_>,
    telecaller: AccountId,
    bank_key: &[u8],
) -> Result<Option<String>, RepoError> {
    Ok(sqlx::query_scalar!(
        "SELECT fund_account_id FROM payout_fund_accounts WHERE telecaller_id = $1 AND bank_key = $2",
        telecaller.0,
        bank_key
    )
    .fetch_optional(ex)
    .await?)
}

/// Remembers the fund account of a set of bank details; the first one stored wins.
pub async fn save_fund_account(
    ex: impl Executor<'_>,
    telecaller: AccountId,
    bank_key: &[u8],
    fund_account_id: &str,
) -> Result<String, RepoError> {
    Ok(sqlx::query_scalar!(
        "INSERT INTO payout_fund_accounts (telecaller_id, bank_key, fund_account_id) VALUES ($1, $2, $3) \
         ON CONFLICT (telecaller_id, bank_key) DO UPDATE SET fund_account_id = payout_fund_accounts.fund_account_id \
         RETURNING fund_account_id",
        telecaller.0,
        bank_key,
        fund_account_id
    )
    .fetch_one(ex)
    .await?)
}
