//! Recharges through a local fake Razorpay: orders, verify, cancel, webhooks, reconciler.
//!
//! Long on purpose: every way a recharge can end (verified, webhook, reconciled, cancelled,
//! failed, replayed) side by side, so the money rules are read as one story.

use crate::support::{FakeServer, Session, TestApp, spawn_app_with};
use futures_util::future::join_all;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use talktime_repository::plans::{self, NewPlan};

const KEY_ID: &str = "rzp_test_key";
const KEY_SECRET: &str = "rzp_key_secret";
const WEBHOOK_SECRET: &str = "rzp_webhook_secret";

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

struct Shop {
    app: TestApp,
    razorpay: FakeServer,
    user: Session,
    plan: String,
}

async fn shop_with(extra: &[(&str, &str)]) -> Shop {
    let razorpay = FakeServer::start().await;
    razorpay.route("POST", "/v1/orders", 200, r#"{"id":"order_T{seq}","entity":"order","status":"created"}"#);
    let mut vars = vec![
        ("PAYMENT_GATEWAY", "razorpay"),
        ("RAZORPAY_API_BASE", razorpay.base.as_str()),
        ("RAZORPAY_KEY_ID", KEY_ID),
        ("RAZORPAY_KEY_SECRET", KEY_SECRET),
        ("RAZORPAY_WEBHOOK_SECRET", WEBHOOK_SECRET),
    ];
    vars.extend_from_slice(extra);
    let app = spawn_app_with(&vars).await;
    // ₹99.99 with 15% off: 8499.15 paise → 8499.
    let plan = plans::create(
        app.db.pool(),
        &NewPlan { amount_paise: 9999, coins: 120, discount_hundredths: 1500, is_active: true },
    )
    .await
    .unwrap();
    let user = app.user().await;
    Shop { app, razorpay, user, plan: plan.id.to_string() }
}

async fn shop() -> Shop {
    shop_with(&[]).await
}

impl Shop {
    async fn order(&self) -> String {
        let reply =
            self.app.post_auth("/payment/create-order", &self.user.token, &json!({ "planId": self.plan })).await;
        reply.assert(200);
        reply.body["data"]["orderId"].as_str().unwrap().to_owned()
    }

    async fn verify(&self, order: &str, payment: &str) -> crate::support::Reply {
        let signature = hmac_hex(KEY_SECRET, format!("{order}|{payment}").as_bytes());
        self.app
            .post_auth(
                "/payment/verify",
                &self.user.token,
                &json!({ "razorpay_order_id": order, "razorpay_payment_id": payment, "razorpay_signature": signature }),
            )
            .await
    }

    async fn webhook(&self, event_id: &str, body: &Value, secret: &str) -> crate::support::Reply {
        let raw = serde_json::to_vec(body).unwrap();
        let response = self
            .app
            .client
            .post(self.app.url("/payment/webhook"))
            .header("content-type", "application/json")
            .header("x-razorpay-signature", hmac_hex(secret, &raw))
            .header("x-razorpay-event-id", event_id)
            .body(raw)
            .send()
            .await
            .unwrap();
        crate::support::Reply::read(response).await
    }

    async fn status(&self, order: &str) -> String {
        talktime_repository::transactions::find_by_order(self.app.db.pool(), order)
            .await
            .unwrap()
            .unwrap()
            .status
            .to_string()
    }

    async fn balance(&self) -> i64 {
        self.app.balance(&self.user.id).await
    }
}

fn captured(order: &str, payment: &str) -> Value {
    json!({
        "entity": "event", "event": "payment.captured",
        "payload": { "payment": { "entity": { "id": payment, "order_id": order, "status": "captured", "amount": 8499 } } }
    })
}

#[tokio::test]
async fn order_creation_sends_the_discounted_amount_in_paise_and_stores_the_order() {
    let shop = shop().await;
    let reply = shop.app.post_auth("/payment/create-order", &shop.user.token, &json!({ "planId": shop.plan })).await;
    reply.assert(200);
    let data = &reply.body["data"];
    assert_eq!(data["amount"], json!(8499));
    assert_eq!(data["currency"], json!("INR"));
    assert_eq!(data["coins"], json!(120));
    assert_eq!(data["planId"], json!(shop.plan));
    assert_eq!(data["razorpayKeyId"], json!(KEY_ID));
    let order = data["orderId"].as_str().unwrap();

    let sent = &shop.razorpay.requests()[0];
    assert_eq!((sent.method.as_str(), sent.path.as_str()), ("POST", "/v1/orders"));
    let body: Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body["amount"], json!(8499));
    assert_eq!(body["currency"], json!("INR"));
    assert!(body["receipt"].as_str().is_some_and(|r| !r.is_empty() && r.len() <= 40));
    use base64::Engine;
    let auth = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}")));
    assert_eq!(sent.headers["authorization"], auth);

    assert_eq!(shop.status(order).await, "PENDING");
    let history = shop.app.get_auth("/users/transactions", &shop.user.token).await;
    let first = &history.body["data"]["transactions"][0];
    assert_eq!(
        (first["status"].clone(), first["amount"].clone(), first["gatewayOrderId"].clone()),
        (json!("PENDING"), json!(84.99), json!(order))
    );
}

#[tokio::test]
async fn order_errors() {
    let shop = shop().await;
    let unknown = uuid::Uuid::now_v7().to_string();
    shop.app
        .post_auth("/payment/create-order", &shop.user.token, &json!({ "planId": unknown }))
        .await
        .assert_error(404, "plan_not_found");
    shop.razorpay.route("POST", "/v1/orders", 500, r#"{"error":{"code":"SERVER_ERROR"}}"#);
    shop.app
        .post_auth("/payment/create-order", &shop.user.token, &json!({ "planId": shop.plan }))
        .await
        .assert_error(502, "payment_gateway_error");
    let history = shop.app.get_auth("/users/transactions", &shop.user.token).await;
    assert_eq!(history.body["data"]["transactions"], json!([]), "a failed order stores nothing");
    // Two per minute.
    shop.app
        .post_auth("/payment/create-order", &shop.user.token, &json!({ "planId": shop.plan }))
        .await
        .assert_error(429, "rate_limited");

    let inactive = plans::create(
        shop.app.db.pool(),
        &NewPlan { amount_paise: 100, coins: 1, discount_hundredths: 0, is_active: false },
    )
    .await
    .unwrap();
    let other = shop.app.user().await;
    shop.app
        .post_auth("/payment/create-order", &other.token, &json!({ "planId": inactive.id.to_string() }))
        .await
        .assert_error(404, "plan_not_found");
    let telecaller = shop.app.telecaller(true).await;
    shop.app
        .post_auth("/payment/create-order", &telecaller.token, &json!({ "planId": shop.plan }))
        .await
        .assert_error(403, "forbidden_role");
}

#[tokio::test]
async fn a_valid_verify_credits_once_and_repeats_answer_the_same_success() {
    let shop = shop().await;
    let order = shop.order().await;
    let first = shop.verify(&order, "pay_A").await;
    first.assert(200);
    assert_eq!(first.body["data"]["status"], json!("SUCCESS"));
    assert_eq!(first.body["data"]["balance"], json!(120));
    let again = shop.verify(&order, "pay_A").await;
    again.assert(200);
    assert_eq!(again.body["data"]["balance"], json!(120));
    assert_eq!(shop.balance().await, 120);
    let plans = shop.app.get_auth("/users/plans", &shop.user.token).await;
    assert_eq!(plans.body["data"]["isFirstRecharge"], json!(false));
    let me = shop.app.get_auth("/users/me", &shop.user.token).await;
    assert_eq!(me.body["data"]["wallet"]["balance"], json!(120));
    shop.app.assert_books_balance().await;
}

#[tokio::test]
async fn fifty_concurrent_verifies_webhooks_and_reconciler_passes_credit_exactly_once() {
    let shop = shop_with(&[("RECONCILE_MIN_AGE_SECS", "0")]).await;
    let order = shop.order().await;
    shop.razorpay.route(
        "GET",
        &format!("/v1/orders/{order}/payments"),
        200,
        r#"{"entity":"collection","count":1,"items":[{"id":"pay_C","status":"captured"}]}"#,
    );
    let body = captured(&order, "pay_C");
    let event_ids: Vec<String> = (0..50).map(|i| format!("evt_{i}")).collect();
    let mut verifies = Vec::new();
    let mut hooks = Vec::new();
    let mut passes = Vec::new();
    for (i, event_id) in event_ids.iter().enumerate() {
        match i % 3 {
            0 => verifies.push(shop.verify(&order, "pay_C")),
            1 => hooks.push(shop.webhook(event_id, &body, WEBHOOK_SECRET)),
            _ => passes.push(shop.app.payments().reconcile_once()),
        }
    }
    let (verifies, hooks, passes) = tokio::join!(join_all(verifies), join_all(hooks), join_all(passes));
    assert!(verifies.iter().all(|r| r.status == 200 || r.code() == "rate_limited"), "{verifies:?}");
    assert!(hooks.iter().all(|r| r.status == 200), "{hooks:?}");
    let credited_by_reconciler: usize = passes.into_iter().map(|p| p.unwrap().credited).sum();
    assert!(credited_by_reconciler <= 1);
    assert_eq!(shop.balance().await, 120, "credited exactly once");
    assert_eq!(shop.status(&order).await, "SUCCESS");
    shop.app.assert_books_balance().await;
}

#[tokio::test]
async fn a_bad_signature_leaves_the_order_pending_and_a_genuine_verify_still_succeeds() {
    let shop = shop().await;
    let order = shop.order().await;
    let forged = shop
        .app
        .post_auth(
            "/payment/verify",
            &shop.user.token,
            &json!({ "razorpay_order_id": order, "razorpay_payment_id": "pay_X", "razorpay_signature": "00".repeat(32) }),
        )
        .await;
    forged.assert_error(400, "invalid_signature");
    // A signature made for another order does not pass for this one.
    let other_order = shop.order().await;
    let misplaced = hmac_hex(KEY_SECRET, format!("{other_order}|pay_X").as_bytes());
    shop.app
        .post_auth(
            "/payment/verify",
            &shop.user.token,
            &json!({ "razorpay_order_id": order, "razorpay_payment_id": "pay_X", "razorpay_signature": misplaced }),
        )
        .await
        .assert_error(400, "invalid_signature");
    assert_eq!(shop.status(&order).await, "PENDING");
    assert_eq!(shop.balance().await, 0);
    shop.verify(&order, "pay_X").await.assert(200);
    assert_eq!(shop.balance().await, 120);
    shop.app.assert_books_balance().await;
}

#[tokio::test]
async fn cancel_then_a_captured_webhook_credits() {
    let shop = shop().await;
    let order = shop.order().await;
    let cancelled = shop
        .app
        .post_auth("/payment/verify", &shop.user.token, &json!({ "razorpay_order_id": order, "cancelled": true }))
        .await;
    cancelled.assert(200);
    assert_eq!(cancelled.body["success"], json!(false));
    assert_eq!(cancelled.body["data"]["status"], json!("CANCELLED"));
    assert_eq!(shop.status(&order).await, "CANCELLED");

    shop.webhook("evt_1", &captured(&order, "pay_L"), WEBHOOK_SECRET).await.assert(200);
    assert_eq!(shop.status(&order).await, "SUCCESS");
    assert_eq!(shop.balance().await, 120);
    shop.app.assert_books_balance().await;
}

#[tokio::test]
async fn redelivered_webhook_events_are_acknowledged_and_ignored() {
    let shop = shop().await;
    let order = shop.order().await;
    let first = shop.webhook("evt_same", &captured(&order, "pay_R"), WEBHOOK_SECRET).await;
    first.assert(200);
    assert_eq!(first.body["message"], json!("processed"));
    let again = shop.webhook("evt_same", &captured(&order, "pay_R"), WEBHOOK_SECRET).await;
    again.assert(200);
    assert_eq!(again.body["message"], json!("duplicate"));
    // A different event for the same payment finds the order already credited.
    shop.webhook("evt_other", &json!({"event": "order.paid", "payload": {"payment": {"entity": {"id": "pay_R", "order_id": order}}, "order": {"entity": {"id": order}}}}), WEBHOOK_SECRET)
        .await
        .assert(200);
    assert_eq!(shop.balance().await, 120);
    shop.app.assert_books_balance().await;
}

#[tokio::test]
async fn redeliveries_are_recognised_by_the_signed_body_not_the_unsigned_event_id_header() {
    let shop = shop().await;
    let order = shop.order().await;
    let body = captured(&order, "pay_H");
    assert_eq!(shop.webhook("evt_1", &body, WEBHOOK_SECRET).await.body["message"], json!("processed"));
    // A replay of the same signed body under a new header id is still the same event.
    for header in ["evt_2", "evt_3", ""] {
        let replay = shop.webhook(header, &body, WEBHOOK_SECRET).await;
        replay.assert(200);
        assert_eq!(replay.body["message"], json!("duplicate"), "{header}");
    }
    assert_eq!(shop.balance().await, 120);
    shop.app.assert_books_balance().await;
}

#[tokio::test]
async fn signed_webhooks_that_can_never_succeed_are_acknowledged_not_retried() {
    let shop = shop().await;
    // Unreadable, but signed: a retry would be just as unreadable.
    let raw = b"{not json".to_vec();
    let response = shop
        .app
        .client
        .post(shop.app.url("/payment/webhook"))
        .header("x-razorpay-signature", hmac_hex(WEBHOOK_SECRET, &raw))
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // A payment already spent on one order, claimed again for another: a conflict for ever.
    let first = shop.order().await;
    let second = shop.order().await;
    shop.webhook("evt_a", &captured(&first, "pay_twice"), WEBHOOK_SECRET).await.assert(200);
    let reused = shop.webhook("evt_b", &captured(&second, "pay_twice"), WEBHOOK_SECRET).await;
    reused.assert(200);
    assert_eq!(reused.body["message"], json!("ignored"));
    assert_eq!(shop.status(&second).await, "PENDING");
    assert_eq!(shop.balance().await, 120);
    shop.app.assert_books_balance().await;
}

#[tokio::test]
async fn a_webhook_with_a_bad_signature_is_refused_and_changes_nothing() {
    let shop = shop().await;
    let order = shop.order().await;
    shop.webhook("evt_bad", &captured(&order, "pay_B"), "wrong-secret").await.assert_error(400, "invalid_signature");
    let unsigned =
        shop.app.client.post(shop.app.url("/payment/webhook")).json(&captured(&order, "pay_B")).send().await.unwrap();
    assert_eq!(unsigned.status(), 400);
    assert_eq!(shop.status(&order).await, "PENDING");
    assert_eq!(shop.balance().await, 0);
    // The refused delivery did not burn its event id.
    shop.webhook("evt_bad", &captured(&order, "pay_B"), WEBHOOK_SECRET).await.assert(200);
    assert_eq!(shop.balance().await, 120);
}

#[tokio::test]
async fn payment_failed_marks_pending_orders_failed_but_never_uncredits() {
    let shop = shop().await;
    let order = shop.order().await;
    let failed = json!({"event": "payment.failed", "payload": {"payment": {"entity": {"id": "pay_F", "order_id": order, "status": "failed"}}}});
    shop.webhook("evt_f1", &failed, WEBHOOK_SECRET).await.assert(200);
    assert_eq!(shop.status(&order).await, "FAILED");
    // A later capture (a retry that succeeded) still credits.
    shop.webhook("evt_c1", &captured(&order, "pay_G"), WEBHOOK_SECRET).await.assert(200);
    assert_eq!(shop.status(&order).await, "SUCCESS");
    shop.webhook("evt_f2", &failed, WEBHOOK_SECRET).await.assert(200);
    assert_eq!(shop.status(&order).await, "SUCCESS");
    assert_eq!(shop.balance().await, 120);
}

#[tokio::test]
async fn another_users_order_is_404() {
    let shop = shop().await;
    let order = shop.order().await;
    let stranger = shop.app.user().await;
    let signature = hmac_hex(KEY_SECRET, format!("{order}|pay_S").as_bytes());
    let body = json!({ "razorpay_order_id": order, "razorpay_payment_id": "pay_S", "razorpay_signature": signature });
    shop.app.post_auth("/payment/verify", &stranger.token, &body).await.assert_error(404, "order_not_found");
    shop.app
        .post_auth("/payment/verify", &stranger.token, &json!({ "razorpay_order_id": order, "cancelled": true }))
        .await
        .assert_error(404, "order_not_found");
    shop.app
        .post_auth("/payment/verify", &stranger.token, &json!({ "razorpay_order_id": "order_nope", "cancelled": true }))
        .await
        .assert_error(404, "order_not_found");
    assert_eq!(shop.status(&order).await, "PENDING");
}

#[tokio::test]
async fn the_reconciler_credits_captured_orders_and_expires_unpaid_ones() {
    let shop = shop_with(&[("RECONCILE_MIN_AGE_SECS", "0"), ("ORDER_EXPIRY_SECS", "0")]).await;
    let paid = shop.order().await;
    let unpaid = shop.order().await;
    shop.razorpay.route(
        "GET",
        &format!("/v1/orders/{paid}/payments"),
        200,
        r#"{"items":[{"id":"pay_1","status":"failed"},{"id":"pay_2","status":"captured"}]}"#,
    );
    shop.razorpay.route("GET", &format!("/v1/orders/{unpaid}/payments"), 200, r#"{"items":[]}"#);
    let report = shop.app.payments().reconcile_once().await.unwrap();
    assert_eq!((report.credited, report.expired), (1, 1));
    assert_eq!(shop.status(&paid).await, "SUCCESS");
    assert_eq!(shop.status(&unpaid).await, "FAILED");
    assert_eq!(shop.balance().await, 120);
    let again = shop.app.payments().reconcile_once().await.unwrap();
    assert_eq!((again.credited, again.expired), (0, 0));
    shop.app.assert_books_balance().await;
}

#[tokio::test]
async fn the_sandbox_gateway_runs_the_whole_flow_locally() {
    let app = crate::support::spawn_app().await;
    let plan = plans::create(
        app.db.pool(),
        &NewPlan { amount_paise: 4900, coins: 50, discount_hundredths: 0, is_active: true },
    )
    .await
    .unwrap();
    let user = app.user().await;
    let order = app.post_auth("/payment/create-order", &user.token, &json!({ "planId": plan.id.to_string() })).await;
    order.assert(200);
    let order_id = order.body["data"]["orderId"].as_str().unwrap();
    let paid = app.post_auth("/payment/sandbox/pay", &user.token, &json!({ "orderId": order_id })).await;
    paid.assert(200);
    let verified = app.post_auth("/payment/verify", &user.token, &paid.body["data"]).await;
    verified.assert(200);
    assert_eq!(app.balance(&user.id).await, 50);

    // Not in the sandbox: the route does not exist.
    let shop = shop().await;
    let real = shop.order().await;
    shop.app.post_auth("/payment/sandbox/pay", &shop.user.token, &json!({ "orderId": real })).await.assert(404);
    app.assert_books_balance().await;
}
