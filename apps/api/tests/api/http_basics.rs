//! The HTTP envelope: JSON errors for unknown routes and bad bodies, body limit, CORS, client IP,
//! health, and the OpenAPI document.

use crate::support::{Reply, fresh_phone, spawn_app, spawn_app_with};
use serde_json::json;

#[tokio::test]
async fn unknown_routes_answer_json_404() {
    let app = spawn_app().await;
    let reply = app.get("/no/such/route").await;
    reply.assert_error(404, "not_found");
    assert!(reply.headers["content-type"].to_str().unwrap().starts_with("application/json"));
}

#[tokio::test]
async fn malformed_bodies_answer_json_400() {
    let app = spawn_app().await;
    let send = |body: &'static str| {
        let request = app.client.post(app.url("/auth/send")).header("content-type", "application/json").body(body);
        async move { Reply::read(request.send().await.unwrap()).await }
    };
    send("{not json").await.assert_error(400, "invalid_json");
    send("").await.assert_error(400, "invalid_json");
    send("[1,2]").await.assert(400);
    let missing = send("{}").await;
    missing.assert_error(400, "validation_error");
    assert_eq!(missing.body["errors"][0]["field"], json!("phone"));
    let wrong_type = send(r#"{"phone": 9876543210}"#).await;
    wrong_type.assert(400);
    let unknown = app.post("/auth/send", &json!({ "phone": fresh_phone(), "extra": true })).await;
    unknown.assert_error(400, "validation_error");
    assert_eq!(unknown.body["errors"][0]["field"], json!("extra"));
    let invalid = app.post("/auth/send", &json!({ "phone": "12-34" })).await;
    invalid.assert_error(400, "validation_error");
    assert_eq!(invalid.body["errors"][0]["field"], json!("phone"));
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused() {
    let app = spawn_app().await;
    let big = format!(r#"{{"phone": "{}"}}"#, "9".repeat(70 * 1024));
    let reply = Reply::read(
        app.client
            .post(app.url("/auth/send"))
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    reply.assert_error(413, "payload_too_large");
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = spawn_app_with(&[("CORS_ALLOWED_ORIGINS", "https://admin.example.com")]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/auth/send"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight("https://admin.example.com").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://admin.example.com");
    assert_eq!(allowed.headers()["access-control-allow-credentials"], "true");
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(refused.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn forwarded_for_is_ignored_from_untrusted_peers() {
    // No trusted proxy: every request counts against 127.0.0.1, whatever it claims.
    let app = spawn_app_with(&[("TRUSTED_PROXIES", ""), ("RATE_LIMIT_LOGIN_PER_IP", "20")]).await;
    for _ in 0..20 {
        app.send_code(&fresh_phone()).await.assert(200);
    }
    app.send_code(&fresh_phone()).await.assert_error(429, "rate_limited");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let health = app.get("/health").await;
    health.assert(200);
    assert_eq!(health.body, json!({ "status": "UP" }));
    let ready = app.get("/health/ready").await;
    ready.assert(200);
    assert_eq!(ready.body["checks"]["postgres"], json!("UP"));

    app.db.close().await;
    talktime_repository::testing::drop_database(&app.db_name).await.unwrap();
    let down = app.get("/health/ready").await;
    down.assert(503);
    assert_eq!(down.body["checks"]["postgres"], json!("DOWN"));
}

#[tokio::test]
async fn openapi_document_lists_every_route_and_docs_viewer_is_served() {
    let app = spawn_app().await;
    let doc = app.get("/openapi.json").await;
    doc.assert(200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/auth/send", "/auth/resend", "/auth/verify", "/auth/logout", "/users/me", "/health", "/health/ready"]
    {
        assert!(doc.body["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    let viewer = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(viewer.status(), 200);
    assert!(viewer.text().await.unwrap().contains("/openapi.json"));
}

#[tokio::test]
async fn metrics_are_served_in_the_prometheus_text_format() {
    let app = spawn_app().await;
    app.get("/health").await.assert(200);
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"http_request_duration_seconds_count{method="GET",route="/health",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains(r#"websocket_connections{namespace="user"} 0"#));
    assert!(text.contains("call_setups_total 0"));
    assert!(text.contains("billing_settlements_total 0"));
}

#[tokio::test]
async fn with_redis_the_login_limits_are_shared_by_every_node() {
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let limit = ("RATE_LIMIT_LOGIN_PER_IP", "20");
    let node_a = spawn_app_with(&[("REDIS_URL", redis.as_str()), limit]).await;
    let node_b = crate::support::spawn_app_on(node_a.database(), &[("REDIS_URL", redis.as_str()), limit]).await;
    // A client address no earlier run used (Redis keeps buckets for 15 minutes).
    let bytes = uuid::Uuid::now_v7().into_bytes();
    let ip = format!("10.{}.{}.{}", bytes[13], bytes[14], bytes[15]);
    for i in 0..20 {
        let node = if i % 2 == 0 { &node_a } else { &node_b };
        node.post_from(&ip, "/auth/send", &json!({ "phone": fresh_phone() }), None).await.assert(200);
    }
    node_a
        .post_from(&ip, "/auth/send", &json!({ "phone": fresh_phone() }), None)
        .await
        .assert_error(429, "rate_limited");
    node_b
        .post_from(&ip, "/auth/send", &json!({ "phone": fresh_phone() }), None)
        .await
        .assert_error(429, "rate_limited");
    let ready = node_a.get("/health/ready").await;
    ready.assert(200);
    assert_eq!(ready.body["checks"]["redis"], json!("UP"));
}

#[tokio::test]
async fn readiness_reports_an_unreachable_redis_and_login_keeps_working() {
    let app = spawn_app_with(&[("REDIS_URL", "redis://127.0.0.1:1")]).await;
    let ready = app.get("/health/ready").await;
    ready.assert(503);
    assert_eq!(ready.body["checks"]["redis"], json!("DOWN"));
    assert_eq!(ready.body["checks"]["postgres"], json!("UP"));
    // Limits fall back to this node's memory: logins still work.
    app.send_code(&fresh_phone()).await.assert(200);
}

/// The HTML pages allow only this server's scripts (and the media server), are never framed, and
/// every response says `nosniff`; production adds HSTS.
#[tokio::test]
async fn html_pages_carry_a_strict_policy_and_every_response_says_nosniff() {
    let app = spawn_app_with(&[("LIVEKIT_URL", "wss://media.example.test")]).await;
    for page in ["/console", "/docs"] {
        let response = app.client.get(app.url(page)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{page}");
        let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'self'"), "{page}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{page}: {csp}");
        assert!(csp.contains("wss://media.example.test"), "{page}: {csp}");
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        assert!(response.headers().contains_key("referrer-policy"));
    }
    for path in ["/health", "/openapi.json", "/no/such/path"] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.headers()["x-content-type-options"], "nosniff", "{path}");
        assert!(!response.headers().contains_key("strict-transport-security"), "{path}: development");
    }
    let production = spawn_app_with(crate::support::PRODUCTION).await;
    let response = production.client.get(production.url("/health")).send().await.unwrap();
    assert!(response.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
}

/// A browser page on another site cannot open a socket: an `Origin` that is neither the
/// server's own nor in CORS_ALLOWED_ORIGINS is refused 403; apps (no `Origin`) are served.
#[tokio::test]
async fn a_websocket_from_a_foreign_origin_is_refused() {
    use crate::support::ws::connect_with_origin;
    let app = spawn_app_with(&[("CORS_ALLOWED_ORIGINS", "https://panel.example")]).await;
    let user = app.user().await;
    match connect_with_origin(&app, "/ws/user", &user.token, "https://evil.example").await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
            let body: serde_json::Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["code"], json!("origin_not_allowed"));
        }
        other => panic!("a foreign origin was not refused: {:?}", other.map(|_| ())),
    }
    let own = format!("http://127.0.0.1:{}", app.port);
    for origin in ["https://panel.example", own.as_str()] {
        connect_with_origin(&app, "/ws/user", &user.token, origin).await.expect(origin).close().await;
    }
}

/// In production `/metrics` needs the metrics token; with METRICS_BIND_ADDR it is served on that
/// address alone.
#[tokio::test]
async fn production_metrics_need_the_token_or_their_own_address() {
    let app = spawn_app_with(crate::support::PRODUCTION).await;
    let scrape = |token: Option<&str>| {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let refused = crate::support::Reply::read(scrape(None).await.unwrap()).await;
    refused.assert_error(401, "metrics_token_required");
    assert_eq!(scrape(Some("wrong")).await.unwrap().status(), 401);
    let served = scrape(Some("metrics-token-0123456789")).await.unwrap();
    assert_eq!(served.status(), 200);
    assert!(served.text().await.unwrap().contains("call_setups_total"));

    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut vars = crate::support::PRODUCTION.to_vec();
    let bind = free.to_string();
    vars.retain(|(k, _)| *k != "METRICS_TOKEN");
    vars.push(("METRICS_BIND_ADDR", bind.as_str()));
    let app = spawn_app_with(&vars).await;
    assert_eq!(app.client.get(app.url("/metrics")).send().await.unwrap().status(), 404);
    let own = app.client.get(format!("http://{bind}/metrics")).send().await.unwrap();
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("call_setups_total"));
}

/// A scrape reads call figures counted at most every 15 s: scrapes in a burst count no tables.
#[tokio::test]
async fn metrics_call_figures_are_cached_between_scrapes() {
    let app = spawn_app().await;
    let scrape = async || app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(scrape().await.contains("call_setups_total 0"));
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    let live = app.live_call(&user, &telecaller, None).await;
    assert!(scrape().await.contains("call_setups_total 0"), "the cached figure, not a new count");
    live.end().await;
    app.assert_books_balance().await;
}
