//! iPhones rung through APNs: VoIP pushes for rings only (PushKit), alert pushes for the rest,
//! the provider token and APNs' answers; Android rings as high-priority FCM data with a TTL to
//! the ring deadline (issue 26, docs/push.md).

use serde_json::{Value, json};

use crate::push::{fake_fcm, push_settings, wait_for_sends};
use crate::support::apns::{ApnsRequest, FakeApns};
use crate::support::fake::FakeServer;
use crate::support::ws::Ws;
use crate::support::{Session, TestApp, eventually};

/// A server pushing to `fcm` and `apns`, a worker pass every 50 ms.
async fn app_with(fcm: &FakeServer, apns: &FakeApns) -> TestApp {
    let mut settings = push_settings(fcm, "50");
    for (key, value) in apns.vars() {
        settings = settings.with(key, &value);
    }
    crate::support::spawn_app_with(&settings.vars()).await
}

async fn register(app: &TestApp, account: &Session, token: &str, platform: &str, kind: &str) {
    let body = json!({ "token": token, "platform": platform, "kind": kind });
    app.post_auth("/users/devices", &account.token, &body).await.assert(200);
}

/// Waits until `apns` received `n` pushes.
async fn apns_requests(apns: &FakeApns, n: usize) -> Vec<ApnsRequest> {
    eventually(&format!("{n} pushes to APNs"), || async {
        let got = apns.requests();
        (got.len() >= n).then_some(got)
    })
    .await
}

/// An AWAY telecaller on an iPhone (a VoIP token and an alert token) and a funded user.
async fn iphone_scene(app: &TestApp) -> (Session, Session) {
    let user = app.user().await;
    app.grant_coins(&user.id, 1_000).await;
    let telecaller = app.telecaller(true).await;
    register(app, &telecaller, "voip-token", "ios", "voip").await;
    register(app, &telecaller, "alert-token", "ios", "alert").await;
    app.put_auth("/telecaller/availability", &telecaller.token, &json!({ "reachableByPush": true })).await.assert(200);
    (user, telecaller)
}

#[tokio::test]
async fn an_away_telecaller_on_an_iphone_is_rung_by_one_voip_push_and_accepts_once_connected() {
    let (fcm, apns) = (fake_fcm().await, FakeApns::start().await);
    let app = app_with(&fcm, &apns).await;
    let (user, telecaller) = iphone_scene(&app).await;
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "VIDEO" })).await;
    let ringing = u.expect("call:ringing").await;
    let call = ringing["callId"].as_str().unwrap().to_owned();

    let ring = apns_requests(&apns, 1).await.remove(0);
    assert_eq!(ring.refused, None, "{ring:?}");
    assert_eq!(ring.token, "voip-token");
    let h = &ring.headers;
    assert_eq!((h["apns-push-type"].as_str(), h["apns-priority"].as_str()), ("voip", "10"));
    assert_eq!(h["apns-topic"], format!("{}.voip", crate::support::apns::TOPIC));
    assert_eq!(h["apns-collapse-id"], call);
    let deadline = chrono::DateTime::parse_from_rfc3339(ring.payload["ringDeadline"].as_str().unwrap()).unwrap();
    assert_eq!(h["apns-expiration"], deadline.timestamp().to_string(), "expires at the ring deadline");
    assert_eq!(ring.payload["callId"], json!(call));
    assert_eq!(ring.payload["callType"], json!("VIDEO"));
    assert!(ring.payload["callerName"].is_string());
    assert!(fcm.requests().iter().all(|r| !r.body.contains(&call)), "an iPhone's ring goes through APNs only");

    // She answers from CallKit: the app connects and accepts.
    let (mut t, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    t.send("call:accept", json!({ "callId": call })).await;
    t.expect("call:accepted").await;
    u.expect("call:accepted").await;
    assert_eq!(apns.requests().len(), 1, "one VoIP push, nothing else");
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_cancelled_ring_goes_to_the_alert_token_never_as_a_voip_push() {
    let (fcm, apns) = (fake_fcm().await, FakeApns::start().await);
    let app = app_with(&fcm, &apns).await;
    let (user, telecaller) = iphone_scene(&app).await;
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let call = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    apns_requests(&apns, 1).await;
    u.send("call:cancel", json!({ "callId": call })).await;
    u.expect("call:cancelled").await;
    let pushes = apns_requests(&apns, 2).await;
    let cancel = &pushes[1];
    assert_eq!(cancel.refused, None, "{cancel:?}");
    assert_eq!(cancel.token, "alert-token");
    assert_ne!(cancel.headers["apns-push-type"], "voip");
    assert_eq!(cancel.payload["callId"], json!(call));
    assert_eq!(pushes.iter().filter(|p| p.headers["apns-push-type"] == "voip").count(), 1);
}

#[tokio::test]
async fn apns_answers_forget_dead_tokens_and_renew_an_expired_provider_token_once() {
    let (fcm, apns) = (fake_fcm().await, FakeApns::start().await);
    let app = app_with(&fcm, &apns).await;
    let (user, telecaller) = iphone_scene(&app).await;
    apns.answer("voip-token", 410, "Unregistered");
    apns.expire_next(1);
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    u.expect("call:ringing").await;
    // First refused for its token, then sent again with a new one, then 410: forgotten.
    let tried = apns_requests(&apns, 2).await;
    assert!(tried.iter().all(|r| r.token == "voip-token" && r.refused.is_none()), "{tried:?}");
    eventually("the dead VoIP token forgotten", || async {
        let devices =
            talktime_repository::testing::device_tokens(&app.db, telecaller.id.parse().unwrap()).await.unwrap();
        (!devices.iter().any(|d| d == "voip-token")).then_some(())
    })
    .await;
    assert_eq!(apns.requests().len(), 2, "renewed once, not retried for ever");
}

#[tokio::test]
async fn an_android_phone_and_an_iphone_of_one_account_each_ring_their_own_way() {
    let (fcm, apns) = (fake_fcm().await, FakeApns::start().await);
    let app = app_with(&fcm, &apns).await;
    let user = app.user().await;
    app.grant_coins(&user.id, 1_000).await;
    let telecaller = app.telecaller(true).await;
    register(&app, &telecaller, "android-token", "android", "alert").await;
    register(&app, &telecaller, "voip-token", "ios", "voip").await;
    app.put_auth("/telecaller/availability", &telecaller.token, &json!({ "reachableByPush": true })).await.assert(200);
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    u.expect("call:ringing").await;

    let android: Value = wait_for_sends(&fcm, 1).await.remove(0);
    let message = &android["message"];
    assert_eq!(message["token"], json!("android-token"));
    assert_eq!(message["android"]["priority"], json!("high"));
    let ttl = message["android"]["ttl"].as_str().unwrap().trim_end_matches('s').parse::<u64>().unwrap();
    assert!((1..=45).contains(&ttl), "the TTL is what is left of the ring: {ttl}");
    assert_eq!(message["data"]["type"], json!("incoming_call"));
    assert!(message.get("notification").is_none(), "data only: the app draws the full-screen call");
    let ios = apns_requests(&apns, 1).await;
    assert_eq!((ios[0].token.as_str(), ios[0].headers["apns-push-type"].as_str()), ("voip-token", "voip"));

    // A VoIP token belongs to an iPhone.
    let android_voip = json!({ "token": "x-token", "platform": "android", "kind": "voip" });
    app.post_auth("/users/devices", &telecaller.token, &android_voip).await.assert_error(400, "voip_needs_ios");
}
