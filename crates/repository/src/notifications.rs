//! The notification inbox and its preferences. Notifications are written by `push::enqueue` and
//! `push::enqueue_online_alerts`, in the statement that queues their pushes.

use talktime_domain::ids::AccountId;
use talktime_domain::notification::{Notification, NotificationCategory};

use crate::{Executor, RepoError};

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
