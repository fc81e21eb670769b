//! Coupons: admin CRUD (audited), previews, discounts and bonuses, the reservation an order holds
//! (consumed once at capture, released by a failed order) and the race for the last redemption.

use crate::support::{Session, TestApp, spawn_app};
use futures_util::future::join_all;
use serde_json::{Value, json};
use talktime_repository::plans::{self, NewPlan};

/// ₹99 for 110 coins, no discount of its own.
async fn plan(app: &TestApp) -> String {
    let plan = plans::create(
        app.db.pool(),
        &NewPlan { amount_paise: 9900, coins: 110, discount_hundredths: 0, is_active: true },
    )
    .await
    .unwrap();
    plan.id.to_string()
}

async fn coupon(app: &TestApp, admin: &str, body: Value) -> Value {
    let created = app.post_auth("/admin/coupons", admin, &body).await;
    created.assert(201);
    created.body["data"].clone()
}

fn order_body(plan: &str, code: &str) -> Value {
    json!({ "planId": plan, "couponCode": code })
}

/// Pays an order through the sandbox and verifies it.
async fn pay(app: &TestApp, user: &Session, order: &str) {
    let paid = app.post_auth("/payment/sandbox/pay", &user.token, &json!({ "orderId": order })).await;
    app.post_auth("/payment/verify", &user.token, &paid.body["data"]).await.assert(200);
}

async fn promo(app: &TestApp, user: &Session) -> Value {
    app.get_auth("/users/me", &user.token).await.body["data"]["wallet"]["balances"]["promo"].clone()
}

#[tokio::test]
async fn admins_create_list_edit_and_deactivate_coupons_and_every_change_is_audited() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let made =
        coupon(&app, &admin, json!({ "code": "Welcome50", "kind": "BONUS_COINS", "value": 50, "maxRedemptions": 100 }))
            .await;
    assert_eq!(
        (made["code"].clone(), made["perUserLimit"].clone(), made["isActive"].clone()),
        (json!("Welcome50"), json!(1), json!(true))
    );
    let again = app
        .post_auth("/admin/coupons", &admin, &json!({ "code": "WELCOME50", "kind": "BONUS_COINS", "value": 5 }))
        .await;
    again.assert_error(409, "coupon_code_taken");
    for bad in [
        json!({ "code": "X", "kind": "BONUS_COINS", "value": 5 }),
        json!({ "code": "BAD CODE", "kind": "BONUS_COINS", "value": 5 }),
        json!({ "code": "HALF", "kind": "DISCOUNT_PERCENT", "value": 100 }),
        json!({ "code": "LATE", "kind": "BONUS_COINS", "value": 5, "validFrom": "2027-01-02T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z" }),
        json!({ "code": "NOPLAN", "kind": "BONUS_COINS", "value": 5, "planIds": [uuid::Uuid::nil()] }),
    ] {
        app.post_auth("/admin/coupons", &admin, &bad).await.assert(400);
    }
    let list = app.get_auth("/admin/coupons", &admin).await;
    assert_eq!(list.body["data"]["total"], json!(1));

    let path = format!("/admin/coupons/{}", made["_id"].as_str().unwrap());
    let edited = app.patch_auth(&path, &admin, &json!({ "value": 60, "maxRedemptions": null })).await;
    edited.assert(200);
    assert_eq!(
        (edited.body["data"]["value"].clone(), edited.body["data"]["maxRedemptions"].clone()),
        (json!(60), Value::Null)
    );
    let off = app.patch_auth(&path, &admin, &json!({ "isActive": false })).await;
    assert_eq!(off.body["data"]["isActive"], json!(false));
    let log = app.get_auth("/admin/audit-log", &admin).await;
    let actions: Vec<&str> =
        log.body["data"]["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(&actions[..3], ["coupon.update", "coupon.update", "coupon.create"]);

    let user = app.user().await;
    let plan = plan(&app).await;
    let check =
        app.post_auth("/users/coupons/check", &user.token, &json!({ "code": "welcome50", "planId": plan })).await;
    check.assert_error(400, "coupon_invalid");
    assert_eq!(check.body["reason"], json!("expired"), "a deactivated coupon no longer applies");
    app.get_auth(&format!("/admin/coupons/{}", uuid::Uuid::nil()), &admin).await.assert_error(404, "coupon_not_found");
}

#[tokio::test]
async fn a_discount_lowers_the_amount_charged_and_a_bonus_comes_at_capture_once() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let plan = plan(&app).await;
    let discount = coupon(&app, &admin, json!({ "code": "TWENTY", "kind": "DISCOUNT_PERCENT", "value": 20 })).await;
    coupon(&app, &admin, json!({ "code": "BONUS", "kind": "BONUS_PERCENT", "value": 10 })).await;

    let user = app.user().await;
    let check = app.post_auth("/users/coupons/check", &user.token, &json!({ "code": "twenty", "planId": plan })).await;
    check.assert(200);
    assert_eq!(
        (check.body["data"]["originalAmount"].clone(), check.body["data"]["amount"].clone()),
        (json!(9900), json!(7920))
    );
    let order = app.post_auth("/payment/create-order", &user.token, &order_body(&plan, "TWENTY")).await;
    order.assert(200);
    assert_eq!(order.body["data"]["amount"], json!(7920));
    assert_eq!(order.body["data"]["coupon"]["discount"], json!(1980));
    pay(&app, &user, order.body["data"]["orderId"].as_str().unwrap()).await;
    assert_eq!(promo(&app, &user).await, json!(0), "a discount brings no coins");
    let detail = app.get_auth(&format!("/admin/coupons/{}", discount["_id"].as_str().unwrap()), &admin).await;
    assert_eq!(detail.body["data"]["redemptions"][0]["status"], json!("REDEEMED"));
    assert_eq!(detail.body["data"]["coupon"]["redemptions"], json!(1));
    // Her one use is spent.
    let twice = app.post_auth("/users/coupons/check", &user.token, &json!({ "code": "TWENTY", "planId": plan })).await;
    assert_eq!(twice.body["reason"], json!("exhausted"));

    let other = app.user().await;
    let order = app.post_auth("/payment/create-order", &other.token, &order_body(&plan, "BONUS")).await;
    assert_eq!(
        (order.body["data"]["amount"].clone(), order.body["data"]["coupon"]["bonusCoins"].clone()),
        (json!(9900), json!(11))
    );
    let paid =
        app.post_auth("/payment/sandbox/pay", &other.token, &json!({ "orderId": order.body["data"]["orderId"] })).await;
    // A second verify of the same payment changes nothing.
    for _ in 0..2 {
        app.post_auth("/payment/verify", &other.token, &paid.body["data"]).await.assert(200);
    }
    assert_eq!(promo(&app, &other).await, json!(11));
    let history = app.get_auth("/users/transactions", &other.token).await;
    assert_eq!(history.body["data"]["promotions"][0]["cause"], json!("COUPON_BONUS"));
    let figures = app.get_auth("/admin/dashboard/promotions?period=last7days", &admin).await;
    assert_eq!(figures.body["data"]["coupons"], json!({ "redemptions": 2, "discount": 19.8 }));
    assert_eq!(figures.body["data"]["grants"]["COUPON_BONUS"], json!({ "coins": 11, "count": 1 }));
    assert_eq!(figures.body["data"]["outstanding"], json!(11));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn bad_codes_answer_coupon_invalid_with_the_reason() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let (plan, other_plan) = (plan(&app).await, plan(&app).await);
    coupon(
        &app,
        &admin,
        json!({ "code": "OLD", "kind": "BONUS_COINS", "value": 5, "validUntil": "2026-01-01T00:00:00Z" }),
    )
    .await;
    coupon(
        &app,
        &admin,
        json!({ "code": "SOON", "kind": "BONUS_COINS", "value": 5, "validFrom": "2099-01-01T00:00:00Z" }),
    )
    .await;
    coupon(&app, &admin, json!({ "code": "NEWBIE", "kind": "BONUS_COINS", "value": 5, "newUsersOnly": true })).await;
    coupon(&app, &admin, json!({ "code": "ONLYONE", "kind": "BONUS_COINS", "value": 5, "planIds": [other_plan] }))
        .await;
    let user = app.user().await;
    let order = app.post_auth("/payment/create-order", &user.token, &json!({ "planId": plan })).await;
    pay(&app, &user, order.body["data"]["orderId"].as_str().unwrap()).await;
    for (code, reason) in [
        ("NOPE", "unknown"),
        ("OLD", "expired"),
        ("SOON", "not_eligible"),
        ("NEWBIE", "not_eligible"),
        ("ONLYONE", "not_eligible"),
    ] {
        let check = app.post_auth("/users/coupons/check", &user.token, &json!({ "code": code, "planId": plan })).await;
        check.assert_error(400, "coupon_invalid");
        assert_eq!(check.body["reason"], json!(reason), "{code}");
    }
    // An order refuses it alike (and opens no order).
    let order = app.post_auth("/payment/create-order", &user.token, &order_body(&plan, "OLD")).await;
    order.assert_error(400, "coupon_invalid");
    assert_eq!(order.body["reason"], json!("expired"));
}

#[tokio::test]
async fn fifty_concurrent_orders_for_the_last_redemption_produce_exactly_one_and_a_failed_order_releases_it() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let plan = plan(&app).await;
    let made =
        coupon(&app, &admin, json!({ "code": "LAST", "kind": "BONUS_COINS", "value": 7, "maxRedemptions": 1 })).await;
    let users = join_all((0..50).map(|_| app.user())).await;
    let body = order_body(&plan, "LAST");
    let orders = join_all(users.iter().map(|u| app.post_auth("/payment/create-order", &u.token, &body))).await;
    let won: Vec<usize> = orders.iter().enumerate().filter(|(_, o)| o.status == 200).map(|(i, _)| i).collect();
    assert_eq!(won.len(), 1, "exactly one order holds the last redemption");
    for order in orders.iter().filter(|o| o.status != 200) {
        order.assert_error(400, "coupon_invalid");
        assert_eq!(order.body["reason"], json!("exhausted"));
    }

    // The winner cancels: the redemption comes back, and the next order takes it.
    let (winner, order) = (&users[won[0]], orders[won[0]].body["data"]["orderId"].as_str().unwrap());
    let cancel = json!({ "razorpay_order_id": order, "cancelled": true });
    app.post_auth("/payment/verify", &winner.token, &cancel).await.assert(200);
    let detail = app.get_auth(&format!("/admin/coupons/{}", made["_id"].as_str().unwrap()), &admin).await;
    assert_eq!(detail.body["data"]["redemptions"][0]["status"], json!("RELEASED"));
    assert_eq!(detail.body["data"]["coupon"]["redemptions"], json!(0));
    let late = &users[(won[0] + 1) % 50];
    let order = app.post_auth("/payment/create-order", &late.token, &order_body(&plan, "LAST")).await;
    order.assert(200);
    pay(&app, late, order.body["data"]["orderId"].as_str().unwrap()).await;
    assert_eq!(promo(&app, late).await, json!(7));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn an_order_that_expires_unpaid_releases_its_coupon() {
    let app = crate::support::spawn_app_with(&[("RECONCILE_MIN_AGE_SECS", "0"), ("ORDER_EXPIRY_SECS", "0")]).await;
    let admin = app.admin_token().await;
    let plan = plan(&app).await;
    let made =
        coupon(&app, &admin, json!({ "code": "ONCE", "kind": "BONUS_COINS", "value": 5, "maxRedemptions": 1 })).await;
    let (first, second) = (app.user().await, app.user().await);
    app.post_auth("/payment/create-order", &first.token, &order_body(&plan, "ONCE")).await.assert(200);
    let taken = app.post_auth("/payment/create-order", &second.token, &order_body(&plan, "ONCE")).await;
    assert_eq!(taken.body["reason"], json!("exhausted"));

    let report = app.payments().reconcile_once().await.unwrap();
    assert_eq!(report.expired, 1, "the unpaid order expired");
    let detail = app.get_auth(&format!("/admin/coupons/{}", made["_id"].as_str().unwrap()), &admin).await;
    assert_eq!(detail.body["data"]["redemptions"][0]["status"], json!("RELEASED"));
    app.post_auth("/payment/create-order", &second.token, &order_body(&plan, "ONCE")).await.assert(200);
}
