//! Liveness and readiness.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health).service(ready);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    /// `UP` or `DOWN`.
    pub status: &'static str,
    /// Per dependency: `UP` or `DOWN` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<std::collections::BTreeMap<&'static str, &'static str>>,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", responses((status = 200, body = HealthView)))]
#[get("/health")]
pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthView { status: "UP", checks: None })
}

/// Readiness: 200 only when Postgres answers; 503 names what failed.
#[utoipa::path(get, path = "/health/ready", tag = "operations", responses(
    (status = 200, body = HealthView),
    (status = 503, body = HealthView),
))]
#[get("/health/ready")]
pub(crate) async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let postgres = matches!(tokio_timeout(state.db.ping()).await, Some(Ok(())));
    let checks = [("postgres", if postgres { "UP" } else { "DOWN" })].into_iter().collect();
    let view = HealthView { status: if postgres { "UP" } else { "DOWN" }, checks: Some(checks) };
    if postgres { HttpResponse::Ok().json(view) } else { HttpResponse::ServiceUnavailable().json(view) }
}

/// Gives up on a dependency after two seconds.
async fn tokio_timeout<F: std::future::Future>(future: F) -> Option<F::Output> {
    actix_web::rt::time::timeout(Duration::from_secs(2), future).await.ok()
}
