//! Referrals: who referred whom, and the facts their rules need (devices shared, rewards this
//! month). A referral is decided once, by a conditional update from PENDING.

use talktime_domain::coupon::{Referral, ReferralStatus};
use talktime_domain::ids::AccountId;
use uuid::Uuid;

use crate::{Executor, RepoError, Tx};

/// The account owning a referral code (any case), if it is active.
pub async fn owner_of(ex: impl Executor<'_>, code: &str) -> Result<Option<AccountId>, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT id AS "id: AccountId" FROM accounts WHERE referral_code = upper($1) AND status = 'ACTIVE'"#,
        code.trim()
    )
    .fetch_optional(ex)
    .await?)
}

/// Records that `referrer` referred `referee`; `false` when the referee already has a referral.
pub async fn insert(tx: &mut Tx, referrer: AccountId, referee: AccountId) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "INSERT INTO referrals (id, referrer_id, referee_id, status) VALUES ($1, $2, $3, 'PENDING') \
         ON CONFLICT (referee_id) DO NOTHING",
        Uuid::now_v7(),
        referrer.0,
        referee.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The referee's PENDING referral, locked: (referral, referrer).
pub async fn lock_pending(tx: &mut Tx, referee: AccountId) -> Result<Option<(Uuid, AccountId)>, RepoError> {
    let row = sqlx::query!(
        r#"SELECT id, referrer_id AS "referrer_id: AccountId" FROM referrals
           WHERE referee_id = $1 AND status = 'PENDING' FOR UPDATE"#,
        referee.0
    )
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|r| (r.id, r.referrer_id)))
}

/// PENDING → REWARDED or REJECTED (with the reason).
pub async fn decide(tx: &mut Tx, id: Uuid, status: ReferralStatus, reason: Option<&str>) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE referrals SET status = $2, reason = $3, decided_at = clock_timestamp() WHERE id = $1 AND status = 'PENDING'",
        id,
        status.as_str(),
        reason
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Rewards the referrer got since the start of this calendar month (UTC), with her account row
/// locked so two referees' first recharges count one after the other.
pub async fn rewarded_this_month(tx: &mut Tx, referrer: AccountId) -> Result<i64, RepoError> {
    sqlx::query!("SELECT 1 AS locked FROM accounts WHERE id = $1 FOR UPDATE", referrer.0)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM referrals WHERE referrer_id = $1 AND status = 'REWARDED'
           AND decided_at >= date_trunc('month', clock_timestamp() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"#,
        referrer.0
    )
    .fetch_one(&mut **tx)
    .await?)
}

/// Whether the two accounts ever registered the same push device.
pub async fn share_a_device(ex: impl Executor<'_>, a: AccountId, b: AccountId) -> Result<bool, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM device_owners x JOIN device_owners y ON y.token_hash = x.token_hash
                          WHERE x.account_id = $1 AND y.account_id = $2) AS "exists!""#,
        a.0,
        b.0
    )
    .fetch_one(ex)
    .await?)
}

/// Claims every device the referee ever registered for her reward: `false` (nothing claimed)
/// when one of them already brought a referral reward.
pub async fn claim_devices(tx: &mut Tx, referee: AccountId) -> Result<bool, RepoError> {
    let claimed_before = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM device_owners d JOIN promo_claims c
                          ON c.kind = 'REFERRAL_DEVICE' AND c.digest = d.token_hash WHERE d.account_id = $1) AS "exists!""#,
        referee.0
    )
    .fetch_one(&mut **tx)
    .await?;
    if claimed_before {
        return Ok(false);
    }
    sqlx::query!(
        "INSERT INTO promo_claims (kind, digest, account_id) SELECT 'REFERRAL_DEVICE', token_hash, $1 \
         FROM device_owners WHERE account_id = $1 ON CONFLICT DO NOTHING",
        referee.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// The referrer's referrals, newest first, `limit + 1` rows so the caller knows whether more
/// follow (index `referrals_referrer_idx`).
pub async fn of_referrer(
    ex: impl Executor<'_>,
    referrer: AccountId,
    limit: i64,
    offset: i64,
) -> Result<Vec<Referral>, RepoError> {
    Ok(sqlx::query_as!(
        Referral,
        r#"SELECT r.id, r.referee_id AS "referee_id: AccountId", a.name AS referee_name,
                  r.status AS "status: ReferralStatus", r.reason, r.created_at, r.decided_at
           FROM referrals r JOIN accounts a ON a.id = r.referee_id
           WHERE r.referrer_id = $1 ORDER BY r.created_at DESC, r.id DESC LIMIT $2 OFFSET $3"#,
        referrer.0,
        limit + 1,
        offset
    )
    .fetch_all(ex)
    .await?)
}
