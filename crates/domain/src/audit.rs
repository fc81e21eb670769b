//! The audit log of admin actions.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

/// One admin action, who did it, and the before and after.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: Uuid,
    pub admin_id: crate::ids::AdminId,
    pub admin_email: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub created_at: DateTime<Utc>,
}
