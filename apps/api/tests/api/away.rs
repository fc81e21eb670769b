//! Telecallers reachable by push: AWAY while their app has no connection, rung through one
//! high-priority data push, answering once connected; the list and the online count place them
//! after the connected ones.

use serde_json::{Value, json};
use talktime_domain::push::PushKind;
use talktime_repository::testing::{TestDatabase, queued_pushes};

use crate::push::{fake_fcm, push_settings, sends, wait_for_sends};
use crate::support::fake::FakeServer;
use crate::support::ws::Ws;
use crate::support::{Session, TestApp, eventually, spawn_app_on, spawn_node};

/// A server pushing to `fcm` (a worker pass every 50 ms, socket calls ring for 1 s) with `extra`
/// settings.
async fn app_with(fcm: &FakeServer, extra: &[(&'static str, &str)]) -> TestApp {
    let settings = extra.iter().fold(push_settings(fcm, "50"), |settings, (key, value)| settings.with(key, value));
    crate::support::spawn_app_with(&settings.vars()).await
}

/// Turns on "reachable by push" and registers her phone (`token`).
async fn make_reachable(app: &TestApp, telecaller: &Session, token: &str) -> Value {
    app.post_auth("/users/devices", &telecaller.token, &json!({ "token": token, "platform": "android" }))
        .await
        .assert(200);
    let reply = app.put_auth("/telecaller/availability", &telecaller.token, &json!({ "reachableByPush": true })).await;
    reply.assert(200);
    reply.body["data"].clone()
}

/// The next `presence:update` with a change about `telecaller`: the change and the update's
/// online count.
async fn change_of(watcher: &mut Ws, telecaller: &str) -> (Value, Value) {
    loop {
        let update = watcher.expect("presence:update").await;
        let changes = update["changes"].as_array().expect("changes");
        if let Some(change) = changes.iter().find(|c| c["telecallerId"] == telecaller) {
            return (change.clone(), update["onlineTelecallers"].clone());
        }
    }
}

/// `(id, presence)` of each telecaller the user's list shows, in its order.
async fn listed(app: &TestApp, user: &Session, query: &str) -> Vec<(String, String)> {
    let list = app.get_auth(&format!("/users/telecallers{query}"), &user.token).await;
    list.assert(200);
    list.body["data"]["data"]
        .as_array()
        .expect("data.data")
        .iter()
        .map(|t| (t["_id"].as_str().unwrap().to_owned(), t["presence"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn an_away_telecaller_is_rung_by_one_high_priority_push_and_accepts_once_connected() {
    let fcm = fake_fcm().await;
    // A ring to a connected telecaller lasts 1 s; through a push it keeps its own 45 s default.
    let app = app_with(&fcm, &[]).await;
    let user = app.user().await;
    app.grant_coins(&user.id, 1_000).await;
    let telecaller = app.telecaller(true).await;
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    u.watch(&[&telecaller.id]).await;

    // Not reachable by push: a call to her without a socket is refused.
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "VIDEO" })).await;
    assert_eq!(u.expect("call:error").await["code"], json!("telecaller_offline"));
    // Reachable by push: AWAY at once; watchers hear it, the online count leaves her out.
    let reply = app.put_auth("/telecaller/availability", &telecaller.token, &json!({ "reachableByPush": true })).await;
    assert_eq!(reply.body["data"], json!({ "reachableByPush": true, "presence": "AWAY" }));
    app.put_auth("/telecaller/availability", &telecaller.token, &json!({ "reachableByPush": "yes" }))
        .await
        .assert_error(400, "invalid_body");
    app.put_auth("/telecaller/availability", &user.token, &json!({ "reachableByPush": true })).await.assert(403);
    let (change, online) = change_of(&mut u, &telecaller.id).await;
    assert_eq!(change["presence"], json!("AWAY"));
    assert_eq!(change["telecaller"], Value::Null);
    assert_eq!(online, json!(0), "AWAY is not online");
    let me = app.get_auth("/users/me", &telecaller.token).await;
    assert_eq!(me.body["data"]["telecallerProfile"]["reachableByPush"], json!(true));
    // Her phone, where the push goes.
    app.post_auth("/users/devices", &telecaller.token, &json!({ "token": "her-phone", "platform": "android" }))
        .await
        .assert(200);

    // The call rings through exactly one high-priority data push carrying the call.
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "VIDEO" })).await;
    let call = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    let sent = wait_for_sends(&fcm, 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let message = &sent[0]["message"];
    assert_eq!(message["token"], json!("her-phone"));
    assert_eq!(message["android"]["priority"], json!("high"));
    assert_eq!(message["apns"]["headers"]["apns-priority"], json!("10"));
    assert!(message.get("notification").is_none(), "a data message: the app draws its own screen");
    let data = &message["data"];
    assert_eq!(data["type"], json!("incoming_call"));
    assert_eq!(data["callId"], json!(call));
    assert_eq!(data["callType"], json!("VIDEO"));
    assert_eq!(data["callerId"], json!(user.id));
    let caller: Value = serde_json::from_str(data["caller"].as_str().unwrap()).unwrap();
    assert_eq!(caller["_id"], json!(user.id));
    let deadline: chrono::DateTime<chrono::Utc> = data["ringDeadline"].as_str().unwrap().parse().unwrap();
    let rings_for = deadline - chrono::Utc::now();
    assert!(rings_for > chrono::Duration::seconds(30), "PUSH_RING_TIMEOUT_SECS (45), not the socket's 1 s");

    // She opens the app: the ringing call is in `session:ready`, and she accepts it as usual.
    let (mut t, ready) = Ws::connect(&app, "/ws/telecaller", &telecaller.token).await;
    assert_eq!(ready["activeCall"]["callId"], json!(call));
    assert_eq!(ready["activeCall"]["status"], json!("RINGING"));
    assert_eq!(ready["activeCall"]["peer"]["_id"], json!(user.id));
    t.send("call:accept", json!({ "callId": call })).await;
    t.expect("call:accepted").await;
    assert_eq!(u.expect("call:accepted").await["callId"], json!(call));
    u.send("call:end", json!({ "callId": call })).await;
    u.expect("call:ended").await;
    t.expect("call:ended").await;

    for kind in [PushKind::IncomingCall, PushKind::CallCancelled, PushKind::MissedCall] {
        let expected = i64::from(kind == PushKind::IncomingCall);
        assert_eq!(queued_pushes(&app.db, kind).await.unwrap(), expected, "{kind}");
    }
    assert_eq!(sends(&fcm).len(), 1);
    app.assert_books_balance().await;
}

#[tokio::test]
async fn an_unanswered_push_ring_is_missed_at_its_own_timeout_and_a_cancel_stops_her_phone() {
    let fcm = fake_fcm().await;
    let app = app_with(&fcm, &[("PUSH_RING_TIMEOUT_SECS", "1"), ("RING_TIMEOUT_SECS", "60")]).await;
    let user = app.user().await;
    app.grant_coins(&user.id, 1_000).await;
    let telecaller = app.telecaller(true).await;
    assert_eq!(make_reachable(&app, &telecaller, "her-phone").await["presence"], json!("AWAY"));
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;

    // Nobody answers: MISSED at the push ring timeout, and a normal "missed call" push follows.
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let missed = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    assert_eq!(u.expect("call:missed").await["callId"], json!(missed));
    let sent = wait_for_sends(&fcm, 2).await;
    let kinds: Vec<(&Value, &Value)> =
        sent.iter().map(|s| (&s["message"]["data"]["type"], &s["message"]["android"]["priority"])).collect();
    assert!(kinds.contains(&(&json!("incoming_call"), &json!("high"))), "{kinds:?}");
    assert!(kinds.contains(&(&json!("missed_call"), &json!("normal"))), "{kinds:?}");
    assert_eq!(sent.len(), 2);

    // The caller hangs up while it rings: her phone is told to stop ringing.
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let cancelled = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    u.send("call:cancel", json!({ "callId": cancelled })).await;
    u.expect("call:cancelled").await;
    let sent = wait_for_sends(&fcm, 4).await;
    assert_eq!(sent.len(), 4, "{sent:?}");
    let stop = sent.iter().find(|s| s["message"]["data"]["type"] == "call_cancelled").expect("a stop push");
    assert_eq!(stop["message"]["data"]["callId"], json!(cancelled));
    assert_eq!(stop["message"]["android"]["priority"], json!("high"));
    assert_eq!(queued_pushes(&app.db, PushKind::MissedCall).await.unwrap(), 1, "a cancel is not a missed call");

    // Unreachable again: OFFLINE, and calls are refused.
    let reply = app.put_auth("/telecaller/availability", &telecaller.token, &json!({ "reachableByPush": false })).await;
    assert_eq!(reply.body["data"], json!({ "reachableByPush": false, "presence": "OFFLINE" }));
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(u.expect("call:error").await["code"], json!("telecaller_offline"));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn the_list_shows_away_telecallers_after_the_connected_ones_and_drops_them_with_their_last_device() {
    let fcm = fake_fcm().await;
    let app = app_with(&fcm, &[]).await;
    let user = app.user().await;
    let (online, away) = (app.telecaller(true).await, app.telecaller(true).await);
    make_reachable(&app, &away, "away-phone").await;
    // Reachable and connected: ONLINE; her socket closing leaves her AWAY.
    let (socket, _) = Ws::connect(&app, "/ws/telecaller", &away.token).await;
    let (_online_socket, _) = Ws::connect(&app, "/ws/telecaller", &online.token).await;
    let (mut watcher, ready) = Ws::connect(&app, "/ws/user", &user.token).await;
    assert_eq!(ready["onlineTelecallers"], json!(2));
    watcher.watch(&[&away.id]).await;
    socket.close().await;
    let (change, count) = change_of(&mut watcher, &away.id).await;
    assert_eq!((change["presence"].clone(), count), (json!("AWAY"), json!(1)));

    let expected = vec![(online.id.clone(), "ONLINE".to_owned()), (away.id.clone(), "AWAY".to_owned())];
    assert_eq!(listed(&app, &user, "").await, expected);
    assert_eq!(listed(&app, &user, "?sort=rating").await, expected, "online before away, then rating");
    app.post_auth(&format!("/users/favorites/{}", away.id), &user.token, &json!({})).await.assert(200);
    let favorites = app.get_auth("/users/favorites", &user.token).await;
    assert_eq!(favorites.body["data"]["favorites"][0]["presence"], json!("AWAY"));

    // Her last device goes (she logged out on her phone): no longer reachable, OFFLINE, out of
    // the list.
    app.delete_auth("/users/devices/away-phone", &away.token).await.assert(200);
    assert_eq!(change_of(&mut watcher, &away.id).await.0["presence"], json!("OFFLINE"));
    assert_eq!(listed(&app, &user, "").await, vec![(online.id.clone(), "ONLINE".to_owned())]);
    let me = app.get_auth("/users/me", &away.token).await;
    assert_eq!(me.body["data"]["telecallerProfile"]["reachableByPush"], json!(false));
    app.assert_books_balance().await;
}

#[tokio::test]
async fn away_telecallers_are_published_again_when_a_node_restarts() {
    let fcm = fake_fcm().await;
    let settings = push_settings(&fcm, "50");
    let overrides = settings.vars();
    let mut node = spawn_node(TestDatabase::new().await.unwrap(), &overrides).await;
    let user = node.user().await;
    let telecaller = node.telecaller(true).await;
    make_reachable(&node, &telecaller, "her-phone").await;
    assert_eq!(listed(&node, &user, "").await, vec![(telecaller.id.clone(), "AWAY".to_owned())]);
    let database = node.database();
    node.kill();

    // Presence lives in memory: the next node reads who is reachable from Postgres.
    let app = spawn_app_on(database, &overrides).await;
    let seen = eventually("her AWAY again", || async {
        let seen = listed(&app, &user, "").await;
        (!seen.is_empty()).then_some(seen)
    })
    .await;
    assert_eq!(seen, vec![(telecaller.id.clone(), "AWAY".to_owned())]);
    app.assert_books_balance().await;
}

#[tokio::test]
async fn with_several_nodes_she_is_away_on_all_of_them_and_rung_from_any() {
    let fcm = fake_fcm().await;
    let redis = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let settings = push_settings(&fcm, "50").with("NODE_HEARTBEAT_MS", "100").with("REDIS_URL", &redis);
    let overrides = settings.vars();
    let a = spawn_node(TestDatabase::new().await.unwrap(), &overrides).await;
    let b = spawn_node(a.database(), &overrides).await;
    let user = a.user().await;
    a.grant_coins(&user.id, 1_000).await;
    let (online, away) = (b.telecaller(true).await, b.telecaller(true).await);

    // She turns reachable on node B while connected there, and leaves.
    let (socket, _) = Ws::connect(&b, "/ws/telecaller", &away.token).await;
    assert_eq!(make_reachable(&b, &away, "her-phone").await["presence"], json!("ONLINE"));
    let (_online_socket, _) = Ws::connect(&b, "/ws/telecaller", &online.token).await;
    let (mut u, _) = Ws::connect(&a, "/ws/user", &user.token).await;
    u.watch(&[&away.id]).await;
    socket.close().await;
    let (change, count) = change_of(&mut u, &away.id).await;
    assert_eq!((change["presence"].clone(), count), (json!("AWAY"), json!(1)), "the count leaves AWAY out");
    let expected = vec![(online.id.clone(), "ONLINE".to_owned()), (away.id.clone(), "AWAY".to_owned())];
    let seen = eventually("node A's list with her AWAY", || async {
        let seen = listed(&a, &user, "").await;
        (seen == expected).then_some(seen)
    })
    .await;
    assert_eq!(seen, expected);

    // Rung from node A through her phone; she answers on node A.
    u.send("call:initiate", json!({ "telecallerId": away.id, "callType": "AUDIO" })).await;
    let call = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    let sent = wait_for_sends(&fcm, 1).await;
    assert_eq!(sent[0]["message"]["data"]["callId"], json!(call));
    let (mut t, ready) = Ws::connect(&a, "/ws/telecaller", &away.token).await;
    assert_eq!(ready["activeCall"]["callId"], json!(call));
    t.send("call:accept", json!({ "callId": call })).await;
    t.expect("call:accepted").await;
    u.expect("call:accepted").await;
    assert_eq!(sends(&fcm).len(), 1, "one push for the call");
    a.assert_books_balance().await;
}

#[tokio::test]
async fn an_away_telecaller_who_deletes_her_account_goes_offline() {
    let fcm = fake_fcm().await;
    let app = app_with(&fcm, &[]).await;
    let user = app.user().await;
    let telecaller = app.telecaller(true).await;
    assert_eq!(make_reachable(&app, &telecaller, "her-phone").await["presence"], json!("AWAY"));
    let (mut watcher, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    watcher.watch(&[&telecaller.id]).await;

    app.delete_auth("/users/me", &telecaller.token).await.assert(200);
    assert_eq!(change_of(&mut watcher, &telecaller.id).await.0["presence"], json!("OFFLINE"));
    assert!(listed(&app, &user, "").await.is_empty());
    let owner = telecaller.id.parse().unwrap();
    assert!(talktime_repository::testing::device_tokens(&app.db, owner).await.unwrap().is_empty(), "devices erased");
    app.assert_books_balance().await;
}

#[tokio::test]
async fn a_phone_fcm_no_longer_knows_ends_her_reachability() {
    let fcm = fake_fcm().await;
    fcm.route(
        "POST",
        crate::push::SEND,
        404,
        r#"{"error": {"status": "NOT_FOUND", "details": [{"errorCode": "UNREGISTERED"}]}}"#,
    );
    let app = app_with(&fcm, &[("PUSH_RING_TIMEOUT_SECS", "60")]).await;
    let user = app.user().await;
    app.grant_coins(&user.id, 1_000).await;
    let telecaller = app.telecaller(true).await;
    assert_eq!(make_reachable(&app, &telecaller, "uninstalled").await["presence"], json!("AWAY"));
    let (mut u, _) = Ws::connect(&app, "/ws/user", &user.token).await;
    u.watch(&[&telecaller.id]).await;

    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    let call = u.expect("call:ringing").await["callId"].as_str().unwrap().to_owned();
    wait_for_sends(&fcm, 1).await;
    // The app was uninstalled: the token is forgotten, and with it her last way to be rung.
    assert_eq!(change_of(&mut u, &telecaller.id).await.0["presence"], json!("OFFLINE"));
    let me = app.get_auth("/users/me", &telecaller.token).await;
    assert_eq!(me.body["data"]["telecallerProfile"]["reachableByPush"], json!(false));
    u.send("call:cancel", json!({ "callId": call })).await;
    u.expect("call:cancelled").await;
    u.send("call:initiate", json!({ "telecallerId": telecaller.id, "callType": "AUDIO" })).await;
    assert_eq!(u.expect("call:error").await["code"], json!("telecaller_offline"));
    app.assert_books_balance().await;
}
