//! The audit log (`/admin/audit-log`).

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::rules::{ADMIN_PAGING, AdminPage};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{CurrentAdmin, ValidQuery};
use crate::views::{Envelope, ok};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(audit_log);
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryView {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub admin: AdminRef,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<Uuid>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AdminRef {
    #[serde(rename = "_id")]
    pub id: Uuid,
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditLogView {
    pub entries: Vec<AuditEntryView>,
    pub total: i64,
    pub total_pages: i64,
}

/// Every admin change, newest first: who, what, target, before and after.
#[utoipa::path(tag = "admin", security(("cookie" = []), ("bearer" = [])), params(AdminPage),
    responses((status = 200, body = Envelope<AuditLogView>)))]
#[get("/admin/audit-log")]
pub(crate) async fn audit_log(
    state: web::Data<AppState>,
    _admin: CurrentAdmin,
    query: ValidQuery<AdminPage>,
) -> Result<HttpResponse, ApiError> {
    let page = ADMIN_PAGING.request(query.0.page, query.0.limit);
    let talktime_domain::page::Page { rows: found, total } = state.admin.audit_log(page).await?;
    let entries = found
        .into_iter()
        .map(|e| AuditEntryView {
            id: e.id,
            admin: AdminRef { id: e.admin_id.0, email: e.admin_email },
            action: e.action,
            target_type: e.target_type,
            target_id: e.target_id,
            before: e.before,
            after: e.after,
            created_at: e.created_at,
        })
        .collect();
    Ok(ok("Audit log fetched successfully", AuditLogView { entries, total, total_pages: page.total_pages(total) }))
}
