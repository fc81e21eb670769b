//! Liveness and readiness.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use utoipa_actix_web::service_config::ServiceConfig;

use crate::AppState;
use crate::metrics::Scrape;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health).service(ready).service(metrics);
}

/// Prometheus text: HTTP latency by route, WebSocket connections by endpoint, calls by state,
/// call setups, settlements and bus lag.
/// In production it needs `Authorization: Bearer $METRICS_TOKEN`, or is served only on
/// `METRICS_BIND_ADDR`; its call figures are cached for a few seconds, so a scrape counts no table.
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = String, content_type = "text/plain"),
    (status = 401, description = "Production without the metrics token (`metrics_token_required`)", body = crate::error::ErrorBody),
))]
#[get("/metrics")]
pub(crate) async fn metrics(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    access: Option<web::Data<crate::security::MetricsAccess>>,
) -> HttpResponse {
    use actix_web::ResponseError as _;
    if let Some(access) = access
        && let Err(refused) = access.check(&req)
    {
        return refused.error_response();
    }
    let mut scrape = Scrape::default();
    state.http_metrics.collect(&mut scrape);
    notification_metrics(&state, &mut scrape).await;
    let connections = state.registry.counts_by_role().into_iter().map(|(endpoint, n)| (endpoint.to_owned(), count(n)));
    scrape
        .gauges(
            "websocket_connections",
            "Open WebSocket connections on this node by endpoint.",
            "namespace",
            connections,
        )
        .gauge(
            "call_timers",
            "Call deadlines this node's timers wait for (zero when no call is live).",
            count(state.calls.timer_count()),
        );
    if let Ok(figures) = state.calls.figures().await {
        let by_state = figures.by_status.iter().map(|(status, n)| (status.to_string(), *n));
        scrape
            .gauges("calls", "Calls by state.", "state", by_state)
            .counter("call_setups", "Calls initiated.", unsigned(figures.setups))
            .counter("billing_settlements", "Calls settled through the ledger.", unsigned(figures.settlements));
    }
    bus_metrics(state.bus_stats.as_deref(), &mut scrape);
    HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(scrape.render())
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unsigned(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Pushes sent, failed and waiting; login codes refused by the SMS budgets.
async fn notification_metrics(state: &AppState, scrape: &mut Scrape) {
    let (stats, refusals) = (&state.push.stats, &state.auth.sms_refusals);
    scrape.counters([
        ("push_sent", "Push notifications this node sent.", &stats.sent),
        ("push_failed", "Push notifications this node gave up on.", &stats.failed),
        ("push_retried", "Push sends this node will try again.", &stats.retried),
        (
            "sms_network_budget_refusals",
            "Codes refused on this node: the sender's network had spent its SMS share of the hour.",
            &refusals.network,
        ),
        (
            "sms_country_budget_refusals",
            "Codes refused on this node: the number's country had spent its SMS share of the hour.",
            &refusals.country,
        ),
        (
            "sms_budget_refusals",
            "Codes refused on this node by the global hourly SMS breaker (SMS_MAX_PER_HOUR).",
            &refusals.global,
        ),
    ]);
    if let Ok(depth) = state.push.depth().await {
        scrape.gauge("push_outbox_depth", "Push notifications waiting to be sent.", depth);
    }
}

/// The bus: lag (the in-process bus delivers at once) and, in cluster mode, message counts and
/// whether this node hears the others.
fn bus_metrics(stats: Option<&talktime_services::bus::BusStats>, scrape: &mut Scrape) {
    use std::sync::atomic::Ordering::Relaxed;
    let lag = stats.map_or(0.0, |s| s.last_lag_ms.load(Relaxed) as f64 / 1000.0);
    let lag_help = "Delay between publishing an event on one node and delivering it on another (last message).";
    scrape.measure("bus_lag_seconds", lag_help, lag);
    let Some(stats) = stats else { return };
    scrape.counters([
        ("bus_published", "Bus messages this node sent to Redis.", &stats.published),
        ("bus_received", "Bus messages this node received from other nodes.", &stats.received),
        ("bus_dropped", "Bus messages this node could not send (Redis down or queue full).", &stats.dropped),
    ]);
    let subscribed = i64::from(stats.subscribed.load(Relaxed));
    scrape.gauge("bus_subscribed", "1 while this node is subscribed to the other nodes' events.", subscribed);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    /// `UP` or `DOWN`.
    pub status: &'static str,
    /// Per dependency: `UP` or `DOWN` (readiness only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checks: Option<std::collections::BTreeMap<&'static str, &'static str>>,
    /// Misconfigurations that do not stop the node serving (readiness only), e.g. a proxy that
    /// forwards client addresses without being in `TRUSTED_PROXIES`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "operations", responses((status = 200, body = HealthView)))]
#[get("/health")]
pub(crate) async fn health() -> HttpResponse {
    HttpResponse::Ok().json(HealthView { status: "UP", checks: None, warnings: Vec::new() })
}

/// Readiness: 200 only when Postgres (and, in cluster mode, Redis, with this node's bus
/// subscribed) answer; 503 names what failed. `warnings` names misconfigurations that do not
/// stop the node serving (in production: `X-Forwarded-For` from a peer not in
/// `TRUSTED_PROXIES`).
#[utoipa::path(tag = "operations", responses(
    (status = 200, body = HealthView),
    (status = 503, body = HealthView),
))]
#[get("/health/ready")]
pub(crate) async fn ready(state: web::Data<AppState>, proxies: web::Data<crate::TrustedProxies>) -> HttpResponse {
    let postgres = matches!(tokio_timeout(state.db.ping()).await, Some(Ok(())));
    let mut checks = std::collections::BTreeMap::new();
    checks.insert("postgres", if postgres { "UP" } else { "DOWN" });
    let mut all_up = postgres;
    for probe in &state.probes {
        let up = tokio_timeout(probe.ready()).await.unwrap_or(false);
        all_up &= up;
        checks.insert(probe.name(), if up { "UP" } else { "DOWN" });
    }
    let warnings = proxies
        .untrusted_forwarder()
        .map(|peer| {
            format!(
                "X-Forwarded-For arrives from {peer}, which is not in TRUSTED_PROXIES: client addresses behind it \
                 are ignored and its clients share one rate-limit budget"
            )
        })
        .into_iter()
        .collect();
    let view = HealthView { status: if all_up { "UP" } else { "DOWN" }, checks: Some(checks), warnings };
    if all_up { HttpResponse::Ok().json(view) } else { HttpResponse::ServiceUnavailable().json(view) }
}

/// Gives up on a dependency after two seconds.
async fn tokio_timeout<F: std::future::Future>(future: F) -> Option<F::Output> {
    actix_web::rt::time::timeout(Duration::from_secs(2), future).await.ok()
}
