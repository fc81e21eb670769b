//! `/openapi.json` and a self-contained viewer at `/docs` (no CDN, no build-time download).

use actix_web::{HttpResponse, get, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json).service(viewer);
}

#[get("/openapi.json")]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(crate::openapi::document())
}

#[get("/docs")]
async fn viewer() -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(VIEWER)
}

const VIEWER: &str = include_str!("docs_viewer.html");
