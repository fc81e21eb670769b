//! Promotions: promotional coins in their own wallet, spent first, expiring, refunded to their
//! source; the signup bonus, the first-recharge bonus and a free first call (docs/money.md).

use crate::support::ws::Ws;
use crate::support::{FakeServer, Session, TestApp, fresh_phone, spawn_app_with};
use serde_json::{Value, json};
use talktime_domain::ids::{AccountId, CallId};
use talktime_repository::ledger::{self, LedgerAccount};

async fn promo_app(config: Value) -> (TestApp, FakeServer, String) {
    let rooms = FakeServer::start().await;
    rooms.route("POST", "/twirp/livekit.RoomService/DeleteRoom", 200, "");
    let app = spawn_app_with(&[("LIVEKIT_API_URL", rooms.base.as_str())]).await;
    let admin = app.admin_token().await;
    app.put_auth("/admin/config", &admin, &config).await.assert(200);
    (app, rooms, admin)
}

async fn wallet(app: &TestApp, session: &Session) -> Value {
    let me = app.get_auth("/users/me", &session.token).await;
    me.assert(200);
    me.body["data"]["wallet"].clone()
}

async fn platform(app: &TestApp, account: LedgerAccount) -> i64 {
    ledger::platform_balance(app.db.pool(), account).await.unwrap()
}

/// An audio call of `secs` seconds: (user's `call:ended`, hers).
async fn call(app: &TestApp, user: &Session, telecaller: &Session, secs: i64) -> (Value, Value) {
    let (mut caller, _) = Ws::connect(app, "/ws/user", &user.token).await;
    let (mut callee, _) = Ws::connect(app, "/ws/telecaller", &telecaller.token).await;
    caller.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let call = caller.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    callee.expect("call:incoming").await;
    callee.send("call:accept", json!({ "callId": call })).await;
    caller.expect("call:accepted").await;
    talktime_repository::testing::age_call(&app.db, call.parse::<CallId>().unwrap(), secs).await.unwrap();
    caller.send("call:end", json!({ "callId": call })).await;
    let mut ended = caller.expect("call:ended").await;
    ended["callId"] = json!(call);
    (ended, callee.expect("call:ended").await)
}

#[tokio::test]
async fn promotional_coins_are_spent_first_and_pay_her_the_same_as_paid_ones() {
    let (app, _rooms, _) = promo_app(json!({ "signupBonusCoins": 100 })).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    let fresh = wallet(&app, &user).await;
    assert_eq!(fresh["balance"], json!(100));
    assert_eq!(fresh["balances"]["paid"], json!(0));
    assert_eq!(fresh["balances"]["promo"], json!(100));
    let expiring = &fresh["balances"]["promoExpiring"];
    assert_eq!(expiring[0]["coins"], json!(100));
    let expires = chrono::DateTime::parse_from_rfc3339(expiring[0]["expiresAt"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((89.9..=90.0).contains(&days), "PROMO_EXPIRY_DAYS (90) ahead, not {days}");
    assert_eq!(platform(&app, LedgerAccount::Marketing).await, -100, "marketing funded it");
    app.grant_coins(&user.id, 1_000).await;

    // 30 s at 2 coins/s: all promotional; she earns her half; no revenue, marketing gets the rest.
    let (for_user, for_her) = call(&app, &user, &telecaller, 30).await;
    assert_eq!(for_user["coinsSpent"], json!(60));
    assert_eq!(for_user["balance"], json!(1_040));
    assert_eq!(for_her["coinsEarned"], json!(30));
    let after = wallet(&app, &user).await;
    assert_eq!((after["balances"]["paid"].clone(), after["balances"]["promo"].clone()), (json!(1_000), json!(40)));
    assert_eq!(platform(&app, LedgerAccount::Revenue).await, 0, "promotional coins are never revenue");
    assert_eq!(platform(&app, LedgerAccount::Marketing).await, -100 + 30);

    // 70 s = 140 coins: the last 40 promotional, then 100 paid. She earns 70 as ever; revenue
    // keeps the commission on the paid part only.
    let (for_user, for_her) = call(&app, &user, &telecaller, 70).await;
    assert_eq!(for_user["coinsSpent"], json!(140));
    assert_eq!(for_her["coinsEarned"], json!(70));
    let after = wallet(&app, &user).await;
    assert_eq!((after["balances"]["paid"].clone(), after["balances"]["promo"].clone()), (json!(900), json!(0)));
    assert_eq!(after["balances"]["promoExpiring"], json!([]));
    assert_eq!(platform(&app, LedgerAccount::Revenue).await, 50);
    assert_eq!(platform(&app, LedgerAccount::Marketing).await, -100 + 30 + 20);
    assert_eq!(app.balance(&telecaller.id).await, 100);

    // The operator sees it.
    let admin = app.admin_token().await;
    let figures = app.get_auth("/admin/dashboard/promotions?period=today", &admin).await;
    figures.assert(200);
    let f = &figures.body["data"];
    assert_eq!(f["outstanding"], json!(0));
    assert_eq!(f["marketingBalance"], json!(-50));
    assert_eq!(f["spent"]["promoCoins"], json!(100));
    assert_eq!(f["grants"]["SIGNUP_BONUS"], json!({ "coins": 100, "count": 1 }));
    let stats = app.get_auth("/admin/dashboard/stats", &admin).await;
    assert_eq!(stats.body["data"]["coins"]["promoOutstanding"], json!(0));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn promotional_coins_expire_back_to_marketing() {
    let (app, _rooms, _) = promo_app(json!({ "signupBonusCoins": 100 })).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    app.grant_coins(&user.id, 500).await;
    call(&app, &user, &telecaller, 10).await;
    assert_eq!(wallet(&app, &user).await["balances"]["promo"], json!(80));

    // Nothing is due yet.
    assert_eq!(app.controller().expire_promotions().await.unwrap(), 0);
    let id: AccountId = user.id.parse().unwrap();
    talktime_repository::testing::expire_promo_lots(&app.db, id).await.unwrap();
    assert_eq!(app.controller().expire_promotions().await.unwrap(), 1);
    assert_eq!(app.controller().expire_promotions().await.unwrap(), 0, "a lot expires once");
    let after = wallet(&app, &user).await;
    assert_eq!(after["balance"], json!(500));
    assert_eq!((after["balances"]["paid"].clone(), after["balances"]["promo"].clone()), (json!(500), json!(0)));
    // −100 granted, +10 (the commission on the 20 spent), +80 expired.
    assert_eq!(platform(&app, LedgerAccount::Marketing).await, -100 + 10 + 80);
    let history = app.get_auth("/users/transactions", &user.token).await;
    let lot = &history.body["data"]["promotions"][0];
    assert_eq!(
        (lot["cause"].clone(), lot["coins"].clone(), lot["remaining"].clone()),
        (json!("SIGNUP_BONUS"), json!(100), json!(0))
    );
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_refund_gives_coins_back_to_the_wallets_they_came_from_in_proportion() {
    let (app, _rooms, admin) = promo_app(json!({ "signupBonusCoins": 40 })).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    app.grant_coins(&user.id, 1_000).await;
    // 30 s = 60 coins: 40 promotional, 20 paid.
    let (for_user, _) = call(&app, &user, &telecaller, 30).await;
    assert_eq!(for_user["coinsSpent"], json!(60));
    let refund = format!("/admin/calls/{}/refund", for_user["callId"].as_str().unwrap());
    app.post_auth(&refund, &admin, &json!({ "coins": 30, "reason": "Poor line" })).await.assert(200);
    let after = wallet(&app, &user).await;
    // 30 × 40/60 = 20 back to the promotional wallet, 10 to the paid one.
    assert_eq!((after["balances"]["paid"].clone(), after["balances"]["promo"].clone()), (json!(990), json!(20)));
    assert_eq!(after["balance"], json!(1_010));
    let history = app.get_auth("/users/transactions", &user.token).await;
    assert_eq!(history.body["data"]["promotions"][0]["cause"], json!("REFUND"));
    assert_eq!(history.body["data"]["promotions"][0]["remaining"], json!(20));
    assert_eq!(app.balance(&telecaller.id).await, 15, "she gave back her half");
    app.assert_books_balance().await;
}

#[tokio::test]
async fn the_signup_bonus_is_granted_once_per_phone_even_across_deletion() {
    let (app, _rooms, _) = promo_app(json!({ "signupBonusCoins": 50 })).await;
    let phone = fresh_phone();
    let complete =
        json!({ "name": "Ravi Kumar", "dob": "1995-05-10", "gender": "MALE", "language": "hindi", "role": "USER" });
    let (token, _) = app.login(&phone).await;
    app.patch_auth("/users/complete-profile", &token, &complete).await.assert(200);
    let me = app.get_auth("/users/me", &token).await;
    assert_eq!(me.body["data"]["wallet"]["balances"]["promo"], json!(50));
    let history = app.get_auth("/users/transactions", &token).await;
    assert_eq!(history.body["data"]["promotions"][0]["cause"], json!("SIGNUP_BONUS"));
    app.delete_auth("/users/me", &token).await.assert(200);

    talktime_repository::testing::age_otp(&app.db, &phone, 120).await.unwrap();
    let (again, _) = app.login(&phone).await;
    app.patch_auth("/users/complete-profile", &again, &complete).await.assert(200);
    let me = app.get_auth("/users/me", &again).await;
    assert_eq!(me.body["data"]["wallet"]["balance"], json!(0), "the same phone gets it once ever");

    // A telecaller does not get it.
    let telecaller = app.telecaller(false).await;
    let me = app.get_auth("/users/me", &telecaller.token).await;
    assert_eq!(me.body["data"]["wallet"]["balance"], json!(0));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn the_first_captured_recharge_brings_its_bonus_and_the_second_does_not() {
    let (app, _rooms, _) = promo_app(json!({ "firstRechargeBonusPercent": 25 })).await;
    let user = app.user().await;
    let plan = talktime_repository::plans::create(
        app.db.pool(),
        &talktime_repository::plans::NewPlan {
            amount_paise: 9900,
            coins: 110,
            discount_hundredths: 0,
            is_active: true,
        },
    )
    .await
    .unwrap();
    for _ in 0..2 {
        let order =
            app.post_auth("/payment/create-order", &user.token, &json!({ "planId": plan.id.to_string() })).await;
        let paid = app
            .post_auth("/payment/sandbox/pay", &user.token, &json!({ "orderId": order.body["data"]["orderId"] }))
            .await;
        app.post_auth("/payment/verify", &user.token, &paid.body["data"]).await.assert(200);
    }
    let after = wallet(&app, &user).await;
    // floor(110 × 25%) = 27, once.
    assert_eq!((after["balances"]["paid"].clone(), after["balances"]["promo"].clone()), (json!(220), json!(27)));
    let history = app.get_auth("/users/transactions", &user.token).await;
    assert_eq!(history.body["data"]["transactions"].as_array().unwrap().len(), 2);
    let promotions = history.body["data"]["promotions"].as_array().unwrap();
    assert_eq!(promotions.len(), 1);
    assert_eq!(
        (promotions[0]["cause"].clone(), promotions[0]["coins"].clone()),
        (json!("FIRST_RECHARGE_BONUS"), json!(27))
    );
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_first_calls_free_seconds_cost_the_user_nothing_and_pay_her_as_usual() {
    let (app, _rooms, _) = promo_app(json!({ "firstCallFreeSeconds": 30 })).await;
    let (user, telecaller) = (app.user().await, app.telecaller(true).await);
    // 60 s minimum at 2 coins/s is 120 coins; the 30 free seconds count towards it: 60 suffice.
    app.grant_coins(&user.id, 60).await;
    let (for_user, for_her) = call(&app, &user, &telecaller, 40).await;
    assert_eq!(for_user["coinsSpent"], json!(20), "only the 10 s beyond the free 30");
    assert_eq!(for_her["coinsEarned"], json!(40), "her half of all 40 s (80 coins)");
    assert_eq!(app.balance(&user.id).await, 40);
    // Marketing paid the 60 free coins and kept the commission on them: −30.
    assert_eq!(platform(&app, LedgerAccount::Marketing).await, -30);
    assert_eq!(platform(&app, LedgerAccount::Revenue).await, 10);

    // The second call has none: 40 coins are not the 120 a call needs.
    let (mut caller, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    let (_callee, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    caller.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(caller.expect("call:error").await["code"], json!("insufficient_balance"));
    app.assert_books_balance().await;
}
