//! Each SMS provider sends the right request to a local fake; a provider failure answers 502 and
//! leaves no usable code.

use crate::support::{FakeServer, fresh_phone, spawn_app, spawn_app_with};
use base64::Engine;
use serde_json::{Value, json};
use talktime_repository::testing;

#[tokio::test]
async fn webhook_posts_phone_and_message() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    app.send_code(&phone).await.assert(200);
    let requests = app.sms.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/sms"));
    assert!(request.headers["content-type"].starts_with("application/json"));
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["phone"], json!(phone));
    assert!(body["message"].as_str().unwrap().contains(&app.last_code(&phone)));
}

#[tokio::test]
async fn msg91_uses_the_flow_api() {
    let msg91 = FakeServer::start().await;
    let app = spawn_app_with(&[
        ("SMS_PROVIDER", "msg91"),
        ("MSG91_BASE_URL", &msg91.base),
        ("MSG91_AUTH_KEY", "msg91-key"),
        ("MSG91_TEMPLATE_ID", "tmpl-1"),
    ])
    .await;
    msg91.respond_with(200, r#"{"type":"success","message":"ok"}"#);
    app.send_code("9876500001").await.assert(200);

    let requests = msg91.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/api/v5/flow"));
    assert_eq!(request.headers["authkey"], "msg91-key");
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["template_id"], json!("tmpl-1"));
    assert_eq!(body["recipients"][0]["mobiles"], json!("919876500001"));
    let code = body["recipients"][0]["otp"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    app.verify("9876500001", &code).await.assert(200);
}

#[tokio::test]
async fn msg91_error_answers_are_failures() {
    let msg91 = FakeServer::start().await;
    let app = spawn_app_with(&[
        ("SMS_PROVIDER", "msg91"),
        ("MSG91_BASE_URL", &msg91.base),
        ("MSG91_AUTH_KEY", "k"),
        ("MSG91_TEMPLATE_ID", "t"),
    ])
    .await;
    msg91.respond_with(200, r#"{"type":"error","message":"invalid template"}"#);
    app.send_code(&fresh_phone()).await.assert_error(502, "sms_delivery_failed");
}

#[tokio::test]
async fn twilio_uses_the_messages_api_with_basic_auth() {
    let twilio = FakeServer::start().await;
    let app = spawn_app_with(&[
        ("SMS_PROVIDER", "twilio"),
        ("TWILIO_BASE_URL", &twilio.base),
        ("TWILIO_ACCOUNT_SID", "AC123"),
        ("TWILIO_AUTH_TOKEN", "tok"),
        ("TWILIO_FROM_NUMBER", "+15550001111"),
    ])
    .await;
    twilio.respond_with(201, r#"{"sid":"SM1","status":"queued"}"#);
    app.send_code("9876500002").await.assert(200);

    let requests = twilio.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.path, "/2010-04-01/Accounts/AC123/Messages.json");
    let expected_auth = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("AC123:tok"));
    assert_eq!(request.headers["authorization"], expected_auth);
    assert_eq!(request.headers["content-type"], "application/x-www-form-urlencoded");
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(request.body.as_bytes()).into_owned().collect();
    assert_eq!(form["To"], "+919876500002");
    assert_eq!(form["From"], "+15550001111");
    let code = crate::support::code_in(&form["Body"]);
    app.verify("9876500002", &code).await.assert(200);
}

#[tokio::test]
async fn provider_failure_is_502_and_leaves_no_usable_code() {
    let app = spawn_app().await;
    let phone = fresh_phone();
    app.sms.respond_with(500, r#"{"error":"down"}"#);
    app.send_code(&phone).await.assert_error(502, "sms_delivery_failed");
    assert_eq!(testing::otp_row(&app.db, &phone).await.unwrap(), None, "no challenge may remain");
    // The code in the undelivered message does not log anyone in.
    let undelivered = app.last_code(&phone);
    app.verify(&phone, &undelivered).await.assert_error(400, "otp_not_found");

    // The failure does not start a cooldown: once the provider is back, a code goes out at once.
    app.sms.respond_with(200, "{}");
    app.send_code(&phone).await.assert(200);
    app.verify(&phone, &app.last_code(&phone)).await.assert(200);
}

#[tokio::test]
async fn unreachable_provider_is_502() {
    let app = spawn_app_with(&[("SMS_WEBHOOK_URL", "http://127.0.0.1:9/unreachable")]).await;
    app.send_code(&fresh_phone()).await.assert_error(502, "sms_delivery_failed");
}

#[tokio::test]
async fn log_provider_accepts_in_development() {
    let app = spawn_app_with(&[("SMS_PROVIDER", "log")]).await;
    app.send_code(&fresh_phone()).await.assert(200);
}
