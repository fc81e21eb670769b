//! Figures for the admin dashboard. Month and day boundaries are UTC.

use chrono::{DateTime, Utc};
use talktime_domain::dashboard::{Distribution, PromotionFigures, Stats, TrendPoint};
use talktime_domain::promotion::LotCause;

use crate::{Db, RepoError};

pub async fn stats(db: &Db) -> Result<Stats, RepoError> {
    Ok(sqlx::query_as!(Stats, "SELECT \
           (SELECT coalesce(sum(amount_paise), 0)::bigint FROM transactions WHERE type = 'RECHARGE' AND status = 'SUCCESS') AS \"recharge_paise!\", \
           (SELECT coalesce(sum(amount_paise), 0)::bigint FROM transactions WHERE type = 'WITHDRAWAL' AND status = 'SUCCESS') AS \"withdrawal_paise!\", \
           (SELECT count(*) FROM accounts WHERE role = 'USER') AS \"users_total!\", \
           (SELECT count(*) FROM accounts WHERE role = 'USER' AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS \"users_new_this_month!\", \
           (SELECT count(*) FROM accounts WHERE name IS NULL OR dob IS NULL) AS \"incomplete_profiles!\", \
           (SELECT count(*) FROM telecaller_profiles) AS \"telecallers_total!\", \
           (SELECT count(*) FROM telecaller_profiles WHERE approval_status = 'APPROVED') AS \"telecallers_approved!\", \
           (SELECT count(*) FROM telecaller_profiles WHERE approval_status = 'PENDING') AS \"telecallers_pending!\", \
           (SELECT count(*) FROM telecaller_profiles WHERE approval_status = 'REJECTED') AS \"telecallers_rejected!\", \
           (SELECT count(*) FROM calls) AS \"calls_total!\", \
           (SELECT coalesce(sum(duration_seconds), 0)::bigint FROM calls WHERE status = 'COMPLETED') AS \"call_seconds!\", \
           (SELECT count(*) FROM calls WHERE status = 'COMPLETED') AS \"completed_calls!\", \
           (SELECT coalesce(sum(balance), 0)::bigint FROM ledger_accounts WHERE kind = 'WALLET') AS \"coins_in_wallets!\", \
           (SELECT coalesce(sum(balance), 0)::bigint FROM ledger_accounts WHERE kind = 'PROMO_WALLET') AS \"promo_outstanding!\", \
           (SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries WHERE account_id = '00000000-0000-0000-0000-000000000003') AS \"coins_held!\", \
           (SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries WHERE account_id = '00000000-0000-0000-0000-000000000002') AS \"coins_earned_by_platform!\"")
    .fetch_one(db.pool())
    .await?)
}

/// Users and telecallers created since `since` (all time when `None`).
pub async fn created_since(db: &Db, since: Option<DateTime<Utc>>) -> Result<Distribution, RepoError> {
    let row = sqlx::query!(
        r#"SELECT count(*) FILTER (WHERE role = 'USER') AS "users!", count(*) FILTER (WHERE role = 'TELECALLER') AS "telecallers!"
           FROM accounts WHERE $1::timestamptz IS NULL OR created_at >= $1"#,
        since
    )
    .fetch_one(db.pool())
    .await?;
    Ok(Distribution { users: row.users, telecallers: row.telecallers })
}

/// Successful recharge and withdrawal amounts (paise) per UTC bucket: `buckets` hourly (or
/// daily) buckets ending with the current one.
pub async fn trends(db: &Db, hourly: bool, buckets: i32) -> Result<Vec<TrendPoint>, RepoError> {
    let (unit, step) = if hourly { ("hour", "1 hour") } else { ("day", "1 day") };
    let rows = sqlx::query!(
        r#"WITH b AS (SELECT generate_series(date_trunc($2, now() AT TIME ZONE 'UTC') - ($1::int - 1) * $3::text::interval,
                   date_trunc($2, now() AT TIME ZONE 'UTC'), $3::text::interval) AT TIME ZONE 'UTC' AS start)
           SELECT b.start AS "start!",
             coalesce(sum(t.amount_paise) FILTER (WHERE t.type = 'RECHARGE'), 0)::bigint AS "recharged!",
             coalesce(sum(t.amount_paise) FILTER (WHERE t.type = 'WITHDRAWAL'), 0)::bigint AS "withdrawn!"
           FROM b LEFT JOIN transactions t ON t.status = 'SUCCESS' AND t.updated_at >= b.start
             AND t.updated_at < b.start + $3::text::interval
           GROUP BY b.start ORDER BY b.start"#,
        buckets,
        unit,
        step
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| TrendPoint { start: r.start, recharge_paise: r.recharged, withdrawal_paise: r.withdrawn })
        .collect())
}

/// Promotions since `since` (all time when `None`); the balances are as of now.
pub async fn promotions(db: &Db, since: Option<DateTime<Utc>>) -> Result<PromotionFigures, RepoError> {
    let totals = sqlx::query!(
        r#"SELECT
             (SELECT coalesce(sum(balance), 0)::bigint FROM ledger_accounts WHERE kind = 'PROMO_WALLET') AS "outstanding!",
             (SELECT coalesce(sum(amount), 0)::bigint FROM ledger_entries
              WHERE account_id = '00000000-0000-0000-0000-000000000005') AS "marketing!",
             (SELECT coalesce(sum(promo_spent), 0)::bigint FROM calls WHERE (promo_spent > 0 OR free_coins > 0)
              AND ($1::timestamptz IS NULL OR ended_at >= $1)) AS "promo_spent!",
             (SELECT coalesce(sum(free_coins), 0)::bigint FROM calls WHERE (promo_spent > 0 OR free_coins > 0)
              AND ($1::timestamptz IS NULL OR ended_at >= $1)) AS "free_call_coins!",
             (SELECT coalesce(sum(e.amount), 0)::bigint FROM journals j JOIN ledger_entries e ON e.journal_id = j.id
              WHERE j.cause = 'PROMO_EXPIRY' AND ($1::timestamptz IS NULL OR j.created_at >= $1)
              AND e.account_id = '00000000-0000-0000-0000-000000000005') AS "expired!",
             (SELECT count(*) FROM coupon_redemptions WHERE status = 'REDEEMED'
              AND ($1::timestamptz IS NULL OR updated_at >= $1)) AS "redemptions!",
             (SELECT coalesce(sum(discount_paise), 0)::bigint FROM coupon_redemptions WHERE status = 'REDEEMED'
              AND ($1::timestamptz IS NULL OR updated_at >= $1)) AS "discount!""#,
        since
    )
    .fetch_one(db.pool())
    .await?;
    let grants = sqlx::query!(
        r#"SELECT cause AS "cause: LotCause", sum(coins)::bigint AS "coins!", count(*) AS "lots!" FROM promo_lots
           WHERE $1::timestamptz IS NULL OR created_at >= $1 GROUP BY cause ORDER BY cause"#,
        since
    )
    .fetch_all(db.pool())
    .await?;
    Ok(PromotionFigures {
        outstanding: totals.outstanding,
        marketing_balance: totals.marketing,
        promo_spent: totals.promo_spent,
        free_call_coins: totals.free_call_coins,
        expired: totals.expired,
        grants: grants.into_iter().map(|g| (g.cause, g.coins, g.lots)).collect(),
        coupon_redemptions: totals.redemptions,
        coupon_discount_paise: totals.discount,
    })
}
