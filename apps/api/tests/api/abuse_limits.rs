//! Limits that fit real networks and stop abuse: per-network budgets (IPv6 counted by /64),
//! SMS only to allowed countries and within an hourly budget, and a cap on one account's sockets.

use crate::support::ws::{Ws, refused_from};
use crate::support::{PRODUCTION, fresh_phone, spawn_app, spawn_app_with};
use chrono::Timelike;
use serde_json::json;

#[tokio::test]
async fn ipv6_clients_of_one_64_share_a_login_budget() {
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN_PER_IP", "3")]).await;
    for ip in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:abcd:ef01:2345:6789"] {
        app.post_from(ip, "/auth/send", &json!({ "phone": fresh_phone() }), None).await.assert(200);
    }
    // A fourth address of the same /64 is the same client.
    let refused = app.post_from("2001:db8:1:2::ffff", "/auth/send", &json!({ "phone": fresh_phone() }), None).await;
    refused.assert_error(429, "rate_limited");
    assert!(refused.headers.contains_key("retry-after"));
    // The next /64 over, and IPv4 addresses, count on their own.
    app.post_from("2001:db8:1:3::1", "/auth/send", &json!({ "phone": fresh_phone() }), None).await.assert(200);
    for ip in ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"] {
        app.post_from(ip, "/auth/send", &json!({ "phone": fresh_phone() }), None).await.assert(200);
    }
}

/// Only handshakes whose token is refused count against the client's network (IPv6 by /64): a
/// bad client behind a carrier NAT cannot lock out its neighbours, whose valid handshakes count
/// per account.
#[tokio::test]
async fn refused_handshakes_count_per_network_and_accepted_ones_per_account() {
    let app =
        spawn_app_with(&[("RATE_LIMIT_WS_CONNECT_PER_IP", "2"), ("RATE_LIMIT_WS_CONNECT_PER_ACCOUNT", "3")]).await;
    let user = app.user().await;
    for ip in ["2001:db8:9:9::1", "2001:db8:9:9::2"] {
        let (status, body) = refused_from(&app, "/ws/user", Some("not-a-token"), ip).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("invalid_token")));
    }
    let (status, body) = refused_from(&app, "/ws/user", Some("not-a-token"), "2001:db8:9:9::3").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    let (status, _) = refused_from(&app, "/ws/user", None, "2001:db8:9:9::4").await;
    assert_eq!(status, 429, "a missing token is refused too");
    // The next /64 over counts on its own.
    let (status, _) = refused_from(&app, "/ws/user", Some("not-a-token"), "2001:db8:9:a::1").await;
    assert_eq!(status, 401);

    // Valid handshakes from the exhausted network go through, counted per account.
    let mut open = Vec::new();
    for ip in ["2001:db8:9:9::5", "2001:db8:9:9::6", "2001:db8:9:9::7"] {
        open.push(Ws::connect_from(&app, "/ws/user", &user.token, ip).await.0);
    }
    let (status, body) = refused_from(&app, "/ws/user", Some(&user.token), "192.0.2.1").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "the account's own budget");
    // Its neighbour is not touched by that storm.
    let other = app.user().await;
    open.push(Ws::connect_from(&app, "/ws/user", &other.token, "2001:db8:9:9::8").await.0);
    for ws in open {
        ws.close().await;
    }
}

/// In production, a proxy that forwards client addresses without being in TRUSTED_PROXIES is
/// reported by readiness (and logged), since all its clients share one budget.
#[tokio::test]
async fn production_reports_forwarding_from_an_untrusted_proxy() {
    let mut vars = PRODUCTION.to_vec();
    vars.push(("TRUSTED_PROXIES", ""));
    let app = spawn_app_with(&vars).await;
    let ready = app.get("/health/ready").await;
    ready.assert(200);
    assert!(ready.body.get("warnings").is_none(), "{}", ready.body);
    app.post_from("203.0.113.5", "/auth/send", &json!({ "phone": fresh_phone() }), None).await;
    let ready = app.get("/health/ready").await;
    ready.assert(200);
    let warning = ready.body["warnings"][0].as_str().unwrap_or_default().to_owned();
    assert!(warning.contains("127.0.0.1") && warning.contains("TRUSTED_PROXIES"), "{}", ready.body);
}

/// On a dual-stack socket an IPv4 proxy arrives as `::ffff:127.0.0.1`; it is still trusted.
#[tokio::test]
async fn a_trusted_ipv4_proxy_is_trusted_on_a_dual_stack_socket() {
    let app = spawn_app_with(&[("BIND_ADDR", "[::]:0"), ("RATE_LIMIT_LOGIN_PER_IP", "1")]).await;
    for ip in ["203.0.113.1", "203.0.113.2"] {
        app.post_from(ip, "/auth/send", &json!({ "phone": fresh_phone() }), None).await.assert(200);
    }
    app.post_from("203.0.113.2", "/auth/send", &json!({ "phone": fresh_phone() }), None)
        .await
        .assert_error(429, "rate_limited");
}

#[tokio::test]
async fn codes_go_only_to_allowed_countries() {
    let app = spawn_app().await;
    for phone in ["447911123456", "8821234567890", "123456789012345"] {
        let refused = app.send_code(phone).await;
        refused.assert_error(400, "country_not_allowed");
        assert_eq!(refused.body["errors"][0]["field"], json!("phone"));
        app.post("/auth/resend", &json!({ "phone": phone })).await.assert_error(400, "country_not_allowed");
    }
    assert!(app.sms.requests().is_empty(), "the SMS provider was called");
    // Indian numbers, national or international, are served.
    app.send_code(&fresh_phone()).await.assert(200);
    app.send_code(&format!("91{}", fresh_phone())).await.assert(200);
    assert_eq!(app.sms.requests().len(), 2);

    let app = spawn_app_with(&[("SMS_ALLOWED_COUNTRY_CODES", "91, +44")]).await;
    app.send_code("447911123456").await.assert(200);
    app.send_code("15551234567").await.assert_error(400, "country_not_allowed");
    assert_eq!(app.sms.requests().len(), 1);
}

#[tokio::test]
async fn the_hourly_sms_budget_trips_a_breaker_until_the_hour_turns() {
    // A run that straddles the turn of the hour starts over once (the breaker reset mid-test).
    for _ in 0..2 {
        let hour = chrono::Utc::now().hour();
        let app = spawn_app_with(&[("SMS_MAX_PER_HOUR", "2"), ("OTP_TEST_NUMBERS", "9000000001:123456")]).await;
        app.send_code(&fresh_phone()).await.assert(200);
        app.send_code(&fresh_phone()).await.assert(200);
        let phone = fresh_phone();
        let refused = app.send_code(&phone).await;
        if chrono::Utc::now().hour() != hour {
            continue;
        }
        refused.assert_error(503, "sms_budget_exhausted");
        let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=3600).contains(&retry));
        assert_eq!(app.sms.requests().len(), 2);
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("sms_budget_refusals_total 1"), "the breaker is counted: {metrics}");
        // Nothing was left behind for the refused phone: no code to verify.
        let verify = app.verify(&phone, "123456").await;
        assert_eq!(verify.status, 400, "{}", verify.body);
        // Store-review numbers send no SMS, so they still log in.
        app.send_code("9000000001").await.assert(200);
        app.verify("9000000001", "123456").await.assert(200);
        return;
    }
    panic!("the hour turned twice during the test");
}

#[tokio::test]
async fn the_sixth_socket_of_an_account_closes_the_oldest_with_4008() {
    let app = spawn_app().await;
    let user = app.user().await;
    let mut sockets = Vec::new();
    for _ in 0..5 {
        sockets.push(Ws::connect(&app, "/ws/user", &user.token).await.0);
    }
    let (mut sixth, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    let mut oldest = sockets.remove(0);
    assert_eq!(oldest.closed().await, Some(4008));
    // The other five stay served.
    assert!(sixth.alive().await);
    for ws in &mut sockets {
        assert!(ws.alive().await);
    }
    // Another account is not affected by this one's sockets.
    let other = app.user().await;
    let (mut own, _) = Ws::connect(&app, "/ws/user", &other.token).await;
    assert!(own.alive().await);

    let app = spawn_app_with(&[("WS_MAX_CONNECTIONS_PER_ACCOUNT", "1")]).await;
    let user = app.user().await;
    let (mut first, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    let (mut second, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    assert_eq!(first.closed().await, Some(4008));
    assert!(second.alive().await);
}

/// Runs `scene` again (once) when the clock hour turned while it ran: the SMS budgets are per
/// clock hour, so a refusal expected late in the scene may not come after the turn.
async fn within_one_hour(mut scene: impl AsyncFnMut()) {
    for _ in 0..2 {
        let hour = chrono::Utc::now().hour();
        scene().await;
        if chrono::Utc::now().hour() == hour {
            return;
        }
    }
    panic!("the hour turned twice during the test");
}

/// One network (an IPv4 /24, an IPv6 /48) spends only its own share of the hour's SMS budget:
/// other networks still get their codes, and the global breaker is not reached.
#[tokio::test]
async fn one_network_spends_only_its_own_share_of_the_sms_budget() {
    within_one_hour(async || {
        let app = spawn_app_with(&[("SMS_MAX_PER_HOUR", "100"), ("SMS_MAX_PER_HOUR_PER_NETWORK", "3")]).await;
        let send = async |ip: &str| app.post_from(ip, "/auth/send", &json!({ "phone": fresh_phone() }), None).await;
        for ip in ["203.0.113.1", "203.0.113.2", "::ffff:203.0.113.3"] {
            send(ip).await.assert(200);
        }
        let refused = send("203.0.113.200").await;
        refused.assert_error(429, "sms_network_budget_exhausted");
        assert!(refused.headers.contains_key("retry-after"));
        send("203.0.114.1").await.assert(200);
        // IPv6: one /48 is one network, whatever its /64s.
        for ip in ["2001:db8:1:2::1", "2001:db8:1:3::1", "2001:db8:1:ffff::1"] {
            send(ip).await.assert(200);
        }
        send("2001:db8:1:4::1").await.assert_error(429, "sms_network_budget_exhausted");
        send("2001:db8:2::1").await.assert(200);
        assert_eq!(app.sms.requests().len(), 8);
        let metrics = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        assert!(metrics.contains("sms_network_budget_refusals_total 2"), "{metrics}");
    })
    .await;
}

#[tokio::test]
async fn a_networks_default_share_is_five_percent_of_the_hour() {
    within_one_hour(async || {
        let app = spawn_app_with(&[("SMS_MAX_PER_HOUR", "400")]).await;
        for host in 1..=20 {
            let ip = format!("198.51.100.{host}");
            app.post_from(&ip, "/auth/send", &json!({ "phone": fresh_phone() }), None).await.assert(200);
        }
        let refused = app.post_from("198.51.100.21", "/auth/send", &json!({ "phone": fresh_phone() }), None).await;
        refused.assert_error(429, "sms_network_budget_exhausted");
    })
    .await;
}

/// Each calling code has its own share: one country's numbers spending it leave the others
/// served.
#[tokio::test]
async fn one_country_spends_only_its_own_share_of_the_sms_budget() {
    within_one_hour(async || {
        let app = spawn_app_with(&[
            ("SMS_ALLOWED_COUNTRY_CODES", "91,44"),
            ("SMS_MAX_PER_HOUR_PER_COUNTRY", "2"),
            ("SMS_MAX_PER_HOUR_PER_NETWORK", "100"),
        ])
        .await;
        let uk = || format!("447{}", &fresh_phone()[1..]);
        app.send_code(&uk()).await.assert(200);
        app.send_code(&uk()).await.assert(200);
        let refused = app.send_code(&uk()).await;
        refused.assert_error(503, "sms_country_budget_exhausted");
        assert!(refused.headers.contains_key("retry-after"));
        // India has its own share.
        app.send_code(&fresh_phone()).await.assert(200);
        app.send_code(&format!("91{}", fresh_phone())).await.assert(200);
        assert_eq!(app.sms.requests().len(), 4);
    })
    .await;
}
