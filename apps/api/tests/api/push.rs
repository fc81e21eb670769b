//! Push notifications through a fake Firebase Cloud Messaging (OAuth token endpoint and send
//! endpoint): devices, the missed-call push, retries, unregistered tokens, and the outbox
//! surviving a crash.

use serde_json::{Value, json};
use talktime_domain::ids::AccountId;

use crate::support::fake::{FakeServer, Recorded};
use crate::support::ws::Ws;
use crate::support::{Session, TestApp, eventually, spawn_app_on, spawn_node};

const PROJECT: &str = "talktime-test";
pub(crate) const SEND: &str = "/v1/projects/talktime-test/messages:send";

/// A fake FCM answering the token exchange and every send with 200.
pub(crate) async fn fake_fcm() -> FakeServer {
    let fcm = FakeServer::start().await;
    fcm.route("POST", "/token", 200, r#"{"access_token": "ya29.test", "expires_in": 3600}"#);
    fcm.route("POST", SEND, 200, r#"{"name": "projects/talktime-test/messages/{seq}"}"#);
    fcm
}

/// The settings pointing a server at `fcm`: a worker pass every `interval_ms`, socket calls that
/// ring for 1 s.
pub(crate) fn push_settings(fcm: &FakeServer, interval_ms: &str) -> PushSettings {
    let credentials = json!({
        "type": "service_account",
        "project_id": PROJECT,
        "client_email": "push@talktime-test.iam.gserviceaccount.com",
        "private_key": include_str!("support/google_key.pem"),
        "token_uri": fcm.url("/token"),
    });
    PushSettings(vec![
        ("PUSH_PROVIDER", "fcm".to_owned()),
        ("FCM_CREDENTIALS_JSON", credentials.to_string()),
        ("FCM_API_BASE", fcm.base.clone()),
        ("PUSH_INTERVAL_MS", interval_ms.to_owned()),
        ("RING_TIMEOUT_SECS", "1".to_owned()),
    ])
}

/// Settings that own their values (the credentials are made at run time).
pub(crate) struct PushSettings(Vec<(&'static str, String)>);

impl PushSettings {
    /// `key` set to `value`, replacing what it was.
    pub(crate) fn with(mut self, key: &'static str, value: &str) -> Self {
        self.0.retain(|(k, _)| *k != key);
        self.0.push((key, value.to_owned()));
        self
    }

    pub(crate) fn without(mut self, key: &str) -> Self {
        self.0.retain(|(k, _)| *k != key);
        self
    }

    /// As the spawn helpers take them.
    pub(crate) fn vars(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
}

pub(crate) fn sends(fcm: &FakeServer) -> Vec<Value> {
    fcm.requests()
        .into_iter()
        .filter(|r: &Recorded| r.path == SEND)
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

/// Waits until `fcm` got at least `n` sends; answers them all.
pub(crate) async fn wait_for_sends(fcm: &FakeServer, n: usize) -> Vec<Value> {
    eventually(&format!("{n} sends to FCM"), || async {
        let sent = sends(fcm);
        (sent.len() >= n).then_some(sent)
    })
    .await
}

/// A call from `user` to `telecaller` that nobody answers.
pub(crate) async fn missed_call(app: &TestApp, user: &Session, telecaller: &Session) -> String {
    app.grant_coins(&user.id, 1_000).await;
    let (mut t, _) = Ws::connect(app, "/ws/telecaller", &telecaller.token).await;
    let (mut u, _) = Ws::connect(app, "/ws/user", &user.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "VIDEO" })).await;
    let call = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    t.expect("call:incoming").await;
    u.expect("call:missed").await;
    call
}

async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_missed_call_pushes_once_to_each_device_and_removed_devices_get_nothing() {
    let fcm = fake_fcm().await;
    let settings = push_settings(&fcm, "50");
    let overrides = settings.vars();
    let app = crate::support::spawn_app_with(&overrides).await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;

    for (token, platform) in [("phone-token", "android"), ("tablet-token", "ios"), ("gone-token", "web")] {
        let body = json!({ "token": token, "platform": platform });
        app.post_auth("/users/devices", &telecaller.token, &body).await.assert(200);
    }
    app.post_auth("/users/devices", &telecaller.token, &json!({ "token": "t", "platform": "symbian" }))
        .await
        .assert_error(400, "validation_error");
    app.delete_auth("/users/devices/gone-token", &telecaller.token).await.assert(200);
    app.delete_auth("/users/devices/gone-token", &telecaller.token).await.assert(200);

    let call = missed_call(&app, &user, &telecaller).await;
    let sent = wait_for_sends(&fcm, 2).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    let mut tokens: Vec<&str> = sent.iter().map(|s| s["message"]["token"].as_str().unwrap()).collect();
    tokens.sort_unstable();
    assert_eq!(tokens, ["phone-token", "tablet-token"], "removed devices get nothing");
    let message = &sent[0]["message"];
    assert_eq!(message["notification"]["body"], json!("Missed call from Ravi Kumar"));
    assert_eq!(message["data"]["callId"], json!(call));
    assert_eq!(message["data"]["type"], json!("missed_call"));
    assert_eq!(message["android"]["priority"], json!("normal"));
    let send = fcm.requests().into_iter().find(|r| r.path == SEND).unwrap();
    assert_eq!(send.headers["authorization"], "Bearer ya29.test");
    let exchange = fcm.requests().into_iter().find(|r| r.path == "/token").unwrap();
    assert!(exchange.body.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"));
    // FCM has both; the worker records them as sent right after its answers.
    eventually("both sends recorded", || async {
        (metric(&app, "push_sent_total").await == 2.0 && metric(&app, "push_outbox_depth").await == 0.0).then_some(())
    })
    .await;
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_failing_fcm_is_retried_without_duplicates_and_unregistered_tokens_are_forgotten() {
    let fcm = fake_fcm().await;
    fcm.route("POST", SEND, 503, r#"{"error": {"status": "UNAVAILABLE"}}"#);
    let settings = push_settings(&fcm, "50");
    let overrides = settings.vars();
    let app = crate::support::spawn_app_with(&overrides).await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    app.post_auth("/users/devices", &telecaller.token, &json!({ "token": "only-token", "platform": "android" }))
        .await
        .assert(200);

    missed_call(&app, &user, &telecaller).await;
    assert_eq!(wait_for_sends(&fcm, 1).await.len(), 1);
    fcm.route("POST", SEND, 200, r#"{"name": "projects/talktime-test/messages/1"}"#);
    // The retry comes after its back-off (2 s), and once.
    assert_eq!(wait_for_sends(&fcm, 2).await.len(), 2);
    eventually("the retry counted as sent", || async { (metric(&app, "push_sent_total").await >= 1.0).then_some(()) })
        .await;
    assert_eq!(metric(&app, "push_sent_total").await, 1.0);
    assert_eq!(metric(&app, "push_retried_total").await, 1.0);
    assert_eq!(metric(&app, "push_outbox_depth").await, 0.0);
    assert_eq!(sends(&fcm).len(), 2, "no duplicate after the success");

    // A token FCM no longer knows is forgotten.
    fcm.route("POST", SEND, 404, r#"{"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}}"#);
    missed_call(&app, &user, &telecaller).await;
    assert_eq!(wait_for_sends(&fcm, 3).await.len(), 3);
    let owner = telecaller.id.parse::<AccountId>().unwrap();
    eventually("the unregistered token forgotten", || async {
        talktime_repository::testing::device_tokens(&app.db, owner).await.unwrap().is_empty().then_some(())
    })
    .await;
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_notification_written_before_a_crash_is_sent_after_it() {
    let fcm = fake_fcm().await;
    // The first node's worker passes once at start, then not for ten minutes.
    let slow = push_settings(&fcm, "600000");
    let overrides = slow.vars();
    let database = talktime_repository::testing::TestDatabase::new().await.unwrap();
    let mut node = spawn_node(database, &overrides).await;
    let user = node.user().await;
    let telecaller = node.telecaller(true).await;
    node.post_auth("/users/devices", &telecaller.token, &json!({ "token": "after-crash", "platform": "android" }))
        .await
        .assert(200);
    missed_call(&node, &user, &telecaller).await;
    let database = node.database();
    node.kill();
    assert!(sends(&fcm).is_empty(), "nothing was sent before the crash");

    let fast = push_settings(&fcm, "50");
    let overrides = fast.vars();
    let app = spawn_app_on(database, &overrides).await;
    let sent = wait_for_sends(&fcm, 1).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["message"]["token"], json!("after-crash"));
    app.assert_books_balance().await;
}

/// How many online alerts were ever queued.
async fn online_alerts_queued(app: &TestApp) -> i64 {
    talktime_repository::testing::queued_pushes(&app.db, talktime_domain::push::PushKind::OnlineAlert).await.unwrap()
}

#[tokio::test]
async fn she_comes_online_and_only_subscribers_outside_a_call_hear_it_once_per_cooldown() {
    let fcm = fake_fcm().await;
    let settings = push_settings(&fcm, "50").without("RING_TIMEOUT_SECS");
    let overrides = settings.vars();
    let app = crate::support::spawn_app_with(&overrides).await;
    let telecaller = app.telecaller(true).await;
    let other = app.telecaller(true).await;
    let (subscriber, quiet, busy) = (app.user().await, app.user().await, app.user().await);
    for (user, token, alerts) in
        [(&subscriber, "sub-token", true), (&quiet, "quiet-token", false), (&busy, "busy-token", true)]
    {
        app.post_auth(&format!("/users/favorites/{}", telecaller.id), &user.token, &json!({})).await.assert(200);
        let alerts_path = format!("/users/favorites/{}/alerts", telecaller.id);
        app.put_auth(&alerts_path, &user.token, &json!({ "enabled": alerts })).await.assert(200);
        app.post_auth("/users/devices", &user.token, &json!({ "token": token, "platform": "android" }))
            .await
            .assert(200);
    }
    let favorites = app.get_auth("/users/favorites", &subscriber.token).await;
    assert_eq!(favorites.body["data"]["favorites"][0]["alerts"], json!(true));
    app.put_auth(&format!("/users/favorites/{}/alerts", other.id), &subscriber.token, &json!({ "enabled": true }))
        .await
        .assert_error(404, "favorite_not_found");

    // `busy` is in a call with someone else.
    app.grant_coins(&busy.id, 1_000).await;
    let (mut o, _) = Ws::connect(&app, "/ws/telecaller", &other.token).await;
    let (mut b, _) = Ws::connect(&app, "/ws/user", &busy.token).await;
    b.send("call:initiate", json!({ "telecallerId": other.id, "callType": "AUDIO" })).await;
    let call = b.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    o.expect("call:incoming").await;
    o.send("call:accept", json!({ "callId": call })).await;
    o.expect("call:accepted").await;

    // She comes online (her `session:ready` arrives once the alerts were queued).
    let (mut watcher, _) = Ws::connect(&app, "/ws/user", &quiet.token).await;
    watcher.watch(&[&telecaller.id]).await;
    let (t, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    assert_eq!(online_alerts_queued(&app).await, 1, "only the subscriber outside a call");
    assert_eq!(watcher.presence_of(&telecaller.id).await["presence"], json!("ONLINE"));
    let sent = wait_for_sends(&fcm, 1).await;
    assert_eq!(sent[0]["message"]["token"], json!("sub-token"));
    assert_eq!(sent[0]["message"]["data"]["type"], json!("online_alert"));
    let name = sent[0]["message"]["data"]["telecallerName"].as_str().unwrap();
    assert_eq!(sent[0]["message"]["notification"]["title"], json!(format!("{name} is online")));

    // Offline and back within the cooldown: nothing more.
    t.close().await;
    assert_eq!(watcher.presence_of(&telecaller.id).await["presence"], json!("OFFLINE"));
    let (_t, _) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    assert_eq!(watcher.presence_of(&telecaller.id).await["presence"], json!("ONLINE"));
    assert_eq!(online_alerts_queued(&app).await, 1, "one round per cooldown");
    app.assert_books_balance().await;
}

/// A token longer than any FCM or APNs issues is refused (random characters, which Postgres
/// cannot compress under its index limit); an account keeps at most
/// PUSH_MAX_DEVICES_PER_ACCOUNT devices, the least recently registered forgotten; and
/// registrations are rate limited per account.
#[tokio::test]
async fn device_tokens_are_bounded_in_length_number_and_rate() {
    let app = crate::support::spawn_app_with(&[("PUSH_MAX_DEVICES_PER_ACCOUNT", "3")]).await;
    let user = app.user().await;
    let random = crate::support::random_text;
    for long in [random(4_000), random(513)] {
        let refused =
            app.post_auth("/users/devices", &user.token, &json!({ "token": long, "platform": "android" })).await;
        refused.assert_error(400, "validation_error");
        assert_eq!(refused.body["errors"][0]["field"], json!("token"));
    }
    let longest = random(512);
    app.post_auth("/users/devices", &user.token, &json!({ "token": longest, "platform": "android" })).await.assert(200);
    for n in 1..=3 {
        let body = json!({ "token": format!("device-{n}"), "platform": "android" });
        app.post_auth("/users/devices", &user.token, &body).await.assert(200);
    }
    let owner = user.id.parse::<AccountId>().unwrap();
    let kept = talktime_repository::testing::device_tokens(&app.db, owner).await.unwrap();
    assert_eq!(kept, ["device-1", "device-2", "device-3"], "the oldest (the 512-character one) is forgotten");

    // Registering again refreshes a device, and counts towards the hour's budget (20 in all).
    for _ in 4..20 {
        app.post_auth("/users/devices", &user.token, &json!({ "token": "device-1", "platform": "android" }))
            .await
            .assert(200);
    }
    let refused =
        app.post_auth("/users/devices", &user.token, &json!({ "token": "device-9", "platform": "android" })).await;
    refused.assert_error(429, "rate_limited");
    // Another account is not affected.
    let other = app.user().await;
    app.post_auth("/users/devices", &other.token, &json!({ "token": "other", "platform": "ios" })).await.assert(200);
}

/// FCM answering 400 INVALID_ARGUMENT for a token means it is not one: it is forgotten.
#[tokio::test]
async fn a_token_fcm_calls_invalid_is_forgotten() {
    let fcm = fake_fcm().await;
    fcm.route("POST", SEND, 400, r#"{"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "The registration token is not a valid FCM registration token"}}"#);
    let settings = push_settings(&fcm, "50");
    let app = crate::support::spawn_app_with(&settings.vars()).await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    app.post_auth("/users/devices", &telecaller.token, &json!({ "token": "garbled", "platform": "android" }))
        .await
        .assert(200);
    missed_call(&app, &user, &telecaller).await;
    let owner = telecaller.id.parse::<AccountId>().unwrap();
    eventually("the invalid token forgotten", || async {
        talktime_repository::testing::device_tokens(&app.db, owner).await.unwrap().is_empty().then_some(())
    })
    .await;
    app.assert_books_balance().await;
}

/// A backlog of 5,000 online alerts cannot hold a ring back: rings and cancels have a lane of
/// their own, and a ring wakes the worker.
#[tokio::test]
async fn a_ring_goes_out_before_a_backlog_of_alerts() {
    let fcm = fake_fcm().await;
    // After its first pass at start the worker would wait ten minutes: only the ring wakes it.
    let settings = push_settings(&fcm, "600000");
    let app = crate::support::spawn_app_with(&settings.vars()).await;
    let user = app.user().await;
    app.grant_coins(&user.id, 1_000).await;
    let telecaller = app.telecaller(true).await;
    app.post_auth("/users/devices", &user.token, &json!({ "token": "his-phone", "platform": "android" }))
        .await
        .assert(200);
    app.post_auth("/users/devices", &telecaller.token, &json!({ "token": "her-phone", "platform": "android" }))
        .await
        .assert(200);
    app.put_auth("/telecaller/availability", &telecaller.token, &json!({ "reachableByPush": true })).await.assert(200);
    let owner = user.id.parse::<AccountId>().unwrap();
    talktime_repository::testing::queue_online_alerts(&app.db, owner, "his-phone", 5_000).await.unwrap();

    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let call = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    let first = wait_for_sends(&fcm, 1).await;
    assert_eq!(first[0]["message"]["data"]["type"], json!("incoming_call"), "{:?}", first[0]);
    assert_eq!(first[0]["message"]["data"]["callId"], json!(call));
    assert_eq!(first[0]["message"]["token"], json!("her-phone"));
    // The backlog follows (a hundred per pass, several at once).
    wait_for_sends(&fcm, 200).await;
}
