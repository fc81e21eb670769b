//! Telecallers' KYC. The PAN is stored encrypted by the services layer; this module only moves
//! bytes.

use talktime_domain::ids::{AccountId, AdminId};
use talktime_domain::kyc::{HostKyc, KycStatus};

use crate::{Executor, RepoError};

/// `query_as!(HostKyc, …)`: `$head`, the row's columns (written once, here), then `$tail`.
macro_rules! kyc_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            HostKyc,
            $head
                + r#"telecaller_id AS "telecaller_id: AccountId", pan_enc, pan_last4, name_on_pan,
                     status AS "status: KycStatus", rejection_reason, submitted_at, decided_at"#
                + $tail
            $(, $arg)*
        )
    };
}

pub async fn find(ex: impl Executor<'_>, telecaller: AccountId) -> Result<Option<HostKyc>, RepoError> {
    Ok(kyc_query!("SELECT ", " FROM host_kyc WHERE telecaller_id = $1", telecaller.0).fetch_optional(ex).await?)
}

/// Stores a submission, PENDING again whatever it was.
pub async fn submit(
    ex: impl Executor<'_>,
    telecaller: AccountId,
    pan_enc: &[u8],
    pan_last4: &str,
    name_on_pan: &str,
) -> Result<HostKyc, RepoError> {
    Ok(kyc_query!(
        "INSERT INTO host_kyc (telecaller_id, pan_enc, pan_last4, name_on_pan, status) VALUES ($1, $2, $3, $4, 'PENDING') \
         ON CONFLICT (telecaller_id) DO UPDATE SET pan_enc = EXCLUDED.pan_enc, pan_last4 = EXCLUDED.pan_last4, \
         name_on_pan = EXCLUDED.name_on_pan, status = 'PENDING', rejection_reason = NULL, submitted_at = now(), \
         decided_at = NULL, decided_by = NULL RETURNING ",
        "",
        telecaller.0,
        pan_enc,
        pan_last4,
        name_on_pan
    )
    .fetch_one(ex)
    .await?)
}

/// PENDING → VERIFIED (`reason` `None`) or REJECTED; `None` when it was not PENDING.
pub async fn decide(
    ex: impl Executor<'_>,
    telecaller: AccountId,
    admin: AdminId,
    reason: Option<&str>,
) -> Result<Option<HostKyc>, RepoError> {
    let status = if reason.is_some() { KycStatus::Rejected } else { KycStatus::Verified };
    Ok(kyc_query!(
        "UPDATE host_kyc SET status = $3, rejection_reason = $4, decided_at = now(), decided_by = $2 \
         WHERE telecaller_id = $1 AND status = 'PENDING' RETURNING ",
        "",
        telecaller.0,
        admin.0,
        status.as_str(),
        reason
    )
    .fetch_optional(ex)
    .await?)
}

/// Everyone's KYC among `telecallers` (the TDS export's names and PANs), in one query.
pub async fn of_many(ex: impl Executor<'_>, telecallers: &[uuid::Uuid]) -> Result<Vec<HostKyc>, RepoError> {
    Ok(kyc_query!("SELECT ", " FROM host_kyc WHERE telecaller_id = ANY($1)", telecallers).fetch_all(ex).await?)
}
