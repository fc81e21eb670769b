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
        "SELECT id, call_id, reporter_id, description, status, created_at FROM reports WHERE reported_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT 5",
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
