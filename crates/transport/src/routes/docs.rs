//! `/openapi.json` and an API explorer at `/docs` (RapiDoc, served from the binary: no CDN) that
//! can send requests with a bearer token or the admin cookie.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, get, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(openapi_json).service(explorer).service(rapidoc);
}

#[get("/openapi.json")]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(crate::openapi::document_json())
}

#[get("/docs")]
async fn explorer(policy: web::Data<crate::security::HtmlPolicy>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").insert_header(policy.header()).body(EXPLORER)
}

#[get("/docs/rapidoc-min.js")]
async fn rapidoc() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=86400"))
        .body(RAPIDOC)
}

const EXPLORER: &str = include_str!("docs_explorer.html");
const RAPIDOC: &[u8] = include_bytes!("../../assets/vendor/rapidoc-min.js");
