//! Devices and the push outbox.

use serde_json::Value;
use talktime_domain::ids::{AccountId, NotificationId};
use talktime_domain::push::{DeviceKind, DevicePlatform, PushKind};

use crate::{Executor, RepoError, Tx};

/// Registers `token` for `account`; a token another account registered moves to this one.
/// Answers that other account (it may have lost its last device).
pub async fn register_device(
    tx: &mut Tx,
    account: AccountId,
    token: &str,
    platform: DevicePlatform,
    kind: DeviceKind,
) -> Result<Option<AccountId>, RepoError> {
    let previous = sqlx::query_scalar!(
        r#"SELECT account_id AS "account_id: AccountId" FROM devices WHERE token = $1 FOR UPDATE"#,
        token
    )
    .fetch_optional(&mut **tx)
    .await?;
    sqlx::query!(
        "INSERT INTO devices (token, account_id, platform, kind) VALUES ($1, $2, $3, $4) ON CONFLICT (token) DO UPDATE \
         SET account_id = EXCLUDED.account_id, platform = EXCLUDED.platform, kind = EXCLUDED.kind, updated_at = now()",
        token,
        account.0,
        platform.as_str(),
        kind.as_str()
    )
    .execute(&mut **tx)
    .await?;
    Ok(previous.filter(|owner| *owner != account))
}

/// Keeps the account's `keep` most recently registered devices and forgets the others; how many
/// it forgot.
pub async fn keep_latest_devices(tx: &mut Tx, account: AccountId, keep: i64) -> Result<u64, RepoError> {
    let done = sqlx::query!(
        "DELETE FROM devices WHERE account_id = $1 AND token NOT IN \
         (SELECT token FROM devices WHERE account_id = $1 ORDER BY updated_at DESC, created_at DESC LIMIT $2)",
        account.0,
        keep
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// Forgets `token` if `account` holds it; whether it did.
pub async fn remove_device(tx: &mut Tx, account: AccountId, token: &str) -> Result<bool, RepoError> {
    let done = sqlx::query!("DELETE FROM devices WHERE token = $1 AND account_id = $2", token, account.0)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets a token the push provider says is no longer registered; answers whose it was.
pub async fn forget_token(tx: &mut Tx, token: &str) -> Result<Option<AccountId>, RepoError> {
    Ok(sqlx::query_scalar!(
        r#"DELETE FROM devices WHERE token = $1 RETURNING account_id AS "account_id: AccountId""#,
        token
    )
    .fetch_optional(&mut **tx)
    .await?)
}

/// A telecaller with no device left can no longer be rung through a push: her "reachable by
/// push" ends (she turns it on again from a device). Whether it did.
pub async fn end_reachability_without_devices(tx: &mut Tx, account: AccountId) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "UPDATE telecaller_profiles SET reachable_by_push = false, updated_at = now() \
         WHERE account_id = $1 AND reachable_by_push AND NOT EXISTS (SELECT 1 FROM devices WHERE account_id = $1)",
        account.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets whether a telecaller may be rung through a push; false when she is not a telecaller.
pub async fn set_reachable_by_push(
    ex: impl Executor<'_>,
    telecaller: AccountId,
    reachable: bool,
) -> Result<bool, RepoError> {
    let done = sqlx::query!(
        "UPDATE telecaller_profiles SET reachable_by_push = $2, updated_at = now() WHERE account_id = $1",
        telecaller.0,
        reachable
    )
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// `query_scalar!` over telecallers `a` (accounts) and `t` (profiles) that can be rung through a
/// push: approved, active, reachable by push. `$head`, the condition (written once, here), then
/// `$tail`.
macro_rules! push_reachable_query {
    ($head:tt, $tail:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_scalar!(
            $head
                + "a.status = 'ACTIVE' AND a.role = 'TELECALLER' AND t.approval_status = 'APPROVED' \
                   AND t.reachable_by_push"
                + $tail
            $(, $arg)*
        )
    };
}

/// Whether the telecaller can be rung through a push now.
pub async fn is_push_reachable(ex: impl Executor<'_>, telecaller: AccountId) -> Result<bool, RepoError> {
    Ok(push_reachable_query!(
        "SELECT EXISTS (SELECT 1 FROM accounts a JOIN telecaller_profiles t ON t.account_id = a.id WHERE a.id = $1 AND ",
        r#") AS "reachable!""#,
        telecaller.0
    )
    .fetch_one(ex)
    .await?)
}

/// Every telecaller who can be rung through a push now (index `telecaller_profiles_push_idx`).
pub async fn push_reachable_telecallers(ex: impl Executor<'_>) -> Result<Vec<AccountId>, RepoError> {
    Ok(push_reachable_query!(
        r#"SELECT a.id AS "id: AccountId" FROM telecaller_profiles t JOIN accounts a ON a.id = t.account_id WHERE "#,
        ""
    )
    .fetch_all(ex)
    .await?)
}

/// A notification for an account, before it is fanned out to its devices.
#[derive(Debug, Clone)]
pub struct Notification<'a> {
    pub account: AccountId,
    pub kind: PushKind,
    /// Data-only when both are `None` (an incoming call: the app draws its own screen).
    pub title: Option<&'a str>,
    pub body: Option<&'a str>,
    pub data: Value,
    pub high_priority: bool,
}

/// Writes one outbox row per device of the account that should get it, in the caller's
/// transaction; how many. VoIP tokens get rings only; an iPhone with a VoIP token is rung
/// through it alone (not through its alert token as well).
pub async fn enqueue(tx: &mut Tx, notification: &Notification<'_>) -> Result<u64, RepoError> {
    // Stored in her inbox too (but rings and cancels, which have no category), unless she muted
    // its category: then neither stored nor pushed.
    let category = notification.kind.category().map(|c| c.as_str());
    let done = sqlx::query!(
        "WITH muted AS (SELECT coalesce((SELECT $7 = ANY(muted) FROM notification_preferences WHERE account_id = $1), \
           false) AS muted), \
         stored AS (INSERT INTO notifications (id, account_id, category, kind, title, body, data) \
           SELECT gen_random_uuid(), $1, $7, $2, $4, $5, $6 FROM muted WHERE $7::text IS NOT NULL AND NOT muted.muted) \
         INSERT INTO push_outbox (id, account_id, token, kind, high_priority, title, body, data, platform, device_kind) \
         SELECT gen_random_uuid(), $1, d.token, $2, $3, $4, $5, $6, d.platform, d.kind FROM devices d, muted \
         WHERE d.account_id = $1 AND NOT muted.muted AND CASE WHEN $2 = 'INCOMING_CALL' THEN NOT (d.platform = 'ios' \
           AND d.kind = 'alert' AND EXISTS (SELECT 1 FROM devices v WHERE v.account_id = $1 AND v.kind = 'voip')) \
           ELSE d.kind = 'alert' END",
        notification.account.0,
        notification.kind.as_str(),
        notification.high_priority,
        notification.title,
        notification.body,
        &notification.data,
        category
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// She came online: one push to every device of each user who asked for alerts about her and is
/// not in a call, unless the last alerts about her went out less than `cooldown_secs` ago (the
/// window is claimed by one conditional upsert, so two nodes never both send). How many rows.
pub async fn enqueue_online_alerts(
    tx: &mut Tx,
    telecaller: AccountId,
    cooldown_secs: f64,
    title: &str,
    body: &str,
    data: &Value,
) -> Result<u64, RepoError> {
    let claimed: Option<uuid::Uuid> = sqlx::query_scalar!(
        "INSERT INTO online_alerts (telecaller_id, sent_at) VALUES ($1, now()) ON CONFLICT (telecaller_id) \
         DO UPDATE SET sent_at = now() WHERE online_alerts.sent_at <= now() - make_interval(secs => $2) \
         RETURNING telecaller_id",
        telecaller.0,
        cooldown_secs
    )
    .fetch_optional(&mut **tx)
    .await?;
    if claimed.is_none() {
        return Ok(0);
    }
    // Each subscriber outside a call who did not mute online alerts: one inbox entry, and one
    // push per device.
    let done = sqlx::query!(
        "WITH subscribers AS (SELECT f.user_id FROM favorites f WHERE f.telecaller_id = $1 AND f.alerts \
           AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.user_id = f.user_id AND c.status IN ('RINGING', 'ACCEPTED')) \
           AND NOT EXISTS (SELECT 1 FROM notification_preferences p WHERE p.account_id = f.user_id \
             AND 'online_alerts' = ANY(p.muted))), \
         stored AS (INSERT INTO notifications (id, account_id, category, kind, title, body, data) \
           SELECT gen_random_uuid(), user_id, 'online_alerts', 'ONLINE_ALERT', $2, $3, $4 FROM subscribers) \
         INSERT INTO push_outbox (id, account_id, token, kind, title, body, data, platform, device_kind) \
         SELECT gen_random_uuid(), s.user_id, d.token, 'ONLINE_ALERT', $2, $3, $4, d.platform, d.kind \
         FROM subscribers s JOIN devices d ON d.account_id = s.user_id WHERE d.kind = 'alert'",
        telecaller.0,
        title,
        body,
        data
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}

/// One notification for one device, as claimed by a worker.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: NotificationId,
    pub token: String,
    pub kind: PushKind,
    pub high_priority: bool,
    pub title: Option<String>,
    pub body: Option<String>,
    pub data: Value,
    pub attempts: i32,
    /// The device's platform and kind: which provider sends it, and how.
    pub platform: DevicePlatform,
    pub device_kind: DeviceKind,
}

/// Claims up to `limit` due rows: they are skipped by other workers while locked, and pushed
/// `lease_secs` into the future when claimed, so a worker that dies mid-send leaves them due
/// again later (sent at least once; the provider de-duplicates nothing, so the lease is long).
/// High-priority rows (rings and their cancels) come first: a backlog of alerts never holds a
/// ring back.
pub async fn claim_due(ex: impl Executor<'_>, limit: i64, lease_secs: f64) -> Result<Vec<Outgoing>, RepoError> {
    Ok(sqlx::query_as!(
        Outgoing,
        "UPDATE push_outbox o SET next_attempt_at = now() + make_interval(secs => $2), attempts = o.attempts + 1 \
         FROM (SELECT id FROM push_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() \
               ORDER BY high_priority DESC, next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) due \
         WHERE o.id = due.id \
         RETURNING o.id AS \"id: NotificationId\", o.token, o.kind AS \"kind: PushKind\", o.high_priority, o.title, o.body, o.data, o.attempts, \
           o.platform AS \"platform: DevicePlatform\", o.device_kind AS \"device_kind: DeviceKind\"",
        limit,
        lease_secs
    )
    .fetch_all(ex)
    .await?)
}

pub async fn mark_sent(ex: impl Executor<'_>, id: NotificationId) -> Result<(), RepoError> {
    sqlx::query!("UPDATE push_outbox SET sent_at = now(), last_error = NULL WHERE id = $1", id.0).execute(ex).await?;
    Ok(())
}

/// Due again in `delay_secs`, with what went wrong.
pub async fn retry_later(
    ex: impl Executor<'_>,
    id: NotificationId,
    delay_secs: i64,
    error: &str,
) -> Result<(), RepoError> {
    sqlx::query!(
        "UPDATE push_outbox SET next_attempt_at = now() + make_interval(secs => $2::double precision), \
         last_error = $3 WHERE id = $1",
        id.0,
        delay_secs as f64,
        error
    )
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn give_up(ex: impl Executor<'_>, id: NotificationId, error: &str) -> Result<(), RepoError> {
    sqlx::query!("UPDATE push_outbox SET failed_at = now(), last_error = $2 WHERE id = $1", id.0, error)
        .execute(ex)
        .await?;
    Ok(())
}

/// Notifications waiting to be sent (index `push_outbox_due_idx`).
pub async fn depth(ex: impl Executor<'_>) -> Result<i64, RepoError> {
    Ok(sqlx::query_scalar!(
        "SELECT count(*) AS \"count!\" FROM push_outbox WHERE sent_at IS NULL AND failed_at IS NULL"
    )
    .fetch_one(ex)
    .await?)
}
