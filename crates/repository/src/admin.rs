//! What operators read and change: account moderation, telecaller approval, the audit log.

use chrono::{DateTime, Utc};
use serde_json::Value;
use talktime_domain::ids::{AccountId, AdminId};
use uuid::Uuid;

use crate::{RepoError, Tx};

/// Writes one audit entry in the caller's transaction, so the change and its record commit together.
pub async fn audit(
    tx: &mut Tx,
    admin: AdminId,
    action: &str,
    target_type: &str,
    target_id: Option<Uuid>,
    before: Value,
    after: Value,
) -> Result<(), RepoError> {
    sqlx::query(
        "INSERT INTO admin_audit_log (id, admin_id, action, target_type, target_id, before, after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(Uuid::now_v7())
    .bind(admin.0)
    .bind(action)
    .bind(target_type)
    .bind(target_id)
    .bind(before)
    .bind(after)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: Uuid,
    pub admin_id: Uuid,
    pub admin_email: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub created_at: DateTime<Utc>,
}

pub async fn audit_page(db: &crate::Db, limit: i64, offset: i64) -> Result<(Vec<AuditEntry>, i64), RepoError> {
    let rows = sqlx::query_as(
        "SELECT l.id, l.admin_id, a.email AS admin_email, l.action, l.target_type, l.target_id, l.before, l.after, \
         l.created_at FROM admin_audit_log l JOIN admins a ON a.id = l.admin_id \
         ORDER BY l.created_at DESC, l.id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM admin_audit_log").fetch_one(db.pool()).await?;
    Ok((rows, total))
}

/// PENDING → APPROVED (clearing the note), or PENDING/APPROVED → REJECTED with a note. Returns
/// the previous status, or `None` when the application was not in a state this move leaves.
pub async fn decide_application(
    tx: &mut Tx,
    telecaller: AccountId,
    approve: bool,
    note: Option<&str>,
) -> Result<Option<String>, RepoError> {
    let sql = if approve {
        "UPDATE telecaller_profiles t SET approval_status = 'APPROVED', verification_notes = NULL, updated_at = now() \
         FROM (SELECT approval_status FROM telecaller_profiles WHERE account_id = $1 FOR UPDATE) old \
         WHERE t.account_id = $1 AND t.approval_status = 'PENDING' RETURNING old.approval_status"
    } else {
        "UPDATE telecaller_profiles t SET approval_status = 'REJECTED', verification_notes = $2, updated_at = now() \
         FROM (SELECT approval_status FROM telecaller_profiles WHERE account_id = $1 FOR UPDATE) old \
         WHERE t.account_id = $1 AND t.approval_status IN ('PENDING', 'APPROVED') RETURNING old.approval_status"
    };
    Ok(sqlx::query_scalar(sql).bind(telecaller.0).bind(note).fetch_optional(&mut **tx).await?)
}

/// Reports against an account: the latest five and the total.
pub async fn complaints(ex: &crate::Db, account: AccountId) -> Result<(Vec<Complaint>, i64), RepoError> {
    let latest = sqlx::query_as(
        "SELECT r.id, r.call_id, r.reporter_id, a.name AS reporter_name, a.status AS reporter_status, r.description, \
         r.status, r.created_at FROM reports r JOIN accounts a ON a.id = r.reporter_id WHERE r.reported_id = $1 \
         ORDER BY r.created_at DESC, r.id DESC LIMIT 5",
    )
    .bind(account.0)
    .fetch_all(ex.pool())
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM reports WHERE reported_id = $1")
        .bind(account.0)
        .fetch_one(ex.pool())
        .await?;
    Ok((latest, total))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Complaint {
    pub id: Uuid,
    pub call_id: Uuid,
    pub reporter_id: Uuid,
    pub reporter_name: Option<String>,
    pub reporter_status: String,
    pub description: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// A row of the admin account lists.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: Uuid,
    pub phone: String,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub language: Option<String>,
    pub status: String,
    pub approval_status: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Users (role USER), optionally by phone or name prefix, newest first, with the total.
pub async fn users_page(
    db: &crate::Db,
    search: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AccountRow>, i64), RepoError> {
    let pattern = search.map(|s| format!("{}%", s.trim().to_lowercase().replace(['%', '_', '\\'], "")));
    let rows = sqlx::query_as(
        "SELECT a.id, a.phone, a.name, a.gender, a.language, a.status, NULL::text AS approval_status, a.created_at \
         FROM accounts a WHERE a.role = 'USER' AND ($1::text IS NULL OR a.phone LIKE $1 OR lower(a.name) LIKE $1) \
         ORDER BY a.created_at DESC, a.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let total = sqlx::query_scalar(
        "SELECT count(*) FROM accounts a WHERE a.role = 'USER' AND ($1::text IS NULL OR a.phone LIKE $1 OR lower(a.name) LIKE $1)",
    )
    .bind(&pattern)
    .fetch_one(db.pool())
    .await?;
    Ok((rows, total))
}

/// Telecallers with one approval status, newest application first, with the total.
pub async fn telecallers_page(
    db: &crate::Db,
    approval: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AccountRow>, i64), RepoError> {
    let rows = sqlx::query_as(
        "SELECT a.id, a.phone, a.name, a.gender, a.language, a.status, t.approval_status, a.created_at \
         FROM telecaller_profiles t JOIN accounts a ON a.id = t.account_id WHERE t.approval_status = $1 \
         ORDER BY t.created_at DESC, t.account_id DESC LIMIT $2 OFFSET $3",
    )
    .bind(approval)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM telecaller_profiles WHERE approval_status = $1")
        .bind(approval)
        .fetch_one(db.pool())
        .await?;
    Ok((rows, total))
}

// ---- plans ---------------------------------------------------------------------------------

/// A page of the plans not deleted, active or not, by price, with their count.
pub async fn plans_page(db: &crate::Db, limit: i64, offset: i64) -> Result<(Vec<AdminPlan>, i64), RepoError> {
    let rows = sqlx::query_as(
        "SELECT id, amount_paise, coins, discount_hundredths, is_active, created_at, updated_at FROM plans \
         WHERE deleted_at IS NULL ORDER BY amount_paise, id LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM plans WHERE deleted_at IS NULL").fetch_one(db.pool()).await?;
    Ok((rows, total))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminPlan {
    pub id: Uuid,
    pub amount_paise: i64,
    pub coins: i64,
    pub discount_hundredths: i32,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub async fn find_plan(ex: &mut Tx, id: Uuid) -> Result<Option<AdminPlan>, RepoError> {
    Ok(sqlx::query_as(
        "SELECT id, amount_paise, coins, discount_hundredths, is_active, created_at, updated_at FROM plans \
         WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut **ex)
    .await?)
}

pub async fn insert_plan(ex: &mut Tx, plan: &AdminPlan) -> Result<AdminPlan, RepoError> {
    Ok(sqlx::query_as(
        "INSERT INTO plans (id, amount_paise, coins, discount_hundredths, is_active) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, amount_paise, coins, discount_hundredths, is_active, created_at, updated_at",
    )
    .bind(plan.id)
    .bind(plan.amount_paise)
    .bind(plan.coins)
    .bind(plan.discount_hundredths)
    .bind(plan.is_active)
    .fetch_one(&mut **ex)
    .await?)
}

pub async fn update_plan(ex: &mut Tx, plan: &AdminPlan) -> Result<AdminPlan, RepoError> {
    Ok(sqlx::query_as(
        "UPDATE plans SET amount_paise = $2, coins = $3, discount_hundredths = $4, is_active = $5, updated_at = now() \
         WHERE id = $1 RETURNING id, amount_paise, coins, discount_hundredths, is_active, created_at, updated_at",
    )
    .bind(plan.id)
    .bind(plan.amount_paise)
    .bind(plan.coins)
    .bind(plan.discount_hundredths)
    .bind(plan.is_active)
    .fetch_one(&mut **ex)
    .await?)
}

pub async fn delete_plan(ex: &mut Tx, id: Uuid) -> Result<bool, RepoError> {
    let done = sqlx::query("UPDATE plans SET deleted_at = now(), is_active = false, updated_at = now() WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .execute(&mut **ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

// ---- app config ----------------------------------------------------------------------------

pub async fn lock_config(ex: &mut Tx) -> Result<crate::app_config::AppConfig, RepoError> {
    Ok(sqlx::query_as(
        "SELECT inr_to_coin_ratio_hundredths, min_withdrawal_coins, user_audio_coins_per_sec, user_video_coins_per_sec, \
         telecaller_audio_coins_per_sec, telecaller_video_coins_per_sec, min_call_balance_seconds, updated_at \
         FROM app_config WHERE id FOR UPDATE",
    )
    .fetch_one(&mut **ex)
    .await?)
}

pub async fn save_config(
    ex: &mut Tx,
    c: &crate::app_config::AppConfig,
) -> Result<crate::app_config::AppConfig, RepoError> {
    Ok(sqlx::query_as(
        "UPDATE app_config SET inr_to_coin_ratio_hundredths = $1, min_withdrawal_coins = $2, user_audio_coins_per_sec = $3, \
         user_video_coins_per_sec = $4, telecaller_audio_coins_per_sec = $5, telecaller_video_coins_per_sec = $6, \
         min_call_balance_seconds = $7, updated_at = now() WHERE id RETURNING inr_to_coin_ratio_hundredths, \
         min_withdrawal_coins, user_audio_coins_per_sec, user_video_coins_per_sec, telecaller_audio_coins_per_sec, \
         telecaller_video_coins_per_sec, min_call_balance_seconds, updated_at",
    )
    .bind(c.inr_to_coin_ratio_hundredths)
    .bind(c.min_withdrawal_coins)
    .bind(c.user_audio_coins_per_sec)
    .bind(c.user_video_coins_per_sec)
    .bind(c.telecaller_audio_coins_per_sec)
    .bind(c.telecaller_video_coins_per_sec)
    .bind(c.min_call_balance_seconds)
    .fetch_one(&mut **ex)
    .await?)
}

// ---- reports -------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRow {
    pub id: Uuid,
    pub call_id: Uuid,
    pub reporter_id: Uuid,
    pub reporter_name: Option<String>,
    pub reporter_phone: String,
    pub reporter_role: String,
    pub reporter_status: String,
    pub reported_id: Uuid,
    pub reported_name: Option<String>,
    pub reported_phone: String,
    pub reported_role: String,
    pub reported_status: String,
    pub description: String,
    pub status: String,
    pub admin_notes: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! select_report {
    ($rest:literal) => {
        concat!(
            "SELECT r.id, r.call_id, r.reporter_id, rp.name AS reporter_name, rp.phone AS reporter_phone, ",
            "rp.role AS reporter_role, rp.status AS reporter_status, r.reported_id, rd.name AS reported_name, ",
            "rd.phone AS reported_phone, rd.role AS reported_role, rd.status AS reported_status, r.description, r.status, ",
            "r.admin_notes, r.resolved_at, r.created_at, r.updated_at FROM reports r ",
            "JOIN accounts rp ON rp.id = r.reporter_id JOIN accounts rd ON rd.id = r.reported_id ",
            $rest
        )
    };
}

pub async fn reports_page(
    db: &crate::Db,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<ReportRow>, i64), RepoError> {
    let rows = sqlx::query_as(select_report!(
        "WHERE ($1::text IS NULL OR r.status = $1) ORDER BY r.created_at DESC, r.id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM reports WHERE ($1::text IS NULL OR status = $1)")
        .bind(status)
        .fetch_one(db.pool())
        .await?;
    Ok((rows, total))
}

pub async fn find_report(db: &crate::Db, id: Uuid) -> Result<Option<ReportRow>, RepoError> {
    Ok(sqlx::query_as(select_report!("WHERE r.id = $1")).bind(id).fetch_optional(db.pool()).await?)
}

/// Moves a report from one of `from` to `to`, setting or clearing `resolved_at`; the previous
/// status, or `None` when the report was not in one of `from`.
pub async fn move_report(
    tx: &mut Tx,
    id: Uuid,
    from: &[&str],
    to: &str,
    notes: Option<&str>,
) -> Result<Option<String>, RepoError> {
    let from: Vec<String> = from.iter().map(|s| (*s).to_owned()).collect();
    Ok(sqlx::query_scalar(
        "WITH old AS (SELECT status FROM reports WHERE id = $1 FOR UPDATE) \
         UPDATE reports r SET status = $3, admin_notes = COALESCE($4, r.admin_notes), updated_at = now(), \
         resolved_at = CASE WHEN $3 IN ('RESOLVED', 'DISMISSED') THEN now() ELSE NULL END \
         FROM old WHERE r.id = $1 AND r.status = ANY($2) RETURNING old.status",
    )
    .bind(id)
    .bind(&from)
    .bind(to)
    .bind(notes)
    .fetch_optional(&mut **tx)
    .await?)
}

// ---- calls ---------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminCallRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_name: Option<String>,
    pub telecaller_id: Uuid,
    pub telecaller_name: Option<String>,
    pub call_type: String,
    pub status: String,
    pub end_reason: Option<String>,
    pub user_rate: i64,
    pub created_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub coins_spent: Option<i64>,
    pub coins_earned: Option<i64>,
    /// Seconds since accept, for live calls.
    pub elapsed_seconds: Option<i64>,
}

pub async fn calls_page(
    db: &crate::Db,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AdminCallRow>, i64), RepoError> {
    let rows = sqlx::query_as(
        "SELECT c.id, c.user_id, u.name AS user_name, c.telecaller_id, t.name AS telecaller_name, c.call_type, c.status, \
         c.end_reason, c.user_rate, c.created_at, c.accepted_at, c.ended_at, c.duration_seconds, c.coins_spent, c.coins_earned, \
         CASE WHEN c.status = 'ACCEPTED' THEN COALESCE(floor(extract(epoch FROM LEAST(now(), c.billing_deadline) - c.connected_at))::bigint, 0) END \
         AS elapsed_seconds \
         FROM calls c JOIN accounts u ON u.id = c.user_id JOIN accounts t ON t.id = c.telecaller_id \
         WHERE ($1::text IS NULL OR c.status = $1) ORDER BY c.created_at DESC, c.id DESC LIMIT $2 OFFSET $3",
    )
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let total = sqlx::query_scalar("SELECT count(*) FROM calls WHERE ($1::text IS NULL OR status = $1)")
        .bind(status)
        .fetch_one(db.pool())
        .await?;
    Ok((rows, total))
}
