//! The notification inbox and its preferences. Notifications are written by `push::enqueue` and
//! `push::enqueue_online_alerts`, in the statement that queues their pushes.

use talktime_domain::ids::{AccountId, AdminId};
use talktime_domain::notification::{Audience, Broadcast, Notification, NotificationCategory};

use crate::{Executor, RepoError, Tx};

/// Up to `limit + 1` of her notifications from `offset`, newest first (index
/// `notifications_account_idx`), so the caller knows whether more follow.
pub async fn page(
    ex: impl Executor<'_>,
    account: AccountId,
    limit: i64,
    offset: i64,
) -> Result<Vec<Notification>, RepoError> {
    Ok(sqlx::query_as!(
        Notification,
        r#"SELECT id, category AS "category: NotificationCategory", kind, title, body, data, read_at, created_at
           FROM notifications WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"#,
        account.0,
        limit + 1,
        offset
    )
    .fetch_all(ex)
    .await?)
}

/// How many she has not read (index `notifications_unread_idx`).
pub async fn unread(ex: impl Executor<'_>, account: AccountId) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM notifications WHERE account_id = $1 AND read_at IS NULL"#,
        account.0
    )
    .fetch_one(ex)
    .await?)
}

/// Marks hers read: those of `ids`, or all when `None`. How many changed.
pub async fn mark_read(
    ex: impl Executor<'_>,
    account: AccountId,
    ids: Option<&[uuid::Uuid]>,
) -> Result<u64, RepoError> {
    let done = sqlx::query!(
        "UPDATE notifications SET read_at = now() WHERE account_id = $1 AND read_at IS NULL \
         AND ($2::uuid[] IS NULL OR id = ANY($2))",
        account.0,
        ids
    )
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// The categories she muted.
pub async fn muted(ex: impl Executor<'_>, account: AccountId) -> Result<Vec<NotificationCategory>, RepoError> {
    let muted: Option<Vec<String>> =
        sqlx::query_scalar!("SELECT muted FROM notification_preferences WHERE account_id = $1", account.0)
            .fetch_optional(ex)
            .await?;
    Ok(muted.unwrap_or_default().iter().filter_map(|m| m.parse().ok()).collect())
}

pub async fn set_muted(
    ex: impl Executor<'_>,
    account: AccountId,
    muted: &[NotificationCategory],
) -> Result<(), RepoError> {
    let muted: Vec<String> = muted.iter().map(|m| m.as_str().to_owned()).collect();
    sqlx::query!(
        "INSERT INTO notification_preferences (account_id, muted) VALUES ($1, $2) \
         ON CONFLICT (account_id) DO UPDATE SET muted = EXCLUDED.muted, updated_at = now()",
        account.0,
        &muted
    )
    .execute(ex)
    .await?;
    Ok(())
}

/// Deletes what is older than `max_age_secs` (index `notifications_created_idx`); how many.
pub async fn delete_older_than(ex: impl Executor<'_>, max_age_secs: f64) -> Result<u64, RepoError> {
    let done =
        sqlx::query!("DELETE FROM notifications WHERE created_at < now() - make_interval(secs => $1)", max_age_secs)
            .execute(ex)
            .await?;
    Ok(done.rows_affected())
}

/// `query!` over a broadcast's targets: the CTE `targets (id, n)` (`n` counts from 0), its
/// filters written once, here: `$1` role, `$2` language, `$3` minimum balance, `$4` days since
/// active, `$5` recharged or not, `$6` the category (muted ones are left out). `$head`, the CTE,
/// then `$tail`.
macro_rules! targets_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query!(
            $head
                + "WITH targets AS (SELECT a.id, row_number() OVER (ORDER BY a.id) - 1 AS n FROM accounts a \
                   WHERE a.status = 'ACTIVE' AND a.role = $1 AND ($2::text IS NULL OR a.language = $2) \
                   AND ($3::bigint IS NULL OR (SELECT coalesce(sum(l.balance), 0) FROM ledger_accounts l \
                     WHERE l.owner_id = a.id) >= $3) \
                   AND ($4::float8 IS NULL OR EXISTS (SELECT 1 FROM devices d WHERE d.account_id = a.id \
                     AND d.updated_at >= now() - make_interval(secs => $4 * 86400)) \
                     OR EXISTS (SELECT 1 FROM calls c WHERE (c.user_id = a.id OR c.telecaller_id = a.id) \
                     AND c.created_at >= now() - make_interval(secs => $4 * 86400))) \
                   AND ($5::bool IS NULL OR EXISTS (SELECT 1 FROM transactions t WHERE t.account_id = a.id \
                     AND t.type = 'RECHARGE' AND t.status = 'SUCCESS') = $5) \
                   AND NOT EXISTS (SELECT 1 FROM notification_preferences p WHERE p.account_id = a.id \
                     AND $6 = ANY(p.muted))) "
                + $tail
            $(, $arg)*
        )
    };
}

/// How many a broadcast to `audience` in `category` would reach.
pub async fn audience_size(
    ex: impl Executor<'_>,
    audience: &Audience,
    category: NotificationCategory,
) -> Result<i64, RepoError> {
    let row = targets_query!(
        "",
        r#"SELECT count(*) AS "count!" FROM targets"#,
        audience.role.as_str(),
        audience.language.map(|l| l.as_str()),
        audience.min_balance,
        audience.last_active_within_days,
        audience.has_recharged,
        category.as_str()
    )
    .fetch_one(ex)
    .await?;
    Ok(row.count)
}

/// What a broadcast says, and to whom, at what pace.
pub struct NewBroadcast<'a> {
    pub id: uuid::Uuid,
    pub admin: AdminId,
    pub title: &'a str,
    pub body: &'a str,
    pub category: NotificationCategory,
    pub audience: &'a Audience,
    pub audience_json: &'a serde_json::Value,
    pub per_second: i32,
}

/// Records the broadcast, stores it in each target's inbox and queues one low-priority push per
/// device, target `n` due `n ÷ per_second` seconds from now: one statement. How many it targets.
pub async fn send(tx: &mut Tx, b: &NewBroadcast<'_>) -> Result<i64, RepoError> {
    sqlx::query!(
        "INSERT INTO broadcasts (id, admin_id, title, body, category, audience, targeted, per_second) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
        b.id,
        b.admin.0,
        b.title,
        b.body,
        b.category.as_str(),
        b.audience_json,
        b.per_second
    )
    .execute(&mut **tx)
    .await?;
    let data = serde_json::json!({ "type": "broadcast", "broadcastId": b.id, "category": b.category });
    let row = targets_query!(
        "",
        ", stored AS (INSERT INTO notifications (id, account_id, category, kind, title, body, data, broadcast_id) \
           SELECT gen_random_uuid(), id, $6, 'BROADCAST', $7, $8, $9, $10 FROM targets RETURNING 1), \
         queued AS (INSERT INTO push_outbox (id, account_id, token, kind, high_priority, title, body, data, platform, \
           device_kind, broadcast_id, next_attempt_at) \
           SELECT gen_random_uuid(), t.id, d.token, 'BROADCAST', false, $7, $8, $9, d.platform, d.kind, $10, \
             now() + make_interval(secs => t.n::float8 / $11) \
           FROM targets t JOIN devices d ON d.account_id = t.id AND d.kind = 'alert' RETURNING 1) \
         UPDATE broadcasts SET targeted = (SELECT count(*) FROM stored) WHERE id = $10 \
         RETURNING targeted",
        b.audience.role.as_str(),
        b.audience.language.map(|l| l.as_str()),
        b.audience.min_balance,
        b.audience.last_active_within_days,
        b.audience.has_recharged,
        b.category.as_str(),
        b.title,
        b.body,
        &data,
        b.id,
        f64::from(b.per_second)
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(i64::from(row.targeted))
}

/// A broadcast with its figures (indexes `push_outbox_broadcast_idx`,
/// `notifications_broadcast_idx`).
pub async fn broadcast(ex: impl Executor<'_>, id: uuid::Uuid) -> Result<Option<Broadcast>, RepoError> {
    Ok(sqlx::query_as!(
        Broadcast,
        r#"SELECT b.id, b.title, b.body, b.category AS "category: NotificationCategory", b.audience, b.targeted,
                  b.per_second, b.created_at,
                  (SELECT count(*) FROM push_outbox o WHERE o.broadcast_id = b.id AND o.sent_at IS NOT NULL) AS "sent!",
                  (SELECT count(*) FROM push_outbox o WHERE o.broadcast_id = b.id AND o.failed_at IS NOT NULL) AS "failed!",
                  (SELECT count(*) FROM notifications n WHERE n.broadcast_id = b.id AND n.read_at IS NOT NULL) AS "opened!"
           FROM broadcasts b WHERE b.id = $1"#,
        id
    )
    .fetch_optional(ex)
    .await?)
}
