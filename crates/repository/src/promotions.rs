//! Promotions: lots of promotional coins (granted, spent first by expiry, expired by the
//! sweeper), the once-ever claims keyed by phone or device digests, and the facts grants hang on.

use talktime_domain::ids::AccountId;
use talktime_domain::promotion::{Expiring, LotCause, PromoLot};
use uuid::Uuid;

use crate::{Executor, RepoError, Tx};

/// A lot to add beside its grant's journal.
#[derive(Debug, Clone, Copy)]
pub struct NewLot {
    pub id: Uuid,
    pub account: AccountId,
    pub cause: LotCause,
    pub source: Option<Uuid>,
    pub coins: i64,
    pub expires_in_secs: f64,
}

/// Adds a lot; `false` (nothing written) when the account already has the one lot of this cause
/// it may have (a signup or first-recharge bonus).
pub async fn insert_lot(tx: &mut Tx, lot: &NewLot) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "INSERT INTO promo_lots (id, account_id, cause, source_id, coins, remaining, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $5, clock_timestamp() + make_interval(secs => $6)) ON CONFLICT DO NOTHING",
        lot.id,
        lot.account.0,
        lot.cause.as_str(),
        lot.source,
        lot.coins,
        lot.expires_in_secs
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes `coins` from the account's lots, those expiring first first (its promotional wallet is
/// locked by the caller, so the lots hold at least that).
pub async fn consume(tx: &mut Tx, account: AccountId, coins: i64) -> Result<(), RepoError> {
    if coins <= 0 {
        return Ok(());
    }
    sqlx::query!(
        "WITH locked AS (SELECT id, remaining, expires_at FROM promo_lots WHERE account_id = $1 AND remaining > 0 \
                         ORDER BY expires_at, id FOR UPDATE), \
              running AS (SELECT id, remaining, (sum(remaining) OVER (ORDER BY expires_at, id))::bigint - remaining AS before \
                          FROM locked) \
         UPDATE promo_lots p SET remaining = p.remaining - least(r.remaining, $2::bigint - r.before) \
         FROM running r WHERE p.id = r.id AND r.before < $2::bigint",
        account.0,
        coins
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The account's promotional coins still to expire, by expiry, soonest first.
pub async fn expiring(ex: impl Executor<'_>, account: AccountId) -> Result<Vec<Expiring>, RepoError> {
    Ok(sqlx::query_as!(
        Expiring,
        r#"SELECT sum(remaining)::bigint AS "coins!", expires_at FROM promo_lots
           WHERE account_id = $1 AND remaining > 0 GROUP BY expires_at ORDER BY expires_at"#,
        account.0
    )
    .fetch_all(ex)
    .await?)
}

/// Lots past their expiry with coins left: (lot, owner), at most `limit`.
pub async fn due(ex: impl Executor<'_>, limit: i64) -> Result<Vec<(Uuid, AccountId)>, RepoError> {
    let rows = sqlx::query!(
        r#"SELECT id, account_id AS "account_id: AccountId" FROM promo_lots
           WHERE remaining > 0 AND expires_at <= clock_timestamp() ORDER BY expires_at LIMIT $1"#,
        limit
    )
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.account_id)).collect())
}

/// Empties an expired lot: the coins it still held (`None` when it was not due or empty).
pub async fn expire(tx: &mut Tx, lot: Uuid) -> Result<Option<i64>, RepoError> {
    Ok(sqlx::query_scalar!(
        "WITH old AS (SELECT id, remaining FROM promo_lots WHERE id = $1 AND remaining > 0 \
                      AND expires_at <= clock_timestamp() FOR UPDATE) \
         UPDATE promo_lots p SET remaining = 0 FROM old WHERE p.id = old.id RETURNING old.remaining",
        lot
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// The account's lots, newest first, `limit + 1` rows so the caller knows whether more follow
/// (index `promo_lots_history_idx`).
pub async fn lots_page(
    ex: impl Executor<'_>,
    account: AccountId,
    limit: i64,
    offset: i64,
) -> Result<Vec<PromoLot>, RepoError> {
    Ok(sqlx::query_as!(
        PromoLot,
        r#"SELECT id, cause AS "cause: LotCause", coins, remaining, expires_at, created_at FROM promo_lots
           WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"#,
        account.0,
        limit + 1,
        offset
    )
    .fetch_all(ex)
    .await?)
}

/// A reward claimed once ever per digest (`SIGNUP_BONUS`, `REFERRAL_PHONE`, `REFERRAL_DEVICE`):
/// `false` when it was claimed before.
pub async fn claim(tx: &mut Tx, kind: &str, digest: &[u8], account: AccountId) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "INSERT INTO promo_claims (kind, digest, account_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        kind,
        digest,
        account.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether a reward was claimed with this digest before.
pub async fn is_claimed(ex: impl Executor<'_>, kind: &str, digest: &[u8]) -> Result<bool, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM promo_claims WHERE kind = $1 AND digest = $2) AS "exists!""#,
        kind,
        digest
    )
    .fetch_one(ex)
    .await?)
}

/// Whether the user has a captured recharge other than `except`.
pub async fn has_other_recharge(ex: impl Executor<'_>, user: AccountId, except: Uuid) -> Result<bool, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM transactions WHERE account_id = $1 AND type = 'RECHARGE'
                          AND status = 'SUCCESS' AND id <> $2) AS "exists!""#,
        user.0,
        except
    )
    .fetch_one(ex)
    .await?)
}
