//! Phone login with one-time codes, over HTTP against the real server.

use crate::support::{fresh_ip, fresh_phone, spawn_app, spawn_app_with};
use futures_util::future::join_all;
use serde_json::json;
use talktime_repository::testing;

#[tokio::test]
async fn login_creates_the_account_only_at_verify() {
    let app = spawn_app().await;
    let phone = fresh_phone();

    let sent = app.send_code(&phone).await;
    sent.assert(200);
    assert_eq!(sent.body["success"], json!(true));
    assert_eq!(sent.body["data"]["expiresIn"], json!(300));
    assert_eq!(testing::count_accounts(&app.db).await.unwrap(), 0, "send must not create an account");

    let code = app.last_code(&phone);
    assert_eq!(code.len(), 6);
    let reply = app.verify(&phone, &code).await;
    reply.assert(200);
    let user = &reply.body["user"];
    assert_eq!(user["phone"], json!(phone));
    assert_eq!(user["name"], json!(null));
    assert_eq!(user["role"], json!("USER"));
    assert_eq!(user["accountStatus"], json!("ACTIVE"));
    assert_eq!(user["wallet"]["balance"], json!(0));
    assert!(user["_id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    assert_eq!(reply.body["data"]["token"], reply.body["token"]);
    assert_eq!(testing::count_accounts(&app.db).await.unwrap(), 1);

    let me = app.get_auth("/users/me", reply.body["token"].as_str().unwrap()).await;
    me.assert(200);
    assert_eq!(me.body["data"]["_id"], user["_id"]);

    // A second login finds the same account.
    let (_, again) = {
        testing::age_otp(&app.db, &phone, 61).await.unwrap();
        app.login(&phone).await
    };
    assert_eq!(again["_id"], user["_id"]);
    assert_eq!(testing::count_accounts(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn wrong_codes_say_how_many_tries_are_left_then_lock() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    app.send_code(&phone).await.assert(200);
    let code = app.last_code(&phone);
    let wrong = if code == "000000" { "111111" } else { "000000" };

    for left in (0..5).rev() {
        let reply = app.verify(&phone, wrong).await;
        reply.assert_error(400, "otp_invalid");
        let message = reply.body["message"].as_str().unwrap();
        if left > 0 {
            assert!(message.contains(&format!("{left} attempt")), "{message}");
        } else {
            assert!(message.contains("No attempts left"), "{message}");
        }
    }
    // Locked: even the right code is refused now.
    app.verify(&phone, &code).await.assert_error(400, "otp_attempts_exhausted");
    assert_eq!(testing::count_accounts(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn concurrent_wrong_guesses_are_counted_exactly() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    app.send_code(&phone).await.assert(200);
    let code = app.last_code(&phone);
    let wrong = if code == "999999" { "888888" } else { "999999" };

    let replies = join_all((0..20).map(|_| app.verify(&phone, wrong))).await;
    let counted = replies.iter().filter(|r| r.code() == "otp_invalid").count();
    assert_eq!(counted, 5, "exactly five tries may be counted");
    for reply in &replies {
        assert!(
            matches!(reply.code(), "otp_invalid" | "otp_attempts_exhausted" | "rate_limited"),
            "unexpected reply {reply:?}"
        );
    }
    assert_eq!(testing::otp_row(&app.db, &phone).await.unwrap(), Some((5, false)));
}

#[tokio::test]
async fn expired_codes_are_refused() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    app.send_code(&phone).await.assert(200);
    let code = app.last_code(&phone);
    testing::age_otp(&app.db, &phone, 301).await.unwrap();
    app.verify(&phone, &code).await.assert_error(400, "otp_expired");
}

#[tokio::test]
async fn a_code_works_once() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    app.send_code(&phone).await.assert(200);
    let code = app.last_code(&phone);
    app.verify(&phone, &code).await.assert(200);
    app.verify(&phone, &code).await.assert_error(400, "otp_not_found");
}

#[tokio::test]
async fn verify_without_a_code_or_with_a_malformed_one_is_refused() {
    let app = spawn_app().await;
    app.verify(&fresh_phone(), "123456").await.assert_error(400, "otp_not_found");
    let short = app.verify(&fresh_phone(), "12345").await;
    short.assert_error(400, "invalid_otp");
    assert_eq!(short.body["errors"][0]["field"], json!("otp"));
    app.verify(&fresh_phone(), "12a456").await.assert_error(400, "validation_error");
    app.post("/auth/verify", &json!({ "phone": "123" , "otp": "123456"})).await.assert_error(400, "validation_error");
}

#[tokio::test]
async fn cooldown_answers_429_with_retry_after_and_a_new_code_replaces_the_old() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    app.send_code(&phone).await.assert(200);
    let first = app.last_code(&phone);

    let refused = app.send_code(&phone).await;
    refused.assert_error(429, "otp_cooldown");
    let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert_eq!(app.sms.requests().len(), 1, "no SMS during the cooldown");

    // 61 seconds later a new code may be sent, and only the new one works.
    testing::age_otp(&app.db, &phone, 61).await.unwrap();
    app.post("/auth/resend", &json!({ "phone": phone })).await.assert(200);
    let second = app.last_code(&phone);
    if first != second {
        app.verify(&phone, &first).await.assert_error(400, "otp_invalid");
    }
    app.verify(&phone, &second).await.assert(200);
}

#[tokio::test]
async fn five_codes_per_phone_per_quarter_hour() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    for _ in 0..5 {
        app.send_code(&phone).await.assert(200);
        testing::age_otp(&app.db, &phone, 61).await.unwrap();
    }
    let refused = app.send_code(&phone).await;
    refused.assert_error(429, "rate_limited");
    assert!(refused.headers.contains_key("retry-after"));
    assert_eq!(app.sms.requests().len(), 5);
}

#[tokio::test]
async fn a_hundred_login_requests_per_ip_by_default() {
    // Loose enough for a carrier NAT: the per-phone limits do the strict work.
    let app = spawn_app().await;
    let ip = fresh_ip();
    for _ in 0..40 {
        app.post_from(&ip, "/auth/send", &json!({ "phone": fresh_phone() }), None).await.assert(200);
    }
    for _ in 0..60 {
        let wrong = app.post_from(&ip, "/auth/verify", &json!({ "phone": fresh_phone(), "otp": "123456" }), None).await;
        wrong.assert_error(400, "otp_not_found");
    }
    let refused = app.post_from(&ip, "/auth/verify", &json!({ "phone": fresh_phone(), "otp": "123456" }), None).await;
    refused.assert_error(429, "rate_limited");
    // Another address is unaffected.
    app.send_code(&fresh_phone()).await.assert(200);
}

#[tokio::test]
async fn resend_does_not_reveal_whether_an_account_exists() {
    let app = spawn_app().await;
    let known = fresh_phone();
    app.login(&known).await;
    testing::age_otp(&app.db, &known, 61).await.unwrap();
    let unknown = fresh_phone();

    let a = app.post("/auth/resend", &json!({ "phone": known })).await;
    let b = app.post("/auth/resend", &json!({ "phone": unknown })).await;
    a.assert(200);
    b.assert(200);
    let strip = |mut v: serde_json::Value| {
        v["data"]["phone"] = json!("*");
        v
    };
    assert_eq!(strip(a.body.clone()), strip(b.body.clone()));
}

#[tokio::test]
async fn suspended_accounts_are_refused_everywhere() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    let (token, _) = app.login(&phone).await;
    testing::force_status(&app.db, &phone, "SUSPENDED").await.unwrap();

    app.get_auth("/users/me", &token).await.assert_error(403, "account_suspended");
    testing::age_otp(&app.db, &phone, 61).await.unwrap();
    app.send_code(&phone).await.assert_error(403, "account_suspended");
    app.verify(&phone, "123456").await.assert_error(403, "account_suspended");
}

#[tokio::test]
async fn logout_revokes_every_token() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    let (first, _) = app.login(&phone).await;
    testing::age_otp(&app.db, &phone, 61).await.unwrap();
    let (second, _) = app.login(&phone).await;

    app.post_auth("/auth/logout", &second, &json!({})).await.assert(200);
    app.get_auth("/users/me", &first).await.assert_error(401, "token_revoked");
    app.get_auth("/users/me", &second).await.assert_error(401, "token_revoked");
}

#[tokio::test]
async fn test_numbers_log_in_with_their_fixed_code_and_no_sms() {
    let app = spawn_app_with(&[("OTP_TEST_NUMBERS", "9000000001:424242")]).await;
    app.send_code("9000000001").await.assert(200);
    assert!(app.sms.requests().is_empty());
    app.verify("9000000001", "424242").await.assert(200);
}

#[tokio::test]
async fn otp_length_is_configurable() {
    let app = spawn_app_with(&[("OTP_LENGTH", "4")]).await;
    let phone = fresh_phone();
    app.send_code(&phone).await.assert(200);
    let code = app.last_code(&phone);
    assert_eq!(code.len(), 4);
    app.verify(&phone, "123456").await.assert_error(400, "invalid_otp");
    app.verify(&phone, &code).await.assert(200);
}
