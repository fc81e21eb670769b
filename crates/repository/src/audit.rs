//! The audit log: every state-changing admin action, who did it, and the before and after.

use serde_json::Value;
use talktime_domain::audit::AuditEntry;
use talktime_domain::ids::AdminId;
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
    sqlx::query!(
        "INSERT INTO admin_audit_log (id, admin_id, action, target_type, target_id, before, after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        Uuid::now_v7(),
        admin.0,
        action,
        target_type,
        target_id,
        before,
        after
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn page(
    db: &crate::Db,
    limit: i64,
    offset: i64,
) -> Result<talktime_domain::page::Page<AuditEntry>, RepoError> {
    crate::paged(
        sqlx::query_as!(
            AuditEntry,
            "SELECT l.id, l.admin_id AS \"admin_id: AdminId\", a.email AS admin_email, l.action, l.target_type, l.target_id, l.before, l.after, \
         l.created_at FROM admin_audit_log l JOIN admins a ON a.id = l.admin_id \
         ORDER BY l.created_at DESC, l.id DESC LIMIT $1 OFFSET $2",
            limit,
            offset
        )
        .fetch_all(db.pool()),
        sqlx::query_scalar!("SELECT count(*) AS \"count!\" FROM admin_audit_log").fetch_one(db.pool()),
    )
    .await
}
