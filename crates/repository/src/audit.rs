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

/// Writes one entry per target of one action (`(target, before, after)`), in one statement.
pub async fn audit_each(
    tx: &mut Tx,
    admin: AdminId,
    action: &str,
    target_type: &str,
    targets: &[(Uuid, Value, Value)],
) -> Result<(), RepoError> {
    if targets.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = targets.iter().map(|_| Uuid::now_v7()).collect();
    let target_ids: Vec<Uuid> = targets.iter().map(|t| t.0).collect();
    let befores: Vec<Value> = targets.iter().map(|t| t.1.clone()).collect();
    let afters: Vec<Value> = targets.iter().map(|t| t.2.clone()).collect();
    sqlx::query!(
        "INSERT INTO admin_audit_log (id, admin_id, action, target_type, target_id, before, after) \
         SELECT e.id, $2, $3, $4, e.target, e.before, e.after \
         FROM unnest($1::uuid[], $5::uuid[], $6::jsonb[], $7::jsonb[]) AS e(id, target, before, after)",
        &ids,
        admin.0,
        action,
        target_type,
        &target_ids,
        &befores as &[Value],
        &afters as &[Value]
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
