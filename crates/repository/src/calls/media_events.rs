//! LiveKit webhook events already handled: each event id is acted on once.

use crate::{Executor, RepoError};

/// Records `id` as handled; `false` when it already was (a redelivery).
pub async fn record_media_event(ex: impl Executor<'_>, id: &str) -> Result<bool, RepoError> {
    let done = sqlx::query!("INSERT INTO media_webhook_events (id) VALUES ($1) ON CONFLICT DO NOTHING", id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets `id` (its handling failed: LiveKit's retry may try again).
pub async fn forget_media_event(ex: impl Executor<'_>, id: &str) -> Result<(), RepoError> {
    sqlx::query!("DELETE FROM media_webhook_events WHERE id = $1", id).execute(ex).await?;
    Ok(())
}

/// Drops the ids recorded more than `older_than_secs` ago (their events are refused as stale).
pub async fn prune_media_events(ex: impl Executor<'_>, older_than_secs: f64) -> Result<u64, RepoError> {
    let done = sqlx::query!(
        "DELETE FROM media_webhook_events WHERE received_at < now() - make_interval(secs => $1)",
        older_than_secs
    )
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}
