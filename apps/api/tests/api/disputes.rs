//! Chargebacks: Razorpay's dispute webhooks freeze a recharge's coins, a lost dispute takes them
//! back (what was spent becomes a debt the next recharge pays first, and a credit note is
//! issued), a won one gives them back; each step once (issue 25, docs/money.md#chargebacks).

use serde_json::{Value, json};
use talktime_repository::ledger::{self, LedgerAccount};
use talktime_repository::plans::{self, NewPlan};

use crate::support::ws::Ws;
use crate::support::{Session, TestApp, spawn_app};

/// The sandbox gateway's webhook secret (RAZORPAY_WEBHOOK_SECRET unset).
const SANDBOX_WEBHOOK_SECRET: &str = "sandbox_webhook_secret";

/// ₹99 for 300 coins.
async fn plan(app: &TestApp) -> String {
    let plan = plans::create(
        app.db.pool(),
        &NewPlan { amount_paise: 9_900, coins: 300, discount_hundredths: 0, is_active: true },
    )
    .await
    .unwrap();
    plan.id.to_string()
}

/// Buys the plan through the sandbox; the order and payment ids.
async fn recharge(app: &TestApp, user: &Session, plan: &str) -> (String, String) {
    let order = app.post_auth("/payment/create-order", &user.token, &json!({ "planId": plan })).await;
    let order = order.body["data"]["orderId"].as_str().unwrap().to_owned();
    let paid = app.post_auth("/payment/sandbox/pay", &user.token, &json!({ "orderId": order })).await;
    app.post_auth("/payment/verify", &user.token, &paid.body["data"]).await.assert(200);
    (order, paid.body["data"]["razorpay_payment_id"].as_str().unwrap().to_owned())
}

async fn dispute(app: &TestApp, event: &str, (order, payment): &(String, String), dispute_id: &str) -> Value {
    let body = json!({
        "entity": "event", "event": format!("payment.dispute.{event}"), "contains": ["payment", "dispute"],
        "payload": {
            "payment": { "entity": { "id": payment, "order_id": order, "status": "captured" } },
            "dispute": { "entity": { "id": dispute_id, "entity": "dispute", "payment_id": payment, "amount": 9_900,
                "currency": "INR", "reason_code": "fraud", "reason_description": "The cardholder did not authorise it",
                "status": event, "phase": "chargeback" } },
        },
        "created_at": chrono::Utc::now().timestamp_micros(),
    });
    let raw = serde_json::to_vec(&body).unwrap();
    let signature = talktime_services::gateway::hmac_hex(SANDBOX_WEBHOOK_SECRET, &raw);
    let reply = app
        .client
        .post(app.url("/payment/webhook"))
        .header("content-type", "application/json")
        .header("x-razorpay-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    reply.json().await.unwrap()
}

async fn wallet(app: &TestApp, user: &Session) -> Value {
    app.get_auth("/users/me", &user.token).await.body["data"]["wallet"].clone()
}

async fn holds(app: &TestApp) -> i64 {
    ledger::platform_balance(app.db.pool(), LedgerAccount::DisputeHolds).await.unwrap()
}

/// A billed audio call of `secs` seconds (2 coins a second by default).
async fn call(app: &TestApp, user: &Session, telecaller: &Session, secs: i64) {
    let (mut t, _) = Ws::connect(app, "/ws/telecaller", &telecaller.token).await;
    let (mut u, _) = Ws::connect(app, "/ws/user", &user.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let id = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    t.expect("call:incoming").await;
    t.send("call:accept", json!({ "callId": id })).await;
    t.expect("call:accepted").await;
    talktime_repository::testing::age_call(&app.db, id.parse().unwrap(), secs).await.unwrap();
    u.send("call:end", json!({ "callId": id })).await;
    u.expect("call:ended").await;
}

#[tokio::test]
async fn a_lost_dispute_takes_the_coins_back_and_what_was_spent_is_paid_by_the_next_recharge() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let plan = plan(&app).await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    let first = recharge(&app, &user, &plan).await;
    call(&app, &user, &telecaller, 50).await;
    assert_eq!(app.balance(&user.id).await, 200, "100 coins spent of 300");

    dispute(&app, "created", &first, "disp_A").await;
    assert_eq!(app.balance(&user.id).await, 0, "what is left of the recharge is frozen");
    assert_eq!(holds(&app).await, 200);
    let open = app.get_auth("/admin/disputes", &admin).await;
    let listed = &open.body["data"]["disputes"][0];
    assert_eq!((listed["status"].clone(), listed["heldCoins"].clone()), (json!("OPEN"), json!(200)));
    assert_eq!(listed["amount"], json!(99.0));
    app.assert_books_balance().await;

    dispute(&app, "lost", &first, "disp_A").await;
    dispute(&app, "lost", &first, "disp_A").await;
    dispute(&app, "won", &first, "disp_A").await;
    let owed = wallet(&app, &user).await;
    assert_eq!(owed["balance"], json!(-100), "{owed}");
    assert_eq!(owed["balances"]["owed"], json!(100));
    assert_eq!(holds(&app).await, 0);
    assert_eq!(ledger::platform_balance(app.db.pool(), LedgerAccount::Gateway).await.unwrap(), 0, "the sale is undone");
    let lost = app.get_auth("/admin/disputes?status=LOST", &admin).await;
    assert_eq!(lost.body["data"]["disputes"][0]["owedCoins"], json!(100));
    assert_eq!(app.get_auth("/admin/disputes", &admin).await.body["data"]["total"], json!(0));

    // She cannot call while she owes, even with coins in hand.
    app.grant_coins(&user.id, 500).await;
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    let (_t, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let refused = u.expect("call:error").await;
    assert_eq!(refused["code"], json!("payment_reversed"));

    // The next recharge pays the debt first.
    recharge(&app, &user, &plan).await;
    let settled = wallet(&app, &user).await;
    assert_eq!((settled["balance"].clone(), settled["balances"]["owed"].clone()), (json!(700), json!(0)));
    let lost = app.get_auth("/admin/disputes?status=LOST", &admin).await;
    assert_eq!(lost.body["data"]["disputes"][0]["owedCoins"], json!(0));

    // The credit note cancels the invoice in the month's GST export.
    let month = (chrono::Utc::now() + chrono::Duration::minutes(330)).format("%Y-%m").to_string();
    let export =
        app.client.get(app.url(&format!("/admin/tax/gst?month={month}"))).bearer_auth(&admin).send().await.unwrap();
    let csv = export.text().await.unwrap();
    let notes: Vec<&str> = csv.lines().filter(|l| l.contains(",CREDIT_NOTE,")).collect();
    assert_eq!(notes.len(), 1, "{csv}");
    assert!(notes[0].starts_with("TT/CN/"), "{csv}");
    assert!(notes[0].ends_with(",-99.00"), "{csv}");
    assert!(csv.lines().last().unwrap().ends_with(",99.00"), "two invoices less one credit note: {csv}");
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_won_or_closed_dispute_gives_the_frozen_coins_back_once() {
    let app = spawn_app().await;
    let plan = plan(&app).await;
    let user = app.user().await;
    let paid = recharge(&app, &user, &plan).await;
    // "lost" news never comes first here: "won" without "created" opens and releases at once.
    dispute(&app, "under_review", &paid, "disp_B").await;
    dispute(&app, "created", &paid, "disp_B").await;
    assert_eq!(app.balance(&user.id).await, 0);
    assert_eq!(holds(&app).await, 300);
    dispute(&app, "won", &paid, "disp_B").await;
    dispute(&app, "closed", &paid, "disp_B").await;
    dispute(&app, "lost", &paid, "disp_B").await;
    assert_eq!(app.balance(&user.id).await, 300);
    assert_eq!(holds(&app).await, 0);

    // A second dispute on the same payment, closed without news of its opening.
    dispute(&app, "closed", &paid, "disp_C").await;
    assert_eq!(app.balance(&user.id).await, 300);
    app.assert_books_balance().await;
}
