//! `/console`: the web console (user, telecaller and admin in one page), served from assets
//! embedded in the binary. It uses only the public REST and WebSocket API; the one thing it asks
//! the server besides is `config.json` (is a media server configured, which payment gateway,
//! which admin sign-in). Off unless `CONSOLE_ENABLED` (on by default in development).

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, get, web};

use crate::AppState;
use crate::error::ApiError;
use crate::security::HtmlPolicy;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index).service(index_slash).service(config_json).service(asset);
}

/// (name, content type, bytes)
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/console/app.js")),
    ("api.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/console/api.js")),
    ("chat.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/console/chat.js")),
    ("console.css", "text/css; charset=utf-8", include_bytes!("../../assets/console/console.css")),
    (
        "livekit-client.umd.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/vendor/livekit-client.umd.js"),
    ),
];

const INDEX: &[u8] = include_bytes!("../../assets/console/index.html");

fn enabled(state: &AppState) -> Result<&serde_json::Value, ApiError> {
    state.console.as_deref().ok_or_else(ApiError::not_found)
}

fn page(content_type: &str, body: &'static [u8]) -> HttpResponse {
    HttpResponse::Ok().insert_header((CONTENT_TYPE, content_type)).insert_header((CACHE_CONTROL, "no-cache")).body(body)
}

/// The console's page, under the HTML policy (scripts from this server only, never framed).
fn html(policy: &HtmlPolicy) -> HttpResponse {
    let mut response = page("text/html; charset=utf-8", INDEX);
    let (name, value) = policy.header();
    response.headers_mut().insert(name, value);
    response
}

#[get("/console")]
async fn index(state: web::Data<AppState>, policy: web::Data<HtmlPolicy>) -> Result<HttpResponse, ApiError> {
    enabled(&state)?;
    Ok(html(&policy))
}

#[get("/console/")]
async fn index_slash(state: web::Data<AppState>, policy: web::Data<HtmlPolicy>) -> Result<HttpResponse, ApiError> {
    enabled(&state)?;
    Ok(html(&policy))
}

/// What the console needs to know about this server.
#[get("/console/config.json")]
async fn config_json(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().insert_header((CACHE_CONTROL, "no-cache")).json(enabled(&state)?))
}

#[get("/console/{file}")]
async fn asset(state: web::Data<AppState>, file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    enabled(&state)?;
    let (_, content_type, body) =
        ASSETS.iter().find(|(name, _, _)| *name == file.as_str()).ok_or_else(ApiError::not_found)?;
    Ok(page(content_type, body))
}
