//! Figures for the admin dashboard. Month and day boundaries are UTC.

use chrono::{DateTime, Utc};
use talktime_domain::dashboard::{Distribution, Stats, TrendPoint};

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
