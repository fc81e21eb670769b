//! Referrals: a code on every account, given at profile completion or within 7 days, rewarded to
//! both at the referee's first captured recharge, once, and refused for a self-referral, a shared
//! device and past the referrer's monthly limit.

use crate::support::{Session, TestApp, fresh_phone, spawn_app_with};
use serde_json::{Value, json};
use talktime_repository::plans::{self, NewPlan};

async fn referral_app(overrides: &[(&str, &str)]) -> (TestApp, String) {
    let app = spawn_app_with(overrides).await;
    let admin = app.admin_token().await;
    app.put_auth("/admin/config", &admin, &json!({ "referralBonusCoins": 30 })).await.assert(200);
    let plan = plans::create(
        app.db.pool(),
        &NewPlan { amount_paise: 9900, coins: 110, discount_hundredths: 0, is_active: true },
    )
    .await
    .unwrap();
    (app, plan.id.to_string())
}

async fn code_of(app: &TestApp, user: &Session) -> String {
    let me = app.get_auth("/users/me", &user.token).await;
    me.body["data"]["referralCode"].as_str().expect("every account has a code").to_owned()
}

/// A new USER who gives `code` when completing her profile.
async fn referred(app: &TestApp, code: &str) -> Session {
    let phone = fresh_phone();
    let (token, user) = app.login(&phone).await;
    let body = json!({ "name": "Asha Rao", "dob": "1995-05-10", "gender": "FEMALE", "language": "hindi", "role": "USER",
                       "referralCode": code.to_lowercase() });
    app.patch_auth("/users/complete-profile", &token, &body).await.assert(200);
    Session { token, id: user["_id"].as_str().unwrap().to_owned(), phone }
}

async fn recharge(app: &TestApp, user: &Session, plan: &str) {
    let order = app.post_auth("/payment/create-order", &user.token, &json!({ "planId": plan })).await;
    let paid =
        app.post_auth("/payment/sandbox/pay", &user.token, &json!({ "orderId": order.body["data"]["orderId"] })).await;
    app.post_auth("/payment/verify", &user.token, &paid.body["data"]).await.assert(200);
}

async fn promo(app: &TestApp, user: &Session) -> Value {
    app.get_auth("/users/me", &user.token).await.body["data"]["wallet"]["balances"]["promo"].clone()
}

async fn referrals_of(app: &TestApp, user: &Session) -> Value {
    let list = app.get_auth("/users/referrals", &user.token).await;
    list.assert(200);
    list.body["data"]["referrals"].clone()
}

#[tokio::test]
async fn a_referral_is_rewarded_to_both_once_at_the_first_recharge() {
    let (app, plan) = referral_app(&[]).await;
    let referrer = app.user().await;
    let code = code_of(&app, &referrer).await;
    let referee = referred(&app, &code).await;
    let pending = referrals_of(&app, &referrer).await;
    assert_eq!(pending[0]["status"], json!("PENDING"));
    assert_eq!(pending[0]["referee"]["_id"], json!(referee.id));

    recharge(&app, &referee, &plan).await;
    assert_eq!(promo(&app, &referee).await, json!(30));
    assert_eq!(promo(&app, &referrer).await, json!(30));
    assert_eq!(referrals_of(&app, &referrer).await[0]["status"], json!("REWARDED"));
    recharge(&app, &referee, &plan).await;
    assert_eq!(promo(&app, &referrer).await, json!(30), "one reward per referee");
    let history = app.get_auth("/users/transactions", &referrer.token).await;
    assert_eq!(history.body["data"]["promotions"][0]["cause"], json!("REFERRAL_BONUS"));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn self_referrals_unknown_codes_late_codes_and_second_codes_are_refused() {
    let (app, plan) = referral_app(&[]).await;
    let user = app.user().await;
    let own = code_of(&app, &user).await;
    let refused = app.post_auth("/users/referral", &user.token, &json!({ "code": own })).await;
    refused.assert_error(400, "referral_invalid");
    assert_eq!(refused.body["reason"], json!("own_code"));
    let unknown = app.post_auth("/users/referral", &user.token, &json!({ "code": "NOSUCHCODE" })).await;
    assert_eq!(unknown.body["reason"], json!("unknown"));

    let referrer = app.user().await;
    let code = code_of(&app, &referrer).await;
    app.post_auth("/users/referral", &user.token, &json!({ "code": code })).await.assert(200);
    let other = code_of(&app, &app.user().await).await;
    app.post_auth("/users/referral", &user.token, &json!({ "code": other }))
        .await
        .assert_error(409, "already_referred");

    let recharged = app.user().await;
    recharge(&app, &recharged, &plan).await;
    let late = app.post_auth("/users/referral", &recharged.token, &json!({ "code": code })).await;
    assert_eq!(late.body["reason"], json!("already_recharged"));
    // A telecaller is never referred.
    let telecaller = app.telecaller(true).await;
    app.post_auth("/users/referral", &telecaller.token, &json!({ "code": code })).await.assert(403);
}

#[tokio::test]
async fn a_referee_on_the_referrers_device_is_refused() {
    let (app, plan) = referral_app(&[]).await;
    let referrer = app.user().await;
    let device = json!({ "token": "shared-phone-token", "platform": "android" });
    app.post_auth("/users/devices", &referrer.token, &device).await.assert(200);
    let referee = referred(&app, &code_of(&app, &referrer).await).await;
    // The device moves to the referee: it was still the referrer's before.
    app.post_auth("/users/devices", &referee.token, &device).await.assert(200);
    recharge(&app, &referee, &plan).await;
    let decided = &referrals_of(&app, &referrer).await[0];
    assert_eq!((decided["status"].clone(), decided["reason"].clone()), (json!("REJECTED"), json!("shared_device")));
    assert_eq!(promo(&app, &referee).await, json!(0));
    assert_eq!(promo(&app, &referrer).await, json!(0));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_referrer_is_rewarded_at_most_referral_max_per_month_times() {
    let (app, plan) = referral_app(&[("REFERRAL_MAX_PER_MONTH", "1")]).await;
    let referrer = app.user().await;
    let code = code_of(&app, &referrer).await;
    let (first, second) = (referred(&app, &code).await, referred(&app, &code).await);
    recharge(&app, &first, &plan).await;
    recharge(&app, &second, &plan).await;
    let list = referrals_of(&app, &referrer).await;
    // Newest first: the second referee's.
    assert_eq!(
        (list[0]["status"].clone(), list[0]["reason"].clone()),
        (json!("REJECTED"), json!("referrer_monthly_limit"))
    );
    assert_eq!(list[1]["status"], json!("REWARDED"));
    assert_eq!(promo(&app, &referrer).await, json!(30));
    assert_eq!(promo(&app, &second).await, json!(0));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_phone_number_brings_one_referral_reward_ever_even_across_deletion() {
    let (app, plan) = referral_app(&[]).await;
    let (first_referrer, second_referrer) = (app.user().await, app.user().await);
    let referee = referred(&app, &code_of(&app, &first_referrer).await).await;
    recharge(&app, &referee, &plan).await;
    assert_eq!(promo(&app, &first_referrer).await, json!(30));
    app.delete_auth("/users/me", &referee.token).await.assert(200);

    // The same number signs up again as a new account and is referred by someone else.
    talktime_repository::testing::age_otp(&app.db, &referee.phone, 120).await.unwrap();
    let (token, user) = app.login(&referee.phone).await;
    let body = json!({ "name": "Asha Rao", "dob": "1995-05-10", "gender": "FEMALE", "language": "hindi", "role": "USER",
                       "referralCode": code_of(&app, &second_referrer).await });
    app.patch_auth("/users/complete-profile", &token, &body).await.assert(200);
    let again = Session { token, id: user["_id"].as_str().unwrap().to_owned(), phone: referee.phone.clone() };
    recharge(&app, &again, &plan).await;
    let decided = &referrals_of(&app, &second_referrer).await[0];
    assert_eq!(
        (decided["status"].clone(), decided["reason"].clone()),
        (json!("REJECTED"), json!("phone_already_rewarded"))
    );
    assert_eq!(promo(&app, &second_referrer).await, json!(0));
    app.assert_books_balance().await;
}
