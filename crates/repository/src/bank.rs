//! Telecallers' bank details. The account number is stored encrypted by the services layer;
//! this module only moves bytes.

use chrono::{DateTime, Utc};
use talktime_domain::ids::AccountId;

use crate::{Executor, RepoError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBankDetails {
    pub account_number_enc: Vec<u8>,
    pub account_number_len: i32,
    pub account_last4: String,
    pub ifsc_code: String,
    pub account_holder_name: String,
    pub updated_at: DateTime<Utc>,
}

pub async fn upsert(
    ex: impl Executor<'_>,
    telecaller: AccountId,
    details: &StoredBankDetails,
) -> Result<(), RepoError> {
    sqlx::query!(
        "INSERT INTO bank_details (telecaller_id, account_number_enc, account_number_len, account_last4, ifsc_code, \
         account_holder_name) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (telecaller_id) DO UPDATE SET account_number_enc = EXCLUDED.account_number_enc, \
         account_number_len = EXCLUDED.account_number_len, account_last4 = EXCLUDED.account_last4, \
         ifsc_code = EXCLUDED.ifsc_code, account_holder_name = EXCLUDED.account_holder_name, updated_at = now()",
        telecaller.0,
        &details.account_number_enc,
        details.account_number_len,
        &details.account_last4,
        &details.ifsc_code,
        &details.account_holder_name
    )
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find(ex: impl Executor<'_>, telecaller: AccountId) -> Result<Option<StoredBankDetails>, RepoError> {
    Ok(sqlx::query_as!(
        StoredBankDetails,
        "SELECT account_number_enc, account_number_len, account_last4, ifsc_code, account_holder_name, updated_at \
         FROM bank_details WHERE telecaller_id = $1",
        telecaller.0
    )
    .fetch_optional(ex)
    .await?)
}

/// Whether a row was deleted.
pub async fn delete(ex: impl Executor<'_>, telecaller: AccountId) -> Result<bool, RepoError> {
    let done = sqlx::query!("DELETE FROM bank_details WHERE telecaller_id = $1", telecaller.0).execute(ex).await?;
    Ok(done.rows_affected() == 1)
}
