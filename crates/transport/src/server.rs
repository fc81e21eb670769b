//! The HTTP server: middleware, extractor settings, routes, and JSON for every failure.

use std::net::TcpListener;
use std::time::Instant;

use actix_cors::Cors;
use actix_http::HttpService;
use actix_service::{IntoServiceFactory, fn_service, map_config};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::AppConfig;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::error::JsonPayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Next, from_fn};
use actix_web::{App, ResponseError, web};
use tracing::Instrument;
use utoipa_actix_web::AppExt;

use crate::error::{ApiError, from_serde_message};
use crate::{AppState, TrustedProxies};

/// Request bodies above this are refused.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(Debug, Default)]
pub struct HttpSettings {
    /// `CORS_ALLOWED_ORIGINS`; `*` allows any origin (development only).
    pub cors_allowed_origins: Vec<String>,
    pub trusted_proxies: TrustedProxies,
    /// Worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// Production: `Strict-Transport-Security` on every response.
    pub hsts: bool,
    /// The Content-Security-Policy of `/console` and `/docs`.
    pub html_policy: Option<crate::security::HtmlPolicy>,
    /// Who may read `/metrics` here.
    pub metrics: Option<crate::security::MetricsAccess>,
    /// `METRICS_BIND_ADDR`: a second listener that serves `/metrics` (and only it).
    pub metrics_listener: Option<TcpListener>,
}

/// Starts serving on `listener`; the returned server runs until stopped.
///
/// Built from actix-http's parts rather than `HttpServer`, for one reason: requests that ask to
/// switch protocols go to [`crate::ws::upgrade`] with the raw connection (the HTTP/1 dispatcher
/// and its buffers are dropped), while everything else goes through the actix-web `App`.
pub fn serve(listener: TcpListener, state: AppState, settings: HttpSettings) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let proxies = web::Data::new(settings.trusted_proxies);
    let origins = settings.cors_allowed_origins;
    let hsts = settings.hsts;
    let html_policy = web::Data::new(settings.html_policy.unwrap_or_else(|| crate::security::HtmlPolicy::new(None)));
    let metrics = web::Data::new(settings.metrics.unwrap_or(crate::security::MetricsAccess::Open));
    if let Some(listener) = settings.metrics_listener {
        let state = state.clone();
        let scrape = actix_web::HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::Data::new(crate::security::MetricsAccess::Open))
                .service(crate::routes::metrics_service())
        })
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
        // Its own task on the runtime (actix-server runs its workers on threads of their own).
        tokio::spawn(scrape);
    }
    let mut builder = actix_server::Server::build()
        // The application handles SIGINT/SIGTERM itself, to say goodbye to sockets first.
        .disable_signals()
        .shutdown_timeout(10);
    if let Some(workers) = settings.workers {
        builder = builder.workers(workers);
    }
    let server = builder
        .listen("talktime", listener, move || {
            let app = App::new()
                .wrap(ErrorHandlers::new().default_handler(json_for_bare_errors))
                .wrap(from_fn(trace_request))
                .wrap(cors(&origins))
                .wrap(crate::security::default_headers(hsts))
                .app_data(state.clone())
                .app_data(html_policy.clone())
                .app_data(metrics.clone())
                .app_data(proxies.clone())
                .app_data(json_config())
                .app_data(web::PayloadConfig::new(BODY_LIMIT))
                .app_data(
                    web::QueryConfig::default()
                        .error_handler(|e, _| from_serde_message(&e.to_string(), "invalid_query").into()),
                )
                .app_data(web::PathConfig::default().error_handler(|_, _| {
                    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Resource not found").into()
                }))
                .into_utoipa_app()
                .configure(crate::routes::configure)
                .into_app()
                .default_service(web::to(unrouted));
            let (state, proxies) = (state.clone(), proxies.get_ref().clone());
            let upgrades = fn_service(move |(req, framed)| {
                let (state, proxies) = (state.clone(), proxies.clone());
                // Boxed: every connection's task is as large as its largest state, and most
                // connections never upgrade.
                Box::pin(async move {
                    crate::ws::upgrade(state, proxies, req, framed).await;
                    Ok::<_, actix_web::Error>(())
                })
            });
            HttpService::build()
                .upgrade(upgrades)
                .finish(map_config(app.into_factory(), |_| AppConfig::default()))
                .tcp()
        })?
        .run();
    Ok(server)
}

/// A request no route took: 405 with `Allow` when the path exists with other methods, else 404.
async fn unrouted(req: actix_web::HttpRequest) -> actix_web::HttpResponse {
    match crate::openapi::allowed_methods(req.path()) {
        Some(methods) => {
            let mut response =
                ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed")
                    .error_response();
            if let Ok(value) = actix_web::http::header::HeaderValue::from_str(methods) {
                response.headers_mut().insert(actix_web::http::header::ALLOW, value);
            }
            response
        }
        None => ApiError::not_found().error_response(),
    }
}

fn json_config() -> web::JsonConfig {
    web::JsonConfig::default().limit(BODY_LIMIT).content_type_required(false).error_handler(|error, _| {
        let api = match &error {
            JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "Request body is larger than 64 KiB")
            }
            JsonPayloadError::Deserialize(e) if e.is_data() => from_serde_message(&e.to_string(), "invalid_body"),
            _ => ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", "Request body is not valid JSON"),
        };
        api.into()
    })
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([AUTHORIZATION, CONTENT_TYPE, ACCEPT])
        .supports_credentials()
        .max_age(3600);
    for origin in origins {
        cors = if origin == "*" { cors.allow_any_origin() } else { cors.allowed_origin(origin) };
    }
    cors
}

/// One span per request (method and path, never the query string, which may carry a token),
/// closed by a line with status and latency.
async fn trace_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let span = tracing::info_span!("request", method = %req.method(), path = %req.path());
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".to_owned());
    let metrics = req.app_data::<web::Data<AppState>>().map(|s| s.http_metrics.clone());
    let result = next.call(req).instrument(span.clone()).await;
    let status = match &result {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if let Some(metrics) = metrics {
        metrics.record(&method, &route, status, started.elapsed());
    }
    span.in_scope(|| tracing::info!(status, latency_ms, "request finished"));
    result
}

/// actix answers some failures itself with an empty body (405, 413 from the payload limit…):
/// give those the JSON envelope too.
fn json_for_bare_errors<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if response.headers().contains_key(CONTENT_TYPE) || response.status().is_success() {
        return Ok(ErrorHandlerResponse::Response(response.map_into_left_body()));
    }
    let status = response.status();
    let api = match status {
        StatusCode::NOT_FOUND => ApiError::not_found(),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(status, "method_not_allowed", "Method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(status, "payload_too_large", "Request body is too large"),
        s if s.is_client_error() => ApiError::new(status, "bad_request", "Bad request"),
        _ => ApiError::new(status, "internal_error", "Something went wrong"),
    };
    let (request, _) = response.into_parts();
    let body: ServiceResponse<BoxBody> = ServiceResponse::new(request, api.error_response());
    Ok(ErrorHandlerResponse::Response(body.map_into_right_body()))
}
